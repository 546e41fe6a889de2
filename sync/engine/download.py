"""Document downloads: signed GETs with Range, resumed from the bytes already on disk.

The ciphertext lands in blobs/tmp/<file_id>.download; a cut resumes with
`Range: bytes=<have>-`. A complete file is adopted by the blob store only after it
decrypts to its content address (store.blobs.BlobStore.put_ciphertext), so a corrupt or
substituted document never enters the store.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx

from store.blobs import BlobStore
from store.database import Store
from store.errors import StoreError
from store.models import Blob
from sync.crypto import CryptoError
from sync.engine.errors import (
    BlobCorrupt,
    Offline,
    OpdKeyMissing,
    ServerRefused,
    local_failure,
)
from sync.engine.transport import Transport, classify_exception, error_from_response
from sync.protocol import BlobInfo, FileList

log = logging.getLogger(__name__)

_FILES_PATH = "/v1/files"
_READ = 64 * 1024


def list_files(
    transport: Transport, *, sha256: str | None = None, page: int = 500
) -> Iterator[BlobInfo]:
    """Every stored document this device may fetch (its OPD's), page by page."""
    after: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": page}
        if after:
            params["after"] = after
        if sha256:
            params["sha256"] = sha256
        listing = transport.sealed("GET", _FILES_PATH, None, FileList, params=params)
        yield from listing.files
        if not listing.has_more or not listing.files:
            return
        after = listing.files[-1].file_id


def _partial_path(blobs: BlobStore, file_id: str) -> Path:
    folder = blobs.root / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{file_id}.download"


def _fetch_ciphertext(
    transport: Transport,
    info: BlobInfo,
    target: Path,
    *,
    stop: threading.Event | None = None,
    max_failures: int = 6,
) -> None:
    """Bring the whole ciphertext of `info` into `target`, resuming what is there."""
    backoff = transport.backoff
    failures = 0
    while True:
        have = target.stat().st_size if target.exists() else 0
        if have > info.cipher_size:
            have = 0
        if have == info.cipher_size and have > 0:
            return
        if stop is not None and stop.is_set():
            raise Offline("Unduhan dihentikan.", "stop requested")
        if not backoff.wait(stop):
            raise Offline("Unduhan dihentikan.", "stop requested")
        headers = {"Range": f"bytes={have}-"} if have else {}
        try:
            with (
                transport.http.stream(
                    "GET",
                    f"{_FILES_PATH}/{info.file_id}",
                    headers=headers,
                    auth=transport.signer,
                ) as response,
                target.open("ab" if have else "wb") as out,
            ):
                if response.status_code == 416:
                    out.truncate(0)
                    continue
                if response.status_code == 200 and have:
                    out.truncate(0)  # the server ignored the range: start over
                elif response.status_code not in (200, 206):
                    response.read()
                    raise error_from_response(response)
                for data in response.iter_bytes(_READ):
                    out.write(data)
                out.flush()
                os.fsync(out.fileno())
            backoff.success()
            failures = 0
        except (httpx.HTTPError, OSError) as exc:
            error = classify_exception(exc)
            if isinstance(exc, OSError) and not isinstance(error, Offline):
                raise local_failure(exc, "Dokumen unduhan tidak dapat ditulis ke disk.") from exc
            failures += 1
            delay = backoff.failure()
            log.info(
                "unduhan %s terputus (%s); lanjut dalam %.1fs", info.file_id, error.cause, delay
            )
            if failures >= max_failures:
                raise error from exc


def download_blob(
    store: Store,
    blobs: BlobStore,
    transport: Transport,
    info: BlobInfo,
    *,
    stop: threading.Event | None = None,
) -> bool:
    """Download, verify and store one document; False when it was already here."""
    if blobs.has(info.sha256):
        _remember(store, info)
        return False
    partial = _partial_path(blobs, info.file_id)
    _fetch_ciphertext(transport, info, partial, stop=stop)
    try:
        blobs.put_ciphertext(info.sha256, partial)
    except StoreError as exc:
        partial.unlink(missing_ok=True)
        raise BlobCorrupt(
            "Dokumen yang diunduh tidak cocok dengan sidik jarinya; dibuang dan diunduh ulang "
            "nanti.",
            exc.cause,
        ) from exc
    except CryptoError as exc:
        if getattr(exc, "reason", "") == "not_recipient":
            raise OpdKeyMissing(
                "Dokumen tidak dapat dibuka: kunci OPD belum ada di perangkat ini.", exc.cause
            ) from exc
        partial.unlink(missing_ok=True)
        raise BlobCorrupt("Dokumen yang diunduh rusak; dibuang.", exc.cause) from exc
    _remember(store, info)
    return True


def _remember(store: Store, info: BlobInfo) -> None:
    with store.apply_remote() as session:
        row = session.get(Blob, info.sha256)
        if row is None:
            row = Blob(
                sha256=info.sha256,
                size=info.size,
                cipher_size=info.cipher_size,
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            )
        row.uploaded = True
        row.file_id = info.file_id
        row.upload_url = ""
        session.add(row)


def _missing_blob_server_error(sha256: str) -> ServerRefused:
    return ServerRefused(
        "Dokumen belum ada di server (belum pernah diunggah).", f"no stored file for {sha256}"
    )

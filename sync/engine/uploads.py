"""The document upload lane: every stored blob not yet on the server goes up with tus.

Small scans go several at a time (bounded) so one stream's round trips are filled by the
others; large files go one at a time in their own lane, held to the upload window and
bandwidth cap of the timetable, so they never starve small scans or record sync (which runs
on its own connection meanwhile). The (url, offset) of each upload is saved in the store's
Blob row after every confirmed chunk: a restarted program asks the server for the offset
and goes on from there.

Before a blob's first upload the local file is checked against its content address (a
corrupted blob is reported, never uploaded) and its header is re-wrapped for the OPD and
verifier keys if it was stored before enrolment.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from sqlmodel import col, select

from store.blobs import BlobStore
from store.database import Store, set_meta
from store.models import Blob, Dokumen
from store.usulan import REFUSED_UPLOADS, refused_uploads, unsent_blobs
from sync.crypto import CryptoError, read_header
from sync.engine.cipher import ensure_recipients
from sync.engine.errors import BlobCorrupt, LocalFailure, SyncError, local_failure
from sync.engine.keyring import Keyring
from sync.engine.timetable import Throttle, Timetable
from sync.engine.tus_client import TusClient, UploadGone, UploadHeld

log = logging.getLogger(__name__)

LARGE_FILE_BYTES = 8 * 1024 * 1024


@dataclass
class UploadReport:
    uploaded: int = 0
    held: int = 0
    refused: int = 0  # files the server refused (kept aside; the link is fine)
    failed: int = 0
    corrupt: list[str] = field(default_factory=list)
    errors: list[SyncError] = field(default_factory=list)
    bytes_total: int = 0

    @property
    def first_error(self) -> SyncError | None:
        return self.errors[0] if self.errors else None


@dataclass(frozen=True)
class UploadJob:
    """One blob waiting for upload, with what its upload needs to know."""

    sha256: str
    cipher_size: int
    upload_url: str
    upload_offset: int
    dokumen_id: str
    filename: str


# 4xx answers about the file itself (too large, bad metadata, ...), as opposed to the
# device (401/403 keys), the pace (408/429) or the upload's lifetime (404/409/410/412,
# handled by re-creating the upload).
_FILE_REFUSALS = frozenset({400, 413, 415, 422, 460})


def _refuses_the_file(exc: SyncError) -> bool:
    return exc.status in _FILE_REFUSALS


def _refuse_upload(store: Store, sha256: str, reason: str) -> None:
    with store.apply_remote() as session:
        refused = refused_uploads(session)
        refused[sha256] = reason
        set_meta(session, REFUSED_UPLOADS, json.dumps(refused, sort_keys=True))


def pending_uploads(store: Store) -> list[UploadJob]:
    """Blobs not yet on the server and still wanted, oldest first, with the dokumen
    that names them."""
    with store.read() as session:
        unsent, withdrawn = unsent_blobs(session)
        refused = refused_uploads(session)
        blobs = [b for b in unsent if b.sha256 not in withdrawn and b.sha256 not in refused]
        shas = [b.sha256 for b in blobs]
        names: dict[str, tuple[str, str]] = {}
        for start in range(0, len(shas), 500):
            for dok in session.exec(
                select(Dokumen)
                .where(col(Dokumen.sha256).in_(shas[start : start + 500]))
                .where(col(Dokumen.deleted).is_(False))
            ):
                names.setdefault(dok.sha256, (dok.id, dok.nama_file))
    return [
        UploadJob(
            b.sha256,
            b.cipher_size,
            b.upload_url,
            b.upload_offset,
            *names.get(b.sha256, ("", "")),
        )
        for b in blobs
    ]


def withdrawn_uploads(store: Store) -> list[tuple[str, str]]:
    """(sha256, upload url) of withdrawn blobs whose upload the server still holds."""
    with store.read() as session:
        unsent, withdrawn = unsent_blobs(session)
        return [(b.sha256, b.upload_url) for b in unsent if b.sha256 in withdrawn and b.upload_url]


def pending_upload_count(store: Store) -> int:
    with store.read() as session:
        unsent, withdrawn = unsent_blobs(session)
        aside = withdrawn | set(refused_uploads(session))
        return sum(b.sha256 not in aside for b in unsent)


class Uploader:
    """Runs the upload lane for one engine."""

    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        keyring: Keyring,
        tus: TusClient,
        *,
        concurrency: int = 4,
        large_file_bytes: int = LARGE_FILE_BYTES,
        timetable: Timetable | None = None,
        throttle: Throttle | None = None,
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.keyring = keyring
        self.tus = tus
        self.concurrency = max(1, concurrency)
        self.large_file_bytes = large_file_bytes
        self.timetable = timetable or Timetable()
        self.throttle = throttle or Throttle()
        self._lock = threading.Lock()

    # -- the lane -------------------------------------------------------------------------------

    def run(self, on_done: Callable[[str], None] | None = None) -> UploadReport:
        """Upload every pending blob; returns when each one is done, held or failed."""
        report = UploadReport()
        self.cancel_withdrawn()
        jobs = pending_uploads(self.store)
        if not jobs:
            return report
        # Largest first: the last files to finish are then small ones, so the streams end
        # together and the link stays full until the end (LPT scheduling).
        jobs.sort(key=self._size_of, reverse=True)
        small = [j for j in jobs if self._size_of(j) < self.large_file_bytes]
        large = [j for j in jobs if self._size_of(j) >= self.large_file_bytes]
        futures: list[Future[None]] = []
        with (
            ThreadPoolExecutor(self.concurrency, thread_name_prefix="unggah") as pool,
            ThreadPoolExecutor(1, thread_name_prefix="unggah-besar") as big,
        ):
            for job in small:
                futures.append(pool.submit(self._one, job, report, False, on_done))
            for job in large:
                futures.append(big.submit(self._one, job, report, True, on_done))
            for future in futures:
                future.result()
        return report

    def cancel_withdrawn(self) -> int:
        """Cancel on the server (tus DELETE) the uploads of replaced or removed dokumen,
        so nothing waits there for a file that will never come; returns how many. One the
        link cannot cancel now is tried again next time (the server also expires it)."""
        cancelled = 0
        for sha256, url in withdrawn_uploads(self.store):
            try:
                self.tus.terminate(url)
            except SyncError as exc:
                log.info("unggahan %s belum dapat dibatalkan: %s", sha256[:12], exc.cause)
                continue
            self._forget_upload(sha256)
            cancelled += 1
            log.info("unggahan %s dibatalkan: dokumennya diganti atau dihapus", sha256[:12])
        return cancelled

    def _size_of(self, job: UploadJob) -> int:
        if job.cipher_size:
            return job.cipher_size
        try:
            return self.blobs.path_for(job.sha256).stat().st_size
        except OSError:
            return 0

    def _one(
        self,
        job: UploadJob,
        report: UploadReport,
        large: bool,
        on_done: Callable[[str], None] | None,
    ) -> None:
        if self.tus.stop.is_set():
            return
        try:
            self._upload(job, large)
        except UploadHeld as exc:
            with self._lock:
                report.held += 1
            log.info("unggahan %s ditahan: %s", job.sha256[:12], exc.cause)
            return
        except BlobCorrupt as exc:
            with self._lock:
                report.corrupt.append(job.sha256)
                report.errors.append(exc)
                report.failed += 1
            log.error("dokumen lokal %s rusak: %s", job.sha256[:12], exc.cause)
            return
        except SyncError as exc:
            if _refuses_the_file(exc):
                # The server refused this file, not the link: set it aside with the reason
                # (the Sinkronisasi screen shows it, to drop or retry); others go on.
                _refuse_upload(self.store, job.sha256, exc.message)
                with self._lock:
                    report.refused += 1
                log.warning("server menolak unggahan %s: %s", job.sha256[:12], exc.cause)
                return
            with self._lock:
                report.errors.append(exc)
                report.failed += 1
            log.warning("unggahan %s gagal: %s (%s)", job.sha256[:12], exc.message, exc.cause)
            return
        with self._lock:
            report.uploaded += 1
            report.bytes_total += self._size_of(job)
        if on_done is not None:
            on_done(job.sha256)

    def _hold(self, large: bool) -> Callable[[], bool]:
        def hold() -> bool:
            if not large:
                return False
            limit = self.timetable.now()
            self.throttle.set_rate(limit.upload)
            return limit.paused

        return hold

    def _upload(self, job: UploadJob, large: bool) -> None:
        path = self.blobs.path_for(job.sha256)
        if not path.is_file():
            raise LocalFailure(
                "Berkas dokumen lokal hilang; pindai ulang dokumen ini.",
                f"blob file missing for {job.sha256}",
            )
        hold = self._hold(large)
        if hold():
            raise UploadHeld("Unggahan besar ditahan oleh jadwal unggah.", "window closed")
        url = job.upload_url
        for attempt in range(2):
            fresh = not url
            offset: int | None = None  # a resumed upload asks the server: the saved offset may lag
            if fresh:
                # A small document rides in its creation (where the server offers it);
                # a large one keeps to the throttle and upload window chunk by chunk.
                url, length, offset = self._create(job, path, with_data=not large)
            else:
                length = path.stat().st_size
            try:
                with path.open("rb") as fh:
                    self.tus.upload(
                        fh,
                        length,
                        url,
                        offset,
                        on_progress=partial(self._save_offset, job.sha256),
                        throttle=self.throttle if large else None,
                        hold=hold,
                    )
                break
            except UploadGone:
                if attempt:
                    raise
                log.info("unggahan %s kedaluwarsa di server; dibuat ulang", job.sha256[:12])
                self._forget_upload(job.sha256)
                url = ""
        self._mark_uploaded(job.sha256, path)

    def _create(self, job: UploadJob, path: Path, *, with_data: bool) -> tuple[str, int, int]:
        if not self.blobs.verify(job.sha256):
            raise BlobCorrupt(
                "Dokumen di penyimpanan lokal rusak (sidik jari tidak cocok); "
                "pindai ulang dokumen ini. Dokumen lain tetap diunggah.",
                f"local blob {job.sha256} does not decrypt to its address",
            )
        try:
            length = ensure_recipients(path, self.keyring)
            with path.open("rb") as fh:
                file_id = read_header(fh).file_id_hex
        except CryptoError as exc:
            raise BlobCorrupt(exc.message, exc.cause) from exc
        except OSError as exc:
            raise local_failure(exc, "Dokumen lokal tidak dapat dibaca atau ditulis.") from exc
        metadata = {"sha256": job.sha256}
        if job.filename:
            metadata["filename"] = job.filename
        if job.dokumen_id:
            metadata["dokumen_id"] = job.dokumen_id
        first = b""
        if with_data:
            try:
                with path.open("rb") as fh:
                    first = fh.read(min(length, self.tus.sizer.size()))
            except OSError as exc:
                raise LocalFailure("Dokumen lokal tidak dapat dibaca.", repr(exc)) from exc
        url, offset = self.tus.create(length, metadata, first)
        with self.store.apply_remote() as session:
            row = session.get(Blob, job.sha256)
            if row is not None:
                row.upload_url = url
                row.upload_offset = offset
                row.cipher_size = length
                row.file_id = file_id
                session.add(row)
        return url, length, offset

    def _save_offset(self, sha256: str, offset: int) -> None:
        with self.store.apply_remote() as session:
            row = session.get(Blob, sha256)
            if row is not None and row.upload_offset != offset:
                row.upload_offset = offset
                session.add(row)

    def _forget_upload(self, sha256: str) -> None:
        with self.store.apply_remote() as session:
            row = session.get(Blob, sha256)
            if row is not None:
                row.upload_url = ""
                row.upload_offset = 0
                session.add(row)

    def _mark_uploaded(self, sha256: str, path: Path) -> None:
        with self.store.apply_remote() as session:
            row = session.get(Blob, sha256)
            if row is not None:
                row.uploaded = True
                row.upload_offset = path.stat().st_size
                row.upload_url = ""
                session.add(row)

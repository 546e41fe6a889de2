"""tus upload sessions: creation, capability checks, progress, completion, expiry, recovery.

The HTTP side is server.api.files; this module holds the state. An upload's offset in the
database only ever moves after the bytes up to it are fsynced, so after a crash the smaller
of (DB offset, file size) is true and the file is cut back to it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import hmac
import logging
import os
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import formatdate
from typing import Final

from sqlalchemy import select, text, update

from server.access import can_read
from server.auth import Caller
from server.blobstore import BlobStore, NotAStream, stream_facts
from server.db import Database
from server.errors import ApiError, not_found
from server.models import Device, Record, StoredFile, Upload
from server.throttle import UploadQuota
from store.rules import Role

log = logging.getLogger(__name__)

TUS_VERSION: Final = "1.0.0"
TUS_EXTENSIONS: Final = "creation,creation-with-upload,expiration,checksum,termination"
CHECKSUM_ALGORITHMS: Final = {"sha256": hashlib.sha256, "sha1": hashlib.sha1}

_META_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_RECORD_ID = re.compile(r"^[0-9A-Za-z-]{1,64}$")
_FORBIDDEN_NAME = re.compile(r"[\x00-\x1f\x7f/\\:]")
_MAX_FILENAME: Final = 200
_MAX_METADATA: Final = 8 * 1024  # the Upload-Metadata header kept and answered on HEAD
# PostgreSQL advisory locks of upload sessions: (this class, 32 bits of the upload id). The
# serial writers' lock (server.db) is a single bigint key, which never has this high half.
_UPLOAD_LOCK_CLASS: Final = 87_002
# recover() leaves alone orphan partial files this young: another process may be creating
# that upload (its file is made just before its row commits).
RECOVER_GRACE_SECONDS: Final = 120.0


@dataclass(frozen=True)
class UploadMetadata:
    sha256: str
    filename: str
    dokumen_id: str | None
    raw: str = ""  # the header as sent, answered on HEAD (tus creation extension)


def http_date(ts: float) -> str:
    return formatdate(ts, usegmt=True)


def parse_metadata(header: str | None) -> UploadMetadata:
    """tus Upload-Metadata ("key base64,key base64"): sha256 required, filename and
    dokumen_id optional; names with path parts or control characters are refused."""
    values: dict[str, str] = {}
    if header is not None and len(header) > _MAX_METADATA:
        raise _bad_metadata(f"longer than {_MAX_METADATA} characters")
    for item in (header or "").split(","):
        item = item.strip()
        if not item:
            continue
        key, _, encoded = item.partition(" ")
        if not _META_KEY.match(key) or key in values:
            raise _bad_metadata(f"bad or repeated key {key[:64]!r}")
        try:
            raw = base64.b64decode(encoded.strip(), validate=True)
            values[key] = raw.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _bad_metadata(f"value of {key!r} is not base64 UTF-8") from None
    sha256 = values.get("sha256", "").lower()
    if not _SHA256.match(sha256):
        raise _bad_metadata("sha256 (plaintext hash, 64 hex digits) is required")
    filename = values.get("filename", "")
    if (
        len(filename) > _MAX_FILENAME
        or _FORBIDDEN_NAME.search(filename)
        or filename in (".", "..")
        or filename.startswith(".")
    ):
        raise ApiError(
            400,
            "nama_berkas_tidak_sah",
            "Nama berkas tidak sah (tidak boleh memuat folder atau karakter kendali).",
        )
    dokumen_id = values.get("dokumen_id") or None
    if dokumen_id is not None and not _RECORD_ID.match(dokumen_id):
        raise _bad_metadata("dokumen_id is not a record id")
    return UploadMetadata(
        sha256=sha256, filename=filename, dokumen_id=dokumen_id, raw=(header or "").strip()
    )


def _bad_metadata(detail: str) -> ApiError:
    return ApiError(400, "metadata_tidak_sah", "Upload-Metadata tidak sah.", detail)


def parse_checksum(header: str | None) -> tuple[str, bytes] | None:
    """tus Upload-Checksum "<algorithm> <base64 digest>", or None when absent."""
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    factory = CHECKSUM_ALGORITHMS.get(algorithm.lower())
    if factory is None:
        raise ApiError(
            400,
            "algoritma_checksum",
            "Algoritma checksum tidak didukung (gunakan sha256).",
            f"algorithm {algorithm[:32]!r}",
        )
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        raise ApiError(400, "checksum_tidak_sah", "Header Upload-Checksum tidak sah.") from None
    if len(digest) != factory().digest_size:
        raise ApiError(400, "checksum_tidak_sah", "Header Upload-Checksum tidak sah.")
    return algorithm.lower(), digest


def _capability_hash(capability: str) -> str:
    return hashlib.sha256(capability.encode("utf-8")).hexdigest()


class Uploads:
    """Upload sessions over one database and blob folder."""

    def __init__(self, db: Database, blobs: BlobStore, ttl_seconds: int, max_size: int) -> None:
        self.db = db
        self.blobs = blobs
        self.ttl = ttl_seconds
        self.max_size = max_size
        self.quota: UploadQuota | None = None  # per-device limits (server.throttle)

    # -- creation -------------------------------------------------------------------------

    def create(self, caller: Caller, length: int, meta: UploadMetadata) -> tuple[Upload, str]:
        """A new upload session and its capability (returned once, stored only hashed)."""
        if caller.role is not Role.OPD:
            raise ApiError(403, "dilarang", "Hanya perangkat OPD yang mengunggah dokumen.", "role")
        if meta.dokumen_id is not None:
            with self.db.read() as session:
                dokumen = session.get(Record, ("dokumen", meta.dokumen_id))
                if dokumen is not None and not can_read(
                    caller.role, caller.opd_kode, dokumen.opd_id
                ):
                    raise not_found("dokumen_id")
        upload_id = secrets.token_hex(16)
        capability = secrets.token_urlsafe(32)
        now = time.time()
        self.blobs.create_partial(upload_id)
        upload = Upload(
            id=upload_id,
            capability_hash=_capability_hash(capability),
            device_id=caller.device_id,
            opd_kode=caller.opd_kode,
            length=length,
            offset=0,
            sha256=meta.sha256,
            dokumen_id=meta.dokumen_id,
            filename=meta.filename,
            upload_metadata=meta.raw or None,
            created_at=now,
            expires_at=now + self.ttl,
        )
        try:
            with self.db.write(serial=False) as session:
                if self.quota is not None:
                    self.quota.check(session, caller.device_id, length, now)
                session.add(upload)
        except BaseException:
            self.blobs.remove_partial(upload_id)
            raise
        return upload, capability

    # -- capability-bound access ------------------------------------------------------------

    def open(self, upload_id: str, capability: str | None) -> Upload:
        """The upload this capability names: 404 if none (or wrong capability), 410 if
        expired, 403 if its device was revoked."""
        if capability is None or not re.fullmatch(r"[0-9a-f]{32}", upload_id):
            raise not_found("upload")
        with self.db.read() as session:
            row = session.execute(
                select(Upload, Device.revoked_at)
                .join(Device, Device.id == Upload.device_id)
                .where(Upload.id == upload_id)
            ).first()
        if row is None:
            raise not_found("upload")
        upload, revoked_at = row
        if not hmac.compare_digest(upload.capability_hash, _capability_hash(capability)):
            raise not_found("upload")
        if revoked_at is not None:
            raise ApiError(
                403,
                "perangkat_dicabut",
                "Perangkat ini sudah dicabut oleh admin BKD dan tidak dapat dipakai lagi.",
            )
        if upload.completed_at is None and upload.expires_at < time.time():
            self.discard(upload.id)
            raise ApiError(410, "kedaluwarsa", "Unggahan ini sudah kedaluwarsa; mulai ulang.")
        return upload

    def advance(self, upload: Upload, new_offset: int) -> Upload:
        """Record bytes fsynced up to `new_offset` (only if nobody moved it meanwhile)."""
        now = time.time()
        with self.db.write(serial=False) as session:
            moved = session.execute(
                update(Upload)
                .where(Upload.id == upload.id)
                .where(Upload.offset == upload.offset)
                .values(offset=new_offset, expires_at=now + self.ttl)
                .returning(Upload.id)
            )
            if moved.first() is None:
                raise ApiError(409, "offset_berubah", "Offset unggahan berubah; tanyakan ulang.")
        upload.offset = new_offset
        upload.expires_at = now + self.ttl
        return upload

    def finish(self, upload: Upload) -> StoredFile:
        """Turn a complete upload into a stored file (deduplicated by ciphertext)."""
        try:
            with self.blobs.partial_path(upload.id).open("rb") as fh:
                file_id, plaintext_size = stream_facts(fh, upload.length)
        except NotAStream as exc:
            self.discard(upload.id)
            raise ApiError(
                400,
                "bukan_dokumen_terenkripsi",
                "Berkas yang diunggah bukan dokumen terenkripsi Berkas; unggahan dibuang.",
                str(exc.args[0]),
            ) from None
        cipher_sha256, cipher_size = self.blobs.digest_partial(upload.id)
        with self.db.read() as session:
            existing = session.get(StoredFile, file_id)
        if existing is not None and (
            existing.cipher_sha256 != cipher_sha256 or existing.opd_kode != upload.opd_kode
        ):
            # A different ciphertext claiming a stored file id: keep the first, drop this.
            self.discard(upload.id)
            raise ApiError(
                409,
                "berkas_sudah_ada",
                "Dokumen dengan id berkas ini sudah tersimpan dengan isi lain; unggahan dibuang.",
            )
        self.blobs.promote_partial(upload.id, cipher_sha256)
        now = time.time()
        with self.db.write(serial=False) as session:
            stored = session.get(StoredFile, file_id)
            if stored is None:
                stored = StoredFile(
                    id=file_id,
                    opd_kode=upload.opd_kode,
                    sha256=upload.sha256,
                    cipher_sha256=cipher_sha256,
                    size=plaintext_size,
                    cipher_size=cipher_size,
                    dokumen_id=upload.dokumen_id,
                    device_id=upload.device_id,
                    created_at=now,
                )
                session.add(stored)
            elif upload.dokumen_id and not stored.dokumen_id:
                stored.dokumen_id = upload.dokumen_id
            session.execute(
                update(Upload)
                .where(Upload.id == upload.id)
                .values(completed_at=now, file_id=stored.id, offset=upload.length)
            )
        upload.completed_at = now
        upload.file_id = file_id
        return stored

    def discard(self, upload_id: str) -> None:
        """Forget an upload and its partial bytes (termination, expiry)."""
        with self.db.write(serial=False) as session:
            upload = session.get(Upload, upload_id)
            if upload is not None:
                session.delete(upload)
        self.blobs.remove_partial(upload_id)

    # -- housekeeping ---------------------------------------------------------------------

    def purge_expired(self, now: float | None = None) -> int:
        """Drop partial uploads whose time ran out; returns how many."""
        now = time.time() if now is None else now
        with self.db.read() as session:
            stale = list(
                session.scalars(
                    select(Upload.id)
                    .where(Upload.completed_at.is_(None))
                    .where(Upload.expires_at < now)
                )
            )
        for upload_id in stale:
            self.discard(upload_id)
        return len(stale)

    @contextlib.contextmanager
    def hold(self, upload_id: str) -> Iterator[bool]:
        """Hold one upload against every other server process, without waiting; yields
        False when another holds it. PostgreSQL: a session advisory lock (processes on
        several hosts sharing the blob folder); SQLite, whose processes share one host:
        flock of the partial file (as the PATCH handler takes it)."""
        if self.db.is_sqlite:
            try:
                fd = os.open(self.blobs.partial_path(upload_id), os.O_RDWR)
            except FileNotFoundError:
                yield True
                return
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    yield False
                    return
                yield True
            finally:
                os.close(fd)
            return
        key = int.from_bytes(bytes.fromhex(upload_id)[:4], "big", signed=True)
        params = {"c": _UPLOAD_LOCK_CLASS, "k": key}
        with self.db.engine.connect() as conn:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:c, :k)"), params).scalar())
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    try:
                        conn.execute(text("SELECT pg_advisory_unlock(:c, :k)"), params)
                        conn.commit()
                    except Exception:
                        conn.invalidate()  # closing the session releases the lock
                        raise

    def recover(self) -> None:
        """After a restart: cut partial files back to their DB offsets and drop orphans.

        Other server processes may be serving uploads meanwhile: an upload one of them
        holds is left alone (its bytes past the recorded offset are being written), as are
        orphan files younger than RECOVER_GRACE_SECONDS (a partial file is made just
        before its row commits)."""
        now = time.time()
        with self.db.read() as session:
            rows = list(session.scalars(select(Upload.id).where(Upload.completed_at.is_(None))))
        known = set(rows)
        for upload_id in self.blobs.partial_ids():
            if upload_id not in known:
                with contextlib.suppress(FileNotFoundError):
                    if self.blobs.partial_path(upload_id).stat().st_mtime > now - (
                        RECOVER_GRACE_SECONDS
                    ):
                        continue
                with self.db.read() as session:
                    if session.get(Upload, upload_id) is not None:
                        continue
                self.blobs.remove_partial(upload_id)
        for upload_id in sorted(known):
            with self.hold(upload_id) as held:
                if held:
                    self._recover_one(upload_id)

    def _recover_one(self, upload_id: str) -> None:
        """One upload, held: its offset is read again under the hold (another process may
        have moved it since the list was read)."""
        with self.db.read() as session:
            current = session.get(Upload, upload_id)
        if current is None or current.completed_at is not None:
            return
        offset = current.offset
        size = self.blobs.partial_size(upload_id)
        if size is not None and size >= offset and offset == current.length:
            self._finish_after_crash(upload_id)
            return
        if size is None or size < offset:
            # The file lost bytes the DB counted (should not happen with fsync first).
            trusted = size or 0
            self.blobs.truncate_partial(upload_id, trusted)
            with self.db.write(serial=False) as session:
                session.execute(update(Upload).where(Upload.id == upload_id).values(offset=trusted))
            log.warning("upload %s: file shorter than recorded offset; reset", upload_id)
        elif size > offset:
            self.blobs.truncate_partial(upload_id, offset)

    def _finish_after_crash(self, upload_id: str) -> None:
        """Complete an upload whose last chunk was recorded but not yet stored."""
        with self.db.read() as session:
            upload = session.get(Upload, upload_id)
        if upload is None:
            return
        self.blobs.truncate_partial(upload_id, upload.length)
        try:
            self.finish(upload)
        except ApiError as exc:
            log.warning("upload %s could not be completed after restart: %s", upload_id, exc)

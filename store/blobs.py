"""The local blob store: documents encrypted at rest, addressed by the SHA-256
of their plaintext, so the same scan twice is stored once.

The store does not know the encryption format; it is handed a `BlobCipher`
(the client wires in sync.crypto's streaming construction), which keeps
`store` free of imports from our other packages. Every file lands by
temp-file, fsync, rename: a crash leaves either the whole blob or nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from store.errors import DiskFull, StoreError, disk_full_message, is_disk_full

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20


class BlobCipher(Protocol):
    """Encrypts and decrypts a stream; both return the bytes written."""

    def encrypt(self, src: BinaryIO, dst: BinaryIO) -> int: ...

    def decrypt(self, src: BinaryIO, dst: BinaryIO) -> int: ...


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    cipher_size: int
    created: bool  # False when this content was already stored


class _HashingReader:
    """Reads through a file while counting and hashing what passes."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.hash = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self.hash.update(data)
        self.size += len(data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _HashSink:
    """A write-only file that just hashes what it is given."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        return len(data)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable (a no-op where directories can't be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class BlobStore:
    """Encrypted, content-addressed files under `root/ab/<sha256>.blob`."""

    def __init__(self, root: Path, cipher: BlobCipher) -> None:
        self.root = root
        self.cipher = cipher
        self.root.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise StoreError("Alamat dokumen tidak valid.", f"bad sha256 {sha256!r}")
        return self.root / sha256[:2] / f"{sha256}.blob"

    def has(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def put(self, source: Path) -> StoredBlob:
        """Encrypt `source` into the store (one pass: hash while encrypting)."""
        tmp_dir = self.root / "tmp"
        tmp_dir.mkdir(exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, suffix=".part")
        tmp = Path(tmp_name)
        try:
            with source.open("rb") as raw, os.fdopen(fd, "wb") as out:
                reader = _HashingReader(raw)
                cipher_size = self.cipher.encrypt(reader, out)  # type: ignore[arg-type]
                out.flush()
                os.fsync(out.fileno())
            sha = reader.hash.hexdigest()
            final = self.path_for(sha)
            if final.is_file():
                tmp.unlink()
                return StoredBlob(sha, reader.size, final.stat().st_size, created=False)
            final.parent.mkdir(exist_ok=True)
            os.replace(tmp, final)
            fsync_dir(final.parent)
            return StoredBlob(sha, reader.size, cipher_size, created=True)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            if is_disk_full(exc):
                raise DiskFull(disk_full_message("Dokumen"), repr(exc)) from exc
            raise StoreError(_disk_message(exc), repr(exc)) from exc
        except BaseException as exc:
            tmp.unlink(missing_ok=True)
            if isinstance(exc, Exception) and is_disk_full(exc):
                raise DiskFull(disk_full_message("Dokumen"), repr(exc)) from exc
            raise

    def put_ciphertext(self, sha256: str, source: Path) -> None:
        """Adopt an already-encrypted blob (downloaded from the server) after
        checking that it decrypts to the promised plaintext hash."""
        sink = _HashSink()
        with source.open("rb") as fh:
            self.cipher.decrypt(fh, sink)  # type: ignore[arg-type]
        if sink.hash.hexdigest() != sha256:
            raise StoreError(
                "Dokumen yang diterima tidak cocok dengan sidik jarinya.",
                f"hash mismatch: want {sha256}, got {sink.hash.hexdigest()}",
            )
        final = self.path_for(sha256)
        final.parent.mkdir(exist_ok=True)
        os.replace(source, final)
        fsync_dir(final.parent)

    def decrypt_to(self, sha256: str, target: Path) -> None:
        """Write the plaintext to `target`, verifying its hash before it appears."""
        source = self.path_for(sha256)
        if not source.is_file():
            raise StoreError("Dokumen tidak ditemukan di penyimpanan lokal.", str(source))
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, suffix=".part")
        tmp = Path(tmp_name)
        try:
            with source.open("rb") as src, os.fdopen(fd, "wb") as out:
                self.cipher.decrypt(src, out)
            got = sha256_file(tmp)
            if got != sha256:
                raise StoreError(
                    "Dokumen di penyimpanan lokal rusak (sidik jari tidak cocok).",
                    f"hash mismatch for {sha256}: {got}",
                )
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def verify(self, sha256: str) -> bool:
        """True when the stored blob decrypts to exactly its content address."""
        sink = _HashSink()
        try:
            with self.path_for(sha256).open("rb") as src:
                self.cipher.decrypt(src, sink)  # type: ignore[arg-type]
        except Exception:
            return False
        return sink.hash.hexdigest() == sha256

    def stored(self) -> Iterator[str]:
        for path in self.root.glob("??/*.blob"):
            yield path.stem

    def sweep(self, keep: Iterable[str]) -> list[str]:
        """Remove leftover temp files and blobs no record refers to."""
        wanted = set(keep)
        removed = []
        # Ours end in `.part`; pikepdf's own temp files carry `.part` and a suffix.
        for part in (self.root / "tmp").glob("*.part*"):
            part.unlink(missing_ok=True)
        for sha in list(self.stored()):
            if sha not in wanted:
                self.path_for(sha).unlink(missing_ok=True)
                removed.append(sha)
        return removed


def _disk_message(exc: OSError) -> str:
    if exc.errno == 13:  # EACCES
        return "Tidak ada izin menulis ke folder data Berkas."
    return "Dokumen tidak dapat disimpan ke disk."

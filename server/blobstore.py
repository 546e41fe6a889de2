"""Encrypted documents on disk: partial uploads and complete, content-addressed files.

DIR/blobs/partial/<upload_id>   bytes received so far (trusted only up to the DB offset)
DIR/blobs/<sha256 of ciphertext> a complete encrypted document; the same ciphertext twice is
                                 one file
Every step that must survive a crash ends with fsync (of the file, and of the folder after
a create or rename). The server never holds a key that opens these files.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Final

from sync.crypto import StreamError, read_header, stream_ciphertext_size
from sync.crypto.stream import SEGMENT_SIZE

_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
READ_CHUNK: Final = 256 * 1024
TAG_SIZE: Final = 16


class BlobStore:
    """The blob folder; ids are checked against strict patterns before touching a path."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.partial_dir = self.root / "partial"
        self.partial_dir.mkdir(parents=True, exist_ok=True)

    # -- partial uploads ----------------------------------------------------------------

    def partial_path(self, upload_id: str) -> Path:
        if not _HEX32.match(upload_id):
            raise ValueError("upload id must be 32 lower-case hex digits")
        return self.partial_dir / upload_id

    def create_partial(self, upload_id: str) -> None:
        path = self.partial_path(upload_id)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        fsync_dir(self.partial_dir)

    def partial_size(self, upload_id: str) -> int | None:
        try:
            return self.partial_path(upload_id).stat().st_size
        except FileNotFoundError:
            return None

    def truncate_partial(self, upload_id: str, size: int) -> None:
        """Cut a partial file back to `size` bytes (creating it empty if it vanished)."""
        path = self.partial_path(upload_id)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.ftruncate(fd, size)
            os.fsync(fd)
        finally:
            os.close(fd)

    def remove_partial(self, upload_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.partial_path(upload_id).unlink()

    def partial_ids(self) -> list[str]:
        return [p.name for p in self.partial_dir.iterdir() if _HEX32.match(p.name)]

    def digest_partial(self, upload_id: str) -> tuple[str, int]:
        """(sha256 of the ciphertext, size) of a partial file, read in chunks."""
        digest = hashlib.sha256()
        size = 0
        with self.partial_path(upload_id).open("rb") as fh:
            while chunk := fh.read(READ_CHUNK):
                digest.update(chunk)
                size += len(chunk)
        return digest.hexdigest(), size

    def promote_partial(self, upload_id: str, cipher_sha256: str) -> None:
        """Move a finished partial file to its content address; when that ciphertext is
        already stored, the partial copy is simply dropped."""
        path = self.partial_path(upload_id)
        target = self.blob_path(cipher_sha256)
        if target.exists():
            path.unlink()
        else:
            os.replace(path, target)
            fsync_dir(self.root)
        fsync_dir(self.partial_dir)

    # -- complete files -------------------------------------------------------------------

    def blob_path(self, cipher_sha256: str) -> Path:
        if not _HEX64.match(cipher_sha256):
            raise ValueError("blob address must be 64 lower-case hex digits")
        return self.root / cipher_sha256

    def read_range(self, cipher_sha256: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes start..end (inclusive) of a stored file, in chunks."""
        with self.blob_path(cipher_sha256).open("rb") as fh:
            fh.seek(start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = fh.read(min(READ_CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class NotAStream(ValueError):
    """The uploaded bytes are not a Berkas document stream; `args[0]` says why."""


def stream_facts(fh: BinaryIO, cipher_size: int) -> tuple[str, int]:
    """(stream file id as hex, plaintext size) of an encrypted document, from its header.

    The header is parsed, not authenticated (the server has no key); the sizes must agree
    exactly with the stream layout, so truncated or padded uploads are refused.
    """
    fh.seek(0)
    try:
        header = read_header(fh)
    except StreamError as exc:
        raise NotAStream(exc.cause) from None
    payload = cipher_size - header.header_length
    segments = max(1, -(-payload // (SEGMENT_SIZE + TAG_SIZE)))
    plaintext = payload - segments * TAG_SIZE
    if plaintext < 0 or stream_ciphertext_size(plaintext, header.recipients) != cipher_size:
        raise NotAStream(f"ciphertext of {cipher_size} bytes does not fit the stream layout")
    return header.file_id_hex, plaintext

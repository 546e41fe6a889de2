"""The local blob store's cipher: the same STREAM format that is uploaded, so the local
encrypted file is the upload body as it stands.

Encrypts to the keyring's recipients (the device; once enrolled also the OPD and the BKD
verifier keys) and decrypts with whichever private key opens the file (device or OPD key).
A blob stored before enrolment has only the device's stanza; `ensure_recipients` adds the
OPD and verifier stanzas by rewriting the header alone, atomically, before upload.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from sync.crypto import StreamError, add_recipients, decrypt_stream, encrypt_stream, read_header
from sync.engine.keyring import Keyring


class StreamBlobCipher:
    """Implements store.blobs.BlobCipher over sync.crypto's streaming construction."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def encrypt(self, src: BinaryIO, dst: BinaryIO) -> int:
        return encrypt_stream(src, dst, self.keyring.recipients())

    def decrypt(self, src: BinaryIO, dst: BinaryIO) -> int:
        keys = self.keyring.private_keys()
        if not keys:
            raise StreamError("not_recipient", "no private key on this device")
        start = src.tell() if src.seekable() else None
        last: StreamError | None = None
        for key in keys:
            if start is not None:
                src.seek(start)
            try:
                return decrypt_stream(src, dst, key)
            except StreamError as exc:
                # Only "not for this key" is worth another key; anything else is damage.
                if exc.reason != "not_recipient" or start is None:
                    raise
                last = exc
        assert last is not None
        raise last


def _recipient_count(path: Path) -> int:
    with path.open("rb") as fh:
        return read_header(fh).recipients


def ensure_recipients(path: Path, keyring: Keyring) -> int:
    """Make sure the blob at `path` is also wrapped to the OPD and verifier keys.

    Returns the (possibly new) ciphertext size. Only the header changes; the segments are
    copied byte for byte after authentication, and the file is replaced atomically.
    """
    wanted = keyring.shared_recipients()
    if not wanted or _recipient_count(path) >= 1 + len(wanted):
        return path.stat().st_size
    device = keyring.device_keys().x25519("encryption")
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, suffix=".rewrap")
    tmp = Path(tmp_name)
    try:
        with path.open("rb") as src, os.fdopen(fd, "wb") as dst:
            add_recipients(src, dst, device, wanted)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path.stat().st_size

"""Streaming document encryption: one random data key per file, 64 KiB STREAM segments.

header  = "BKSF" || version 0x01 || file_id (16) || n (1..255) || n stanzas || HMAC (32)
payload = segments, each ChaCha20-Poly1305(payload_key, counter (11, BE) || last flag, chunk)
Segments are bound to the data key and the random file_id only, so recipients can be added
(`add_recipients`) by rewriting the header alone. The header is authenticated with an HMAC
keyed from the data key, as in age. Memory use is constant in the file size.
Layout: sync/PROTOCOL.md, "Document stream".
"""

from __future__ import annotations

import hashlib
import hmac as std_hmac
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO, Final

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.hmac import HMAC

from sync.crypto.errors import StreamError
from sync.crypto.stanza import (
    FILE_KEY_SIZE,
    MAX_RECIPIENTS,
    STANZA_SIZE,
    TAG_SIZE,
    hkdf_sha256,
    unwrap_file_key,
    wrap_to_all,
)

MAGIC: Final = b"BKSF"
STREAM_VERSION: Final = 0x01
FILE_ID_SIZE: Final = 16
MAC_SIZE: Final = 32
SEGMENT_SIZE: Final = 64 * 1024
SEGMENT_CIPHER_SIZE: Final = SEGMENT_SIZE + TAG_SIZE
HEADER_INFO: Final = b"berkas/v1 stream header"
PAYLOAD_INFO: Final = b"berkas/v1 stream payload"
_FIXED_SIZE: Final = len(MAGIC) + 1 + FILE_ID_SIZE + 1
_MAX_COUNTER: Final = (1 << 88) - 1

_MSG_NOT_STREAM: Final = "Berkas ini bukan dokumen terenkripsi Berkas."
_MSG_VERSION: Final = "Dokumen dienkripsi oleh versi Berkas yang lebih baru. Perbarui aplikasi."
_MSG_NOT_RECIPIENT: Final = "Kunci perangkat ini tidak dapat membuka dokumen tersebut."
_MSG_TRUNCATED: Final = "Dokumen terenkripsi terpotong (tidak utuh). Unduh atau salin ulang."
_MSG_WRONG_CONTENT: Final = "Isi dokumen tidak sesuai dengan sidik (SHA-256) yang diharapkan."


@dataclass(frozen=True)
class StreamHeader:
    """A parsed, not yet authenticated, stream header."""

    version: int
    file_id: bytes
    recipients: int
    stanzas: bytes
    mac: bytes

    @property
    def header_length(self) -> int:
        return _FIXED_SIZE + len(self.stanzas) + MAC_SIZE

    @property
    def file_id_hex(self) -> str:
        return self.file_id.hex()

    def authenticated_bytes(self) -> bytes:
        """Everything the MAC covers: the header up to the MAC."""
        return (
            MAGIC + bytes([self.version]) + self.file_id + bytes([self.recipients]) + self.stanzas
        )


def stream_ciphertext_size(plaintext_size: int, recipients: int) -> int:
    """Exact ciphertext length for a plaintext length and recipient count (tus Upload-Length)."""
    if plaintext_size < 0 or not 1 <= recipients <= MAX_RECIPIENTS:
        raise ValueError("plaintext_size >= 0 and 1..255 recipients")
    segments = max(1, -(-plaintext_size // SEGMENT_SIZE))
    header = _FIXED_SIZE + recipients * STANZA_SIZE + MAC_SIZE
    return header + plaintext_size + segments * TAG_SIZE


def _header_mac(data_key: bytes, authenticated: bytes) -> HMAC:
    mac = HMAC(hkdf_sha256(data_key, b"", HEADER_INFO), hashes.SHA256())
    mac.update(authenticated)
    return mac


def _payload_cipher(data_key: bytes, file_id: bytes) -> ChaCha20Poly1305:
    return ChaCha20Poly1305(hkdf_sha256(data_key, file_id, PAYLOAD_INFO))


def _nonce(counter: int, last: bool) -> bytes:
    if counter > _MAX_COUNTER:
        raise StreamError("malformed", "segment counter overflow")
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _read_full(src: BinaryIO, size: int) -> bytes:
    """Up to `size` bytes, shorter only at end of stream (pipes may return short reads)."""
    data = src.read(size) or b""
    if len(data) == size or not data:
        return data
    parts = [data]
    got = len(data)
    while got < size:
        more = src.read(size - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def _assemble_header(data_key: bytes, file_id: bytes, stanzas: bytes) -> bytes:
    count = len(stanzas) // STANZA_SIZE
    if not 1 <= count <= MAX_RECIPIENTS:
        raise StreamError(
            "too_many_recipients",
            f"a stream has 1 to {MAX_RECIPIENTS} recipients, not {count}",
            message=f"Dokumen hanya dapat ditujukan kepada 1 sampai {MAX_RECIPIENTS} penerima.",
        )
    prefix = MAGIC + bytes([STREAM_VERSION]) + file_id + bytes([count]) + stanzas
    return prefix + _header_mac(data_key, prefix).finalize()


def read_header(src: BinaryIO) -> StreamHeader:
    """Parse the header and leave `src` at the first segment; the MAC is not checked here."""
    fixed = _read_full(src, _FIXED_SIZE)
    if len(fixed) < len(MAGIC) or fixed[: len(MAGIC)] != MAGIC:
        raise StreamError("malformed", "no BKSF magic", message=_MSG_NOT_STREAM)
    if len(fixed) < _FIXED_SIZE:
        raise StreamError("truncated", "header cut short", message=_MSG_TRUNCATED)
    version = fixed[4]
    if version != STREAM_VERSION:
        raise StreamError("unsupported_version", f"stream version {version}", message=_MSG_VERSION)
    count = fixed[-1]
    if count == 0:
        raise StreamError("malformed", "stream header lists no recipients")
    rest = _read_full(src, count * STANZA_SIZE + MAC_SIZE)
    if len(rest) < count * STANZA_SIZE + MAC_SIZE:
        raise StreamError("truncated", "header cut short", message=_MSG_TRUNCATED)
    return StreamHeader(
        version=version,
        file_id=fixed[5 : 5 + FILE_ID_SIZE],
        recipients=count,
        stanzas=rest[:-MAC_SIZE],
        mac=rest[-MAC_SIZE:],
    )


def _open_header(header: StreamHeader, private_key: X25519PrivateKey) -> bytes:
    """The data key, once a stanza opens and the header MAC verifies."""
    data_key = unwrap_file_key(header.stanzas, private_key)
    if data_key is None:
        raise StreamError(
            "not_recipient", "no stanza opens with this key", message=_MSG_NOT_RECIPIENT
        )
    try:
        _header_mac(data_key, header.authenticated_bytes()).verify(header.mac)
    except InvalidSignature:
        raise StreamError("tampered", "header MAC does not verify") from None
    return data_key


def _segments(src: BinaryIO, cipher: ChaCha20Poly1305) -> Iterator[tuple[bytes, bytes]]:
    """(ciphertext, plaintext) per segment, each authenticated before it is yielded.

    A segment is the last one exactly when nothing follows it, so a cut at a segment boundary
    (the new last segment lacks the flag), bytes appended after the flagged segment, and
    reordered or dropped segments (wrong counter) all fail authentication.
    """
    counter = 0
    current = _read_full(src, SEGMENT_CIPHER_SIZE)
    while True:
        if len(current) < TAG_SIZE:
            raise StreamError("truncated", f"segment {counter} cut short", message=_MSG_TRUNCATED)
        following = (
            _read_full(src, SEGMENT_CIPHER_SIZE) if len(current) == SEGMENT_CIPHER_SIZE else b""
        )
        last = not following
        try:
            plain = cipher.decrypt(_nonce(counter, last), current, None)
        except InvalidTag:
            raise _segment_failure(cipher, counter, last, current) from None
        if last and counter > 0 and not plain:
            raise StreamError("malformed", "empty final segment after a full one")
        yield current, plain
        if last:
            return
        current = following
        counter += 1


def _segment_failure(
    cipher: ChaCha20Poly1305, counter: int, last: bool, segment: bytes
) -> StreamError:
    # Only on the error path: tell a clean cut or an extension apart from other damage.
    try:
        cipher.decrypt(_nonce(counter, not last), segment, None)
    except InvalidTag:
        return StreamError("tampered", f"segment {counter} does not authenticate")
    if last:
        return StreamError(
            "truncated", f"stream ends after non-final segment {counter}", message=_MSG_TRUNCATED
        )
    return StreamError("extended", f"data follows the final segment {counter}")


def encrypt_stream_with(
    src: BinaryIO,
    dst: BinaryIO,
    recipients: Sequence[X25519PublicKey],
    *,
    data_key: bytes,
    file_id: bytes,
    ephemerals: Sequence[X25519PrivateKey] | None,
) -> int:
    """`encrypt_stream` with its randomness injected (test vectors); never reuse `data_key`."""
    if len(data_key) != FILE_KEY_SIZE or len(file_id) != FILE_ID_SIZE:
        raise ValueError("data_key must be 32 bytes and file_id 16 bytes")
    if not 1 <= len(recipients) <= MAX_RECIPIENTS:
        raise StreamError(
            "too_many_recipients",
            f"a stream has 1 to {MAX_RECIPIENTS} recipients, not {len(recipients)}",
            message=f"Dokumen hanya dapat ditujukan kepada 1 sampai {MAX_RECIPIENTS} penerima.",
        )
    header = _assemble_header(data_key, file_id, wrap_to_all(data_key, recipients, ephemerals))
    dst.write(header)
    written = len(header)
    cipher = _payload_cipher(data_key, file_id)
    counter = 0
    current = _read_full(src, SEGMENT_SIZE)
    while True:
        following = _read_full(src, SEGMENT_SIZE) if len(current) == SEGMENT_SIZE else b""
        last = not following
        sealed = cipher.encrypt(_nonce(counter, last), current, None)
        dst.write(sealed)
        written += len(sealed)
        if last:
            return written
        current = following
        counter += 1


def encrypt_stream(src: BinaryIO, dst: BinaryIO, recipients: Sequence[X25519PublicKey]) -> int:
    """Encrypt `src` to `dst` for `recipients`; returns the ciphertext bytes written."""
    return encrypt_stream_with(
        src,
        dst,
        recipients,
        data_key=os.urandom(FILE_KEY_SIZE),
        file_id=os.urandom(FILE_ID_SIZE),
        ephemerals=None,
    )


def decrypt_stream(
    src: BinaryIO,
    dst: BinaryIO,
    private_key: X25519PrivateKey,
    *,
    expected_sha256: str | None = None,
) -> int:
    """Decrypt `src` to `dst`; returns plaintext bytes written.

    Raises StreamError on any alteration, truncation or extension, possibly after writing
    part of the plaintext: write `dst` to a temp file and rename only on success.
    With `expected_sha256` (hex) the plaintext must also hash to the content address.
    """
    header = read_header(src)
    data_key = _open_header(header, private_key)
    digest = hashlib.sha256() if expected_sha256 is not None else None
    written = 0
    for _, plain in _segments(src, _payload_cipher(data_key, header.file_id)):
        if digest is not None:
            digest.update(plain)
        dst.write(plain)
        written += len(plain)
    if digest is not None and not std_hmac.compare_digest(
        digest.hexdigest(), str(expected_sha256).lower()
    ):
        raise StreamError("wrong_content", "plaintext SHA-256 differs", message=_MSG_WRONG_CONTENT)
    return written


def add_recipients(
    src: BinaryIO,
    dst: BinaryIO,
    private_key: X25519PrivateKey,
    new_recipients: Sequence[X25519PublicKey],
) -> None:
    """Copy the stream with the data key also wrapped to `new_recipients`.

    The segments are copied byte for byte (verified on the way, never re-encrypted); only
    the header is rewritten. `private_key` must open the stream.
    """
    header = read_header(src)
    data_key = _open_header(header, private_key)
    stanzas = header.stanzas + wrap_to_all(data_key, new_recipients)
    dst.write(_assemble_header(data_key, header.file_id, stanzas))
    for sealed, _ in _segments(src, _payload_cipher(data_key, header.file_id)):
        dst.write(sealed)

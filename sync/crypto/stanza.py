"""The X25519 recipient stanza shared by envelopes and document streams (after age's X25519).

stanza = E || ChaCha20-Poly1305(wrap_key, nonce=0^12, file_key, aad="")     (32 + 48 bytes)
wrap_key = HKDF-SHA256(ikm=X25519(e, R), salt=E || R, info="berkas/v1 x25519", L=32)
A stanza carries no recipient identifier: the opener tries each one (as age does).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sync.crypto.encoding import raw_public_bytes
from sync.crypto.errors import KeyEncodingError

FILE_KEY_SIZE: Final = 32
TAG_SIZE: Final = 16
STANZA_SIZE: Final = 32 + FILE_KEY_SIZE + TAG_SIZE
MAX_RECIPIENTS: Final = 255
STANZA_INFO: Final = b"berkas/v1 x25519"
_ZERO_NONCE: Final = bytes(12)


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def _wrap_key(shared: bytes, ephemeral_pub: bytes, recipient_pub: bytes) -> bytes:
    return hkdf_sha256(shared, ephemeral_pub + recipient_pub, STANZA_INFO)


def wrap_file_key(
    file_key: bytes, recipient: X25519PublicKey, ephemeral: X25519PrivateKey
) -> bytes:
    """One stanza wrapping `file_key` to `recipient` with a caller-chosen fresh `ephemeral`."""
    if len(file_key) != FILE_KEY_SIZE:
        raise ValueError("file key must be 32 bytes")
    ephemeral_pub = raw_public_bytes(ephemeral)
    try:
        shared = ephemeral.exchange(recipient)
    except ValueError:
        # cryptography refuses an all-zero shared secret: the recipient is a low-order point.
        raise KeyEncodingError(
            "Kunci penerima tidak valid.", "recipient x25519 key is a low-order point"
        ) from None
    key = _wrap_key(shared, ephemeral_pub, raw_public_bytes(recipient))
    return ephemeral_pub + ChaCha20Poly1305(key).encrypt(_ZERO_NONCE, file_key, None)


def wrap_to_all(
    file_key: bytes,
    recipients: Sequence[X25519PublicKey],
    ephemerals: Sequence[X25519PrivateKey] | None = None,
) -> bytes:
    """Concatenated stanzas, one per recipient; fresh ephemerals unless injected (vectors)."""
    if ephemerals is None:
        ephemerals = [X25519PrivateKey.generate() for _ in recipients]
    if len(ephemerals) != len(recipients):
        raise ValueError("one ephemeral key per recipient")
    return b"".join(
        wrap_file_key(file_key, r, e) for r, e in zip(recipients, ephemerals, strict=True)
    )


def unwrap_file_key(stanzas: bytes, private_key: X25519PrivateKey) -> bytes | None:
    """The file key from the first stanza `private_key` opens, or None if none does."""
    recipient_pub = raw_public_bytes(private_key)
    for start in range(0, len(stanzas) - STANZA_SIZE + 1, STANZA_SIZE):
        ephemeral_pub = stanzas[start : start + 32]
        body = stanzas[start + 32 : start + STANZA_SIZE]
        try:
            shared = private_key.exchange(X25519PublicKey.from_public_bytes(ephemeral_pub))
        except ValueError:
            continue  # low-order point: not a stanza anyone could have made honestly
        key = _wrap_key(shared, ephemeral_pub, recipient_pub)
        try:
            return ChaCha20Poly1305(key).decrypt(_ZERO_NONCE, body, None)
        except InvalidTag:
            continue
    return None

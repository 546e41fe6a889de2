"""Sealed envelopes: small payloads sealed to one or more X25519 recipients.

envelope = version (0x01) || n (1..255) || n stanzas || ChaCha20-Poly1305 payload
The payload's associated data is the whole prefix (version, n, stanzas) followed by the
caller's `aad`, so no byte of the envelope can change without every recipient noticing.
Layout: sync/PROTOCOL.md, "Sealed envelope".
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from sync.crypto.errors import EnvelopeError
from sync.crypto.stanza import (
    FILE_KEY_SIZE,
    MAX_RECIPIENTS,
    STANZA_SIZE,
    TAG_SIZE,
    hkdf_sha256,
    unwrap_file_key,
    wrap_to_all,
)

ENVELOPE_VERSION: Final = 0x01
PAYLOAD_INFO: Final = b"berkas/v1 envelope payload"
_ZERO_NONCE: Final = bytes(12)
_MSG_VERSION: Final = (
    "Data terenkripsi dibuat oleh versi Berkas yang lebih baru. Perbarui aplikasi."
)
_MSG_NOT_RECIPIENT: Final = (
    "Data terenkripsi ini tidak dapat dibuka dengan kunci perangkat ini (bukan penerimanya, "
    "atau datanya rusak)."
)


def _payload_key(file_key: bytes) -> bytes:
    return hkdf_sha256(file_key, b"", PAYLOAD_INFO)


def seal_with(
    plaintext: bytes,
    recipients: Sequence[X25519PublicKey],
    aad: bytes,
    *,
    file_key: bytes,
    ephemerals: Sequence[X25519PrivateKey] | None,
) -> bytes:
    """`seal` with its randomness injected (test vectors); never reuse `file_key`."""
    if not 1 <= len(recipients) <= MAX_RECIPIENTS:
        raise ValueError(f"an envelope has 1 to {MAX_RECIPIENTS} recipients")
    header = bytes([ENVELOPE_VERSION, len(recipients)]) + wrap_to_all(
        file_key, recipients, ephemerals
    )
    payload = ChaCha20Poly1305(_payload_key(file_key)).encrypt(_ZERO_NONCE, plaintext, header + aad)
    return header + payload


def seal(plaintext: bytes, recipients: Sequence[X25519PublicKey], aad: bytes = b"") -> bytes:
    """Seal `plaintext` so any one of `recipients` can open it, binding `aad`."""
    return seal_with(
        plaintext, recipients, aad, file_key=os.urandom(FILE_KEY_SIZE), ephemerals=None
    )


def open_sealed(envelope: bytes, private_key: X25519PrivateKey, aad: bytes = b"") -> bytes:
    """Open an envelope with a recipient's key; EnvelopeError on any defect or wrong key/aad."""
    envelope = bytes(envelope)
    if len(envelope) < 2:
        raise EnvelopeError("malformed", f"envelope of {len(envelope)} bytes is too short")
    if envelope[0] != ENVELOPE_VERSION:
        raise EnvelopeError(
            "unsupported_version", f"envelope version {envelope[0]}", message=_MSG_VERSION
        )
    count = envelope[1]
    header_len = 2 + count * STANZA_SIZE
    if count == 0 or len(envelope) < header_len + TAG_SIZE:
        raise EnvelopeError(
            "malformed", f"envelope of {len(envelope)} bytes too short for {count} recipients"
        )
    header = envelope[:header_len]
    file_key = unwrap_file_key(header[2:], private_key)
    if file_key is None:
        raise EnvelopeError(
            "not_recipient", "no stanza opens with this key", message=_MSG_NOT_RECIPIENT
        )
    try:
        return ChaCha20Poly1305(_payload_key(file_key)).decrypt(
            _ZERO_NONCE, envelope[header_len:], header + aad
        )
    except InvalidTag:
        raise EnvelopeError("tampered", "payload authentication failed") from None

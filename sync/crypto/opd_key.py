"""The shared OPD private key, sealed to one device or to the BKD verifier key.

The server keeps the OPD key only in this form (EnrolResponse.wrapped_opd_key, WrappedKey),
so it can never open an OPD's documents itself.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from sync.crypto.encoding import b64url_decode, b64url_encode
from sync.crypto.envelope import open_sealed, seal
from sync.crypto.errors import EnvelopeError


def opd_key_aad(opd_id: str) -> bytes:
    """Associated data binding a wrapped OPD key to its OPD: `berkas/v1 opd-key <opd_id>`."""
    return f"berkas/v1 opd-key {opd_id}".encode()


def wrap_opd_key(opd_key: X25519PrivateKey, recipient: X25519PublicKey, opd_id: str) -> str:
    """The OPD private key sealed to `recipient`, as unpadded base64url text."""
    raw = opd_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return b64url_encode(seal(raw, [recipient], opd_key_aad(opd_id)))


def unwrap_opd_key(
    envelope_b64: str, private_key: X25519PrivateKey, opd_id: str
) -> X25519PrivateKey:
    """Open a wrapped OPD key with this device's (or the verifier's) X25519 key."""
    try:
        envelope = b64url_decode(envelope_b64)
    except ValueError:
        raise EnvelopeError("malformed", "wrapped OPD key is not unpadded base64url") from None
    raw = open_sealed(envelope, private_key, opd_key_aad(opd_id))
    if len(raw) != 32:
        raise EnvelopeError("malformed", f"wrapped OPD key holds {len(raw)} bytes, not 32")
    return X25519PrivateKey.from_private_bytes(raw)

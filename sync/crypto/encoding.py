"""Text forms of keys: unpadded base64url of the raw 32 bytes (RFC 4648 section 5)."""

from __future__ import annotations

import base64
import binascii
import re

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from sync.crypto.errors import KeyEncodingError

KEY_SIZE = 32

_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")

PublicKey = Ed25519PublicKey | X25519PublicKey
PrivateKey = Ed25519PrivateKey | X25519PrivateKey


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict unpadded base64url: other characters, padding or non-canonical tails refused."""
    if not isinstance(text, str) or not _B64URL.match(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not unpadded base64url") from exc
    if b64url_encode(data) != text:
        raise ValueError("non-canonical base64url")
    return data


def raw_public_bytes(key: PublicKey | PrivateKey) -> bytes:
    """The raw 32 public bytes of a key (a private key gives its public half)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey | X25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_b64(key: PublicKey | PrivateKey) -> str:
    """The text form of a public key; a private key gives its public half, never itself."""
    return b64url_encode(raw_public_bytes(key))


def _decode_key_bytes(text: str, what: str) -> bytes:
    try:
        raw = b64url_decode(text)
    except ValueError:
        raise KeyEncodingError(cause=f"{what}: not unpadded base64url") from None
    if len(raw) != KEY_SIZE:
        raise KeyEncodingError(cause=f"{what}: expected {KEY_SIZE} bytes, got {len(raw)}")
    return raw


def x25519_public_from_b64(text: str) -> X25519PublicKey:
    """Parse an X25519 public key from its text form; KeyEncodingError if malformed."""
    return X25519PublicKey.from_public_bytes(_decode_key_bytes(text, "x25519 public key"))


def ed25519_public_from_b64(text: str) -> Ed25519PublicKey:
    """Parse an Ed25519 public key from its text form; KeyEncodingError if malformed."""
    raw = _decode_key_bytes(text, "ed25519 public key")
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise KeyEncodingError(cause="ed25519 public key: not a valid point") from None

"""Sealed HTTP bodies: sync requests sealed to the server, answers sealed to the device.

A TLS-terminating proxy then sees no personnel data. The associated data binds a body to
its request line (and an answer to the request's signature nonce), so a sealed body cannot
be replayed on another endpoint or served as the answer to a different request.
"""

from __future__ import annotations

from typing import Final

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from sync.crypto.envelope import open_sealed, seal

SEALED_MEDIA_TYPE: Final = "application/vnd.berkas.sealed"


def request_aad(method: str, path_with_query: str) -> bytes:
    """Associated data of a sealed request body: `berkas/v1 request <METHOD> <target>`."""
    return f"berkas/v1 request {method.upper()} {path_with_query}".encode()


def response_aad(method: str, path_with_query: str, request_nonce: str) -> bytes:
    """Associated data of a sealed answer: `berkas/v1 response <METHOD> <target> <nonce>`."""
    return f"berkas/v1 response {method.upper()} {path_with_query} {request_nonce}".encode()


def seal_json(json_bytes: bytes, recipient: X25519PublicKey, aad: bytes) -> bytes:
    """Seal a JSON document (UTF-8 bytes) to one recipient as a body of SEALED_MEDIA_TYPE."""
    return seal(json_bytes, [recipient], aad)


def open_json(envelope: bytes, private_key: X25519PrivateKey, aad: bytes) -> bytes:
    """The JSON bytes inside a sealed body; EnvelopeError if altered, misdirected or misbound."""
    return open_sealed(envelope, private_key, aad)

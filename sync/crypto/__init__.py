"""Berkas cryptography: device keys, sealed envelopes, document streams, signed requests.

Only `cryptography`'s primitives in well-known constructions (age's X25519 stanza and
STREAM, RFC 9421 signatures); every format is specified in sync/PROTOCOL.md.
The FastAPI dependency lives in `sync.crypto.fastapi_auth` so clients never import FastAPI.
"""

from __future__ import annotations

from sync.crypto.encoding import (
    ed25519_public_from_b64,
    public_key_b64,
    x25519_public_from_b64,
)
from sync.crypto.envelope import open_sealed, seal
from sync.crypto.errors import (
    CryptoError,
    EnvelopeError,
    InsecureKeyFile,
    KeyEncodingError,
    KeyFileError,
    PassphraseRequired,
    SignatureError,
    StreamError,
    WrongPassphrase,
)
from sync.crypto.httpx_auth import SignedRequestAuth
from sync.crypto.keys import (
    PrivateKeySet,
    change_passphrase,
    create_key_file,
    generate_device_keys,
    generate_x25519,
    is_protected,
    load_key_file,
    save_key_file,
)
from sync.crypto.opd_key import unwrap_opd_key, wrap_opd_key
from sync.crypto.sealed_body import (
    SEALED_MEDIA_TYPE,
    open_json,
    request_aad,
    response_aad,
    seal_json,
)
from sync.crypto.signing import (
    WINDOW_SECONDS,
    NonceCache,
    NonceStore,
    sign_request,
    signature_nonce,
    verify_request,
)
from sync.crypto.stream import (
    SEGMENT_SIZE,
    StreamHeader,
    add_recipients,
    decrypt_stream,
    encrypt_stream,
    read_header,
    stream_ciphertext_size,
)

__all__ = [
    "SEALED_MEDIA_TYPE",
    "SEGMENT_SIZE",
    "WINDOW_SECONDS",
    "CryptoError",
    "EnvelopeError",
    "InsecureKeyFile",
    "KeyEncodingError",
    "KeyFileError",
    "NonceCache",
    "NonceStore",
    "PassphraseRequired",
    "PrivateKeySet",
    "SignatureError",
    "SignedRequestAuth",
    "StreamError",
    "StreamHeader",
    "WrongPassphrase",
    "add_recipients",
    "change_passphrase",
    "create_key_file",
    "decrypt_stream",
    "ed25519_public_from_b64",
    "encrypt_stream",
    "generate_device_keys",
    "generate_x25519",
    "is_protected",
    "load_key_file",
    "open_json",
    "open_sealed",
    "public_key_b64",
    "read_header",
    "request_aad",
    "response_aad",
    "save_key_file",
    "seal",
    "seal_json",
    "sign_request",
    "signature_nonce",
    "stream_ciphertext_size",
    "unwrap_opd_key",
    "verify_request",
    "wrap_opd_key",
    "x25519_public_from_b64",
]

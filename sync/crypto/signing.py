"""Signed requests: an Ed25519 signature over method, target, time, nonce and body digest.

The headers follow RFC 9421 (HTTP Message Signatures) with one fixed profile:
    Content-Digest:  sha-256=:<base64 SHA-256 of the body>:          (RFC 9530)
    Signature-Input: berkas=("@method" "@request-target" "content-digest");created=<unix s>;
                     nonce="<nonce>";keyid="<device id>";alg="ed25519"
    Signature:       berkas=:<base64 Ed25519 signature of the signature base>:
Only this exact serialization is accepted. Spec: sync/PROTOCOL.md, "Signed requests".
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Final, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sync.crypto.encoding import b64url_encode
from sync.crypto.errors import SignatureError
from sync.crypto.keys import PrivateKeySet

SIGNATURE_LABEL: Final = "berkas"
SIGNATURE_ALG: Final = "ed25519"
COVERED_COMPONENTS: Final = '("@method" "@request-target" "content-digest")'
WINDOW_SECONDS: Final = 300
NONCE_BYTES: Final = 16
HEADER_CONTENT_DIGEST: Final = "Content-Digest"
HEADER_SIGNATURE_INPUT: Final = "Signature-Input"
HEADER_SIGNATURE: Final = "Signature"
# The challenge of a 401 (RFC 9110 §11.6.1): the scheme is an RFC 9421 message signature
# with this profile's label, algorithm and covered components.
WWW_AUTHENTICATE: Final = (
    f'Signature realm="berkas", label="{SIGNATURE_LABEL}", alg="{SIGNATURE_ALG}", '
    'components="@method @request-target content-digest"'
)

DEVICE_ID_PATTERN: Final = r"[A-Za-z0-9._:-]{1,128}"
_DEVICE_ID = re.compile(DEVICE_ID_PATTERN)
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
_METHOD = re.compile(r"[A-Z]{1,16}")
# Origin-form request target: visible ASCII only, so no line of the signature base can be forged.
_TARGET = re.compile(r"/[\x21-\x7e]*")
_SIGNATURE_INPUT = re.compile(
    re.escape(f"{SIGNATURE_LABEL}={COVERED_COMPONENTS}")
    + r';created=([0-9]{1,12});nonce="([A-Za-z0-9_-]{16,64})"'
    + f';keyid="({DEVICE_ID_PATTERN})";alg="{SIGNATURE_ALG}"'
)
_SIGNATURE = re.compile(re.escape(f"{SIGNATURE_LABEL}=:") + r"([A-Za-z0-9+/]{86}==):")
_CONTENT_DIGEST = re.compile(r"sha-256=:([A-Za-z0-9+/]{43}=):")


def content_digest(body: bytes) -> str:
    """The RFC 9530 Content-Digest value for `body`."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def signature_params(created: int, nonce: str, device_id: str) -> str:
    """The @signature-params value (also the Signature-Input value after `berkas=`)."""
    return (
        f'{COVERED_COMPONENTS};created={created};nonce="{nonce}";'
        f'keyid="{device_id}";alg="{SIGNATURE_ALG}"'
    )


def signature_base(method: str, target: str, digest: str, params: str) -> bytes:
    """The RFC 9421 signature base: one line per component, no trailing newline."""
    return "\n".join(
        (
            f'"@method": {method}',
            f'"@request-target": {target}',
            f'"content-digest": {digest}',
            f'"@signature-params": {params}',
        )
    ).encode("ascii")


def _check_request_line(method: str, target: str) -> None:
    if not _METHOD.fullmatch(method):
        raise ValueError(f"method {method!r} is not an upper-case token")
    if not _TARGET.fullmatch(target):
        raise ValueError("path_with_query must be an origin-form target of visible ASCII")


def sign_request_with(
    keys: PrivateKeySet,
    device_id: str,
    method: str,
    path_with_query: str,
    body: bytes,
    *,
    created: int,
    nonce: str,
) -> dict[str, str]:
    """`sign_request` with the time and nonce injected (test vectors)."""
    method = method.upper()
    _check_request_line(method, path_with_query)
    if not _DEVICE_ID.fullmatch(device_id):
        raise ValueError("device_id must match " + DEVICE_ID_PATTERN)
    if not _NONCE.fullmatch(nonce):
        raise ValueError("nonce must be 16 to 64 base64url characters")
    digest = content_digest(body)
    params = signature_params(created, nonce, device_id)
    signature = keys.ed25519("signing").sign(
        signature_base(method, path_with_query, digest, params)
    )
    return {
        HEADER_CONTENT_DIGEST: digest,
        HEADER_SIGNATURE_INPUT: f"{SIGNATURE_LABEL}={params}",
        HEADER_SIGNATURE: f"{SIGNATURE_LABEL}=:{base64.b64encode(signature).decode('ascii')}:",
    }


def sign_request(
    keys: PrivateKeySet,
    device_id: str,
    method: str,
    path_with_query: str,
    body: bytes,
    *,
    now: float | None = None,
) -> dict[str, str]:
    """Headers that sign this request with the key set's "signing" key."""
    created = int(time.time() if now is None else now)
    return sign_request_with(
        keys,
        device_id,
        method,
        path_with_query,
        body,
        created=created,
        nonce=b64url_encode(os.urandom(NONCE_BYTES)),
    )


class NonceStore(Protocol):
    """Remembers (device, nonce) pairs for at least the signature window."""

    def remember(self, device_id: str, nonce: str, timestamp: float) -> bool:
        """Record the pair; False if it was already seen (a replay)."""
        ...


class NonceCache:
    """In-memory, thread-safe NonceStore for one server process.

    An entry is dropped once a request `2 * window` newer has been accepted: by then any
    replay of it carries a timestamp outside the window and is refused anyway.
    """

    def __init__(self, window: float = WINDOW_SECONDS) -> None:
        self._window = window
        self._lock = threading.Lock()
        self._seen: set[tuple[str, str]] = set()
        self._expiry: list[tuple[float, str, str]] = []

    def remember(self, device_id: str, nonce: str, timestamp: float) -> bool:
        with self._lock:
            horizon = timestamp - 2 * self._window
            while self._expiry and self._expiry[0][0] < horizon:
                _, old_device, old_nonce = heapq.heappop(self._expiry)
                self._seen.discard((old_device, old_nonce))
            key = (device_id, nonce)
            if key in self._seen:
                return False
            self._seen.add(key)
            heapq.heappush(self._expiry, (timestamp, device_id, nonce))
            return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)


def _signature_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The three signature headers by lower-case name; a repeated one is malformed."""
    wanted = {
        HEADER_CONTENT_DIGEST.lower(),
        HEADER_SIGNATURE_INPUT.lower(),
        HEADER_SIGNATURE.lower(),
    }
    found: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        if key in wanted:
            if key in found:
                raise SignatureError("malformed", f"header {name} appears more than once")
            found[key] = value
    missing = wanted - found.keys()
    if missing:
        raise SignatureError("malformed", f"missing header(s): {', '.join(sorted(missing))}")
    return found


def signature_nonce(headers: Mapping[str, str]) -> str:
    """The nonce of a signed request's Signature-Input (binds a sealed response to it)."""
    value = _signature_headers(headers)[HEADER_SIGNATURE_INPUT.lower()]
    match = _SIGNATURE_INPUT.fullmatch(value.strip())
    if match is None:
        raise SignatureError("malformed", "Signature-Input does not match the berkas profile")
    return match.group(2)


def verify_request(
    *,
    method: str,
    path_with_query: str,
    headers: Mapping[str, str],
    body: bytes,
    public_key_for: Callable[[str], Ed25519PublicKey | None],
    nonces: NonceStore,
    now: float | None = None,
) -> str:
    """The signing device's id, or SignatureError with `.reason` saying why it was refused.

    Checks, in order: header syntax, body digest, timestamp window, device key, signature,
    and only then records the nonce (so forged requests cannot fill the nonce store).
    """
    found = _signature_headers(headers)
    method = method.upper()
    try:
        _check_request_line(method, path_with_query)
    except ValueError as exc:
        raise SignatureError("malformed", str(exc)) from None
    params_match = _SIGNATURE_INPUT.fullmatch(found[HEADER_SIGNATURE_INPUT.lower()].strip())
    if params_match is None:
        raise SignatureError("malformed", "Signature-Input does not match the berkas profile")
    signature_match = _SIGNATURE.fullmatch(found[HEADER_SIGNATURE.lower()].strip())
    if signature_match is None:
        raise SignatureError("malformed", "Signature is not berkas=:<64-byte base64>:")
    digest = found[HEADER_CONTENT_DIGEST.lower()].strip()
    if _CONTENT_DIGEST.fullmatch(digest) is None:
        raise SignatureError("malformed", "Content-Digest is not sha-256=:<base64>:")
    created_text, nonce, device_id = params_match.groups()
    created = int(created_text)

    if not hmac.compare_digest(digest, content_digest(body)):
        raise SignatureError("bad_signature", "Content-Digest does not match the body")
    current = time.time() if now is None else now
    if abs(current - created) > WINDOW_SECONDS:
        raise SignatureError(
            "stale_timestamp", f"created={created} is {current - created:+.0f}s from server time"
        )
    public_key = public_key_for(device_id)
    if public_key is None:
        raise SignatureError("unknown_device", f"no active device {device_id!r}")
    params = signature_params(created, nonce, device_id)
    try:
        public_key.verify(
            base64.b64decode(signature_match.group(1), validate=True),
            signature_base(method, path_with_query, digest, params),
        )
    except InvalidSignature:
        raise SignatureError("bad_signature", f"signature of {device_id!r} invalid") from None
    if not nonces.remember(device_id, nonce, float(created)):
        raise SignatureError("replayed_nonce", f"nonce already seen for {device_id!r}")
    return device_id

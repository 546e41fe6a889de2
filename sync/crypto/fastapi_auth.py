"""The server side of signed requests: a FastAPI dependency that yields the device id.

Kept apart from the rest of sync.crypto so the client never imports FastAPI.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import HTTPException, Request

from sync.crypto.errors import SignatureError
from sync.crypto.signing import WWW_AUTHENTICATE, NonceStore, verify_request

log = logging.getLogger(__name__)


def request_target(request: Request) -> str:
    """The path and query exactly as the client sent them (what the client signed)."""
    raw_path = request.scope.get("raw_path")
    if isinstance(raw_path, bytes) and raw_path:
        path = raw_path.decode("latin-1")
    else:
        path = quote(request.scope["path"])  # servers that do not pass raw_path
    query = request.scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


def signed_device_dependency(
    public_key_for: Callable[[str], Ed25519PublicKey | None],
    nonces: NonceStore,
    *,
    clock: Callable[[], float] = time.time,
) -> Callable[[Request], Awaitable[str]]:
    """A dependency that verifies the request signature and returns the device id.

    Refusals are HTTP 401 with detail {"kode": reason, "pesan": Bahasa message}.
    """

    async def signed_device(request: Request) -> str:
        body = await request.body()
        try:
            return verify_request(
                method=request.method,
                path_with_query=request_target(request),
                headers=request.headers,
                body=body,
                public_key_for=public_key_for,
                nonces=nonces,
                now=clock(),
            )
        except SignatureError as exc:
            log.info("signed request refused: %s", exc)
            raise HTTPException(
                status_code=401,
                detail={"kode": exc.reason, "pesan": exc.message},
                headers={"WWW-Authenticate": WWW_AUTHENTICATE},
            ) from None

    return signed_device

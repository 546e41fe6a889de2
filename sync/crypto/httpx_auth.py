"""The client side of signed requests: an httpx Auth that signs every request it sends."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator

import httpx

from sync.crypto.keys import PrivateKeySet
from sync.crypto.signing import sign_request


class SignedRequestAuth(httpx.Auth):
    """Adds Content-Digest, Signature-Input and Signature to each request.

    `clock` lets the sync engine correct a skewed device clock (e.g. from the server's
    Date header after a "stale_timestamp" refusal).
    """

    requires_request_body = True

    def __init__(
        self,
        keys: PrivateKeySet,
        device_id: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        keys.ed25519("signing")  # fail now, not on the first request
        self._keys = keys
        self._device_id = device_id
        self._clock = clock

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        headers = sign_request(
            self._keys,
            self._device_id,
            request.method,
            request.url.raw_path.decode("ascii"),
            request.content,
            now=self._clock(),
        )
        request.headers.update(headers)
        yield request

"""GET /metrics: Prometheus text format (server.metrics), loopback-only or with a token."""

from __future__ import annotations

import hmac
import os
from typing import Final

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from server.errors import ApiError
from server.metrics import METRICS_TOKEN_ENV
from server.services import ServicesDep

_LOOPBACK: Final = frozenset({"127.0.0.1", "::1"})

router = APIRouter(tags=["kesehatan"])


def _allowed(request: Request) -> bool:
    token = os.environ.get(METRICS_TOKEN_ENV, "")
    if token:
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    forwarded = "forwarded" in request.headers or "x-forwarded-for" in request.headers
    host = request.client.host if request.client else ""
    return host in _LOOPBACK and not forwarded


@router.get(
    "/metrics",
    summary="Metrik Prometheus",
    description=f"Hanya dari loopback tanpa proxy, atau dengan Bearer {METRICS_TOKEN_ENV}.",
    include_in_schema=True,
)
async def metrics(request: Request, svc: ServicesDep) -> Response:
    if not _allowed(request):
        raise ApiError(
            403,
            "metrik_tertutup",
            f"Metrik hanya untuk pemantauan lokal atau dengan token {METRICS_TOKEN_ENV}.",
        )
    body = await run_in_threadpool(svc.metrics.render)
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

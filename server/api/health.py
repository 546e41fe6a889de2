"""GET /healthz: answers without authentication (load balancers, the test fixture)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from server.services import ServicesDep

router = APIRouter(tags=["kesehatan"])


@router.get("/healthz", summary="Server hidup dan basis data terjangkau")
async def healthz(svc: ServicesDep) -> dict[str, str]:
    def ping() -> None:
        with svc.db.read() as session:
            session.execute(text("SELECT 1"))

    await run_in_threadpool(ping)
    return {"status": "ok"}

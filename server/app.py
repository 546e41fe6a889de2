"""The FastAPI application: wiring settings, database, keys, blob store and routers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Final

from anyio import to_thread
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.api import enrol, files, health, metrics, opd_key, sync
from server.auth import Authenticator, DatabaseNonceStore
from server.backup import ensure_epoch
from server.blobstore import BlobStore
from server.db import open_database, open_nonce_database
from server.errors import RefuseNulInUrl, install_error_handlers
from server.keys import load_server_keys
from server.metrics import RequestAccounting, ServerMetrics
from server.push_queue import PushQueue
from server.services import Services
from server.settings import ServerSettings
from server.throttle import AUTH, ENROL, FailureThrottle, UploadQuota
from server.uploads import TUS_VERSION, Uploads
from sync.heap import settle_heap
from sync.protocol import EPOCH_HEADER
from sync.redact import install_log_redaction

log = logging.getLogger(__name__)

_LAST_SEEN_EVERY = 30.0  # seconds between writes of devices' last-seen times


def build_services(settings: ServerSettings) -> Services:
    """Open everything the server needs; raises ServerKeyError / SchemaTooNew with a
    message for the admin when the home is not usable."""
    keys = load_server_keys(settings)
    db = open_database(settings.database_url)
    nonce_db = (
        db
        if settings.nonce_database_url == settings.database_url
        else open_nonce_database(settings.nonce_database_url)
    )
    nonces = DatabaseNonceStore(nonce_db)
    throttle = FailureThrottle(
        nonce_db,
        settings.throttle_window_seconds,
        {ENROL: settings.enrol_failures_per_window, AUTH: settings.auth_failures_per_window},
    )
    blobs = BlobStore(settings.blob_dir)
    uploads = Uploads(db, blobs, settings.upload_ttl_seconds, settings.max_upload_size)
    uploads.quota = UploadQuota(settings.max_open_uploads, settings.max_pending_upload_bytes)
    uploads.recover()
    return Services(
        settings=settings,
        db=db,
        keys=keys,
        nonces=nonces,
        auth=Authenticator(db, nonces, settings.max_body_size, throttle),
        blobs=blobs,
        uploads=uploads,
        pushes=PushQueue(db),
        throttle=throttle,
        metrics=ServerMetrics(db),
        epoch=ensure_epoch(db),
    )


def app_from_environment() -> FastAPI:
    """The app of one worker of `berkas server run --workers N` (BERKAS_SERVER_HOME and
    BERKAS_DATABASE_URL were set by the parent)."""
    settings = ServerSettings.for_home(Path(os.environ["BERKAS_SERVER_HOME"]))
    return create_app(settings)


def create_app(settings: ServerSettings) -> FastAPI:
    """The app for one server home; the database and keys are opened here, once."""
    # Upload URLs carry capabilities; uvicorn's access log and ours must not show them.
    install_log_redaction()
    svc = build_services(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        settle_heap()  # the app and its imports are up: keep collections off them
        task = asyncio.create_task(_maintenance(svc))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            svc.pushes.close()
            svc.auth.flush_last_seen()
            svc.db.dispose()
            svc.nonces.dispose()

    app = FastAPI(
        title="Berkas — server BKD",
        description="Sinkronisasi usulan kepegawaian OPD dengan BKD: pendaftaran perangkat, "
        "push/pull rekaman (tersegel dan bertanda tangan), kunci OPD, unggah dokumen tus 1.0.",
        version="1",
        lifespan=lifespan,
    )
    app.state.services = svc
    install_error_handlers(app)
    for router in (
        health.router,
        metrics.router,
        enrol.router,
        sync.router,
        opd_key.router,
        files.router,
    ):
        app.include_router(router)
    app.add_middleware(TusResumableHeader)
    app.add_middleware(EpochHeader, epoch=svc.epoch)
    app.add_middleware(RefuseNulInUrl)
    app.add_middleware(MethodOverride)  # routing sees the overridden method
    app.add_middleware(RequestAccounting, metrics=svc.metrics)  # outermost: every answer
    return app


async def _maintenance(svc: Services) -> None:
    """Now and then: store devices' last-seen times; sweep expired partial uploads and
    old nonces."""
    interval = svc.settings.maintenance_interval_seconds
    last_sweep = 0.0
    while True:
        try:
            await run_in_threadpool(svc.auth.flush_last_seen)
            if time.monotonic() - last_sweep >= interval:
                last_sweep = time.monotonic()
                await run_in_threadpool(svc.uploads.purge_expired)
                await run_in_threadpool(svc.nonces.prune)
                await run_in_threadpool(svc.throttle.prune)
        except Exception:  # keep sweeping; a failed sweep is retried next round
            log.exception("maintenance sweep failed")
        await asyncio.sleep(min(_LAST_SEEN_EVERY, interval))


class EpochHeader:
    """Adds `Berkas-Epoch: <epoch>` to every answer: a client that sees it change asks
    GET /v1/sync/epoch (sealed) and, when the server was restored, re-sends what it lacks."""

    def __init__(self, app: ASGIApp, epoch: str) -> None:
        self.app = app
        self.header = (EPOCH_HEADER.lower().encode(), epoch.encode("ascii"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.header]
            await send(message)

        await self.app(scope, receive, send_with_header)


class TusResumableHeader:
    """Adds `Tus-Resumable: 1.0.0` to every tus answer, errors included (tus 1.0 core)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not str(scope.get("path", "")).startswith("/v1/files")
            or scope.get("method") == "GET"
        ):
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"tus-resumable" for name, _ in headers):
                    headers.append((b"tus-resumable", TUS_VERSION.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_header)


class MethodOverride:
    """tus 1.0 core: a POST with `X-HTTP-Method-Override` acts as the method it names
    (clients behind proxies that drop PATCH or DELETE, e.g. tus-js-client with
    `overridePatchMethod`). Only on upload URLs (`/v1/files/<id>`, capability-bound) and
    only to the tus methods there; signed requests never change their method."""

    METHODS: Final = frozenset({"PATCH", "DELETE", "HEAD"})

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope.get("method") == "POST"
            and str(scope.get("path", "")).startswith("/v1/files/")
        ):
            for name, value in scope.get("headers", []):
                if name.lower() == b"x-http-method-override":
                    method = value.decode("latin-1").strip().upper()
                    if method in self.METHODS:
                        scope = {**scope, "method": method}
                    break
        await self.app(scope, receive, send)

"""GET /metrics in the Prometheus text format, and the per-request JSON log line.

Counters (requests, push ops, conflicts, uploads) count what this process did: with
several processes, Prometheus scrapes each one and `sum()` adds them up. Gauges that
describe the whole server (usulan diajukan per OPD, each device's sync lag) are read from
the database at scrape time, so every process answers the same.

Labels hold route templates (`/v1/files/{upload_id}`), never raw paths or query strings
(an upload URL carries its capability), OPD codes and device ids, never names or NIPs.

Access: with BERKAS_METRICS_TOKEN set, only `Authorization: Bearer <token>` (from any
address); without it, only clients on the loopback address that came straight in (no
Forwarded / X-Forwarded-For header: a reverse proxy on the same host would otherwise
expose /metrics to the world). The figures are no secret, but they tell who is active and
how much: not for the internet.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import secrets
import time
from collections.abc import Iterable, Iterator
from typing import Any, Final

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.db import Database
from server.models import Device, Record
from sync.protocol import OpResult

METRICS_TOKEN_ENV: Final = "BERKAS_METRICS_TOKEN"
REQUEST_ID_HEADER: Final = "X-Request-Id"

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
access_log = logging.getLogger("berkas.server.access")


class ServerMetrics:
    """The metrics of one server process (its own registry: tests start several apps)."""

    def __init__(self, db: Database) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "berkas_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "berkas_http_request_duration_seconds",
            "Time to answer, by route template.",
            ["route"],
            registry=self.registry,
        )
        self.push_ops = Counter(
            "berkas_push_ops",
            "Pushed ops by result (applied, merged, conflict, duplicate, refused).",
            ["outcome"],
            registry=self.registry,
        )
        self.conflicts = Counter(
            "berkas_conflicts_created", "Field conflicts created by pushes.", registry=self.registry
        )
        self.upload_bytes = Counter(
            "berkas_upload_bytes", "Document bytes received by tus PATCH.", registry=self.registry
        )
        self.upload_sessions = Counter(
            "berkas_upload_sessions",
            "tus upload sessions by event (created, completed, terminated).",
            ["event"],
            registry=self.registry,
        )
        self._gauges = _DatabaseGauges(db)
        self.registry.register(self._gauges)

    def count_push(self, results: Iterable[OpResult]) -> None:
        for result in results:
            self.push_ops.labels(result.outcome).inc()
            if result.outcome == "conflict":
                self.conflicts.inc(len(result.conflicts))

    def render(self) -> bytes:
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            return generate_latest(self.registry)
        # `run --workers N`: counters of every worker of this host, summed from their files.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(self._gauges)
        return generate_latest(registry)


class _DatabaseGauges(Collector):
    """Read at scrape time from the shared database (the same in every process)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def describe(self) -> list[Metric]:
        return []  # no database read at registration

    def collect(self) -> Iterator[Metric]:
        diajukan = GaugeMetricFamily(
            "berkas_usulan_diajukan",
            "Usulan waiting for the verifikator (status diajukan), per OPD.",
            labels=["opd"],
        )
        lag = GaugeMetricFamily(
            "berkas_device_sync_lag_seconds",
            "Seconds since each active device was last heard from.",
            labels=["device", "opd", "version"],
        )
        now = time.time()
        status = Record.data["status"].as_string()
        with self.db.read() as session:
            for opd, count in session.execute(
                select(Record.opd_id, func.count())
                .where(Record.table_name == "usulan", Record.deleted.is_(False))
                .where(status == "diajukan")
                .group_by(Record.opd_id)
            ):
                diajukan.add_metric([opd], float(count))
            for device_id, opd, seen, version in session.execute(
                select(Device.id, Device.opd_kode, Device.last_seen_at, Device.client_version)
                .where(Device.revoked_at.is_(None))
                .where(Device.last_seen_at.is_not(None))
            ):
                lag.add_metric([device_id, opd, version or ""], max(0.0, now - float(seen or now)))
        yield diajukan
        yield lag


# -- per-request accounting and the access log --------------------------------------------------


class RequestAccounting:
    """Request id (kept from a valid incoming X-Request-Id, else made), metrics by route
    template, and one JSON access log line per request without query strings."""

    def __init__(self, app: ASGIApp, metrics: ServerMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or secrets.token_hex(8)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_wrapped(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER.lower().encode(), request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapped)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = str(scope.get("method", ""))
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.latency.labels(route).observe(elapsed)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "request",
                    extra={
                        "fields": {
                            "request_id": request_id,
                            "method": method,
                            "route": route,
                            "status": status,
                            "ms": round(elapsed * 1000, 1),
                        }
                    },
                )
            request_id_var.reset(token)


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if 1 <= len(text) <= 64 and all(c.isalnum() or c in "-_." for c in text):
                return str(text)
    return None


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "(tidak dikenal)"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, fields. The
    message went through sync.redact (install_log_redaction) when the record was made."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": request_id_var.get(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exc"] = record.exc_text
        return json.dumps(out, ensure_ascii=False, default=str)


def json_log_config(level: str) -> dict[str, Any]:
    """A logging dictConfig for uvicorn: JSON lines on stderr; uvicorn's own access log
    off (RequestAccounting writes one line per request, without query strings)."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"default": handler},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "berkas": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "server": {"handlers": ["default"], "level": level.upper(), "propagate": False},
        },
    }

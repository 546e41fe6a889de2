"""Throttles: failed enrolments and failed signatures per client address (429 with
Retry-After), and the unfinished uploads each device may hold open.

The counts live in the database (beside the nonces: their own SQLite file, or the main
PostgreSQL database), so every server process shares them and a restart forgets nothing
that matters. Only failures are counted: an office behind one NAT address enrols and syncs
many devices legitimately, while guessing codes or signatures is nothing but failures.

Windows are fixed (`throttle_window_seconds`): the Nth failure of an address within one
window, N past the limit, closes it until the window ends. Each process also remembers in
memory the addresses it has seen closed, until their window ends: a cache of what the
database answered, so a request from a well-behaved address costs no query. A process that
has not seen an address closed yet learns it from the database at that address's next
failure (so one extra failure per process, at most).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Final

from sqlalchemy import case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.db import Database
from server.errors import ApiError
from server.models import Device, ThrottleCount, Upload

ENROL: Final = "enrol"
AUTH: Final = "auth"
_MAX_CACHED: Final = 10_000
# A device over its upload limits asks again after this long (uploads finish or expire).
UPLOAD_RETRY_AFTER_SECONDS: Final = 60

_MESSAGES: Final = {
    ENROL: "Terlalu banyak percobaan pendaftaran yang gagal dari alamat ini.",
    AUTH: "Terlalu banyak permintaan bertanda tangan tidak sah dari alamat ini.",
}


def too_many(message: str, retry_after: float, detail: str) -> ApiError:
    seconds = max(1, math.ceil(retry_after))
    return ApiError(
        429,
        "terlalu_sering",
        f"{message} Coba lagi dalam {seconds} detik.",
        detail,
        headers={"Retry-After": str(seconds)},
    )


class FailureThrottle:
    """Counts failures per (kind, client address) and closes addresses past a limit."""

    def __init__(self, db: Database, window_seconds: int, limits: dict[str, int]) -> None:
        self._db = db
        self._window = float(window_seconds)
        self._limits = dict(limits)
        self._closed: dict[tuple[str, str], float] = {}  # cache: (kind, client) -> until
        self._lock = threading.Lock()
        dialect = sqlite if db.is_sqlite else postgresql
        upsert = dialect.insert(ThrottleCount)
        self._count = upsert.on_conflict_do_update(
            index_elements=["kind", "client"],
            set_={
                "count": case(
                    (
                        ThrottleCount.window_start == upsert.excluded.window_start,
                        ThrottleCount.count + 1,
                    ),
                    else_=1,
                ),
                "window_start": upsert.excluded.window_start,
            },
        ).returning(ThrottleCount.count, ThrottleCount.window_start)

    def check(self, kind: str, client: str, now: float | None = None) -> None:
        """429 when `client` is closed for `kind` (as far as this process has seen)."""
        now = time.time() if now is None else now
        with self._lock:
            until = self._closed.get((kind, client))
        if until is not None and until > now:
            raise too_many(_MESSAGES[kind], until - now, f"{kind} throttled")

    def failed(self, kind: str, client: str, now: float | None = None) -> None:
        """Count one failure; 429 (instead of the failure's own answer) once `client` is
        past the limit of this window."""
        now = time.time() if now is None else now
        window_start = math.floor(now / self._window) * self._window
        with self._db.write(serial=False) as session:
            count, _ = session.execute(
                self._count,
                {"kind": kind, "client": client[:64], "window_start": window_start, "count": 1},
            ).one()
        if count <= self._limits[kind]:
            return
        until = window_start + self._window
        with self._lock:
            if len(self._closed) >= _MAX_CACHED:
                self._closed = {k: u for k, u in self._closed.items() if u > now}
            self._closed[(kind, client)] = until
        raise too_many(_MESSAGES[kind], until - now, f"{kind} failures: {count}")

    def prune(self, now: float | None = None) -> int:
        """Forget counts of windows that are over."""
        now = time.time() if now is None else now
        with self._db.write(serial=False) as session:
            result = session.connection().execute(
                delete(ThrottleCount).where(ThrottleCount.window_start < now - self._window)
            )
        with self._lock:
            self._closed = {k: u for k, u in self._closed.items() if u > now}
        return max(0, int(result.rowcount))


@dataclass(frozen=True)
class UploadQuota:
    """How many unfinished uploads one device may hold, and how many bytes they may put
    on disk (the sum of their declared lengths)."""

    max_open: int
    max_pending_bytes: int

    def check(self, session: Session, device_id: str, length: int, now: float) -> None:
        """429 when one more upload of `length` bytes would pass the device's limits. Run
        inside the transaction that creates the upload: the device row is locked (on
        PostgreSQL; SQLite writes are serial anyway), so two creations cannot both pass."""
        session.execute(select(Device.id).where(Device.id == device_id).with_for_update())
        open_count, pending = session.execute(
            select(func.count(), func.coalesce(func.sum(Upload.length), 0))
            .where(Upload.device_id == device_id)
            .where(Upload.completed_at.is_(None))
            .where(Upload.expires_at >= now)
        ).one()
        if open_count + 1 > self.max_open:
            raise too_many(
                f"Perangkat ini sudah membuka {open_count} unggahan yang belum selesai "
                f"(batas {self.max_open}).",
                UPLOAD_RETRY_AFTER_SECONDS,
                "open uploads",
            )
        if int(pending) + length > self.max_pending_bytes:
            raise too_many(
                f"Unggahan perangkat ini yang belum selesai melebihi batas "
                f"{self.max_pending_bytes} bita.",
                UPLOAD_RETRY_AFTER_SECONDS,
                "pending upload bytes",
            )

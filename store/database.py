"""The local SQLite store: opening, migrating, and sessions that keep the outbox.

Every local write runs in `Store.write()`. A flush hook turns each change to a
synced record into an outbox entry inside the same transaction, so no code path
can change a synced table without the sync engine hearing of it. Changes that
come *from* the server are applied in `Store.apply_remote()`, which writes no
outbox entries.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import UOWTransaction
from sqlalchemy.pool import QueuePool
from sqlmodel import Session, create_engine, select

from store.errors import DiskFull, StoreError, disk_full_message, is_disk_full
from store.hlc import HybridClock
from store.ids import new_id
from store.integrity import (
    CHECKED_KEY,
    IntegrityReport,
    check_file,
    damaged,
    record_damage,
    recorded_damage,
    run_check,
)
from store.migrations import MIGRATIONS, SCHEMA_VERSION
from store.models import SYNC_COLUMNS, Meta, OutboxEntry, SyncedRecord

_REMOTE = "berkas_remote"
_CONTEXT = "berkas_context"


def to_wire(value: Any) -> Any:
    """A column value as JSON: dates as ISO text, enums as their value."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [to_wire(v) for v in value]
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items()}
    return value


def record_to_wire(record: SyncedRecord) -> dict[str, Any]:
    """Every column of a record, in wire form."""
    return {name: to_wire(getattr(record, name)) for name in type(record).model_fields}


@dataclass
class WriteContext:
    """Who is writing: stamped on every record and outbox entry."""

    device_id: str
    opd_id: str
    person: str
    clock: HybridClock


class Store:
    """An open local store. Thread-safe: each call makes its own session."""

    def __init__(self, path: Path, engine: Engine, context: WriteContext) -> None:
        self.path = path
        self.engine = engine
        self.context = context
        self._clock_lock = threading.Lock()

    # -- sessions -----------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (a consistent snapshot in WAL mode)."""
        # Closing (not rolling back) leaves loaded objects usable, detached.
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction (BEGIN IMMEDIATE) that records outbox entries."""
        with self._transaction(remote=False) as session:
            yield session

    @contextmanager
    def apply_remote(self) -> Iterator[Session]:
        """A write transaction for changes the server sent: no outbox entries."""
        with self._transaction(remote=True) as session:
            yield session

    @contextmanager
    def _transaction(self, *, remote: bool) -> Iterator[Session]:
        with self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with Session(bind=conn, expire_on_commit=False) as session:
                session.info[_REMOTE] = remote
                session.info[_CONTEXT] = self.context
                try:
                    yield session
                    session.flush()
                    _save_clock(session, self.context.clock.now())
                    session.commit()
                except BaseException as exc:
                    session.rollback()
                    full = isinstance(exc, Exception) and is_disk_full(exc)
                    if full and not isinstance(exc, DiskFull):
                        raise DiskFull(disk_full_message(), repr(exc)[:300]) from exc
                    raise

    # -- meta -----------------------------------------------------------------------

    def get_meta(self, key: str, default: str = "") -> str:
        with self.read() as session:
            row = session.get(Meta, key)
            return row.value if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.apply_remote() as session:
            set_meta(session, key, value)

    def set_identity(self, *, device_id: str, opd_id: str) -> None:
        """Record who this store belongs to (after enrolment)."""
        with self.apply_remote() as session:
            set_meta(session, "device_id", device_id)
            set_meta(session, "opd_id", opd_id)
        self.context.device_id = device_id
        self.context.opd_id = opd_id

    def daily_integrity_check(self, every: timedelta = timedelta(days=1)) -> IntegrityReport | None:
        """The full `integrity_check` when the last passing one is older than `every`
        (None when not due). Damage is recorded beside the store, so every later open
        refuses it until `berkas periksa` has mended it."""
        last = self.get_meta(CHECKED_KEY)
        now = datetime.now(UTC)
        if last and now - datetime.fromisoformat(last) < every:
            return None
        with self.engine.connect() as conn:
            report = run_check(conn.connection.driver_connection, full=True)  # type: ignore[arg-type]
        if report.ok:
            self.set_meta(CHECKED_KEY, now.isoformat(timespec="seconds"))
        else:
            record_damage(self.path, report)
        return report

    def close(self) -> None:
        self.engine.dispose()


def set_meta(session: Session, key: str, value: str) -> None:
    row = session.get(Meta, key)
    if row is None:
        session.add(Meta(key=key, value=value))
    else:
        row.value = value
        session.add(row)


def get_meta(session: Session, key: str, default: str = "") -> str:
    row = session.get(Meta, key)
    return row.value if row else default


_DEVICE_NAMES = "device_names"


def device_names(session: Session) -> dict[str, str]:
    """Device id -> the name it enrolled with, as the server reported them with conflicts.

    Kept in meta, not in the conflict table: a device is named once, and the local schema
    needs no new columns for it."""
    try:
        names = json.loads(get_meta(session, _DEVICE_NAMES, "{}"))
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in names.items()} if isinstance(names, dict) else {}


def remember_device_names(session: Session, names: Mapping[str, str]) -> None:
    known = device_names(session)
    merged = {**known, **names}
    if merged != known:
        set_meta(session, _DEVICE_NAMES, json.dumps(merged, sort_keys=True))


def _save_clock(session: Session, stamp: str) -> None:
    conn = session.connection()
    conn.exec_driver_sql(
        "INSERT INTO meta(key, value) VALUES ('hlc', ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (stamp,),
    )


# -- the outbox hook ------------------------------------------------------------------


@event.listens_for(OrmSession, "before_flush")
def _record_outbox(session: OrmSession, _ctx: UOWTransaction, _instances: object) -> None:
    if _CONTEXT not in session.info:
        return  # not a store session (e.g. the server's own sessions)
    for obj in session.deleted:
        if isinstance(obj, SyncedRecord):
            raise StoreError(
                "Data tidak boleh dihapus permanen; gunakan penanda hapus.",
                f"hard delete of {type(obj).__name__} {obj.id}",
            )
    if session.info.get(_REMOTE):
        return
    ctx: WriteContext = session.info[_CONTEXT]
    for obj in list(session.dirty):
        if not isinstance(obj, SyncedRecord) or not session.is_modified(obj):
            continue
        changes, deleted = _changed_fields(session, obj)
        if not changes and deleted is None:
            continue
        _stamp(obj, ctx)
        _append(session, obj, ctx, changes, deleted=deleted)
    # New records in the order they were added, so a parent's op precedes its
    # children's (pegawai, then usulan, then dokumen) wherever they are replayed.
    added = [obj for obj in session.new if isinstance(obj, SyncedRecord)]
    added.sort(key=lambda obj: inspect(obj).insert_order or 0)
    for obj in added:
        _stamp(obj, ctx)
        changes = {
            name: {"base": None, "new": to_wire(getattr(obj, name))}
            for name in type(obj).data_fields()
        }
        _append(session, obj, ctx, changes, deleted=None)


def _stamp(obj: SyncedRecord, ctx: WriteContext) -> None:
    if not obj.opd_id:
        obj.opd_id = ctx.opd_id
    obj.updated_at = ctx.clock.now()
    obj.updated_by = ctx.device_id


def _changed_fields(session: OrmSession, obj: SyncedRecord) -> tuple[dict[str, Any], bool | None]:
    state = inspect(obj)
    changes: dict[str, Any] = {}
    deleted: bool | None = None
    committed: dict[str, Any] | None = None
    for name in type(obj).model_fields:
        history = state.attrs[name].history
        if not history.has_changes():
            continue
        new = to_wire(getattr(obj, name))
        if history.deleted:
            base = to_wire(history.deleted[0])
        else:
            # The old value was never loaded: read it from the row itself.
            if committed is None:
                committed = _committed_row(session, obj)
            base = committed.get(name)
        if base == new:
            continue
        if name == "deleted":
            deleted = bool(new)
        elif name not in SYNC_COLUMNS:
            changes[name] = {"base": base, "new": new}
    return changes, deleted


def _committed_row(session: OrmSession, obj: SyncedRecord) -> dict[str, Any]:
    model = type(obj)
    with session.no_autoflush:
        row = session.connection().execute(
            select(model.__table__).where(model.__table__.c.id == obj.id)  # type: ignore[attr-defined]
        )
        mapping = row.mappings().first()
    return {k: to_wire(v) for k, v in (mapping or {}).items()}


def _append(
    session: OrmSession,
    obj: SyncedRecord,
    ctx: WriteContext,
    changes: dict[str, Any],
    *,
    deleted: bool | None,
) -> None:
    session.add(
        OutboxEntry(
            op_id=new_id(),
            table_name=type(obj).__wire_table__,
            record_id=obj.id,
            opd_id=obj.opd_id,
            base_version=obj.version,
            changes=changes,
            deleted=deleted,
            hlc=obj.updated_at,
        )
    )


# -- opening ------------------------------------------------------------------------------


def _configure_engine(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        # We issue BEGIN ourselves (below), so the driver must not.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 30000")
        cur.execute("PRAGMA journal_mode = WAL")
        # FULL: a power cut (common where our users work) loses no commit.
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def migrate(engine: Engine) -> int:
    """Bring the schema to SCHEMA_VERSION; refuse a store made by a newer Berkas."""
    with engine.connect() as conn:
        conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            current = int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())
            if current > SCHEMA_VERSION:
                raise StoreError(
                    "Data ini dibuat oleh versi Berkas yang lebih baru "
                    f"(skema {current}, versi ini mengenal sampai {SCHEMA_VERSION}). "
                    "Perbarui aplikasi Berkas; data tidak diubah.",
                    f"store schema {current} > supported {SCHEMA_VERSION}",
                )
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[version - 1]:
                    conn.exec_driver_sql(statement)
                conn.exec_driver_sql(f"PRAGMA user_version = {version}")
            return max(current, SCHEMA_VERSION)


def open_store(
    path: Path,
    *,
    opd_id: str | None = None,
    person: str = "",
    check: bool = True,
) -> Store:
    """Open (creating and migrating as needed) the store at `path`.

    A new store is private to its owner (0600; SQLite gives its -wal and -shm files the
    same mode): it holds personnel data. With `check` (always, but for the check command
    itself) a store that fails `PRAGMA quick_check`, or that the daily full check found
    damaged, is refused with StoreDamaged naming the way out."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    if check:
        _refuse_damaged(path)
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": 30},
        poolclass=QueuePool,
        pool_size=4,
        max_overflow=8,
    )
    _configure_engine(engine)
    try:
        migrate(engine)
    except StoreError:
        engine.dispose()
        raise
    except Exception as exc:  # sqlite3.DatabaseError: not a database, corrupt, ...
        engine.dispose()
        if is_disk_full(exc):  # the disk, not the file: never call a good store damaged
            raise DiskFull(disk_full_message(), repr(exc)[:300]) from exc
        raise StoreError(
            f"Berkas data {path} tidak dapat dibuka (rusak atau bukan basis data Berkas).",
            repr(exc),
        ) from exc
    try:
        device_id, stored_opd, last = _claim_identity(engine, opd_id)
    except StoreError:
        engine.dispose()
        raise
    except Exception as exc:
        engine.dispose()
        if is_disk_full(exc):
            raise DiskFull(disk_full_message(), repr(exc)[:300]) from exc
        raise
    clock = HybridClock(device_id, last)
    context = WriteContext(device_id=device_id, opd_id=stored_opd, person=person, clock=clock)
    return Store(path, engine, context)


def _refuse_damaged(path: Path) -> None:
    recorded = recorded_damage(path)
    if recorded is not None:
        raise damaged(path, recorded)
    if path.stat().st_size == 0:
        return  # a store being made
    report = check_file(path, full=False)
    if not report.ok:
        raise damaged(path, report)


def _claim_identity(engine: Engine, opd_id: str | None) -> tuple[str, str, str | None]:
    """The store's device id and OPD, made on first open in one IMMEDIATE transaction:
    two processes opening a fresh store at once (intake and the TUI) read the same ones
    rather than each writing its own."""
    with engine.connect() as conn:
        conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        with Session(bind=conn) as session:
            device_id = get_meta(session, "device_id")
            stored_opd = get_meta(session, "opd_id")
            last = get_meta(session, "hlc") or None
            if not device_id:
                device_id = new_id()
                set_meta(session, "device_id", device_id)
            if opd_id is not None and opd_id != stored_opd:
                if stored_opd:
                    raise StoreError(
                        f"Data ini milik OPD {stored_opd}, bukan {opd_id}.",
                        f"store opd {stored_opd!r} != requested {opd_id!r}",
                    )
                set_meta(session, "opd_id", opd_id)
                stored_opd = opd_id
            session.commit()
    return device_id, stored_opd, last

"""The server database: engine setup for SQLite (WAL) or PostgreSQL, sessions, schema.

Writers that add to the change log are serialised (SQLite: one writer by nature, taken
with BEGIN IMMEDIATE and an in-process lock so threads queue instead of busy-polling;
PostgreSQL: a transaction-scoped advisory lock). Serial writers commit in sequence order,
so a device that has pulled up to SEQ can never later miss a change numbered below SEQ.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from sqlalchemy import create_engine, event, inspect, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from server.models import Base, ServerMeta

SCHEMA_VERSION: Final = 1
_ADVISORY_LOCK_KEY: Final = 87_001  # any constant shared by every server process
_SQLITE_BEGIN: Final = "berkas_sqlite_begin"


class SchemaTooNew(RuntimeError):
    """The database was made by a newer server; `message` is for the admin."""

    def __init__(self, found: int) -> None:
        self.message = (
            f"Basis data server dibuat oleh versi Berkas yang lebih baru (skema {found}, "
            f"versi ini mengenal sampai {SCHEMA_VERSION}). Perbarui server; data tidak diubah."
        )
        super().__init__(f"server schema {found} > supported {SCHEMA_VERSION}")


class Database:
    """An engine plus the two kinds of transaction the server uses."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._write_lock = threading.Lock()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (one consistent snapshot on SQLite WAL)."""
        # close() (not rollback()) ends it: loaded objects stay readable after the block.
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self, *, serial: bool = True) -> Iterator[Session]:
        """A write transaction, committed on success and rolled back on any error.

        `serial` writers (those that touch the change log) run one at a time; others
        (nonces, upload offsets) only queue behind them on SQLite.
        """
        if self.is_sqlite:
            with self._write_lock, self._session("IMMEDIATE") as session:
                yield session
        else:
            with self._session(None) as session:
                if serial:
                    session.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY}
                    )
                yield session

    @contextmanager
    def _session(self, sqlite_begin: str | None) -> Iterator[Session]:
        with self.engine.connect() as conn:
            if sqlite_begin is not None:
                conn = conn.execution_options(**{_SQLITE_BEGIN: sqlite_begin})
            with Session(bind=conn, expire_on_commit=False) as session:
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise

    def dispose(self) -> None:
        self.engine.dispose()


def make_engine(url: str) -> Engine:
    """An engine for a SQLite file (WAL, busy timeout) or a PostgreSQL URL (psycopg 3)."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=QueuePool,
            pool_size=8,
            max_overflow=24,
        )
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return create_engine(url, pool_size=10, max_overflow=30, pool_pre_ping=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 30000")
        cur.execute("PRAGMA journal_mode = WAL")
        # FULL, not NORMAL: a push is acknowledged only after its commit, and the client
        # then drops its outbox entry, so a power cut must not lose an acknowledged commit.
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_SQLITE_BEGIN, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def open_database(url: str) -> Database:
    """Connect, create or check the schema, and return the Database."""
    db = Database(make_engine(url))
    try:
        migrate(db)
    except BaseException:
        db.dispose()
        raise
    return db


def open_nonce_database(url: str) -> Database:
    """The separate SQLite file that holds request nonces (see server.auth) and the
    throttles' failure counts (server.throttle)."""
    db = Database(make_engine(url))
    tables = [Base.metadata.tables[name] for name in ("seen_nonce", "throttle_count")]
    with db.write(serial=False) as session:
        Base.metadata.create_all(session.connection(), tables=tables)
    return db


def migrate(db: Database) -> None:
    """Create missing tables; refuse a database made by a newer server."""
    with db.write() as session:
        conn = session.connection()
        Base.metadata.create_all(conn, tables=[Base.metadata.tables["server_meta"]])
        row = session.get(ServerMeta, "schema_version")
        found = int(row.value) if row else 0
        if found > SCHEMA_VERSION:
            raise SchemaTooNew(found)
        Base.metadata.create_all(conn, checkfirst=True)
        _add_missing_columns(conn)
        if row is None:
            session.add(ServerMeta(key="schema_version", value=str(SCHEMA_VERSION)))
            session.add(ServerMeta(key="created_at", value=str(time.time())))
        elif found < SCHEMA_VERSION:
            row.value = str(SCHEMA_VERSION)


def _add_missing_columns(conn: Connection) -> None:
    """Add the nullable columns a newer server added to an existing table (create_all
    makes only missing tables). Older servers ignore such columns, so the schema version
    stays the same."""
    inspector = inspect(conn)
    for table in Base.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present or not column.nullable:
                continue
            kind = column.type.compile(dialect=conn.dialect)
            conn.exec_driver_sql(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}')


def get_meta(session: Session, key: str) -> str | None:
    return session.scalar(select(ServerMeta.value).where(ServerMeta.key == key))

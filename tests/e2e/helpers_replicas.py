"""Comparing replicas: a client store against the server's records and conflicts, and the
health of a SQLite file. Shared by the crash harness and the convergence test.

Everything here reads: the server through its own database (RunningServer.db), a client
store through its SQLModel tables, SQLite files through the plain sqlite3 module.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import select as sql_select

from server.db import Database
from server.merge import same_value
from server.models import ConflictRow, OpLog, Record
from store.database import Store, record_to_wire
from store.models import SYNCED_MODELS, Conflict

# Columns beside the data fields that must agree once a replica has caught up.
META_COLUMNS = ("version", "deleted", "opd_id")
STAMP_COLUMNS = ("updated_at", "updated_by")  # who changed it last, and when (HLC)

Key = tuple[str, str]  # (table, record id)


# -- SQLite health ------------------------------------------------------------------------------


def sqlite_health(path: Path) -> list[str]:
    """Problems `PRAGMA integrity_check` and `foreign_key_check` find (empty: healthy).

    Opened with the plain driver, as after a power cut: a hot WAL is recovered first."""
    con = sqlite3.connect(path, timeout=30)
    try:
        integrity = [str(row[0]) for row in con.execute("PRAGMA integrity_check")]
        problems = [] if integrity == ["ok"] else [f"integrity_check: {'; '.join(integrity)}"]
        for table, rowid, parent, _fk in con.execute("PRAGMA foreign_key_check"):
            problems.append(f"foreign_key_check: {table} row {rowid} -> {parent} missing")
        return problems
    finally:
        con.close()


# -- the server's side --------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerRecord:
    table: str
    record_id: str
    opd_id: str
    version: int
    deleted: bool
    updated_at: str
    updated_by: str
    data: dict[str, Any]

    def wire(self) -> dict[str, Any]:
        return {
            **self.data,
            "id": self.record_id,
            "opd_id": self.opd_id,
            "version": self.version,
            "deleted": self.deleted,
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
        }


def server_records(db: Database, opd: str | None = None) -> dict[Key, ServerRecord]:
    """Every record the server holds (of one OPD, when given)."""
    stmt = select(Record)
    if opd is not None:
        stmt = stmt.where(Record.opd_id == opd)
    with db.read() as session:
        return {
            (r.table_name, r.record_id): ServerRecord(
                r.table_name,
                r.record_id,
                r.opd_id,
                r.version,
                r.deleted,
                r.updated_at,
                r.updated_by,
                dict(r.data),
            )
            for r in session.scalars(stmt)
        }


@dataclass(frozen=True)
class ServerConflict:
    id: str
    table: str
    record_id: str
    field: str
    base: Any
    mine: Any
    theirs: Any
    mine_by: str
    op_id: str
    resolved: bool
    resolution: Any


def server_conflicts(db: Database) -> dict[str, ServerConflict]:
    with db.read() as session:
        return {
            c.id: ServerConflict(
                c.id,
                c.table_name,
                c.record_id,
                c.field,
                c.base,
                c.mine,
                c.theirs,
                c.mine_by,
                c.op_id,
                c.resolved,
                c.resolution,
            )
            for c in session.scalars(select(ConflictRow))
        }


def server_op_log(db: Database, device_id: str | None = None) -> dict[str, dict[str, Any]]:
    """op_id -> the first result the server recorded for it (of one device, when given)."""
    stmt = select(OpLog)
    if device_id is not None:
        stmt = stmt.where(OpLog.device_id == device_id)
    with db.read() as session:
        return {row.op_id: dict(row.result) for row in session.scalars(stmt)}


# -- a client's side ----------------------------------------------------------------------------


def local_records(store: Store) -> dict[Key, dict[str, Any]]:
    """Every synced row of a store, in wire form."""
    out: dict[Key, dict[str, Any]] = {}
    with store.read() as session:
        for table, model in SYNCED_MODELS.items():
            for row in session.exec(sql_select(model)):
                out[(table, row.id)] = record_to_wire(row)
    return out


def local_conflicts(store: Store) -> dict[str, Conflict]:
    with store.read() as session:
        return {c.id: c for c in session.exec(sql_select(Conflict))}


def replica_differences(
    store: Store,
    server: dict[Key, ServerRecord],
    *,
    name: str = "replica",
    tables: Iterable[str] = tuple(SYNCED_MODELS),
) -> list[str]:
    """How a client store differs from the server's records (data fields, version, tombstone,
    owner and the updated_at/updated_by stamp); empty when they are equal.
    `server` holds what the device may see."""
    wanted = set(tables)
    local = {k: v for k, v in local_records(store).items() if k[0] in wanted}
    theirs = {k: v for k, v in server.items() if k[0] in wanted}
    problems: list[str] = []
    for key in sorted(theirs.keys() - local.keys()):
        problems.append(f"{name}: lacks {key[0]} {key[1]}")
    for key in sorted(local.keys() - theirs.keys()):
        row = local[key]
        problems.append(f"{name}: has {key[0]} {key[1]} the server lacks (v{row['version']})")
    for key in sorted(local.keys() & theirs.keys()):
        mine, srv = local[key], theirs[key].wire()
        fields = [*SYNCED_MODELS[key[0]].data_fields(), *META_COLUMNS, *STAMP_COLUMNS]
        for field in fields:
            if not same_value(mine.get(field), srv.get(field)):
                problems.append(
                    f"{name}: {key[0]} {key[1]}.{field} = {mine.get(field)!r}, "
                    f"server {srv.get(field)!r}"
                )
    return problems

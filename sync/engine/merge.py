"""Applying the server's state of a record to the local store, keeping pending local edits.

The rule (the local three-way merge): a field that a pending outbox entry changes keeps its
local value (that entry will be pushed and merged on the server, where the per-field base
values decide); every other field takes the server's value.

The local `version` is the base of the next op the flush hook writes, and the server
fast-forwards an op whose base is its current version without looking at the base values.
So the version only advances when the row then holds exactly the server's state of that
version, i.e. when no pending entry touches the record. While entries are pending it stays
behind, and the server three-way merges the next ops field by field: never a silent
overwrite, at worst a merge that turns out clean.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from store.database import Store
from store.models import ADDED_FIELDS, SYNCED_MODELS, OutboxEntry, SyncedRecord
from sync.engine.errors import ServerRefused


@cache
def _adapter(table: str, name: str) -> TypeAdapter[Any]:
    annotation: Any = SYNCED_MODELS[table].model_fields[name].annotation
    return TypeAdapter(annotation)


@cache
def _plain_type(table: str, name: str) -> type | None:
    """str, int or bool when the column is exactly that: values of that type pass as they are."""
    annotation: object = SYNCED_MODELS[table].model_fields[name].annotation
    plain: dict[object, type] = {str: str, int: int, bool: bool}
    return plain.get(annotation)


def from_wire(table: str, name: str, value: Any) -> Any:
    """A wire (JSON) value as the column's Python value (ISO text -> date, ...)."""
    plain = _plain_type(table, name)
    if plain is not None and type(value) is plain:
        return value  # the common case, without a validator call
    try:
        return _adapter(table, name).validate_python(value)
    except ValidationError as exc:
        raise ServerRefused(
            "Data dari server tidak sesuai dengan bentuk yang diharapkan.",
            f"{table}.{name}: {exc.errors(include_input=False)[:1]}",
        ) from exc


def pending_fields(session: Session, record_ids: Iterable[str]) -> dict[str, set[str]]:
    """For each record with pending outbox entries: the fields they change (and "deleted")."""
    ids = list(set(record_ids))
    out: dict[str, set[str]] = {}
    for start in range(0, len(ids), 500):
        rows = session.exec(
            select(OutboxEntry.record_id, OutboxEntry.changes, OutboxEntry.deleted).where(
                col(OutboxEntry.record_id).in_(ids[start : start + 500])
            )
        )
        for record_id, changes, deleted in rows:
            fields = out.setdefault(record_id, set())
            fields.update((changes or {}).keys())
            if deleted is not None:
                fields.add("deleted")
    return out


@dataclass(frozen=True)
class ServerState:
    """One record as the server holds it (from a pull or a push result)."""

    table: str
    record_id: str
    version: int
    record: Mapping[str, Any]


def apply_server_states(
    session: Session,
    store: Store,
    states: Iterable[ServerState],
    *,
    ignore_pending: Iterable[str] = (),
    resync: bool = False,
) -> int:
    """Write server states into the local rows (one transaction: the caller's).

    `resync` (after a server restore, sync.engine.server_restore) takes each state even
    when the local row holds a version as new or newer: the restored server is the truth.

    `ignore_pending` names outbox op_ids being removed in this same transaction, whose
    fields no longer count as pending. Returns the number of rows written. Plain SQL
    (executemany), not the ORM: a page of a thousand records costs milliseconds.
    """
    by_table: dict[str, list[ServerState]] = {}
    for state in states:
        if state.table not in SYNCED_MODELS:
            raise ServerRefused(
                "Server mengirim data dari tabel yang tidak dikenal.", f"table {state.table!r}"
            )
        by_table.setdefault(state.table, []).append(state)
    if not by_table:
        return 0
    skip = set(ignore_pending)
    all_ids = [s.record_id for group in by_table.values() for s in group]
    pending = _pending_excluding(session, all_ids, skip)
    written = 0
    for table, group in by_table.items():
        written += _apply_table(session, store, table, group, pending, resync)
    return written


def _pending_excluding(
    session: Session, record_ids: list[str], skip: set[str]
) -> dict[str, set[str]]:
    if not skip:
        return pending_fields(session, record_ids)
    ids = list(set(record_ids))
    out: dict[str, set[str]] = {}
    for start in range(0, len(ids), 500):
        rows = session.exec(
            select(
                OutboxEntry.op_id, OutboxEntry.record_id, OutboxEntry.changes, OutboxEntry.deleted
            ).where(col(OutboxEntry.record_id).in_(ids[start : start + 500]))
        )
        for op_id, record_id, changes, deleted in rows:
            if op_id in skip:
                continue
            fields = out.setdefault(record_id, set())
            fields.update((changes or {}).keys())
            if deleted is not None:
                fields.add("deleted")
    return out


def _apply_table(
    session: Session,
    store: Store,
    table: str,
    group: list[ServerState],
    pending: dict[str, set[str]],
    resync: bool = False,
) -> int:
    model = SYNCED_MODELS[table]
    tbl: Table = model.__table__  # type: ignore[attr-defined]
    columns = [c.name for c in tbl.columns]
    data_fields = model.data_fields()
    ids = list({s.record_id for s in group})
    local: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        rows = session.execute(sa_select(tbl).where(tbl.c.id.in_(ids[start : start + 500])))
        for row in rows.mappings():
            local[row["id"]] = dict(row)
    inserted: dict[str, dict[str, Any]] = {}
    updated: dict[str, dict[str, Any]] = {}
    original: dict[str, dict[str, Any]] = {}
    for state in group:
        record = state.record
        stamp = record.get("updated_at")
        if isinstance(stamp, str) and stamp:
            store.context.clock.observe(stamp)
        current = local.get(state.record_id)
        if current is None:
            values = _new_row(model, table, state)
            local[state.record_id] = inserted[state.record_id] = values
            continue
        if state.version <= current["version"] and not resync:
            continue  # we already hold this version (or a newer one)
        keep = pending.get(state.record_id, set())
        new = dict(current)
        for name in data_fields:
            if name in keep or name not in record:
                continue
            new[name] = from_wire(table, name, record[name])
        if "deleted" not in keep and "deleted" in record:
            new["deleted"] = bool(record["deleted"])
        if not keep:
            # The row now is the server's state of `version`: it may be the next op's base.
            new["version"] = state.version
            for name in ("updated_at", "updated_by", "opd_id"):
                if isinstance(record.get(name), str):
                    new[name] = record[name]
        if new != current:
            local[state.record_id] = new
            if state.record_id in inserted:
                inserted[state.record_id] = new
            else:
                original.setdefault(state.record_id, current)
                updated[state.record_id] = new
    if inserted:
        session.execute(insert(tbl), list(inserted.values()))
    # One executemany per set of changed columns (a push answer changes the same few).
    batches: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for record_id, after in updated.items():
        before = original[record_id]
        changed = tuple(name for name in columns if name != "id" and after[name] != before[name])
        if changed:
            values = {"k_id": record_id, **{f"v_{name}": after[name] for name in changed}}
            batches.setdefault(changed, []).append(values)
    for changed, rows_params in batches.items():
        statement = (
            update(tbl)
            .where(tbl.c.id == bindparam("k_id"))
            .values({name: bindparam(f"v_{name}") for name in changed})
        )
        session.execute(statement, rows_params)
    return len(inserted) + len(updated)


def _new_row(model: type[SyncedRecord], table: str, state: ServerState) -> dict[str, Any]:
    record = dict(state.record)
    for name, default in ADDED_FIELDS.get(table, {}).items():
        record.setdefault(name, default)
    missing = [name for name in model.data_fields() if name not in record]
    if missing:
        raise ServerRefused(
            "Data dari server tidak lengkap.", f"{table} {state.record_id}: no {missing[:3]}"
        )
    values: dict[str, Any] = {
        name: from_wire(table, name, record[name]) for name in model.data_fields()
    }
    values["id"] = state.record_id
    values["version"] = state.version
    values["deleted"] = bool(record.get("deleted", False))
    for name in ("opd_id", "updated_at", "updated_by"):
        value = record.get(name, "")
        values[name] = value if isinstance(value, str) else ""
    return values

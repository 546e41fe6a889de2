"""The local outbox as the push side sees it: pending entries in order, as wire ops."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, bindparam, func, type_coerce
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from store.database import Store
from store.models import SYNCED_MODELS, OutboxEntry
from sync.engine.errors import LocalFailure
from sync.protocol import Op


@dataclass(frozen=True, slots=True)
class PendingOp:
    """One outbox row as the push side reads it (plain values, not an ORM object:
    loading ten thousand of those costs more than pushing them)."""

    seq: int
    op_id: str
    table_name: str
    record_id: str
    opd_id: str
    base_version: int
    changes: dict[str, Any]
    deleted: bool | None
    resolves: list[str]
    hlc: str


_OUTBOX = OutboxEntry.__table__  # type: ignore[attr-defined]
_OLDEST = (
    sa_select(
        _OUTBOX.c.seq,
        _OUTBOX.c.op_id,
        _OUTBOX.c.table_name,
        _OUTBOX.c.record_id,
        _OUTBOX.c.opd_id,
        _OUTBOX.c.base_version,
        type_coerce(_OUTBOX.c.changes, Text).label("changes"),
        _OUTBOX.c.deleted,
        type_coerce(_OUTBOX.c.resolves, Text).label("resolves"),
        _OUTBOX.c.hlc,
    )
    .where(_OUTBOX.c.seq > bindparam("after"))
    .order_by(_OUTBOX.c.seq)
    .limit(bindparam("limit"))
)


def oldest(session: Session, limit: int, *, after_seq: int = 0) -> list[PendingOp]:
    """The `limit` oldest pending entries after `after_seq`, in the order they were written."""
    rows = session.connection().execute(_OLDEST, {"after": after_seq, "limit": limit})
    return [
        PendingOp(
            seq=row.seq,
            op_id=row.op_id,
            table_name=row.table_name,
            record_id=row.record_id,
            opd_id=row.opd_id,
            base_version=row.base_version,
            changes=_json(row.changes, dict, row.seq),
            deleted=None if row.deleted is None else bool(row.deleted),
            resolves=_json(row.resolves, list, row.seq),
            hlc=row.hlc,
        )
        for row in rows
    ]


def _json(text: str | None, kind: type, seq: int) -> Any:
    """A JSON column's value; damaged text stops the push with a clear error (never read as
    empty: an op without its changes would be "applied" and the edit lost)."""
    if text is None:
        return kind()
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, kind):
        raise LocalFailure(
            "Antrean perubahan lokal memuat entri yang rusak; hubungi admin.",
            f"outbox entry {seq}: damaged JSON column",
        )
    return value


def pending_count(store: Store) -> int:
    with store.read() as session:
        return int(session.exec(select(func.count()).select_from(OutboxEntry)).one())


def last_seq(store: Store) -> int:
    """The newest outbox sequence (0 when empty): changes when new work arrives."""
    with store.read() as session:
        return int(session.exec(select(func.max(OutboxEntry.seq))).one() or 0)


def op_fields(
    entry: PendingOp,
    device_id: str,
    opd_id: str = "",
    withheld: Mapping[str, Collection[str]] | None = None,
) -> dict[str, Any]:
    """The wire op (sync.protocol.Op) of an entry as plain data; `opd_id` fills entries
    written before enrolment. The push sends it as JSON without building the models (half
    the client's cost of a big push): the flush hook wrote these entries, so only what
    damage could do is checked here; the server validates every op fully. Fields named in
    `withheld` (by table: added fields this server does not know) are left out."""
    changes = entry.changes
    if (
        entry.table_name not in SYNCED_MODELS
        or not entry.op_id
        or not entry.record_id
        or entry.base_version < 0
        or not all(isinstance(change, dict) for change in changes.values())
    ):
        raise LocalFailure(
            "Antrean perubahan lokal memuat entri yang rusak; hubungi admin.",
            f"outbox entry {entry.seq} ({entry.table_name})",
        )
    skip = withheld.get(entry.table_name) if withheld else None
    return {
        "op_id": entry.op_id,
        "table": entry.table_name,
        "record_id": entry.record_id,
        "opd_id": entry.opd_id or opd_id,
        "base_version": entry.base_version,
        "changes": {
            name: {"base": change.get("base"), "new": change.get("new")}
            for name, change in changes.items()
            if not skip or name not in skip
        },
        "deleted": entry.deleted,
        "resolves": list(entry.resolves),
        "hlc": entry.hlc,
        "device_id": device_id,
    }


def to_op(entry: PendingOp, device_id: str, opd_id: str = "") -> Op:
    """The wire op of an entry, validated."""
    return Op.model_validate(op_fields(entry, device_id, opd_id))

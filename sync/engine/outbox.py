"""The local outbox as the push side sees it: pending entries in order, as wire ops."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from store.database import Store
from store.models import OutboxEntry
from sync.protocol import Op


def oldest(session: Session, limit: int) -> list[OutboxEntry]:
    """The `limit` oldest pending entries, in the order they were written."""
    return list(session.exec(select(OutboxEntry).order_by(col(OutboxEntry.seq)).limit(limit)))


def pending_count(store: Store) -> int:
    with store.read() as session:
        return int(session.exec(select(func.count()).select_from(OutboxEntry)).one())


def last_seq(store: Store) -> int:
    """The newest outbox sequence (0 when empty): changes when new work arrives."""
    with store.read() as session:
        return int(session.exec(select(func.max(OutboxEntry.seq))).one() or 0)


def op_fields(entry: OutboxEntry, device_id: str, opd_id: str = "") -> dict[str, Any]:
    """The wire op of an entry as plain data (validated in bulk by PushRequest);
    `opd_id` fills entries written before enrolment."""
    return {
        "op_id": entry.op_id,
        "table": entry.table_name,
        "record_id": entry.record_id,
        "opd_id": entry.opd_id or opd_id,
        "base_version": entry.base_version,
        "changes": {
            name: {"base": change.get("base"), "new": change.get("new")}
            for name, change in (entry.changes or {}).items()
        },
        "deleted": entry.deleted,
        "resolves": list(entry.resolves or []),
        "hlc": entry.hlc,
        "device_id": device_id,
    }


def to_op(entry: OutboxEntry, device_id: str, opd_id: str = "") -> Op:
    """The wire op of an entry."""
    return Op.model_validate(op_fields(entry, device_id, opd_id))

"""The local Conflict table as sync sees it: storing the conflicts the server reports
(push results and pulled changes) and listing the open ones.

A conflict that arrives resolved (someone decided on another device) clears the local one.
Resolving is a local write with its outbox entry naming the conflict in `resolves`; that
lives with the other writes in client.services.BerkasClient.resolve_conflicts, and
client.sync_service exposes it next to the list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from store.database import Store
from store.models import Conflict
from sync.protocol import ConflictInfo


@dataclass(frozen=True)
class ConflictView:
    """One open conflict, as screens and the CLI show it."""

    id: str
    table: str
    record_id: str
    field: str
    base: Any
    mine: Any
    theirs: Any
    mine_by: str
    theirs_by: str
    mine_at: str
    theirs_at: str
    created_at: str
    resolved: bool
    resolution: Any


def _view(row: Conflict) -> ConflictView:
    return ConflictView(
        id=row.id,
        table=row.table_name,
        record_id=row.record_id,
        field=row.field,
        base=row.base,
        mine=row.mine,
        theirs=row.theirs,
        mine_by=row.mine_by,
        theirs_by=row.theirs_by,
        mine_at=row.mine_at,
        theirs_at=row.theirs_at,
        created_at=row.created_at,
        resolved=row.resolved,
        resolution=row.resolution,
    )


def record_conflicts(session: Session, infos: Iterable[ConflictInfo]) -> int:
    """Store (or update) conflicts the server reported; resolved ones clear the local row.

    Returns how many open conflicts were added.
    """
    added = 0
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for info in infos:
        row = session.get(Conflict, info.conflict_id)
        if row is None:
            row = Conflict(
                id=info.conflict_id,
                table_name=info.table,
                record_id=info.record_id,
                field=info.field,
                created_at=now,
            )
            added += 0 if info.resolved else 1
        elif row.resolved and not info.resolved:
            continue  # resolved here already; our resolution op is on its way
        row.base = info.base
        row.mine = info.mine
        row.theirs = info.theirs
        row.mine_by = info.mine_by
        row.theirs_by = info.theirs_by
        row.mine_at = info.mine_at
        row.theirs_at = info.theirs_at
        if info.resolved:
            row.resolved = True
            row.resolution = info.resolution
        session.add(row)
    return added


def list_conflicts(store: Store, *, include_resolved: bool = False) -> list[ConflictView]:
    with store.read() as session:
        stmt = select(Conflict).order_by(col(Conflict.created_at), col(Conflict.id))
        if not include_resolved:
            stmt = stmt.where(col(Conflict.resolved).is_(False))
        return [_view(row) for row in session.exec(stmt)]


def open_count(store: Store) -> int:
    return len(list_conflicts(store))

"""The local Conflict table as sync sees it: storing the conflicts the server reports
(push results and pulled changes) and listing the open ones.

A conflict that arrives resolved (someone decided on another device) clears the local one.
Resolving is a local write with its outbox entry naming the conflict in `resolves`
(`resolve_conflicts`, the one place for it: the TUI's Konflik screen and `berkas
konflik` both call it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlmodel import Session, col, func, select

from store.database import Store, device_names, remember_device_names, to_wire
from store.errors import BerkasError
from store.models import SYNCED_MODELS, Conflict, OutboxEntry, SyncedRecord
from sync.protocol import ConflictInfo


class ResolutionRefused(BerkasError):
    """A decision that cannot be applied (unknown conflict, bad value, ...); nothing changed."""


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
    mine_device: str = ""  # the names the devices enrolled with ("" if not known)
    theirs_device: str = ""


def _view(row: Conflict, names: Mapping[str, str]) -> ConflictView:
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
        mine_device=names.get(row.mine_by, ""),
        theirs_device=names.get(row.theirs_by, ""),
    )


def record_conflicts(session: Session, infos: Iterable[ConflictInfo]) -> int:
    """Store (or update) conflicts the server reported; resolved ones clear the local row.

    Returns how many open conflicts were added.
    """
    added = 0
    now = datetime.now(UTC).isoformat(timespec="seconds")
    remember_device_names(
        session,
        {
            device: name
            for info in infos
            for device, name in (
                (info.mine_by, info.mine_device),
                (info.theirs_by, info.theirs_device),
            )
            if name
        },
    )
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
        names = device_names(session)
        return [_view(row, names) for row in session.exec(stmt)]


def open_count(store: Store) -> int:
    return len(list_conflicts(store))


def resolve_conflicts(store: Store, decisions: Mapping[str, tuple[str, Any]]) -> None:
    """Decide conflicts of one record in one transaction: "mine", "theirs" or "edit"
    (with the edited value) for each conflict id.

    The record takes the chosen values inside `store.write()`, so the outbox
    hook records one op; that op's `resolves` names every conflict decided, and
    it carries every decided field, so the server applies the decision even
    where the local value did not change (choosing "mine")."""
    if not decisions:
        return
    with store.write() as session:
        conflicts: list[Conflict] = []
        for conflict_id in decisions:
            c = session.get(Conflict, conflict_id)
            if c is None:
                raise ResolutionRefused("Konflik tidak ditemukan.", conflict_id)
            if c.resolved:
                raise ResolutionRefused("Konflik ini sudah diselesaikan.", conflict_id)
            conflicts.append(c)
        table, record_id = conflicts[0].table_name, conflicts[0].record_id
        if any((c.table_name, c.record_id) != (table, record_id) for c in conflicts):
            raise ResolutionRefused(
                "Konflik yang diputuskan bersama harus dari data yang sama.", record_id
            )
        model = SYNCED_MODELS.get(table)
        record = session.get(model, record_id) if model else None
        if model is None or record is None:
            raise ResolutionRefused("Data yang berkonflik tidak ada di perangkat ini.", record_id)
        last_seq = session.exec(
            select(func.max(OutboxEntry.seq)).where(OutboxEntry.record_id == record_id)
        ).one()
        chosen: dict[str, Any] = {}
        current: dict[str, Any] = {}
        for c in conflicts:
            choice, edited = decisions[c.id]
            if choice == "mine":
                wire = c.mine
            elif choice == "theirs":
                wire = c.theirs
            elif choice == "edit":
                wire = to_wire(_value_for_field(model, c.field, edited))
            else:
                raise ResolutionRefused(f"Pilihan tidak dikenal: {choice}.", choice)
            current[c.field] = to_wire(getattr(record, c.field))
            chosen[c.field] = wire
            setattr(record, c.field, _value_for_field(model, c.field, wire))
            c.resolved = True
            c.resolution = wire
            session.add(c)
        session.add(record)
        session.flush()
        stmt = select(OutboxEntry).where(OutboxEntry.record_id == record_id)
        if last_seq is not None:
            stmt = stmt.where(col(OutboxEntry.seq) > last_seq)
        entry = session.exec(stmt.order_by(col(OutboxEntry.seq).desc())).first()
        if entry is None:
            # Every chosen value was already the local one: the hook saw no change,
            # yet the server must hear the decision. The record keeps its stamp: the
            # server changes no value either, so it keeps its own (stamping the row
            # here would leave this device differing from every other for good).
            entry = OutboxEntry(
                table_name=table,
                record_id=record_id,
                opd_id=record.opd_id,
                base_version=record.version,
                changes={},
                hlc=store.context.clock.now(),
            )
        changes = dict(entry.changes or {})
        for name, wire in chosen.items():
            changes.setdefault(name, {"base": current[name], "new": wire})
        entry.changes = changes
        entry.resolves = [*(entry.resolves or []), *(c.id for c in conflicts)]
        session.add(entry)


def _value_for_field(model: type[SyncedRecord], name: str, value: Any) -> Any:
    """A wire (or typed) value as the column's Python value: ISO text to a date, ..."""
    info = model.model_fields.get(name)
    if info is None:
        raise ResolutionRefused(f"Bidang {name} tidak dikenal.", f"{model.__name__}.{name}")
    adapter: TypeAdapter[Any] = TypeAdapter(info.annotation or Any)
    if isinstance(value, str) and not value.strip():
        value = None if _accepts_none(adapter) else value
    try:
        return adapter.validate_python(value.strip() if isinstance(value, str) else value)
    except ValidationError as exc:
        message = f"Nilai {value!r} tidak sesuai untuk bidang {name}."
        raise ResolutionRefused(message, str(exc)) from exc


def _accepts_none(adapter: TypeAdapter[Any]) -> bool:
    try:
        adapter.validate_python(None)
    except ValidationError:
        return False
    return True

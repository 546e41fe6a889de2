"""Konflik: records both sides changed, field by field, and the person's decisions.

Writing a decision (and the op that tells the server) is sync's business:
sync.engine.conflicts.resolve_conflicts owns it; this module shows and asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, func, select

from client._core import ClientCore, usulan_label
from client.errors import ClientError
from client.labels import nip_label
from client.views import ConflictDetail, ConflictFieldView, ConflictRecordView, ConflictSide
from store.database import device_names, to_wire
from store.hlc import parse_hlc
from store.models import SYNCED_MODELS, Conflict, Dokumen, Pegawai, Usulan
from store.rules import dokumen_kinds


class KonflikService(ClientCore):
    """Conflicts waiting for a person."""

    def count_conflicts(self) -> int:
        with self.store.read() as session:
            stmt = select(func.count()).select_from(Conflict)
            stmt = stmt.where(col(Conflict.resolved).is_(False))
            return int(session.exec(stmt).one())

    def list_conflicts(self) -> list[ConflictRecordView]:
        """Records with unresolved conflicts, oldest first, one entry per record."""
        with self.store.read() as session:
            rows = session.exec(
                select(Conflict)
                .where(col(Conflict.resolved).is_(False))
                .order_by(col(Conflict.created_at), col(Conflict.id))
            )
            grouped: dict[tuple[str, str], list[Conflict]] = {}
            for c in rows:
                grouped.setdefault((c.table_name, c.record_id), []).append(c)
            return [
                ConflictRecordView(
                    table_name=table,
                    record_id=record_id,
                    title=self._record_title(session, table, record_id),
                    fields=tuple(c.field for c in conflicts),
                    since=conflicts[0].created_at,
                )
                for (table, record_id), conflicts in grouped.items()
            ]

    def conflict_detail(self, record_id: str) -> ConflictDetail:
        """Every unresolved conflict of one record, field by field, side by side."""
        with self.store.read() as session:
            conflicts = list(
                session.exec(
                    select(Conflict)
                    .where(Conflict.record_id == record_id)
                    .where(col(Conflict.resolved).is_(False))
                    .order_by(col(Conflict.created_at), col(Conflict.id))
                )
            )
            if not conflicts:
                raise ClientError("Tidak ada konflik yang menunggu untuk data ini.", record_id)
            table = conflicts[0].table_name
            model = SYNCED_MODELS.get(table)
            record = session.get(model, record_id) if model else None
            device = self.store.context.device_id
            names = device_names(session)
            fields = [
                ConflictFieldView(
                    conflict_id=c.id,
                    field=c.field,
                    base=c.base,
                    current=to_wire(getattr(record, c.field, None)) if record else None,
                    sides=_sides(c, device, names),
                )
                for c in conflicts
            ]
            return ConflictDetail(
                table_name=table,
                record_id=record_id,
                title=self._record_title(session, table, record_id),
                fields=fields,
            )

    def conflict_field(self, conflict_id: str) -> ConflictFieldView:
        """One open conflict by its id, both sides labelled (what `berkas konflik` decides)."""
        with self.store.read() as session:
            c = session.get(Conflict, conflict_id)
            record_id = c.record_id if c is not None and not c.resolved else None
        if record_id is None:
            raise ClientError("Konflik tidak ditemukan atau sudah diselesaikan.", conflict_id)
        detail = self.conflict_detail(record_id)
        return next(f for f in detail.fields if f.conflict_id == conflict_id)

    def resolve_conflict(self, conflict_id: str, choice: str, value: Any = None) -> None:
        """Decide one conflict: keep mine, take theirs, or an edited value."""
        self.resolve_conflicts({conflict_id: (choice, value)})

    def resolve_conflicts(self, decisions: Mapping[str, tuple[str, Any]]) -> None:
        """Decide conflicts of one record in one transaction (sync.engine.conflicts)."""
        # Imported here: the sync engine (httpx, APScheduler) is not needed to start the TUI.
        from sync.engine import resolve_conflicts

        resolve_conflicts(self.store, decisions)

    def _record_title(self, session: Session, table: str, record_id: str) -> str:
        model = SYNCED_MODELS.get(table)
        record = session.get(model, record_id) if model else None
        if isinstance(record, Pegawai):
            return f"Pegawai {record.nama} ({nip_label(record.nip)})"
        if isinstance(record, Usulan):
            p = session.get(Pegawai, record.pegawai_id)
            label = usulan_label(record, self.rules)
            return f"Usulan {label} — {p.nama if p else record.nip}"
        if isinstance(record, Dokumen):
            u = session.get(Usulan, record.usulan_id)
            p = session.get(Pegawai, u.pegawai_id) if u else None
            kind = dokumen_kinds(self.rules).get(record.kode)
            nama = kind.nama if kind else record.kode
            return f"Dokumen {nama} — {p.nama}" if p else f"Dokumen {nama}"
        names = {"usulan_history": "Riwayat usulan"}
        return f"{names.get(table, table)} {record_id[:8]}"


def _sides(c: Conflict, device: str, names: Mapping[str, str]) -> tuple[ConflictSide, ConflictSide]:
    """Both sides of a conflict, this device's first (else the one the server had first)."""
    theirs = ConflictSide(
        choice="theirs",
        value=c.theirs,
        device_id=c.theirs_by,
        device_name=names.get(c.theirs_by, ""),
        at=_hlc_time(c.theirs_at),
        this_device=c.theirs_by == device,
    )
    mine = ConflictSide(
        choice="mine",
        value=c.mine,
        device_id=c.mine_by,
        device_name=names.get(c.mine_by, ""),
        at=_hlc_time(c.mine_at),
        this_device=c.mine_by == device and not theirs.this_device,
    )
    return (mine, theirs) if mine.this_device else (theirs, mine)


def _hlc_time(stamp: str) -> datetime | None:
    """The wall-clock time of a hybrid logical clock stamp (UTC), if it is one."""
    try:
        wall_ms, _, _ = parse_hlc(stamp)
    except ValueError:
        return None
    return datetime.fromtimestamp(wall_ms / 1000, tz=UTC)

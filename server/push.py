"""Applying pushed ops: idempotency, authorization, workflow, three-way merge, change log.

Pushes run on the one writer thread (server.push_queue), several at a time in one serial
write transaction (group commit). Each op is decided completely before anything of it is
written, so a refused op changes nothing but its own entry in the op log. Outcomes:
- applied:   made on the current version (or a create); version + 1
- merged:    made on an older version; the disjoint fields were merged; version + 1 if
             anything changed. `record` is the server's copy: the client takes it.
- conflict:  at least one field was changed differently on both sides; the server keeps its
             value, the Conflict keeps both (`conflicts`), other fields merged as above
- duplicate: a create of a record the server already holds with the very same data
- refused:   not allowed or not valid; `reason` says why, in Bahasa Indonesia
A retried op_id (a later push) gets its first result again, unchanged, outcome included;
the same op_id twice in one push is answered `duplicate` the second time (PROTOCOL.md 9).
A tombstone on a stale base is applied only when no field of the op conflicts.

History: the client writes the usulan_history entry of a move in the same batch
(store.usulan.move_status). The server accepts that record but stamps `oleh_perangkat` with
the authenticated device, and keeps its own audit row (`status_move`) of every move it
applied, with the device, the person named in the batch's history entry, and the time the
server observed it, so a move is attributed even if a client omits or falsifies its entry.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from server import access, workflow
from server.auth import Caller
from server.db import Database
from server.merge import merge_fields
from server.models import Base
from server.records import (
    NATURAL_KEY,
    PARENT_FIELD,
    ChangeLogWriter,
    InvalidValue,
    RecordCache,
    StoredRecord,
    conflict_info,
    data_fields,
    device_names,
    natural_key_of,
    normalise_record,
    normalise_value,
    nullable_fields,
    opd_seq,
    record_wire,
)
from store.ids import new_id
from store.models import SYNCED_MODELS
from store.rules import Role
from sync.protocol import ADDED_FIELDS, Op, OpResult, PushResponse

_OP_LOG = Base.metadata.tables["op_log"]
_CONFLICT = Base.metadata.tables["conflict"]
_STATUS_MOVE = Base.metadata.tables["status_move"]
_EARLIER = select(_OP_LOG.c.op_id, _OP_LOG.c.device_id, _OP_LOG.c.result).where(
    _OP_LOG.c.op_id.in_(bindparam("ids", expanding=True))
)
_INSERT_OP_LOG = insert(_OP_LOG)


class Refusal(Exception):
    """An op the server will not apply; `args[0]` is the reason for the person."""


@dataclass
class _Batch:
    """What the whole push tells about each op (history entries name the person)."""

    history: list[Op] = field(default_factory=list)
    results: dict[str, OpResult] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)

    def person_for(self, usulan_id: str, ke_status: str) -> tuple[str, str]:
        for op in self.history:
            new = {k: v.new for k, v in op.changes.items()}
            if new.get("usulan_id") == usulan_id and new.get("ke_status") == ke_status:
                return str(new.get("oleh_nama") or ""), str(new.get("alasan") or "")
        return "", ""


def push(db: Database, caller: Caller, ops: Sequence[Op]) -> PushResponse:
    """Apply `ops` in order, in one transaction; one result per op."""
    return push_many(db, [(caller, ops)])[0]


def push_many(db: Database, pushes: Sequence[tuple[Caller, Sequence[Op]]]) -> list[PushResponse]:
    """Apply several pushes, one after the other, in one transaction (group commit: one
    commit, and on PostgreSQL one WAL flush, for all of them). Each push sees the ones
    before it exactly as if they had been committed separately."""
    with db.write() as session:
        conn = session.connection()
        tx = _Tx(conn, RecordCache(conn), ChangeLogWriter(conn, db.engine.dialect.name))
        everything = [op for _, ops in pushes for op in ops]
        tx.records.preload(_keys_named(everything))
        for table, field_name in NATURAL_KEY.items():
            tx.records.preload_natural_keys(
                table,
                [
                    (op.opd_id, str(op.changes[field_name].new))
                    for op in everything
                    if op.table == table and field_name in op.changes
                ],
            )
        earlier = _earlier_results(conn, [op.op_id for op in everything])
        applied: list[tuple[Caller, list[OpResult]]] = []
        log: list[dict[str, Any]] = []
        for caller, ops in pushes:
            batch = _Batch(history=[op for op in ops if op.table == "usulan_history"])
            results = [_apply_logged(tx, caller, op, batch, earlier) for op in ops]
            # A later push of this group retrying one of these ops gets this first result.
            earlier.update({r.op_id: (caller.device_id, r) for r in batch.results.values()})
            log.extend(batch.log)
            applied.append((caller, results))
        tx.records.flush()
        tx.log.flush()
        if log:
            conn.execute(_INSERT_OP_LOG, log)
        # The newest sequence a device can pull: with next_since >= server_seq it may skip
        # the pull. For an OPD device, its own OPD's newest (which also tells nothing of
        # other OPDs' activity).
        return [
            PushResponse(
                results=results,
                server_seq=tx.log.last if caller.is_verifier else opd_seq(conn, caller.opd_kode),
            )
            for caller, results in applied
        ]


@dataclass
class _Tx:
    """One push's write transaction: its connection, record cache and change log."""

    conn: Connection
    records: RecordCache
    log: ChangeLogWriter


def _keys_named(ops: Sequence[Op]) -> list[tuple[str, str]]:
    """Every record the ops touch or hang from, to load in one query per table."""
    keys: list[tuple[str, str]] = [(op.table, op.record_id) for op in ops]
    for op in ops:
        parent = PARENT_FIELD.get(op.table)
        change = op.changes.get(parent[0]) if parent else None
        if parent and change is not None and isinstance(change.new, str):
            keys.append((parent[1], change.new))
    return keys


def _earlier_results(conn: Connection, op_ids: list[str]) -> dict[str, tuple[str, Any]]:
    found: dict[str, tuple[str, Any]] = {}
    unique = sorted(set(op_ids))
    for start in range(0, len(unique), 500):
        rows = conn.execute(_EARLIER, {"ids": unique[start : start + 500]})
        found.update({op_id: (device_id, result) for op_id, device_id, result in rows})
    return found


def _apply_logged(
    tx: _Tx,
    caller: Caller,
    op: Op,
    batch: _Batch,
    earlier: dict[str, tuple[str, Any]],
) -> OpResult:
    if op.op_id in batch.results:  # the same op twice in this push
        return batch.results[op.op_id].model_copy(update={"outcome": "duplicate"})
    if op.op_id in earlier:  # a retry of an op from an earlier push
        device_id, stored = earlier[op.op_id]
        if device_id != caller.device_id:
            return _refused(op, "op_id ini sudah dipakai perangkat lain.")
        return stored if isinstance(stored, OpResult) else OpResult.model_validate(stored)
    now = time.time()
    try:
        result = _apply(tx, caller, op, batch, now)
    except (Refusal, workflow.WorkflowRefusal) as exc:
        result = _refused(op, str(exc.args[0]))
    batch.results[op.op_id] = result
    batch.log.append(
        {
            "op_id": op.op_id,
            "device_id": caller.device_id,
            "result": result.model_dump(mode="json"),
            "created_at": now,
        }
    )
    return result


def _refused(op: Op, reason: str) -> OpResult:
    return OpResult(op_id=op.op_id, outcome="refused", reason=reason)


def _apply(tx: _Tx, caller: Caller, op: Op, batch: _Batch, now: float) -> OpResult:
    if op.device_id != caller.device_id:
        raise Refusal("device_id pada op tidak sama dengan perangkat pengirim.")
    table = op.table
    unknown = sorted(set(op.changes) - data_fields(table))
    if unknown:
        raise Refusal("Kolom tidak dikenal untuk " + table + ": " + ", ".join(unknown) + ".")

    row = tx.records.get(table, op.record_id)
    creating = row is None
    if row is None:
        if op.base_version != 0:
            raise Refusal(access.NOT_FOUND_REASON)
        if caller.role is Role.OPD and op.opd_id != caller.opd_kode:
            raise Refusal(access.NOT_OWN_OPD_REASON)
    else:
        if not access.can_read(caller.role, caller.opd_kode, row.opd_id):
            raise Refusal(access.NOT_FOUND_REASON)
        if op.opd_id != row.opd_id:
            raise Refusal("opd_id pada op tidak sama dengan pemilik data.")

    # A create is validated whole below (normalise_record), every base is None: checking
    # each value first as well would double the cost of the commonest op of a big push.
    if creating and all(change.base is None for change in op.changes.values()):
        nullable = nullable_fields(table)
        for name, change in op.changes.items():
            if change.new is None and name not in nullable:
                raise Refusal(f"Nilai kolom {name} tidak sah.")
        changes = {name: (None, change.new) for name, change in op.changes.items()}
    else:
        changes = _normalised_changes(table, op)
    # A record held since before a field existed reads as that field's default.
    current: Mapping[str, Any] = {**_added_defaults(table), **row.data} if row is not None else {}
    fast_forward = row is None or op.base_version == row.version
    resolving = _conflicts_resolved(tx.conn, op)
    merge = merge_fields(
        current,
        changes,
        fast_forward=fast_forward,
        forced={c.field: (c.mine, c.theirs) for c in resolving},
    )
    deleting: bool | None = None
    if row is not None and op.deleted is not None and op.deleted != row.deleted:
        deleting = op.deleted if fast_forward or not merge.conflicts else None
    if creating and op.deleted:
        raise Refusal("Data baru tidak dapat langsung ditandai terhapus.")
    if table == "usulan_history" and not creating and (merge.applied or deleting is not None):
        raise Refusal("Riwayat usulan tidak dapat diubah atau dihapus.")
    if table == "usulan" and deleting and row is not None and row.data.get("status") != "draft":
        # Only a draft is cancelled (a tombstone); one the BKD has seen stays on record.
        raise Refusal("Usulan yang sudah diajukan tidak dapat dibatalkan.")

    merged = {**current, **merge.applied}
    if creating:  # an update's values were each checked above; a create must be complete
        try:
            merged = normalise_record(table, merged)
        except InvalidValue as exc:
            raise Refusal(f"Nilai tidak sah atau kosong pada kolom: {exc.args[0]}.") from None

    # Every field the op names is authorized, whether or not its base differs from its new
    # value: a fast-forward applies each named field's `new`, and a stale base can open a
    # conflict on it (which a later resolution applies).
    named = {name: new for name, (_base, new) in changes.items()}
    _authorize(caller, table, creating, named, merged, deleting)
    opd_id = row.opd_id if row is not None else op.opd_id
    _check_references(tx, caller, table, opd_id, op.record_id, creating, merge.applied, merged)
    moved_from = _check_workflow(
        tx, caller, table, op.record_id, row, creating, merge.applied, merged, deleting
    )
    if table == "usulan_history" and creating:
        merged["oleh_perangkat"] = caller.device_id

    # -- decided: write ----------------------------------------------------------------
    changed = creating or bool(merge.applied) or deleting is not None
    # "theirs" is the server's version as the op found it: who made it, and when.
    theirs_by = row.updated_by if row is not None else caller.device_id
    theirs_at = row.updated_at if row is not None else op.hlc
    if row is None:
        row = StoredRecord(
            table_name=table,
            record_id=op.record_id,
            opd_id=op.opd_id,
            version=1,
            data=merged,
            deleted=False,
            updated_at=op.hlc,
            updated_by=caller.device_id,
            received_at=now,
        )
        tx.records.save(row, new=True)
    elif changed:
        row.version += 1
        row.data = merged
        if deleting is not None:
            row.deleted = deleting
        row.updated_at = op.hlc
        row.updated_by = caller.device_id
        row.received_at = now
        tx.records.save(row, new=False)

    new_conflicts = [
        {
            "id": new_id(),
            "table_name": table,
            "record_id": op.record_id,
            "opd_id": opd_id,
            "field": c.field,
            "base": c.base,
            "mine": c.mine,
            "theirs": c.theirs,
            "mine_by": caller.device_id,
            "theirs_by": theirs_by,
            "mine_at": op.hlc,
            "theirs_at": theirs_at,
            "created_at": now,
            "op_id": op.op_id,
            "resolved": False,
            "resolution": None,
        }
        for c in merge.conflicts
    ]
    if changed or new_conflicts or resolving:
        seq = tx.log.log(row, now)
        if new_conflicts:
            tx.conn.execute(insert(_CONFLICT), [{**c, "seq": seq} for c in new_conflicts])
        for resolved in resolving:
            tx.conn.execute(
                update(_CONFLICT)
                .where(_CONFLICT.c.id == resolved.id)
                .values(
                    resolved=True,
                    resolution=row.data.get(resolved.field),
                    resolved_by=caller.device_id,
                    resolved_at=now,
                    seq=seq,
                )
            )
    if moved_from is not None:
        person, alasan = batch.person_for(op.record_id, str(merged["status"]))
        tx.conn.execute(
            insert(_STATUS_MOVE),
            {
                "usulan_id": op.record_id,
                "opd_id": opd_id,
                "dari_status": moved_from,
                "ke_status": str(merged["status"]),
                "device_id": caller.device_id,
                "person": person,
                "alasan": alasan,
                "observed_at": now,
                "op_id": op.op_id,
            },
        )

    if creating:
        outcome = "applied"
    elif new_conflicts:
        outcome = "conflict"
    elif fast_forward:
        outcome = "applied"
    elif op.base_version == 0 and not changed:
        outcome = "duplicate"
    else:
        outcome = "merged"
    names = device_names(tx.conn, (caller.device_id, theirs_by)) if new_conflicts else {}
    # Built from values the server itself validated and stores: no need to validate the
    # record again as JSON (model_construct skips what is, for big pushes, half the cost).
    return OpResult.model_construct(
        op_id=op.op_id,
        outcome=outcome,
        version=row.version,
        record=record_wire(row),
        conflicts=[conflict_info(c, names) for c in new_conflicts],
        reason=None,
    )


def _normalised_changes(table: str, op: Op) -> dict[str, tuple[Any, Any]]:
    """Each change as (base, new) in wire form; a base that does not parse is kept as sent."""
    result: dict[str, tuple[Any, Any]] = {}
    for name, change in op.changes.items():
        try:
            new = normalise_value(table, name, change.new)
        except InvalidValue:
            raise Refusal(f"Nilai kolom {name} tidak sah.") from None
        if change.base is None:
            base = None
        else:
            try:
                base = normalise_value(table, name, change.base)
            except InvalidValue:
                base = change.base
        result[name] = (base, new)
    return result


@dataclass(frozen=True)
class _OpenConflict:
    id: str
    field: str
    resolved: bool
    mine: Any
    theirs: Any


def _conflicts_resolved(conn: Connection, op: Op) -> list[_OpenConflict]:
    """The open conflicts this op resolves; they must belong to the op's record."""
    if not op.resolves:
        return []
    rows = [
        _OpenConflict(*row)
        for row in conn.execute(
            select(
                _CONFLICT.c.id,
                _CONFLICT.c.field,
                _CONFLICT.c.resolved,
                _CONFLICT.c.mine,
                _CONFLICT.c.theirs,
            )
            .where(_CONFLICT.c.id.in_(op.resolves))
            .where(_CONFLICT.c.table_name == op.table)
            .where(_CONFLICT.c.record_id == op.record_id)
        )
    ]
    found = {r.id for r in rows}
    for conflict_id in op.resolves:
        if conflict_id not in found:  # absent, or on another record: said the same way
            raise Refusal(f"Konflik {conflict_id} tidak ditemukan pada data ini.")
    return [r for r in rows if not r.resolved]


def _authorize(
    caller: Caller,
    table: str,
    creating: bool,
    named: Mapping[str, Any],
    merged: Mapping[str, Any],
    deleting: bool | None,
) -> None:
    """Refuse an op naming any field its role may not write; `named` is {field: new value}
    of every field the op names, changed or not."""
    if caller.role is Role.VERIFIKATOR:
        reason = access.verifier_refusal(table, creating, set(named), deleting is not None)
    else:
        reason = access.opd_refusal(table, creating, named, merged)
    if reason:
        raise Refusal(reason)
    if table == "dokumen" and "state" in named and named["state"] not in access.DOKUMEN_STATES:
        raise Refusal(f"Status dokumen tidak dikenal: {named['state']}.")


def _check_references(
    tx: _Tx,
    caller: Caller,
    table: str,
    opd_id: str,
    record_id: str,
    creating: bool,
    applied: Mapping[str, Any],
    merged: Mapping[str, Any],
) -> None:
    parent = PARENT_FIELD.get(table)
    if parent is not None and (creating or parent[0] in applied):
        field_name, parent_table = parent
        parent_row = tx.records.get(parent_table, str(merged.get(field_name)))
        if parent_row is None or not access.can_read(
            caller.role, caller.opd_kode, parent_row.opd_id
        ):
            raise Refusal(f"Data induk ({parent_table}) tidak ditemukan.")
        if parent_row.opd_id != opd_id:
            raise Refusal(f"Data induk ({parent_table}) milik OPD lain.")
    key = natural_key_of(table, merged)
    if (
        key is not None
        and (creating or "nip" in applied)
        and tx.records.natural_key_taken(table, opd_id, key, record_id)
    ):
        raise Refusal(f"NIP {key} sudah terdaftar pada data pegawai lain di OPD ini.")


def _check_workflow(
    tx: _Tx,
    caller: Caller,
    table: str,
    record_id: str,
    row: StoredRecord | None,
    creating: bool,
    applied: Mapping[str, Any],
    merged: Mapping[str, Any],
    deleting: bool | None,
) -> str | None:
    """Refuse moves the workflow forbids; returns the status moved from, if any."""
    if table == "usulan":
        if creating:
            workflow.check_new_usulan_status(merged.get("status"))
            workflow.check_layanan(merged)
            return None
        assert row is not None
        if "layanan" in applied or "jenis" in applied:
            workflow.check_layanan(merged)
        if "status" not in applied:
            return None
        current = str(row.data.get("status"))
        target = workflow.check_move(current, applied["status"], caller.role)
        if target.value == "diajukan":
            dokumen = tx.records.children("dokumen", record_id)
            ok = [
                str(d.data.get("kode"))
                for d in dokumen
                if not d.deleted and d.data.get("state") == "ada"
            ]
            workflow.check_complete(ok, merged)
        workflow.check_outcome_fields(target, merged)
        return current
    if table == "dokumen" and caller.role is Role.OPD and (applied or deleting is not None):
        usulan = tx.records.get("usulan", str(merged.get("usulan_id")))
        if usulan is not None and not workflow.is_open(usulan.data.get("status")):
            raise Refusal(
                f"Usulan berstatus '{usulan.data.get('status')}' tidak dapat diubah dokumennya."
            )
    return None


def _added_defaults(table: str) -> dict[str, Any]:
    """The defaults of `table`'s fields added after protocol 1 (PROTOCOL.md §7.2)."""
    fields = SYNCED_MODELS[table].model_fields
    return {
        name: fields[name].get_default(call_default_factory=True)
        for name in ADDED_FIELDS.get(table, {})
    }

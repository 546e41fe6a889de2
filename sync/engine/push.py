"""Push: drain the outbox in order, in batches, and apply what the server did with each op.

An entry leaves the outbox only in the transaction that applies its result, so a push cut
at any point is simply sent again; the server answers a retried op_id with its first
result (idempotent), so nothing is applied twice.

Results: applied / merged / duplicate take the server's copy of the record (merge.py keeps
fields of later pending entries); conflict also stores the conflicts locally; refused
entries leave the outbox (retrying cannot help), the fields they changed go back to their
base value when nothing newer is pending, and the refusal is kept in meta "refused" for
`berkas status` and the log.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pydantic_core
from sqlalchemy import delete
from sqlmodel import Session, col

from store.database import Store, get_meta, set_meta
from store.models import SYNCED_MODELS, Conflict, OutboxEntry
from sync.engine.conflicts import record_conflicts
from sync.engine.errors import LocalFailure, ServerRefused, SyncError
from sync.engine.merge import ServerState, apply_server_states, from_wire, pending_fields
from sync.engine.outbox import PendingOp, oldest, op_fields
from sync.engine.server_restore import EPOCH_PATH, remember_acknowledged
from sync.engine.transport import Transport
from sync.protocol import ADDED_FIELDS, MAX_PUSH_OPS, OpResult, PushResponse, ServerEpoch

log = logging.getLogger(__name__)

PUSH_PATH = "/v1/sync/push"
_REFUSED_KEPT = 50


@dataclass
class PushReport:
    pushed: int = 0
    applied: int = 0
    merged: int = 0
    conflicts: int = 0
    refused: int = 0
    requests: int = 0
    refusals: list[str] = field(default_factory=list)


def push_outbox(
    store: Store,
    transport: Transport,
    device_id: str,
    *,
    opd_id: str = "",
    batch_size: int = MAX_PUSH_OPS,
) -> PushReport:
    """Push every pending entry (oldest first) until the outbox is empty.

    One request is in flight at a time, so the server sees the batches in order; the
    client overlaps its own work with the server's: while batch N is in flight it reads
    and seals batch N+1, and it applies N's answer while N+1 is in flight. Entries are
    never rewritten once written, so reading N+1 before N's answer is applied reads what
    a strictly serial loop would. If anything fails, the batch in flight is awaited (its
    ops are then on the server; the next sync sends them again and gets their first
    results back) and the error is raised.
    """
    report = PushReport()
    batch_size = max(1, min(batch_size, MAX_PUSH_OPS))

    def next_batch(after_seq: int) -> tuple[list[PendingOp], bytes] | None:
        return _next_batch(store, transport, device_id, opd_id, after_seq, batch_size)

    entries = next_batch(0)
    if entries is None:
        return report
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="berkas-push") as pool:

        def send(batch: tuple[list[PendingOp], bytes]) -> Future[PushResponse]:
            return pool.submit(transport.sealed, "POST", PUSH_PATH, batch[1], PushResponse)

        in_flight: Future[PushResponse] | None = send(entries)
        try:
            while in_flight is not None:
                read_ahead: LocalFailure | None = None
                try:
                    following = next_batch(entries[0][-1].seq)
                except LocalFailure as exc:
                    # A damaged entry further on: settle the batch in flight first, so the
                    # ops before it leave the outbox, then stop on it.
                    following, read_ahead = None, exc
                response = in_flight.result()
                in_flight = None
                report.requests += 1
                answered = {r.op_id for r in response.results}
                complete = all(e.op_id in answered for e in entries[0])
                if following is not None and complete:
                    in_flight = send(following)
                done = apply_push_results(store, entries[0], response, report)
                if done == 0:
                    raise ServerRefused(
                        "Server tidak memberi hasil untuk perubahan yang dikirim.",
                        f"push of {len(entries[0])} ops returned no matching results",
                    )
                if read_ahead is not None:
                    raise read_ahead
                if not complete or following is None:
                    # Ops the answer left out go again, first, before anything newer; or
                    # entries written while the last batch was on its way go now. Every
                    # entry not settled is still in the outbox: read from its start (an
                    # emptied table may hand out small seq numbers again).
                    following = next_batch(0)
                if following is None:
                    break
                entries = following
                if in_flight is None:
                    in_flight = send(entries)
        finally:
            if in_flight is not None:
                with contextlib.suppress(Exception):
                    in_flight.result()
    return report


def _next_batch(
    store: Store,
    transport: Transport,
    device_id: str,
    opd_id: str,
    after_seq: int,
    batch_size: int,
) -> tuple[list[PendingOp], bytes] | None:
    """The oldest `batch_size` entries after `after_seq` and their push request as JSON
    (a sync.protocol.PushRequest; see outbox.op_fields). Fields added after protocol 1
    go only to a server that named their feature (asked first when it has not spoken)."""
    with store.read() as session:
        entries = oldest(session, batch_size, after_seq=after_seq)
    if not entries:
        return None
    if not transport.features_heard and any(_names_added_field(e) for e in entries):
        learn_features(transport)
    withheld = withheld_fields(transport.server_features)
    ops = [op_fields(e, device_id, opd_id, withheld) for e in entries]
    try:
        # (Rust) a quarter of json.dumps' time; NaN is not JSON: null, as pydantic would.
        body = pydantic_core.to_json({"ops": ops}, inf_nan_mode="null")
    except pydantic_core.PydanticSerializationError as exc:
        raise LocalFailure(
            "Antrean perubahan lokal memuat entri yang rusak; hubungi admin.", str(exc)[:300]
        ) from exc
    return entries, body


def withheld_fields(server_features: frozenset[str]) -> dict[str, frozenset[str]]:
    """By table, the added fields (sync.protocol.ADDED_FIELDS) a server offering
    `server_features` does not know: left out of the ops sent to it."""
    out = {}
    for table, fields in ADDED_FIELDS.items():
        unknown = frozenset(name for name, token in fields.items() if token not in server_features)
        if unknown:
            out[table] = unknown
    return out


def _names_added_field(entry: PendingOp) -> bool:
    """The entry sets an added field to something other than its default (the default
    is what a server without the field holds anyway)."""
    added = ADDED_FIELDS.get(entry.table_name)
    if not added or not entry.changes:
        return False
    model_fields = SYNCED_MODELS[entry.table_name].model_fields
    return any(
        name in entry.changes
        and entry.changes[name].get("new")
        != model_fields[name].get_default(call_default_factory=True)
        for name in added
    )


def learn_features(transport: Transport) -> None:
    """Ask the server what it offers before sending what only some servers take: one small
    sealed GET (the epoch; a server older than epochs answers 404 and offers nothing)."""
    try:
        transport.sealed("GET", EPOCH_PATH, None, ServerEpoch)
    except SyncError as exc:
        if exc.status != 404:
            raise
    transport.features_heard = True


def apply_push_results(
    store: Store, entries: list[PendingOp], response: PushResponse, report: PushReport
) -> int:
    """Apply one push answer in one transaction; returns how many entries it settled."""
    results = {r.op_id: r for r in response.results}
    settled = [e for e in entries if e.op_id in results]
    with store.apply_remote() as session:
        done_ids = {e.op_id for e in settled}
        states: list[ServerState] = []
        for entry in settled:
            result = results[entry.op_id]
            report.pushed += 1
            if result.outcome == "refused":
                report.refused += 1
                _note_refusal(session, entry, result, report)
                continue
            if result.outcome == "conflict":
                report.conflicts += len(result.conflicts)
                record_conflicts(session, result.conflicts)
            elif result.outcome == "merged":
                report.merged += 1
            else:
                report.applied += 1
            if result.record is not None and result.version is not None:
                states.append(
                    ServerState(entry.table_name, entry.record_id, result.version, result.record)
                )
        done = list(done_ids)
        for start in range(0, len(done), 500):
            session.execute(
                delete(OutboxEntry).where(col(OutboxEntry.op_id).in_(done[start : start + 500]))
            )
        # Kept a while: a server restored from an older backup gets them again.
        remember_acknowledged(
            session, [e for e in settled if results[e.op_id].outcome != "refused"], time.time()
        )
        apply_server_states(session, store, states, ignore_pending=done_ids)
        _revert_refused(session, [e for e in settled if results[e.op_id].outcome == "refused"])
    return len(settled)


def _note_refusal(session: Session, entry: PendingOp, result: OpResult, report: PushReport) -> None:
    reason = result.reason or "ditolak server"
    report.refusals.append(reason)
    # Names of fields only: values may be personal data and never go to the log.
    log.warning(
        "perubahan ditolak server: %s %s (%s): %s",
        entry.table_name,
        entry.record_id,
        ", ".join(sorted(entry.changes or {})) or "hapus",
        reason,
    )
    try:
        kept: list[dict[str, Any]] = json.loads(get_meta(session, "refused", "[]"))
    except ValueError:
        kept = []
    kept.append(
        {
            "op_id": entry.op_id,
            "table": entry.table_name,
            "record_id": entry.record_id,
            "fields": sorted(entry.changes or {}),
            "changes": entry.changes,
            "reason": reason,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    set_meta(session, "refused", json.dumps(kept[-_REFUSED_KEPT:]))


def _revert_refused(session: Session, refused: list[PendingOp]) -> None:
    """Put refused fields back to their base value where nothing newer is pending, so the
    local row agrees with the server again (the refused values stay in meta "refused")."""
    if not refused:
        return
    pending = pending_fields(session, [e.record_id for e in refused])
    for entry in refused:
        model = SYNCED_MODELS.get(entry.table_name)
        if model is None or entry.base_version == 0:
            continue  # a refused create stays local (version 0) and is reported
        row = session.get(model, entry.record_id)
        if row is None:
            continue
        keep = pending.get(entry.record_id, set())
        for name, change in (entry.changes or {}).items():
            if name in keep or name not in model.model_fields:
                continue
            try:
                setattr(row, name, from_wire(entry.table_name, name, change.get("base")))
            except ServerRefused:
                continue
        if entry.deleted is not None and "deleted" not in keep:
            row.deleted = not entry.deleted
        session.add(row)
    # A refused resolution decided nothing: its conflicts wait for a person again, as
    # they do on the server and on every other device.
    for entry in refused:
        for conflict_id in entry.resolves or []:
            conflict = session.get(Conflict, conflict_id)
            if conflict is not None and conflict.resolved:
                conflict.resolved = False
                conflict.resolution = None
                session.add(conflict)

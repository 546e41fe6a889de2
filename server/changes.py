"""Pull: the records a device may see, changed after a sequence number, in sequence order.

Each record appears once, at the sequence of its latest change, with the conflicts on it
that were announced (created or resolved) after `since`, so every device both learns of a
conflict and clears it once someone resolved it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import and_, bindparam, select

from server.auth import Caller
from server.db import Database
from server.models import Base
from server.records import StoredRecord, conflict_info, device_names, record_wire
from sync.protocol import Change, ChangesPage, ConflictInfo

_RECORD = Base.metadata.tables["record"]
_CHANGE_LOG = Base.metadata.tables["change_log"]
_CONFLICT = Base.metadata.tables["conflict"]
_PAGE = (
    select(_CHANGE_LOG.c.seq, *_RECORD.c)
    .join(
        _RECORD,
        and_(
            _RECORD.c.table_name == _CHANGE_LOG.c.table_name,
            _RECORD.c.record_id == _CHANGE_LOG.c.record_id,
        ),
    )
    .where(_CHANGE_LOG.c.seq > bindparam("since"))
    .order_by(_CHANGE_LOG.c.seq)
    .limit(bindparam("limit"))
)
_PAGE_ALL = _PAGE
_PAGE_OPD = _PAGE.where(_CHANGE_LOG.c.opd_id == bindparam("opd"))


_CONFLICTS = (
    select(_CONFLICT)
    .where(_CONFLICT.c.record_id.in_(bindparam("ids", expanding=True)))
    .where(_CONFLICT.c.seq > bindparam("since"))
    .order_by(_CONFLICT.c.created_at)
)


# A pull page holds changes up to about this many bytes of JSON (before compression), so a
# page is neither a trickle of round trips nor a long transfer to lose to a cut: ~200 KB
# of zstd on the wire, under a second at 2 Mbit/s (PROTOCOL.md §9).
PAGE_BYTES = 2 * 1024 * 1024


def changes_since(db: Database, caller: Caller, since: int, limit: int) -> ChangesPage:
    """One page of changes after `since` (at most `limit`), in one read snapshot."""
    return ChangesPage.model_validate_json(changes_json(db, caller, since, limit, None))


def changes_json(
    db: Database, caller: Caller, since: int, limit: int, max_bytes: int | None = PAGE_BYTES
) -> bytes:
    """The JSON of one `ChangesPage` after `since`: at most `limit` changes and, when
    `max_bytes` is set, no more than fit in that many bytes (always at least one). Each
    change is serialised once, to measure it and to send it."""
    query = _PAGE_ALL if caller.is_verifier else _PAGE_OPD
    params = {"since": since, "limit": limit + 1, "opd": caller.opd_kode}
    serialise = Change.__pydantic_serializer__.to_json
    with db.read() as session:
        conn = session.connection()
        kept: list[tuple[Change, bytes]] = []
        size = 0
        has_more = False
        for row in conn.execute(query, params):
            if len(kept) == limit:
                has_more = True
                break
            values = dict(row._mapping)
            seq = int(values.pop("seq"))
            record = StoredRecord(**values)
            change = Change.model_construct(  # the server's own stored values: no re-validation
                seq=seq,
                table=record.table_name,
                record_id=record.record_id,
                opd_id=record.opd_id,
                version=record.version,
                deleted=record.deleted,
                record=record_wire(record),
                conflicts=[],
            )
            raw = serialise(change)
            if max_bytes is not None and kept and size + len(raw) + 1 > max_bytes:
                has_more = True
                break
            kept.append((change, raw))
            size += len(raw) + 1
        found: list[dict[str, Any]] = []
        ids = [change.record_id for change, _ in kept]
        for start in range(0, len(ids), 500):
            for conflict in conn.execute(
                _CONFLICTS, {"ids": ids[start : start + 500], "since": since}
            ):
                found.append(dict(conflict._mapping))
        names = device_names(conn, (v[k] for v in found for k in ("mine_by", "theirs_by")))
        conflicts: dict[tuple[str, str], list[ConflictInfo]] = defaultdict(list)
        for values in found:
            key = (values["table_name"], values["record_id"])
            conflicts[key].append(conflict_info(values, names))
    parts = []
    for change, raw in kept:
        on_record = conflicts.get((change.table, change.record_id))
        if on_record:  # rare: serialise again with its conflicts
            raw = serialise(change.model_copy(update={"conflicts": on_record}))
        parts.append(raw)
    next_since = kept[-1][0].seq if kept else since
    # Field order and spelling as ChangesPage.model_dump_json writes them.
    return b"".join(
        (
            b'{"changes":[',
            b",".join(parts),
            b'],"next_since":%d,"has_more":%s}' % (next_since, b"true" if has_more else b"false"),
        )
    )

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


def changes_since(db: Database, caller: Caller, since: int, limit: int) -> ChangesPage:
    """One page of changes after `since` (at most `limit`), in one read snapshot."""
    query = _PAGE_ALL if caller.is_verifier else _PAGE_OPD
    params = {"since": since, "limit": limit + 1, "opd": caller.opd_kode}
    with db.read() as session:
        conn = session.connection()
        rows: list[tuple[int, StoredRecord]] = []
        for row in conn.execute(query, params):
            values = dict(row._mapping)
            seq = int(values.pop("seq"))
            rows.append((seq, StoredRecord(**values)))
        has_more = len(rows) > limit
        rows = rows[:limit]
        found: list[dict[str, Any]] = []
        ids = [record.record_id for _, record in rows]
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
    changes = []
    for seq, record in rows:
        changes.append(
            Change.model_construct(  # the server's own stored values: no re-validation
                seq=seq,
                table=record.table_name,
                record_id=record.record_id,
                opd_id=record.opd_id,
                version=record.version,
                deleted=record.deleted,
                record=record_wire(record),
                conflicts=conflicts.get((record.table_name, record.record_id), []),
            )
        )
    next_since = changes[-1].seq if changes else since
    return ChangesPage(changes=changes, next_since=next_since, has_more=has_more)

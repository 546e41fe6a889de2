"""Carrying on after the BKD server was restored from a backup (PROTOCOL.md 9).

Every server answer carries `Berkas-Epoch`; a restore gives the server a new epoch. When a
device sees a new epoch, confirmed through the sealed GET /v1/sync/epoch, the server may
lack what it acknowledged after the backup was taken. So, in one local transaction:

- every acknowledged op still kept in `outbox_history` goes back into the outbox, ahead
  of the pending entries, in the order the server first acknowledged them (ops the server
  still holds are answered from its op log with their first result: nothing is applied
  twice);
- the pull starts again from sequence 0 in "resync" mode: the server's state of every
  record is taken (not only newer versions), so records the restored server holds at an
  older version converge to it, and the device's own re-sent ops bring them forward again;
- documents the restored server no longer lists go back to the upload queue.

History is kept HISTORY_KEEP_DAYS: a restore from a backup older than that cannot be
healed by the devices (the README tells the admin to keep backups more often than that).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Final

from sqlalchemy import delete, insert, select, update
from sqlmodel import Session, col

from store.database import Store, get_meta, set_meta
from store.models import Blob, OutboxEntry, OutboxHistory
from sync.engine.errors import SyncError
from sync.engine.outbox import PendingOp
from sync.engine.pull import LAST_SEQ, RESYNC_META
from sync.engine.transport import Transport
from sync.protocol import ServerEpoch

log = logging.getLogger(__name__)

EPOCH_PATH: Final = "/v1/sync/epoch"
EPOCH_META: Final = "server_epoch"
HISTORY_KEEP_DAYS: Final = 60
# The refusal of a push sent with an epoch the server no longer has (PROTOCOL.md 9).
EPOCH_CHANGED: Final = "epoch_berubah"

_HISTORY = OutboxHistory.__table__  # type: ignore[attr-defined]
_OUTBOX = OutboxEntry.__table__  # type: ignore[attr-defined]
_OP_COLUMNS: Final = (
    "op_id",
    "table_name",
    "record_id",
    "opd_id",
    "base_version",
    "changes",
    "deleted",
    "resolves",
    "hlc",
)


def remember_acknowledged(session: Session, entries: Iterable[PendingOp], now: float) -> None:
    """Keep the ops the server just acknowledged (same transaction that drops them from the
    outbox) and forget those older than HISTORY_KEEP_DAYS."""
    rows = [
        {
            "op_id": e.op_id,
            "table_name": e.table_name,
            "record_id": e.record_id,
            "opd_id": e.opd_id,
            "base_version": e.base_version,
            "changes": e.changes,
            "deleted": e.deleted,
            "resolves": list(e.resolves),
            "hlc": e.hlc,
            "acked_at": now,
        }
        for e in entries
    ]
    if rows:
        session.execute(insert(_HISTORY).prefix_with("OR IGNORE"), rows)
    session.execute(delete(_HISTORY).where(_HISTORY.c.acked_at < now - HISTORY_KEEP_DAYS * 86400))


def changed_epoch(store: Store, transport: Transport) -> str | None:
    """After answers came: the new epoch if the server's header changed and the sealed
    endpoint confirms it, else None. The first epoch a device sees is just remembered."""
    seen = transport.epoch_seen
    if not seen or seen == store.get_meta(EPOCH_META, ""):
        return None
    return confirm_epoch(store, transport)


def confirm_epoch(store: Store, transport: Transport) -> str | None:
    """The epoch from the sealed endpoint when it differs from the one kept (the first
    one is only kept); None when it does not."""
    try:
        epoch = transport.sealed("GET", EPOCH_PATH, None, ServerEpoch).epoch
    except SyncError as exc:
        if exc.status == 404:  # a server older than epochs
            return None
        raise
    known = store.get_meta(EPOCH_META, "")
    if not known:
        store.set_meta(EPOCH_META, epoch)
        return None
    return None if epoch == known else epoch


def recover(store: Store, epoch: str, server_files: set[str] | None) -> int:
    """Send acknowledged ops again, pull everything again, upload missing documents again.
    Returns how many ops went back into the outbox."""
    with store.apply_remote() as session:
        pending = [
            dict(row._mapping) for row in session.execute(select(_OUTBOX).order_by(_OUTBOX.c.seq))
        ]
        pending_ids = {row["op_id"] for row in pending}
        history = [
            dict(row._mapping)
            for row in session.execute(select(_HISTORY).order_by(_HISTORY.c.id))
            if row.op_id not in pending_ids
        ]
        rows: list[dict[str, Any]] = []
        for seq, row in enumerate([*history, *pending], start=1):
            values = {name: row[name] for name in _OP_COLUMNS}
            rows.append(
                {
                    **values,
                    "seq": seq,
                    "attempts": row.get("attempts", 0),
                    "last_error": row.get("last_error", ""),
                }
            )
        session.execute(delete(_OUTBOX))
        if rows:
            session.execute(insert(_OUTBOX), rows)
        session.execute(delete(_HISTORY))
        set_meta(session, LAST_SEQ, "0")
        set_meta(session, RESYNC_META, "1")
        set_meta(session, EPOCH_META, epoch)
        reuploads = 0
        if server_files is not None:
            uploaded = session.execute(
                select(col(Blob.sha256)).where(col(Blob.uploaded).is_(True))
            ).scalars()
            missing = [sha for sha in uploaded if sha not in server_files]
            for start in range(0, len(missing), 500):
                session.execute(
                    update(Blob)
                    .where(col(Blob.sha256).in_(missing[start : start + 500]))
                    .values(uploaded=False, upload_url="", upload_offset=0)
                )
            reuploads = len(missing)
    log.warning(
        "server BKD dipulihkan dari cadangan: %d perubahan dikirim ulang, %d dokumen "
        "diunggah ulang, semua rekaman ditarik ulang",
        len(history),
        reuploads,
    )
    return len(history)


def _resync_pending(session: Session) -> bool:
    return get_meta(session, RESYNC_META, "") == "1"

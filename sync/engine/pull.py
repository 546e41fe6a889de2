"""Pull: pages of changes since the last sequence (the server sizes them by bytes), each
page applied in one transaction together with its `next_since`, so a cut or a crash
between pages loses nothing and a page is never half applied. Records with pending local
edits are merged (merge.py).

The server lists each record once, at the sequence of its latest change, so a child (an
usulan) can come a page before its parent (a pegawai edited later). Such a page is held and
applied together with the following pages, in one transaction and with the last of their
sequences, once every parent is at hand; inside it rows go parents first.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

from sqlmodel import Session, col, select

from store.database import Store, get_meta, set_meta
from store.models import SYNCED_MODELS
from sync.compression import PAGE_BYTES
from sync.engine.conflicts import record_conflicts
from sync.engine.errors import ServerRefused
from sync.engine.merge import ServerState, apply_server_states
from sync.engine.transport import Transport
from sync.protocol import LEGACY_PAGE_LIMIT, MAX_PAGE_LIMIT, Change, ChangesPage

_CHANGES_PATH = "/v1/sync/changes"
LAST_SEQ = "last_seq"
# "1" while a pull after a server restore takes every record as the server holds it.
RESYNC_META = "resync"
_TABLE_ORDER = {"pegawai": 0, "usulan": 1, "dokumen": 2, "usulan_history": 3}


@dataclass
class PullReport:
    pages: int = 0
    changes: int = 0
    written: int = 0
    conflicts: int = 0
    last_seq: int = 0
    requests: int = 0


def last_seq(store: Store) -> int:
    value = store.get_meta(LAST_SEQ, "0")
    return int(value) if value.isdigit() else 0


@cache
def _parents(table: str) -> tuple[tuple[str, str], ...]:
    """(column, parent table) of each foreign key of a synced table."""
    model = SYNCED_MODELS[table]
    out = []
    for fk in model.__table__.foreign_keys:  # type: ignore[attr-defined]
        out.append((fk.parent.name, fk.column.table.name))
    return tuple(out)


def _orphans(session: Session, changes: list[Change]) -> bool:
    """True when some change names a parent neither in `changes` nor stored locally."""
    present = {(c.table, c.record_id) for c in changes}
    wanted: dict[str, set[str]] = {}
    for change in changes:
        for column, parent in _parents(change.table):
            parent_id = change.record.get(column)
            if isinstance(parent_id, str) and (parent, parent_id) not in present:
                wanted.setdefault(parent, set()).add(parent_id)
    for parent, ids in wanted.items():
        model = SYNCED_MODELS[parent]
        found: set[str] = set()
        id_list = list(ids)
        for start in range(0, len(id_list), 500):
            found.update(
                session.exec(
                    select(model.id).where(col(model.id).in_(id_list[start : start + 500]))
                )
            )
        if ids - found:
            return True
    return False


def pull_changes(store: Store, transport: Transport, *, limit: int = MAX_PAGE_LIMIT) -> PullReport:
    """Pull and apply every page since the last sequence.

    The next page is asked for (one request in flight) while this one is applied: pages are
    read by sequence, so the request needs only this page's `next_since`. A page fetched
    ahead but not applied (an error, a crash) is simply asked for again next time.
    """
    report = PullReport(last_seq=last_seq(store))
    since = report.last_seq
    held: list[Change] = []

    def fetch(since: int) -> ChangesPage:
        # A server sizing pages by bytes is given room to fill them; one without the
        # feature refuses a limit past LEGACY_PAGE_LIMIT (PROTOCOL.md §7.1).
        wanted = limit if PAGE_BYTES in transport.server_features else min(limit, LEGACY_PAGE_LIMIT)
        return transport.sealed(
            "GET", _CHANGES_PATH, None, ChangesPage, params={"since": since, "limit": wanted}
        )

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="berkas-pull") as pool:
        in_flight: Future[ChangesPage] | None = pool.submit(fetch, since)
        try:
            while in_flight is not None:
                page = in_flight.result()
                in_flight = None
                report.pages += 1
                report.requests += 1
                if page.next_since < since:
                    raise ServerRefused(
                        "Server mengirim urutan perubahan yang mundur.",
                        f"next_since {page.next_since} < since {since}",
                    )
                held.extend(page.changes)
                since = page.next_since
                more = page.has_more and bool(page.changes)
                if more:
                    in_flight = pool.submit(fetch, since)
                    with store.read() as session:
                        if _orphans(session, held):
                            continue  # wait for the parents in the next page(s)
                _apply(store, held, since, report, final=not more)
                held = []
        finally:
            if in_flight is not None:
                with contextlib.suppress(Exception):
                    in_flight.result()
    return report


def _apply(
    store: Store, changes: list[Change], next_since: int, report: PullReport, *, final: bool
) -> None:
    ordered = sorted(changes, key=lambda c: (_TABLE_ORDER.get(c.table, 9), c.seq))
    with store.apply_remote() as session:
        # After a server restore the whole pull takes the server's state of every record
        # (sync.engine.server_restore); the last page ends that mode.
        resync = get_meta(session, RESYNC_META, "") == "1"
        # Parents may still follow a child inside this batch: check keys at commit.
        session.connection().exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        states = [
            ServerState(c.table, c.record_id, c.version, {**c.record, "deleted": c.deleted})
            for c in ordered
        ]
        report.written += apply_server_states(session, store, states, resync=resync)
        for change in ordered:
            if change.conflicts:
                report.conflicts += record_conflicts(session, change.conflicts)
        set_meta(session, LAST_SEQ, str(next_since))
        if resync and final:
            set_meta(session, RESYNC_META, "")
    report.changes += len(changes)
    report.last_seq = next_since

"""Sinkronisasi: where the link to the BKD stands, in one place. `status_of` builds the
one `SyncStatus` that `berkas status` prints and the TUI shows (through its sync port),
from what the engine left in the store; the service adds the refused files a person
may retry or drop."""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import col, func, select

from client._core import ClientCore, usulan_label
from client.paths import Paths
from client.views import RefusedUploadView, SyncStatus, UploadView
from store import usulan as wf
from store.database import Store
from store.models import Conflict, Dokumen, InboxItem, OutboxEntry, Pegawai, Usulan
from store.rules import dokumen_kinds
from store.usulan import refused_uploads, retry_upload, unsent_blobs

if TYPE_CHECKING:
    from sync.engine import ServerFacts

_REFUSED_KEYS = ("table", "record_id", "fields", "reason", "at")


def enrolment(paths: Paths) -> ServerFacts | None:
    """What `berkas enrol` saved of the server, or None: this device is not enrolled
    (an unreadable record counts as not enrolled; enrol again)."""
    from sync.engine import (
        Keyring,
        SyncError,  # the engine loads when sync is asked about
    )

    try:
        return Keyring(paths.keys).facts()
    except SyncError:
        return None


def _link_state(store: Store, *, enrolled: bool) -> tuple[str, str]:
    """(state, label): the engine's view of the server as it left it in meta "state"."""
    from sync.engine import STATE_LABELS, LinkState

    state = store.get_meta("state") or LinkState.ONLINE.value
    if not enrolled:
        state = LinkState.BELUM_TERDAFTAR.value
    try:
        return state, STATE_LABELS[LinkState(state)]
    except ValueError:
        return state, state


def _refused_changes(store: Store) -> list[dict[str, Any]]:
    """The server's reasons for the latest refused changes (meta "refused")."""
    try:
        refused = json.loads(store.get_meta("refused", "[]"))
    except ValueError:
        return []
    return [r for r in refused if isinstance(r, dict)]


def lock_holder(paths: Paths) -> tuple[str, bool]:
    """Who syncs this store right now: (description, True if it is this process), or
    ("", False) when nobody does."""
    from sync.engine import current_holder, describe_holder, read_holder

    # A released lock leaves its file empty: only then skip asking the OS, so an idle
    # poll never holds the lock for an instant while the scheduler wants it.
    if read_holder(paths.sync_lock) is None:
        return "", False
    holder = current_holder(paths.sync_lock)
    if holder is None:
        return "", False
    ours = holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname()
    return describe_holder(holder), ours


def _server_reachable(url: str, timeout_s: float = 3.0) -> bool:
    """Does the server answer its health check now (no signature, nothing sent)?"""
    import httpx

    try:
        return httpx.get(f"{url.rstrip('/')}/healthz", timeout=timeout_s).status_code == 200
    except httpx.HTTPError:
        return False


def status_of(paths: Paths, store: Store, *, check_server: bool = False) -> SyncStatus:
    """Where sync stands, from what the engine left in the store; with `check_server`,
    the link as it is now: the stored state is only the last sync's, and "terhubung"
    must not be said of a server that has since gone down."""
    from sync.engine import (
        STATE_LABELS,
        Keyring,
        LinkState,
        SyncError,
        pending_count,
        pending_upload_count,
    )

    facts = enrolment(paths)
    state, label = _link_state(store, enrolled=facts is not None)
    online = facts is not None and state == LinkState.ONLINE.value
    if check_server and online and facts and not _server_reachable(facts.server_url):
        state, label = LinkState.OFFLINE.value, STATE_LABELS[LinkState.OFFLINE]
    try:
        opd_key = Keyring(paths.keys).opd_key() is not None
    except SyncError:
        opd_key = False
    holder, ours = lock_holder(paths)
    refused = _refused_changes(store)
    last_error = store.get_meta("last_error")
    errors = [*([last_error] if last_error else []), *_push_errors(store)]
    errors += [f"Ditolak server: {r.get('reason')}" for r in refused[-5:] if r.get("reason")]
    return SyncStatus(
        enrolled=facts is not None,
        server_url=facts.server_url if facts else store.get_meta("server_url"),
        state=state,
        state_label=label,
        last_sync=_last_sync(store),
        last_error=last_error,
        pending_ops=pending_count(store),
        pending_uploads=pending_upload_count(store),
        conflicts=_open_conflicts(store),
        online=None if facts is None else state == LinkState.ONLINE.value,
        opd_kode=facts.opd_kode if facts else store.context.opd_id,
        device_id=facts.device_id if facts else "",
        role=facts.role if facts else "",
        opd_key_held=opd_key,
        lock_holder=holder,
        syncing=ours,
        refused=[{k: r.get(k) for k in _REFUSED_KEYS} for r in refused],
        uploads=_upload_views(store),
        recent_errors=errors[:6],
    )


def _upload_views(store: Store, limit: int = 200) -> list[UploadView]:
    """Stored documents the server has not received whole, oldest first."""
    with store.read() as session:
        unsent, withdrawn = unsent_blobs(session)
        aside = withdrawn | set(refused_uploads(session))
        blobs = [b for b in unsent if b.sha256 not in aside][:limit]
        views = []
        for b in blobs:
            dok = select(Dokumen.nama_file).where(Dokumen.sha256 == b.sha256)
            inbox = select(InboxItem.original_name).where(InboxItem.sha256 == b.sha256)
            name = session.exec(dok.limit(1)).first() or session.exec(inbox.limit(1)).first()
            views.append(
                UploadView(
                    sha256=b.sha256,
                    name=name or f"dokumen {b.sha256[:12]}",
                    sent=b.upload_offset,
                    total=b.cipher_size or b.size,
                )
            )
        return views


def _push_errors(store: Store, limit: int = 5) -> list[str]:
    """The latest reasons pushes failed, as the sync engine recorded them."""
    with store.read() as session:
        rows = session.exec(
            select(OutboxEntry.last_error, OutboxEntry.attempts)
            .where(OutboxEntry.last_error != "")
            .order_by(col(OutboxEntry.seq).desc())
            .limit(limit)
        )
        return [f"{error} (dicoba {attempts} kali)" for error, attempts in rows]


def _open_conflicts(store: Store) -> int:
    with store.read() as session:
        stmt = select(func.count()).select_from(Conflict)
        return int(session.exec(stmt.where(col(Conflict.resolved).is_(False))).one())


def _last_sync(store: Store) -> datetime | None:
    """When the last sync finished (the sync engine writes meta `last_sync`)."""
    value = store.get_meta("last_sync")
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


class SinkronisasiService(ClientCore):
    """Sync facts as the engine left them in the store."""

    def sync_status(self) -> SyncStatus:
        """Where sync stands, as the engine left it in this store."""
        return status_of(self.paths, self.store)

    def pending_uploads(self, limit: int = 200) -> list[UploadView]:
        """Stored documents the server has not received whole, oldest first."""
        return _upload_views(self.store, limit)

    def refused_uploads(self) -> list[RefusedUploadView]:
        """Files the server refused, each with its usulan and dokumen (to drop or retry);
        the link itself is fine, other files go on."""
        kinds = dokumen_kinds(self.rules)
        views = []
        with self.store.read() as session:
            for sha, reason in sorted(refused_uploads(session).items()):
                dok = session.exec(
                    select(Dokumen)
                    .where(Dokumen.sha256 == sha)
                    .where(col(Dokumen.deleted).is_(False))
                ).first()
                u = session.get(Usulan, dok.usulan_id) if dok else None
                p = session.get(Pegawai, u.pegawai_id) if u else None
                kind = kinds.get(dok.kode) if dok else None
                views.append(
                    RefusedUploadView(
                        sha256=sha,
                        reason=reason,
                        dokumen_id=dok.id if dok else "",
                        dokumen=kind.nama if kind else (dok.nama_file if dok else sha[:12]),
                        usulan_id=u.id if u else "",
                        usulan=(
                            f"Usulan {usulan_label(u, self.rules)} — {p.nama if p else u.nip}"
                            if u
                            else "-"
                        ),
                    )
                )
        return views

    def retry_refused_upload(self, sha256: str) -> None:
        """Try a refused file again at the next sync (e.g. after the BKD raised a limit)."""
        with self.store.apply_remote() as session:
            retry_upload(session, sha256)

    def drop_refused_upload(self, sha256: str) -> None:
        """Drop a refused file: its dokumen leaves the usulan (a tombstone that syncs; the
        checklist line shows it missing again), so nothing waits for it any more."""
        with self.store.write() as session:
            for dok in session.exec(
                select(Dokumen)
                .where(Dokumen.sha256 == sha256)
                .where(col(Dokumen.deleted).is_(False))
            ):
                wf.remove_dokumen(session, dok)
        with self.store.apply_remote() as session:
            retry_upload(session, sha256)

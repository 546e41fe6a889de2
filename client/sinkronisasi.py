"""Sinkronisasi: what the store records of the link to the BKD (for the TUI's port),
and the two facts `berkas status` shares with it: whether this device is enrolled,
and the link state the engine left in the store."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from client._core import ClientCore, usulan_label
from client.paths import Paths
from client.views import RefusedUploadView, SyncFacts, UploadView
from store import usulan as wf
from store.database import Store
from store.models import Dokumen, InboxItem, OutboxEntry, Pegawai, Usulan
from store.rules import dokumen_kinds
from store.usulan import refused_uploads, retry_upload, unsent_blobs

if TYPE_CHECKING:
    from sync.engine import ServerFacts


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


def link_state(store: Store, *, enrolled: bool) -> tuple[str, str]:
    """(state, label): the engine's view of the server as it left it in meta "state"."""
    from sync.engine import STATE_LABELS, LinkState

    state = store.get_meta("state") or LinkState.ONLINE.value
    if not enrolled:
        state = LinkState.BELUM_TERDAFTAR.value
    try:
        return state, STATE_LABELS[LinkState(state)]
    except ValueError:
        return state, state


def refused_changes(store: Store) -> list[dict[str, Any]]:
    """The server's reasons for the latest refused changes (meta "refused")."""
    try:
        refused = json.loads(store.get_meta("refused", "[]"))
    except ValueError:
        return []
    return [r for r in refused if isinstance(r, dict)]


class SinkronisasiService(ClientCore):
    """Sync facts as the engine left them in the store."""

    def pending_uploads(self, limit: int = 200) -> list[UploadView]:
        """Stored documents the server has not received whole, oldest first."""
        with self.store.read() as session:
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

    def sync_errors(self, limit: int = 5) -> list[str]:
        """The latest reasons pushes failed, as the sync engine recorded them."""
        with self.store.read() as session:
            rows = session.exec(
                select(OutboxEntry.last_error, OutboxEntry.attempts)
                .where(OutboxEntry.last_error != "")
                .order_by(col(OutboxEntry.seq).desc())
                .limit(limit)
            )
            return [f"{error} (dicoba {attempts} kali)" for error, attempts in rows]

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

    def last_sync_at(self) -> datetime | None:
        """When the last sync finished (the sync engine writes meta `last_sync`)."""
        value = self.store.get_meta("last_sync")
        try:
            return datetime.fromisoformat(value) if value else None
        except ValueError:
            return None

    def sync_facts(self) -> SyncFacts:
        """Where the link to the BKD stands, as the sync engine left it in meta."""
        enrolled = enrolment(self.paths) is not None
        state, label = link_state(self.store, enrolled=enrolled)
        refused = refused_changes(self.store)
        return SyncFacts(
            enrolled=enrolled,
            server_url=self.store.get_meta("server_url") or self.config.server_url,
            state=state,
            state_label=label[:1].upper() + label[1:],
            last_sync=self.last_sync_at(),
            last_error=self.store.get_meta("last_error"),
            refused=[str(r.get("reason", "")) for r in refused][-5:],
        )

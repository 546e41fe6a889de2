"""What the TUI needs from the sync engine, as a small typed port.

The Sinkronisasi screen and the header's indicator only read `SyncPort.state()`
and call `sync_now()`. `OfflineSyncPort` answers from the local store alone; the
lead wires the real engine (sync/) behind the same Protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from client.services import BerkasClient


@dataclass(frozen=True)
class UploadProgress:
    """One document on its way to the server."""

    name: str
    sent: int
    total: int


@dataclass(frozen=True)
class SyncStatus:
    """Where sync stands. `online` is None when no server is configured."""

    online: bool | None
    state_label: str
    last_sync: datetime | None
    next_sync: datetime | None
    pending_ops: int
    uploads: list[UploadProgress] = field(default_factory=list)
    recent_errors: list[str] = field(default_factory=list)
    conflicts: int = 0

    @property
    def upload_sent(self) -> int:
        return sum(u.sent for u in self.uploads)

    @property
    def upload_total(self) -> int:
        return sum(u.total for u in self.uploads)


@dataclass(frozen=True)
class SyncOutcome:
    """What `sync_now` did, in words a person reads."""

    ok: bool
    message: str


class SyncPort(Protocol):
    """The sync engine as the TUI sees it. Both calls may block: run them in workers."""

    def state(self) -> SyncStatus: ...

    def sync_now(self) -> SyncOutcome: ...


NOT_REGISTERED = "Belum terdaftar ke server"
OFFLINE = "Luring (mesin sinkronisasi belum berjalan)"


class OfflineSyncPort:
    """A port answering from the local store: pending ops, unfinished uploads and the
    errors the outbox recorded. Without a server address it says so; with one, it
    reports offline until the real engine is wired in."""

    def __init__(self, client: BerkasClient) -> None:
        self._client = client

    def state(self) -> SyncStatus:
        client = self._client
        registered = bool(client.config.server_url)
        return SyncStatus(
            online=False if registered else None,
            state_label=OFFLINE if registered else NOT_REGISTERED,
            last_sync=client.last_sync_at(),
            next_sync=None,
            pending_ops=client.pending_ops(),
            uploads=[
                UploadProgress(name=u.name, sent=u.sent, total=u.total)
                for u in client.pending_uploads()
            ],
            recent_errors=client.sync_errors(),
            conflicts=client.count_conflicts(),
        )

    def sync_now(self) -> SyncOutcome:
        if not self._client.config.server_url:
            return SyncOutcome(
                ok=False,
                message=(
                    "Perangkat ini belum terdaftar ke server BKD, jadi belum bisa "
                    "sinkronisasi. Semua perubahan tetap tersimpan di sini."
                ),
            )
        return SyncOutcome(
            ok=False,
            message="Mesin sinkronisasi belum berjalan di sini; perubahan tetap tersimpan.",
        )


class EngineSyncPort(OfflineSyncPort):
    """The port over the real sync engine (client.sync_service): the link state the
    engine records in the store, and "Sinkronkan sekarang" running one sync under
    the store's sync lock (so the TUI and `berkas agent` never sync at once)."""

    def state(self) -> SyncStatus:
        client = self._client
        facts = client.sync_facts()
        online: bool | None = None
        if facts.enrolled:
            online = facts.state == "online"
        last = facts.last_sync
        errors = [*([facts.last_error] if facts.last_error else []), *client.sync_errors()]
        errors += [f"Ditolak server: {reason}" for reason in facts.refused if reason]
        return SyncStatus(
            online=online,
            state_label=facts.state_label if facts.enrolled else NOT_REGISTERED,
            last_sync=last,
            next_sync=None,  # the TUI runs no scheduler of its own; `berkas agent` may
            pending_ops=client.pending_ops(),
            uploads=[
                UploadProgress(name=u.name, sent=u.sent, total=u.total)
                for u in client.pending_uploads()
            ],
            recent_errors=errors[:6],
            conflicts=client.count_conflicts(),
        )

    def sync_now(self) -> SyncOutcome:
        if not self._client.sync_facts().enrolled:
            return super().sync_now()
        from client.errors import ClientError
        from client.sync_service import sync_once  # heavy (httpx, engine): only when asked

        try:
            report = sync_once(self._client.paths, program="berkas (tampilan terminal)")
        except ClientError as exc:
            return SyncOutcome(ok=False, message=exc.message)
        done = (
            f"{report.push.pushed} perubahan dikirim, {report.pull.changes} diterima, "
            f"{report.uploads.uploaded} dokumen diunggah"
        )
        conflicts = report.push.conflicts + report.pull.conflicts
        if conflicts:
            done += f", {conflicts} konflik baru (lihat F7 Konflik)"
        if report.error is not None:
            return SyncOutcome(ok=False, message=f"Belum selesai: {report.error.message} ({done}).")
        return SyncOutcome(ok=True, message=f"Sinkron: {done}.")

"""What the TUI needs from the sync engine, as a small typed port.

The Sinkronisasi screen and the header's indicator only read `SyncPort.state()`
and call `sync_now()`; the App calls `start()` once the store is open and `stop()`
at exit. `OfflineSyncPort` answers from the local store alone; `EngineSyncPort`
runs the real engine (client.sync_service), in the background if asked to.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the client (SQLAlchemy) and the engine load after the first frame
    from client.port import ClientPort
    from client.sync_service import BackgroundSync


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
    held_by: str = ""  # another process syncing this store now (e.g. `berkas agent`)
    syncing: bool = False  # this process is syncing now
    received: int = 0  # records background syncs have pulled since the start

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

    def start(self) -> None:
        """Begin background sync, if this port does any (blocking: run in a worker)."""

    def stop(self) -> None:
        """End background sync cleanly (at exit)."""


NOT_REGISTERED = "Belum terdaftar ke server"
OFFLINE = "Luring (mesin sinkronisasi belum berjalan)"


class OfflineSyncPort:
    """A port answering from the local store: pending ops, unfinished uploads and the
    errors the outbox recorded. Without a server address it says so; with one, it
    reports offline until the real engine is wired in."""

    def __init__(self, client: ClientPort) -> None:
        self._client = client

    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None

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


PROGRAM = "berkas (tampilan terminal)"


class EngineSyncPort(OfflineSyncPort):
    """The port over the real sync engine (client.sync_service): the link state the
    engine records in the store, and "Sinkronkan sekarang" running one sync under the
    store's sync lock (so the TUI and `berkas agent` never sync at once).

    With `background=True`, start() runs the scheduler `berkas agent` runs, in this
    process, once the device is enrolled; while another process holds the sync lock
    its runs are skipped and state() names that process."""

    def __init__(self, client: ClientPort, *, background: bool = False) -> None:
        super().__init__(client)
        self.background = background
        self._sync: BackgroundSync | None = None
        self._guard = threading.Lock()
        self._stopped = False

    @property
    def background_sync(self) -> BackgroundSync | None:
        """The running scheduler, if started (and not yet stopped)."""
        return self._sync

    def start(self) -> None:
        if not self.background or not self._client.sync_facts().enrolled:
            return
        from client.sync_service import BackgroundSync  # httpx, APScheduler, the engine

        with self._guard:
            if self._sync is None and not self._stopped:
                self._sync = BackgroundSync.start(self._client.paths, program=PROGRAM)

    def stop(self) -> None:
        with self._guard:
            self._stopped = True
            running, self._sync = self._sync, None
        if running is not None:
            running.stop()

    def state(self) -> SyncStatus:
        from client.sync_service import lock_holder

        client = self._client
        facts = client.sync_facts()
        if facts.enrolled and self._sync is None:
            self.start()  # enrolled since the app started (`berkas enrol` elsewhere)
        online: bool | None = None
        if facts.enrolled:
            online = facts.state == "online"
        errors = [*([facts.last_error] if facts.last_error else []), *client.sync_errors()]
        errors += [f"Ditolak server: {reason}" for reason in facts.refused if reason]
        holder, ours = lock_holder(client.paths)
        running = self._sync
        return SyncStatus(
            online=online,
            state_label=facts.state_label if facts.enrolled else NOT_REGISTERED,
            last_sync=facts.last_sync,
            next_sync=running.next_run() if running is not None else None,
            pending_ops=client.pending_ops(),
            uploads=[
                UploadProgress(name=u.name, sent=u.sent, total=u.total)
                for u in client.pending_uploads()
            ],
            recent_errors=errors[:6],
            conflicts=client.count_conflicts(),
            held_by="" if ours else holder,
            syncing=ours,
            received=running.received if running is not None else 0,
        )

    def sync_now(self) -> SyncOutcome:
        if not self._client.sync_facts().enrolled:
            return super().sync_now()
        from client.errors import BerkasError
        from client.sync_service import lock_holder, sync_once  # httpx, engine: when asked

        if lock_holder(self._client.paths)[1]:
            return SyncOutcome(
                ok=True, message="Sinkronisasi latar belakang sedang berjalan; tunggu sebentar."
            )
        try:
            report = sync_once(self._client.paths, program=PROGRAM)
        except BerkasError as exc:
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

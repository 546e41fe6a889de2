"""What the TUI needs from the sync engine, as a small typed port.

The Sinkronisasi screen and the header's indicator only read `SyncPort.state()`
and call `sync_now()`; the App calls `start()` once the store is open and `stop()`
at exit. `OfflineSyncPort` answers from the local store alone; `EngineSyncPort`
runs the real engine (client.sync_service), in the background if asked to.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the client (SQLAlchemy) and the engine load after the first frame
    from client.port import ClientPort
    from client.sync_service import BackgroundSync
    from client.views import SyncStatus


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
        status = self._client.sync_status()
        registered = bool(self._client.config.server_url)
        return dataclasses.replace(
            status,
            online=False if registered else None,
            state_label=OFFLINE if registered else NOT_REGISTERED,
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
        if not self.background or not self._client.sync_status().enrolled:
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
        status = self._client.sync_status()
        if status.enrolled and self._sync is None:
            self.start()  # enrolled since the app started (`berkas enrol` elsewhere)
        running = self._sync
        label = status.state_label
        return dataclasses.replace(
            status,
            state_label=label[:1].upper() + label[1:] if status.enrolled else NOT_REGISTERED,
            next_sync=running.next_run() if running is not None else None,
            received=running.received if running is not None else 0,
        )

    def sync_now(self) -> SyncOutcome:
        if not self._client.sync_status().enrolled:
            return super().sync_now()
        from client.errors import BerkasError
        from client.sinkronisasi import lock_holder
        from client.sync_service import sync_once  # httpx, engine: when asked

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
        # Records pulled may have opened a line a Kotak masuk scan waits for (a BTS).
        from client.intake.filing import refiled_message

        try:
            filed = refiled_message(self._client.refile_waiting())
        except BerkasError as exc:
            filed = f"Kotak masuk belum dapat diproses ulang: {exc.message}"
        filed = f" {filed}" if filed else ""
        if report.error is not None:
            return SyncOutcome(
                ok=False, message=f"Belum selesai: {report.error.message} ({done}).{filed}"
            )
        return SyncOutcome(ok=True, message=f"Sinkron: {done}.{filed}")

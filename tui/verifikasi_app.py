"""The BKD verifikator's workstation: `berkas` on a home enrolled as verifikator opens
this App instead of the OPD screens (see `run_for`).

It asks for the verifier key's passphrase first (masked; held in the service's memory
only), then shows the Antrian. After `verifikator_kunci_menit` minutes without a key
press or a click the key is locked again and the passphrase asked anew.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, ClassVar, cast

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import var

from client.errors import BerkasError
from client.paths import Paths
from tui.messages import WorkerFailed, report_if_failed
from tui.screens.verifikasi_base import KunciDialog
from tui.textual_bahasa import explain_quit, open_palette, screen_commands
from tui.widgets.viewer import PrivateCopies

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.worker import Worker

    from client.verifikasi_port import VerifikasiPort
    from client.views import SyncStatus

log = logging.getLogger(__name__)

UNEXPECTED = (
    "Terjadi kesalahan yang tidak terduga. Rinciannya dicatat di log/tui.log pada folder "
    "data Berkas."
)
IDLE_CHECK_S = 5.0


class VerifikasiApp(App[None]):
    TITLE = "Berkas BKD"
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = True
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # noqa: RUF012
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "bantuan", "Bantuan", show=False),
        Binding("ctrl+l", "kunci", "Kunci", show=False),
        Binding("ctrl+p", "command_palette", "Perintah", show=False, priority=True),
        Binding("ctrl+q", "quit", "Keluar", priority=True),
    ]

    sync_status: var[SyncStatus | None] = var(None, init=False)

    def __init__(
        self,
        service: VerifikasiPort | None = None,
        *,
        paths: Paths | None = None,
        today: date | None = None,
        idle_seconds: float | None = None,
        viewer_mode: str = "halfcell",
        sync_on_unlock: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        if service is None and paths is None:
            raise ValueError("VerifikasiApp needs a service or the paths to open one")
        self._service = service
        self.paths: Paths = service.paths if service is not None else paths  # type: ignore[assignment]
        self.fixed_today = today
        self._idle_seconds = idle_seconds
        self.viewer_mode = viewer_mode
        self.sync_on_unlock = sync_on_unlock
        self.clock = clock
        self.last_activity = clock()
        self.copies = PrivateCopies()
        self.failures: list[WorkerFailed] = []

    @property
    def service(self) -> VerifikasiPort:
        if self._service is None:
            raise RuntimeError("the verifikator service is not open yet")
        return self._service

    @property
    def today(self) -> date:
        return self.fixed_today or date.today()

    @property
    def idle_seconds(self) -> float:
        if self._idle_seconds is not None:
            return self._idle_seconds
        if self._service is not None:
            return self._service.config.verifikator_kunci_menit * 60
        return 15 * 60

    @property
    def header_title(self) -> str:
        operator = self._service.config.operator if self._service is not None else ""
        return " · ".join(p for p in ("Berkas", "Verifikasi BKD", operator) if p)

    def on_mount(self) -> None:
        if self._service is None:
            self._open_service()
        elif self._service.unlocked:  # opened with the key already open (the bench)
            self._unlocked(True)
        else:
            self._ask_passphrase()
        self.set_interval(IDLE_CHECK_S, self.lock_if_idle)

    @work(thread=True, group="open-service", exit_on_error=False)
    def _open_service(self) -> None:
        from client.verifikasi_service import VerifikasiService

        try:
            service = VerifikasiService.open(self.paths)
        except BerkasError as exc:
            message = f"Gagal membuka data Berkas: {exc.message}"
            self.call_from_thread(self.exit, return_code=2, message=message)
            return
        self._service = service
        self.call_from_thread(self._ask_passphrase)

    def _ask_passphrase(self, *, terkunci: bool = False) -> None:
        self.push_screen(KunciDialog(terkunci=terkunci), self._unlocked)

    def _unlocked(self, ok: bool | None) -> None:
        if not ok:
            return
        self.last_activity = self.clock()
        from tui.screens.verifikasi_antrian import AntrianScreen

        if not any(isinstance(s, AntrianScreen) for s in self.screen_stack):
            self.push_screen(AntrianScreen())
        if self.sync_on_unlock:
            self.sinkronkan()

    # -- idle lock ----------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self.last_activity = self.clock()
        await super().on_event(event)

    def lock_if_idle(self) -> None:
        """Lock the verifier key after the idle time (the passphrase is asked again)."""
        if self._service is None or not self._service.unlocked:
            return
        if self.clock() - self.last_activity >= self.idle_seconds:
            self.action_kunci()

    def action_kunci(self) -> None:
        if self._service is None or not self._service.unlocked:
            return
        self._service.lock()
        if not isinstance(self.screen, KunciDialog):
            self._ask_passphrase(terkunci=True)

    # -- help and the command palette, in Bahasa --------------------------------------------

    def action_bantuan(self) -> None:
        from tui.screens.bantuan import BANTUAN_VERIFIKATOR, BantuanScreen

        if not isinstance(self.screen, BantuanScreen | KunciDialog):
            self.push_screen(BantuanScreen(BANTUAN_VERIFIKATOR))

    def action_help_quit(self) -> None:
        explain_quit(cast("App[object]", self))

    def action_command_palette(self) -> None:
        if not isinstance(self.screen, KunciDialog):  # nothing to do before the key is open
            open_palette(cast("App[object]", self))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        from tui.screens.verifikasi_base import VerifikasiScreen

        if isinstance(screen, VerifikasiScreen):
            yield from screen_commands(cast("App[object]", self), screen, screen.SCREEN_TITLE)
        yield SystemCommand(
            "Bantuan", "Penjelasan setiap layar dan tombolnya (F1)", self.action_bantuan
        )
        yield SystemCommand(
            "Kunci sekarang",
            "Tutup kunci verifikator; frasa sandi ditanya lagi (Ctrl+L)",
            self.action_kunci,
        )
        yield SystemCommand(
            "Keluar", "Tutup Berkas; semua keputusan sudah tersimpan", self.action_quit
        )

    # -- sync ---------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="verifikasi-sync", exit_on_error=False)
    def sinkronkan(self) -> None:
        """Sync now, then the shown screen reloads."""
        try:
            report = self.service.sync()
        except BerkasError as exc:
            self.call_from_thread(
                self.notify, exc.message, title="Sinkronisasi gagal", severity="warning"
            )
            return
        self.call_from_thread(self._synced, report.pull.changes)

    def _synced(self, changes: int) -> None:
        reload = getattr(self.screen, "reload", None)
        if callable(reload):
            reload()

    # -- failures that show -------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_if_failed(self, event)

    def on_worker_failed(self, event: WorkerFailed) -> None:
        self.failures.append(event)
        log.error("worker %s gagal: %r", event.worker, event.error, exc_info=event.error)
        error = event.error
        message = error.message if isinstance(error, BerkasError) else UNEXPECTED
        self.notify(message, title="Gagal", severity="error", timeout=15)

    def on_unmount(self) -> None:
        self.copies.cleanup()
        if self._service is not None:
            self._service.lock()


def open_marker(paths: Paths) -> Path:
    """The file a running verifikator TUI keeps locked (`berkas demo` waits on it)."""
    return paths.data / "verifikasi-tui.lock"


def hold_open_marker(paths: Paths) -> IO[bytes]:
    """Lock the open-marker for as long as the returned file stays open (POSIX)."""
    paths.data.mkdir(parents=True, exist_ok=True)
    fh = open_marker(paths).open("ab")
    if os.name == "posix":
        import fcntl

        with contextlib.suppress(OSError):
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fh


def is_open(paths: Paths) -> bool:
    """True while a verifikator TUI runs on the home at `paths`."""
    marker = open_marker(paths)
    if os.name != "posix" or not marker.exists():
        return False
    import fcntl

    with marker.open("ab") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    return False


def run(paths: Paths, *, viewer_mode: str = "auto") -> None:
    """The verifikator's TUI over the home at `paths`."""
    from tui.app import _log_to_file, use_terminal_size
    from tui.widgets.viewer import prepare_image_protocol

    use_terminal_size()
    if viewer_mode == "auto" and not prepare_image_protocol():
        viewer_mode = "halfcell"
    app = VerifikasiApp(paths=paths, viewer_mode=viewer_mode)
    handler = _log_to_file(paths)
    held = hold_open_marker(paths)
    try:
        app.run()
    finally:
        held.close()
        logging.getLogger().removeHandler(handler)
        handler.close()
        app.copies.cleanup()
        if app._service is not None:
            app._service.close()
    if app.return_code:
        raise SystemExit(app.return_code)

"""The Berkas App: the main screens as modes, the header's sync state, navigation,
the command palette, and `run(paths)` which `berkas` (no arguments) calls.

Start-up paints the Beranda first and only then opens the store: the client
(SQLAlchemy, pydantic, the rules) loads in a worker after the first frame, the sync
engine after that, and the Beranda fills in when its data is there.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import logging.handlers
import os
import sys
import threading
from collections.abc import Callable, Iterable
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen
from textual.worker import Worker

from client.errors import BerkasError
from client.paths import Paths
from tui.messages import (
    DataChanged,
    IntakeEventArrived,
    NewUsulan,
    OpenPegawai,
    OpenUsulan,
    ShowPegawaiList,
    ShowUsulan,
    SyncStatusChanged,
    WatchStateChanged,
    WorkerFailed,
    report_if_failed,
)
from tui.screens.base import BerkasScreen
from tui.screens.beranda import BerandaScreen
from tui.sync_port import EngineSyncPort, OfflineSyncPort, SyncPort
from tui.textual_bahasa import explain_quit, open_palette, screen_commands
from tui.widgets.app_header import AppHeader
from tui.widgets.nav_bar import NAV_ITEMS

if TYPE_CHECKING:
    from client.intake import IntakeEvent
    from client.intake_wiring import BackgroundIntake, WatchState
    from client.port import ClientPort
    from client.views import PegawaiView, SetupState, SyncStatus

log = logging.getLogger(__name__)

SYNC_POLL_SECONDS = 3.0
UNEXPECTED = (
    "Terjadi kesalahan yang tidak terduga. Pekerjaan yang sudah tersimpan aman; "
    "rinciannya dicatat di log/tui.log pada folder data Berkas."
)
FIRST_DATA_WAIT_S = 10.0  # background sync starts then even if the Beranda is still busy


def _lazy(module: str, name: str) -> Callable[[], Screen[object]]:
    """A mode's screen, imported when first shown: start-up loads only the Beranda."""

    def make() -> Screen[object]:
        screen: type[Screen[object]] = getattr(importlib.import_module(module), name)
        return screen()

    return make


class BerkasApp(App[None]):
    TITLE = "Berkas"
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = True
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # noqa: RUF012
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]  # noqa: RUF012

    MODES: ClassVar = {
        "beranda": BerandaScreen,
        "pegawai": _lazy("tui.screens.pegawai", "PegawaiScreen"),
        "usulan": _lazy("tui.screens.usulan", "UsulanScreen"),
        "kotak_masuk": _lazy("tui.screens.kotak_masuk", "KotakMasukScreen"),
        "sinkronisasi": _lazy("tui.screens.sinkronisasi", "SinkronisasiScreen"),
        "konflik": _lazy("tui.screens.konflik", "KonflikScreen"),
    }
    DEFAULT_MODE = "beranda"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "bantuan", "Bantuan"),
        *(Binding(key, f"buka('{mode}')", label, show=False) for mode, key, label in NAV_ITEMS),
        Binding("ctrl+p", "command_palette", "Perintah", show=False, priority=True),
        Binding("ctrl+q", "quit", "Keluar", priority=True),
    ]

    def __init__(
        self,
        client: ClientPort | None = None,
        *,
        paths: Paths | None = None,
        today: date | None = None,
        sync_port: SyncPort | None = None,
        background_sync: bool = False,
        background_intake: bool = False,
        poll_seconds: float = SYNC_POLL_SECONDS,
    ) -> None:
        """Over an open `client`, or over the installation at `paths`, opened once the
        first frame is painted. Without a `sync_port` the App makes one when the client
        is open: the real engine (in the background too, with `background_sync`) or,
        for an app over a given client, the local store alone."""
        super().__init__()
        if client is None and paths is None:
            raise ValueError("BerkasApp needs an open client or the paths to open one")
        self._client = client
        self.paths: Paths = client.paths if client is not None else cast("Paths", paths)
        self.fixed_today = today
        self._sync_port = sync_port
        self.background_sync = background_sync
        # The scan watcher runs beside the TUI (one per home: BackgroundIntake's lock).
        self.background_intake = background_intake
        self._intake: BackgroundIntake | None = None
        self._intake_guard = threading.Lock()  # one start or restart of the watcher at a time
        self._refile_guard = threading.Lock()  # one pass over the Kotak masuk at a time
        self.watch_state: WatchState | None = None
        self.poll_seconds = poll_seconds
        self._received = 0
        self._opened = asyncio.Event()
        if client is not None:
            self._opened.set()
        self._first_data = asyncio.Event()
        self.failures: list[WorkerFailed] = []  # every worker that raised, in order
        self.sync_status: SyncStatus | None = None  # the latest, for screens shown later
        self.data_version = 0  # counts writes; a screen reloads when its copy is older

    @property
    def client(self) -> ClientPort:
        """The open installation (screens use it once `opened`)."""
        if self._client is None:
            raise RuntimeError("the Berkas store is not open yet")
        return self._client

    @property
    def opened(self) -> bool:
        return self._client is not None

    async def wait_opened(self) -> None:
        """Return once the store is open (at once, except in the first second)."""
        await self._opened.wait()

    @property
    def sync_port(self) -> SyncPort:
        if self._sync_port is None:
            self._sync_port = (
                EngineSyncPort(self.client, background=self.background_sync)
                if self.background_sync
                else OfflineSyncPort(self.client)
            )
        return self._sync_port

    @property
    def header_title(self) -> str:
        if self._client is None:
            return "Berkas"
        config = self._client.config
        return " · ".join(part for part in ("Berkas", config.opd_kode, config.operator) if part)

    @property
    def today(self) -> date:
        """The date the rules are computed for (fixed in tests and snapshots)."""
        return self.fixed_today or date.today()

    def on_mount(self) -> None:
        if self._client is not None:
            self.call_after_refresh(self._client_opened)  # after the first frame
        else:
            self.call_after_refresh(self._open_client)

    @work(thread=True, group="open-client", exit_on_error=False)
    def _open_client(self) -> None:
        """Open the store (importing the client's modules: most of the start-up time)."""
        from client.services import BerkasClient

        try:
            client = BerkasClient.open(self.paths)
        except BerkasError as exc:
            message = f"Gagal membuka data Berkas: {exc.message}"
            self.call_from_thread(self.exit, return_code=2, message=message)
            return
        if not self.is_running:  # quit before the store was open
            client.close()
            return
        self._client = client
        self.call_from_thread(self._client_opened)

    def _client_opened(self) -> None:
        self._opened.set()
        for screen in self.screen_stack:
            for header in screen.query(AppHeader):
                header.set_app_title(self.header_title)
        if isinstance(self.screen, BerkasScreen):
            self.screen.load_if_stale()
        self._after_first_data()

    def first_data_shown(self) -> None:
        """The first screen shows its data (or gave up): the rest of start-up may run."""
        self._first_data.set()

    @work(group="start-sync", exit_on_error=False)
    async def _after_first_data(self) -> None:
        # The sync engine's imports and first status would share the GIL with the
        # Beranda's dashboard: let the person see the figures first.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._first_data.wait(), FIRST_DATA_WAIT_S)
        await self._offer_setup()
        self.refresh_sync_status()
        self.set_interval(self.poll_seconds, self.refresh_sync_status)
        self._start_sync()
        if self.background_intake:
            self._start_intake()

    # -- persiapan awal: the first run of a new home ---------------------------------------------

    async def _offer_setup(self) -> None:
        """A new home (or a first run left half-way) opens the persiapan awal over the
        Beranda; a home already set up goes straight on."""
        try:
            state = await asyncio.to_thread(self.client.begin_setup)
        except BerkasError as exc:
            self.notify(exc.message, title="Persiapan awal", severity="warning", timeout=10)
            return
        if state is not None:
            await self._show_setup(state)

    async def _show_setup(self, state: SetupState) -> None:
        from tui.screens.persiapan import PersiapanScreen

        if not any(isinstance(screen, PersiapanScreen) for screen in self.screen_stack):
            await self.push_screen(PersiapanScreen(state))

    @work(group="persiapan", exclusive=True, exit_on_error=False)
    async def action_persiapan(self) -> None:
        """Persiapan awal: walk again the steps skipped or not done yet."""
        await self.wait_opened()
        try:
            state = await asyncio.to_thread(self.client.resume_setup)
        except BerkasError as exc:
            self.notify(exc.message, title="Persiapan awal", severity="error", timeout=10)
            return
        if state.current is None:
            self.notify("Persiapan awal sudah selesai.", title="Persiapan awal", timeout=5)
            return
        await self.buka("beranda")
        await self._show_setup(state)

    def setup_finished(self, state: SetupState) -> None:
        """The last step is behind: back to the Beranda, which shows the new figures."""
        from tui.screens.persiapan import PersiapanScreen

        if isinstance(self.screen, PersiapanScreen):
            self.screen.dismiss()
        skipped = [step.title for step in state.steps if step.state == "dilewati"]
        message = "Berkas siap dipakai."
        if skipped:
            message += f" Dilewati: {', '.join(skipped)}; tekan p di Beranda untuk melengkapinya."
        self.notify(message, title="Persiapan awal selesai", timeout=10)
        self.data_changed()

    def enrolled(self) -> None:
        """This device was just enrolled: the header names the OPD and operator, sync
        starts (the port notices), and the scan watcher writes as the enrolled device."""
        for screen in self.screen_stack:
            for header in screen.query(AppHeader):
                header.set_app_title(self.header_title)
        self.refresh_sync_status()
        self.scan_folder_changed()

    def scan_folder_changed(self) -> None:
        """The scan folder (or who writes) changed: the background watcher starts over."""
        if self.background_intake:
            self._restart_intake()

    @work(thread=True, group="intake-restart", exit_on_error=False)
    def _restart_intake(self) -> None:
        with self._intake_guard:
            running, self._intake = self._intake, None
            if running is not None:
                running.stop()
            self._start_intake_now()

    @work(thread=True, group="intake-start", exit_on_error=False)
    def _start_intake(self) -> None:
        with self._intake_guard:
            self._start_intake_now()

    def _start_intake_now(self) -> None:
        """Watch the scan folder while the TUI runs; events come back as messages."""
        from client.intake_wiring import BackgroundIntake

        def on_event(event: IntakeEvent) -> None:
            with contextlib.suppress(RuntimeError):  # the App is closing
                self.call_from_thread(self.post_message, IntakeEventArrived(event))

        def on_state(state: WatchState) -> None:
            with contextlib.suppress(RuntimeError):
                self.call_from_thread(self._show_watch_state, state)

        intake = BackgroundIntake(self.paths, on_event=on_event, on_state=on_state)
        self._intake = intake
        intake.start()

    def on_intake_event_arrived(self, message: IntakeEventArrived) -> None:
        from client.intake import FileProcessed

        if isinstance(message.event, FileProcessed):
            self.data_changed()  # a scan filed or in the Kotak masuk: screens reload

    def _show_watch_state(self, state: WatchState) -> None:
        self.watch_state = state
        for screen in self.screen_stack:
            screen.post_message(WatchStateChanged(state))

    @work(thread=True, group="sync-start", exit_on_error=False)
    def _start_sync(self) -> None:
        """Background sync (the engine: httpx, APScheduler) starts after the data shows."""
        try:
            self.sync_port.start()
        except BerkasError as exc:
            self.call_from_thread(
                self.notify,
                exc.message,
                title="Sinkronisasi latar belakang tidak berjalan",
                severity="warning",
                timeout=10,
            )
            return
        self.call_from_thread(self.refresh_sync_status)

    # -- failures that show ------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_if_failed(self, event)  # the App's own workers; screens forward theirs

    def on_worker_failed(self, event: WorkerFailed) -> None:
        """A worker raised: tell the person in Bahasa and log the cause, so a failed
        load never leaves a screen on "Memuat…" without a word."""
        error = event.error
        self.failures.append(event)
        log.error("worker %s gagal: %r", event.worker, error, exc_info=error)
        message = error.message if isinstance(error, BerkasError) else UNEXPECTED
        self.notify(message, title="Gagal", severity="error", timeout=15)

    async def on_unmount(self) -> None:
        # The document viewer's private copies (if one was opened) go with the app.
        penampil = sys.modules.get("tui.screens.penampil")
        if penampil is not None:
            penampil.copies().cleanup()
        # At exit: the scheduler finishes (or abandons) a run and lets go of the lock.
        if self._sync_port is not None:
            await asyncio.to_thread(self._sync_port.stop)
        if self._intake is not None:
            await asyncio.to_thread(self._intake.stop)

    # -- the sync indicator ------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="sync-status", exit_on_error=False)
    def refresh_sync_status(self) -> None:
        """Ask the port where sync stands (a blocking call: run in a thread)."""
        if not self.opened:
            return
        try:
            status = self.sync_port.state()
        except BerkasError:
            return
        self.call_from_thread(self._show_sync_status, status)

    def _show_sync_status(self, status: SyncStatus) -> None:
        self.sync_status = status
        for screen in self.screen_stack:  # a dialog leaves the header below it in view
            screen.post_message(SyncStatusChanged(status))
        if status.received != self._received:  # background sync brought records
            self._received = status.received
            self.data_changed()
            self.refile_inbox()  # a returned usulan may be what a waiting scan needs

    @work(thread=True, group="refile-inbox", exit_on_error=False)
    def refile_inbox(self) -> None:
        """File the Kotak masuk scans whose usulan line has opened (after a sync pulled
        records, or an usulan was made or changed here), and say so."""
        from client.intake.filing import refiled_message

        if not self.opened:
            return
        with self._refile_guard:
            refiled = self.client.refile_waiting()
        if refiled:
            if self._intake is not None:
                self._intake.refiled(refiled)  # the Beranda's watcher line follows
            message = refiled_message(refiled)
            self.call_from_thread(self.notify, message, title="Kotak masuk", timeout=15)
            self.call_from_thread(self.data_changed)

    @work(group="sync-now", exclusive=True, exit_on_error=False)
    async def action_sinkronkan(self) -> None:
        """Sinkronkan sekarang."""
        await self.wait_opened()
        self.notify("Sinkronisasi dimulai…", timeout=3)
        try:
            outcome = await asyncio.to_thread(self.sync_port.sync_now)
        except BerkasError as exc:
            self.notify(exc.message, title="Sinkronisasi gagal", severity="error", timeout=10)
            return
        self.notify(
            outcome.message,
            title="Sinkronisasi" if outcome.ok else "Belum bisa sinkronisasi",
            severity="information" if outcome.ok else "warning",
            timeout=10,
        )
        self.data_changed()

    def data_changed(self) -> None:
        """Something was written: the screen in view reloads, the others when shown
        again; the header refreshes."""
        self.data_version += 1
        self.screen.post_message(DataChanged(self.data_version))
        self.refresh_sync_status()

    # -- navigation ----------------------------------------------------------------------------

    async def action_buka(self, mode: str) -> None:
        if self.opened:
            await self.buka(mode)
        else:  # a key pressed in the first second: show that screen once the store is open
            self.run_worker(self.buka(mode), group="buka", exclusive=True, exit_on_error=False)

    async def buka(self, mode: str) -> None:
        """Show a main screen at the root of its section: F2 is always the Beranda
        itself, never a pegawai detail left open under it (whose one-letter keys would
        then fire while the person thinks they type on the Beranda)."""
        await self.wait_opened()
        if self.current_mode != mode:
            await self.switch_mode(mode)
        while len(self.screen_stack) > 1:
            top = self.screen
            if isinstance(top, ModalScreen):
                await top.dismiss(None)  # a dialog waiting for an answer gets "no"
            else:
                await self.pop_screen()

    async def _base_of(self, mode: str) -> Screen[object]:
        await self.buka(mode)
        return self.get_screen_stack(mode)[0]

    # Screens ask for these with messages (tui/messages.py); the App passes a list
    # request on to the screen that shows it, which handles it with @on.

    @on(ShowUsulan)
    async def show_usulan(self, request: ShowUsulan) -> None:
        """The usulan list, filtered as asked."""
        screen = await self._base_of("usulan")
        screen.post_message(request)

    @on(ShowPegawaiList)
    async def show_pegawai_list(self, request: ShowPegawaiList) -> None:
        """The Pegawai screen showing a given list (due for KP, for pensiun)."""
        screen = await self._base_of("pegawai")
        screen.post_message(request)

    @on(OpenPegawai)
    def _open_pegawai(self, request: OpenPegawai) -> None:
        self.open_pegawai(request.pegawai_id, request.layanan)

    @on(OpenUsulan)
    def _open_usulan(self, request: OpenUsulan) -> None:
        self.open_usulan(request.usulan_id)

    @on(NewUsulan)
    def _new_usulan_asked(self, request: NewUsulan) -> None:
        self.new_usulan(request.pegawai, request.layanan)

    def open_pegawai(self, pegawai_id: str, layanan: str | None = None) -> None:
        """One pegawai; `layanan` is what a new usulan from there defaults to."""
        from tui.screens.pegawai_detail import PegawaiDetailScreen

        self.push_screen(PegawaiDetailScreen(pegawai_id, layanan))

    def open_usulan(self, usulan_id: str) -> None:
        from tui.screens.usulan_editor import UsulanEditorScreen

        self.push_screen(UsulanEditorScreen(usulan_id))

    def new_usulan(self, pegawai: PegawaiView | None, layanan: str | None) -> None:
        """Ask which pegawai, layanan and jenis, create the draft, open it."""
        self._new_usulan(pegawai, layanan)

    @work(group="dialog-usulan-baru", exit_on_error=False)
    async def _new_usulan(self, pegawai: PegawaiView | None, layanan: str | None) -> None:
        from tui.screens.usulan_baru import UsulanBaruDialog

        await self.wait_opened()
        wanted = await self.push_screen_wait(UsulanBaruDialog(pegawai, layanan))
        if wanted is None:
            return
        if not await self._confirm_another(wanted.pegawai, wanted.layanan):
            return
        from client.errors import BelumLayak

        create = partial(
            self.client.create_usulan,
            wanted.pegawai.id,
            wanted.layanan,
            wanted.jenis,
            today=self.today,
        )
        try:
            try:
                view = await asyncio.to_thread(partial(create, tetap=False))
            except BelumLayak as doubt:
                from tui.screens.konfirmasi import KonfirmasiDialog

                sure = await self.push_screen_wait(
                    KonfirmasiDialog(
                        "Pegawai belum layak menurut aturan",
                        doubt.message + " Tetap buat usulan? Alasannya tercatat di riwayat usulan.",
                        ya="Tetap buat",
                    )
                )
                if not sure:
                    return
                view = await asyncio.to_thread(partial(create, tetap=True))
        except BerkasError as exc:
            self.notify(exc.message, title="Usulan tidak dibuat", severity="error", timeout=10)
            from store.usulan import DuplicateUsulan

            if isinstance(exc, DuplicateUsulan) and exc.cause:
                self.open_usulan(exc.cause)  # the one that already exists
            return
        self.notify(
            f"Usulan untuk {view.nama} dibuat; kurang {view.kurang} dokumen.", title="Tersimpan"
        )
        self.data_changed()
        self.open_usulan(view.id)
        self.refile_inbox()  # scans that waited in the Kotak masuk for this usulan

    async def _confirm_another(self, pegawai: PegawaiView, layanan: str) -> bool:
        """A second open usulan of the same layanan is usually a mistake: ask first."""
        from tui.labels import layanan_label
        from tui.screens.konfirmasi import KonfirmasiDialog

        try:
            open_ones = await asyncio.to_thread(self.client.open_usulan_like, pegawai.id, layanan)
        except BerkasError:
            return True
        if not open_ones:
            return True
        dialog = KonfirmasiDialog(
            "Sudah ada usulan terbuka",
            f"{pegawai.nama} sudah punya usulan {layanan_label(layanan)} yang belum "
            f"diajukan ({open_ones[0].status_label}). Tetap buat usulan baru?",
            ya="Tetap buat",
        )
        sure = await self.push_screen_wait(dialog)
        return bool(sure)

    def action_usulan_baru(self) -> None:
        """Buat usulan baru (from anywhere)."""
        self.new_usulan(None, None)

    def action_bantuan(self) -> None:
        # Imported when first asked for: Markdown costs start-up time nobody needs.
        from tui.screens.bantuan import BantuanScreen

        if not isinstance(self.screen, BantuanScreen):
            self.push_screen(BantuanScreen())

    def action_help_quit(self) -> None:
        explain_quit(cast("App[object]", self))

    def action_command_palette(self) -> None:
        open_palette(cast("App[object]", self))

    # -- the command palette: every action, in Bahasa ------------------------------------------

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        for mode, key, label in NAV_ITEMS:
            yield SystemCommand(
                f"Buka {label}", f"Layar {label} ({key.upper()})", partial(self.buka, mode)
            )
        yield SystemCommand(
            "Buat usulan baru", "Pilih pegawai, layanan dan jenis", self.action_usulan_baru
        )
        yield SystemCommand(
            "Sinkronkan sekarang", "Kirim dan terima perubahan dari BKD", self.action_sinkronkan
        )
        yield SystemCommand(
            "Persiapan awal",
            "Daftar ke BKD, impor pegawai, folder pindai (langkah yang dilewati)",
            self.action_persiapan,
        )
        yield SystemCommand(
            "Bantuan", "Penjelasan setiap layar dan tombolnya (F1)", self.action_bantuan
        )
        yield SystemCommand(
            "Keluar", "Tutup Berkas; semua pekerjaan sudah tersimpan", self.action_quit
        )
        yield from self._screen_commands(screen)

    def _screen_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The current screen's own actions (its footer keys), so each is findable by name."""
        if isinstance(screen, BerkasScreen):
            yield from screen_commands(cast("App[object]", self), screen, screen.SCREEN_TITLE)


def run(paths: Paths, today: date | None = None) -> None:
    """Open the TUI on the installation at `paths` (what `berkas` with no arguments does),
    with background sync when the device is enrolled."""
    use_terminal_size()
    app = BerkasApp(paths=paths, today=today, background_sync=True, background_intake=True)
    handler = _log_to_file(paths)
    try:
        app.run()
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
        if app._sync_port is not None:
            app._sync_port.stop()  # done at unmount already; this covers a crash
        if app._intake is not None:
            app._intake.stop()
        if app._client is not None:
            app._client.close()
    if app.return_code:
        raise SystemExit(app.return_code)


def use_terminal_size() -> None:
    """Size the screen from the terminal itself, not from COLUMNS/LINES.

    Textual measures with `shutil.get_terminal_size`, which trusts COLUMNS and LINES
    before asking the terminal, on start and on every resize. A shell (or a tmux server)
    that exported them, say COLUMNS=80 for a help text, kept a 120x36 window in an
    80-column layout for good. The TUI owns the terminal, so those two go."""
    if sys.stdout.isatty():
        for name in ("COLUMNS", "LINES"):
            os.environ.pop(name, None)


def _log_to_file(paths: Paths) -> logging.Handler:
    """Log lines of this session to HOME/log/tui.log (rotated): the terminal is the UI."""
    paths.logs.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        paths.logs / "tui.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    return handler

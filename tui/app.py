"""The Berkas App: the main screens as modes, the header's sync state, navigation,
the command palette, and `run(paths)` which `berkas` (no arguments) calls."""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Callable, Iterable
from datetime import date
from functools import partial
from typing import ClassVar, cast

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import CommandPalette
from textual.reactive import var
from textual.screen import Screen

from client.errors import ClientError
from client.paths import Paths
from client.services import BerkasClient, PegawaiView
from tui.labels import layanan_label
from tui.screens.base import BerkasScreen
from tui.screens.beranda import BerandaScreen
from tui.sync_port import EngineSyncPort, OfflineSyncPort, SyncPort, SyncStatus
from tui.widgets.nav_bar import NAV_ITEMS

SYNC_POLL_SECONDS = 3.0


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

    sync_status: var[SyncStatus | None] = var(None, init=False)
    data_version: var[int] = var(0, init=False)

    def __init__(
        self,
        client: BerkasClient,
        *,
        today: date | None = None,
        sync_port: SyncPort | None = None,
        poll_seconds: float = SYNC_POLL_SECONDS,
    ) -> None:
        super().__init__()
        self.client = client
        self.fixed_today = today
        self.sync_port: SyncPort = sync_port or OfflineSyncPort(client)
        self.poll_seconds = poll_seconds
        opd = client.config.opd_kode
        operator = client.config.operator
        self.header_title = " · ".join(part for part in ("Berkas", opd, operator) if part)

    @property
    def today(self) -> date:
        """The date the rules are computed for (fixed in tests and snapshots)."""
        return self.fixed_today or date.today()

    def on_mount(self) -> None:
        self.call_after_refresh(self.refresh_sync_status)  # after the first frame
        self.set_interval(self.poll_seconds, self.refresh_sync_status)

    # -- the sync indicator ------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="sync-status", exit_on_error=False)
    def refresh_sync_status(self) -> None:
        """Ask the port where sync stands (a blocking call: run in a thread)."""
        try:
            status = self.sync_port.state()
        except ClientError:
            return
        self.call_from_thread(setattr, self, "sync_status", status)

    @work(group="sync-now", exclusive=True, exit_on_error=False)
    async def action_sinkronkan(self) -> None:
        """Sinkronkan sekarang."""
        self.notify("Sinkronisasi dimulai…", timeout=3)
        try:
            outcome = await asyncio.to_thread(self.sync_port.sync_now)
        except ClientError as exc:
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
        """Something was written: screens reload when shown, the header refreshes."""
        self.data_version += 1
        self.refresh_sync_status()

    # -- navigation ----------------------------------------------------------------------------

    async def action_buka(self, mode: str) -> None:
        await self.buka(mode)

    async def buka(self, mode: str) -> None:
        """Show a main screen (as it was left)."""
        if self.current_mode != mode:
            await self.switch_mode(mode)

    async def _base_of(self, mode: str) -> Screen[object]:
        await self.buka(mode)
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        return self.get_screen_stack(mode)[0]

    async def show_usulan(
        self,
        *,
        layanan: str | None = None,
        status: str | None = None,
        periode: date | None = None,
        belum_lengkap: bool | None = None,
    ) -> None:
        """The usulan list, filtered as asked."""
        from tui.screens.usulan import UsulanScreen

        screen = await self._base_of("usulan")
        if isinstance(screen, UsulanScreen):
            await screen.apply_filter(
                layanan=layanan, status=status, periode=periode, belum_lengkap=belum_lengkap
            )

    async def show_pegawai_list(
        self, title: str, people: list[PegawaiView], layanan: str | None
    ) -> None:
        """The Pegawai screen showing a given list (due for KP, for pensiun)."""
        from tui.screens.pegawai import PegawaiScreen

        screen = await self._base_of("pegawai")
        if isinstance(screen, PegawaiScreen):
            screen.show_list(title, people, layanan)

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

        wanted = await self.push_screen_wait(UsulanBaruDialog(pegawai, layanan))
        if wanted is None:
            return
        if not await self._confirm_another(wanted.pegawai, wanted.layanan):
            return
        try:
            view = await asyncio.to_thread(
                partial(
                    self.client.create_usulan,
                    wanted.pegawai.id,
                    wanted.layanan,
                    wanted.jenis,
                    today=self.today,
                )
            )
        except ClientError as exc:
            self.notify(exc.message, title="Usulan tidak dibuat", severity="error", timeout=10)
            return
        self.notify(
            f"Usulan untuk {view.nama} dibuat; kurang {view.kurang} dokumen.", title="Tersimpan"
        )
        self.data_changed()
        self.open_usulan(view.id)

    async def _confirm_another(self, pegawai: PegawaiView, layanan: str) -> bool:
        """A second open usulan of the same layanan is usually a mistake: ask first."""
        from tui.screens.konfirmasi import KonfirmasiDialog

        try:
            detail = await asyncio.to_thread(self.client.pegawai_detail, pegawai.id, self.today)
        except ClientError:
            return True
        open_ones = [
            u
            for u in detail.usulan
            if u.layanan == layanan and u.status in ("draft", "dikembalikan")
        ]
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

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(cast("App[object]", self)):
            self.push_screen(CommandPalette(placeholder="Cari perintah…", id="--command-palette"))

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
            "Bantuan", "Penjelasan setiap layar dan tombolnya (F1)", self.action_bantuan
        )
        yield SystemCommand(
            "Keluar", "Tutup Berkas; semua pekerjaan sudah tersimpan", self.action_quit
        )
        yield from self._screen_commands(screen)

    def _screen_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The current screen's own actions (its footer keys), so each is findable by name."""
        if not isinstance(screen, BerkasScreen):
            return
        seen: set[str] = set()
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if active.node is not screen or not binding.description or not active.enabled:
                continue
            if binding.action in seen:
                continue
            seen.add(binding.action)
            yield SystemCommand(
                f"{screen.SCREEN_TITLE}: {binding.description}",
                f"Tombol {self.get_key_display(binding) or key}",
                partial(screen.run_action, binding.action),
            )


def run(paths: Paths, today: date | None = None) -> None:
    """Open the TUI on the installation at `paths` (what `berkas` with no arguments does)."""
    try:
        client = BerkasClient.open(paths)
    except ClientError as exc:
        print(f"Gagal membuka data Berkas: {exc.message}", file=sys.stderr)
        raise SystemExit(2) from exc
    try:
        BerkasApp(client, today=today, sync_port=EngineSyncPort(client)).run()
    finally:
        client.close()

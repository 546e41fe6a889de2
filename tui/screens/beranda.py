"""Beranda: usulan by status and what is due, each line leading to its list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from tui.format import angka, nip, tanggal, tanggal_pendek, waktu
from tui.messages import OpenPegawai, ShowPegawaiList, ShowUsulan, WatchStateChanged
from tui.screens.base import BerkasScreen
from tui.widgets.tabel import Column, DaftarBuka, Row, Tabel, fill_table

if TYPE_CHECKING:
    from client.intake_wiring import WatchState
    from client.views import Dashboard

SOON = 12  # rows in "Segera diusulkan"
NO_PEGAWAI_HERE = "Belum ada pegawai: tekan p (Persiapan awal) untuk impor"
SOON_COLUMNS: list[Column] = [
    ("Nama", None),
    ("NIP", 21),
    ("Perlu", 7),
    ("TMT", 11),
    ("Jabatan", None),
]


@dataclass(frozen=True)
class _Loaded:
    dashboard: Dashboard
    conflicts: int


class BerandaScreen(BerkasScreen):
    SCREEN_TITLE = "Beranda"
    NAV = "beranda"
    CSS_PATH = "beranda.tcss"
    AUTO_FOCUS = "#perlu"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "muat_ulang", "Muat ulang"),
        Binding("p", "persiapan", "Persiapan awal"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._loaded: _Loaded | None = None
        self._setup_unfinished = False  # "p Persiapan awal" shows only then

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "persiapan":
            return self._setup_unfinished
        return True

    def action_persiapan(self) -> None:
        """Persiapan awal: the steps skipped or not done yet."""
        self.berkas.action_persiapan()

    def compose_body(self) -> ComposeResult:
        yield Static("Memuat ringkasan…", id="ringkasan")
        yield Static("", id="pemantau")
        with Horizontal(id="kolom"):
            yield DaftarBuka(id="status")
            yield DaftarBuka(id="perlu")
        yield Tabel(id="segera", cursor_type="row")

    def on_mount(self) -> None:
        self.query_one("#kolom").loading = True  # until the first dashboard is shown
        # Shown once the App runs the scan watcher (not in tests over a fixed client).
        self.query_one("#pemantau").display = False
        self._show_watch(self.berkas.watch_state)
        self.query_one("#status", OptionList).border_title = "Usulan per status"
        self.query_one("#perlu", OptionList).border_title = "Yang perlu dikerjakan"
        segera = self.query_one("#segera", DataTable)
        segera.border_title = "Segera diusulkan (belum ada usulannya)"
        fill_table(segera, SOON_COLUMNS, [])

    def on_watch_state_changed(self, message: WatchStateChanged) -> None:
        self._show_watch(message.state)

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        # The watcher's messages reach only the screens in view: a scan taken while
        # another section was open shows when the Beranda comes back.
        self._show_watch(self.berkas.watch_state)

    def _show_watch(self, state: WatchState | None) -> None:
        line = self.query_one("#pemantau", Static)
        if state is None:
            return
        line.display = True
        text = Text()
        if state.watching:
            folders = ", ".join(f.name + "/" for f in state.folders) or "pindai/"
            text.append("◉ ", style="bold green")
            text.append(f"Memantau folder {folders}")
        elif state.held_by:
            text.append("○ ", style="yellow")
            text.append(state.held_by)
        else:
            text.append("○ Folder pindai tidak dipantau", style="yellow")
            if state.problem:
                text.append(f": {state.problem}")
        if state.last_name:
            at = waktu(state.last_at) if state.last_at else ""
            text.append(f" · terakhir ({at}): {state.last_name} — ", style="dim")
            text.append(state.last_result, style="dim")
        line.update(text)

    def reload(self) -> None:
        # After the next paint: a reload's frame must not wait for the dashboard.
        self.call_after_refresh(self._load)

    def action_muat_ulang(self) -> None:
        self.reload()

    @work(exclusive=True, group="beranda", exit_on_error=False)
    async def _load(self) -> None:
        today = self.berkas.today
        dashboard = await self.call(self.client.dashboard, today)
        conflicts = await self.call(self.client.count_conflicts)
        if dashboard is not None:
            self._loaded = _Loaded(dashboard, conflicts or 0)
            self._show(self._loaded)
        self.berkas.first_data_shown()
        # After the figures: whether the device is enrolled loads the sync engine.
        setup = await self.call(self.client.setup_state)
        if setup is not None:
            unfinished = setup.unfinished or not setup.pegawai
            if unfinished != self._setup_unfinished:
                self._setup_unfinished = unfinished
                self.refresh_bindings()

    def _show(self, loaded: _Loaded) -> None:
        # The labels read store.rules: loaded with the client, after the first frame.
        from tui.labels import status_label

        d = loaded.dashboard
        self.query_one("#kolom").loading = False
        opd = self.client.config.opd_kode or "OPD belum diatur"
        summary = Text.assemble(
            (opd, "bold"), f" · {angka(d.pegawai_total)} pegawai · hari ini {tanggal(d.today)}"
        )
        if not d.pegawai_total:
            summary.append(" · " + NO_PEGAWAI_HERE, style="yellow")
        self.query_one("#ringkasan", Static).update(summary)
        status = self.query_one("#status", OptionList)
        highlighted = status.highlighted
        status.clear_options()
        for value, count in d.status_counts.items():
            line = Text(f"{status_label(value):<20}", style="" if count else "dim")
            line.append(f"{angka(count):>5}", style="bold" if count else "dim")
            status.add_option(Option(line, id=f"status:{value}"))
        status.highlighted = highlighted if highlighted is not None else 0
        perlu = self.query_one("#perlu", OptionList)
        highlighted = perlu.highlighted
        perlu.clear_options()
        for option in self._todo(loaded):
            perlu.add_option(option)
        perlu.highlighted = highlighted if highlighted is not None else 0
        self._show_soon(d)

    def _show_soon(self, d: Dashboard) -> None:
        """The nearest pensiun first, then those due for KP: each opens the pegawai."""
        table = self.query_one("#segera", DataTable)
        # Half each when both lists are long; one fills in when the other is short.
        kp = d.kp_due_without_usulan[: SOON - min(len(d.pensiun_due_without_usulan), SOON // 2)]
        pensiun = d.pensiun_due_without_usulan[: SOON - len(kp)]
        rows = [("pensiun", "Pensiun", p, p.tmt_pensiun) for p in pensiun]
        rows += [("kp", "KP", p, d.kp_period.tmt) for p in kp]
        # Keyed by layanan and pegawai: one person may be due for both.
        lines: list[Row] = [
            (
                f"{layanan}:{p.id}",
                [Text(p.nama), nip(p.nip), what, tanggal_pendek(tmt), Text(p.jabatan)],
            )
            for layanan, what, p, tmt in rows
        ]
        if not rows:
            nothing = Text("Tidak ada yang perlu segera diusulkan.", style="dim")
            lines = [(None, [nothing, "", "", "", ""])]
        fill_table(table, SOON_COLUMNS, lines)

    @on(DataTable.RowSelected, "#segera")
    def _soon_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self._loaded is None or not event.row_key.value:
            return
        layanan, _, pegawai_id = event.row_key.value.partition(":")
        self.post_message(OpenPegawai(pegawai_id, layanan))

    def _todo(self, loaded: _Loaded) -> list[Option]:
        d = loaded.dashboard
        p = d.kp_period
        if d.kp_window_open:
            window = Text(f"dibuka, sisa {d.kp_days_left} hari", style="bold green")
        elif d.today < p.window_start:
            days = (p.window_start - d.today).days
            window = Text(f"dibuka {days} hari lagi", style="yellow")
        else:
            window = Text("sudah ditutup", style="dim")
        period = Text.assemble(
            (f"Periode KP TMT {tanggal(p.tmt)}", "bold"),
            f"\n  pengajuan {tanggal_pendek(p.window_start)} – {tanggal_pendek(p.window_end)}\n  ",
            window,
        )
        counts: list[tuple[str, int, str, bool]] = [
            ("kp-due", len(d.kp_due_without_usulan), "pegawai layak KP, belum diusulkan", True),
            (
                "pensiun-due",
                len(d.pensiun_due_without_usulan),
                "pensiun ≤ 15 bulan, belum diusulkan",
                True,
            ),
            ("kurang", d.missing_dokumen, f"dokumen kurang di {d.usulan_incomplete} usulan", True),
            ("bts", len(d.returned), "usulan dikembalikan (BTS)", True),
            ("inbox", d.inbox_waiting, "pindaian di kotak masuk", True),
            ("sync", d.pending_ops, "perubahan belum terkirim", False),
            ("konflik", loaded.conflicts, "konflik menunggu keputusan", True),
        ]
        width = max(len(angka(n)) for _, n, _, _ in counts)
        lines = [(key, _count_text(n, what, warn=w, width=width)) for key, n, what, w in counts]
        return [Option(period, id="kp-periode")] + [Option(t, id=key) for key, t in lines]

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_id:
            self.run_worker(self._open(event.option_id), group="beranda-open")

    async def _open(self, key: str) -> None:
        """Where each line leads: the list behind the number."""
        app = self.berkas
        loaded = self._loaded
        if key.startswith("status:"):
            self.post_message(ShowUsulan(status=key.removeprefix("status:")))
        elif loaded is None:
            return
        elif key == "kp-periode":
            self.post_message(ShowUsulan(layanan="kp", periode=loaded.dashboard.kp_period.tmt))
        elif key == "kp-due":
            title = (
                f"Layak KP periode TMT {tanggal(loaded.dashboard.kp_period.tmt)}, belum diusulkan"
            )
            self.post_message(ShowPegawaiList(title, loaded.dashboard.kp_due_without_usulan, "kp"))
        elif key == "pensiun-due":
            title = "Pensiun dalam 15 bulan, belum diusulkan"
            people = loaded.dashboard.pensiun_due_without_usulan
            self.post_message(ShowPegawaiList(title, people, "pensiun"))
        elif key == "kurang":
            self.post_message(ShowUsulan(belum_lengkap=True))
        elif key == "bts":
            self.post_message(ShowUsulan(status="dikembalikan"))
        elif key == "inbox":
            await app.buka("kotak_masuk")
        elif key == "sync":
            await app.buka("sinkronisasi")
        elif key == "konflik":
            await app.buka("konflik")


def _count_text(count: int, what: str, *, warn: bool, width: int) -> Text:
    style = ("bold red" if warn else "bold") if count else "dim"
    return Text.assemble((f"{angka(count):>{width}} ", style), (what, "" if count else "dim"))

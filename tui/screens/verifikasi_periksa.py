"""Pemeriksaan: one usulan under review. The pegawai's master data and what the rules
compute beside the checklist; each dokumen shown in the viewer; per dokumen "sesuai" or
"perlu perbaikan" with a note; then MS, BTS (needs a dokumen note) or TMS (needs a
reason); after MS: teruskan ke BKN and selesai (pertek/SK)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from client.verifikasi_views import DokumenPeriksa, Pemeriksaan
from store.rules import format_tanggal
from tui.format import nip
from tui.screens.verifikasi_base import CatatanDialog, SelesaiDialog, VerifikasiScreen
from tui.widgets.tabel import Column, fill_table
from tui.widgets.viewer import DokumenViewer

STATE_LABELS = {
    "ada": "ada",
    "kurang": "belum ada",
    "terlalu_besar": "terlalu besar",
    "dikembalikan": "dikembalikan",
    "tidak_berlaku": "tidak berlaku",
}


DECISIONS = ("ms", "bts", "tms", "teruskan", "selesai")
COMPACT_BELOW = 90  # columns for the checklist with its kode and page count


class ChecklistTable(DataTable[object]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Lihat"),
    ]


class PemeriksaanScreen(VerifikasiScreen):
    SCREEN_TITLE = "Pemeriksaan usulan"
    DEFAULT_CSS = """
    PemeriksaanScreen #info { height: auto; padding: 0 1; }
    PemeriksaanScreen #peringatan { height: auto; padding: 0 1; color: $warning; }
    PemeriksaanScreen #isi { height: 1fr; }
    PemeriksaanScreen #kiri { width: 1fr; }
    PemeriksaanScreen #kanan { width: 1fr; }
    PemeriksaanScreen ChecklistTable { height: 1fr; }
    PemeriksaanScreen #penilaian { height: auto; padding: 0 1; color: $text-muted; }
    PemeriksaanScreen.-narrow #info { max-height: 4; overflow: hidden; }
    PemeriksaanScreen.-narrow #peringatan { max-height: 2; overflow: hidden; }
    PemeriksaanScreen.-narrow #penilaian { display: none; }
    PemeriksaanScreen.-narrow #isi { layout: vertical; }
    PemeriksaanScreen.-narrow #kiri { height: 6; width: 1fr; }
    PemeriksaanScreen.-narrow #kanan { height: 1fr; min-height: 8; width: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "kembali", "Kembali"),
        Binding("y", "sesuai", "Sesuai"),
        Binding("e", "perbaikan", "Perlu perbaikan"),
        Binding("m", "ms", "MS"),
        Binding("b", "bts", "BTS"),
        Binding("x", "tms", "TMS"),
        Binding("t", "teruskan", "Teruskan"),
        Binding("f", "selesai", "Selesai"),
        Binding("v", "fokus_viewer", "Ke penampil", show=False),
    ]

    def __init__(self, usulan_id: str) -> None:
        super().__init__()
        self.usulan_id = usulan_id
        self.review: Pemeriksaan | None = None
        self.penilaian: dict[str, tuple[str, str]] = {}  # kode -> (sesuai|perbaikan, note)

    def compose_body(self) -> ComposeResult:
        yield Static("Memuat…", id="info", markup=False)
        yield Static("", id="peringatan", markup=False)
        with Horizontal(id="isi"):
            with Vertical(id="kiri"):
                yield ChecklistTable(id="checklist", cursor_type="row", zebra_stripes=True)
                yield Static("", id="penilaian", markup=False)
            with Vertical(id="kanan"):
                yield DokumenViewer(
                    mode=self.vapp.viewer_mode, copies=self.vapp.copies, id="viewer"
                )

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#checklist").focus()

    def on_resize(self) -> None:
        self.set_class(self.size.width < 100, "-narrow")
        self._fill()

    def reload(self) -> None:
        self._load()

    @work(exclusive=True, group="pemeriksaan", exit_on_error=False)
    async def _load(self) -> None:
        review = await self.call(self.service.pemeriksaan, self.usulan_id, today=self.vapp.today)
        if review is None:
            self.app.pop_screen()
            return
        first_load = self.review is None
        self.review = review
        self._show(review)
        if first_load:  # start on the first dokumen there is to look at
            first = next((n for n, d in enumerate(review.dokumen) if d.dokumen_id), 0)
            self.query_one("#checklist", DataTable).move_cursor(row=first)

    def _show(self, r: Pemeriksaan) -> None:
        i, p, a = r.item, r.pegawai, r.aturan
        self.set_title(f"Pemeriksaan · {i.nama} · {i.jenis_label}")
        elig = "memenuhi syarat" if a.kp_eligible else "belum memenuhi syarat"
        status = (
            f"Status {i.status_label} · diajukan "
            + (f"{i.hari_menunggu} hari lalu" if i.hari_menunggu else "hari ini")
            + (f" · diajukan ulang {i.pengajuan_ulang}x" if i.pengajuan_ulang else "")
            + (f" · pertek {r.nomor_pertek}" if r.nomor_pertek else "")
        )
        lines = [
            status,  # first: at 80x24 the block is cut to four lines
            f"{p.nama} · NIP {nip(p.nip)} · {i.opd} · {p.golongan} {p.pangkat} · {p.jabatan}",
            f"KP: {elig}"
            + (f" ({'; '.join(a.kp_alasan)})" if a.kp_alasan else "")
            + f" · BUP {a.bup} th, TMT pensiun {format_tanggal(a.tmt_pensiun)}",
            f"Pendidikan {p.pendidikan.upper()} (batas KP reguler {a.batas_pendidikan}) · "
            f"TMT pangkat {format_tanggal(p.tmt_pangkat)} · "
            f"lahir {format_tanggal(p.tanggal_lahir)}",
        ]
        self.query_one("#info", Static).update("\n".join(lines))
        warn = "\n".join(f"⚠ {w}" for w in r.peringatan)
        self.query_one("#peringatan", Static).update(warn)
        self._fill()
        self.refresh_bindings()

    def _fill(self) -> None:
        if self.review is None:
            return
        table = self.query_one("#checklist", DataTable)
        row = table.cursor_row
        # The checklist has the whole width below 100 columns, half of it above. Where
        # that is under COMPACT_BELOW, the kode and page count make way, so the verifier's
        # note (and a "tidak berlaku" reason) stays in view.
        room = self.size.width if self.has_class("-narrow") else self.size.width // 2
        compact = room < COMPACT_BELOW
        rows = [(d.kode, self._cells(d, narrow=compact)) for d in self.review.dokumen]
        if compact:
            columns: list[Column] = [("Dokumen", 22), ("Keadaan", 13), ("Penilaian", None)]
            # Rows grow to show a long note (or dokumen name) whole.
            fill_table(table, columns, rows, max_width=max(20, room - 48), height=None)
        else:
            columns = [
                ("Kode", None),
                ("Dokumen", None),
                ("Hal", 3),
                ("Keadaan", None),
                ("Penilaian", None),
            ]
            fill_table(table, columns, rows, max_width=22)
        if rows:
            table.move_cursor(row=min(max(row, 0), len(rows) - 1))
        self._hint()

    @on(DataTable.RowHighlighted, "#checklist")
    def _hint(self) -> None:
        """What to do here; on a line the OPD marked "tidak berlaku", its whole reason (the
        column beside the viewer may cut it)."""
        judged = sum(1 for v in self.penilaian.values() if v[0] == "perbaikan")
        hint = (
            "Enter: lihat dokumen · Y sesuai · E perlu perbaikan (dengan catatan) · "
            "M MS · B BTS · X TMS"
        )
        if judged:
            hint = f"{judged} dokumen perlu perbaikan. " + hint
        d = self._current()
        if d is not None and d.state == "tidak_berlaku":
            hint = f"{d.nama} tidak berlaku: {d.alasan_tidak_berlaku}\n" + hint
        self.query_one("#penilaian", Static).update(hint)

    def _cells(self, d: DokumenPeriksa, *, narrow: bool = False) -> list[object]:
        state = STATE_LABELS.get(d.state, d.state)
        cell: object = state
        if d.nip_lain:  # in the row too: the warning line above may be cut at 80x24
            cell = Text.assemble(state, (" ⚠ NIP lain", "bold yellow"))
        mark, note = self.penilaian.get(d.kode, ("", ""))
        judged: object = ""
        if d.state == "tidak_berlaku":
            # No dokumen to judge: the note column carries the OPD's reason instead.
            judged = Text(f"Tidak berlaku: {d.alasan_tidak_berlaku}", style="cyan")
        elif mark == "sesuai":
            judged = Text("sesuai", style="green")
        elif mark == "perbaikan":
            judged = Text(f"perbaikan: {note}", style="bold yellow")
        elif d.catatan_verifikator:
            judged = Text(f"catatan lalu: {d.catatan_verifikator}", style="dim")
        # A line that does not apply says so in its own columns; "(opsional)" marks only
        # an optional line that the OPD said applies.
        name = d.nama + ("" if d.required or d.state == "tidak_berlaku" else " (opsional)")
        if narrow:
            return [name, cell, judged]
        return [d.kode, name, str(d.pages or ""), cell, judged]

    def _current(self) -> DokumenPeriksa | None:
        if self.review is None or not self.review.dokumen:
            return None
        row = self.query_one("#checklist", DataTable).cursor_row
        if 0 <= row < len(self.review.dokumen):
            return self.review.dokumen[row]
        return None

    # -- viewing ------------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#checklist")
    def _view(self) -> None:
        d = self._current()
        viewer = self.query_one(DokumenViewer)
        if d is not None and d.state == "tidak_berlaku":
            viewer.clear(f"{d.nama} tidak berlaku: {d.alasan_tidak_berlaku}")
            self.notify(f"Tidak berlaku: {d.alasan_tidak_berlaku}", title=d.nama)
            return
        if d is None or not d.dokumen_id:
            viewer.clear()
            self.notify("Dokumen ini belum dilampirkan.", severity="warning")
            return
        dokumen_id = d.dokumen_id
        viewer.show(
            d.nama,
            lambda: self.service.dokumen_pdf(dokumen_id),
            d.nama_file or f"{d.kode}.pdf",
        )

    def action_fokus_viewer(self) -> None:
        self.query_one(DokumenViewer).focus()

    # -- per dokumen --------------------------------------------------------------------------

    def action_sesuai(self) -> None:
        d = self._current()
        if d is not None and d.dokumen_id:
            self.penilaian[d.kode] = ("sesuai", "")
            self._fill()
            self.query_one("#checklist", DataTable).action_cursor_down()

    @work(group="dialog-perbaikan", exit_on_error=False)
    async def action_perbaikan(self) -> None:
        d = self._current()
        if d is None or not d.dokumen_id:
            return
        old = self.penilaian.get(d.kode, ("", ""))[1]
        note = await self.app.push_screen_wait(
            CatatanDialog(
                f"Perlu perbaikan: {d.nama}",
                f"Catatan untuk OPD tentang {d.nama}:",
                nilai=old,
            )
        )
        if note:
            self.penilaian[d.kode] = ("perbaikan", note)
            self._fill()

    def _notes(self) -> dict[str, str]:
        return {k: note for k, (mark, note) in self.penilaian.items() if mark == "perbaikan"}

    # -- decisions ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Decision keys show only where the usulan's status allows them (a Selesai
        usulan offers no MS, BTS or Teruskan); Y and E only while it can be decided."""
        if action in DECISIONS:
            return self.review is not None and action in self.review.keputusan
        if action in ("sesuai", "perbaikan"):
            return self.review is not None and "bts" in self.review.keputusan
        return True

    def _may(self, what: str) -> bool:
        if self.review is None:
            return False
        if what not in self.review.keputusan:
            labels = {"ms": "MS", "bts": "BTS", "tms": "TMS", "teruskan": "diteruskan"}
            self.notify(
                f"Usulan berstatus {self.review.item.status_label} tidak dapat "
                f"{labels.get(what, what)}.",
                severity="warning",
            )
            return False
        return True

    @work(group="dialog-keputusan", exit_on_error=False)
    async def action_ms(self) -> None:
        if not self._may("ms"):
            return
        if self._notes():
            self.notify(
                "Ada dokumen bertanda perlu perbaikan: pilih BTS, atau tandai sesuai.",
                severity="warning",
            )
            return
        await self._decide("ms", "Memenuhi syarat", {})

    @work(group="dialog-keputusan", exit_on_error=False)
    async def action_bts(self) -> None:
        if not self._may("bts"):
            return
        notes = self._notes()
        if not notes:
            self.notify(
                "BTS wajib disertai catatan pada sedikitnya satu dokumen: tandai dokumen "
                "dengan E (perlu perbaikan).",
                severity="warning",
            )
            return
        message = await self.app.push_screen_wait(
            CatatanDialog(
                "BTS: kembalikan ke OPD",
                f"Catatan umum untuk OPD ({len(notes)} dokumen bercatatan). Boleh kosong.",
                wajib=False,
            )
        )
        if message is None:
            return
        await self._decide("bts", message or "Perbaiki dokumen bertanda", notes)

    @work(group="dialog-keputusan", exit_on_error=False)
    async def action_tms(self) -> None:
        if not self._may("tms"):
            return
        reason = await self.app.push_screen_wait(
            CatatanDialog("TMS: tolak usulan", "Alasan penolakan untuk OPD (wajib):")
        )
        if reason:
            await self._decide("tms", reason, {})

    async def _decide(self, keputusan: str, catatan: str, notes: dict[str, str]) -> None:
        ok = await self.attempt(self.service.putuskan, self.usulan_id, keputusan, catatan, notes)
        if not ok:
            return
        self.notify(f"Keputusan {keputusan.upper()} dicatat dan dikirim.", title="Keputusan")
        self.penilaian.clear()
        self.reload()

    @work(group="dialog-keputusan", exit_on_error=False)
    async def action_teruskan(self) -> None:
        if not self._may("teruskan"):
            return
        done = await self.call(self.service.teruskan, [self.usulan_id])
        if done:
            self.notify("Usulan diteruskan ke BKN.", title="Teruskan ke BKN")
            self.reload()

    @work(group="dialog-keputusan", exit_on_error=False)
    async def action_selesai(self) -> None:
        if not self._may("selesai"):
            return
        answer = await self.app.push_screen_wait(SelesaiDialog())
        if answer is None:
            return
        nomor, tanggal = answer
        if await self.attempt(self.service.selesai, self.usulan_id, nomor, tanggal):
            self.notify(f"Usulan selesai, pertek/SK {nomor}.", title="Selesai")
            self.reload()

    def action_kembali(self) -> None:
        self.app.pop_screen()
        reload = getattr(self.app.screen, "reload", None)
        if callable(reload):
            reload()

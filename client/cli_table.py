"""The command line's lists as aligned Rich tables, with the words the TUI shows
(`KP reguler`, `Draf`, `SK CPNS`), never the internal codes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from client.labels import DOKUMEN_STATE, layanan_short, status_label, status_short, usulan_label
from client.verifikasi_views import Rekap
from client.views import ChecklistLineView, HistoryView, PegawaiView, UsulanView

# The rekap's columns after Layanan, in the order of its header.
_REKAP_STATUSES = ("diajukan", "diverifikasi", "dikembalikan", "ditolak", "diteruskan", "selesai")


def table(*columns: str, whole: Sequence[str] = (), nip: str | None = None) -> Table:
    """A borderless table; the `whole` columns (IDs, NIPs: copied into commands) are
    never folded, the others fold to fit the terminal; the `nip` column is kept wide
    enough for a whole NIP on its line."""
    grid = Table(
        show_header=True, header_style="bold", box=None, pad_edge=False, padding=(0, 1, 0, 0)
    )
    for column in columns:
        grid.add_column(
            column,
            overflow="fold",
            no_wrap=column in whole,
            min_width=18 if column == nip else None,
        )
    # Names, NIPs and reasons are data, not Rich markup.
    grid.highlight = False
    return grid


def show(grid: Table, *, indent: int = 0) -> None:
    console = Console(soft_wrap=False, highlight=False)
    console.print(Padding(grid, (0, 0, 0, indent)) if indent else grid)


def periode(day: date | None) -> str:
    return day.strftime("%d-%m-%Y") if day else "-"


def usulan_table(rows: Iterable[UsulanView]) -> Table:
    grid = table("ID", "Pegawai", "Usulan", "Keadaan", whole=("ID",), nip="Pegawai")
    for u in rows:
        missing = f"\nkurang {u.kurang} dokumen" if u.kurang else ""
        grid.add_row(
            u.id,
            Text(f"{u.nama}\n{u.nip}"),
            f"{usulan_label(u.layanan, u.jenis)}\n{periode(u.periode)}",
            u.status_label + missing,
        )
    return grid


def pegawai_table(rows: Iterable[PegawaiView]) -> Table:
    grid = table("NIP", "Nama", "Golongan", "Jabatan", whole=("NIP",))
    for v in rows:
        grid.add_row(v.nip, v.nama, f"{v.golongan} {v.pangkat}".strip(), v.jabatan)
    return grid


def checklist_table(lines: Sequence[ChecklistLineView]) -> Table:
    grid = table("Dokumen", "Keadaan")
    for line in lines:
        state, style = DOKUMEN_STATE.get(line.state, (line.state, ""))
        if line.alasan_tidak_berlaku:
            state = f"{state}: {line.alasan_tidak_berlaku}"
        name = line.nama + ("" if line.required else " (opsional)")
        grid.add_row(Text(name), Text(state, style=style))
    return grid


def history_table(history: Sequence[HistoryView]) -> Table:
    grid = table("Waktu", "Dari", "Ke", "Oleh", "Alasan")
    for h in history:
        grid.add_row(
            str(h.waktu),
            status_label(h.dari) if h.dari else "-",
            status_label(h.ke),
            h.oleh,
            h.alasan,
        )
    return grid


def rekap_table(rekap: Rekap) -> Table:
    """The rekap per OPD and layanan (the CSV export carries the same numbers)."""
    grid = table(
        "OPD",
        "Layanan",
        *(status_short(s) for s in _REKAP_STATUSES),
        "Jumlah",
        "Median",
        "BTS %",
        "Terlambat",
    )
    for b in rekap.baris:
        grid.add_row(
            b.opd,
            layanan_short(b.layanan),
            *(str(b.counts.get(s, 0)) for s in _REKAP_STATUSES),
            str(b.total),
            "-" if b.median_hari is None else f"{b.median_hari:.1f}",
            "-" if b.bts_rate is None else f"{b.bts_rate:.0%}",  # BTS of all decisions
            str(len(b.terlambat)),
        )
    return grid

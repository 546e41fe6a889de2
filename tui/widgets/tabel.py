"""Tables: DataTables whose Enter shows in the footer (Textual's own Enter is hidden),
and filling one with its column widths measured up front."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, OptionList


class Tabel(DataTable[object]):
    """A row table where Enter opens the row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Buka"),
    ]


class TabelPilih(DataTable[object]):
    """A row table in a dialog where Enter chooses the row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Pilih"),
    ]


class DaftarBuka(OptionList):
    """An option list where Enter opens what the line stands for."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Buka daftar"),
    ]


Column = tuple[str, int | None]  # (header, fixed width or None to fit the content)
Row = tuple[str | None, Sequence[object]]  # (row key, cells)


def fill_table(
    table: DataTable[Any],
    columns: Sequence[Column],
    rows: Sequence[Row],
    *,
    height: int | None = 1,
    max_width: int = 60,
) -> None:
    """Replace a table's rows, with every column width measured here.

    A DataTable measures new rows only once idle, and lines it drew before that keep
    the old widths until the cursor moves; fixing the widths up front avoids that
    (and keeps snapshots stable). `height=None` lets each row grow to its wrapped
    cells."""
    widths: list[int] = []
    for index, (label, fixed) in enumerate(columns):
        if fixed is not None:
            widths.append(fixed)
            continue
        width = cell_len(label)
        for _, cells in rows:
            width = max(width, _cell_width(cells[index]))
        widths.append(min(width, max_width))
    table.clear(columns=True)
    for (label, _), width in zip(columns, widths, strict=True):
        table.add_column(label, width=width)
    for key, cells in rows:
        table.add_row(*cells, key=key, height=height)


def _cell_width(cell: object) -> int:
    text = cell.plain if isinstance(cell, Text) else str(cell)
    return max((cell_len(line) for line in text.split("\n")), default=0)

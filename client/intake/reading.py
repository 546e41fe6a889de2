"""Reading a PDF a person points at: its page count, and the text of page one.

The one place outside conversion that opens a PDF, so the TUI's "Lampirkan berkas"
and the Kotak masuk preview judge a file the way intake does (sniff.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pikepdf

from client.intake.errors import IntakeError
from client.intake.sniff import ScanType, sniff


def _pdf_page_count(path: Path) -> int:
    """The page count of a PDF on disk; IntakeError when it is not a readable PDF."""
    try:
        kind = sniff(path)
    except OSError as exc:
        raise IntakeError(f"Berkas {path} tidak dapat dibaca.", repr(exc)) from exc
    if kind != ScanType.PDF:
        raise IntakeError(
            f"{path.name} bukan PDF. Letakkan gambar pindaian di folder pindai: Berkas "
            "mengubahnya menjadi PDF.",
            f"sniffed {kind}",
        )
    try:
        with pikepdf.open(path) as pdf:
            return len(pdf.pages)
    except pikepdf.PdfError as exc:
        message = f"{path.name} rusak atau bukan PDF yang dapat dibaca."
        raise IntakeError(message, repr(exc)) from exc


_TEXT_SHOW = {"Tj", "TJ", "'", '"'}

_TEXT_BREAK = {"Td", "TD", "T*", "Tm", "ET", "'", '"'}


def first_page_text(path: Path, max_lines: int) -> tuple[int, list[str]]:
    """(pages, lines) read from page one's content stream; pages is -1 if unreadable.

    A minimal reader: the strings of text-showing operators, one line per text
    positioning. Fonts with their own encodings (common in OCR layers) give bytes
    that are not text; lines that are mostly unreadable are dropped."""
    try:
        pdf = pikepdf.open(path)
    except pikepdf.PdfError:
        return -1, []
    with pdf:
        pages = len(pdf.pages)
        if not pages:
            return 0, []
        try:
            instructions = pikepdf.parse_content_stream(pdf.pages[0])
        except pikepdf.PdfError:
            return pages, []
        lines: list[str] = []
        current = ""
        for instruction in instructions:
            if not isinstance(instruction, pikepdf.ContentStreamInstruction):
                continue  # an inline image
            operands, op = instruction.operands, str(instruction.operator)
            if op in _TEXT_BREAK and current.strip():
                lines.append(current.strip())
                current = ""
                if len(lines) >= max_lines * 3:
                    break
            if op not in _TEXT_SHOW or not operands:
                continue
            shown = operands[-1]
            parts = shown if isinstance(shown, pikepdf.Array) else [shown]
            for part in parts:
                if isinstance(part, pikepdf.String):
                    current += bytes(part).decode("latin-1")
                elif isinstance(part, int | float | pikepdf.Object) and _is_wide_gap(part):
                    current += " "
        if current.strip():
            lines.append(current.strip())
    readable = [" ".join(line.split()) for line in lines if _mostly_text(line)]
    return pages, readable[:max_lines]


def _is_wide_gap(value: Any) -> bool:
    try:
        return float(value) < -200  # a TJ kerning this large is a word gap
    except (TypeError, ValueError):
        return False


def _mostly_text(line: str) -> bool:
    printable = sum(ch.isalnum() or ch in " .,;:-/()'\"" for ch in line)
    return len(line) >= 2 and printable / len(line) >= 0.8

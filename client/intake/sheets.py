"""Separator sheets (lembar pemisah): printed by Berkas, one in front of each
document of a stack scanned in one ADF run, so intake can split the batch and
file every part to its usulan and dokumen kind.

Each sheet carries a QR code `BERKAS-LP1|<usulan id>|<kode>|<check>` and the
same in large text for the person. The check is the first six hex digits of
SHA-256 over "<usulan id>|<kode>": it catches a misread or hand-edited code,
it is not a secret (anyone may print a sheet for an usulan they can see).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

from client.intake.errors import IntakeError
from store.database import Store
from store.models import Pegawai, Usulan
from store.rules import RulesConfig, dokumen_kinds
from store.usulan import missing_for

_PREFIX = "BERKAS-LP1"
_DPI = 150
_A4 = (round(8.27 * _DPI), round(11.69 * _DPI))


@dataclass(frozen=True)
class SheetCode:
    """What a separator sheet's QR code says."""

    usulan_id: str
    kode: str

    @property
    def payload(self) -> str:
        return f"{_PREFIX}|{self.usulan_id}|{self.kode}|{_check_value(self.usulan_id, self.kode)}"


@dataclass(frozen=True)
class SheetLine:
    """One sheet to print: the code and the words beside it."""

    code: SheetCode
    nama_pegawai: str
    nip: str
    nama_dokumen: str


def _check_value(usulan_id: str, kode: str) -> str:
    return hashlib.sha256(f"{usulan_id}|{kode}".encode()).hexdigest()[:6]


def decode_sheet(text: str) -> SheetCode | None:
    """The sheet a QR code's text names, or None when it is not one of ours
    (another QR on a document) or its check value does not match."""
    parts = text.strip().split("|")
    if len(parts) != 4 or parts[0] != _PREFIX:
        return None
    _, usulan_id, kode, check = parts
    if not usulan_id or not kode or check != _check_value(usulan_id, kode):
        return None
    return SheetCode(usulan_id=usulan_id, kode=kode)


def format_nip(nip: str) -> str:
    """ "196804111993031009" as it is printed: "19680411 199303 1 009"."""
    if len(nip) != 18:
        return nip
    return f"{nip[:8]} {nip[8:14]} {nip[14]} {nip[15:]}"


def _sheet_lines(store: Store, usulan_id: str, rules: RulesConfig | None = None) -> list[SheetLine]:
    """One line per missing checklist line of the usulan (kurang, returned or too big)."""
    kinds = dokumen_kinds(rules)
    with store.read() as session:
        usulan = session.get(Usulan, usulan_id)
        if usulan is None or usulan.deleted:
            raise IntakeError("Usulan tidak ditemukan.", usulan_id)
        pegawai = session.get(Pegawai, usulan.pegawai_id)
        nama = pegawai.nama if pegawai is not None else ""
        missing = missing_for(session, usulan, rules)
    return [
        SheetLine(
            code=SheetCode(usulan_id=usulan_id, kode=kode),
            nama_pegawai=nama,
            nip=usulan.nip,
            nama_dokumen=kinds[kode].nama if kode in kinds else kode,
        )
        for kode in missing
    ]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's own embedded font: the same on every machine, no system font needed.
    return ImageFont.load_default(size=size)


def _fit(draw: ImageDraw.ImageDraw, text: str, width: int, size: int) -> ImageFont.ImageFont:
    font = _font(size)
    while size > 20 and draw.textlength(text, font=font) > width:
        size -= 4
        font = _font(size)
    return font  # type: ignore[return-value]


def render_sheet(line: SheetLine) -> Image.Image:
    """One A4 sheet at 150 dpi: a large QR code and large readable text."""
    page = Image.new("L", _A4, 255)
    draw = ImageDraw.Draw(page)
    width = _A4[0]
    margin = 90
    draw.text((width // 2, 80), "LEMBAR PEMISAH", fill=0, font=_font(64), anchor="mt")
    draw.text(
        (width // 2, 160),
        "Letakkan di depan dokumennya, lalu pindai bersama.",
        fill=0,
        font=_font(30),
        anchor="mt",
    )
    qr = segno.make(line.code.payload, error="m", micro=False)
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=11, border=4)
    buffer.seek(0)
    with Image.open(buffer) as code:
        code_image = code.convert("L")
    page.paste(code_image, ((width - code_image.width) // 2, 240))
    y = 240 + code_image.height + 40
    check = _check_value(line.code.usulan_id, line.code.kode)
    for text, size in (
        (line.nama_pegawai or "-", 72),
        (f"NIP {format_nip(line.nip)}", 64),
        (line.nama_dokumen, 72),
        (f"({line.code.kode})", 44),
        (
            f"Usulan {line.code.usulan_id[:8]}  cek {check}",
            32,
        ),
    ):
        font = _fit(draw, text, width - 2 * margin, size)
        draw.text((width // 2, y), text, fill=0, font=font, anchor="mt")
        y += size + 40
    draw.rectangle((margin // 2, margin // 2, width - margin // 2, _A4[1] - margin // 2), width=6)
    return page


def _write_sheets_pdf(lines: list[SheetLine], target: Path) -> Path:
    """Every sheet of `lines`, one per page, as a PDF at `target`."""
    if not lines:
        raise IntakeError("Tidak ada dokumen yang kurang; tidak ada lembar pemisah.", "")
    pages = [render_sheet(line) for line in lines]
    target.parent.mkdir(parents=True, exist_ok=True)
    pages[0].save(target, "PDF", resolution=_DPI, save_all=True, append_images=pages[1:])
    return target


def separator_sheets(
    store: Store, usulan_id: str, target: Path, rules: RulesConfig | None = None
) -> list[SheetLine]:
    """Print the separator sheets of an usulan's missing lines to `target` (PDF);
    the function the CLI and the TUI call. Returns the sheets printed."""
    lines = _sheet_lines(store, usulan_id, rules)
    _write_sheets_pdf(lines, target)
    return lines

"""Builders for real scan files (JPEG, PNG, TIFF, PDF) and for bad ones.

Pages are drawn with Pillow as an A4 sheet at the asked dpi: lines of text, a
coloured letterhead bar and a blue stamp when in colour, and a little scanner
noise, so JPEG and PDF sizes behave like those of real scans. PDFs are built
with pikepdf. Every builder writes the file and returns its path.
"""

from __future__ import annotations

import functools
import io
import random
import struct
import time
import zlib
from collections.abc import Sequence
from pathlib import Path

import pikepdf
from PIL import Image, ImageDraw, ImageFont

A4_INCHES = (8.27, 11.69)

# NIPs that pass the PNS checks (DOMAIN.md): birth date, TMT CPNS >= 18 years on.
NIP_BUDI = "196804111993031009"
NIP_SITI = "197502142000032001"
NIP_UNKNOWN = "198001012005011002"  # valid, but no pegawai has it in the tests


def a4_pixels(dpi: int) -> tuple[int, int]:
    return round(A4_INCHES[0] * dpi), round(A4_INCHES[1] * dpi)


def a4_page(
    *,
    colour: bool = True,
    dpi: int = 300,
    seed: int = 0,
    noise: float = 0.035,
    label: str = "",
) -> Image.Image:
    """One scanned A4 page: text lines, plus a red letterhead bar and a blue
    stamp when `colour`. `label` is printed large at the top (makes pages unique)."""
    rnd = random.Random(seed)
    width, height = a4_pixels(dpi)
    mode = "RGB" if colour else "L"
    white: int | tuple[int, int, int] = (255, 255, 255) if colour else 255
    black: int | tuple[int, int, int] = (20, 20, 20) if colour else 20
    page = Image.new(mode, (width, height), white)
    draw = ImageDraw.Draw(page)
    scale = dpi / 300
    font = ImageFont.load_default(size=max(8, round(38 * scale)))
    big = ImageFont.load_default(size=max(12, round(80 * scale)))
    margin = round(250 * scale)
    if colour:
        draw.rectangle(
            (margin, round(150 * scale), width - margin, round(260 * scale)), fill=(190, 30, 40)
        )
    if label:
        draw.text((margin, round(300 * scale)), label, fill=black, font=big)
    y = round(460 * scale)
    line_height = round(62 * scale)
    while y < height - margin:
        words = (
            "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(2, 9)))
            for _ in range(rnd.randint(6, 12))
        )
        draw.text((margin, y), " ".join(words), fill=black, font=font)
        y += line_height
    if colour:
        cx, cy, r = round(width * 0.7), round(height * 0.85), round(230 * scale)
        draw.ellipse(
            (cx - r, cy - r, cx + r, cy + r), outline=(40, 60, 200), width=round(12 * scale)
        )
    if noise > 0:
        page = Image.blend(page, _grain(width, height, mode), noise)
    return page


@functools.lru_cache(maxsize=4)
def _grain(width: int, height: int, mode: str) -> Image.Image:
    # Gaussian noise is slow to make at 300 dpi; one sheet per size is enough.
    grain = Image.effect_noise((width, height), 40).convert("L")
    return Image.merge("RGB", (grain, grain, grain)) if mode == "RGB" else grain


def photo_page(*, dpi: int = 300) -> Image.Image:
    """A colourful, busy page (a photo, a coloured certificate): hard to compress."""
    width, height = a4_pixels(dpi)
    bands = [Image.effect_noise((width // 40, height // 40), 90) for _ in range(3)]
    page = Image.merge("RGB", bands).resize((width, height), Image.Resampling.BICUBIC)
    return Image.blend(page, _grain(width, height, "RGB"), 0.25)


def jpeg_bytes(page: Image.Image, *, dpi: int = 300, quality: int = 85) -> bytes:
    out = io.BytesIO()
    page.save(out, "JPEG", quality=quality, dpi=(dpi, dpi))
    return out.getvalue()


def jpeg_scan(
    path: Path,
    *,
    colour: bool = True,
    dpi: int = 300,
    quality: int = 85,
    seed: int = 0,
    page: Image.Image | None = None,
) -> Path:
    page = page if page is not None else a4_page(colour=colour, dpi=dpi, seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(jpeg_bytes(page, dpi=dpi, quality=quality))
    return path


def png_scan(path: Path, *, colour: bool = True, dpi: int = 300, seed: int = 0) -> Path:
    page = a4_page(colour=colour, dpi=dpi, seed=seed, noise=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.save(path, "PNG", dpi=(dpi, dpi))
    return path


def tiff_scan(
    path: Path,
    *,
    pages: int = 3,
    colour: bool = False,
    dpi: int = 300,
    compression: str = "tiff_lzw",
    seed: int = 0,
    images: Sequence[Image.Image] | None = None,
) -> Path:
    """A multi-page TIFF; `compression="group4"` makes bitonal pages."""
    frames = (
        list(images)
        if images is not None
        else [
            a4_page(colour=colour, dpi=dpi, seed=seed + i, label=f"Halaman {i + 1}")
            for i in range(pages)
        ]
    )
    if compression == "group4":
        frames = [f.convert("L").point(lambda v: 255 if v > 128 else 0, mode="1") for f in frames]
    path.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(
        path,
        "TIFF",
        save_all=True,
        append_images=frames[1:],
        compression=compression,
        dpi=(dpi, dpi),
    )
    return path


def pdf_from_jpegs(path: Path, jpegs: Sequence[bytes], *, dpi: int = 300) -> Path:
    """A scanner-style PDF: one full-page JPEG per page, placed at `dpi`."""
    pdf = pikepdf.new()
    for data in jpegs:
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
            grey = im.mode == "L"
        image = pikepdf.Stream(pdf, data)
        image.Type = pikepdf.Name.XObject
        image.Subtype = pikepdf.Name.Image
        image.Width = width
        image.Height = height
        image.ColorSpace = pikepdf.Name.DeviceGray if grey else pikepdf.Name.DeviceRGB
        image.BitsPerComponent = 8
        image.Filter = pikepdf.Name.DCTDecode
        w_pt, h_pt = width * 72 / dpi, height * 72 / dpi
        page = pikepdf.Page(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Page,
                MediaBox=[0, 0, w_pt, h_pt],
                Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image)),
            )
        )
        page.obj.Contents = pikepdf.Stream(
            pdf, f"q {w_pt:.3f} 0 0 {h_pt:.3f} 0 0 cm /Im0 Do Q".encode()
        )
        pdf.pages.append(page)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.save(path)
    return path


def pdf_scan(
    path: Path,
    *,
    pages: int = 2,
    colour: bool = True,
    dpi: int = 300,
    quality: int = 85,
    seed: int = 0,
) -> Path:
    jpegs = [
        jpeg_bytes(
            a4_page(colour=colour, dpi=dpi, seed=seed + i, label=f"Halaman {i + 1}"),
            dpi=dpi,
            quality=quality,
        )
        for i in range(pages)
    ]
    return pdf_from_jpegs(path, jpegs, dpi=dpi)


def text_pdf(path: Path, *, pages: int = 1, text: str = "Surat keterangan") -> Path:
    """A born-digital PDF with a text line per page (no images), made with pikepdf."""
    pdf = pikepdf.new()
    font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
    )
    for i in range(pages):
        page = pikepdf.Page(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Page,
                MediaBox=[0, 0, 595, 842],
                Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
            )
        )
        content = f"BT /F1 14 Tf 72 770 Td ({text} {i + 1}) Tj ET".encode()
        page.obj.Contents = pikepdf.Stream(pdf, content)
        pdf.pages.append(page)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.save(path)
    return path


def encrypted_pdf(path: Path, *, user_password: str = "rahasia") -> Path:
    """A PDF that needs a password to open."""
    text_pdf(path)
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.save(path, encryption=pikepdf.Encryption(user=user_password, owner=user_password + "!"))
    return path


def owner_locked_pdf(path: Path) -> Path:
    """A PDF encrypted with an owner password only: it opens without one."""
    text_pdf(path)
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.save(path, encryption=pikepdf.Encryption(user="", owner="pemilik"))
    return path


def truncated_pdf(path: Path, *, keep: float = 0.6) -> Path:
    """A scanner PDF cut short (as by a dropped network copy)."""
    pdf_scan(path, pages=2, colour=False, dpi=150)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def many_pages_pdf(path: Path, pages: int) -> Path:
    """A PDF with `pages` blank pages (cheap to make, for the page limit)."""
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(595, 842))
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.save(path)
    return path


def zero_byte_file(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def jpeg_named_pdf(path: Path, *, seed: int = 0) -> Path:
    """A JPEG saved under a .pdf name: intake must go by the bytes."""
    return jpeg_scan(path, colour=True, dpi=200, seed=seed)


def not_a_scan(path: Path) -> Path:
    """A Word-like ZIP container named as a scan."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    return path


def huge_pixel_png(path: Path, *, width: int = 20_000, height: int = 20_000) -> Path:
    """A decompression bomb: a small file that decodes to width x height pixels.

    Written by hand (bitonal, all white) so building it needs no big buffer.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    squeeze = zlib.compressobj(9)
    parts = [squeeze.compress(row) for _ in range(height)]
    parts.append(squeeze.flush())
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", b"".join(parts))
        + chunk(b"IEND", b"")
    )
    return path


def write_in_chunks(path: Path, data: bytes, *, chunks: int, pause: float) -> None:
    """Write `data` as a slow scanner or network copy would: in pieces, pausing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    step = max(1, -(-len(data) // chunks))
    with path.open("wb") as fh:
        for start in range(0, len(data), step):
            fh.write(data[start : start + step])
            fh.flush()
            time.sleep(pause)

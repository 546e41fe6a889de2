"""Builders for real scan files (JPEG, PNG, TIFF, PDF) and for bad ones.

Pages are drawn with Pillow as an A4 sheet at the asked dpi: lines of text, a
coloured letterhead bar and a blue stamp when in colour, and a little scanner
noise, so JPEG and PDF sizes behave like those of real scans. PDFs are built
with pikepdf. Every builder writes the file and returns its path.
"""

from __future__ import annotations

import functools
import io
import math
import random
import struct
import time
import zlib
from collections.abc import Sequence
from pathlib import Path

import pikepdf
from PIL import Image, ImageChops, ImageDraw, ImageFont

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


# -- office documents as a document scanner delivers them ----------------------------
#
# `a4_page` is a plain test page with scanner grain over the whole sheet. The
# pages below are what an OPD actually scans: a letter or decree with a
# coloured letterhead, a signature and a blue stamp; tables (SKP, transkrip);
# identity cards and pas foto. They are slightly skewed, the ink is soft at
# its edges, and the sensor adds a little grain. A document scanner in
# document mode (`clean=True`) clips the paper to pure white, as most ADF
# scanners do by default; a flatbed or copier in photo mode leaves it grey and
# grainy (`clean=False`).

DOCUMENT_STYLES = ("surat", "tabel", "foto")
_TEXT = (
    "bahwa dalam rangka pembinaan karier pegawai negeri sipil perlu menetapkan keputusan "
    "tentang kenaikan pangkat yang bersangkutan telah memenuhi syarat sesuai peraturan "
    "pemerintah nomor tahun mengingat undang undang aparatur sipil negara menimbang "
    "memperhatikan pertimbangan teknis badan kepegawaian daerah kabupaten provinsi gaji "
    "pokok golongan ruang masa kerja terhitung mulai tanggal pada unit kerja dinas"
)
_WORDS = tuple(_TEXT.split())


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(8, size))


def _paragraph(
    draw: ImageDraw.ImageDraw,
    rnd: random.Random,
    box: tuple[int, int, int, int],
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    line_height: int,
    ink: tuple[int, int, int],
) -> int:
    """Fill `box` with lines of words, ragged on the last line; returns the y reached."""
    left, top, right, bottom = box
    y = top
    lines = rnd.randint(3, 7)
    for line in range(lines):
        if y + line_height > bottom:
            break
        x = left + (round(line_height * 1.5) if line == 0 else 0)
        limit = right if line < lines - 1 else left + (right - left) * rnd.uniform(0.3, 0.8)
        while True:
            word = rnd.choice(_WORDS)
            width = draw.textlength(word + " ", font=font)
            if x + width > limit:
                break
            draw.text((x, y), word, fill=ink, font=font)
            x += width
        y += line_height
    return y + line_height // 2


def _letterhead(
    draw: ImageDraw.ImageDraw, width: int, scale: float, colour: bool, rnd: random.Random
) -> int:
    margin = round(220 * scale)
    cx, cy, r = margin + round(110 * scale), round(230 * scale), round(105 * scale)
    green, gold, red = (20, 110, 60), (225, 175, 40), (190, 30, 40)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=green if colour else (90, 90, 90))
    inner = round(r * 0.72)
    draw.ellipse(
        (cx - inner, cy - inner, cx + inner, cy + inner), fill=gold if colour else (170, 170, 170)
    )
    star = [
        (cx + round(inner * 0.8 * f * math.cos(a)), cy + round(inner * 0.8 * f * math.sin(a)))
        for i in range(10)
        for a, f in [((i * math.pi / 5) - math.pi / 2, 1.0 if i % 2 == 0 else 0.45)]
    ]
    draw.polygon(star, fill=red if colour else (60, 60, 60))
    text_x = cx + r + round(60 * scale)
    black = (25, 25, 30)
    draw.text(
        (text_x, round(140 * scale)),
        "PEMERINTAH KABUPATEN SUKAMAJU",
        fill=black,
        font=_font(round(52 * scale)),
    )
    draw.text(
        (text_x, round(205 * scale)),
        "BADAN KEPEGAWAIAN DAN PENGEMBANGAN SUMBER DAYA MANUSIA",
        fill=(20, 40, 120) if colour else black,
        font=_font(round(40 * scale)),
    )
    draw.text(
        (text_x, round(265 * scale)),
        f"Jalan Merdeka No. {rnd.randint(1, 200)} Telp. (0{rnd.randint(200, 999)}) "
        f"{rnd.randint(100000, 999999)}",
        fill=black,
        font=_font(round(30 * scale)),
    )
    rule = round(370 * scale)
    draw.rectangle((margin, rule, width - margin, rule + round(9 * scale)), fill=black)
    draw.rectangle(
        (margin, rule + round(16 * scale), width - margin, rule + round(19 * scale)), fill=black
    )
    return rule + round(60 * scale)


def _signature(
    page: Image.Image, rnd: random.Random, at: tuple[int, int], scale: float, colour: bool
) -> None:
    """A pen scribble over a blue stamp, the stamp's ink under the pen's."""
    x0, y0 = at
    sx, sy, r = x0 - round(120 * scale), y0 + round(40 * scale), round(175 * scale)
    pad = round(20 * scale)
    box = (sx - r - pad, y0 - round(150 * scale), x0 + round(520 * scale), sy + r + pad)
    left, top = box[0], box[1]
    region = page.crop(box)
    layer = Image.new("RGB", region.size, (255, 255, 255))
    draw = ImageDraw.Draw(layer)
    blue = (70, 85, 200) if colour else (120, 120, 120)
    for radius, width in ((r, 9), (round(r * 0.7), 4)):
        draw.ellipse(
            (sx - radius - left, sy - radius - top, sx + radius - left, sy + radius - top),
            outline=blue,
            width=max(1, round(width * scale)),
        )
    draw.text(
        (sx - round(70 * scale) - left, sy - round(25 * scale) - top),
        "B K D",
        fill=blue,
        font=_font(round(48 * scale)),
    )
    region = ImageChops.multiply(region, layer)
    pen = Image.new("RGB", region.size, (255, 255, 255))
    draw = ImageDraw.Draw(pen)
    points = []
    for i in range(60):
        t = i / 59
        points.append(
            (
                x0 - left + round((t * 420 + 40 * math.sin(t * 19 + rnd.random())) * scale),
                y0 - top + round((60 * math.sin(t * 11 + rnd.random()) - 30 * t) * scale),
            )
        )
    ink = (25, 35, 110) if colour else (30, 30, 30)
    draw.line(points, fill=ink, width=max(1, round(5 * scale)), joint="curve")
    page.paste(ImageChops.multiply(region, pen), (left, top))


def _photo(size: tuple[int, int], rnd: random.Random) -> Image.Image:
    """A pas foto: a person on a red or blue backdrop, with the texture of a print."""
    width, height = size
    backdrop = rnd.choice([(190, 35, 45), (40, 80, 170)])
    photo = Image.new("RGB", size, backdrop)
    draw = ImageDraw.Draw(photo)
    skin = (rnd.randint(170, 220), rnd.randint(120, 160), rnd.randint(90, 120))
    draw.ellipse((width * 0.05, height * 0.62, width * 0.95, height * 1.4), fill=(30, 30, 40))
    draw.ellipse((width * 0.28, height * 0.16, width * 0.72, height * 0.66), fill=skin)
    draw.chord(
        (width * 0.26, height * 0.1, width * 0.74, height * 0.5), 180, 360, fill=(25, 20, 20)
    )
    texture = [
        Image.effect_noise((max(1, width // 12), max(1, height // 12)), 60).resize(
            size, Image.Resampling.BICUBIC
        )
        for _ in range(3)
    ]
    return Image.blend(photo, Image.merge("RGB", texture), 0.18)


def _identity_card(size: tuple[int, int], rnd: random.Random, scale: float) -> Image.Image:
    width, height = size
    card = Image.new("RGB", size, (175, 210, 235))
    draw = ImageDraw.Draw(card)
    for i in range(0, width, max(1, round(14 * scale))):  # guilloche-like background lines
        draw.arc(
            (i - width // 2, -height // 2, i + width // 2, height + height // 2),
            0,
            360,
            fill=(150, 190, 225),
            width=1,
        )
    font = _font(round(30 * scale))
    draw.text(
        (round(40 * scale), round(20 * scale)), "PROVINSI JAWA BARAT", fill=(20, 20, 20), font=font
    )
    for row in range(8):
        y = round((90 + row * 55) * scale)
        draw.text((round(40 * scale), y), rnd.choice(_WORDS).upper(), fill=(20, 20, 20), font=font)
        draw.text(
            (round(300 * scale), y),
            " ".join(rnd.choice(_WORDS) for _ in range(2)).upper(),
            fill=(20, 20, 20),
            font=font,
        )
    face = _photo((round(width * 0.25), round(height * 0.55)), rnd)
    card.paste(face, (round(width * 0.7), round(height * 0.2)))
    return card


def document_page(
    *,
    style: str = "surat",
    colour: bool = True,
    dpi: int = 300,
    seed: int = 0,
    label: str = "",
    clean: bool = True,
    grain: float = 1.2,
    skew: float | None = None,
) -> Image.Image:
    """One scanned office document page (A4, `style` in DOCUMENT_STYLES); RGB
    when `colour`, else greyscale. `label` is printed near the top right."""
    rnd = random.Random(f"{style}-{seed}")
    width, height = a4_pixels(dpi)
    scale = dpi / 300
    page = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(page)
    margin = round(220 * scale)
    ink = (25, 25, 30)
    y = _letterhead(draw, width, scale, colour, rnd) if style != "foto" else margin
    body = _font(round(40 * scale))
    line_height = round(62 * scale)
    if style == "surat":
        title = _font(round(54 * scale))
        draw.text(
            (width // 2, y + round(30 * scale)),
            "KEPUTUSAN KEPALA BADAN",
            fill=ink,
            font=title,
            anchor="mt",
        )
        draw.text(
            (width // 2, y + round(100 * scale)),
            f"NOMOR: 800/{rnd.randint(100, 9999)}/BKPSDM/{rnd.randint(2015, 2025)}",
            fill=ink,
            font=body,
            anchor="mt",
        )
        y += round(200 * scale)
        while y < height * 0.68:
            y = _paragraph(
                draw, rnd, (margin, y, width - margin, round(height * 0.7)), body, line_height, ink
            )
        _signature(page, rnd, (round(width * 0.58), round(height * 0.8)), scale, colour)
        draw.text((round(width * 0.55), round(height * 0.74)), "KEPALA BADAN,", fill=ink, font=body)
        draw.text(
            (round(width * 0.55), round(height * 0.88)),
            "Drs. NAMA PEJABAT, M.Si",
            fill=ink,
            font=body,
        )
    elif style == "tabel":
        cols = [
            margin,
            margin + round(140 * scale),
            round(width * 0.62),
            round(width * 0.78),
            width - margin,
        ]
        rows = rnd.randint(22, 34)
        row_height = round(72 * scale)
        for row in range(rows + 1):
            line_y = y + row * row_height
            draw.line((cols[0], line_y, cols[-1], line_y), fill=ink, width=max(1, round(3 * scale)))
        for x in cols:
            draw.line((x, y, x, y + rows * row_height), fill=ink, width=max(1, round(3 * scale)))
        header = (20, 40, 120) if colour else ink
        for row in range(rows):
            top = y + row * row_height + round(16 * scale)
            fill = header if row == 0 else ink
            draw.text(
                (cols[0] + round(20 * scale), top), str(row) if row else "NO", fill=fill, font=body
            )
            draw.text(
                (cols[1] + round(20 * scale), top),
                " ".join(rnd.choice(_WORDS) for _ in range(rnd.randint(2, 5))),
                fill=fill,
                font=body,
            )
            draw.text(
                (cols[2] + round(20 * scale), top), f"{rnd.randint(60, 100)}", fill=fill, font=body
            )
            draw.text((cols[3] + round(20 * scale), top), rnd.choice("ABC"), fill=fill, font=body)
        bottom = y + rows * row_height
        if bottom < height * 0.78:
            _signature(page, rnd, (round(width * 0.6), round(height * 0.84)), scale, colour)
    else:  # foto: an identity card and pas foto laid on the glass
        card = _identity_card((round(1012 * scale), round(638 * scale)), rnd, scale)
        page.paste(card, (margin, y + round(100 * scale)))
        for i in range(rnd.randint(1, 4)):
            photo = _photo((round(472 * scale), round(709 * scale)), rnd)
            page.paste(
                photo,
                (margin + i * round(520 * scale), y + round(900 * scale)),
            )
    if label:
        draw.text(
            (width - margin, margin // 2),
            label,
            fill=ink,
            font=_font(round(44 * scale)),
            anchor="rt",
        )
    angle = skew if skew is not None else rnd.uniform(-0.6, 0.6)
    if not colour:
        page = page.convert("L")
    if angle:
        white = (255, 255, 255) if colour else 255
        page = page.rotate(angle, Image.Resampling.BILINEAR, fillcolor=white)
    paper = 255 if clean else 246
    if grain > 0 or paper < 255:
        # Sensor grain (sd `grain` levels) over a paper tone; a document mode
        # scanner then clips what is nearly white to white.
        alpha = 0.02
        noise = _grain_sheet(width, height, page.mode, round(grain / alpha))
        lifted = page.point(lambda v: v * paper // 255) if paper < 255 else page
        page = Image.blend(lifted, noise, alpha) if grain > 0 else lifted
        if clean:
            page = page.point(lambda v: 255 if v >= 244 else v)
    return page


@functools.lru_cache(maxsize=4)
def _grain_sheet(width: int, height: int, mode: str, sigma: int) -> Image.Image:
    grain = Image.effect_noise((width, height), sigma).convert("L")
    # Blending pulls towards the sheet's mean: centre it where the paper is.
    grain = grain.point(lambda v: min(255, v + 127))
    return Image.merge("RGB", (grain, grain, grain)) if mode == "RGB" else grain


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

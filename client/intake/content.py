"""Content-aware page encoding: each page is written for what it carries.

- **teks** (black or grey ink on paper): the paper is flattened (each pixel compared with
  an estimate of the paper around it, so shading, yellowing and a grey flatbed background
  drop out), isolated specks are removed, and the ink is kept as 1-bit CCITT G4 at up to
  300 dpi.
- **campuran** (text with colour that matters: a stamp, a signature in blue ink, a
  coloured letterhead): mixed raster content, as DjVu and archive.org's PDFs do. The
  neutral ink is a 1-bit G4 layer at up to 300 dpi drawn in black over a colour JPEG of
  the page at 150 dpi with that ink whitened out, so the stamp stays blue and the
  background costs little. Coloured ink is never part of the black layer.
- **foto** (photographs, grey-tone pages, pages with large colour areas): JPEG, colour or
  grey as the page is, at 150-200 dpi (never below 150 dpi effective), the quality found
  by a search: the lowest quality whose error against the page stays under a bound.

The structure guard: thresholding must neither lose nor invent ink. When a text page's
faint marks (too light to survive the threshold: pencil, a pale stamp) weigh too much
against its ink, or despeckling removes or adds too much, the page falls back to the next
richer encoding (teks -> foto, campuran -> foto).

Before any of this the page is straightened (upright.py): turned a quarter or half turn
when it was scanned sideways or upside down, and levelled when it lies a few degrees
askew.

Every choice is deterministic (same pixels, same bytes) and reported per page
(`PageRecord`: kind, dpi, bytes, turn, skew) so the verifikator can see how a page was
stored. Pure Pillow, no numpy: runs in the conversion workers like the rest of intake.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import pikepdf
from pikepdf import Name
from PIL import Image, ImageChops, ImageFilter, ImageStat

from client.intake import pages as pg
from client.intake.converted import PageRecord
from client.intake.upright import straighten

CONTENT_STEP: Final = "isi"  # Converted.step of a document encoded here
_TEXT_DPI: Final = 300.0  # the 1-bit layer: CCITT G4 text at 300 dpi reads like the paper
_BACKGROUND_DPI: Final = 150.0  # the colour layer of a campuran page (DOMAIN.md's floor)
_PHOTO_DPI: Final = 200.0  # photos are written at most at this resolution ...
# ... and at least at pg.MIN_DPI (150).

# Ink: at least this much darker than the paper estimated around it (0-255).
_INK_CONTRAST = 80
# Faint marks: darker than the paper by this much but not ink.
_FAINT_CONTRAST = 30
# Chroma (max - min channel) from which a pixel is coloured ink, not black ink.
_INK_CHROMA = 48
# A page whose grey levels are mostly mid-tones is a photo, not text.
_PHOTO_MIDTONES = 0.2
# The structure guard (see module docstring), as ratios of the page's ink pixels.
_MAX_FAINT = 1.2
_MIN_DARK_COVER = 0.8
_SLACK_PIXELS = 64
_DESPECKLE_RANGE = (0.8, 1.1)
# JPEG quality search: the lowest quality whose RMS error (0-255) stays under this.
_PHOTO_RMS = 5.0
_QUALITIES: Final = (30, 40, 50, 60, 70, 80, 90)
_BG_QUALITY = 45
_PAPER_REDUCE = 8  # the paper estimate works at 1/8 of the page ...
_PAPER_WINDOW = 7  # ... over windows of 7 px there (56 px at the page: wider than a letter)


class _PageKind(StrEnum):
    TEXT = "teks"
    MIXED = "campuran"
    PHOTO = "foto"


@dataclass(frozen=True)
class EncodedPage:
    """A page ready for the PDF: `data` is the image img2pdf embeds (a G4 TIFF or a JPEG);
    a campuran page also has its G4 `mask` (the black ink layer, `mask_size` pixels)."""

    record: PageRecord
    data: bytes
    size: tuple[int, int]
    dpi: float
    mask: bytes | None = None
    mask_size: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class _Ink:
    """A page's ink at its own resolution: `ink` is 255 where there is neutral ink."""

    ink: Image.Image
    dark: int  # pixels of ink (coloured or not) before despeckling
    faint: int  # pixels of faint marks
    kept: int  # pixels of neutral ink after despeckling
    black: int  # pixels darker than mid-grey, whatever the paper around them


def _chroma(img: Image.Image) -> Image.Image:
    r, g, b = img.split()
    high = ImageChops.lighter(ImageChops.lighter(r, g), b)
    low = ImageChops.darker(ImageChops.darker(r, g), b)
    return ImageChops.subtract(high, low)


def _paper(grey: Image.Image) -> Image.Image:
    """An estimate of the paper under every pixel: the lightest nearby, smoothed."""
    factor = _PAPER_REDUCE
    small = grey.reduce(factor) if min(grey.size) > factor * 16 else grey
    small = small.filter(ImageFilter.MaxFilter(_PAPER_WINDOW)).filter(ImageFilter.BoxBlur(2))
    return small.resize(grey.size, Image.Resampling.BILINEAR)


def _count(mask: Image.Image) -> int:
    return mask.histogram()[255]


def _ink(img: Image.Image) -> _Ink:
    grey = img.convert("L") if img.mode != "L" else img
    contrast = ImageChops.subtract(_paper(grey), grey)
    hist = contrast.histogram()
    black = sum(grey.histogram()[:128])
    dark = sum(hist[_INK_CONTRAST:])
    faint = sum(hist[_FAINT_CONTRAST:_INK_CONTRAST])
    ink = contrast.point([255 if v >= _INK_CONTRAST else 0 for v in range(256)])
    if img.mode == "RGB":
        neutral = _chroma(img).point([255 if v < _INK_CHROMA else 0 for v in range(256)])
        ink = ImageChops.darker(ink, neutral)
    ink = _majority(ink)  # despeckle: lone dots go, strokes stay
    return _Ink(ink, dark, faint, _count(ink), black)


_MAJORITY = [255 if v >= 128 else 0 for v in range(256)]
_INVERT_1 = [255 if v < 128 else 0 for v in range(256)]  # ink (255) -> black (0), mode 1
_ANY = [255 if v > 0 else 0 for v in range(256)]


_MEAN_3X3 = ImageFilter.Kernel((3, 3), [1] * 9, scale=9)


def _majority(mask: Image.Image) -> Image.Image:
    """A 3x3 majority vote on a 0/255 mask (the median of a binary image), through a 3x3
    mean: several times faster than Pillow's rank filter."""
    return mask.filter(_MEAN_3X3).point(_MAJORITY)


def _guard(found: _Ink, *, coloured: bool) -> bool:
    """True when thresholding kept the page's structure (see module docstring)."""
    # Dark areas wider than the paper estimate's window (a solid box, a dark photo, a black
    # page) look like paper to it: their inside would turn white. Ink must account for
    # (nearly) everything darker than mid-grey.
    if found.dark < _MIN_DARK_COVER * found.black - _SLACK_PIXELS:
        return False
    if found.dark == 0:
        return found.faint == 0  # blank paper stays blank; faint-only marks need grey
    if found.faint > _MAX_FAINT * found.dark:
        return False
    if coloured:
        return True  # coloured ink is left out of the layer on purpose: not a loss
    low, high = _DESPECKLE_RANGE
    return low * found.dark <= found.kept <= high * found.dark


def _g4(ink: Image.Image, dpi: float) -> bytes:
    bitonal = ink.point(_INVERT_1, "1")
    return pg.encode_g4_tiff(bitonal, dpi=dpi)


def _at(img: Image.Image, img_dpi: float, dpi: float) -> tuple[Image.Image, float]:
    if dpi < img_dpi - 0.5:
        scaled = pg.resample(img, dpi / img_dpi)
        return scaled, img_dpi * scaled.width / img.width
    return img, img_dpi


def _jpeg(img: Image.Image, quality: int, dpi: float, *, full_chroma: bool = False) -> bytes:
    out = io.BytesIO()
    # full_chroma (4:4:4): thin coloured strokes (a stamp's ring, a signature in blue ink)
    # keep their colour; 4:2:0 would average it away with the paper around them.
    extra = {"subsampling": 0} if full_chroma else {}
    img.save(out, "JPEG", quality=quality, optimize=pg.JPEG_OPTIMIZE, dpi=(dpi, dpi), **extra)
    return out.getvalue()


def _rms(a: Image.Image, b: Image.Image) -> float:
    stat = ImageStat.Stat(ImageChops.difference(a, b))
    return max(stat.rms)


def _search_jpeg(img: Image.Image, dpi: float, *, max_rms: float = _PHOTO_RMS) -> bytes:
    """The smallest JPEG of `img` among `_QUALITIES` whose RMS error is at most `max_rms`
    (binary search: error falls as quality rises); the highest quality if none is."""
    low, high = 0, len(_QUALITIES) - 1
    best: bytes | None = None
    while low <= high:
        middle = (low + high) // 2
        data = _jpeg(img, _QUALITIES[middle], dpi)
        with Image.open(io.BytesIO(data)) as decoded:
            error = _rms(img, decoded.convert(img.mode))
        if error <= max_rms:
            best, high = data, middle - 1
        else:
            low = middle + 1
    return best if best is not None else _jpeg(img, _QUALITIES[-1], dpi)


def _photo(img: Image.Image, img_dpi: float, colour: bool, fallback: bool) -> EncodedPage:
    page = img if colour or img.mode == "L" else img.convert("L")
    if page.mode == "1":
        page = page.convert("L")
    target = max(min(img_dpi, _PHOTO_DPI), min(img_dpi, pg.MIN_DPI))
    scaled, dpi = _at(page, img_dpi, target)
    data = _search_jpeg(scaled, dpi)
    record = PageRecord(_PageKind.PHOTO.value, round(dpi, 1), len(data), colour, fallback)
    return EncodedPage(record, data, scaled.size, dpi)


def _mixed(img: Image.Image, img_dpi: float, found: _Ink) -> EncodedPage:
    text, text_dpi = _at(found.ink, img_dpi, _TEXT_DPI)
    mask = _g4(text, text_dpi)
    # The background: the page at 150 dpi with its black ink (and the ink's soft edges:
    # any ink in a pixel's area) whitened out. Worked at 150 dpi: a quarter of the pixels.
    scaled, dpi = _at(img, img_dpi, min(img_dpi, _BACKGROUND_DPI))
    ink, _ = _at(found.ink, img_dpi, min(img_dpi, _BACKGROUND_DPI))
    if ink.size != scaled.size:
        ink = ink.resize(scaled.size, Image.Resampling.BOX)
    white = Image.new("RGB", scaled.size, (255, 255, 255))
    background = Image.composite(white, scaled, ink.point(_ANY))
    data = _jpeg(background, _BG_QUALITY, dpi, full_chroma=True)
    record = PageRecord(
        _PageKind.MIXED.value, round(min(text_dpi, img_dpi), 1), len(data) + len(mask), True
    )
    return EncodedPage(record, data, scaled.size, dpi, mask, text.size)


def encode_page(img: Image.Image, img_dpi: float) -> EncodedPage:
    """`img` (a flattened page: mode 1, L or RGB, at `img_dpi`) straightened, then encoded
    for its content."""
    img, how = straighten(img)
    encoded = _encode_level(img, img_dpi)
    if not how.changed:
        return encoded
    return replace(encoded, record=replace(encoded.record, turn=how.turn, skew=how.skew))


def _encode_level(img: Image.Image, img_dpi: float) -> EncodedPage:
    if img.mode == "1":  # already bitonal: G4 as it is (at most 300 dpi)
        scaled, dpi = _at(img, img_dpi, min(img_dpi, _TEXT_DPI))
        data = pg.encode_g4_tiff(scaled, dpi=dpi)
        record = PageRecord(_PageKind.TEXT.value, round(dpi, 1), len(data), False)
        return EncodedPage(record, data, scaled.size, dpi)
    colour = img.mode == "RGB" and pg.has_colour(img)
    if not colour and img.mode == "RGB":
        img = img.convert("L")
    grey = img if img.mode == "L" else img.convert("L")
    small = grey.reduce(4) if min(grey.size) > 64 else grey
    midtones = sum(small.histogram()[64:192]) / max(1, small.width * small.height)
    if midtones >= _PHOTO_MIDTONES:
        return _photo(img, img_dpi, colour, False)
    found = _ink(img)
    if not _guard(found, coloured=colour):
        return _photo(img, img_dpi, colour, True)
    if colour:
        return _mixed(img, img_dpi, found)
    text, dpi = _at(found.ink, img_dpi, min(img_dpi, _TEXT_DPI))
    data = _g4(text, dpi)
    return EncodedPage(
        PageRecord(_PageKind.TEXT.value, round(dpi, 1), len(data), False), data, text.size, dpi
    )


# -- the PDF -----------------------------------------------------------------------------

_PAGES_KEY: Final = "/BerkasHalaman"  # document info: JSON list of PageRecord, one a page


def _g4_stream(pdf: pikepdf.Pdf, tiff: bytes, size: tuple[int, int], *, mask: bool) -> Any:
    payload, black_is_1 = pg.g4_payload(tiff)
    width, height = size
    stream = pikepdf.Stream(pdf, payload)
    stream.Type, stream.Subtype = Name.XObject, Name.Image
    stream.Width, stream.Height, stream.BitsPerComponent = width, height, 1
    stream.Filter = Name.CCITTFaxDecode
    stream.DecodeParms = pikepdf.Dictionary(K=-1, Columns=width, Rows=height, BlackIs1=black_is_1)
    if mask:
        # A stencil: black (decoded as 0, as in DeviceGray) is painted in the fill colour.
        stream.ImageMask = True
    else:
        stream.ColorSpace = Name.DeviceGray
    return stream


def _jpeg_stream(pdf: pikepdf.Pdf, data: bytes, size: tuple[int, int]) -> Any:
    with Image.open(io.BytesIO(data)) as img:
        grey = img.mode == "L"
    stream = pikepdf.Stream(pdf, data)
    stream.Type, stream.Subtype = Name.XObject, Name.Image
    stream.Width, stream.Height, stream.BitsPerComponent = size[0], size[1], 8
    stream.ColorSpace = Name.DeviceGray if grey else Name.DeviceRGB
    stream.Filter = Name.DCTDecode
    return stream


def write_pdf(pages: list[EncodedPage], target: Path) -> int:
    """The pages as one PDF at their own size (pixels / dpi), every image embedded as it
    was encoded (no re-encoding); a campuran page draws its black layer over its colour
    layer. The per-page records go into the document info (PAGES_KEY). Deterministic:
    the same pages give the same bytes."""
    pdf = pikepdf.new()
    for page in pages:
        width_pt = page.size[0] * 72 / page.dpi
        height_pt = page.size[1] * 72 / page.dpi
        resources = pikepdf.Dictionary()
        xobjects = pikepdf.Dictionary()
        if page.data[:2] == b"\xff\xd8":
            xobjects.Im0 = _jpeg_stream(pdf, page.data, page.size)
        else:
            xobjects.Im0 = _g4_stream(pdf, page.data, page.size, mask=False)
        box = f"{width_pt:.4f} 0 0 {height_pt:.4f} 0 0 cm"
        content = f"q {box} /Im0 Do Q"
        if page.mask is not None:
            xobjects.Mk0 = _g4_stream(pdf, page.mask, page.mask_size, mask=True)
            content += f" q 0 g {box} /Mk0 Do Q"
        resources.XObject = xobjects
        pdf_page = pikepdf.Page(
            pikepdf.Dictionary(
                Type=Name.Page,
                MediaBox=[0, 0, round(width_pt, 4), round(height_pt, 4)],
                Resources=resources,
                Contents=pikepdf.Stream(pdf, content.encode("ascii")),
            )
        )
        pdf.pages.append(pdf_page)
    records = [asdict(page.record) for page in pages]
    pdf.docinfo[_PAGES_KEY] = json.dumps(records, separators=(",", ":"))
    pdf.docinfo.Producer = "Berkas"
    pdf.save(
        target,
        compress_streams=True,
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
        deterministic_id=True,
    )
    return target.stat().st_size


def page_records(path: Path) -> list[dict[str, Any]]:
    """The per-page records of a PDF written by `write_pdf` ([] for any other PDF)."""
    with pikepdf.open(path) as pdf:
        raw = pdf.docinfo.get(_PAGES_KEY)
        if raw is None:
            return []
        found = json.loads(str(raw))
    return found if isinstance(found, list) else []

"""One scanned page as Pillow sees it: what it looks like (colour? text?), its
resolution, and the encodings the shrink ladder writes it in.

Runs inside the conversion worker; nothing here touches the store.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageChops, TiffImagePlugin

A4_INCHES = (8.27, 11.69)
MIN_DPI = 150.0  # DOMAIN.md: at least 150 dpi effective after any downsampling
_PLAUSIBLE_DPI = (50.0, 2400.0)

# Colour: at least this share of pixels must differ between channels by at
# least _CHROMA. Keeps a blue stamp or signature on an otherwise black-and-white
# page, while ignoring the faint tint of yellowed paper.
_CHROMA = 40
_COLOUR_SHARE = 0.0005
# Text: a page whose grey levels are mostly near black or near white.
_MIDTONE_SHARE = 0.2
_WHITE = 255


@dataclass(frozen=True)
class PageLook:
    colour: bool  # content in colour (not merely stored as RGB)
    text: bool  # no colour and mostly ink on paper: bitonal stays legible


def plausible_dpi(dpi: object) -> float | None:
    """The smaller of an image's (x, y) resolution, if it is believable."""
    if not isinstance(dpi, tuple) or len(dpi) != 2:
        return None
    try:
        value = min(float(dpi[0]), float(dpi[1]))
    except (TypeError, ValueError):
        return None
    low, high = _PLAUSIBLE_DPI
    return value if low <= value <= high else None


def guess_dpi(width: int, height: int) -> float:
    """A resolution for an image that states none: as if the sheet were A4."""
    long_side, short_side = max(width, height), min(width, height)
    return max(1.0, min(long_side / A4_INCHES[1], short_side / A4_INCHES[0]))


def flatten(img: Image.Image) -> Image.Image:
    """The page in a mode PDF and JPEG take (1, L or RGB): transparency onto
    white, palettes expanded, 16-bit and CMYK converted."""
    mode = img.mode
    if mode in ("1", "L", "RGB"):
        return img
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (_WHITE, _WHITE, _WHITE))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background.convert("L") if mode == "LA" else background
    if mode.startswith("I;16") or mode in ("I", "F"):
        wide = img.convert("F") if mode == "F" else img.convert("I")
        peak = wide.getextrema()[1]
        scale = 255 / 65535 if isinstance(peak, int | float) and peak > 255 else 1
        return wide.point(lambda v: v * scale).convert("L")
    return img.convert("RGB")


def _reduced(img: Image.Image, side: int = 700) -> Image.Image:
    factor = max(1, min(img.size) // side)
    return img.reduce(factor) if factor > 1 else img


def has_colour(img: Image.Image) -> bool:
    if img.mode in ("1", "L"):
        return False
    small = _reduced(img.convert("RGB") if img.mode != "RGB" else img)
    r, g, b = small.split()
    high = ImageChops.lighter(ImageChops.lighter(r, g), b)
    low = ImageChops.darker(ImageChops.darker(r, g), b)
    histogram = ImageChops.subtract(high, low).histogram()
    strong = sum(histogram[_CHROMA:])
    return strong > _COLOUR_SHARE * small.width * small.height


def looks_like_text(grey: Image.Image) -> bool:
    histogram = grey.histogram()
    midtones = sum(histogram[64:192])
    return midtones < _MIDTONE_SHARE * grey.width * grey.height


def look(img: Image.Image) -> PageLook:
    if img.mode == "1":
        return PageLook(colour=False, text=True)
    colour = has_colour(img)
    text = not colour and looks_like_text(img.convert("L") if img.mode != "L" else img)
    return PageLook(colour=colour, text=text)


def otsu_threshold(grey: Image.Image) -> int:
    histogram = grey.histogram()
    total = sum(histogram)
    weighted = sum(i * h for i, h in enumerate(histogram))
    below = below_weighted = 0.0
    best, threshold = -1.0, 128
    for level in range(256):
        below += histogram[level]
        if below == 0:
            continue
        above = total - below
        if above == 0:
            break
        below_weighted += level * histogram[level]
        mean_below = below_weighted / below
        mean_above = (weighted - below_weighted) / above
        spread = below * above * (mean_below - mean_above) ** 2
        if spread > best:
            best, threshold = spread, level
    return threshold


def to_bitonal(img: Image.Image) -> Image.Image:
    if img.mode == "1":
        return img
    grey = img.convert("L") if img.mode != "L" else img
    cut = otsu_threshold(grey)
    return grey.point(lambda v: _WHITE if v > cut else 0, mode="1")


def resample(img: Image.Image, scale: float) -> Image.Image:
    """`img` scaled down by `scale` (< 1), bitonal pages kept bitonal."""
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    if img.mode == "1":
        grey = img.convert("L").resize(size, Image.Resampling.BOX)
        return grey.point(lambda v: _WHITE if v > 127 else 0, mode="1")
    # Area averaging: fast, and keeps thin strokes of text legible.
    return img.resize(size, Image.Resampling.BOX)


def encode_jpeg(img: Image.Image, *, quality: int, dpi: float) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, optimize=True, dpi=(dpi, dpi))
    return out.getvalue()


def encode_png(img: Image.Image, *, dpi: float) -> bytes:
    out = io.BytesIO()
    img.save(out, "PNG", dpi=(dpi, dpi))
    return out.getvalue()


def estimate_png(img: Image.Image, *, bands: int = 16, rows: int = 16) -> int:
    """A quick guess of `encode_png`'s size from a few horizontal bands: lossless
    encoding of a noisy 300 dpi page takes seconds and rarely fits a limit."""
    if img.height <= bands * rows * 2:
        return len(encode_png(img, dpi=72))
    step = img.height // bands
    sampled = 0
    for top in range(0, img.height - rows, step):
        out = io.BytesIO()
        img.crop((0, top, img.width, top + rows)).save(out, "PNG", compress_level=1)
        sampled += len(out.getvalue())
    return int(sampled * img.height / (rows * bands) * 0.85)


def encode_g4_tiff(img: Image.Image, *, dpi: float) -> bytes:
    """A bitonal page as a single-strip CCITT G4 TIFF (what PDF embeds as is)."""
    bitonal = to_bitonal(img)
    out = io.BytesIO()
    strip = (bitonal.width + 7) // 8 * bitonal.height
    bitonal.save(out, "TIFF", compression="group4", dpi=(dpi, dpi), strip_size=max(strip, 1))
    return out.getvalue()


def g4_payload(tiff: bytes) -> tuple[bytes, bool]:
    """The CCITT G4 data inside a single-strip TIFF from `encode_g4_tiff`, and
    whether its 1 bits are black (PDF's /BlackIs1), from the TIFF's photometric tag."""
    with Image.open(io.BytesIO(tiff)) as img:
        assert isinstance(img, TiffImagePlugin.TiffImageFile)
        offsets = img.tag_v2[TiffImagePlugin.STRIPOFFSETS]
        counts = img.tag_v2[TiffImagePlugin.STRIPBYTECOUNTS]
        photometric = img.tag_v2.get(TiffImagePlugin.PHOTOMETRIC_INTERPRETATION, 0)
    if not isinstance(offsets, tuple):
        offsets, counts = (offsets,), (counts,)
    if len(offsets) != 1:
        raise ValueError(f"G4 TIFF has {len(offsets)} strips")
    start = int(offsets[0])
    return tiff[start : start + int(counts[0])], photometric == 1


def render(
    img: Image.Image, img_dpi: float, *, codec: str, dpi: float, quality: int, grey: bool
) -> tuple[bytes, tuple[int, int]]:
    """`img` (at `img_dpi`) written as `codec` at `dpi` (never above `img_dpi`);
    returns the bytes and the pixel size written."""
    if dpi < img_dpi - 0.5:
        img = resample(img, dpi / img_dpi)
    else:
        dpi = img_dpi
    if codec == "g4":
        return encode_g4_tiff(img, dpi=dpi), img.size
    if codec == "png":
        return encode_png(img, dpi=dpi), img.size
    if (grey or img.mode == "1") and img.mode != "L":
        img = img.convert("L")
    return encode_jpeg(img, quality=quality, dpi=dpi), img.size

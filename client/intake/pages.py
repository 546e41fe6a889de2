"""One scanned page as Pillow sees it: what it looks like (colour? text?), its
resolution, and the encodings the shrink ladder writes it in.

Runs inside the conversion worker; nothing here touches the store.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageChops, JpegImagePlugin, TiffImagePlugin

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


def _looks_like_text(grey: Image.Image) -> bool:
    histogram = grey.histogram()
    midtones = sum(histogram[64:192])
    return midtones < _MIDTONE_SHARE * grey.width * grey.height


def look(img: Image.Image) -> PageLook:
    if img.mode == "1":
        return PageLook(colour=False, text=True)
    colour = has_colour(img)
    text = not colour and _looks_like_text(img.convert("L") if img.mode != "L" else img)
    return PageLook(colour=colour, text=text)


def otsu_threshold(grey: Image.Image) -> int:
    """The grey level that best splits ink from paper (Otsu's method on the histogram)."""
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


def _to_bitonal(img: Image.Image) -> Image.Image:
    if img.mode == "1":
        return img
    grey = img.convert("L") if img.mode != "L" else img
    cut = otsu_threshold(grey)
    return grey.point(lambda v: _WHITE if v > cut else 0, mode="1")


def resample(img: Image.Image, scale: float) -> Image.Image:
    """`img` scaled down by `scale` (< 1), bitonal pages kept bitonal."""
    factor = round(1 / scale)
    whole = factor > 1 and abs(factor * scale - 1) < 1e-9
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    grey = img.convert("L") if img.mode == "1" else img

    # Area averaging: fast, and keeps thin strokes of text legible. By a whole
    # factor (300 to 150 dpi) `reduce` is the same box average at a fifth of
    # the cost; it rounds the size up, so the resolution never falls below.
    def scaled(src: Image.Image) -> Image.Image:
        return src.reduce(factor) if whole else src.resize(size, Image.Resampling.BOX)

    if img.mode == "1":
        return scaled(grey).point(lambda v: _WHITE if v > 127 else 0, mode="1")
    return scaled(img)


# Huffman tables fitted to the page make it some 7 % smaller, for about twice
# the encoding time (libjpeg codes the page twice).
JPEG_OPTIMIZE = True


def _encode_jpeg(img: Image.Image, *, quality: int, dpi: float) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, optimize=JPEG_OPTIMIZE, dpi=(dpi, dpi))
    return out.getvalue()


# Lossless pages are written as PNG with every row unfiltered, compressed at
# zlib level 3. Pillow's encoder tries each PNG filter on every row: on a
# scanned page that costs twice to four times the time and, on all but tables
# of thin rules, gives a larger file (grain and anti-aliased text defeat the
# predictors; the runs of plain paper do not need them).
#
# A greyscale scan compresses better still, and in two thirds of the time,
# with zlib's run-length strategy: its grain leaves deflate's string matching
# little to find but runs of paper and ink. A clean (born digital) page or a
# photograph does not: each page's strategy is chosen on a sample of its rows.
# Colour pages keep the default (their runs are of pixels, 3 bytes apart).
_PNG_LEVEL = 3
_PNG_ROWS = 128  # rows compressed at a time: memory stays small for any page
_PNG_TYPES = {"L": 0, "RGB": 2}  # PNG colour types
_STRATEGIES = (zlib.Z_DEFAULT_STRATEGY, zlib.Z_RLE)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def _png_rows(img: Image.Image, top: int, bottom: int) -> bytes:
    """Rows `top` to `bottom` of `img`, each behind the filter byte 0 (none)."""
    raw = img.crop((0, top, img.width, bottom)).tobytes()
    width = len(raw) // (bottom - top)
    return b"".join(b"\x00" + raw[start : start + width] for start in range(0, len(raw), width))


def _squeezer(strategy: int) -> zlib._Compress:
    return zlib.compressobj(_PNG_LEVEL, zlib.DEFLATED, 15, 9, strategy)


def _banded(img: Image.Image, bands: int, rows: int) -> list[bytes]:
    """`bands` runs of `rows` rows from down `img`, as PNG rows."""
    step = img.height // bands
    return [_png_rows(img, top, top + rows) for top in range(0, step * bands, step)]


def _squeezed(parts: list[bytes], strategy: int) -> int:
    squeeze = _squeezer(strategy)
    return sum(len(squeeze.compress(part)) for part in parts) + len(squeeze.flush())


def png_strategy(img: Image.Image, *, bands: int = 8, rows: int = 16) -> int:
    """The zlib strategy `_encode_png` uses for `img` (see above)."""
    if img.mode != "L" or img.height <= bands * rows * 2:
        return zlib.Z_DEFAULT_STRATEGY
    parts = _banded(img, bands, rows)
    return min(_STRATEGIES, key=lambda strategy: _squeezed(parts, strategy))


def _encode_png(img: Image.Image, *, dpi: float, strategy: int | None = None) -> bytes:
    if img.mode not in _PNG_TYPES:
        out = io.BytesIO()
        img.save(out, "PNG", dpi=(dpi, dpi), compress_level=_PNG_LEVEL)
        return out.getvalue()
    squeeze = _squeezer(png_strategy(img) if strategy is None else strategy)
    parts = [
        squeeze.compress(_png_rows(img, top, min(top + _PNG_ROWS, img.height)))
        for top in range(0, img.height, _PNG_ROWS)
    ]
    parts.append(squeeze.flush())
    per_metre = round(dpi / 0.0254)
    header = struct.pack(">IIBBBBB", img.width, img.height, 8, _PNG_TYPES[img.mode], 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
            _png_chunk(b"IDAT", b"".join(parts)),
            _png_chunk(b"IEND", b""),
        )
    )


def estimate_png(
    img: Image.Image, *, strategy: int | None = None, bands: int = 16, rows: int = 16
) -> int:
    """A quick guess of `_encode_png`'s size from a few horizontal bands: lossless
    encoding of a grainy 300 dpi page takes long and rarely fits a limit."""
    if img.height <= bands * rows * 2 or img.mode not in _PNG_TYPES:
        return len(_encode_png(img, dpi=72, strategy=strategy))
    chosen = png_strategy(img) if strategy is None else strategy
    sampled = _squeezed(_banded(img, bands, rows), chosen)
    return round(sampled * img.height / (rows * bands))


def encode_g4_tiff(img: Image.Image, *, dpi: float) -> bytes:
    """A bitonal page as a single-strip CCITT G4 TIFF (what PDF embeds as is)."""
    bitonal = _to_bitonal(img)
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
    img: Image.Image,
    img_dpi: float,
    *,
    codec: str,
    dpi: float,
    quality: int,
    grey: bool,
    png_strategy: int | None = None,
) -> tuple[bytes, tuple[int, int]]:
    """`img` (at `img_dpi`) written as `codec` at `dpi` (never above `img_dpi`);
    returns the bytes and the pixel size written. `png_strategy`: see encode_png."""
    original = img
    if dpi < img_dpi - 0.5:
        img = resample(img, dpi / img_dpi)
    else:
        dpi = img_dpi
    if codec == "g4":
        return encode_g4_tiff(img, dpi=dpi), img.size
    if codec == "png":
        strategy = png_strategy if img is original else None  # chosen for the page as it was
        return _encode_png(img, dpi=dpi, strategy=strategy), img.size
    if (grey or img.mode == "1") and img.mode != "L":
        img = img.convert("L")
    return _encode_jpeg(img, quality=quality, dpi=dpi), img.size


# -- size guesses -------------------------------------------------------------------
#
# Encoding a 300 dpi page takes tens of milliseconds; encoding a sample of it
# takes a fraction of that. The sample is full-width strips of rows taken down
# the page (one at a fixed, uneven offset in each of equal bands, so that
# evenly spaced text lines or table rules cannot alias with them), stacked.
# JPEG and CCITT G4 code each band of rows almost on its own, so the sample's
# encoded size, scaled up, predicts the page's. The scale is the rows the
# sample stands for, or better, when the page came as a JPEG: the source's
# own size over the sample's size written the way the source was (same
# quantisation, subsampling and Huffman coding). That cancels what the sample
# happened to catch or miss, and guesses land within a few per cent.
#
# The shrink ladder uses guesses to skip steps that cannot fit, and checks
# every guess it relies on with a real encode.

_SAMPLE_STRIPS = 12
_SAMPLE_ROWS = 48  # a multiple of 16 (one JPEG MCU row) that halves and thirds cleanly
_GOLDEN = 0.6180339887498949
# JPEG's example DC luminance table (Annex K.3): its code counts per length.
_STANDARD_DC_LUMINANCE = bytes([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
JPEG_HEAD = 65_536  # header bytes read to see how a JPEG was written


def _sample_strips(img: Image.Image) -> Image.Image:
    """`_SAMPLE_STRIPS` bands of `_SAMPLE_ROWS` rows from down `img`, stacked; an
    image too short to be worth sampling is returned as it is."""
    if img.height < _SAMPLE_STRIPS * _SAMPLE_ROWS * 3:
        return img
    out = Image.new(img.mode, (img.width, _SAMPLE_STRIPS * _SAMPLE_ROWS))
    pitch = img.height / _SAMPLE_STRIPS
    for i in range(_SAMPLE_STRIPS):
        offset = (i + 1) * _GOLDEN % 1 * (pitch - _SAMPLE_ROWS)
        top = int(i * pitch + offset) // 16 * 16
        out.paste(img.crop((0, top, img.width, top + _SAMPLE_ROWS)), (0, i * _SAMPLE_ROWS))
    return out


def sample_pixels(width: int, height: int) -> int:
    """How many pixels `SizeGuess` keeps for a page of this size."""
    rows = height if height < _SAMPLE_STRIPS * _SAMPLE_ROWS * 3 else _SAMPLE_STRIPS * _SAMPLE_ROWS
    return width * rows


def _jpeg_layout(data: bytes) -> tuple[int, bool | None] | None:
    """Where a JPEG's first scan starts, and whether its DC luminance Huffman
    table is JPEG's example one (None: no such table before the scan); None
    when the header cannot be read from `data`."""
    if not data.startswith(b"\xff\xd8"):
        return None
    pos, standard = 2, None
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker == 0xDA:  # start of scan: the header is over
            return pos, standard
        if marker == 0xC4:
            table = data[pos + 4 : pos + 2 + length]
            at = 0
            while at + 17 <= len(table):
                counts = table[at + 1 : at + 17]
                if table[at] == 0x00 and standard is None:
                    standard = counts == _STANDARD_DC_LUMINANCE
                at += 17 + sum(counts)
        pos += 2 + length
    return None


# -- is a JPEG whole? -----------------------------------------------------------------
#
# A JPEG embedded in the PDF as it is must be whole: a scan cut short (a copy
# stopped half way, a network share that dropped) would show as a page whose
# lower part is grey. Its structure says so without decoding a pixel: every
# marker segment lies within the file, each scan's coded data runs up to a
# marker, and an EOI follows the last scan. A truncated file, or one padded
# with zeros to its announced length, has no marker after its coded data.

_JPEG_READ = 1 << 20
# In entropy-coded data 0xFF is followed by 0x00 (a stuffed byte), a restart
# marker (0xD0-0xD7) or fill 0xFF; anything else begins the next marker.
_CODED_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


class _Reader:
    """Forward reading over a file with a window of at most about 1 MB."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self.buf = b""
        self.pos = 0

    def fill(self, need: int) -> bool:
        """At least `need` bytes from `pos` in `buf`, unless the file ends first."""
        while len(self.buf) - self.pos < need:
            more = self._fh.read(max(_JPEG_READ, need))
            if not more:
                return False
            self.buf = self.buf[self.pos :] + more
            self.pos = 0
        return True

    def skip_coded(self) -> bool:
        """Move to the marker ending entropy-coded data; False at the end of file."""
        while True:
            found = _CODED_END.search(self.buf, self.pos)
            if found is not None:
                self.pos = found.start()
                return True
            # Keep a trailing 0xFF: its marker byte may be in the next read.
            self.pos = max(self.pos, len(self.buf) - 1)
            if not self.fill(len(self.buf) - self.pos + 1):
                return False


def jpeg_problem(path: Path) -> str | None:
    """Why the JPEG at `path` is not whole (see above), or None when it is."""
    with path.open("rb") as fh:
        data = _Reader(fh)
        if not data.fill(2) or data.buf[:2] != b"\xff\xd8":
            return "no SOI"
        data.pos = 2
        frame = scans = 0
        while True:
            if not data.fill(2):
                return "truncated: no EOI"
            if data.buf[data.pos] != 0xFF:
                # Stray bytes before a marker: libjpeg warns and reads on.
                if not data.skip_coded():
                    return "truncated: no EOI"
                continue
            marker = data.buf[data.pos + 1]
            if marker == 0xFF:  # fill byte before a marker
                data.pos += 1
                continue
            data.pos += 2
            if marker == 0xD9:
                return None if frame and scans else "EOI before any scan"
            if marker in _STANDALONE:
                continue
            if marker == 0xD8:
                return "second SOI"
            if not data.fill(2):
                return "truncated segment"
            length = int.from_bytes(data.buf[data.pos : data.pos + 2], "big")
            if length < 2 or not data.fill(length):
                return "truncated segment"
            data.pos += length
            if marker in _SOF:
                frame += 1
            elif marker == 0xDA:
                if not frame:
                    return "scan before frame header"
                scans += 1
                if not data.skip_coded():
                    return "truncated: coded data runs to the end of the file"


@dataclass(frozen=True)
class JpegSource:
    """How a page's JPEG source was written, and how large its coded data is."""

    coded: int  # bytes after the header
    qtables: dict[int, list[int]]
    subsampling: int
    optimized: bool  # Huffman tables fitted to the image (or progressive)
    progressive: bool

    @classmethod
    def of(cls, img: Image.Image, size: int, head: bytes) -> JpegSource | None:
        """`img` as opened from a JPEG of `size` bytes starting with `head`; None
        when it is not one this can describe."""
        if not isinstance(img, JpegImagePlugin.JpegImageFile) or img.mode not in ("L", "RGB"):
            return None
        layout = _jpeg_layout(head)
        qtables = getattr(img, "quantization", None)
        sampling = JpegImagePlugin.get_sampling(img) if img.mode == "RGB" else 0
        if layout is None or not qtables or sampling < 0:
            return None
        header, standard = layout
        progressive = bool(img.info.get("progressive"))
        return cls(
            size - header, dict(qtables), sampling, progressive or standard is False, progressive
        )

    def coded_size(self, img: Image.Image) -> int | None:
        """The coded bytes of `img` written as this source was."""
        out = io.BytesIO()
        options: dict[str, object] = {
            "qtables": self.qtables,
            "optimize": self.optimized,
            "progressive": self.progressive,
        }
        if img.mode == "RGB":
            options["subsampling"] = self.subsampling
        img.save(out, "JPEG", **options)
        data = out.getvalue()
        layout = _jpeg_layout(data[:JPEG_HEAD])
        return None if layout is None else len(data) - layout[0]


class SizeGuess:
    """Predicted encoded sizes of one page (at `img_dpi`), from a sample of it."""

    def __init__(self, img: Image.Image, img_dpi: float, source: JpegSource | None = None) -> None:
        self._dpi = img_dpi
        self._sample = _sample_strips(img)
        self._scale = img.height / self._sample.height
        if source is not None and self._sample is not img:
            coded = source.coded_size(self._sample)
            # Trust the source's scale unless it is far from the rows' (a
            # source with odd coding or trailing data would mislead).
            if coded and 0.5 <= source.coded / coded / self._scale <= 2:
                self._scale = source.coded / coded
        self._sizes: dict[tuple[str, float, int, bool], int] = {}

    def size(self, *, codec: str, dpi: float, quality: int, grey: bool) -> int:
        """The bytes `render` would write for the whole page, give or take."""
        key = (codec, round(dpi, 3), quality, grey)
        known = self._sizes.get(key)
        if known is None:
            data, _ = render(
                self._sample, self._dpi, codec=codec, dpi=dpi, quality=quality, grey=grey
            )
            header = _jpeg_layout(data[:JPEG_HEAD]) if codec == "jpeg" else None
            fixed = header[0] if header else 0
            known = self._sizes[key] = fixed + round((len(data) - fixed) * self._scale)
        return known

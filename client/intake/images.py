"""JPEG, PNG and (multi-page) TIFF scans to one PDF: Pillow prepares each page,
img2pdf wraps them, and the shrink ladder runs until the PDF fits its limit."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import img2pdf
from PIL import Image, ImageOps

from client.intake import pages as pg
from client.intake import rejection as rj
from client.intake.content import CONTENT_STEP, encode_page, write_pdf
from client.intake.converted import ConversionJob, Converted
from client.intake.ladder import Codec, Encoding, Step, plan_page, walk_ladder
from client.intake.rejection import ScanRejected
from client.intake.sniff import ScanType

# Decoded pages are kept between ladder steps while the whole document stays
# under this many pixels (about 90 MB as RGB); beyond it each step decodes again.
_CACHE_PIXELS = 30_000_000
# Size guesses keep a sample of each page (a sixth of it): for documents up to
# this many sampled pixels (some 16 A4 pages at 300 dpi); longer ones walk the
# ladder step by step.
_SAMPLE_PIXELS = 24_000_000
# What img2pdf adds around the page images, roughly (the guesses are calibrated).
_PDF_BYTES = 1024
_PDF_PAGE_BYTES = 512


@dataclass
class _Page:
    """One page of an image scan: what is known before decoding it, and its
    decoded forms (kept only for small documents)."""

    source: Path
    frame: int
    width: int
    height: int
    dpi: float
    bitonal: bool
    original_size: int | None  # set when the source bytes can be embedded as they are
    jpeg: bool
    g4_share: int | None = None  # a CCITT G4 page: its share of the file's bytes
    cache: bool = False
    _decoded: dict[float, tuple[Image.Image, float]] = field(default_factory=dict)
    _look: pg.PageLook | None = None
    _guess: pg.SizeGuess | None = None
    _png_guess: int | None = None
    _png_strategy: int | None = None  # zlib strategy for the page at its own resolution
    _written: pg.JpegSource | None = None  # how the source JPEG was coded

    def image(self, dpi_cap: float | None = None) -> tuple[Image.Image, float]:
        """The page decoded, upright and flattened, with its resolution. For a
        JPEG asked for half its resolution or less, libjpeg scales while decoding
        (unless the full page is at hand already)."""
        full = self._decoded.get(0.0)
        if full is not None:
            return full
        halved = dpi_cap is not None and self.jpeg and dpi_cap * 2 <= self.dpi
        key = dpi_cap if halved and dpi_cap is not None else 0.0
        hit = self._decoded.get(key)
        if hit is not None:
            return hit
        result = self._decode(key)
        if self.cache:
            self._decoded[key] = result
        return result

    def _decode(self, dpi_cap: float) -> tuple[Image.Image, float]:
        img = Image.open(self.source)
        page: Image.Image | None = None
        try:
            img.seek(self.frame)
            dpi = self.dpi
            if dpi_cap:
                wanted = (round(img.width * dpi_cap / dpi), round(img.height * dpi_cap / dpi))
                img.draft(img.mode, wanted)
                dpi = dpi * img.width / self.width if img.width < self.width else dpi
            img.load()
            if self.jpeg and not dpi_cap:
                with self.source.open("rb") as fh:
                    head = fh.read(pg.JPEG_HEAD)
                self._written = pg.JpegSource.of(img, self.source.stat().st_size, head)
            if self.jpeg:
                ImageOps.exif_transpose(img, in_place=True)
            page = pg.flatten(img)
            if page is img and getattr(img, "fp", None) is not None:
                # A multi-frame file stays open after loading; the page must not.
                # A new image around the same decoded pixels lets the file go
                # (closing it only drops its own reference) without copying them.
                page = img._new(img.im)
            return page, dpi
        finally:
            # A single-frame file closed itself once loaded; closing the image
            # now would discard the very pixels being returned.
            if page is not img:
                img.close()

    def look(self) -> pg.PageLook:
        if self._look is None:
            self._look = pg.look(self.image()[0])
        return self._look

    def guess(self, enc: Encoding) -> int:
        """About the bytes `encode(enc)` gives, without encoding the page."""
        if enc.codec is Codec.ORIGINAL and self.original_size is not None:
            return self.original_size
        if enc.codec is Codec.G4 and self.g4_share is not None and enc.dpi >= self.dpi - 0.5:
            return self.g4_share  # G4 again at its own resolution: about as large as it was
        if enc.codec in (Codec.ORIGINAL, Codec.PNG):
            if self._png_guess is None:
                img = self.image()[0]
                self._png_strategy = pg.png_strategy(img)
                self._png_guess = pg.estimate_png(img, strategy=self._png_strategy)
            return self._png_guess
        if self._guess is None:
            img, img_dpi = self.image()
            self._guess = pg.SizeGuess(img, img_dpi, self._written)
        return self._guess.size(
            codec=enc.codec.value, dpi=enc.dpi, quality=enc.quality, grey=enc.grey
        )

    def encode(self, enc: Encoding) -> bytes:
        if enc.codec is Codec.ORIGINAL:
            return self.source.read_bytes()
        img, img_dpi = self.image(enc.dpi if enc.codec is Codec.JPEG else None)
        data, _ = pg.render(
            img,
            img_dpi,
            codec=enc.codec.value,
            dpi=enc.dpi,
            quality=enc.quality,
            grey=enc.grey,
            png_strategy=self._png_strategy,
        )
        return data


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ScanRejected(rj.too_many_pixels(max_pixels, width=width, height=height))


def _open_pages(job: ConversionJob, scan_type: ScanType) -> list[_Page]:
    result: list[_Page] = []
    file_size = job.source.stat().st_size
    # Our own check below names the size; Pillow's (kept for decoding) would not.
    guard, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        img = Image.open(job.source)
    finally:
        Image.MAX_IMAGE_PIXELS = guard
    with img:
        frames = getattr(img, "n_frames", 1) if scan_type is ScanType.TIFF else 1
        if frames > job.max_pages:
            raise ScanRejected(rj.too_many_pages(frames, job.max_pages))
        for frame in range(frames):
            img.seek(frame)
            _check_pixels(img.width, img.height, job.max_pixels)
            dpi = pg.plausible_dpi(img.info.get("dpi")) or pg.guess_dpi(img.width, img.height)
            plain_png = (
                scan_type is ScanType.PNG
                and img.mode in ("1", "L", "RGB")
                and "transparency" not in img.info
                and not img.info.get("interlace")
            )
            embeddable = scan_type is ScanType.JPEG and img.mode in ("L", "RGB", "CMYK")
            result.append(
                _Page(
                    source=job.source,
                    frame=frame,
                    width=img.width,
                    height=img.height,
                    dpi=dpi,
                    bitonal=img.mode == "1",
                    original_size=file_size if embeddable or plain_png else None,
                    jpeg=scan_type is ScanType.JPEG,
                    g4_share=file_size // frames
                    if img.mode == "1" and img.info.get("compression") == "group4"
                    else None,
                )
            )
    cache = sum(p.width * p.height for p in result) <= _CACHE_PIXELS
    for page in result:
        page.cache = cache
    return result


def _check_complete(path: Path, scan_type: ScanType) -> None:
    """Make sure a file about to be embedded as it is is whole: a JPEG by its
    structure (no pixel decoded: pages.jpeg_problem), a PNG by its checksums."""
    if scan_type is ScanType.JPEG:
        problem = pg.jpeg_problem(path)
        if problem is not None:
            raise ValueError(f"JPEG not whole: {problem}")
        return
    with Image.open(path) as img:
        img.verify()


def _encode_step(
    doc: list[_Page], plans: tuple[Encoding, ...], budget: int | None
) -> tuple[list[bytes], list[float]] | None:
    """Every page in its planned encoding, or None once the pages alone exceed
    `budget` (the PDF around them can only add)."""
    datas: list[bytes] = []
    dpis: list[float] = []
    total = 0
    for page, enc in zip(doc, plans, strict=True):
        if budget is not None:
            if enc.codec is Codec.ORIGINAL and page.original_size is not None:
                if total + page.original_size > budget:
                    return None
            elif enc.codec is Codec.PNG and total + page.guess(enc) > budget:
                return None
        data = page.encode(enc)
        total += len(data)
        if budget is not None and total > budget:
            return None
        datas.append(data)
        dpis.append(enc.dpi if enc.codec is not Codec.ORIGINAL else page.dpi)
    return datas, dpis


def _plans(doc: list[_Page], step: Step) -> tuple[Encoding, ...]:
    return tuple(
        plan_page(
            step,
            source_dpi=page.dpi,
            bitonal_source=page.bitonal,
            has_original=page.original_size is not None,
            look=page.look,
        )
        for page in doc
    )


def _write_pdf(datas: list[bytes], dpis: list[float], target: Path, *, originals: bool) -> int:
    """The pages as one PDF. Only a source embedded as it is (`originals`) may
    carry an EXIF rotation; pages written here are upright already, and asking
    img2pdf to look would have it decode every PNG page just to find none."""
    placed = iter(dpis)

    def layout(width_px: int, height_px: int, _ndpi: object) -> tuple[float, float, float, float]:
        dpi = next(placed)
        width_pt, height_pt = width_px * 72 / dpi, height_px * 72 / dpi
        return width_pt, height_pt, width_pt, height_pt

    with target.open("wb") as out:
        img2pdf.convert(
            *[io.BytesIO(d) for d in datas],
            layout_fun=layout,
            nodate=True,
            # The internal writer adds no random /ID: the same scan gives the
            # same bytes, so a duplicate is found by its SHA-256.
            engine=img2pdf.Engine.internal,
            rotation=img2pdf.Rotation.ifvalid if originals else img2pdf.Rotation.none,
            outputstream=out,
        )
    return target.stat().st_size


def _by_content(job: ConversionJob, doc: list[_Page], scan_type: ScanType) -> Converted | None:
    """Every page encoded for what it carries (content.py); None when the PDF is still
    over the limit (then the shrink ladder takes over)."""
    encoded = []
    for page in doc:
        img, dpi = page.image()
        encoded.append(encode_page(img, dpi))
    size = write_pdf(encoded, job.target)
    if size > job.size_limit:
        return None
    return Converted(
        scan_type.value,
        len(doc),
        size,
        CONTENT_STEP,
        False,
        round(min(page.dpi for page in encoded), 1),
        tuple(page.record for page in encoded),
    )


def normalise_image(job: ConversionJob, scan_type: ScanType) -> Converted:
    doc = _open_pages(job, scan_type)
    by_content = _by_content(job, doc, scan_type)
    if by_content is not None:
        return by_content
    seen: set[tuple[Encoding, ...]] = set()
    checked = False

    def encode(step: Step, budget: int | None) -> tuple[int, float | None] | None:
        nonlocal checked
        plans = _plans(doc, step)
        if plans in seen and budget is not None:
            return None  # the same as a step already tried
        seen.add(plans)
        encoded = _encode_step(doc, plans, budget)
        if encoded is None:
            return None
        originals = any(enc.codec is Codec.ORIGINAL for enc in plans)
        if originals and not checked:
            _check_complete(job.source, scan_type)  # embedded as it is: must be whole
            checked = True
        datas, dpis = encoded
        return _write_pdf(datas, dpis, job.target, originals=originals), min(dpis)

    def guess(step: Step) -> int:
        plans = _plans(doc, step)
        pages = sum(page.guess(enc) for page, enc in zip(doc, plans, strict=True))
        return _PDF_BYTES + _PDF_PAGE_BYTES * len(doc) + pages

    sampled = sum(pg.sample_pixels(p.width, p.height) for p in doc) <= _SAMPLE_PIXELS
    return walk_ladder(job, len(doc), encode, scan_type.value, guess if sampled else None)

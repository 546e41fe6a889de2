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
from client.intake.converted import ConversionJob, Converted
from client.intake.ladder import Codec, Encoding, Step, plan_page, walk_ladder
from client.intake.rejection import ScanRejected
from client.intake.sniff import ScanType

# Decoded pages are kept between ladder steps while the whole document stays
# under this many pixels (about 90 MB as RGB); beyond it each step decodes again.
_CACHE_PIXELS = 30_000_000


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
    cache: bool = False
    _decoded: dict[float, tuple[Image.Image, float]] = field(default_factory=dict)
    _look: pg.PageLook | None = None

    def image(self, dpi_cap: float | None = None) -> tuple[Image.Image, float]:
        """The page decoded, upright and flattened, with its resolution. For a
        JPEG asked for half its resolution or less, libjpeg scales while decoding."""
        halved = dpi_cap is not None and self.jpeg and dpi_cap * 2 <= self.dpi
        key = dpi_cap if halved and dpi_cap is not None else 0.0
        hit = self._decoded.get(key)
        if hit is not None:
            return hit
        with Image.open(self.source) as img:
            img.seek(self.frame)
            dpi = self.dpi
            if key:
                wanted = (round(img.width * key / dpi), round(img.height * key / dpi))
                img.draft(img.mode, wanted)
                dpi = dpi * img.width / self.width if img.width < self.width else dpi
            img.load()
            upright = ImageOps.exif_transpose(img) if self.jpeg else img
            page = pg.flatten(upright)
            if page is img:
                page = img.copy()
        result = (page, dpi)
        if self.cache:
            self._decoded[key] = result
        return result

    def look(self) -> pg.PageLook:
        if self._look is None:
            self._look = pg.look(self.image()[0])
        return self._look

    def encode(self, enc: Encoding) -> bytes:
        if enc.codec is Codec.ORIGINAL:
            return self.source.read_bytes()
        img, img_dpi = self.image(enc.dpi if enc.codec is Codec.JPEG else None)
        data, _ = pg.render(
            img, img_dpi, codec=enc.codec.value, dpi=enc.dpi, quality=enc.quality, grey=enc.grey
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
                )
            )
    if result[0].original_size is not None:
        _check_complete(job.source, scan_type)
    cache = sum(p.width * p.height for p in result) <= _CACHE_PIXELS
    for page in result:
        page.cache = cache
    return result


def _check_complete(path: Path, scan_type: ScanType) -> None:
    """Make sure a file about to be embedded as it is decodes to its end:
    a JPEG at 1/8 scale (cheap, yet every block is read), a PNG by its checksums."""
    with Image.open(path) as img:
        if scan_type is ScanType.JPEG:
            img.draft(img.mode, (max(1, img.width // 8), max(1, img.height // 8)))
            img.load()
        else:
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
            elif enc.codec is Codec.PNG:
                img, _ = page.image()
                if total + pg.estimate_png(img) > budget:
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


def _write_pdf(datas: list[bytes], dpis: list[float], target: Path) -> int:
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
            rotation=img2pdf.Rotation.ifvalid,
            outputstream=out,
        )
    return target.stat().st_size


def normalise_image(job: ConversionJob, scan_type: ScanType) -> Converted:
    doc = _open_pages(job, scan_type)
    seen: set[tuple[Encoding, ...]] = set()

    def encode(step: Step, budget: int | None) -> tuple[int, float | None] | None:
        plans = _plans(doc, step)
        if plans in seen and budget is not None:
            return None  # the same as a step already tried
        seen.add(plans)
        encoded = _encode_step(doc, plans, budget)
        if encoded is None:
            return None
        datas, dpis = encoded
        return _write_pdf(datas, dpis, job.target), min(dpis)

    return walk_ladder(job, len(doc), encode, scan_type.value)

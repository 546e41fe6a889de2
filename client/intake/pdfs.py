"""PDF scans: checked with pikepdf (password, truncation, page and pixel limits),
repacked losslessly, and when still too large, their images recompressed
along the shrink ladder in place, leaving text and vector content as it was."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
from pikepdf import Name
from PIL import Image

from client.intake import pages as pg
from client.intake import rejection as rj
from client.intake.content import CONTENT_STEP, EncodedPage, encode_page, write_pdf
from client.intake.converted import ConversionJob, Converted
from client.intake.ladder import Codec, Encoding, Step, plan_page, walk_ladder
from client.intake.rejection import ScanRejected

_TAIL = 2048
_MIN_RECOMPRESS_PIXELS = 40_000  # logos and rules are left alone
_CACHE_PIXELS = 30_000_000
_SAMPLE_PIXELS = 24_000_000  # see images.py
_SAVE = {
    "compress_streams": True,
    "object_stream_mode": pikepdf.ObjectStreamMode.generate,
    "deterministic_id": True,  # the same scan normalises to the same bytes
    "encryption": False,
}

_Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: _Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _multiply(m: _Matrix, n: _Matrix) -> _Matrix:
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return (
        a * A + b * C,
        a * B + b * D,
        c * A + d * C,
        c * B + d * D,
        e * A + f * C + E,
        e * B + f * D + F,
    )


@dataclass
class _Image:
    """An image XObject the ladder may rewrite."""

    objgen: tuple[int, int]
    width: int
    height: int
    dpi: float  # lowest effective resolution where it is drawn
    raw_size: int
    bitonal: bool
    compressed: bool  # stored with a filter: a lossless save keeps it as large
    cache: bool = False
    sampled: bool = False
    _decoded: Image.Image | None = None
    _look: pg.PageLook | None = None
    _guess: pg.SizeGuess | None = None
    _written: pg.JpegSource | None = None  # how the image was coded, when a JPEG

    def image(self, pdf: pikepdf.Pdf) -> Image.Image:
        if self._decoded is not None:
            return self._decoded
        obj = pdf.get_object(self.objgen)
        assert isinstance(obj, pikepdf.Stream)
        decoded = pikepdf.PdfImage(obj).as_pil_image()
        # Decode now: Pillow would otherwise copy the whole page to save it.
        decoded.load()
        if _filters(obj) == [Name.DCTDecode]:
            head = obj.read_raw_bytes()[: pg.JPEG_HEAD]
            self._written = pg.JpegSource.of(decoded, self.raw_size, head)
        decoded = pg.flatten(decoded)
        if self.cache:
            self._decoded = decoded
        return decoded

    def look(self, pdf: pikepdf.Pdf) -> pg.PageLook:
        if self._look is None:
            self._look = pg.look(self.image(pdf))
        return self._look

    def guess(self, pdf: pikepdf.Pdf, enc: Encoding) -> int:
        """About the bytes this image takes once the ladder has planned `enc`."""
        if self._guess is None:
            self._guess = pg.SizeGuess(self.image(pdf), self.dpi, self._written)
        size = self._guess.size(
            codec=enc.codec.value, dpi=enc.dpi, quality=enc.quality, grey=enc.grey
        )
        return min(size, self.raw_size)  # a rewrite that is no smaller is not made


@dataclass
class _Survey:
    pages: int
    images: dict[tuple[int, int], _Image] = field(default_factory=dict)


def _check_tail(path: Path) -> None:
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(max(0, size - _TAIL))
        tail = fh.read()
    if b"%%EOF" not in tail:
        raise ScanRejected(rj.corrupt("PDF", "no %%EOF at the end: truncated"))


def _open_checked(job: ConversionJob) -> pikepdf.Pdf:
    """The PDF opened, or ScanRejected saying why it cannot be used."""
    _check_tail(job.source)
    try:
        pdf = pikepdf.open(job.source)
    except pikepdf.PasswordError as exc:
        raise ScanRejected(rj.encrypted(type(exc).__name__)) from None
    except pikepdf.PdfError as exc:
        raise ScanRejected(rj.corrupt("PDF", f"pikepdf: {type(exc).__name__}")) from None
    count = len(pdf.pages)
    if count == 0:
        pdf.close()
        raise ScanRejected(rj.corrupt("PDF", "no pages"))
    if count > job.max_pages:
        pdf.close()
        raise ScanRejected(rj.too_many_pages(count, job.max_pages))
    return pdf


def _image_xobjects(resources: pikepdf.Object, depth: int = 0) -> list[pikepdf.Object]:
    found: list[pikepdf.Object] = []
    xobjects = resources.get(Name.XObject) if isinstance(resources, pikepdf.Dictionary) else None
    if not isinstance(xobjects, pikepdf.Dictionary):
        return found
    for _, obj in xobjects.items():
        if not isinstance(obj, pikepdf.Stream):
            continue
        if obj.get(Name.Subtype) == Name.Image:
            found.append(obj)
        elif obj.get(Name.Subtype) == Name.Form and depth < 4:
            found += _image_xobjects(obj.get(Name.Resources, pikepdf.Dictionary()), depth + 1)
    return found


def _placements(page: pikepdf.Page) -> dict[tuple[int, int], tuple[float, float]]:
    """Displayed size in points of each image drawn directly by the page."""
    xobjects = page.resources.get(Name.XObject, pikepdf.Dictionary())
    placed: dict[tuple[int, int], tuple[float, float]] = {}
    ctm, stack = _IDENTITY, []
    for instruction in pikepdf.parse_content_stream(page, "q Q cm Do"):
        if not isinstance(instruction, pikepdf.ContentStreamInstruction):
            continue
        operands, op = instruction.operands, str(instruction.operator)
        if op == "q":
            stack.append(ctm)
        elif op == "Q":
            ctm = stack.pop() if stack else _IDENTITY
        elif op == "cm" and len(operands) == 6:
            m = tuple(float(x) for x in operands)
            ctm = _multiply(m, ctm)  # type: ignore[arg-type]
        elif op == "Do" and operands:
            name = str(operands[0])
            obj = xobjects.get(name) if isinstance(xobjects, pikepdf.Dictionary) else None
            if isinstance(obj, pikepdf.Stream) and obj.get(Name.Subtype) == Name.Image:
                shown = (math.hypot(ctm[0], ctm[1]), math.hypot(ctm[2], ctm[3]))
                placed[obj.objgen] = shown
    return placed


def _filters(obj: pikepdf.Stream) -> list[pikepdf.Object]:
    filters = obj.get(Name.Filter)
    return [filters] if isinstance(filters, pikepdf.Name) else list(filters or [])


def _rewritable(obj: pikepdf.Stream) -> bool:
    names = _filters(obj)
    return (
        not bool(obj.get(Name.ImageMask, False))
        and int(obj.get(Name.BitsPerComponent, 8)) in (1, 8)
        and Name.Decode not in obj
        and Name.Mask not in obj
        and not any(n in (Name.JBIG2Decode, Name.JPXDecode) for n in names)
        and int(obj.Width) * int(obj.Height) >= _MIN_RECOMPRESS_PIXELS
    )


def _survey(pdf: pikepdf.Pdf, max_pixels: int) -> _Survey:
    """Check every page can be read and no image is a pixel bomb; note the
    images the ladder may rewrite, with the resolution they are shown at."""
    result = _Survey(pages=len(pdf.pages))
    try:
        for page in pdf.pages:
            placed = _placements(page)
            box = page.mediabox
            page_in = (
                abs(float(box[2]) - float(box[0])) / 72,
                abs(float(box[3]) - float(box[1])) / 72,
            )
            for obj in _image_xobjects(page.resources):
                assert isinstance(obj, pikepdf.Stream)
                width, height = int(obj.Width), int(obj.Height)
                if width * height > max_pixels:
                    raise ScanRejected(rj.too_many_pixels(max_pixels, width=width, height=height))
                shown = placed.get(obj.objgen)
                if shown and shown[0] > 0 and shown[1] > 0:
                    dpi = min(width / (shown[0] / 72), height / (shown[1] / 72))
                else:  # drawn inside a form: assume it fills the page
                    dpi = max(width / max(page_in[0], 0.1), height / max(page_in[1], 0.1))
                known = result.images.get(obj.objgen)
                if known is not None:
                    known.dpi = min(known.dpi, dpi)
                elif _rewritable(obj):
                    result.images[obj.objgen] = _Image(
                        objgen=obj.objgen,
                        width=width,
                        height=height,
                        dpi=dpi,
                        raw_size=len(obj.read_raw_bytes()),
                        bitonal=int(obj.get(Name.BitsPerComponent, 8)) == 1,
                        compressed=Name.Filter in obj,
                    )
    except pikepdf.PdfError as exc:
        raise ScanRejected(rj.corrupt("PDF", f"page content: {type(exc).__name__}")) from None
    cache = sum(i.width * i.height for i in result.images.values()) <= _CACHE_PIXELS
    sampled = sum(pg.sample_pixels(i.width, i.height) for i in result.images.values())
    for image in result.images.values():
        image.cache = cache
        image.sampled = sampled <= _SAMPLE_PIXELS
    return result


def _replace(obj: pikepdf.Stream, enc: Encoding, data: bytes, size: tuple[int, int]) -> None:
    for key in (Name.DecodeParms, Name.Decode):
        if key in obj:
            del obj[key]
    width, height = size
    if enc.codec is Codec.G4:
        payload, black_is_1 = pg.g4_payload(data)
        obj.write(
            payload,
            filter=Name.CCITTFaxDecode,
            decode_parms=pikepdf.Dictionary(K=-1, Columns=width, Rows=height, BlackIs1=black_is_1),
        )
        obj.ColorSpace = Name.DeviceGray
        obj.BitsPerComponent = 1
    else:
        obj.write(data, filter=Name.DCTDecode)
        with Image.open(io.BytesIO(data)) as written:
            grey = written.mode == "L"
        obj.ColorSpace = Name.DeviceGray if grey else Name.DeviceRGB
        obj.BitsPerComponent = 8
    obj.Width, obj.Height = width, height


_SCAN_OPERATORS = frozenset({"q", "Q", "cm", "Do"})


def _scanned_page(page: pikepdf.Page, found: _Survey) -> _Image | None:
    """The one image a scanner's page consists of, or None when the page holds anything
    else (text, vector drawing, several images, a rotation): such a page is kept as it
    was drawn and the document goes the shrink ladder's way."""
    if int(page.obj.get(Name.Rotate, 0)) % 360:
        return None
    drawn: list[_Image] = []
    for instruction in pikepdf.parse_content_stream(page):
        if not isinstance(instruction, pikepdf.ContentStreamInstruction):
            return None
        op = str(instruction.operator)
        if op not in _SCAN_OPERATORS:
            return None
        if op == "Do":
            xobjects = page.resources.get(Name.XObject, pikepdf.Dictionary())
            obj = xobjects.get(str(instruction.operands[0]))
            image = found.images.get(obj.objgen) if isinstance(obj, pikepdf.Stream) else None
            if image is None:
                return None
            drawn.append(image)
    if len(drawn) != 1:
        return None
    # The image must fill the page (as a scanner's does): the new page is the image's size.
    shown = _placements(page).get(drawn[0].objgen)
    box = page.mediabox
    size = (abs(float(box[2]) - float(box[0])), abs(float(box[3]) - float(box[1])))
    if shown is None or any(abs(a - b) > 0.02 * b for a, b in zip(shown, size, strict=True)):
        return None
    return drawn[0]


def _by_content(job: ConversionJob, pdf: pikepdf.Pdf, found: _Survey) -> Converted | None:
    """A scanner's PDF (one image a page, nothing else) re-encoded page by page for what
    each page carries (content.py); None for any other PDF, or when the result is still
    over the limit."""
    scanned = [_scanned_page(page, found) for page in pdf.pages]
    if not scanned or any(image is None for image in scanned):
        return None
    encoded: list[EncodedPage] = []
    for image in scanned:
        assert image is not None
        encoded.append(encode_page(image.image(pdf), image.dpi))
    size = write_pdf(encoded, job.target)
    if size > job.size_limit:
        return None
    return Converted(
        "pdf",
        len(encoded),
        size,
        CONTENT_STEP,
        False,
        round(min(page.dpi for page in encoded), 1),
        tuple(page.record for page in encoded),
    )


def normalise_pdf(job: ConversionJob) -> Converted:
    with _open_checked(job) as pdf:
        found = _survey(pdf, job.max_pixels)
        by_content = _by_content(job, pdf, found)
        if by_content is not None:
            return by_content
        images = list(found.images.values())
        kept = sum(i.raw_size for i in images if i.compressed)
        if kept <= job.size_limit:
            pdf.remove_unreferenced_resources()
            pdf.save(job.target, **_SAVE)
            lossless: int | None = job.target.stat().st_size
        else:
            lossless = None  # its compressed images alone are over the limit: skip the save
    shown_dpi = min((i.dpi for i in images), default=None)
    if lossless is not None and lossless <= job.size_limit:
        return Converted("pdf", found.pages, lossless, "asli", False, shown_dpi)
    raw = sum(i.raw_size for i in images)
    # Everything but the rewritable images: known from the lossless save, else
    # at most what the source holds besides them (good enough for a guess).
    base = lossless - raw if lossless is not None else job.source.stat().st_size - raw
    floor = base if lossless is not None else 0  # what an early "cannot fit" may count on

    with pikepdf.open(job.source) as source:

        def plan(step: Step, image: _Image) -> Encoding:
            return plan_page(
                step,
                source_dpi=image.dpi,
                bitonal_source=image.bitonal,
                has_original=False,
                look=lambda: image.look(source),
            )

        def encode(step: Step, budget: int | None) -> tuple[int, float | None] | None:
            if step.lossless:
                return None  # already written above, and too large (or sure to be)
            rewrites: dict[tuple[int, int], tuple[Encoding, bytes, tuple[int, int]]] = {}
            total = floor
            dpis: list[float] = []
            for image in images:
                enc = plan(step, image)
                data, size = pg.render(
                    image.image(source),
                    image.dpi,
                    codec=enc.codec.value,
                    dpi=enc.dpi,
                    quality=enc.quality,
                    grey=enc.grey,
                )
                if len(data) < image.raw_size:
                    rewrites[image.objgen] = (enc, data, size)
                    total += len(data)
                    dpis.append(image.dpi * size[0] / image.width)
                else:
                    total += image.raw_size
                    dpis.append(image.dpi)
                if budget is not None and total > budget:
                    return None
            with pikepdf.open(job.source) as pdf:
                for objgen, (enc, data, size) in rewrites.items():
                    obj = pdf.get_object(objgen)
                    assert isinstance(obj, pikepdf.Stream)
                    _replace(obj, enc, data, size)
                pdf.remove_unreferenced_resources()
                pdf.save(job.target, **_SAVE)
            return job.target.stat().st_size, min(dpis, default=shown_dpi)

        def guess(step: Step) -> int | None:
            if step.lossless:
                return None  # costs nothing to "try"
            return max(base, 0) + sum(image.guess(source, plan(step, image)) for image in images)

        sampled = all(image.sampled for image in images)
        return walk_ladder(job, found.pages, encode, "pdf", guess if sampled else None)

"""Reading a scan's pages in a worker process: separator sheets (QR codes),
where a batch is cut short, the parts between the sheets, and the text of the
first page (OCR of a bounded region) when the name said nothing.

Runs inside the worker pool (`ConversionPool.call`); nothing here touches the
store. The text read never leaves this module's answer: no log line holds it.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import img2pdf
import pikepdf
from PIL import Image

from client.intake.pagetext import kinds_in_text, valid_nips
from client.intake.sheets import decode_sheet
from client.intake.sniff import ScanType, sniff
from client.intake.upright import straighten

log = logging.getLogger(__name__)

# QR codes are looked for on a copy this long on its long side: a separator
# sheet's code is large, and a small copy keeps 100-page batches quick.
_QR_SIDE = 1100
# The OCR region is scaled to at most this width: enough for 10-point text.
_OCR_WIDTH = 1240
# A detected line this wide (share of the region) is body text, read last.
_LONG_LINE = 0.6
_MIN_SCORE = 0.5


@dataclass(frozen=True)
class ReadJob:
    """Pages to read: one scan (PDF, TIFF, image), or a numbered run of images."""

    sources: tuple[Path, ...]
    parts_dir: Path  # where the parts between sheets are written
    ocr: bool  # read the first page's text when no sheet is found
    ocr_region: float = 0.5  # the top share of the first page that is read
    titles: tuple[tuple[str, tuple[str, ...]], ...] = ()  # dokumen kode -> title words
    max_pages: int = 200
    max_pixels: int = 100_000_000
    # For a run: stop at the first page after a sheet that is itself a sheet
    # (the part ends there); the rest of the run is read by a later job.
    run: bool = False


@dataclass(frozen=True)
class Part:
    """The pages between two sheets (or before the first one)."""

    sheet: str  # the QR payload of the sheet in front, "" when none
    first: int  # page index of its first page in the batch (0-based)
    pages: int
    path: Path | None  # the part written as a file; None when it has no pages
    whole: bool  # followed by another sheet, or the batch ended cleanly
    sources: tuple[Path, ...] = ()  # for a run: the files it is made of


@dataclass(frozen=True)
class ReadOutcome:
    pages: int = 0  # pages read (up to a break)
    sheets: tuple[tuple[int, str], ...] = ()  # (page index, QR payload)
    broken_at: int | None = None  # the first page that could not be read
    parts: tuple[Part, ...] = ()
    text: str = ""  # OCR of the first page's region ("" when not read)
    ocr_seconds: float = 0.0
    error: str = ""  # why nothing could be read (the caller goes on without it)
    consumed: tuple[Path, ...] = ()  # a run: the files the parts took (sheets included)
    parts_dir: Path | None = None  # where the parts were written (the caller removes it)


@dataclass
class _Page:
    source: Path
    frame: int  # PDF page or TIFF frame index in its file
    image: Image.Image | None = field(default=None, repr=False)


# -- pages ------------------------------------------------------------------------


def _pdf_page_image(pdf: pikepdf.Pdf, index: int) -> Image.Image | None:
    """The largest image on a PDF page (a scanned page is one image), or None."""
    page = pdf.pages[index]
    best: Any = None
    best_area = 0
    for obj in page.get_images().values():
        area = int(obj.get("/Width", 0)) * int(obj.get("/Height", 0))
        if area > best_area:
            best, best_area = obj, area
    if best is None:
        return None
    return pikepdf.PdfImage(best).as_pil_image()


def _pages(
    sources: Sequence[Path], max_pages: int, max_pixels: int
) -> Iterator[tuple[int, Path, int, Image.Image | None]]:
    """(index, file, frame, image) for every page; raises at a page that
    cannot be decoded (a batch cut short)."""
    index = 0
    for source in sources:
        kind = sniff(source)
        if kind is ScanType.PDF:
            with pikepdf.open(source) as pdf:
                for frame in range(len(pdf.pages)):
                    if index >= max_pages:
                        return
                    yield index, source, frame, _pdf_page_image(pdf, frame)
                    index += 1
        elif isinstance(kind, ScanType):
            with Image.open(source) as img:
                # Frame by frame, not n_frames: a TIFF cut short still yields the
                # frames before the cut (n_frames would fail on the broken chain).
                for frame in itertools.count():
                    if index >= max_pages:
                        return
                    try:
                        img.seek(frame)
                    except EOFError:
                        break
                    if img.width * img.height > max_pixels:
                        raise ValueError("page too large")
                    img.load()
                    yield index, source, frame, img.copy()
                    index += 1
        else:
            raise ValueError(f"not a scan: {kind}")


def _qr_sheet(image: Image.Image | None) -> str:
    """The payload of a Berkas separator sheet on this page, or ""."""
    if image is None:
        return ""
    import zxingcpp

    small = image
    long_side = max(image.size)
    if long_side > _QR_SIDE:
        scale = _QR_SIDE / long_side
        small = image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))),
            Image.Resampling.BILINEAR if image.mode != "1" else Image.Resampling.NEAREST,
        )
    grey = small.convert("L")
    qr = zxingcpp.BarcodeFormat.QRCode
    for code in zxingcpp.read_barcodes(grey, formats=qr):  # type: ignore[arg-type]
        if decode_sheet(code.text) is not None:
            return str(code.text)
    return ""


# -- parts ------------------------------------------------------------------------


def _write_part(pages: Sequence[_Page], target: Path) -> None:
    """The pages as one file the normaliser takes: a PDF for pages of one PDF
    (the page objects copied as they are) and for JPEG files (embedded as they
    are), else a multi-page TIFF (lossless)."""
    sources = {p.source for p in pages}
    kinds = {sniff(s) for s in sources}
    if kinds == {ScanType.PDF} and len(sources) == 1:
        (source,) = sources
        with pikepdf.open(source) as src, pikepdf.new() as out:
            for page in pages:
                out.pages.append(src.pages[page.frame])
            out.save(target)
        return
    if kinds == {ScanType.JPEG} and all(p.frame == 0 for p in pages):
        target.write_bytes(img2pdf.convert([str(p.source) for p in pages]))
        return
    frames: list[Image.Image] = []
    for page in pages:
        with Image.open(page.source) as img:
            img.seek(page.frame)
            frames.append(img.convert("L") if img.mode not in ("1", "L", "RGB") else img.copy())
    bitonal = all(f.mode == "1" for f in frames)
    dpi = frames[0].info.get("dpi", (300, 300))
    frames[0].save(
        target,
        "TIFF",
        save_all=True,
        append_images=frames[1:],
        compression="group4" if bitonal else "tiff_lzw",
        dpi=dpi,
    )


# -- OCR --------------------------------------------------------------------------

_ENGINE: list[Any] = []


def ocr_available() -> bool:
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except Exception:  # ImportError, or OpenCV missing a system library
        return False
    return True


def _engine() -> Any:
    """The OCR engine, loaded once per worker process (its models ship in its wheel)."""
    if not _ENGINE:
        from rapidocr_onnxruntime import RapidOCR

        # One thread per worker: the pool already runs one worker per core.
        _ENGINE.append(RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1))
    return _ENGINE[0]


def text_direction(crops: Sequence[Image.Image]) -> list[tuple[str, float]]:
    """The engine's text direction classifier on pieces of text lines: ("0" or "180",
    its confidence) for each."""
    import numpy as np

    engine = _engine()
    pictures = [np.array(crop.convert("RGB")) for crop in crops]
    _turned, found, _spent = engine.text_cls(pictures)
    return [(str(label), float(score)) for label, score in found]


def ocr_region(
    image: Image.Image,
    region: float,
    titles: Mapping[str, Sequence[str]] | None = None,
    *,
    width: int = _OCR_WIDTH,
) -> str:
    """The text of the top `region` share of a page, line by line, top to bottom.

    Recognition costs in proportion to the width of text read, and body lines
    are the widest: short lines (titles, "NIP : ...", names) are read first,
    and the long ones only when those did not give both a valid NIP and
    exactly one kind's title (`titles`, as in the dokumen table). A region wider than
    `width` pixels is scaled down to it first."""
    import numpy as np

    engine = _engine()
    image, _how = straighten(image)  # a sideways or upside-down page reads as garbage
    top = image.crop((0, 0, image.width, max(1, round(image.height * region))))
    if top.mode not in ("L", "RGB"):
        top = top.convert("L")  # a bitonal page is scaled in grey, not by nearest neighbour
    if top.width > width:
        scale = width / top.width
        top = top.resize((width, max(1, round(top.height * scale))), Image.Resampling.LANCZOS)
    # rapidocr-onnxruntime 1.4's stages, called one by one (pinned in pyproject).
    picture = np.array(top.convert("RGB"))
    boxes, _elapsed = engine.text_det(picture)
    if boxes is None or len(boxes) == 0:
        return ""
    boxes = engine.sorted_boxes(boxes)
    width = picture.shape[1]
    spans = [float(b[:, 0].max() - b[:, 0].min()) for b in boxes]
    short = [i for i, span in enumerate(spans) if span < _LONG_LINE * width]
    rest = [i for i, span in enumerate(spans) if span >= _LONG_LINE * width]
    texts: dict[int, str] = {}

    def recognise(indices: list[int]) -> None:
        if not indices:
            return
        crops = engine.get_crop_img_list(picture, [boxes[i] for i in indices])
        found, _spent = engine.text_rec(crops, False)
        for index, (text, score) in zip(indices, found, strict=False):
            if float(score) >= _MIN_SCORE:
                texts[index] = str(text)

    def joined() -> str:
        return "\n".join(texts[i] for i in sorted(texts))

    recognise(short)
    text = joined()
    if titles is not None and valid_nips(text) and len(kinds_in_text(text, titles)) == 1:
        return text
    recognise(rest)
    return joined()


def sheet_on(path: Path) -> str:
    """The separator sheet payload on a single image file's first page, or ""."""
    try:
        with Image.open(path) as img:
            img.draft("L", (img.width // 2, img.height // 2))  # JPEG: decode at half size
            return _qr_sheet(img.convert("L"))
    except Exception:
        return ""


# -- the job ----------------------------------------------------------------------


def read_scan(job: ReadJob) -> ReadOutcome:
    """Read `job.sources`: find separator sheets and split at them, or read the
    first page's text. Never raises; a failure is `error`."""
    try:
        return _read(job)
    except Exception as exc:  # any bad file: the caller goes on without a reading
        return ReadOutcome(error=f"{type(exc).__name__}: {str(exc)[:200]}")


def _read(job: ReadJob) -> ReadOutcome:
    pages: list[_Page] = []
    sheets: list[tuple[int, str]] = []
    broken_at: int | None = None
    first_image: Image.Image | None = None
    try:
        for index, source, frame, image in _pages(job.sources, job.max_pages, job.max_pixels):
            payload = _qr_sheet(image)
            if job.run and sheets and payload:
                break  # a run: the next sheet starts the next job
            pages.append(_Page(source, frame))
            if payload:
                sheets.append((index, payload))
            elif index == 0 and job.ocr and image is not None:
                first_image = image
    except Exception:
        broken_at = len(pages)
    if not sheets:
        if broken_at is not None and not pages:
            return ReadOutcome(error="halaman pertama tidak terbaca", broken_at=0)
        text, spent = "", 0.0
        if first_image is not None and broken_at is None:
            started = time.monotonic()
            text = ocr_region(first_image, job.ocr_region, dict(job.titles))
            spent = time.monotonic() - started
        return ReadOutcome(pages=len(pages), broken_at=broken_at, text=text, ocr_seconds=spent)
    parts: list[Part] = []
    bounds = [index for index, _ in sheets]
    starts = [0, *bounds] if bounds[0] > 0 else bounds
    job.parts_dir.mkdir(parents=True, exist_ok=True)
    for n, start in enumerate(starts):
        payload = dict(sheets).get(start, "")
        first = start + 1 if payload else start
        end = starts[n + 1] if n + 1 < len(starts) else len(pages)
        last_part = n + 1 == len(starts)
        # A part is whole when another sheet follows it, or when the batch
        # ended cleanly (a run is handed over only once all its files settled).
        whole = not last_part or broken_at is None
        chunk = pages[first:end]
        path: Path | None = None
        if chunk and whole:
            path = job.parts_dir / f"bagian-{n + 1:03d}.pdf"
            _write_part(chunk, path)
        parts.append(
            Part(
                sheet=payload,
                first=first,
                pages=len(chunk),
                path=path,
                whole=whole,
                sources=tuple(dict.fromkeys(p.source for p in pages[start:end])),
            )
        )
    consumed = tuple(dict.fromkeys(p.source for p in pages)) if job.run else ()
    return ReadOutcome(
        pages=len(pages),
        sheets=tuple(sheets),
        broken_at=broken_at,
        parts=tuple(parts),
        consumed=consumed,
        parts_dir=job.parts_dir,
    )

"""Scan compression: how many bytes intake's normalised PDFs keep of the raw scans.

The corpus is the `dokumen` corpus of bench/intake.py (made once and cached in
/tmp/berkas-bench-compression-N): office scans as a scanner writes them, A4 at 300 dpi:
letters and decrees with a coloured letterhead, a signature and a blue stamp, tables (SKP,
transkrip), KTP and pas foto; colour or greyscale JPEG (quality 75-90), scanner PDFs of
JPEG pages, TIFF (half bitonal G4, half greyscale LZW); slight skew, sensor grain, half
with the paper clipped to white.

Every file is normalised by the real converter (client.intake.normalise) in two worker
processes (the intake's default), with the default dokumen size limit. Printed:

- normalised bytes / raw bytes for the whole corpus and for the median file
  (target <= 0.20 for both, issue 18);
- the pages by kind (teks / campuran / foto) and the share that fell back;
- colour kept: every page whose scan carries colour must hold a colour image afterwards;
- pages per second on the two workers (target >= 4: three ADF scanners' pace), and the
  workers' CPU seconds a page (the pace on otherwise idle cores: the machine is shared);
- OCR word agreement, every page: the words the intake's OCR engine (rapidocr, as
  client.intake.page_reading reads a page, the whole page at `--ocr-width` pixels) reads
  on the normalised page (rendered by pypdfium2, as the verifikator's viewer draws it) as
  a share of the words it reads on the original page (target >= 0.98 on every page).
  Words are runs of letters and digits, case folded; a word of the original is kept when
  the normalised page's text, aligned with it letter by letter, has every one of its
  letters (the engine sometimes drops the space between two words). Per corpus
  (all, and by source type and page kind): pages read, min and median agreement, and
  every page below the target with the words it lost. Pages where the original reads no
  word (a pas foto) are counted apart. The originals' text is cached beside the corpus.
  `--no-ocr` skips this (it costs ~10-20 s of CPU a page, far more than the encoding).

`--before` runs the converter as it was before content-aware encoding (the shrink ladder
alone, which keeps a page that fits the limit as it is) for the side-by-side figure.

    .venv/bin/python bench/compression.py [--count 120] [--workers 2] [--before] \
        [--no-ocr] [--ocr-width 1240]
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pikepdf  # noqa: E402
from PIL import Image  # noqa: E402

from bench.intake import _dokumen_jobs, build_corpus, nips  # noqa: E402
from client.intake import images, pdfs  # noqa: E402
from client.intake import pages as pg  # noqa: E402
from client.intake.converted import ConversionJob  # noqa: E402
from client.intake.normalise import normalise  # noqa: E402
from client.intake.page_reading import ocr_available, ocr_region  # noqa: E402
from store.rules import default_config  # noqa: E402

RATIO_TARGET = 0.20
PAGES_PER_S_TARGET = 4.0
AGREEMENT_TARGET = 0.98
_WORD = re.compile(r"\w+")


def _ladder_only() -> None:
    images._by_content = lambda *_: None  # type: ignore[assignment]
    pdfs._by_content = lambda *_: None  # type: ignore[assignment]


def _convert(
    args: tuple[Path, Path, int],
) -> tuple[str, int, int, str, list[str], bool, float]:
    src, target, limit = args
    cpu = time.process_time()
    outcome = normalise(ConversionJob(src, target, limit, 200, 100_000_000))
    cpu = time.process_time() - cpu
    done = outcome.converted
    assert done is not None, (src, outcome.rejection)
    kinds = [r.kind + ("*" if r.fallback else "") for r in done.page_records]
    return str(src), done.size, done.pages, done.step, kinds, done.terlalu_besar, cpu


def _source_pages(path: Path) -> list[Image.Image]:
    if path.suffix == ".pdf":
        out = []
        with pikepdf.open(path) as pdf:
            for page in pdf.pages:
                for raw in page.get_images().values():
                    out.append(pikepdf.PdfImage(raw).as_pil_image())
        return out
    with Image.open(path) as img:
        frames = []
        for n in range(getattr(img, "n_frames", 1)):
            img.seek(n)
            frames.append(img.copy())
        return frames


def _result_colour(path: Path) -> list[bool]:
    """Per page of a normalised PDF: whether any image on it is in colour."""
    out = []
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            colour = False
            for _, raw in page.resources.get("/XObject", pikepdf.Dictionary()).items():
                if raw.get("/Subtype") != pikepdf.Name.Image or raw.get("/ImageMask", False):
                    continue
                if raw.get("/ColorSpace") == pikepdf.Name.DeviceRGB:
                    image = pikepdf.PdfImage(raw).as_pil_image()
                    colour = colour or pg.has_colour(pg.flatten(image))
            out.append(colour)
    return out


def _rendered(path: Path, widths: list[int]) -> list[Image.Image]:
    """The pages of a normalised PDF as the viewer draws them (pypdfium2), each at the
    pixel width of its original page."""
    import pypdfium2 as pdfium

    out = []
    doc = pdfium.PdfDocument(str(path))
    try:
        for index, width in enumerate(widths):
            page = doc[index]
            bitmap = page.render(scale=width / page.get_width())
            out.append(bitmap.to_pil().convert("RGB"))
            page.close()
    finally:
        doc.close()
    return out


def _text(img: Image.Image, width: int) -> str:
    return ocr_region(img, 1.0, width=width)


def _cached_text(img: Image.Image, width: int, cache: Path) -> str:
    """An original page's text, kept beside the corpus (the originals do not change)."""
    if cache.exists():
        return cache.read_text()
    text = _text(img, width)
    cache.write_text(text)
    return text


def _kept_words(before: str, after: str) -> tuple[int, int, tuple[str, ...]]:
    """(words, kept, lost): the original's words (runs of letters and digits, case folded)
    and those read on the normalised page too. The engine does not always see the space
    between two words (it may read "aparatur dinas" on one page and "aparaturdinas" on the
    other), so both texts are compared as letters and digits alone, aligned in reading
    order (difflib); a word is kept when every one of its characters is matched."""
    spans = []
    chars: list[str] = []
    for match in _WORD.finditer(before.casefold()):
        start = len(chars)
        chars.extend(match.group())
        spans.append((start, len(chars), match.group()))
    other = "".join(_WORD.findall(after.casefold()))
    matched = bytearray(len(chars))
    blocks = difflib.SequenceMatcher(None, "".join(chars), other, autojunk=False)
    for a, _, size in blocks.get_matching_blocks():
        matched[a : a + size] = b"\x01" * size
    lost = tuple(word for start, end, word in spans if not all(matched[start:end]))
    return len(spans), len(spans) - len(lost), lost


@dataclass(frozen=True)
class PageReading:
    file: str
    page: int
    words: int  # words read on the original
    kept: int  # of those, read on the normalised page too
    lost: tuple[str, ...]

    @property
    def agreement(self) -> float:
        return self.kept / self.words if self.words else 1.0


def _read_pages(args: tuple[Path, Path, int, Path]) -> list[PageReading]:
    src, target, width, cache_dir = args
    originals = _source_pages(src)
    results = _rendered(target, [img.width for img in originals])
    out = []
    for n, (before_img, after_img) in enumerate(zip(originals, results, strict=True)):
        before = _cached_text(before_img, width, cache_dir / f"{src.name}.p{n + 1}.txt")
        words, kept, lost = _kept_words(before, _text(after_img, width))
        out.append(PageReading(src.name, n + 1, words, kept, lost))
    return out


def _agreement_report(
    readings: list[PageReading], kinds: dict[tuple[str, int], str], types: dict[str, str]
) -> bool:
    """Prints the OCR agreement per corpus; True when every page meets the target."""
    read = [r for r in readings if r.words]
    print(
        f"OCR word agreement (normalised vs original): {len(read)} pages with words, "
        f"{len(readings) - len(read)} without (nothing to compare)"
    )
    groups: dict[str, list[PageReading]] = {"all": read}
    for r in read:
        groups.setdefault(f"type {types[r.file]}", []).append(r)
        groups.setdefault(f"kind {kinds[(r.file, r.page)]}", []).append(r)
    for name, rows in groups.items():
        shares = [r.agreement for r in rows]
        print(
            f"  {name}: {len(rows)} pages, {sum(r.words for r in rows):,} words; "
            f"min {min(shares):.3f}, median {statistics.median(shares):.3f}"
        )
    below = [r for r in read if r.agreement < AGREEMENT_TARGET]
    print(f"  pages below {AGREEMENT_TARGET}: {len(below)}")
    for r in sorted(below, key=lambda r: r.agreement):
        print(
            f"    {r.file} p{r.page} ({kinds[(r.file, r.page)]}): {r.agreement:.3f} "
            f"({r.kept}/{r.words}); lost {' '.join(r.lost[:12])}"
        )
    return not below


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=120)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--before", action="store_true", help="the shrink ladder alone")
    parser.add_argument("--no-ocr", action="store_true", help="skip the OCR word agreement")
    parser.add_argument(
        "--ocr-width",
        type=int,
        default=1240,
        help="pages are read at this width in pixels (1240: as intake reads a page)",
    )
    args = parser.parse_args()
    corpus_dir = Path(tempfile.gettempdir()) / f"berkas-bench-compression-{args.count}"
    jobs = _dokumen_jobs(corpus_dir, args.count, nips(40))
    files = build_corpus(corpus_dir, jobs)
    limit = default_config().dokumen.size_limit
    out_dir = Path(tempfile.mkdtemp(prefix="berkas-bench-norm-"))
    try:
        work = [(src, out_dir / f"{n:05d}.pdf", limit) for n, src in enumerate(files)]
        initializer = _ladder_only if args.before else None
        started = time.perf_counter()
        with ProcessPoolExecutor(args.workers, initializer=initializer) as pool:
            results = list(pool.map(_convert, work, chunksize=1))
        wall = time.perf_counter() - started
        raw_sizes = [src.stat().st_size for src in files]
        sizes = [size for _, size, *_ in results]
        pages = sum(p for _, _, p, *_ in results)
        ratios = [size / raw for size, raw in zip(sizes, raw_sizes, strict=True)]
        steps = Counter(r[3] for r in results)
        kinds = Counter(kind for r in results for kind in r[4])
        too_large = sum(1 for r in results if r[5])
        cpu = sum(r[6] for r in results)
        colour_pages = colour_kept = 0
        for src, target, _ in work:
            before = [pg.has_colour(pg.flatten(img)) for img in _source_pages(src)]
            after = _result_colour(target)
            for had, has in zip(before, after, strict=True):
                if had:
                    colour_pages += 1
                    colour_kept += has
        readings: list[PageReading] = []
        ocr_wall = 0.0
        if not args.no_ocr and ocr_available():
            started = time.perf_counter()
            cache_dir = corpus_dir / f".ocr-{args.ocr_width}"
            cache_dir.mkdir(exist_ok=True)
            reads = [(src, target, args.ocr_width, cache_dir) for src, target, _ in work]
            with ProcessPoolExecutor(args.workers) as pool:
                for found in pool.map(_read_pages, reads, chunksize=1):
                    readings.extend(found)
            ocr_wall = time.perf_counter() - started
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)

    total_ratio = sum(sizes) / sum(raw_sizes)
    median_ratio = statistics.median(ratios)
    pace = pages / wall
    mode = "before (shrink ladder alone)" if args.before else "content-aware"
    print(f"corpus: {len(files)} files, {pages} pages, {sum(raw_sizes):,} bytes raw ({mode})")
    print(f"  by type: {dict(Counter(src.suffix for src in files))}")
    print(f"normalised / raw, whole corpus: {total_ratio:.3f} (target {RATIO_TARGET:.2f})")
    print(f"normalised / raw, median file:  {median_ratio:.3f} (target {RATIO_TARGET:.2f})")
    print(f"  steps: {dict(steps)}; over the limit: {too_large}")
    if kinds:
        print(f"  pages by kind (* = structure guard fell back): {dict(kinds)}")
    print(f"colour kept: {colour_kept} of {colour_pages} pages that carried colour")
    print(
        f"pace: {pace:.1f} pages/s on {args.workers} workers ({wall:.1f} s wall; "
        f"target {PAGES_PER_S_TARGET:.0f}; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f})"
    )
    # On a shared machine the wall clock says more about the neighbours than about us: the
    # workers' CPU seconds give the pace on otherwise idle cores.
    idle_pace = args.workers * pages / cpu if cpu else float("inf")
    print(
        f"  CPU {cpu / pages:.3f} s a page in the workers: {idle_pace:.1f} pages/s "
        f"on {args.workers} idle cores"
    )
    legible = True
    if args.no_ocr:
        print("OCR word agreement: not measured (--no-ocr)")
    elif not ocr_available():
        print("OCR word agreement: not measured (rapidocr-onnxruntime cannot be loaded here)")
        legible = False
    else:
        kinds_by_page = {
            (Path(r[0]).name, n + 1): kind.rstrip("*") or "asli"
            for r in results
            for n, kind in enumerate(r[4] or ["asli"] * r[2])
        }
        types = {src.name: src.suffix.lstrip(".") for src in files}
        legible = _agreement_report(readings, kinds_by_page, types)
        print(f"  read at {args.ocr_width} px wide in {ocr_wall:.0f} s on {args.workers} workers")
    ok = (
        legible
        and total_ratio <= RATIO_TARGET
        and median_ratio <= RATIO_TARGET
        and colour_kept == colour_pages
        and max(pace, idle_pace) >= PAGES_PER_S_TARGET
    )
    print("OK" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

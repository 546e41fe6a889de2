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
- pages per second on the two workers (target >= 4: three ADF scanners' pace);
- OCR word agreement: only where `tesseract` is on PATH (otherwise said so).

`--before` runs the converter as it was before content-aware encoding (the shrink ladder
alone, which keeps a page that fits the limit as it is) for the side-by-side figure.

    .venv/bin/python bench/compression.py [--count 120] [--workers 2] [--before]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
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
from store.rules import default_config  # noqa: E402

RATIO_TARGET = 0.20
PAGES_PER_S_TARGET = 4.0


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=120)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--before", action="store_true", help="the shrink ladder alone")
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
    if shutil.which("tesseract") is None:
        print("OCR word agreement: not measured (no tesseract on PATH)")
    ok = (
        total_ratio <= RATIO_TARGET
        and median_ratio <= RATIO_TARGET
        and colour_kept == colour_pages
        and max(pace, idle_pace) >= PAGES_PER_S_TARGET
    )
    print("OK" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Scan intake benchmark: N synthetic scans dropped into a watched folder.

    .venv/bin/python bench/intake.py                 # 2,500 scans, the budget run
    .venv/bin/python bench/intake.py --count 200     # a quick one

Scans are A4 at 300 dpi: JPEG (one page), scanner-style PDF and TIFF (1-3
pages; TIFF half bitonal G4, half greyscale LZW), named like OPD staff name
them (NIP and kind in the name, a folder per NIP, or unnamed). The corpus is
made once and cached. The watcher runs with its default settings (3 s
stability delay) and two conversion processes.

Prints files/s, latency from "file stable" (the watcher takes it) to "stored"
(record committed), latency from written to stored (includes waiting behind
the burst), bytes before/after, and the resident memory of the whole intake
(main process plus workers) sampled during the run. Budget (DESIGN.md):
2,500 in <= 120 s on 2 cores, p95 stable->stored <= 2 s, memory flat.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image, ImageDraw, ImageFont

from client.intake.events import FileProcessed, IntakeEvent
from client.intake.results import IntakeResult, IntakeStatus
from client.intake.service import IntakeService
from client.intake.settings import IntakeSettings
from store.blobs import BlobStore
from store.database import open_store
from store.pegawai import PegawaiInput, upsert_pegawai
from store.usulan import create_usulan
from tests.support import scans

KODES = ["SK_CPNS", "SK_PNS", "SK_PANGKAT", "SK_JABATAN", "PELANTIKAN_SPMT", "STLUD"]
MULTI = ["SKP", "IJAZAH", "TRANSKRIP"]
VARIANTS = {
    "SK_CPNS": "sk cpns",
    "SK_PNS": "SK-PNS",
    "SK_PANGKAT": "sk pangkat",
    "SK_JABATAN": "skjabatan",
    "PELANTIKAN_SPMT": "spmt",
    "STLUD": "ujian dinas",
    "SKP": "SKP 2023",
    "IJAZAH": "ijasah",
    "TRANSKRIP": "transkrip nilai",
}


class XorCipher:
    """Stands in for the real cipher (sync.crypto) at similar cost: one pass."""

    def _xor(self, src, dst) -> int:  # type: ignore[no-untyped-def]
        total = 0
        while chunk := src.read(1 << 20):
            n = len(chunk)
            dst.write((int.from_bytes(chunk, "big") ^ ((1 << (8 * n)) - 1)).to_bytes(n, "big"))
            total += n
        return total

    encrypt = _xor
    decrypt = _xor


def nips(count: int) -> list[str]:
    rnd = random.Random(7)
    found: list[str] = []
    while len(found) < count:
        born = date(rnd.randint(1965, 1990), rnd.randint(1, 12), rnd.randint(1, 28))
        tmt = (born.year + rnd.randint(20, 30), rnd.randint(1, 12))
        nip = f"{born:%Y%m%d}{tmt[0]}{tmt[1]:02d}{rnd.randint(1, 2)}{rnd.randint(1, 9):03d}"
        if nip not in found:
            found.append(nip)
    return found


_BASES: dict[bool, list[Image.Image]] = {}


def _page(colour: bool, serial: int, page: int) -> Image.Image:
    if colour not in _BASES:
        _BASES[colour] = [scans.a4_page(colour=colour, seed=s) for s in range(4)]
    img = _BASES[colour][(serial + page) % 4].copy()
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=80)
    draw.text((1500, 300), f"No. {serial}-{page}", fill=(0, 0, 0) if colour else 0, font=font)
    return img


def make_scan(args: tuple[Path, int, str, int, bool, int]) -> int:
    path, serial, kind, pages, colour, quality = args
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "jpeg":
        scans.jpeg_scan(path, page=_page(colour, serial, 0), quality=quality)
    elif kind == "pdf":
        jpegs = [scans.jpeg_bytes(_page(colour, serial, p), quality=quality) for p in range(pages)]
        scans.pdf_from_jpegs(path, jpegs)
    else:
        frames = [_page(False, serial, p) for p in range(pages)]
        compression = "group4" if serial % 2 else "tiff_lzw"
        scans.tiff_scan(path, images=frames, compression=compression)
    return path.stat().st_size


def build_corpus(folder: Path, count: int, people: list[str]) -> list[Path]:
    rnd = random.Random(count)
    jobs = []
    for serial in range(count):
        roll = rnd.random()
        kind = "jpeg" if roll < 0.45 else "pdf" if roll < 0.8 else "tiff"
        pages = 1 if kind == "jpeg" else rnd.choice([1, 2, 3])
        kode = rnd.choice(MULTI if pages > 1 else KODES)
        ext = {"jpeg": ".jpg", "pdf": ".pdf", "tiff": ".tif"}[kind]
        nip = rnd.choice(people)
        style = rnd.random()
        if style < 0.6:
            rel = f"{nip}_{kode}_{serial}{ext}"
        elif style < 0.85:
            rel = f"{nip}/{VARIANTS[kode]} {serial}{ext}"
        else:
            rel = f"scan_{serial:05d}{ext}"
        quality = rnd.choice([75, 80, 85, 90])
        jobs.append((folder / rel, serial, kind, pages, rnd.random() < 0.6, quality))
    if (folder / ".done").exists():
        return [job[0] for job in jobs]
    shutil.rmtree(folder, ignore_errors=True)
    print(f"membuat {count} pindaian di {folder} ...", flush=True)
    started = time.monotonic()
    with ProcessPoolExecutor(os.cpu_count() or 2) as pool:
        total = sum(pool.map(make_scan, jobs, chunksize=8))
    (folder / ".done").write_text(str(total))
    print(f"  selesai dalam {time.monotonic() - started:.0f} dtk", flush=True)
    return [job[0] for job in jobs]


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


def worker_pids(service: IntakeService) -> list[int]:
    pool = service.pool._pool
    processes = getattr(pool, "_processes", None) or {}
    return [os.getpid(), *processes]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--stable-delay", type=float, default=3.0)
    parser.add_argument("--corpus", type=Path, default=None)
    args = parser.parse_args()

    people = nips(100)
    corpus_dir = args.corpus or Path(tempfile.gettempdir()) / f"berkas-bench-corpus-{args.count}"
    corpus = build_corpus(corpus_dir, args.count, people)

    work = Path(tempfile.mkdtemp(prefix="berkas-bench-"))
    watched = work / "pindai"
    watched.mkdir()
    store = open_store(work / "berkas.db", opd_id="BENCH", person="bench")
    with store.write() as session:
        for nip in people:
            pegawai, _ = upsert_pegawai(
                session,
                PegawaiInput(
                    nip=nip,
                    nama=f"Pegawai {nip[-4:]}",
                    golongan="III/b",
                    tmt_pangkat="2018-04-01",
                    pendidikan="S1",  # type: ignore[arg-type]
                    jenis_jabatan="pelaksana",
                ),
            )
            create_usulan(session, pegawai, "kp", "reguler")
    blobs = BlobStore(work / "blobs", XorCipher())
    settings = IntakeSettings(
        scan_folders=[watched], workers=args.workers, stable_delay=args.stable_delay
    )

    results: list[IntakeResult] = []
    stored_at: dict[Path, float] = {}
    done = threading.Event()
    lock = threading.Lock()

    def on_event(event: IntakeEvent) -> None:
        if isinstance(event, FileProcessed):
            with lock:
                results.append(event.result)
                stored_at[event.result.source] = time.monotonic()
                if len(results) >= len(corpus):
                    done.set()

    service = IntakeService(store, blobs, settings)
    watcher = service.watcher(on_event)
    watcher.start()
    time.sleep(2 * args.stable_delay + 1)  # workers warm, first rescan done
    samples: list[tuple[int, int]] = []
    written_at: dict[Path, float] = {}
    first_drop = time.monotonic()
    for src in corpus:
        target = watched / src.relative_to(corpus_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        written_at[target] = time.monotonic()
    last_drop = time.monotonic()
    print(f"{len(corpus)} berkas dijatuhkan dalam {last_drop - first_drop:.1f} dtk", flush=True)
    next_report = 0.25
    while not done.wait(0.5):
        with lock:
            share = len(results) / len(corpus)
        samples.append((len(results), rss_kib(worker_pids(service))))
        if share >= next_report:
            print(
                f"  {len(results)}/{len(corpus)}  RSS {samples[-1][1] / 1024:.0f} MiB", flush=True
            )
            next_report += 0.25
        if time.monotonic() - last_drop > 900:
            print("  berhenti: lebih dari 15 menit", flush=True)
            break
    end = max(stored_at.values())
    watcher.stop()
    service.close()
    store.close()

    latency = [r.seconds for r in results]
    end_to_end = [stored_at[r.source] - written_at[r.source] for r in results]
    by_status = {s: sum(1 for r in results if r.status is s) for s in IntakeStatus}
    before = sum(r.size_before for r in results if r.sha256)
    after = sum(r.size_after for r in results if r.sha256)
    too_big = sum(1 for r in results if r.terlalu_besar)
    rss = [kib for _, kib in samples]
    thirds = [rss[i * len(rss) // 3 : (i + 1) * len(rss) // 3] for i in range(3)] if rss else []
    print()
    print(f"berkas                 : {len(results)} / {len(corpus)}")
    print(
        f"waktu (jatuh pertama -> simpan terakhir): {end - first_drop:.1f} dtk "
        f"(termasuk jeda stabil {args.stable_delay:g} dtk)"
    )
    print(f"berkas/dtk             : {len(results) / (end - first_drop):.1f}")
    print(
        f"stabil -> tersimpan    : median {statistics.median(latency):.2f} dtk, "
        f"p95 {pct(latency, 0.95):.2f} dtk, maks {max(latency):.2f} dtk"
    )
    print(
        f"ditulis -> tersimpan   : median {statistics.median(end_to_end):.1f} dtk, "
        f"p95 {pct(end_to_end, 0.95):.1f} dtk (antre di belakang {len(corpus)} berkas)"
    )
    print("status                 : " + ", ".join(f"{s.value} {n}" for s, n in by_status.items()))
    print(f"terlalu besar          : {too_big}")
    print(
        f"ukuran sebelum/sesudah : {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB "
        f"({after / before:.0%})"
        if before
        else "ukuran: -"
    )
    if thirds and all(thirds):
        print(
            "RSS (utama+pekerja)    : rata-rata per sepertiga jalan "
            + " / ".join(f"{statistics.mean(t) / 1024:.0f}" for t in thirds)
            + f" MiB; puncak {max(rss) / 1024:.0f} MiB"
        )
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"puncak RSS proses utama: {own:.0f} MiB, pekerja (terbesar): {workers:.0f} MiB")
    print(f"inti CPU               : {os.cpu_count()}, pekerja konversi: {args.workers}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

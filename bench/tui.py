"""The TUI at 50,000 pegawai and 100,000 dokumen: cold start to first paint, the
Beranda's dashboard, and search keystroke to results on the Pegawai screen.

Targets (DESIGN.md): cold start <= 1 s, search <= 50 ms. Prints figures; asserts
nothing. The data set is built once into bench/out/tui-50k (kept between runs).

- Cold start: the real `berkas --home DIR` in a pseudo-terminal (120x36), from
  spawning the process to the first frame on the terminal (the row of screens
  is painted); then Ctrl+Q. Python start-up and imports are included. The same
  runs also time the Beranda showing its figures (the store opened after the
  first frame, the dashboard computed in a worker).
- Dashboard: `BerkasClient.dashboard` over the store (what the Beranda's worker
  runs), and in the app from start to the worker being done.
- Search: the app in-process (headless, 120x36) on the Pegawai screen, also
  with the scan watcher running and a scan arriving every second. Keys go to
  the app one at a time the way a terminal delivers them; the time is from
  sending the key to the results being in the table. Queries are typed at a
  person's pace (150 ms a key) and then fast (30 ms a key, where keystrokes
  arriving during a query are merged into the next one).

    .venv/bin/python bench/tui.py [--runs 5] [--rebuild]
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import pty
import select
import shutil
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from client.cli_support import save_default_config  # noqa: E402
from client.paths import Paths, resolve_paths  # noqa: E402
from client.sample_data import generate_pegawai  # noqa: E402
from client.services import BerkasClient  # noqa: E402
from store.ids import new_id  # noqa: E402
from store.models import Dokumen, Pegawai, Usulan  # noqa: E402
from store.rules import Layanan, checklist  # noqa: E402

PEGAWAI = 50_000
DOKUMEN = 100_000
DOKUMEN_PER_USULAN = 16
TODAY = date(2026, 11, 23)
START_TARGET_S = 1.0
SEARCH_TARGET_MS = 50.0
SIZE = (120, 36)
DATA_VERSION = "1"


# -- the data set ------------------------------------------------------------------------


def build(home: Path) -> Paths:
    """A home with PEGAWAI pegawai and DOKUMEN dokumen in pensiun usulan (bulk-loaded
    as if pulled from the server: no outbox)."""
    marker = home / f".bench-tui-{DATA_VERSION}-{PEGAWAI}-{DOKUMEN}"
    paths = resolve_paths(home)
    if marker.exists():
        return paths
    shutil.rmtree(home, ignore_errors=True)
    started = time.perf_counter()
    save_default_config(paths, "DISDIK", "Bench")
    client = BerkasClient.open(paths)
    people = generate_pegawai(PEGAWAI, today=TODAY, opds=("DISDIK",))
    opd = client.store.context.opd_id
    stamp = client.store.context.clock.now()
    pegawai_rows: list[dict[str, Any]] = []
    for person in people:
        values = person.data.record_values()
        values.update(id=new_id(), opd_id=opd, version=1, updated_at=stamp, updated_by="bench")
        values.update(deleted=False, riwayat_pangkat=[])
        pegawai_rows.append(values)
    kodes = [item.kode for item in checklist(Layanan.PENSIUN, "bup")][:DOKUMEN_PER_USULAN]
    usulan_rows: list[dict[str, Any]] = []
    dokumen_rows: list[dict[str, Any]] = []
    common = {"opd_id": opd, "version": 1, "updated_at": stamp, "updated_by": "bench"}
    for index in range(DOKUMEN // DOKUMEN_PER_USULAN):
        p = pegawai_rows[index]
        usulan_id = new_id()
        usulan_rows.append(
            {
                **common,
                "id": usulan_id,
                "deleted": False,
                "pegawai_id": p["id"],
                "nip": p["nip"],
                "layanan": "pensiun",
                "jenis": "bup",
                "periode": date(2027, 1 + index % 12, 1),
                "status": "draft" if index % 5 else "diajukan",
                "catatan": "",
                "catatan_verifikator": "",
                "berlaku": [],
                "nomor_pertek": "",
                "tanggal_pertek": None,
            }
        )
        for kode in kodes:
            dokumen_rows.append(
                {
                    **common,
                    "id": new_id(),
                    "deleted": False,
                    "usulan_id": usulan_id,
                    "kode": kode,
                    "sha256": os.urandom(32).hex(),
                    "size": 400_000,
                    "pages": 2,
                    "nama_file": f"{p['nip']}_{kode}.pdf",
                    "state": "ada",
                    "catatan_verifikator": "",
                }
            )
    with client.store.apply_remote() as session:
        session.execute(insert(Pegawai), pegawai_rows)
        session.execute(insert(Usulan), usulan_rows)
        session.execute(insert(Dokumen), dokumen_rows)
    client.close()
    marker.write_text("ok\n")
    print(
        f"data set: {len(pegawai_rows):,} pegawai, {len(usulan_rows):,} usulan, "
        f"{len(dokumen_rows):,} dokumen built in {time.perf_counter() - started:.1f} s"
    )
    return paths


# -- cold start to first paint --------------------------------------------------------------


def berkas_command() -> list[str]:
    script = Path(sys.executable).parent / "berkas"
    return [str(script)] if script.exists() else [sys.executable, "-m", "berkas"]


PAINTED = b"Kotak masuk"  # the row of screens: the first frame
FILLED = "pegawai · hari ini".encode()  # the Beranda's summary line: its data is shown


def first_paint(home: Path, timeout: float = 30.0) -> tuple[float, float]:
    """Seconds from spawning `berkas` in a 120x36 pty to its first frame on the
    terminal, and to the Beranda showing its data."""
    master, slave = pty.openpty()
    cols, rows = SIZE
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*berkas_command(), "--home", str(home)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    os.close(slave)
    seen = b""
    painted: float | None = None
    filled: float | None = None
    try:
        while filled is None:
            left = timeout - (time.perf_counter() - started)
            ready, _, _ = select.select([master], [], [], max(left, 0))
            if not ready:
                raise TimeoutError(f"no Beranda in {timeout} s; output: {seen[-400:]!r}")
            chunk = os.read(master, 1 << 16)
            if not chunk:
                raise RuntimeError(f"berkas exited early: {seen[-400:]!r}")
            seen += chunk
            now = time.perf_counter() - started
            if painted is None and PAINTED in seen:
                painted = now
            if painted is not None and FILLED in seen:
                filled = now
        os.write(master, b"\x11")  # Ctrl+Q
        deadline = time.monotonic() + 10
        while proc.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    os.read(master, 1 << 16)
                except OSError:
                    break
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert painted is not None
    return painted, filled


# -- search keystroke to results --------------------------------------------------------------


async def search_latencies(
    paths: Paths, queries: list[str], pace: float, *, watcher: bool = False
) -> tuple[list[float], float]:
    """Per-keystroke latency (ms) for each prefix of each query, typed at `pace`;
    also how long the Beranda's dashboard took to load in the background.

    With `watcher`, the App watches the scan folder as `berkas` does, and a thread
    drops a scan into it every SCAN_EVERY_S while the queries are typed: the
    intake (its worker pool converting each page, filing into the same store)
    runs beside the search the way it does in an office."""
    from textual import events

    from tui.app import BerkasApp
    from tui.widgets.pegawai_search import PegawaiSearch

    client = BerkasClient.open(paths)
    shown: list[tuple[str, float]] = []  # (query, when its results were in the table)
    arrived = asyncio.Event()

    def hook(message: object) -> None:
        if isinstance(message, PegawaiSearch.Searched):
            shown.append((message.query, time.perf_counter()))
            arrived.set()

    app = BerkasApp(client, today=TODAY, background_intake=watcher)
    dropping = threading.Event()
    dropper = threading.Thread(target=_drop_scans, args=(paths, dropping), daemon=True)
    latencies: list[float] = []
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        started = time.perf_counter()
        await app.workers.wait_for_complete()  # the dashboard, computed in a worker
        dashboard_s = time.perf_counter() - started
        await pilot.press("f3")
        await app.workers.wait_for_complete()
        await pilot.pause()
        driver = app._driver
        assert driver is not None
        search = app.screen.query_one(PegawaiSearch)
        if watcher:
            dropper.start()
        for query in queries:
            search.query_one("#cari").value = ""  # type: ignore[attr-defined]
            await app.workers.wait_for_complete()
            await pilot.pause()
            shown.clear()
            sent: list[tuple[str, float]] = []
            for n in range(1, len(query) + 1):
                key = query[n - 1]
                sent.append((query[:n], time.perf_counter()))
                event = events.Key("space" if key == " " else key, key)
                event.set_sender(app)
                driver.send_message(event)
                await asyncio.sleep(pace)
            deadline = time.perf_counter() + 5
            while not any(q == query for q, _ in shown):
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"no results for {query!r}")
                arrived.clear()
                await asyncio.wait_for(arrived.wait(), timeout=5)
            # A keystroke's results are the first ones shown after it that include it
            # (keys typed during a query are answered together by the next one).
            for prefix, at in sent:
                done = next((t for q, t in shown if t >= at and q.startswith(prefix)), None)
                if done is not None:
                    latencies.append((done - at) * 1000)
        dropping.set()
        if watcher:
            dropper.join()
            typed_at = time.perf_counter()
            while list(paths.scans.glob("*.jpg")) and time.perf_counter() - typed_at < DRAIN_S:
                await asyncio.sleep(0.5)
            left = len(list(paths.scans.glob("*.jpg")))
            print(
                f"  watcher: {_dropped[0]} scans dropped while typing; "
                f"{_dropped[0] - left} taken {time.perf_counter() - typed_at:.1f} s after "
                f"the typing ended, {left} still waiting"
            )
    client.close()
    return latencies, dashboard_s


SCAN_EVERY_S = 1.0
DRAIN_S = 180.0  # how long to wait for the watcher to take what was dropped
_dropped = [0]


def _drop_scans(paths: Paths, stop: threading.Event) -> None:
    """Scans arriving from the office scanner while someone searches (A4, 150 dpi)."""
    from berkas.demo_scans import write_scan

    n = 0
    while not stop.wait(SCAN_EVERY_S):
        n += 1
        write_scan(paths.scans, f"scan{n:04d}.jpg", "SURAT KETERANGAN", f"Halaman {n}", n)
    _dropped[0] = n


def _seconds(code: str) -> float:
    """Wall time of `python -c code` (interpreter start included)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    return time.perf_counter() - started


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[max(int(len(ordered) * 0.95) - 1, 0)]
    return (
        f"median {statistics.median(ordered):6.1f}  p95 {p95:6.1f}  max {ordered[-1]:6.1f}"
        f"  (n={len(ordered)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="cold starts to time")
    parser.add_argument("--rebuild", action="store_true", help="build the data set again")
    args = parser.parse_args()
    home = ROOT / "bench" / "out" / "tui-50k"
    if args.rebuild:
        shutil.rmtree(home, ignore_errors=True)
    paths = build(home)

    first_paint(home)  # warm the OS file cache and Python's bytecode cache
    runs = [first_paint(home) for _ in range(args.runs)]
    starts = [painted for painted, _ in runs]
    verdict = "ok" if statistics.median(starts) <= START_TARGET_S else "OVER"
    print(
        f"cold start to first paint (s):  median {statistics.median(starts):.3f}  "
        f"min {min(starts):.3f}  max {max(starts):.3f}  (n={len(starts)})  "
        f"target <= {START_TARGET_S} s  {verdict}"
    )
    filled = [f for _, f in runs]
    print(
        f"cold start to Beranda with its figures (s):  median {statistics.median(filled):.3f}  "
        f"min {min(filled):.3f}  max {max(filled):.3f}  (n={len(filled)})"
    )
    # Where the start-up time goes: Python itself, the `berkas` entry point's imports,
    # the TUI's first frame, and what loads after it (client.services: SQLAlchemy,
    # pydantic, the rules).
    parts = {
        "python itself": "pass",
        "import client.cli": "import client.cli",
        "+ import tui.app": "import client.cli, tui.app",
        "+ client.services": "import client.cli, tui.app, client.services",
    }
    for label, code in parts.items():
        took = statistics.median(_seconds(code) for _ in range(3))
        print(f"  {label:<22} {took:.3f} s")

    client = BerkasClient.open(paths)
    took = []
    for _ in range(3):
        started = time.perf_counter()
        client.dashboard(TODAY)
        took.append(time.perf_counter() - started)
    client.close()
    print(
        f"dashboard at {PEGAWAI:,} pegawai (s):  BerkasClient.dashboard median "
        f"{statistics.median(took):.3f}  min {min(took):.3f}  max {max(took):.3f}  (n={len(took)})"
    )

    queries = ["budi santoso", "sri wahyuni", "197504", "1968041119", "agus", "dewi lestari"]
    runs_of_search = [
        ("typed at 150 ms/key", 0.15, False),
        ("typed fast, 30 ms/key", 0.03, False),
        ("typed at 150 ms/key, watcher taking a scan a second", 0.15, True),
    ]
    for label, pace, watcher in runs_of_search:
        latencies, dashboard_s = asyncio.run(
            search_latencies(paths, queries, pace, watcher=watcher)
        )
        verdict = "ok" if statistics.median(latencies) <= SEARCH_TARGET_MS else "OVER"
        print(
            f"search keystroke to results (ms), {label}:  {summary(latencies)}  "
            f"target <= {SEARCH_TARGET_MS} ms  {verdict}"
        )
    print(f"dashboard in the app, start to the Beranda's worker done (s):  {dashboard_s:.3f}")


if __name__ == "__main__":
    main()

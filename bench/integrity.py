"""What the integrity checks of berkas.db cost on a 50,000-pegawai store (with usulan).

`PRAGMA quick_check` runs at every open of the store; the full `integrity_check` runs
once a day in the background and on `berkas periksa`. Prints figures; asserts nothing.
    python bench/integrity.py [--count 50000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from client.sample_data import generate_pegawai
from store.database import open_store
from store.integrity import check_file
from store.models import Pegawai, Usulan


def _build(path: Path, count: int) -> None:
    store = open_store(path, opd_id="DISDIK")
    people = generate_pegawai(count, today=date(2026, 11, 23), opds=("DISDIK",))
    with store.apply_remote() as session:
        for n, person in enumerate(people):
            pegawai = Pegawai(**person.data.record_values(), opd_id="DISDIK", version=1)
            session.add(pegawai)
            if n % 10 == 0:  # one in ten with an usulan, as in a KP period
                session.add(
                    Usulan(
                        pegawai_id=pegawai.id,
                        nip=pegawai.nip,
                        layanan="kp",
                        jenis="reguler",
                        opd_id="DISDIK",
                        version=1,
                    )
                )
    store.close()


def _median_ms(call: object, runs: int) -> tuple[float, float]:
    timings = []
    for _ in range(runs):
        t0 = time.perf_counter()
        call()  # type: ignore[operator]
        timings.append((time.perf_counter() - t0) * 1000)
    return statistics.median(timings), max(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "berkas.db"
        started = time.perf_counter()
        _build(path, args.count)
        size_mb = path.stat().st_size / 1e6
        print(
            f"store of {args.count} pegawai ({size_mb:.1f} MB) built in "
            f"{time.perf_counter() - started:.1f} s"
        )
        assert check_file(path, full=False).ok and check_file(path, full=True).ok
        quick = _median_ms(lambda: check_file(path, full=False), args.runs)
        full = _median_ms(lambda: check_file(path, full=True), args.runs)
        plain = _median_ms(lambda: open_store(path, check=False).close(), args.runs)
        checked = _median_ms(lambda: open_store(path).close(), args.runs)
        print(f"{'step':<40}{'median ms':>10}{'max ms':>10}")
        print(f"{'PRAGMA quick_check (each open)':<40}{quick[0]:>10.1f}{quick[1]:>10.1f}")
        print(f"{'PRAGMA integrity_check (daily, periksa)':<40}{full[0]:>10.1f}{full[1]:>10.1f}")
        print(f"{'open_store without the check':<40}{plain[0]:>10.1f}{plain[1]:>10.1f}")
        print(f"{'open_store with quick_check':<40}{checked[0]:>10.1f}{checked[1]:>10.1f}")
        print("(warm page cache: the file was just written; a cold start reads it from disk)")


if __name__ == "__main__":
    main()

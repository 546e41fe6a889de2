"""Pegawai search on a 50,000-pegawai store: NIP lookup, name prefix, word search.

Target (DESIGN.md): <= 50 ms each on a 2-core machine. Prints figures; asserts nothing.
    python bench/store_search.py [--count 50000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from client.sample_data import generate_pegawai
from store.database import open_store
from store.models import Pegawai
from store.pegawai import get_pegawai_by_nip, search_pegawai

TARGET_MS = 50.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "bench.db", opd_id="DISDIK")
        started = time.perf_counter()
        people = generate_pegawai(args.count, today=date(2026, 11, 23), opds=("DISDIK",))
        with store.apply_remote() as session:
            for person in people:
                session.add(Pegawai(**person.data.record_values(), opd_id="DISDIK", version=1))
        print(f"store of {args.count} pegawai built in {time.perf_counter() - started:.1f} s")
        rng = random.Random(7)
        sample = rng.sample(people, min(args.runs, len(people)))
        cases = {
            "NIP lookup (exact)": [lambda p=p: get_pegawai_by_nip(s, p.data.nip) for p in sample],
            "NIP prefix (8 digits)": [
                lambda p=p: search_pegawai(s, p.data.nip[:8]) for p in sample
            ],
            "name prefix (3 letters)": [
                lambda p=p: search_pegawai(s, p.data.nama[:3]) for p in sample
            ],
            "word search (2 words)": [
                lambda p=p: search_pegawai(s, " ".join(w[:4] for w in p.data.nama.split()[:2]))
                for p in sample
            ],
        }
        print(
            f"{'query':<26}{'median ms':>10}{'p95 ms':>10}{'max ms':>10}  target <= {TARGET_MS} ms"
        )
        with store.read() as s:
            for name, calls in cases.items():
                timings = []
                for call in calls:
                    t0 = time.perf_counter()
                    result = call()
                    timings.append((time.perf_counter() - t0) * 1000)
                    assert result, name
                timings.sort()
                p95 = timings[int(len(timings) * 0.95) - 1]
                median = statistics.median(timings)
                verdict = "ok" if median <= TARGET_MS else "OVER"
                print(f"{name:<26}{median:>10.2f}{p95:>10.2f}{timings[-1]:>10.2f}  {verdict}")
        store.close()


if __name__ == "__main__":
    main()

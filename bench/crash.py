"""Crash safety, the long run: the client's sync and its scan intake killed with SIGKILL at
random moments, hundreds of times, restarted after each kill; then the invariants.

After every kill: the SQLite store passes integrity_check and foreign_key_check; an op
leaves the outbox only once the server holds it; a scan is either still in its folder or
filed (with its record committed and its blob whole), never lost, never taken twice.
At the end: every edit reached the server exactly once (op log == ops made, record
versions == ops per record, one status move per submission), the replicas equal the
server, every document is uploaded once and whole, and no blob is orphaned or half-stored.
(tests/e2e/helpers_crash.py has the scenarios; tests/e2e/test_crash.py is the quick run.)

    .venv/bin/python bench/crash.py                   # 200 kills of sync, 200 of intake
    .venv/bin/python bench/crash.py --kills 50 --scenario sync
    .venv/bin/python bench/crash.py --exec            # a fresh interpreter per restart

Prints the kills, the restarts, where the kills landed and each invariant's verdict; exits 1
when one does not hold.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.helpers_crash import (  # noqa: E402
    CrashReport,
    Launcher,
    intake_crash,
    launcher,
    sync_crash,
)


class Progress:
    """Prints every `every`-th kill with a tally of where the kills landed."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.where: Counter[str] = Counter()
        self.count = 0

    def __call__(self, line: str) -> None:
        self.count += 1
        self.where[line.rsplit(", ", 1)[-1]] += 1
        if self.count % self.every == 0:
            tally = ", ".join(f"{n} {where}" for where, n in sorted(self.where.items()))
            print(f"  {line.split(' at ')[0]} ({tally})", flush=True)


def run_scenario(
    name: str, kills: int, seed: int, start: Launcher, root: Path, per_round: int
) -> CrashReport:
    print(f"{name}: {kills} kills", flush=True)
    progress = Progress(max(1, kills // 10))
    if name == "sync":
        with sync_crash(root / name, seed, start, echo=progress) as scenario:
            report = scenario.run(kills)
    else:
        slots = 2 * per_round * (kills + 2)
        with intake_crash(root / name, seed, start, slots=slots, echo=progress) as scenario:
            report = scenario.run(kills, per_round=per_round)
    for line in report.lines():
        print(line, flush=True)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kills", type=int, default=200, help="kills per scenario")
    parser.add_argument("--scenario", choices=["sync", "intake", "both"], default="both")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-round", type=int, default=3, help="new scans per intake round")
    parser.add_argument(
        "--exec", action="store_true", help="start each run as a new interpreter (slower)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the homes and child logs")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    # A killed client leaves the server mid-request; its tracebacks are expected noise here.
    # (A filter, not a level: uvicorn sets its loggers' levels again when a server starts.)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).addFilter(lambda _record: False)
    scenarios = ["sync", "intake"] if args.scenario == "both" else [args.scenario]
    root = Path(tempfile.mkdtemp(prefix="berkas-crash-"))
    started = time.monotonic()
    reports = []
    try:
        with launcher(exec_each=args.exec) as start:
            for offset, name in enumerate(scenarios):
                reports.append(
                    run_scenario(name, args.kills, args.seed + offset, start, root, args.per_round)
                )
    finally:
        if args.keep:
            print(f"homes and child logs kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    kills = sum(r.kills for r in reports)
    restarts = sum(r.restarts for r in reports)
    failures = [f for r in reports for f in r.failures]
    print(
        f"total: {kills} kills, {restarts} restarts, {time.monotonic() - started:.0f} s; "
        f"invariants {'all held' if not failures else f'{len(failures)} FAILED'}"
    )
    for failure in failures:
        print(f"FAILED {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())

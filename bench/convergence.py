"""Convergence, the long run: the Hypothesis state machine of tests/e2e/test_convergence.py
(three devices, two of one OPD and a verifikator, against the real server through cutting
proxies: random offline edits, syncs in random order, cuts, conflict resolutions), with
many more examples and longer runs than the quick variant in `make test`, from a fresh
random seed each time (Hypothesis prints the seed of a failing run, to replay it with
`--hypothesis-seed`).

After everyone syncs twice, every example checks: all replicas equal the server (data,
versions, tombstones, stamps); every concurrent edit of a field is merged or kept in a
conflict, never dropped; resolved conflicts stay resolved; each op reached the server once.

    .venv/bin/python bench/convergence.py [--examples 100] [--steps 50]

Prints the run's outcome and time; exits 1 when an invariant does not hold.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=100)
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()
    env = dict(os.environ)
    env.update(
        BERKAS_CONVERGENCE_EXAMPLES=str(args.examples),
        BERKAS_CONVERGENCE_STEPS=str(args.steps),
        BERKAS_CONVERGENCE_RANDOM="1",
    )
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/e2e/test_convergence.py::TestConvergence",
    ]
    print(f"convergence: {args.examples} examples of up to {args.steps} steps, random seed")
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, check=False)
    took = time.perf_counter() - started
    verdict = "every invariant held" if result.returncode == 0 else "AN INVARIANT FAILED"
    print(f"convergence: {args.examples} examples, {took:.0f} s: {verdict}")
    return 0 if result.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""`make bench`: run every benchmark in bench/ in turn and keep their output.

Each script prints its own figures and ratios against the DESIGN.md budgets;
this runner only sequences them and writes the combined log to bench/out/.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Order: cheap first, so a broken environment shows early.
SCRIPTS = (
    "store_search.py",
    "integrity.py",
    "crypto.py",
    "intake.py",
    "compression.py",
    "recognition.py",
    "sync_records.py",
    "server_load.py",
    "sync_link.py",
    "tui.py",
    "verifier.py",
    "crash.py",
    "convergence.py",
    "compare_peers.py",
)


def main() -> int:
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    log_path = out_dir / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.log"
    failures = []
    with log_path.open("w", encoding="utf-8") as log:
        for name in SCRIPTS:
            script = HERE / name
            if not script.exists():
                continue
            header = f"\n=== {name} ===\n"
            print(header, end="", flush=True)
            log.write(header)
            started = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, str(script)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            assert proc.stdout is not None
            for line in proc.stdout:
                print(line, end="", flush=True)
                log.write(line)
            code = proc.wait()
            footer = f"--- {name}: exit {code}, {time.perf_counter() - started:.0f} s\n"
            print(footer, end="")
            log.write(footer)
            if code:
                failures.append(name)
    print(f"\nlog: {log_path}")
    if failures:
        print("failed: " + ", ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())

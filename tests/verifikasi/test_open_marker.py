"""`berkas demo` keeps its server while a verifikator TUI is open: the TUI holds a lock
on HOME/verifikasi-tui.lock, and another process sees it held until the TUI closes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from client.paths import resolve_paths
from tui.verifikasi_app import hold_open_marker, is_open

HOLDER = """
import sys, time
from client.paths import resolve_paths
from tui.verifikasi_app import hold_open_marker
held = hold_open_marker(resolve_paths(__import__("pathlib").Path(sys.argv[1])))
print("held", flush=True)
sys.stdin.readline()
"""


def test_open_marker_is_seen_from_another_process(tmp_path: Path) -> None:
    paths = resolve_paths(tmp_path / "verifikator")
    assert not is_open(paths)
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "verifikator")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        assert is_open(paths)
    finally:
        assert child.stdin is not None
        child.stdin.write("\n")
        child.stdin.close()
        child.wait(timeout=10)
    deadline = time.monotonic() + 5
    while is_open(paths) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not is_open(paths)
    # In this process too: held while the file is open, free once closed.
    held = hold_open_marker(paths)
    held.close()
    assert not is_open(paths)

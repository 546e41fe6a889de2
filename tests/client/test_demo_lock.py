"""Issue 15 item 4: a second `berkas demo` while the first one's TUI runs must refuse, not
wipe the folder under it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from berkas.demo import DEMO_LOCK, DEMO_MARKER
from sync.engine import SyncLock


def test_second_demo_refuses_while_the_first_holds_the_folder(tmp_path: Path) -> None:
    home = tmp_path / "berkas-demo"
    home.mkdir()
    (home / DEMO_MARKER).write_text("Folder demo Berkas; boleh dihapus.\n", encoding="utf-8")
    kept = home / "berkas.db"
    kept.write_bytes(b"data demo yang sedang dipakai")
    # What the running demo holds for as long as its TUI is open.
    with SyncLock(home / DEMO_LOCK, "berkas demo"):
        result = subprocess.run(
            [sys.executable, "-m", "berkas", "--home", str(home), "demo", "--headless"],
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "200"},
            timeout=120,
            check=False,
        )
    assert result.returncode != 0
    assert "sedang dipakai" in result.stderr, result.stderr
    assert kept.read_bytes() == b"data demo yang sedang dipakai"

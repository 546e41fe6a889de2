"""Issue 13 item 4: the home and everything Berkas keeps in it are the owner's alone, from
creation (whatever umask the shell has), and an old too-open home is tightened once."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.scans import NIP_BUDI, jpeg_scan

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX mode bits")

BERKAS = [sys.executable, "-m", "client.cli"]


def berkas(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BERKAS_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run(
        [*BERKAS, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
        umask=0o022,  # a usual shell: without our own umask everything would be 0755/0644
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def open_to_others(home: Path) -> list[str]:
    """Every entry under `home` (the scan drop folder itself aside) others can reach."""
    found = []
    for root, dirs, files in os.walk(home):
        for name in [*dirs, *files]:
            path = Path(root, name)
            if path == home / "pindai":
                continue
            if mode(path) & 0o077:
                found.append(f"{path.relative_to(home)} {mode(path):o}")
    return found


def test_a_new_home_is_private_from_creation(tmp_path: Path) -> None:
    home = tmp_path / "rumah"
    assert berkas(home, "init", "--opd", "DISDIK", "--operator", "Ani").returncode == 0
    csv = tmp_path / "pegawai.csv"
    csv.write_text(
        "nip,nama,golongan,tmt_pangkat,pendidikan,jenis_jabatan\n"
        f"{NIP_BUDI},Budi Santoso,III/c,2019-04-01,S1,pelaksana\n",
        encoding="utf-8",
    )
    assert berkas(home, "pegawai", "import", str(csv)).returncode == 0
    scan = jpeg_scan(home / "pindai" / f"{NIP_BUDI}_sk cpns.jpg", dpi=150)
    os.chmod(scan, 0o644)  # as a scanner leaves it
    old = time.time() - 60
    os.utime(scan, (old, old))
    ran = berkas(home, "intake", "run", str(home / "pindai"))
    assert ran.returncode == 0, ran.stdout + ran.stderr

    kept = list((home / "pindai" / "diproses").rglob("*.jpg"))
    assert len(kept) == 1
    assert mode(home) == 0o700
    assert mode(home / "berkas.db") == 0o600
    assert mode(home / "kunci" / "perangkat.key") == 0o600
    assert mode(kept[0]) == 0o600
    assert list((home / "blobs").rglob("*.blob"))
    assert open_to_others(home) == []
    assert "Perhatian" not in ran.stderr  # nothing to tighten: it never was open


def test_an_open_home_from_an_older_berkas_is_tightened_with_a_notice(tmp_path: Path) -> None:
    home = tmp_path / "rumah"
    assert berkas(home, "init", "--opd", "DISDIK").returncode == 0
    kept = home / "pindai" / "diproses" / "lama.jpg"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"\xff\xd8\xff")
    # What the old code left: a 0755 home, a 0644 store and settings, open originals.
    for path in (home, home / "kunci", kept.parent):
        os.chmod(path, 0o755)
    for path in (home / "berkas.db", home / "berkas.toml", kept):
        os.chmod(path, 0o644)

    first = berkas(home, "ringkasan")
    assert first.returncode == 0, first.stderr
    assert "dapat dibaca pengguna lain" in first.stderr
    assert open_to_others(home) == []
    assert mode(home) == 0o700 and mode(home / "berkas.db") == 0o600
    second = berkas(home, "ringkasan")
    assert "dapat dibaca pengguna lain" not in second.stderr  # said once

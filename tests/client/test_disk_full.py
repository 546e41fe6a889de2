"""Issue 13 item 13: a full disk on the OPD machine, for real (a small tmpfs filled to the
last byte). Every path says the disk is full in Bahasa, loses nothing, blames no file."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client.test_cli import berkas
from tests.support.full_disk import small_disk
from tests.support.scans import NIP_BUDI, jpeg_scan

FULL = "Ruang disk penuh"


def _init_with_budi(home: Path) -> None:
    assert berkas(home, "init", "--opd", "DISDIK", "--operator", "Ani").returncode == 0
    csv = home / "pegawai.csv"
    csv.write_text(
        "nip,nama,golongan,tmt_pangkat,pendidikan,jenis_jabatan\n"
        f"{NIP_BUDI},Budi Santoso,III/c,2019-04-01,S1,pelaksana\n",
        encoding="utf-8",
    )
    assert berkas(home, "pegawai", "import", str(csv)).returncode == 0


def _count(home: Path, table: str) -> int:
    conn = sqlite3.connect(home / "berkas.db")
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


@contextlib.contextmanager
def _store_held_open(home: Path, held: bool) -> Iterator[None]:
    """With `held`, another process has the store open (as the TUI or the agent would),
    so its -shm and -wal exist and opening succeeds: the disk fills mid-command, at the
    write itself. Without, the command meets the full disk when it opens the store."""
    if not held:
        yield
        return
    conn = sqlite3.connect(home / "berkas.db")
    conn.execute("SELECT count(*) FROM pegawai").fetchone()
    try:
        yield
    finally:
        conn.close()


WHEN = pytest.mark.parametrize("held", [False, True], ids=["at-open", "mid-command"])


@WHEN
def test_usulan_buat_on_a_full_disk_says_so_and_works_once_there_is_room(
    tmp_path: Path, held: bool
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        home = disk.root / "rumah"
        _init_with_budi(home)
        with _store_held_open(home, held):
            disk.fill()
            full = berkas(home, "usulan", "buat", NIP_BUDI, "--layanan", "kp")
            disk.free()
        assert full.returncode == 2
        assert FULL in full.stderr, full.stderr
        assert "Traceback" not in full.stderr
        assert _count(home, "pegawai") == 1  # nothing lost
        again = berkas(home, "usulan", "buat", NIP_BUDI, "--layanan", "kp")
        assert again.returncode == 0, again.stderr
        assert _count(home, "usulan") == 1


@WHEN
def test_intake_on_a_full_disk_keeps_the_scan_in_place_and_takes_it_later(
    tmp_path: Path, held: bool
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        home = disk.root / "rumah"
        _init_with_budi(home)
        # A good JPEG, named for a known pegawai; made before the disk fills.
        scan = jpeg_scan(home / "pindai" / f"{NIP_BUDI}_sk cpns.jpg", dpi=150)
        original = scan.read_bytes()
        old = time.time() - 60
        os.utime(scan, (old, old))
        with _store_held_open(home, held):
            disk.fill()
            first = berkas(home, "intake", "run", str(home / "pindai"))
            disk.free()
        assert FULL in first.stdout + first.stderr, first.stdout + first.stderr
        assert "Traceback" not in first.stderr
        assert scan.read_bytes() == original  # still where it was, untouched
        assert not (home / "pindai" / "karantina").exists()  # the file is not blamed
        second = berkas(home, "intake", "run", str(home / "pindai"))
        assert second.returncode == 0, second.stdout + second.stderr
        assert not scan.exists()
        assert [p.name for p in (home / "pindai" / "diproses").rglob("*.jpg")] == [scan.name]
        assert _count(home, "blob") == 1

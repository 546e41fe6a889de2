"""Issue 13 item 15: real bytes flipped inside a real berkas.db are noticed, the store is
refused with the way out in Bahasa, and index damage is repaired by `berkas periksa`."""

from __future__ import annotations

import sqlite3
import struct
from datetime import date
from pathlib import Path

import pytest

from client.sample_data import generate_pegawai
from store.database import open_store
from store.integrity import StoreDamaged, marker_for
from store.models import Pegawai
from tests.client.test_cli import berkas

COUNT = 600


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "rumah"
    assert berkas(home, "init", "--opd", "DISDIK").returncode == 0
    store = open_store(home / "berkas.db", opd_id="DISDIK")
    with store.apply_remote() as session:
        for person in generate_pegawai(COUNT, today=date(2026, 11, 23), opds=("DISDIK",)):
            session.add(Pegawai(**person.data.record_values(), opd_id="DISDIK", version=1))
    store.close()
    conn = sqlite3.connect(home / "berkas.db")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the main file
    conn.close()
    return home


def _pages(db: Path) -> tuple[int, dict[str, int]]:
    conn = sqlite3.connect(db)
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    roots = dict(conn.execute("SELECT name, rootpage FROM sqlite_master WHERE rootpage > 0"))
    conn.close()
    return size, roots


def _flip(db: Path, offset: int, mask: int = 0x01) -> None:
    with db.open("r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)[0]
        fh.seek(offset)
        fh.write(bytes([byte ^ mask]))


def flip_index_entry(db: Path) -> None:
    """One bit inside the first entry of a leaf page of the name index: the table is
    whole, the index now points nowhere (what the review found)."""
    size, roots = _pages(db)
    root = roots["ix_pegawai_nama"]
    data = db.read_bytes()
    page = data[(root - 1) * size : root * size]
    assert page[0] == 2  # an interior index page; its first child is a leaf
    cell = struct.unpack(">H", page[12:14])[0]
    leaf = struct.unpack(">I", page[cell : cell + 4])[0]
    leaf_page = data[(leaf - 1) * size : leaf * size]
    assert leaf_page[0] == 10
    first = struct.unpack(">H", leaf_page[8:10])[0]
    _flip(db, (leaf - 1) * size + first + 10)


def flip_table_page_header(db: Path) -> None:
    """The cell count of the pegawai table's root page: its b-tree no longer holds."""
    size, roots = _pages(db)
    _flip(db, (roots["pegawai"] - 1) * size + 3, 0xFF)


def pegawai_count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT count(*) FROM pegawai").fetchone()[0])
    finally:
        conn.close()


def test_damaged_btree_is_refused_at_open_with_the_way_out(home: Path) -> None:
    flip_table_page_header(home / "berkas.db")
    result = berkas(home, "ringkasan")
    assert result.returncode == 2
    assert "rusak" in result.stderr and "berkas restore" in result.stderr
    assert "Traceback" not in result.stderr
    checked = berkas(home, "periksa")
    assert checked.returncode == 1
    assert "berkas restore" in checked.stderr
    # --perbaiki cannot mend a table: it says so and changes nothing.
    assert berkas(home, "periksa", "--perbaiki").returncode == 1


def test_index_damage_found_by_periksa_refused_then_repaired(home: Path) -> None:
    db = home / "berkas.db"
    flip_index_entry(db)
    found = berkas(home, "periksa")
    assert found.returncode == 1
    assert "missing from index" in found.stderr
    assert "berkas periksa --perbaiki" in found.stderr
    # From now on the store is refused until it is mended.
    refused = berkas(home, "pegawai", "cari", "a")
    assert refused.returncode == 2 and "--perbaiki" in refused.stderr

    fixed = berkas(home, "periksa", "--perbaiki")
    assert fixed.returncode == 0, fixed.stderr
    assert "utuh" in fixed.stdout
    assert not marker_for(db).exists()
    assert berkas(home, "periksa").returncode == 0
    assert berkas(home, "ringkasan").returncode == 0
    assert pegawai_count(db) == COUNT  # nothing lost by the repair


def test_daily_background_check_finds_index_damage_and_later_opens_refuse(home: Path) -> None:
    db = home / "berkas.db"
    store = open_store(db)  # quick_check passes: the b-trees are whole
    first = store.daily_integrity_check()
    assert first is not None and first.ok
    assert store.daily_integrity_check() is None  # once a day
    store.close()

    flip_index_entry(db)
    store = open_store(db)
    from datetime import timedelta

    report = store.daily_integrity_check(every=timedelta(0))
    store.close()
    assert report is not None and report.repairable
    assert marker_for(db).exists()
    with pytest.raises(StoreDamaged) as refused:
        open_store(db)
    assert "berkas periksa --perbaiki" in refused.value.message

"""Schema migrations: a fresh store, an old store upgraded, a newer store refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlmodel import SQLModel

from store.database import open_store
from store.errors import StoreError
from store.migrations import MIGRATIONS, SCHEMA_VERSION
from store.models import Pegawai  # noqa: F401  (registers the tables)
from store.pegawai import search_pegawai, upsert_pegawai
from tests.store.conftest import pegawai_input


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def test_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    open_store(tmp_path / "b.db").close()
    conn = sqlite3.connect(tmp_path / "b.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    for table in SQLModel.metadata.sorted_tables:
        assert _columns(conn, table.name) == {c.name for c in table.columns}, table.name
    conn.close()


def test_version_1_store_upgrades_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "lama.db"
    conn = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    # A row written by the version-1 schema, before name search existed.
    raw = sqlite3.connect(path)
    values = pegawai_input().record_values()
    raw.execute(
        "INSERT INTO pegawai (id, opd_id, version, updated_at, updated_by, deleted, nip, nama,"
        " tanggal_lahir, jenis_kelamin, jenis_pegawai, golongan, tmt_pangkat, tmt_cpns,"
        " pendidikan, jabatan, jabatan_kind, unit_kerja, riwayat_pangkat)"
        " VALUES ('p1', 'DISDIK', 1, '', '', 0, ?, ?, '1968-04-11', 1, 'pns', 'III/c',"
        " '2019-04-01', '1993-03-01', 's1', '', 'pelaksana', '', '[]')",
        (values["nip"], values["nama"]),
    )
    raw.commit()
    raw.close()
    store = open_store(path)
    with store.read() as session:
        found = search_pegawai(session, "budi")
    assert [p.id for p in found] == ["p1"]
    store.close()


def test_store_from_a_newer_berkas_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "baru.db"
    open_store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="versi Berkas yang lebih baru"):
        open_store(path)
    assert path.read_bytes() == before


def test_reopen_runs_no_migration_twice(tmp_path: Path) -> None:
    store = open_store(tmp_path / "b.db", opd_id="DISDIK")
    with store.write() as session:
        upsert_pegawai(session, pegawai_input())
    store.close()
    store = open_store(tmp_path / "b.db")
    with store.read() as session:
        assert len(search_pegawai(session, "santoso")) == 1
    store.close()

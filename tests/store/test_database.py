"""The store on disk: pragmas, outbox entries written with every change, tombstones."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlmodel import select

from store.database import Store, open_store
from store.errors import StoreError
from store.models import OutboxEntry, Pegawai
from store.pegawai import upsert_pegawai
from tests.store.conftest import pegawai_input


def _outbox(path: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    rows = conn.execute("SELECT * FROM outbox ORDER BY seq").fetchall()
    conn.close()
    return rows


def test_pragmas_wal_and_foreign_keys(store: Store) -> None:
    with store.read() as session:
        conn = session.connection()
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_insert_writes_record_and_outbox_in_one_transaction(store: Store) -> None:
    with store.write() as session:
        record, created = upsert_pegawai(session, pegawai_input())
    assert created
    rows = _outbox(store.path)
    assert len(rows) == 1
    assert rows[0]["table_name"] == "pegawai"
    assert rows[0]["record_id"] == record.id
    assert rows[0]["base_version"] == 0
    assert rows[0]["opd_id"] == "DISDIK"
    import json

    changes = json.loads(rows[0]["changes"])
    assert changes["nip"] == {"base": None, "new": "196804111993031009"}
    assert changes["tanggal_lahir"] == {"base": None, "new": "1968-04-11"}
    # The record is stamped with the device and a hybrid clock.
    conn = sqlite3.connect(store.path)
    opd, by, at = conn.execute("SELECT opd_id, updated_by, updated_at FROM pegawai").fetchone()
    conn.close()
    assert (opd, by) == ("DISDIK", store.context.device_id)
    assert at == rows[0]["hlc"]


def test_update_records_only_changed_fields_with_base_values(store: Store) -> None:
    with store.write() as session:
        upsert_pegawai(session, pegawai_input())
    with store.write() as session:
        p = session.exec(select(Pegawai)).one()
        p.nama = "Budi Santoso, S.E."
        p.jabatan = p.jabatan  # unchanged: no entry for it
        session.add(p)
    rows = _outbox(store.path)
    assert len(rows) == 2
    import json

    assert json.loads(rows[1]["changes"]) == {
        "nama": {"base": "Budi Santoso", "new": "Budi Santoso, S.E."}
    }
    assert rows[0]["hlc"] < rows[1]["hlc"]


def test_golongan_change_keeps_history(store: Store) -> None:
    with store.write() as session:
        upsert_pegawai(session, pegawai_input())
    with store.write() as session:
        upsert_pegawai(session, pegawai_input(golongan="III/d", tmt_pangkat="2023-04-01"))
    with store.read() as session:
        p = session.exec(select(Pegawai)).one()
    assert p.golongan == "III/d"
    assert p.riwayat_pangkat == [{"golongan": "III/c", "tmt": "2019-04-01"}]


def test_tombstone_is_an_op_and_hard_delete_is_refused(store: Store) -> None:
    with store.write() as session:
        upsert_pegawai(session, pegawai_input())
    with store.write() as session:
        p = session.exec(select(Pegawai)).one()
        p.deleted = True
        session.add(p)
    rows = _outbox(store.path)
    assert rows[-1]["deleted"] == 1
    with pytest.raises(StoreError), store.write() as session:
        session.delete(session.exec(select(Pegawai)).one())
    with store.read() as session:
        assert session.exec(select(Pegawai)).one().deleted


def test_failed_transaction_leaves_neither_record_nor_outbox(store: Store) -> None:
    with pytest.raises(RuntimeError), store.write() as session:
        upsert_pegawai(session, pegawai_input())
        session.flush()
        raise RuntimeError("listrik padam")
    assert _outbox(store.path) == []
    with store.read() as session:
        assert session.exec(select(Pegawai)).all() == []


def test_apply_remote_writes_no_outbox(store: Store) -> None:
    with store.apply_remote() as session:
        session.add(Pegawai(**pegawai_input().record_values(), version=3, opd_id="DISDIK"))
    assert _outbox(store.path) == []


def test_device_identity_and_clock_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    first = open_store(path, opd_id="DISDIK")
    with first.write() as session:
        upsert_pegawai(session, pegawai_input())
    device, stamp = first.context.device_id, first.context.clock.now()
    first.close()
    again = open_store(path)
    assert again.context.device_id == device
    assert again.context.opd_id == "DISDIK"
    assert again.context.clock.now() > stamp
    again.close()


def test_store_of_another_opd_is_refused(tmp_path: Path) -> None:
    open_store(tmp_path / "b.db", opd_id="DISDIK").close()
    with pytest.raises(StoreError, match="milik OPD DISDIK"):
        open_store(tmp_path / "b.db", opd_id="DINKES")


def test_not_a_database_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    path.write_bytes(b"ini bukan basis data" * 100)
    with pytest.raises(StoreError, match="tidak dapat dibuka"):
        open_store(path)
    assert path.read_bytes() == b"ini bukan basis data" * 100


def test_outbox_entries_are_ordered_for_draining(store: Store) -> None:
    with store.write() as session:
        upsert_pegawai(session, pegawai_input())
        upsert_pegawai(session, pegawai_input(nip="197001022000032001", nama="Siti Aminah"))
    with store.read() as session:
        seqs = [e.seq for e in session.exec(select(OutboxEntry).order_by(OutboxEntry.seq))]  # type: ignore[arg-type]
    assert seqs == sorted(seqs) and len(seqs) == 2

"""A record the server has held since before a field existed (Usulan.tidak_berlaku) is
pulled with the field's default; a record missing any other field is still refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.database import open_store
from store.models import Usulan
from store.pegawai import upsert_pegawai
from sync.engine.errors import ServerRefused
from sync.engine.merge import ServerState, apply_server_states
from tests.store.conftest import pegawai_input

OLD_USULAN = {
    "pegawai_id": "p-1",
    "nip": "196804111993031009",
    "layanan": "pensiun",
    "jenis": "bup",
    "periode": "2027-03-01",
    "status": "draft",
    "catatan": "",
    "catatan_verifikator": "",
    "berlaku": [],
    "nomor_pertek": "",
    "tanggal_pertek": None,
    "opd_id": "DISDIK",
    "updated_at": "",
    "updated_by": "",
    "deleted": False,
}


def test_usulan_from_before_tidak_berlaku_reads_as_none_marked(tmp_path: Path) -> None:
    store = open_store(tmp_path / "berkas.db", opd_id="DISDIK", person="Ani")
    try:
        with store.write() as session:
            pegawai, _ = upsert_pegawai(session, pegawai_input())
            old = {**OLD_USULAN, "pegawai_id": pegawai.id}
        with store.apply_remote() as session:
            apply_server_states(session, store, [ServerState("usulan", "u-1", 3, old)])
        with store.read() as session:
            u = session.get(Usulan, "u-1")
            assert u is not None and u.tidak_berlaku == {} and u.version == 3
        broken = {k: v for k, v in old.items() if k != "nip"}
        with pytest.raises(ServerRefused, match="tidak lengkap"), store.apply_remote() as session:
            apply_server_states(session, store, [ServerState("usulan", "u-2", 1, broken)])
    finally:
        store.close()

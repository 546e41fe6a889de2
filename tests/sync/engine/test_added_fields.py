"""Record fields added after protocol 1 (PROTOCOL.md §7.1, sync.protocol.ADDED_FIELDS): what
intake read on a scan reaches the BKD through a server that names `dokumen-terbaca`; a server
that does not know the fields is never sent them (it would refuse the whole op), and its
records, which lack them, are taken with the fields' defaults (an usulan held since before
`tidak_berlaku` reads as none marked); a record missing any other field is still refused."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from server import auth, push, records
from store import usulan as wf
from store.database import open_store
from store.models import Pegawai, Usulan
from store.pegawai import upsert_pegawai
from sync.engine import ServerRefused
from sync.engine.merge import ServerState, apply_server_states
from sync.protocol import ADDED_FIELDS
from tests.store.conftest import pegawai_input
from tests.sync.engine.conftest import NIPS, DeviceFactory

OTHER_NIP = NIPS[1]


def _submit_with_read_nip(device: Any) -> str:
    """An usulan whose SK_JABATAN scan was read as another pegawai's; returns its id."""
    pid = device.add_pegawai(NIPS[0])
    with device.store.write() as session:
        pegawai = session.get(Pegawai, pid)
        assert pegawai is not None
        usulan = wf.create_usulan(session, pegawai, "pindah", "pindah")
        for n, kode in enumerate(wf.required_kodes("pindah", "pindah", [])):
            sha = hashlib.sha256(f"{kode}{n}".encode()).hexdigest()
            read = OTHER_NIP if n == 0 else ""
            wf.attach_dokumen(
                session, usulan, kode, sha256=sha, size=1000, pages=1, nip_terbaca=read
            )
        session.flush()
        wf.ajukan(session, usulan)
        return usulan.id


def _read_nips(device: Any, usulan_id: str) -> set[str]:
    with device.store.read() as session:
        return {d.nip_terbaca for d in wf.live_dokumen(session, usulan_id)}


def test_the_read_nip_reaches_the_verifikator(new_device: DeviceFactory) -> None:
    opd = new_device("opd")
    uid = _submit_with_read_nip(opd)
    report = opd.sync()
    assert report.ok and report.push.refused == 0, report.push.refusals
    verifier = new_device("verifikator", opd="BKD", role="verifikator")
    assert verifier.sync().ok
    assert _read_nips(verifier, uid) == {OTHER_NIP, ""}


def test_a_server_without_the_fields_is_never_sent_them(
    new_device: DeviceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server as it was before the fields: it does not name the feature, refuses an op
    # naming a field it does not know, and keeps records without them.
    added = ADDED_FIELDS["dokumen"]
    monkeypatch.setattr(auth, "SERVER_FEATURES", "zstd, page-bytes")

    def old_fields(table: str) -> frozenset[str]:
        return records.data_fields(table) - set(ADDED_FIELDS.get(table, {}))

    def old_record(table: str, data: Mapping[str, Any]) -> dict[str, Any]:
        return {
            k: v
            for k, v in records.normalise_record(table, data).items()
            if k not in ADDED_FIELDS.get(table, {})
        }

    monkeypatch.setattr(push, "data_fields", old_fields)
    monkeypatch.setattr(push, "normalise_record", old_record)

    opd = new_device("opd")
    uid = _submit_with_read_nip(opd)
    report = opd.sync()
    assert report.ok and report.push.refused == 0, report.push.refusals
    assert _read_nips(opd, uid) == {OTHER_NIP, ""}  # kept here, not lost
    verifier = new_device("verifikator", opd="BKD", role="verifikator")
    report = verifier.sync()  # records lacking the fields: taken with their defaults
    assert report.ok, report.error
    with verifier.store.read() as session:
        held = wf.live_dokumen(session, uid)
        assert len(held) == len(wf.required_kodes("pindah", "pindah", []))
        assert {getattr(d, name) for d in held for name in added} == {""}


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

"""Record sync between devices of one OPD, through the proxy, against the real server."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlmodel import func, select

from client import sync_service
from store import usulan as wf
from store.models import Conflict, OutboxEntry, Pegawai, Usulan
from sync.engine import list_conflicts
from sync.engine.outbox import oldest, to_op
from sync.engine.push import PUSH_PATH
from sync.protocol import PushRequest, PushResponse
from tests.sync.engine.conftest import NIPS, DeviceFactory


def test_disjoint_fields_merge(new_device: DeviceFactory) -> None:
    a, b = new_device("a"), new_device("b")
    pid = a.add_pegawai(NIPS[0])
    assert a.sync().ok
    assert b.sync().ok
    # Both offline: A changes jabatan, B changes unit_kerja.
    a.edit(Pegawai, pid, jabatan="Analis Kepegawaian")
    b.edit(Pegawai, pid, unit_kerja="Bidang Mutasi")
    assert a.sync().ok
    report = b.sync()
    assert report.ok and report.push.merged == 1 and report.push.conflicts == 0
    assert a.sync().ok
    for device in (a, b):
        row = device.get(Pegawai, pid)
        assert (row.jabatan, row.unit_kerja) == ("Analis Kepegawaian", "Bidang Mutasi")
    assert a.get(Pegawai, pid).version == b.get(Pegawai, pid).version


@pytest.mark.parametrize("choice", ["mine", "theirs", "edit"])
def test_same_field_conflicts_and_resolves_on_both(new_device: DeviceFactory, choice: Any) -> None:
    a, b = new_device("a"), new_device("b")
    pid = a.add_pegawai(NIPS[0])
    a.sync(), b.sync()
    a.edit(Pegawai, pid, nama="Budi Santoso, S.Kom")
    b.edit(Pegawai, pid, nama="Budi Santosa")
    assert a.sync().ok
    report = b.sync()
    assert report.ok and report.push.conflicts == 1
    assert a.sync().ok  # A learns of the conflict too
    for device in (a, b):
        open_ = list_conflicts(device.store)
        assert [(c.field, c.base, c.theirs) for c in open_] == [
            ("nama", "Budi Santoso", "Budi Santoso, S.Kom")
        ]
        assert open_[0].mine == "Budi Santosa"
        # Until someone decides, every device shows the server's value.
        assert device.get(Pegawai, pid).nama == "Budi Santoso, S.Kom"
    conflict = list_conflicts(b.store)[0]
    sync_service.resolve_conflict(b.paths, conflict.id, choice, "Budi Santoso Wibowo")
    expected = {"mine": "Budi Santosa", "theirs": "Budi Santoso, S.Kom"}.get(
        choice, "Budi Santoso Wibowo"
    )
    assert b.get(Pegawai, pid).nama == expected
    assert b.sync().ok
    assert a.sync().ok
    for device in (a, b):
        assert device.get(Pegawai, pid).nama == expected
        assert list_conflicts(device.store) == []
        with device.store.read() as session:
            row = session.get(Conflict, conflict.id)
            assert row is not None and row.resolved and row.resolution == expected
    assert a.get(Pegawai, pid).version == b.get(Pegawai, pid).version


def test_verifikator_returns_usulan_while_opd_edits_offline(new_device: DeviceFactory) -> None:
    opd = new_device("opd")
    pid = opd.add_pegawai(NIPS[0])
    with opd.store.write() as session:
        pegawai = session.get(Pegawai, pid)
        assert pegawai is not None
        usulan = wf.create_usulan(session, pegawai, "pindah", "pindah")
        for n, kode in enumerate(wf.required_kodes("pindah", "pindah", [])):
            sha = hashlib.sha256(f"{kode}{n}".encode()).hexdigest()
            wf.attach_dokumen(session, usulan, kode, sha256=sha, size=1000, pages=1)
        session.flush()
        wf.ajukan(session, usulan)
        uid = usulan.id
        first_kode = wf.required_kodes("pindah", "pindah", [])[0]
    report = opd.sync()
    assert report.ok and report.push.refused == 0, report.push.refusals
    verifier = new_device("verifikator", opd="BKD", role="verifikator")
    assert verifier.sync().ok
    # The OPD, offline, adds its own note; the BKD returns the usulan (BTS) meanwhile.
    opd.edit(Usulan, uid, catatan="Berkas SKP menyusul")
    with verifier.store.write() as session:
        row = session.get(Usulan, uid)
        assert row is not None
        wf.kembalikan(session, row, "SK CPNS tidak terbaca", {first_kode: "Pindai ulang, 300 dpi"})
    report = verifier.sync()
    assert report.ok and report.push.refused == 0, report.push.refusals
    report = opd.sync()
    assert report.ok and report.push.refused == 0 and report.push.conflicts == 0
    assert verifier.sync().ok
    for device in (opd, verifier):
        usulan_row = device.get(Usulan, uid)
        assert usulan_row.status == "dikembalikan"
        assert usulan_row.catatan_verifikator == "SK CPNS tidak terbaca"
        assert usulan_row.catatan == "Berkas SKP menyusul"
        with device.store.read() as session:
            states = {d.kode: d.state for d in wf.live_dokumen(session, uid)}
            assert states[first_kode] == "dikembalikan"
            statuses = [h.ke_status for h in wf.history_of(session, uid)]
            assert statuses == ["draft", "diajukan", "dikembalikan"]


def test_retried_push_is_idempotent(new_device: DeviceFactory) -> None:
    a = new_device("a")
    pid = a.add_pegawai(NIPS[0])
    a.edit(Pegawai, pid, jabatan="Pengadministrasi")
    with a.store.read() as session:
        ops = [to_op(e, a.engine.facts.device_id) for e in oldest(session, 100)]
    transport = a.engine.transport
    first = transport.sealed("POST", PUSH_PATH, PushRequest(ops=ops), PushResponse)
    # The answer was lost (a cut, a kill -9 before it was applied): the same ops again.
    again = transport.sealed("POST", PUSH_PATH, PushRequest(ops=ops), PushResponse)
    assert [r.model_dump() for r in again.results] == [r.model_dump() for r in first.results]
    report = a.sync()  # the engine sends them a third time and applies the answer once
    assert report.ok and report.push.pushed == 2 and report.push.refused == 0
    with a.store.read() as session:
        assert session.exec(select(OutboxEntry)).first() is None
    assert a.get(Pegawai, pid).version == 2


def test_crash_between_answer_and_apply_loses_nothing(
    new_device: DeviceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = new_device("a"), new_device("b")
    pid = a.add_pegawai(NIPS[0])
    import sync.engine.push as push_module

    real = push_module.apply_push_results

    def crash(*args: Any, **kwargs: Any) -> int:
        raise KeyboardInterrupt  # the program dies after the server answered

    monkeypatch.setattr(push_module, "apply_push_results", crash)
    with pytest.raises(KeyboardInterrupt):
        a.sync()
    monkeypatch.setattr(push_module, "apply_push_results", real)
    a = new_device.reopen(a)
    assert a.sync().ok
    assert b.sync().ok
    with b.store.read() as session:
        rows = list(session.exec(select(Pegawai)))
    assert [(r.id, r.version) for r in rows] == [(pid, 1)]


def test_small_batches_in_flight_keep_the_order_of_edits(new_device: DeviceFactory) -> None:
    """Batches of two, each read and sent while the one before is answered: a record
    created in one batch and edited in the next ones ends as its last edit, everywhere."""
    a, b = new_device("a"), new_device("b")
    a.engine.settings.push_batch = 2
    pids = [a.add_pegawai(nip) for nip in NIPS]
    for step in range(3):
        for pid in pids:
            a.edit(Pegawai, pid, jabatan=f"Jabatan {step}")
    report = a.sync()
    assert report.ok and report.push.pushed == 4 + 12 and report.push.requests == 8
    assert report.push.conflicts == 0 and report.push.refused == 0
    assert b.sync().ok
    for pid in pids:
        assert b.get(Pegawai, pid).jabatan == "Jabatan 2"
        assert a.get(Pegawai, pid).version == b.get(Pegawai, pid).version == 4
    with a.store.read() as session:
        assert session.exec(select(OutboxEntry)).first() is None


def test_an_answer_leaving_out_an_op_sends_it_again_before_newer_ops(
    new_device: DeviceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server answering only part of a push (it should not): the ops left out go again,
    first, in the same sync, and nothing newer overtakes them."""
    a, b = new_device("a"), new_device("b")
    a.engine.settings.push_batch = 2
    pid = a.add_pegawai(NIPS[0])
    a.edit(Pegawai, pid, jabatan="Satu")
    a.edit(Pegawai, pid, jabatan="Dua")
    a.edit(Pegawai, pid, jabatan="Tiga")
    transport = a.engine.transport
    real = transport.sealed
    dropped: list[str] = []

    def lossy(method: str, path: str, body: Any, model: Any, **kwargs: Any) -> Any:
        answer = real(method, path, body, model, **kwargs)
        if path == PUSH_PATH and not dropped:
            dropped.append(answer.results[-1].op_id)
            answer = answer.model_copy(update={"results": answer.results[:-1]})
        return answer

    monkeypatch.setattr(transport, "sealed", lossy)
    report = a.sync()
    assert report.ok, report.error
    assert dropped and report.push.pushed == 4
    with a.store.read() as session:
        assert session.exec(select(OutboxEntry)).first() is None
    assert b.sync().ok
    assert b.get(Pegawai, pid).jabatan == "Tiga"
    assert a.get(Pegawai, pid).version == b.get(Pegawai, pid).version == 4


def _outbox_size(device: Any) -> int:
    with device.store.read() as session:  # no ORM objects: a damaged row would not load
        return int(session.exec(select(func.count()).select_from(OutboxEntry)).one())


def test_a_damaged_outbox_entry_stops_the_push_and_loses_nothing(
    new_device: DeviceFactory,
) -> None:
    """Unreadable `changes` text: the push stops on it with a clear error; the edit stays
    pending (it is never sent as an op without changes, which would drop it)."""
    a, b = new_device("a"), new_device("b")
    pid = a.add_pegawai(NIPS[0])
    assert a.sync().ok and b.sync().ok
    a.edit(Pegawai, pid, jabatan="Kepala Bidang")
    with a.store.write() as session:
        session.connection().exec_driver_sql("UPDATE outbox SET changes = '{not json'")
    report = a.sync()
    assert not report.ok and report.error is not None
    assert "rusak" in report.error.message
    assert _outbox_size(a) == 1
    assert a.get(Pegawai, pid).jabatan == "Kepala Bidang"


def test_a_damaged_entry_in_the_next_batch_still_settles_the_batch_in_flight(
    new_device: DeviceFactory,
) -> None:
    """The batch read ahead holds a damaged entry: the batch already sent is answered and
    applied (its ops leave the outbox), then the push stops at the damaged one."""
    a = new_device("a")
    a.engine.settings.push_batch = 2
    pids = [a.add_pegawai(nip) for nip in NIPS[:3]]
    with a.store.write() as session:
        session.connection().exec_driver_sql(
            "UPDATE outbox SET table_name = 'rusak' WHERE seq = (SELECT max(seq) FROM outbox)"
        )
    for _ in range(2):
        assert not a.sync().ok
    assert _outbox_size(a) == 1
    assert [a.get(Pegawai, pid).version for pid in pids[:2]] == [1, 1]

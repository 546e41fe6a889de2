"""Push and pull: applied, merged, conflict, duplicate, idempotent retries, resolution,
paging in server sequence order, and tombstones."""

from __future__ import annotations

from typing import Any

from tests.server.conftest import (
    DeviceFactory,
    applied_record,
    pegawai_data,
    usulan_data,
)
from tests.support.device import TestDevice


def _pegawai(device: TestDevice, seq: int = 9, **kw: Any) -> dict[str, Any]:
    return applied_record(device, "pegawai", pegawai_data(seq, **kw))


def test_create_applied_and_pulled(device: TestDevice, enrol: DeviceFactory, opd: str) -> None:
    op = device.create("pegawai", pegawai_data())
    result = device.push(op).results[0]
    assert result.outcome == "applied" and result.version == 1
    assert result.record is not None
    assert result.record["id"] == op.record_id and result.record["opd_id"] == opd
    assert result.record["updated_by"] == device.device_id
    assert result.record["updated_at"] == op.hlc

    other = enrol(opd)
    changes = other.pull_all()
    assert [c.record_id for c in changes] == [op.record_id]
    change = changes[0]
    assert change.table == "pegawai" and change.version == 1 and not change.deleted
    assert change.record["nama"] == "Budi Santoso"
    assert change.record["tanggal_lahir"] == "1968-04-11"


def test_update_on_current_version_applied(device: TestDevice) -> None:
    record = _pegawai(device)
    result = device.push(device.update("pegawai", record, {"nama": "Budi S."})).results[0]
    assert result.outcome == "applied" and result.version == 2
    assert result.record and result.record["nama"] == "Budi S."


def test_disjoint_fields_merge(device: TestDevice, enrol: DeviceFactory, opd: str) -> None:
    record = _pegawai(device)
    laptop = enrol(opd)
    first = device.push(device.update("pegawai", record, {"nama": "Budi S."})).results[0]
    assert first.outcome == "applied"
    # The laptop still holds version 1 and changes another field.
    second = laptop.push(laptop.update("pegawai", record, {"jabatan": "Analis"})).results[0]
    assert second.outcome == "merged" and second.version == 3
    assert second.record is not None
    assert second.record["nama"] == "Budi S." and second.record["jabatan"] == "Analis"


def test_same_change_on_both_sides_is_no_conflict(
    device: TestDevice, enrol: DeviceFactory, opd: str
) -> None:
    record = _pegawai(device)
    laptop = enrol(opd)
    device.push(device.update("pegawai", record, {"nama": "Budi S."}))
    result = laptop.push(laptop.update("pegawai", record, {"nama": "Budi S."})).results[0]
    assert result.outcome == "merged" and result.version == 2
    assert not result.conflicts


def test_same_field_two_values_is_conflict_keeping_both(
    device: TestDevice, enrol: DeviceFactory, opd: str
) -> None:
    record = _pegawai(device)
    laptop = enrol(opd)
    device.push(device.update("pegawai", record, {"nama": "Budi Santosa"}))
    result = laptop.push(
        laptop.update("pegawai", record, {"nama": "Budi Santoso, S.Pd.", "jabatan": "Guru"})
    ).results[0]
    assert result.outcome == "conflict"
    [conflict] = result.conflicts
    assert conflict.field == "nama"
    assert conflict.base == "Budi Santoso"
    assert conflict.mine == "Budi Santoso, S.Pd."
    assert conflict.theirs == "Budi Santosa"
    assert conflict.mine_by == laptop.device_id and conflict.theirs_by == device.device_id
    assert not conflict.resolved
    # The server keeps its value; the disjoint field merged.
    assert result.record is not None
    assert result.record["nama"] == "Budi Santosa" and result.record["jabatan"] == "Guru"

    # Every device of the OPD hears of the conflict on pull.
    pulled = [c for c in device.pull_all() if c.record_id == record["id"]]
    assert pulled[-1].conflicts[0].conflict_id == conflict.conflict_id


def test_resolution_op_clears_conflict_everywhere(
    device: TestDevice, enrol: DeviceFactory, opd: str
) -> None:
    record = _pegawai(device)
    laptop = enrol(opd)
    device.push(device.update("pegawai", record, {"nama": "A"}))
    conflict_result = laptop.push(laptop.update("pegawai", record, {"nama": "B"})).results[0]
    [conflict] = conflict_result.conflicts
    seen = device.pull_all()
    since = max(c.seq for c in seen)

    current = conflict_result.record
    assert current is not None
    resolution = laptop.update("pegawai", current, {"nama": "B"}, resolves=[conflict.conflict_id])
    result = laptop.push(resolution).results[0]
    assert result.outcome == "applied", result
    assert result.record and result.record["nama"] == "B"

    later = device.pull_all(since)
    [change] = [c for c in later if c.record_id == record["id"]]
    assert change.record["nama"] == "B"
    [cleared] = change.conflicts
    assert cleared.conflict_id == conflict.conflict_id
    assert cleared.resolved and cleared.resolution == "B"


def test_resolution_of_unknown_conflict_refused(device: TestDevice) -> None:
    record = _pegawai(device)
    op = device.update("pegawai", record, {"nama": "X"}, resolves=["tidak-ada"])
    result = device.push(op).results[0]
    assert result.outcome == "refused" and "Konflik" in (result.reason or "")


def test_retried_op_gets_first_result(device: TestDevice) -> None:
    record = _pegawai(device)
    op = device.update("pegawai", record, {"nama": "Sekali"})
    first = device.push(op).results[0]
    again = device.push(op).results
    assert [r.model_dump() for r in again] == [first.model_dump()]
    pulled = [c for c in device.pull_all() if c.record_id == record["id"]]
    assert pulled[-1].version == 2  # applied once


def test_same_op_twice_in_one_push_is_duplicate(device: TestDevice) -> None:
    record = _pegawai(device)
    op = device.update("pegawai", record, {"nama": "Sekali"})
    first, second = device.push(op, op).results
    assert first.outcome == "applied" and second.outcome == "duplicate"
    assert second.version == first.version == 2
    pulled = [c for c in device.pull_all() if c.record_id == record["id"]]
    assert pulled[-1].version == 2  # applied once


def test_create_of_existing_identical_record_is_duplicate(device: TestDevice) -> None:
    data = pegawai_data()
    op = device.create("pegawai", data)
    device.push(op)
    again = device.create("pegawai", data, record_id=op.record_id)
    result = device.push(again).results[0]
    assert result.outcome == "duplicate" and result.version == 1


def test_tombstone_pulled_as_deleted(device: TestDevice, enrol: DeviceFactory, opd: str) -> None:
    record = _pegawai(device)
    result = device.push(device.update("pegawai", record, {}, deleted=True)).results[0]
    assert result.outcome == "applied" and result.version == 2
    other = enrol(opd)
    [change] = other.pull_all()
    assert change.deleted and change.record["deleted"] is True


def test_pull_pages_in_sequence_order(device: TestDevice, enrol: DeviceFactory, opd: str) -> None:
    ops = [device.create("pegawai", pegawai_data(i, nama=f"P{i}")) for i in range(1, 8)]
    device.push(*ops)
    first = device.changes(0, limit=3)
    assert len(first.changes) == 3 and first.has_more
    seqs = [c.seq for c in first.changes]
    assert seqs == sorted(seqs)
    rest = device.pull_all(first.next_since, limit=3)
    everything = first.changes + rest
    assert [c.record_id for c in everything] == [op.record_id for op in ops]
    final = device.changes(everything[-1].seq)
    assert final.changes == [] and not final.has_more
    assert final.next_since == everything[-1].seq


def test_a_record_appears_once_at_its_latest_change(device: TestDevice) -> None:
    a = _pegawai(device, 1)
    b = _pegawai(device, 2)
    device.push(device.update("pegawai", a, {"nama": "A2"}))
    ids = [c.record_id for c in device.pull_all()]
    assert ids == [b["id"], a["id"]]


def test_refused_ops_change_nothing(device: TestDevice) -> None:
    pegawai = _pegawai(device)
    before = device.pull_all()
    bad = [
        device.create("pegawai", {**pegawai_data(3), "gaji": 1}),  # unknown field
        device.create("pegawai", {**pegawai_data(4), "tanggal_lahir": "kemarin"}),
        device.create("pegawai", {"nip": pegawai_data(5)["nip"]}),  # missing fields
        device.create("pegawai", pegawai_data(9)),  # NIP already used in this OPD
        device.create("usulan", usulan_data("tidak-ada")),  # parent missing
        device.update("pegawai", {**pegawai, "id": "tidak-ada"}, {"nama": "X"}),
    ]
    results = device.push(*bad).results
    assert [r.outcome for r in results] == ["refused"] * len(bad)
    assert all(r.reason for r in results)
    assert device.pull_all() == before


def test_op_signed_for_another_device_refused(
    device: TestDevice, enrol: DeviceFactory, opd: str
) -> None:
    other = enrol(opd)
    op = other.create("pegawai", pegawai_data())
    result = device.push(op).results[0]
    assert result.outcome == "refused"


def test_push_response_carries_the_opd_newest_seq(
    device: TestDevice, enrol: DeviceFactory, other_opd: str
) -> None:
    response = device.push(device.create("pegawai", pegawai_data()))
    assert response.server_seq == max(c.seq for c in device.pull_all())
    # Another OPD's later activity neither shows nor makes this device pull in vain.
    stranger = enrol(other_opd)
    stranger.push(stranger.create("pegawai", pegawai_data()))
    empty = device.push()
    assert empty.results == [] and empty.server_seq == response.server_seq

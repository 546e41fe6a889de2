"""Who may read and write what: OPD A against OPD B's records (by id, by listing, by blob,
by key), the verifikator's limits, revoked devices, and signature/replay refusals.
A refusal never tells whether another OPD's record exists."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from server import admin
from server.access import NOT_FOUND_REASON
from sync.crypto import request_aad, seal_json
from sync.protocol import ChangesPage, PushRequest
from tests.server.conftest import (
    DeviceFactory,
    applied_record,
    dokumen_data,
    file_list,
    make_opd_key,
    pegawai_data,
    start_upload,
    tus_upload,
    usulan_data,
)
from tests.support.device import ServerError, TestDevice
from tests.support.server import RunningServer


@pytest.fixture
def device_b(enrol: DeviceFactory, other_opd: str) -> TestDevice:
    return enrol(other_opd)


@pytest.fixture
def b_records(device_b: TestDevice) -> dict[str, dict[str, Any]]:
    pegawai = applied_record(device_b, "pegawai", pegawai_data())
    usulan = applied_record(device_b, "usulan", usulan_data(pegawai["id"]))
    dokumen = applied_record(device_b, "dokumen", dokumen_data(usulan["id"], "SKP"))
    return {"pegawai": pegawai, "usulan": usulan, "dokumen": dokumen}


def test_opd_a_cannot_write_b_records_by_id(
    device: TestDevice, b_records: dict[str, dict[str, Any]]
) -> None:
    ghost = {**b_records["pegawai"], "id": "01900000-0000-7000-8000-000000000000"}
    for table, record in b_records.items():
        for op in (
            device.update(table, record, {"catatan" if table == "usulan" else "pages": 1}),
            device.update(table, {**record, "opd_id": device.opd_kode}, {}, deleted=True),
        ):
            result = device.push(op).results[0]
            assert result.outcome == "refused"
            assert result.record is None and result.version is None
    missing = device.push(device.update("pegawai", ghost, {"nama": "X"})).results[0]
    taken = device.push(
        device.update("pegawai", {**b_records["pegawai"], "opd_id": device.opd_kode}, {"nama": "X"})
    ).results[0]
    # Absent and "not yours" read the same.
    assert missing.reason == taken.reason == NOT_FOUND_REASON


def test_opd_a_cannot_create_in_b_or_under_b_records(
    device: TestDevice, device_b: TestDevice, b_records: dict[str, dict[str, Any]]
) -> None:
    in_b = device.create("pegawai", pegawai_data(3), opd_id=device_b.opd_kode)
    under_b = device.create("usulan", usulan_data(b_records["pegawai"]["id"]))
    under_nothing = device.create("usulan", usulan_data("01900000-0000-7000-8000-00000000abcd"))
    same_id = device.create("pegawai", pegawai_data(4), record_id=b_records["pegawai"]["id"])
    results = device.push(in_b, under_b, under_nothing, same_id).results
    assert [r.outcome for r in results] == ["refused"] * 4
    assert results[1].reason == results[2].reason  # B's parent reads as absent


def test_opd_a_lists_only_its_own(
    device: TestDevice, device_b: TestDevice, b_records: dict[str, dict[str, Any]]
) -> None:
    mine = applied_record(device, "pegawai", pegawai_data())
    assert {c.record_id for c in device.pull_all()} == {mine["id"]}
    assert {c.opd_id for c in device_b.pull_all()} == {device_b.opd_kode}


def test_opd_a_cannot_resolve_b_conflicts(
    device: TestDevice, enrol: DeviceFactory, device_b: TestDevice, other_opd: str
) -> None:
    record = applied_record(device_b, "pegawai", pegawai_data())
    second_b = enrol(other_opd)
    device_b.push(device_b.update("pegawai", record, {"nama": "A"}))
    [conflict] = (
        second_b.push(second_b.update("pegawai", record, {"nama": "B"})).results[0].conflicts
    )
    mine = applied_record(device, "pegawai", pegawai_data())
    result = device.push(
        device.update("pegawai", mine, {"nama": "C"}, resolves=[conflict.conflict_id])
    ).results[0]
    unknown = device.push(
        device.update("pegawai", mine, {"nama": "C"}, resolves=["01900000-0000-7000-8000-0000"])
    ).results[0]
    assert result.outcome == unknown.outcome == "refused"
    assert result.reason and unknown.reason
    assert result.reason.replace(conflict.conflict_id, "?") == unknown.reason.replace(
        "01900000-0000-7000-8000-0000", "?"
    )


def test_opd_a_cannot_reach_b_blobs_or_keys(
    device: TestDevice, device_b: TestDevice, b_records: dict[str, dict[str, Any]]
) -> None:
    key_b = make_opd_key(device_b)
    tus_upload(device_b, b"%PDF-1.7 rahasia B", key_b, dokumen_id=b_records["dokumen"]["id"])
    [info] = file_list(device_b).files
    # By id: the same 404 as for an id that does not exist.
    theirs = device.send("GET", f"/v1/files/{info.file_id}")
    nobody = device.send("GET", f"/v1/files/{'0' * 32}")
    assert theirs.response.status_code == nobody.response.status_code == 404
    assert theirs.response.json() == nobody.response.json()
    # By listing, even when asking for B.
    assert file_list(device).files == []
    assert file_list(device, f"?opd={device_b.opd_kode}").files == []
    assert file_list(device, f"?sha256={info.sha256}").files == []
    # By linking an upload to B's dokumen.
    call = start_upload(device, 100, "a" * 64, dokumen_id=b_records["dokumen"]["id"])
    assert call.response.status_code == 404
    # B's OPD key copy and B's devices.
    with pytest.raises(ServerError) as info_err:
        device.call("GET", f"/v1/opd/key?opd={device_b.opd_kode}", ChangesPage)
    assert info_err.value.status == 404


def test_verifikator_reads_everything(
    device: TestDevice,
    device_b: TestDevice,
    verifier: TestDevice,
    b_records: dict[str, dict[str, Any]],
) -> None:
    mine = applied_record(device, "pegawai", pegawai_data())
    seen = {c.record_id for c in verifier.pull_all()}
    assert mine["id"] in seen and b_records["usulan"]["id"] in seen
    key_b = make_opd_key(device_b)
    tus_upload(device_b, b"%PDF-1.7 B", key_b)
    [info] = file_list(verifier, f"?opd={device_b.opd_kode}").files
    assert verifier.send("GET", f"/v1/files/{info.file_id}").response.status_code == 200


def test_verifikator_writes_only_verification_fields(
    verifier: TestDevice, b_records: dict[str, dict[str, Any]]
) -> None:
    usulan, dokumen, pegawai = b_records["usulan"], b_records["dokumen"], b_records["pegawai"]
    refused = [
        verifier.update("pegawai", pegawai, {"nama": "Diubah BKD"}),
        verifier.update("usulan", usulan, {"catatan": "bukan kolom verifikasi"}),
        verifier.update("dokumen", dokumen, {"sha256": "b" * 64}),
        verifier.update("usulan", usulan, {}, deleted=True),
        verifier.create("pegawai", pegawai_data(5), opd_id=usulan["opd_id"]),
        verifier.create("usulan", usulan_data(pegawai["id"], 5), opd_id=usulan["opd_id"]),
    ]
    results = verifier.push(*refused).results
    assert [r.outcome for r in results] == ["refused"] * len(refused), results
    allowed = verifier.push(
        verifier.update("usulan", usulan, {"catatan_verifikator": "Cek ulang SKP"}),
        verifier.update("dokumen", dokumen, {"catatan_verifikator": "buram"}),
    ).results
    assert [r.outcome for r in allowed] == ["applied", "applied"]


def test_verifikator_cannot_write_a_field_by_naming_it_unchanged(
    verifier: TestDevice, device_b: TestDevice, b_records: dict[str, dict[str, Any]]
) -> None:
    """A fast-forward applies every named field's new value: an op whose base equals its
    new value must be authorized like any other (issue 13 item 1)."""
    usulan, dokumen, pegawai = b_records["usulan"], b_records["dokumen"], b_records["pegawai"]
    forged_sha = "b" * 64

    sneaky = [
        verifier.update("pegawai", pegawai, {"nama": "Diubah BKD"}, base={"nama": "Diubah BKD"}),
        verifier.update("usulan", usulan, {"catatan": "palsu"}, base={"catatan": "palsu"}),
        verifier.update("dokumen", dokumen, {"sha256": forged_sha}, base={"sha256": forged_sha}),
        # Allowed field and forbidden field together: the whole op is refused.
        verifier.update(
            "usulan",
            usulan,
            {"catatan_verifikator": "MS", "periode": "2030-04-01"},
            base={"periode": "2030-04-01"},
        ),
    ]
    results = verifier.push(*sneaky).results
    assert [r.outcome for r in results] == ["refused"] * len(sneaky), results
    assert all("kolom verifikasi" in (r.reason or "") for r in results)
    # On a stale version the named field would open a conflict instead: refused as well.
    device_b.push(device_b.update("pegawai", pegawai, {"jabatan": "Analis"}))
    result = verifier.push(  # `pegawai` is now one version behind the server's
        verifier.update("pegawai", pegawai, {"nama": "Diubah BKD"}, base={"nama": "Lama"})
    ).results[0]
    assert result.outcome == "refused", result
    # The server holds the OPD's values, untouched, and no conflict was opened.
    held = {c.table: c for c in device_b.pull_all()}
    assert held["pegawai"].record["nama"] == pegawai["nama"]
    assert held["pegawai"].record["jabatan"] == "Analis"
    assert held["pegawai"].conflicts == []
    assert held["usulan"].record["catatan"] == usulan["catatan"]
    assert held["usulan"].record["periode"] == usulan["periode"]
    assert held["usulan"].record["catatan_verifikator"] == ""
    assert held["dokumen"].record["sha256"] == dokumen["sha256"]


def test_opd_cannot_name_bkd_fields_even_on_a_stale_base(device: TestDevice) -> None:
    """An OPD op naming a BKD-only field is refused whatever its base: on a stale version
    it would otherwise open a conflict on that field (which a resolution then applies)."""
    pegawai = applied_record(device, "pegawai", pegawai_data())
    usulan = applied_record(device, "usulan", usulan_data(pegawai["id"]))
    dokumen = applied_record(device, "dokumen", dokumen_data(usulan["id"], "SKP"))
    device.push(device.update("usulan", usulan, {"catatan": "v2"}))
    device.push(device.update("dokumen", dokumen, {"pages": 2}))
    refused = [
        device.update("usulan", usulan, {"nomor_pertek": "PALSU/1"}, base={"nomor_pertek": "X"}),
        device.update("dokumen", dokumen, {"state": "dikembalikan"}, base={"state": "x"}),
        device.update(
            "usulan", usulan, {"catatan_verifikator": "MS"}, base={"catatan_verifikator": "MS"}
        ),
    ]
    results = device.push(*refused).results
    assert [r.outcome for r in results] == ["refused"] * 3, results
    held = {c.table: c for c in device.pull_all()}
    assert held["usulan"].conflicts == [] and held["dokumen"].conflicts == []
    assert held["usulan"].record["nomor_pertek"] == ""
    assert held["dokumen"].record["state"] == "ada"


def test_opd_cannot_write_bkd_fields(device: TestDevice) -> None:
    pegawai = applied_record(device, "pegawai", pegawai_data())
    usulan = applied_record(device, "usulan", usulan_data(pegawai["id"]))
    dokumen = applied_record(device, "dokumen", dokumen_data(usulan["id"], "SKP"))
    refused = [
        device.update("usulan", usulan, {"nomor_pertek": "PALSU/1"}),
        device.update("usulan", usulan, {"catatan_verifikator": "MS"}),
        device.update("dokumen", dokumen, {"state": "dikembalikan"}),
        device.create("usulan", usulan_data(pegawai["id"], 3, nomor_pertek="PALSU/2")),
    ]
    assert [r.outcome for r in device.push(*refused).results] == ["refused"] * 4


def test_revoked_device_refused_everywhere(
    server: RunningServer, enrol: DeviceFactory, opd: str
) -> None:
    device = enrol(opd)
    opd_key = make_opd_key(device)
    record = applied_record(device, "pegawai", pegawai_data())
    url, _ = tus_upload(device, b"%PDF-1.7 dokumen", opd_key)
    [info] = file_list(device).files
    partial = start_upload(device, 1000, "c" * 64).response.headers["Location"]

    admin.revoke_device(server.db, device.device_id)
    calls = [
        device.send(
            "POST",
            "/v1/sync/push",
            PushRequest(ops=[device.update("pegawai", record, {"nama": "X"})]),
        ),
        device.send("GET", "/v1/sync/changes?since=0"),
        device.send("GET", "/v1/files"),
        device.send("GET", f"/v1/files/{info.file_id}"),
        device.send("GET", "/v1/opd/key"),
        device.send("GET", "/v1/opd/devices-needing-key"),
        start_upload(device, 10, "d" * 64),
    ]
    for call in calls:
        assert call.response.status_code == 403, (call.target, call.response.text)
        assert call.response.json()["kode"] == "perangkat_dicabut"
    tus = {"Tus-Resumable": "1.0.0"}
    assert httpx.head(device.base_url + partial, headers=tus).status_code == 403
    assert httpx.head(url, headers=tus).status_code == 403
    # Nothing changed.
    other = enrol(opd)
    [change] = other.pull_all()
    assert change.record["nama"] == "Budi Santoso"


def test_unsigned_and_badly_signed_requests(device: TestDevice, server: RunningServer) -> None:
    """Every forged request carries a nonce the server has never seen, so only the
    signature check can refuse it (a spent nonce would be refused as a replay even
    with verification switched off)."""
    from sync.crypto import generate_device_keys, sign_request

    assert httpx.get(f"{server.url}/v1/sync/changes").status_code == 401
    assert httpx.get(f"{server.url}/v1/sync/changes").json()["kode"] == "malformed"
    target = "/v1/sync/changes?since=0"

    def fresh(path: str = target) -> dict[str, str]:
        return sign_request(device.keys, device.device_id, "GET", path, b"")

    def refusal(resp: httpx.Response) -> str:
        assert resp.status_code == 401, f"served ({resp.status_code}): the forgery went through"
        return str(resp.json()["kode"])

    # A signature of the right shape that is not this device's.
    forged = fresh()
    forged["Signature"] = "berkas=:" + "A" * 86 + "==:"
    assert refusal(device.client.get(target, headers=forged)) == "bad_signature"
    # Signed by another key under this device's id.
    other = sign_request(generate_device_keys(), device.device_id, "GET", target, b"")
    assert refusal(device.client.get(target, headers=other)) == "bad_signature"
    # Signed for one target, sent to another.
    moved = device.client.get("/v1/sync/changes?since=5", headers=fresh())
    assert refusal(moved) == "bad_signature"
    # The control: the same kind of request, signed for real, is served.
    assert device.client.get(target, headers=fresh()).status_code == 200


def test_replayed_request_refused_and_changes_nothing(device: TestDevice) -> None:
    record = applied_record(device, "pegawai", pegawai_data())
    call = device.send(
        "POST",
        "/v1/sync/push",
        PushRequest(ops=[device.update("pegawai", record, {"nama": "Sekali saja"})]),
    )
    assert call.response.status_code == 200
    replay = device.replay(call)
    assert replay.status_code == 401 and replay.json()["kode"] == "replayed_nonce"
    [change] = device.pull_all()
    assert change.version == 2


def test_stale_timestamp_refused(device: TestDevice) -> None:
    from sync.crypto import sign_request

    target = "/v1/sync/changes?since=0"
    headers = sign_request(device.keys, device.device_id, "GET", target, b"", now=1_000_000)
    resp = device.client.get(target, headers=headers)
    assert resp.status_code == 401 and resp.json()["kode"] == "stale_timestamp"


def test_unknown_device_refused(server: RunningServer, device: TestDevice) -> None:
    from sync.crypto import generate_device_keys, sign_request

    target = "/v1/sync/changes?since=0"
    headers = sign_request(generate_device_keys(), "tidak-terdaftar", "GET", target, b"")
    resp = httpx.get(server.url + target, headers=headers)
    assert resp.status_code == 401 and resp.json()["kode"] == "unknown_device"


def test_body_sealed_for_another_endpoint_refused(device: TestDevice) -> None:
    sealed = seal_json(
        PushRequest(ops=[]).model_dump_json().encode(),
        device.server_key,
        request_aad("POST", "/v1/opd/key/wrap"),
    )
    call = device.send(
        "POST", "/v1/sync/push", sealed, headers={"Content-Type": "application/vnd.berkas.sealed"}
    )
    assert call.response.status_code == 400
    assert call.response.json()["kode"] == "segel_tidak_sah"

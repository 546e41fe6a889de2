"""The shared OPD key and disaster restore: after every machine of an OPD is lost, a newly
enrolled device receives the OPD key from a verifikator, pulls every record and downloads
and opens every document of its OPD."""

from __future__ import annotations

import hashlib
import io

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from server import admin
from server.keys import VERIFIER_KEY_NAME
from sync.crypto import (
    decrypt_stream,
    load_key_file,
    public_key_b64,
    unwrap_opd_key,
    wrap_opd_key,
    x25519_public_from_b64,
)
from sync.protocol import (
    VERIFIER_RECIPIENT,
    DevicesNeedingKey,
    KeyRequests,
    KeyRequestStatus,
    OpdKeyInfo,
    OpdKeyUpload,
    WrappedKey,
)
from tests.server.conftest import (
    KP_REGULER_REQUIRED,
    DeviceFactory,
    applied_record,
    dokumen_data,
    file_list,
    make_opd_key,
    pegawai_data,
    tus_upload,
    usulan_data,
)
from tests.support.device import ServerError, TestDevice
from tests.support.server import TEST_VERIFIER_PASSPHRASE, RunningServer


def _own_copy(device: TestDevice) -> X25519PrivateKey:
    info = device.call("GET", "/v1/opd/key", OpdKeyInfo)
    assert info.wrapped is not None
    return unwrap_opd_key(info.wrapped.envelope_b64, device.keys.x25519("encryption"), info.opd_id)


def _wrap_for(
    sender: TestDevice, opd_key: X25519PrivateKey, target_id: str, target_key: str, opd: str
) -> OpdKeyInfo:
    envelope = wrap_opd_key(opd_key, x25519_public_from_b64(target_key), opd)
    return sender.call(
        "POST",
        "/v1/opd/key/wrap",
        OpdKeyInfo,
        WrappedKey(recipient_device_id=target_id, envelope_b64=envelope),
    )


def test_first_device_registers_opd_key(device: TestDevice, enrol: DeviceFactory, opd: str) -> None:
    with pytest.raises(ServerError) as none_yet:
        device.call("GET", "/v1/opd/key", OpdKeyInfo)
    assert none_yet.value.body["kode"] == "kunci_opd_belum_ada"
    opd_key = make_opd_key(device)
    assert public_key_b64(_own_copy(device)) == public_key_b64(opd_key)

    later = enrol(opd)
    assert later.enrolment.opd_encryption_key == public_key_b64(opd_key)
    with pytest.raises(ServerError) as waiting:
        later.call("GET", "/v1/opd/key", OpdKeyInfo)
    assert waiting.value.status == 404 and waiting.value.body["kode"] == "kunci_opd_menunggu"
    # A second "first" key for the same OPD is refused.
    with pytest.raises(ServerError) as twice:
        make_opd_key(later)
    assert twice.value.status == 409


def test_existing_device_wraps_for_a_new_one(
    device: TestDevice, enrol: DeviceFactory, opd: str
) -> None:
    opd_key = make_opd_key(device)
    laptop = enrol(opd, name="Laptop baru")
    needing = device.call("GET", "/v1/opd/devices-needing-key", DevicesNeedingKey)
    [entry] = needing.devices
    assert entry.device_id == laptop.device_id and entry.device_name == "Laptop baru"
    _wrap_for(device, opd_key, entry.device_id, entry.encryption_key, opd)
    assert public_key_b64(_own_copy(laptop)) == public_key_b64(opd_key)
    assert device.call("GET", "/v1/opd/devices-needing-key", DevicesNeedingKey).devices == []


def test_opd_key_upload_must_include_verifier_copy(device: TestDevice) -> None:
    from sync.crypto import generate_x25519

    key = generate_x25519()
    own = x25519_public_from_b64(public_key_b64(device.keys.x25519("encryption")))
    body = OpdKeyUpload(
        public_key=public_key_b64(key),
        wrapped=[
            WrappedKey(
                recipient_device_id=device.device_id,
                envelope_b64=wrap_opd_key(key, own, device.opd_kode),
            ),
            WrappedKey(
                recipient_device_id=device.device_id + "x",
                envelope_b64=wrap_opd_key(key, own, device.opd_kode),
            ),
        ],
    )
    with pytest.raises(ServerError) as info:
        device.call("PUT", "/v1/opd/key", OpdKeyInfo, body)
    assert info.value.status == 422


def test_restore_after_losing_every_machine(
    server: RunningServer, enrol: DeviceFactory, opd: str
) -> None:
    # The OPD works normally: records, an usulan with dokumen, their scans uploaded.
    old = enrol(opd)
    opd_key = make_opd_key(old)
    pegawai = applied_record(old, "pegawai", pegawai_data())
    usulan = applied_record(old, "usulan", usulan_data(pegawai["id"]))
    scans: dict[str, bytes] = {}
    for i, kode in enumerate(KP_REGULER_REQUIRED):
        plaintext = b"%PDF-1.7\n" + f"{kode}".encode() * (1000 + i * 700)
        sha = hashlib.sha256(plaintext).hexdigest()
        dokumen = applied_record(
            old, "dokumen", dokumen_data(usulan["id"], kode, sha256=sha, size=len(plaintext))
        )
        tus_upload(old, plaintext, opd_key, dokumen_id=dokumen["id"])
        scans[sha] = plaintext
    expected = {c.record_id for c in old.pull_all()}

    # The flood: the only machine is gone; the admin revokes it and enrols a new one.
    admin.revoke_device(server.db, old.device_id)
    new = enrol(opd, name="Mesin pengganti")
    assert new.enrolment.opd_encryption_key == public_key_b64(opd_key)
    assert new.enrolment.wrapped_opd_key is None

    # A verifikator, holding the BKD verifier key handed out by the admin, re-wraps the
    # OPD key for the replacement device.
    verifier = enrol("BKD", "verifikator")
    verifier_keys = load_key_file(server.verifier_key_path, TEST_VERIFIER_PASSPHRASE)
    verifier_private = verifier_keys.x25519(VERIFIER_KEY_NAME)
    needing = verifier.call("GET", "/v1/opd/devices-needing-key", DevicesNeedingKey)
    [entry] = [d for d in needing.devices if d.opd_id == opd]
    assert entry.device_id == new.device_id
    copy = verifier.call("GET", f"/v1/opd/key?opd={opd}", OpdKeyInfo)
    assert copy.wrapped is not None and copy.wrapped.recipient_device_id == VERIFIER_RECIPIENT
    recovered = unwrap_opd_key(copy.wrapped.envelope_b64, verifier_private, opd)
    _wrap_for(verifier, recovered, entry.device_id, entry.encryption_key, opd)

    # The new device: its key, every record, every document, opened.
    restored_key = _own_copy(new)
    records = new.pull_all()
    assert {c.record_id for c in records} == expected
    dokumen_sha = [str(c.record["sha256"]) for c in records if c.table == "dokumen"]
    assert len(dokumen_sha) == len(KP_REGULER_REQUIRED)
    files = {info.sha256: info for info in file_list(new).files}
    for sha in dokumen_sha:
        info = files[sha]
        body = new.send("GET", f"/v1/files/{info.file_id}").response
        assert body.status_code == 200
        out = io.BytesIO()
        decrypt_stream(io.BytesIO(body.content), out, restored_key, expected_sha256=info.sha256)
        assert out.getvalue() == scans[sha]


def test_verifikator_opens_documents_with_verifier_key(
    server: RunningServer, device: TestDevice, verifier: TestDevice
) -> None:
    opd_key = make_opd_key(device)
    tus_upload(device, b"%PDF-1.7 untuk BKD", opd_key)
    [info] = file_list(verifier, f"?opd={device.opd_kode}").files
    body = verifier.send("GET", f"/v1/files/{info.file_id}").response.content
    keys = load_key_file(server.verifier_key_path, TEST_VERIFIER_PASSPHRASE)
    out = io.BytesIO()
    decrypt_stream(io.BytesIO(body), out, keys.x25519(VERIFIER_KEY_NAME))
    assert out.getvalue() == b"%PDF-1.7 untuk BKD"


def test_wrap_for_a_device_of_another_opd_is_not_found(
    device: TestDevice, enrol: DeviceFactory, other_opd: str
) -> None:
    opd_key = make_opd_key(device)
    stranger = enrol(other_opd)
    with pytest.raises(ServerError) as info:
        _wrap_for(
            device,
            opd_key,
            stranger.device_id,
            public_key_b64(stranger.keys.x25519("encryption")),
            device.opd_kode,
        )
    assert info.value.status == 404


def test_key_request_reaches_the_verifikator_queue_until_shared(
    server: RunningServer, enrol: DeviceFactory, opd: str, other_opd: str
) -> None:
    verifier = enrol("BKD", "verifikator")
    # No OPD key yet: nothing to ask for (the first device makes it).
    first = enrol(opd)
    with pytest.raises(ServerError) as no_key:
        first.call("POST", "/v1/opd/key/request", KeyRequestStatus)
    assert no_key.value.body["kode"] == "kunci_opd_belum_ada"
    opd_key = make_opd_key(first)

    # Total loss: the replacement asks; asking again keeps the first request.
    admin.revoke_device(server.db, first.device_id)
    new = enrol(opd, name="Mesin pengganti")
    asked = new.call("POST", "/v1/opd/key/request", KeyRequestStatus)
    assert (asked.device_id, asked.opd_id, asked.shared) == (new.device_id, opd, False)
    again = new.call("POST", "/v1/opd/key/request", KeyRequestStatus)
    assert again.requested_at == asked.requested_at

    # The verifikator sees it with the OPD and the device name; another OPD does not.
    queue = verifier.call("GET", "/v1/opd/key/requests", KeyRequests).requests
    [mine] = [r for r in queue if r.opd_id == opd]
    assert (mine.device_id, mine.device_name, mine.opd_name) == (
        new.device_id,
        "Mesin pengganti",
        f"OPD {opd}",
    )
    stranger = enrol(other_opd)
    assert stranger.call("GET", "/v1/opd/key/requests", KeyRequests).requests == []
    with pytest.raises(ServerError) as refused:
        verifier.call("POST", "/v1/opd/key/request", KeyRequestStatus)
    assert refused.value.status == 403

    # Shared: the request leaves the queue; the device now holds a copy.
    _wrap_for(verifier, opd_key, new.device_id, public_key_b64(new.keys.x25519("encryption")), opd)
    queue = verifier.call("GET", "/v1/opd/key/requests", KeyRequests).requests
    assert [r for r in queue if r.opd_id == opd] == []
    assert new.call("POST", "/v1/opd/key/request", KeyRequestStatus).shared
    assert public_key_b64(_own_copy(new)) == public_key_b64(opd_key)

"""Enrolment with one-time codes, the answer's keys, and the health and docs endpoints."""

from __future__ import annotations

import httpx
import pytest

from server import admin
from sync.crypto import generate_device_keys, public_key_b64
from tests.server.conftest import DeviceFactory
from tests.support.device import ServerError, TestDevice
from tests.support.server import RunningServer


def _enrol_body(code: str) -> dict[str, str]:
    keys = generate_device_keys()
    return {
        "code": code,
        "device_name": "Laptop Kepegawaian",
        "signing_key": public_key_b64(keys.ed25519("signing")),
        "encryption_key": public_key_b64(keys.x25519("encryption")),
    }


def test_healthz_needs_no_auth_and_docs_exist(server: RunningServer) -> None:
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{server.url}/docs").status_code == 200
    spec = httpx.get(f"{server.url}/openapi.json").json()
    for path in ("/v1/enrol", "/v1/sync/push", "/v1/sync/changes", "/v1/files", "/v1/opd/key"):
        assert path in spec["paths"]


def test_enrol_answers_identity_and_keys(server: RunningServer, opd: str) -> None:
    code = server.enrol_code(opd)
    device = TestDevice.enrol(server.url, code)
    try:
        e = device.enrolment
        assert e.opd_id == opd and e.opd_kode == opd and e.role == "opd"
        keys = server.services.keys
        assert e.server_encryption_key == keys.encryption_public_b64
        assert e.server_signing_key == keys.signing_public_b64
        assert e.verifier_encryption_key == keys.verifier_public_b64
        assert e.opd_encryption_key is None and e.wrapped_opd_key is None
        listed = {d.id: d for d in admin.list_devices(server.db, opd)}
        assert listed[e.device_id].name == "Perangkat uji"
    finally:
        device.close()


def test_code_works_once(server: RunningServer, opd: str) -> None:
    code = server.enrol_code(opd)
    first = httpx.post(f"{server.url}/v1/enrol", json=_enrol_body(code))
    assert first.status_code == 200
    again = httpx.post(f"{server.url}/v1/enrol", json=_enrol_body(code))
    assert again.status_code == 403
    assert again.json()["kode"] == "kode_tidak_sah"


def test_code_typed_loosely_still_works(server: RunningServer, opd: str) -> None:
    code = server.enrol_code(opd)
    typed = code.replace("-", " ").lower()
    assert httpx.post(f"{server.url}/v1/enrol", json=_enrol_body(typed)).status_code == 200


def test_expired_and_unknown_codes_refused(server: RunningServer, opd: str) -> None:
    expired = admin.issue_enrol_code(server.db, opd, "opd", ttl_seconds=-1).code
    for code in (expired, "AAAA-BBBB-CCCC-DDDD"):
        resp = httpx.post(f"{server.url}/v1/enrol", json=_enrol_body(code))
        assert resp.status_code == 403, resp.text
        assert "kedaluwarsa" in resp.json()["pesan"]


def test_verifikator_enrolment(enrol: DeviceFactory) -> None:
    verifier = enrol("BKD", "verifikator")
    assert verifier.enrolment.role == "verifikator"
    assert verifier.enrolment.opd_id is None and verifier.enrolment.opd_kode == "BKD"


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b'{"code": "X"}', "application/json", 422),
        (b"", "text/plain", 415),
    ],
)
def test_enrol_bad_input(
    server: RunningServer, body: bytes, content_type: str, status: int
) -> None:
    resp = httpx.post(
        f"{server.url}/v1/enrol", content=body, headers={"Content-Type": content_type}
    )
    assert resp.status_code == status
    assert set(resp.json()) == {"kode", "pesan", "detail"}


def test_enrol_unknown_field_and_bad_key(server: RunningServer, opd: str) -> None:
    body = _enrol_body(server.enrol_code(opd))
    resp = httpx.post(f"{server.url}/v1/enrol", json={**body, "admin": True})
    assert resp.status_code == 422
    bad = {**body, "encryption_key": "not-a-key"}
    assert httpx.post(f"{server.url}/v1/enrol", json=bad).status_code == 422


def test_enrol_error_answer_is_errorbody(server: RunningServer) -> None:
    with pytest.raises(ServerError) as info:
        TestDevice.enrol(server.url, "ZZZZ-ZZZZ-ZZZZ-ZZZZ")
    assert info.value.status == 403

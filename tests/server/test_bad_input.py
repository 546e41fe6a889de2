"""Bad input gets the right 4xx with a short reason, and nothing stored changes."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from sync.crypto import SEALED_MEDIA_TYPE, request_aad, seal_json
from sync.protocol import MAX_PUSH_OPS, PushRequest
from tests.server.conftest import (
    applied_record,
    dokumen_data,
    file_list,
    make_opd_key,
    pegawai_data,
    tus_upload,
    usulan_data,
)
from tests.support.device import TestDevice
from tests.support.netproxy import wait_until
from tests.support.server import RunningServer


def _sealed(device: TestDevice, target: str, payload: bytes) -> bytes:
    return seal_json(payload, device.server_key, request_aad("POST", target))


def _push_raw(
    device: TestDevice, payload: bytes, content_type: str = SEALED_MEDIA_TYPE
) -> tuple[int, dict[str, str]]:
    body = (
        _sealed(device, "/v1/sync/push", payload) if content_type == SEALED_MEDIA_TYPE else payload
    )
    call = device.send("POST", "/v1/sync/push", body, headers={"Content-Type": content_type})
    return call.response.status_code, call.response.json()


@pytest.fixture
def baseline(device: TestDevice) -> list[object]:
    applied_record(device, "pegawai", pegawai_data())
    return list(device.pull_all())


def test_malformed_json_inside_the_seal(device: TestDevice, baseline: list[object]) -> None:
    status, body = _push_raw(device, b'{"ops": [')
    assert status == 400 and body["kode"] == "json_tidak_sah"
    assert device.pull_all() == baseline


def test_unknown_fields_refused(device: TestDevice, baseline: list[object]) -> None:
    op = device.create("pegawai", pegawai_data(2)).model_dump(mode="json")
    status, body = _push_raw(device, json.dumps({"ops": [op], "paksa": True}).encode())
    assert status == 422 and body["kode"] == "isian_tidak_sah" and "paksa" in body["detail"]
    op["bonus"] = 1
    status, _ = _push_raw(device, json.dumps({"ops": [op]}).encode())
    assert status == 422
    assert device.pull_all() == baseline


def test_wrong_content_type(device: TestDevice, baseline: list[object]) -> None:
    payload = PushRequest(ops=[device.create("pegawai", pegawai_data(2))]).model_dump_json()
    status, body = _push_raw(device, payload.encode(), "application/json")
    assert status == 415 and body["kode"] == "jenis_isi_salah"
    assert device.pull_all() == baseline


def test_tampered_seal(device: TestDevice, baseline: list[object]) -> None:
    sealed = bytearray(
        _sealed(device, "/v1/sync/push", PushRequest(ops=[]).model_dump_json().encode())
    )
    sealed[-1] ^= 1
    call = device.send(
        "POST", "/v1/sync/push", bytes(sealed), headers={"Content-Type": SEALED_MEDIA_TYPE}
    )
    assert call.response.status_code == 400
    assert call.response.json()["kode"] == "segel_tidak_sah"


def test_oversized_body(server: RunningServer, device: TestDevice, baseline: list[object]) -> None:
    limit = server.settings.max_body_size
    call = device.send(
        "POST", "/v1/sync/push", b"x" * (limit + 1), headers={"Content-Type": SEALED_MEDIA_TYPE}
    )
    assert call.response.status_code == 413
    assert call.response.json()["kode"] == "terlalu_besar"
    assert device.pull_all() == baseline


def test_too_many_ops(device: TestDevice, baseline: list[object]) -> None:
    op = device.create("pegawai", pegawai_data(2)).model_dump(mode="json")
    payload = json.dumps({"ops": [op] * (MAX_PUSH_OPS + 1)}).encode()
    status, _ = _push_raw(device, payload)
    assert status == 422
    assert device.pull_all() == baseline


@pytest.mark.parametrize(
    "query",
    [
        "since=-1",
        "since=abc",
        "limit=0",
        "limit=10001",
        "since=0&sejak=1",
        "limit=1.5",
        f"since={2**63}",  # one past what the database holds (was OverflowError: 500)
        f"since={2**64 + 5}",
        "since=" + "9" * 5000,
    ],
)
def test_bad_changes_query(device: TestDevice, query: str) -> None:
    call = device.send("GET", f"/v1/sync/changes?{query}")
    assert call.response.status_code == 422, call.response.text
    assert call.response.json()["kode"] == "isian_tidak_sah"


def test_largest_database_integer_is_a_valid_since(device: TestDevice) -> None:
    page = device.changes(since=2**63 - 1)
    assert page.changes == [] and not page.has_more
    # The connection survived: the next request on it is answered normally.
    assert device.changes().next_since >= 0


def test_integers_past_64_bits_in_a_push_are_refused(
    device: TestDevice, baseline: list[object]
) -> None:
    op = device.create("pegawai", pegawai_data(2)).model_dump(mode="json")
    status, body = _push_raw(device, json.dumps({"ops": [{**op, "base_version": 2**63}]}).encode())
    assert status == 422, body
    # An integer record field (dokumen.size): the op is refused, nothing is stored.
    pegawai = applied_record(device, "pegawai", pegawai_data(3))
    usulan = applied_record(device, "usulan", usulan_data(pegawai["id"], 3))
    huge = device.push(
        device.create("dokumen", dokumen_data(usulan["id"], "SKP", size=2**63)),
        device.create("dokumen", dokumen_data(usulan["id"], "SKP", pages=-(2**63) - 1)),
    ).results
    assert [r.outcome for r in huge] == ["refused", "refused"], huge
    assert not any(c.table == "dokumen" for c in device.pull_all())


@pytest.mark.parametrize(
    "target", ["/v1/opd/key?opd=A%00B", "/v1/files?after=%00", "/v1/files/%00"]
)
def test_nul_in_the_url_is_refused(device: TestDevice, target: str) -> None:
    """PostgreSQL text holds no NUL (it was a 500 DataError there; found by the fuzzing)."""
    call = device.send("GET", target)
    assert call.response.status_code == 400, call.response.text


def test_nul_in_any_json_string_is_refused(
    server: RunningServer, device: TestDevice, baseline: list[object]
) -> None:
    op = device.create("pegawai", pegawai_data(2)).model_dump(mode="json")
    for bad in (
        {**op, "record_id": "a\x00b"},
        {**op, "changes": {"nip": {"base": None, "new": "1\x00"}}},
    ):
        status, body = _push_raw(device, json.dumps({"ops": [bad]}).encode())
        assert status == 422, body
    assert device.pull_all() == baseline
    enrol = httpx.post(
        f"{server.url}/v1/enrol",
        json={
            "code": "AB\x00",
            "device_name": "x",
            "signing_key": "A" * 43,
            "encryption_key": "A" * 43,
        },
    )
    assert enrol.status_code == 422, enrol.text
    # A backslash followed by the text u0000 is no NUL: that push is answered normally.
    [result] = device.push(device.create("pegawai", pegawai_data(4, nama="Budi \\u0000"))).results
    assert result.outcome == "applied", result


def test_range_with_thousands_of_digits_is_not_a_server_error(device: TestDevice) -> None:
    tus_upload(device, b"%PDF-1.7 dokumen", make_opd_key(device))
    [info] = file_list(device).files
    huge = "bytes=" + "9" * 5000 + "-"
    call = device.send("GET", f"/v1/files/{info.file_id}", headers={"Range": huge})
    assert call.response.status_code == 200, call.response.text  # ignored, not understood
    assert len(call.response.content) == info.cipher_size


@pytest.mark.parametrize(
    "path",
    [
        "/v1/files/..%2F..%2Fserver.db",
        "/v1/files/%2E%2E",
        "/v1/files/" + "a" * 31 + "%00",
        "/v1/files/../../keys/server.key",
    ],
)
def test_path_traversal_in_file_ids(device: TestDevice, path: str) -> None:
    call = device.send("GET", path)
    assert call.response.status_code in (400, 401, 404), call.response.text
    assert "private" not in call.response.text


def _files(root: Path, skip: Path) -> dict[Path, bytes]:
    """Every file under `root` but outside `skip`, with its bytes."""
    return {
        path: path.read_bytes()
        for path in root.rglob("*")
        if path.is_file() and not path.is_relative_to(skip)
    }


class _FileAccess:
    """Paths the process opens, renames or removes while recording (an audit hook:
    hooks cannot be removed, so one is installed once and switched on and off)."""

    installed: ClassVar[_FileAccess | None] = None

    def __init__(self) -> None:
        self.recording = False
        self.paths: list[Path] = []

    @classmethod
    def hook(cls) -> _FileAccess:
        if cls.installed is None:
            access = cls.installed = _FileAccess()
            sys.addaudithook(access._event)
        return cls.installed

    def _event(self, event: str, args: tuple[object, ...]) -> None:
        if not self.recording or not (event == "open" or event.startswith(("os.", "shutil."))):
            return
        for arg in args:
            if isinstance(arg, str | bytes | os.PathLike):
                with contextlib.suppress(TypeError, ValueError):
                    self.paths.append(Path(os.fsdecode(arg)).resolve())


def test_path_traversal_in_record_ids_is_inert(server: RunningServer, device: TestDevice) -> None:
    """A record id shaped like a path reaches no file: nothing outside the server's
    data folder is read or written, and its keys are untouched."""
    home = server.home.resolve()
    temp_root = home.parent  # the test run's temporary folders, beside the data folder
    keys = {path: path.read_bytes() for path in server.settings.keys_dir.iterdir()}
    outside = _files(temp_root, home)
    access = _FileAccess.hook()
    op = device.create("pegawai", pegawai_data(2), record_id="../../keys/server.key")
    access.paths.clear()
    access.recording = True
    try:
        result = device.push(op).results[0]
    finally:
        access.recording = False
    # Record ids are opaque keys in the database, never paths; the record is just stored.
    assert result.outcome == "applied"
    touched = [path for path in access.paths if path.is_relative_to(temp_root)]
    assert [path for path in touched if not path.is_relative_to(home)] == []
    assert [path for path in touched if path.is_relative_to(server.settings.keys_dir)] == []
    assert _files(temp_root, home) == outside
    assert {path: path.read_bytes() for path in server.settings.keys_dir.iterdir()} == keys


def test_error_bodies_have_kode_and_pesan(server: RunningServer, device: TestDevice) -> None:
    resp = device.client.get("/v1/tidak-ada")
    assert resp.status_code == 404
    assert set(resp.json()) == {"kode", "pesan", "detail"}
    resp = device.client.put("/healthz")
    assert resp.status_code == 405 and resp.json()["kode"] == "metode_tidak_didukung"


def test_request_cut_mid_body_is_refused_quietly(
    server: RunningServer, device: TestDevice, caplog: pytest.LogCaptureFixture
) -> None:
    """A link cut while a push body is on its way: no error logged (it is no server fault),
    nothing stored changes, and the server goes on answering."""
    caplog.set_level(logging.INFO)
    before = list(device.pull_all())
    host, port = "127.0.0.1", server.port
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/sync/push HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: " + SEALED_MEDIA_TYPE.encode() + b"\r\n"
            b"Content-Length: 100000\r\n\r\n" + b"x" * 1000
        )
    assert wait_until(
        lambda: any("sambungan_terputus" in r.getMessage() for r in caplog.records), timeout=10
    )
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert device.pull_all() == before


@pytest.mark.parametrize("field", ["nama", "jabatan", "golongan"])
def test_create_with_null_in_a_field_that_cannot_be_empty(
    device: TestDevice, baseline: list[object], field: str
) -> None:
    (result,) = device.push(device.create("pegawai", pegawai_data(3, **{field: None}))).results
    assert result.outcome == "refused" and field in (result.reason or "")
    assert device.pull_all() == baseline


def test_create_with_null_where_null_is_allowed(device: TestDevice) -> None:
    (result,) = device.push(device.create("pegawai", pegawai_data(4, tmt_pns=None))).results
    assert result.outcome == "applied" and result.record and result.record["tmt_pns"] is None

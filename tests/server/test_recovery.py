"""Restarts: partial uploads survive a clean restart and a kill -9 mid-write; the database
comes back consistent and every record pushed before the kill is still there."""

from __future__ import annotations

import base64
import hashlib
import io
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select

from server import admin
from server.db import open_database
from server.models import Upload
from store.rules import Role
from tests.server.conftest import (
    Sha256Uploader,
    applied_record,
    encrypt_document,
    file_list,
    make_opd_key,
    pegawai_data,
    upload_url,
)
from tests.support.device import TestDevice
from tests.support.server import init_home, start_server, start_server_process

TUS = {"Tus-Resumable": "1.0.0"}
CHUNK = 64 * 1024


def _head_offset(url: str) -> int:
    return int(httpx.head(url, headers=TUS).headers["Upload-Offset"])


def _patch(url: str, offset: int, body: bytes) -> httpx.Response:
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    return httpx.patch(
        url,
        content=body,
        headers={
            **TUS,
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            "Upload-Checksum": f"sha256 {digest}",
        },
    )


def _enrol(url: str, code: str) -> TestDevice:
    return TestDevice.enrol(url, code)


def test_partial_upload_survives_restart(tmp_path: Path, own_database_url: str | None) -> None:
    home = tmp_path / "server"
    running = start_server(home, own_database_url)
    device = _enrol(running.url, running.enrol_code("DISDIK"))
    opd_key = make_opd_key(device)
    plaintext = b"%PDF-1.7\n" + bytes(range(256)) * 1000
    ciphertext = encrypt_document(plaintext, device, opd_key)
    url = upload_url(device, ciphertext, plaintext)
    assert _patch(url, 0, ciphertext[: 2 * CHUNK]).status_code == 204
    location = url.removeprefix(running.url)
    device.close()
    running.stop()

    again = start_server(home, own_database_url)
    try:
        resumed_url = again.url + location
        assert _head_offset(resumed_url) == 2 * CHUNK
        uploader = Sha256Uploader(
            file_stream=io.BytesIO(ciphertext), url=resumed_url, chunk_size=CHUNK
        )
        assert uploader.offset == 2 * CHUNK
        uploader.upload()
        device = TestDevice(
            base_url=again.url,
            keys=device.keys,
            enrolment=device.enrolment,
            client=httpx.Client(base_url=again.url),
            clock=device.clock,
        )
        [info] = file_list(device).files
        assert info.cipher_size == len(ciphertext)
        device.close()
    finally:
        again.stop()


def _slow_patch_then_kill(
    url: str, offset: int, body: bytes, send_first: int, kill: object
) -> None:
    """Send a PATCH whose body stops halfway, then kill the server while it waits."""
    parts = urlsplit(url)
    request = (
        f"PATCH {parts.path}?{parts.query} HTTP/1.1\r\n"
        f"Host: {parts.hostname}:{parts.port}\r\n"
        "Tus-Resumable: 1.0.0\r\n"
        f"Upload-Offset: {offset}\r\n"
        "Content-Type: application/offset+octet-stream\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(request + body[:send_first])
        time.sleep(0.5)  # the server has written what arrived
        kill()  # type: ignore[operator]


def test_kill_mid_write_restarts_consistent_and_resumable(
    tmp_path: Path, own_database_url: str | None
) -> None:
    home = tmp_path / "server"
    first = start_server_process(home, own_database_url)
    settings = init_home(home, own_database_url)
    db = open_database(settings.database_url)
    try:
        admin.add_opd(db, "DISDIK", "Dinas Pendidikan")
        code = admin.issue_enrol_code(db, "DISDIK", Role.OPD).code
        device = _enrol(first.url, code)
        opd_key = make_opd_key(device)
        pegawai = [applied_record(device, "pegawai", pegawai_data(i)) for i in range(1, 6)]
        plaintext = b"%PDF-1.7\n" + bytes(range(256)) * 2000
        ciphertext = encrypt_document(plaintext, device, opd_key)
        url = upload_url(device, ciphertext, plaintext)
        assert _patch(url, 0, ciphertext[:CHUNK]).status_code == 204
        _slow_patch_then_kill(url, CHUNK, ciphertext[CHUNK:], 100_000, first.kill)
        assert first.process.poll() is not None
        upload_id = url.split("/v1/files/")[1].split("?")[0]
        partial = settings.blob_dir / "partial" / upload_id
        assert partial.stat().st_size > CHUNK  # bytes past the recorded offset were written
    finally:
        first.stop()

    second = start_server_process(home, own_database_url, port=int(first.url.rsplit(":", 1)[1]))
    try:
        # Recovery cut the file back to the offset the database recorded.
        assert partial.stat().st_size == CHUNK
        with db.read() as session:
            row = session.scalars(select(Upload).where(Upload.id == upload_id)).one()
        assert row.offset == CHUNK
        assert _head_offset(url) == CHUNK
        Sha256Uploader(
            file_stream=io.BytesIO(ciphertext), url=url, chunk_size=CHUNK, upload_checksum=True
        ).upload()
        device.client.close()
        device.client = httpx.Client(base_url=second.url)
        assert {c.record_id for c in device.pull_all()} >= {p["id"] for p in pegawai}
        [info] = file_list(device).files
        body = device.send("GET", f"/v1/files/{info.file_id}").response.content
        assert body == ciphertext
    finally:
        second.stop()
        db.dispose()

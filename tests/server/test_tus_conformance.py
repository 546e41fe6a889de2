"""tus 1.0 conformance beyond the happy path: method override (core), Upload-Metadata on
HEAD (creation), the 401 challenge, and two PATCHes racing on one upload."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import select

from server.models import StoredFile, Upload
from tests.server.conftest import encrypt_document, make_opd_key, start_upload, upload_url
from tests.support.device import TestDevice
from tests.support.netproxy import wait_until
from tests.support.server import RunningServer

TUS = {"Tus-Resumable": "1.0.0"}
CHUNK = 64 * 1024


@pytest.fixture
def opd_key(device: TestDevice) -> X25519PrivateKey:
    return make_opd_key(device)


def _document(device: TestDevice, opd_key: X25519PrivateKey, size: int) -> tuple[bytes, bytes]:
    plaintext = b"%PDF-1.7\n" + os.urandom(size - 9)
    return plaintext, encrypt_document(plaintext, device, opd_key)


def _checksum(data: bytes) -> str:
    return "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode()


def _upload_id(url: str) -> str:
    return url.split("/v1/files/")[1].split("?")[0]


def test_method_override_drives_a_whole_upload_as_tus_js_client_does(
    server: RunningServer, device: TestDevice, opd_key: X25519PrivateKey
) -> None:
    """tus-js-client with `overridePatchMethod: true` sends every PATCH (and its HEAD and
    DELETE) as POST + X-HTTP-Method-Override; the server must act on the named method."""
    plaintext, ciphertext = _document(device, opd_key, 150_000)
    url = upload_url(device, ciphertext, plaintext)
    with httpx.Client(headers=TUS) as http:
        for start in range(0, len(ciphertext), CHUNK):
            chunk = ciphertext[start : start + CHUNK]
            sent = http.post(
                url,
                content=chunk,
                headers={
                    "X-HTTP-Method-Override": "PATCH",
                    "Upload-Offset": str(start),
                    "Content-Type": "application/offset+octet-stream",
                    "Upload-Checksum": _checksum(chunk),
                },
            )
            assert sent.status_code == 204, sent.text
            assert sent.headers["Upload-Offset"] == str(start + len(chunk))
        head = http.post(url, headers={"X-HTTP-Method-Override": "HEAD"})
        assert head.status_code == 200
        assert head.headers["Upload-Offset"] == str(len(ciphertext))
    file_id = head.headers["Berkas-File-Id"]
    with server.db.read() as session:
        stored = session.get(StoredFile, file_id)
    assert stored is not None
    assert (server.settings.blob_dir / stored.cipher_sha256).read_bytes() == ciphertext

    # Termination through the override too: the partial bytes are gone.
    plaintext2, ciphertext2 = _document(device, opd_key, 100_000)
    url2 = upload_url(device, ciphertext2, plaintext2)
    partial = server.settings.blob_dir / "partial" / _upload_id(url2)
    assert partial.exists()
    gone = httpx.post(url2, headers={**TUS, "X-HTTP-Method-Override": "DELETE"})
    assert gone.status_code == 204
    assert not partial.exists()
    assert httpx.head(url2, headers=TUS).status_code == 404


def test_method_override_never_changes_a_signed_creation(device: TestDevice) -> None:
    """The override applies to capability URLs only; POST /v1/files stays a creation."""
    call = start_upload(
        device,
        1000,
        hashlib.sha256(b"x").hexdigest(),
        extra_headers={"X-HTTP-Method-Override": "DELETE"},
    )
    assert call.response.status_code == 201


def test_head_answers_the_upload_metadata_it_was_created_with(
    device: TestDevice, opd_key: X25519PrivateKey
) -> None:
    plaintext, ciphertext = _document(device, opd_key, 20_000)
    sha = hashlib.sha256(plaintext).hexdigest()
    # As tuspy / tus-js-client send it: keys the server does not use are kept too.
    metadata = ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}"
        for key, value in (
            ("sha256", sha),
            ("filename", "196804111993031009_SKP.pdf"),
            ("filetype", "application/pdf"),
        )
    )
    call = device.send(
        "POST",
        "/v1/files",
        None,
        headers={**TUS, "Upload-Length": str(len(ciphertext)), "Upload-Metadata": metadata},
    )
    assert call.response.status_code == 201
    url = device.base_url + call.response.headers["Location"]
    head = httpx.head(url, headers=TUS)
    assert head.status_code == 200
    assert head.headers["Upload-Metadata"] == metadata
    assert head.headers["Cache-Control"] == "no-store"


def test_unauthenticated_answers_name_the_signature_scheme(server: RunningServer) -> None:
    for method, path in (("GET", "/v1/sync/changes?since=0"), ("POST", "/v1/files")):
        resp = httpx.request(method, server.url + path, headers=TUS)
        assert resp.status_code == 401, resp.text
        challenge = resp.headers["WWW-Authenticate"]
        assert challenge.startswith("Signature ")
        assert 'label="berkas"' in challenge and 'alg="ed25519"' in challenge


def _stack_in(function: str, filename: str) -> bool:
    """Whether some thread of this process is inside `function` of `filename` right now
    (the server runs in a thread of the test process)."""
    for frame in sys._current_frames().values():
        current = frame
        while current is not None:
            code = current.f_code
            if code.co_name == function and code.co_filename.endswith(filename):
                return True
            current = current.f_back
    return False


def test_a_patch_racing_a_cut_patch_never_leaves_the_file_short_of_the_offset(
    server: RunningServer, device: TestDevice, opd_key: X25519PrivateKey
) -> None:
    """PATCH A is cut (no checksum): its bytes are kept and recorded. While A records
    them, PATCH B arrives at the same offset. B must not cut A's bytes from the file after
    the database has counted them: the file always holds at least the recorded offset,
    and exactly the bytes A sent."""
    plaintext, ciphertext = _document(device, opd_key, 300_000)
    url = upload_url(device, ciphertext, plaintext)
    upload_id = _upload_id(url)
    partial = server.settings.blob_dir / "partial" / upload_id
    sent = 100_000
    target = urlsplit(url)

    hold = threading.Event()
    holding = threading.Event()

    def hold_database() -> None:
        # A writer elsewhere (the maintenance sweep, another request) holds the database:
        # A's offset write waits for it.
        with server.db.write(serial=False) as session:
            session.execute(select(Upload).where(Upload.id == upload_id).with_for_update())
            holding.set()
            hold.wait(30)

    holder = threading.Thread(target=hold_database, daemon=True)
    holder.start()
    assert holding.wait(10)
    try:
        # PATCH A by hand: announces the whole document, sends `sent` bytes, drops the link.
        with socket.create_connection((target.hostname, target.port)) as a:
            a.sendall(
                (
                    f"PATCH {target.path}?{target.query} HTTP/1.1\r\n"
                    f"Host: {target.netloc}\r\nTus-Resumable: 1.0.0\r\n"
                    f"Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n"
                    f"Content-Length: {len(ciphertext)}\r\n\r\n"
                ).encode()
                + ciphertext[:sent]
            )
            assert wait_until(lambda: partial.stat().st_size == sent)
        # A saw the cut and is recording its offset (waiting for the database).
        assert wait_until(lambda: _stack_in("advance", "server/uploads.py"))
        # PATCH B at the offset the database still shows; its chunk fails its checksum.
        b = httpx.patch(
            url,
            content=ciphertext[:CHUNK],
            headers={
                **TUS,
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
                "Upload-Checksum": _checksum(b"anders"),
            },
            timeout=30,
        )
        assert b.status_code in (409, 423, 460)
    finally:
        hold.set()
        holder.join(30)
    assert wait_until(lambda: not _stack_in("advance", "server/uploads.py"))
    offset = int(httpx.head(url, headers=TUS).headers["Upload-Offset"])
    assert offset == sent
    assert partial.read_bytes()[:offset] == ciphertext[:offset]
    assert partial.stat().st_size == offset


def test_a_database_from_before_upload_metadata_gains_the_column(tmp_path: Path) -> None:
    from sqlalchemy import inspect, text

    from server.db import open_database

    url = f"sqlite:///{tmp_path / 'lama.db'}"
    db = open_database(url)
    with db.write() as session:
        session.execute(text("ALTER TABLE upload DROP COLUMN upload_metadata"))
    db.dispose()
    db = open_database(url)
    try:
        columns = {c["name"] for c in inspect(db.engine).get_columns("upload")}
    finally:
        db.dispose()
    assert "upload_metadata" in columns

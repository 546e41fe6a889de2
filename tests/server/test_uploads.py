"""tus 1.0 uploads driven by tuspy (a third-party client) and by hand, plus downloads
with Range: conformance, refusals, deduplication, expiry, cuts and restarts."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import update
from tusclient.exceptions import TusCommunicationError, TusUploadFailed

from server.models import Upload
from sync.crypto import decrypt_stream, read_header
from tests.server.conftest import (
    Sha256Uploader,
    encrypt_document,
    file_list,
    make_opd_key,
    start_upload,
    tus_upload,
    upload_url,
)
from tests.support.device import TestDevice
from tests.support.netproxy import start_proxy
from tests.support.server import RunningServer

TUS = {"Tus-Resumable": "1.0.0"}
CHUNK = 64 * 1024


@pytest.fixture
def opd_key(device: TestDevice) -> X25519PrivateKey:
    return make_opd_key(device)


def _plaintext(size: int) -> bytes:
    return b"%PDF-1.7\n" + os.urandom(size - 9)


def _patch(url: str, offset: int, body: bytes, **headers: str) -> httpx.Response:
    all_headers = {
        **TUS,
        "Upload-Offset": str(offset),
        "Content-Type": "application/offset+octet-stream",
        **headers,
    }
    return httpx.patch(url, content=body, headers=all_headers)


def _checksum(data: bytes) -> str:
    import base64

    return "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode()


def _download(device: TestDevice, file_id: str, **headers: str) -> httpx.Response:
    return device.send("GET", f"/v1/files/{file_id}", headers=headers).response


def _decrypt(ciphertext: bytes, key: X25519PrivateKey, sha256: str) -> bytes:
    out = io.BytesIO()
    decrypt_stream(io.BytesIO(ciphertext), out, key, expected_sha256=sha256)
    return out.getvalue()


@pytest.fixture
def new_url(device: TestDevice, opd_key: X25519PrivateKey) -> Iterator[tuple[str, bytes, bytes]]:
    plaintext = _plaintext(200_000)
    ciphertext = encrypt_document(plaintext, device, opd_key)
    yield upload_url(device, ciphertext, plaintext), ciphertext, plaintext


def test_options_advertises_capabilities(server: RunningServer) -> None:
    resp = httpx.options(f"{server.url}/v1/files")
    assert resp.status_code == 204
    assert resp.headers["Tus-Version"] == "1.0.0"
    assert resp.headers["Tus-Resumable"] == "1.0.0"
    extensions = set(resp.headers["Tus-Extension"].split(","))
    assert {"creation", "checksum", "termination", "expiration"} <= extensions
    assert int(resp.headers["Tus-Max-Size"]) == server.settings.max_upload_size
    assert "sha256" in resp.headers["Tus-Checksum-Algorithm"].split(",")


def test_tuspy_upload_then_download_and_open(device: TestDevice, opd_key: X25519PrivateKey) -> None:
    plaintext = _plaintext(300_000)
    url, ciphertext = tus_upload(device, plaintext, opd_key, chunk_size=CHUNK)
    head = httpx.head(url, headers=TUS)
    assert head.status_code == 200
    assert head.headers["Upload-Offset"] == head.headers["Upload-Length"] == str(len(ciphertext))
    assert head.headers["Cache-Control"] == "no-store"
    [info] = file_list(device).files
    stream_id = read_header(io.BytesIO(ciphertext)).file_id_hex
    assert info.file_id == stream_id == head.headers["Berkas-File-Id"]
    assert info.sha256 == hashlib.sha256(plaintext).hexdigest()
    assert (info.size, info.cipher_size) == (len(plaintext), len(ciphertext))
    assert file_list(device, f"?sha256={info.sha256}").files == [info]

    resp = _download(device, info.file_id)
    assert resp.status_code == 200 and resp.content == ciphertext
    assert resp.headers["Accept-Ranges"] == "bytes"
    assert _decrypt(resp.content, opd_key, info.sha256) == plaintext


def test_range_downloads(device: TestDevice, opd_key: X25519PrivateKey) -> None:
    _, ciphertext = tus_upload(device, _plaintext(100_000), opd_key)
    [info] = file_list(device).files
    size = len(ciphertext)
    part = _download(device, info.file_id, Range="bytes=100-1099")
    assert part.status_code == 206 and part.content == ciphertext[100:1100]
    assert part.headers["Content-Range"] == f"bytes 100-1099/{size}"
    tail = _download(device, info.file_id, Range="bytes=-500")
    assert tail.status_code == 206 and tail.content == ciphertext[-500:]
    rest = _download(device, info.file_id, Range=f"bytes={size - 10}-")
    assert rest.content == ciphertext[-10:]
    beyond = _download(device, info.file_id, Range=f"bytes={size}-")
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{size}"


def test_creation_refusals(server: RunningServer, device: TestDevice, verifier: TestDevice) -> None:
    sha = "a" * 64
    assert (
        httpx.post(f"{server.url}/v1/files", headers={**TUS, "Upload-Length": "10"}).status_code
        == 401
    )
    no_tus = start_upload(device, 10, sha, extra_headers={"Tus-Resumable": "0.2.2"})
    assert no_tus.response.status_code == 412
    assert no_tus.response.headers["Tus-Version"] == "1.0.0"
    too_big = start_upload(device, server.settings.max_upload_size + 1, sha)
    assert too_big.response.status_code == 413
    assert start_upload(device, 10, "bukan-hash").response.status_code == 400
    for name in ("../../server.db", "a/b.pdf", "..", ".hidden", "nul\x01.pdf", "c:\\x.pdf"):
        resp = start_upload(device, 10, sha, filename=name).response
        assert resp.status_code == 400, name
    assert start_upload(verifier, 10, sha).response.status_code == 403
    deferred = start_upload(device, 10, sha, extra_headers={"Upload-Defer-Length": "1"})
    assert deferred.response.status_code == 400
    # Nothing was half-created on disk.
    partial = server.settings.blob_dir / "partial"
    before = set(partial.iterdir())
    start_upload(device, 10, "bukan-hash")
    assert set(partial.iterdir()) == before


def test_creation_answer(device: TestDevice) -> None:
    call = start_upload(device, 1234, "b" * 64)
    resp = call.response
    assert resp.status_code == 201
    assert resp.headers["Tus-Resumable"] == "1.0.0"
    assert resp.headers["Location"].startswith("/v1/files/")
    assert "?cap=" in resp.headers["Location"]
    assert "Upload-Expires" in resp.headers
    head = httpx.head(device.base_url + resp.headers["Location"], headers=TUS)
    assert head.status_code == 200
    assert head.headers["Upload-Offset"] == "0" and head.headers["Upload-Length"] == "1234"


def test_patch_refusals(new_url: tuple[str, bytes, bytes], server: RunningServer) -> None:
    url, ciphertext, _ = new_url
    chunk = ciphertext[:CHUNK]
    assert _patch(url, 0, chunk, **{"Content-Type": "application/octet-stream"}).status_code == 415
    assert _patch(url, 0, chunk, **{"Tus-Resumable": "0.2.2"}).status_code == 412
    assert _patch(url, 5, chunk).status_code == 409
    assert _patch(url, len(ciphertext) + 10, chunk).status_code == 409
    bad_sum = _patch(url, 0, chunk, **{"Upload-Checksum": _checksum(b"lain")})
    assert bad_sum.status_code == 460 and bad_sum.json()["kode"] == "checksum_salah"
    assert _patch(url, 0, chunk, **{"Upload-Checksum": "md5 AAAA"}).status_code == 400
    assert _patch(url, 0, chunk, **{"Upload-Checksum": "sha256 !!!"}).status_code == 400
    assert httpx.head(url, headers=TUS).headers["Upload-Offset"] == "0"
    too_long = ciphertext + b"ekstra"
    assert _patch(url, 0, too_long).status_code == 413
    good = _patch(url, 0, chunk, **{"Upload-Checksum": _checksum(chunk)})
    assert good.status_code == 204 and good.headers["Upload-Offset"] == str(CHUNK)
    assert good.headers["Tus-Resumable"] == "1.0.0"
    assert "Upload-Expires" in good.headers
    wrong_cap = url.split("?cap=")[0] + "?cap=salah"
    assert _patch(wrong_cap, CHUNK, ciphertext[CHUNK:]).status_code == 404
    assert httpx.head(url.split("?cap=")[0], headers=TUS).status_code == 404
    upload_id = url.split("/v1/files/")[1].split("?")[0]
    partial = server.settings.blob_dir / "partial" / upload_id
    assert partial.stat().st_size == CHUNK


def test_termination(new_url: tuple[str, bytes, bytes], server: RunningServer) -> None:
    url, ciphertext, _ = new_url
    assert _patch(url, 0, ciphertext[:CHUNK]).status_code == 204
    assert httpx.delete(url, headers=TUS).status_code == 204
    assert httpx.head(url, headers=TUS).status_code == 404
    assert _patch(url, CHUNK, ciphertext[CHUNK:]).status_code == 404
    upload_id = url.split("/v1/files/")[1].split("?")[0]
    assert not (server.settings.blob_dir / "partial" / upload_id).exists()


def test_stale_partial_uploads_expire(
    new_url: tuple[str, bytes, bytes], server: RunningServer
) -> None:
    url, ciphertext, _ = new_url
    _patch(url, 0, ciphertext[:CHUNK])
    upload_id = url.split("/v1/files/")[1].split("?")[0]
    with server.db.write(serial=False) as session:
        session.execute(update(Upload).where(Upload.id == upload_id).values(expires_at=1.0))
    assert server.services.uploads.purge_expired() >= 1
    assert not (server.settings.blob_dir / "partial" / upload_id).exists()
    assert httpx.head(url, headers=TUS).status_code == 404


def test_expired_upload_answers_410(
    new_url: tuple[str, bytes, bytes], server: RunningServer
) -> None:
    url, ciphertext, _ = new_url
    upload_id = url.split("/v1/files/")[1].split("?")[0]
    with server.db.write(serial=False) as session:
        session.execute(update(Upload).where(Upload.id == upload_id).values(expires_at=1.0))
    assert _patch(url, 0, ciphertext[:CHUNK]).status_code == 410


def test_same_ciphertext_stored_once(
    server: RunningServer, device: TestDevice, opd_key: X25519PrivateKey
) -> None:
    plaintext = _plaintext(50_000)
    ciphertext = encrypt_document(plaintext, device, opd_key)
    for _ in range(2):
        url = upload_url(device, ciphertext, plaintext)
        Sha256Uploader(file_stream=io.BytesIO(ciphertext), url=url, chunk_size=CHUNK).upload()
    [info] = file_list(device).files
    cipher_sha = hashlib.sha256(ciphertext).hexdigest()
    assert (server.settings.blob_dir / cipher_sha).read_bytes() == ciphertext
    assert info.cipher_size == len(ciphertext)


def test_upload_that_is_not_a_document_stream_is_discarded(device: TestDevice) -> None:
    junk = os.urandom(5000)
    url = upload_url(device, junk, b"x")
    resp = _patch(url, 0, junk)
    assert resp.status_code == 400 and resp.json()["kode"] == "bukan_dokumen_terenkripsi"
    assert file_list(device).files == []
    assert httpx.head(url, headers=TUS).status_code == 404


def test_resume_after_cut_resends_at_most_one_chunk(
    device: TestDevice, opd_key: X25519PrivateKey
) -> None:
    plaintext = _plaintext(600_000)
    ciphertext = encrypt_document(plaintext, device, opd_key)
    direct = upload_url(device, ciphertext, plaintext)
    location = direct.removeprefix(device.base_url)
    host, port = device.base_url.removeprefix("http://").split(":")
    with start_proxy(host, int(port), cut_after_bytes=300_000) as proxy:
        uploader = Sha256Uploader(
            file_stream=io.BytesIO(ciphertext),
            url=proxy.url + location,
            chunk_size=CHUNK,
            upload_checksum=True,
        )
        with pytest.raises((TusCommunicationError, TusUploadFailed, OSError)):
            uploader.upload()
        assert proxy.cuts == 1
        kept = int(httpx.head(direct, headers=TUS).headers["Upload-Offset"])
        assert 0 < kept <= 300_000 and kept % CHUNK == 0
        sent_before = proxy.bytes_up
        # A fresh tuspy uploader resumes from the server's offset (HEAD), through the proxy.
        resumed = Sha256Uploader(
            file_stream=io.BytesIO(ciphertext),
            url=proxy.url + location,
            chunk_size=CHUNK,
            upload_checksum=True,
        )
        assert resumed.offset == kept
        resumed.upload()
        body_sent = proxy.bytes_up  # headers included: a loose upper bound on the bytes
    assert body_sent - sent_before >= len(ciphertext) - kept
    # Bytes that crossed the link before the cut but were not kept: at most the one chunk in
    # flight (its checksum could not be checked), plus request headers.
    assert sent_before - kept <= CHUNK + 8 * 1024
    [info] = file_list(device).files
    assert _decrypt(_download(device, info.file_id).content, opd_key, info.sha256) == plaintext


def test_cut_without_checksum_keeps_received_bytes(
    device: TestDevice, opd_key: X25519PrivateKey
) -> None:
    plaintext = _plaintext(600_000)
    ciphertext = encrypt_document(plaintext, device, opd_key)
    direct = upload_url(device, ciphertext, plaintext)
    location = direct.removeprefix(device.base_url)
    host, port = device.base_url.removeprefix("http://").split(":")
    with start_proxy(host, int(port), cut_after_bytes=250_000) as proxy:
        whole = Sha256Uploader(file_stream=io.BytesIO(ciphertext), url=proxy.url + location)
        with pytest.raises((TusCommunicationError, TusUploadFailed, OSError)):
            whole.upload()
    from tests.support.netproxy import wait_until

    assert wait_until(lambda: int(httpx.head(direct, headers=TUS).headers["Upload-Offset"]) > 0)
    kept = int(httpx.head(direct, headers=TUS).headers["Upload-Offset"])
    assert 0 < kept <= 250_000
    resumed = Sha256Uploader(file_stream=io.BytesIO(ciphertext), url=direct)
    assert resumed.offset == kept
    resumed.upload()
    [info] = file_list(device).files
    assert _decrypt(_download(device, info.file_id).content, opd_key, info.sha256) == plaintext

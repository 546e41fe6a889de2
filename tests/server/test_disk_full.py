"""A full server disk: database writes and blob writes answer 507 `ruang_disk_penuh` with
Retry-After, keep nothing half-written, and work again once there is room.

The database is made full for real: SQLite's `max_page_count` pinned to the file's size
fails every write that needs a page with SQLITE_FULL, the error a full disk gives. Blob
writes go to a small tmpfs (mounting one needs root; elsewhere that test is skipped).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sync.protocol import Op
from tests.server.conftest import (
    encrypt_document,
    file_list,
    make_opd_key,
    pegawai_data,
    upload_url,
)
from tests.support.device import TestDevice
from tests.support.server import RunningServer, database_full, start_server


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(tmp_path / "server")  # SQLite: max_page_count is SQLite's
    yield running
    running.stop()


def _pegawai_ops(device: TestDevice, count: int) -> list[Op]:
    return [
        device.create("pegawai", pegawai_data(nip=f"196804111993031{i:03d}", nama="N" * 150))
        for i in range(count)
    ]


def test_push_on_a_full_database_is_507_and_lands_after(sqlite_server: RunningServer) -> None:
    server = sqlite_server
    device = TestDevice.enrol(server.url, server.enrol_code(server.add_opd("PENUH1")), "Uji")
    ops = _pegawai_ops(device, 300)
    with database_full(server.db):
        call = device.send(
            "POST", "/v1/sync/push", {"ops": [o.model_dump(mode="json") for o in ops]}
        )
        assert call.response.status_code == 507, call.response.text
        body = call.response.json()
        assert body["kode"] == "ruang_disk_penuh"
        assert "penuh" in body["pesan"] and "BKD" in body["pesan"]
        assert int(call.response.headers["Retry-After"]) > 0
        # The same connection keeps answering: a read still works on a full disk.
        assert device.changes().changes == []
    # Nothing was half-written, and the very same ops land once there is room.
    results = device.push(*ops).results
    assert {r.outcome for r in results} == {"applied"}
    assert len(device.pull_all()) == len(ops)
    device.close()


def _mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


@pytest.fixture
def small_blob_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB filesystem for the server's blobs."""
    blobs = tmp_path / "blobs"
    if not _mount_tmpfs(blobs, "256k"):
        pytest.skip("a small tmpfs for the blob folder needs root (mount)")
    try:
        yield blobs
    finally:
        subprocess.run(["umount", "-l", str(blobs)], check=False)


def test_upload_to_a_full_blob_disk_is_507_and_resumes_after(
    tmp_path: Path, small_blob_disk: Path
) -> None:
    server = start_server(tmp_path / "server", blob_dir=small_blob_disk)
    try:
        device = TestDevice.enrol(server.url, server.enrol_code(server.add_opd("PENUH2")), "Uji")
        opd_key = make_opd_key(device)
        plaintext = os.urandom(400 * 1024)  # more than the disk holds
        ciphertext = encrypt_document(plaintext, device, opd_key)
        url = upload_url(device, ciphertext, plaintext)
        tus = {"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}
        patch = httpx.patch(url, content=ciphertext, headers={**tus, "Upload-Offset": "0"})
        assert patch.status_code == 507, patch.text
        assert patch.json()["kode"] == "ruang_disk_penuh"
        assert "Retry-After" in patch.headers
        head = httpx.head(url, headers=tus)
        assert head.status_code == 200 and head.headers["Upload-Offset"] == "0"

        # The admin makes room; the client resumes from the recorded offset.
        subprocess.run(["mount", "-o", "remount,size=4m", str(small_blob_disk)], check=True)
        patch = httpx.patch(url, content=ciphertext, headers={**tus, "Upload-Offset": "0"})
        assert patch.status_code == 204, patch.text
        [info] = file_list(device).files
        stored = device.send("GET", f"/v1/files/{info.file_id}").response.content
        assert hashlib.sha256(stored).digest() == hashlib.sha256(ciphertext).digest()
        assert info.sha256 == hashlib.sha256(plaintext).hexdigest()
        device.close()
    finally:
        server.stop()

"""Throttles: failed enrolments and failed signatures per client address (429 with
Retry-After, counted in the database so every server process shares them), and each
device's unfinished uploads (count and declared bytes)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from server.admin import code_hash
from server.models import EnrolCode, Upload
from tests.server.conftest import start_upload
from tests.support.device import ServerError, TestDevice
from tests.support.server import RunningServer, drop_test_database, fresh_database_url, start_server

LIMITS = {
    "enrol_failures_per_window": 3,
    "auth_failures_per_window": 4,
    "max_open_uploads": 2,
    "max_pending_upload_bytes": 5000,
}


@pytest.fixture
def database_url() -> Iterator[str | None]:
    url = fresh_database_url()
    yield url
    drop_test_database(url)


@pytest.fixture
def strict(tmp_path: Path, database_url: str | None) -> Iterator[RunningServer]:
    """A server of its own with small limits (the shared one must not be throttled)."""
    running = start_server(tmp_path / "server", database_url, **LIMITS)
    yield running
    running.stop()


def _enrol_status(server: RunningServer, code: str) -> httpx.Response:
    try:
        device = TestDevice.enrol(server.url, code)
    except ServerError as exc:
        return httpx.Response(exc.status, json=exc.body)
    device.close()
    return httpx.Response(200)


def test_failed_enrolments_close_the_address(
    strict: RunningServer, tmp_path: Path, database_url: str | None
) -> None:
    good = strict.enrol_code(strict.add_opd("BATAS1"))
    for attempt in range(3):
        assert _enrol_status(strict, f"SALAH-{attempt}").status_code == 403
    assert _enrol_status(strict, "SALAH-3").status_code == 429  # one past the limit
    call = httpx.post(f"{strict.url}/v1/enrol", json={})  # anything from this address
    assert call.status_code == 429, call.text
    assert call.json()["kode"] == "terlalu_sering"
    assert "Coba lagi dalam" in call.json()["pesan"]
    assert 0 < int(call.headers["Retry-After"]) <= 300
    # A good code is refused too while the address is closed, and is not spent.
    assert _enrol_status(strict, good).status_code == 429
    with strict.db.read() as session:
        assert session.get(EnrolCode, code_hash(good)).used_at is None  # type: ignore[union-attr]

    # The count is in the database: a second server process on the same database knows it.
    other = start_server(strict.home, database_url, **LIMITS)
    try:
        assert _enrol_status(other, "SALAH-LAGI").status_code == 429
    finally:
        other.stop()


def test_successful_enrolments_are_not_limited(strict: RunningServer) -> None:
    """An office behind one address enrols many devices: only failures count."""
    kode = strict.add_opd("BANYAK")
    for _ in range(6):
        assert _enrol_status(strict, strict.enrol_code(kode)).status_code == 200


def test_failed_signatures_close_the_address(
    strict: RunningServer, database_url: str | None
) -> None:
    device = TestDevice.enrol(strict.url, strict.enrol_code(strict.add_opd("BATAS2")))
    assert device.send("GET", "/v1/sync/changes").response.status_code == 200
    bad = {"Signature": "palsu", "Signature-Input": "palsu"}
    for _ in range(4):
        assert httpx.get(f"{strict.url}/v1/sync/changes", headers=bad).status_code == 401
    refused = httpx.get(f"{strict.url}/v1/sync/changes", headers=bad)
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["Retry-After"]) > 0
    # While closed, even a correctly signed request from this address waits.
    call = device.send("GET", "/v1/sync/changes")
    assert call.response.status_code == 429
    assert call.response.json()["kode"] == "terlalu_sering"
    device.close()

    other = start_server(strict.home, database_url, **LIMITS)
    try:
        assert httpx.get(f"{other.url}/v1/sync/changes", headers=bad).status_code == 429
    finally:
        other.stop()


def test_open_uploads_and_pending_bytes_per_device(strict: RunningServer) -> None:
    kode = strict.add_opd("BATAS3")
    device = TestDevice.enrol(strict.url, strict.enrol_code(kode))
    neighbour = TestDevice.enrol(strict.url, strict.enrol_code(kode))
    sha = hashlib.sha256(b"x").hexdigest()

    def partial_files() -> int:
        return len(list(strict.services.blobs.partial_dir.iterdir()))

    def open_rows() -> int:
        with strict.db.read() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(Upload)
                    .where(Upload.device_id == device.device_id)
                )
                or 0
            )

    first = start_upload(device, 1000, sha).response
    assert first.status_code == 201
    assert start_upload(device, 1000, sha).response.status_code == 201
    third = start_upload(device, 1000, sha).response
    assert third.status_code == 429, third.text
    assert third.json()["kode"] == "terlalu_sering" and "Retry-After" in third.headers
    assert open_rows() == 2 and partial_files() == 2  # the refused one left nothing
    # Another device of the same OPD has limits of its own.
    assert start_upload(neighbour, 1000, sha).response.status_code == 201

    # Ending one upload frees its place; bytes count by declared length.
    tus = {"Tus-Resumable": "1.0.0"}
    assert httpx.delete(strict.url + first.headers["Location"], headers=tus).status_code == 204
    too_big = start_upload(device, 4001, sha).response  # 1000 open + 4001 > 5000
    assert too_big.status_code == 429, too_big.text
    assert start_upload(device, 4000, sha).response.status_code == 201
    assert open_rows() == 2
    device.close()
    neighbour.close()

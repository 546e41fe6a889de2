"""tus creation-with-upload: a small document goes up in its creation request, so it costs
one round trip (two with the client's one-time OPTIONS discovery); against a server that
does not offer the extension the creation stays empty and the bytes follow in a PATCH."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.netproxy import Proxy
from tests.support.server import RunningServer, start_server
from tests.sync.engine.conftest import Device, DeviceFactory, random_bytes
from tests.sync.engine.test_documents import server_copy_hash
from tests.sync.engine.test_tus_interop import TusVariant


def _file_requests(device: Device) -> list[tuple[str, int]]:
    """(method, body bytes) of every tus request the device sends from now on."""
    seen: list[tuple[str, int]] = []

    def note(request: httpx.Request) -> None:
        if request.url.path.startswith("/v1/files"):
            seen.append((request.method, int(request.headers.get("content-length", "0"))))

    device.engine.transport.http.event_hooks["request"].append(note)
    return seen


def test_a_small_document_takes_at_most_two_round_trips(
    new_device: DeviceFactory, proxy: Proxy
) -> None:
    a = new_device("a")
    assert a.sync().ok  # records and key bookkeeping out of the way
    seen = _file_requests(a)
    first = a.store_scan(random_bytes(60_000, seed=21), "a.pdf")
    report = a.sync()
    assert report.ok and report.uploads.uploaded == 1, report.error
    cipher = a.blobs.path_for(first).stat().st_size
    # OPTIONS (once per client), then the creation carrying the whole document.
    assert seen == [("OPTIONS", 0), ("POST", cipher)]
    seen.clear()
    second = a.store_scan(random_bytes(90_000, seed=22), "b.pdf")
    report = a.sync()
    assert report.ok and report.uploads.uploaded == 1, report.error
    assert seen == [("POST", a.blobs.path_for(second).stat().st_size)]
    # What the server holds decrypts to the documents.
    assert server_copy_hash(a, first) == first
    assert server_copy_hash(a, second) == second


def test_a_larger_document_starts_in_its_creation(new_device: DeviceFactory, proxy: Proxy) -> None:
    a = new_device("a")
    assert a.sync().ok
    seen = _file_requests(a)
    sha = a.store_scan(random_bytes(700_000, seed=23))
    report = a.sync()
    assert report.ok and report.uploads.uploaded == 1, report.error
    cipher = a.blobs.path_for(sha).stat().st_size
    methods = [m for m, _ in seen]
    assert methods[:2] == ["OPTIONS", "POST"] and set(methods[2:]) == {"PATCH"}
    assert seen[1][1] > 0  # the first chunk rode in the creation
    assert sum(size for _, size in seen) == cipher  # and nothing was sent twice
    assert server_copy_hash(a, sha) == sha


@pytest.fixture
def plain_tus(tmp_path: Path) -> Iterator[RunningServer]:
    """Our server offering only creation, expiration, termination (no
    creation-with-upload, no checksum), as many tus servers do."""

    def wrap(app: object) -> TusVariant:
        return TusVariant(app, ())  # type: ignore[arg-type]

    running = start_server(tmp_path / "plain", wrap=wrap)
    yield running
    running.stop()


def test_without_the_extension_the_creation_is_empty(
    tmp_path: Path, plain_tus: RunningServer
) -> None:
    factory = DeviceFactory(tmp_path, plain_tus, plain_tus.url)
    try:
        a = factory("a")
        assert a.sync().ok
        seen = _file_requests(a)
        sha = a.store_scan(random_bytes(60_000, seed=24))
        report = a.sync()
        assert report.ok and report.uploads.uploaded == 1, report.error
        cipher = a.blobs.path_for(sha).stat().st_size
        assert seen == [("OPTIONS", 0), ("POST", 0), ("PATCH", cipher)]
        assert server_copy_hash(a, sha) == sha
    finally:
        for device in factory.made:
            device.close()

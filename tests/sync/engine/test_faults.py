"""Faults end in a clear state, a log line, and no lost or duplicated data."""

from __future__ import annotations

import io
import socketserver
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from client import sync_service
from server import admin
from store.models import OutboxEntry, Pegawai
from sync.engine import ChunkSizer, LinkState, tus_client
from sync.engine.pull import last_seq
from sync.engine.tus_client import TusClient
from tests.support.netproxy import Proxy
from tests.support.server import RunningServer
from tests.sync.engine.conftest import NIPS, Device, DeviceFactory, open_device, random_bytes


def _pending(device: Device) -> int:
    with device.store.read() as session:
        return len(list(session.exec(select(OutboxEntry))))


def _state(device: Device) -> tuple[str, str]:
    status = sync_service.status_of(device.paths, device.store)
    return status.state, status.last_error


def test_server_unreachable_then_back(
    new_device: DeviceFactory, proxy: Proxy, caplog: pytest.LogCaptureFixture
) -> None:
    a = new_device("a")
    a.add_pegawai(NIPS[0])
    proxy.offline(True)
    report = a.sync()
    assert report.state is LinkState.OFFLINE
    state, error = _state(a)
    assert state == "offline" and "jaringan" in error
    assert _pending(a) == 1
    assert any("sinkronisasi gagal (offline)" in r.message for r in caplog.records)
    proxy.offline(False)
    a.engine.backoff.reset()
    assert a.sync().ok
    assert _state(a) == ("online", "")
    assert _pending(a) == 0


@pytest.mark.parametrize(
    ("url", "state", "words"),
    [
        ("http://berkas-tidak-ada.invalid", "offline", "DNS"),
        ("https://127.0.0.1:{port}", "server_menolak", "TLS"),
    ],
)
def test_dns_and_tls_failures(
    new_device: DeviceFactory, server: RunningServer, url: str, state: str, words: str
) -> None:
    a = new_device("a")
    a.add_pegawai(NIPS[0])
    b = open_device(a.paths, url.format(port=server.port))
    try:
        report = b.sync()
        assert report.state.value == state
        assert words in _state(b)[1]
        assert _pending(b) == 1
    finally:
        b.engine.close()


class _Garbage(socketserver.BaseRequestHandler):
    answer = b""

    def handle(self) -> None:
        self.request.recv(65536)
        self.request.sendall(self.answer)


@pytest.fixture
def garbage_server() -> Iterator[tuple[int, type[_Garbage]]]:
    handler = type("Handler", (_Garbage,), {})
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv.server_address[1], handler
    srv.shutdown()
    srv.server_close()


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n\r\noops!",
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{nope}!",
        b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.berkas.sealed\r\n"
        b"Content-Length: 4\r\n\r\n\x01\x01ab",
        b"\x00\xffnot http at all\r\n\r\n",
    ],
)
def test_server_answering_garbage(
    new_device: DeviceFactory, garbage_server: tuple[int, type[_Garbage]], answer: bytes
) -> None:
    port, handler = garbage_server
    handler.answer = answer
    a = new_device("a")
    a.add_pegawai(NIPS[0])
    b = open_device(a.paths, f"http://127.0.0.1:{port}")
    try:
        report = b.sync()
        assert report.state in (LinkState.SERVER_MENOLAK, LinkState.OFFLINE)
        state, error = _state(b)
        assert state == report.state.value and error
        assert _pending(b) == 1
    finally:
        b.engine.close()


def test_revoked_device(new_device: DeviceFactory, server: RunningServer) -> None:
    a = new_device("a")
    a.add_pegawai(NIPS[0])
    admin.revoke_device(server.db, a.engine.facts.device_id)
    report = a.sync()
    assert report.state is LinkState.KUNCI_DICABUT
    state, error = _state(a)
    assert state == "kunci_dicabut" and "dicabut" in error
    assert _pending(a) == 1


def test_full_disk_while_applying_a_page(
    new_device: DeviceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = new_device("a"), new_device("b")
    pid = a.add_pegawai(NIPS[0])
    assert a.sync().ok
    import sync.engine.pull as pull_module

    real = pull_module._apply

    def full(*args: object, **kwargs: object) -> None:
        raise OperationalError("INSERT", {}, Exception("database or disk is full"))

    monkeypatch.setattr(pull_module, "_apply", full)
    report = b.sync()
    assert not report.ok and "Ruang disk penuh" in _state(b)[1]
    assert last_seq(b.store) == 0  # the page was not half applied
    monkeypatch.setattr(pull_module, "_apply", real)
    assert b.sync().ok
    assert b.get(Pegawai, pid).nip == NIPS[0]


def test_tus_460_resends_the_chunk_and_409_asks_again(
    new_device: DeviceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = new_device("a")
    sha = a.store_scan(random_bytes(600_000, seed=7))
    path = a.blobs.path_for(sha)
    length = path.stat().st_size
    chunk = 128 * 1024
    tus = TusClient(a.engine.transport, sizer=ChunkSizer(chunk, minimum=chunk, maximum=chunk))
    real = tus_client.checksum_header
    calls = {"n": 0}

    def flaky(data: bytes, algorithm: str = "sha256") -> str:
        calls["n"] += 1
        # the 2nd chunk "arrives" damaged
        return real(data[::-1] if calls["n"] == 2 else data, algorithm)

    monkeypatch.setattr(tus_client, "checksum_header", flaky)
    url, _ = tus.create(length, {"sha256": sha})
    with path.open("rb") as fh:
        tus.upload(fh, length, url, 0)
    assert tus.offset(url) == length
    assert tus.bytes_sent == length + chunk  # exactly the damaged chunk again

    # 409: the client believes in offset 0 while the server holds a chunk already.
    other = TusClient(a.engine.transport, sizer=ChunkSizer(chunk, minimum=chunk, maximum=chunk))
    url2, _ = other.create(length, {"sha256": sha})
    with path.open("rb") as fh:
        fh.seek(0)
        first = fh.read(chunk)
    other.upload(io.BytesIO(first), chunk, url2, 0)  # sends only the first chunk
    sent_before = other.bytes_sent
    with path.open("rb") as fh:
        other.upload(fh, length, url2, 0)
    assert other.offset(url2) == length
    # The refused PATCH's body was on the wire already (no 100-continue in httpx): at
    # most that one chunk, then HEAD and on from the server's offset.
    assert other.bytes_sent - sent_before == (length - chunk) + chunk


def test_status_does_not_say_connected_while_the_server_is_down(
    new_device: DeviceFactory, proxy: Proxy
) -> None:
    """`berkas status` after a good sync, with the server gone since: it checks the link
    now instead of repeating the last sync's "terhubung" (issue 15 item 4)."""
    a = new_device("a")
    assert a.sync().ok

    def keadaan() -> str:
        return next(line for line in a.berkas("status").splitlines() if line.startswith("Keadaan"))

    assert keadaan().endswith("terhubung")
    proxy.stop()
    assert "luring" in keadaan()

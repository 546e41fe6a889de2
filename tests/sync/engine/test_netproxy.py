"""The bad-network proxy itself: rate, latency, cuts and offline on real sockets."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.netproxy import start_proxy, wait_until


class _Sink(socketserver.BaseRequestHandler):
    """Reads everything, answers each 'ping' line with 'pong'."""

    def handle(self) -> None:
        conn: socket.socket = self.request
        buf = b""
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if line == b"ping":
                    conn.sendall(b"pong\n")


@pytest.fixture
def sink() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Sink)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _send(port: int, data: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        s.recv(1)


def test_rate_cap_shapes_throughput(sink: int) -> None:
    with start_proxy("127.0.0.1", sink, rate_bps=8_000_000) as proxy:  # 1 MB/s
        started = time.monotonic()
        _send(proxy.port, b"x" * 500_000)
        assert wait_until(lambda: proxy.bytes_up == 500_000)
        elapsed = time.monotonic() - started
    assert 0.4 <= elapsed <= 1.0


def test_latency_adds_round_trip(sink: int) -> None:
    with (
        start_proxy("127.0.0.1", sink, latency_s=0.1) as proxy,
        socket.create_connection(("127.0.0.1", proxy.port)) as s,
    ):
        s.sendall(b"ping\n")
        s.recv(5)
        started = time.monotonic()
        s.sendall(b"ping\n")
        assert s.recv(5) == b"pong\n"
        rtt = time.monotonic() - started
    assert 0.19 <= rtt <= 0.4


def test_cut_at_exact_offsets(sink: int) -> None:
    with start_proxy("127.0.0.1", sink, cut_at=[100_000]) as proxy:
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", proxy.port)) as s:
            for _ in range(100):
                s.sendall(b"y" * 10_000)
                time.sleep(0.001)
            s.recv(1)
            s.sendall(b"z" * 10_000)
        assert proxy.cuts == 1
        assert proxy.bytes_up == 100_000
        assert proxy.cut_log == [100_000]


def test_offline_refuses_and_cut_now(sink: int) -> None:
    with start_proxy("127.0.0.1", sink) as proxy:
        s = socket.create_connection(("127.0.0.1", proxy.port))
        s.sendall(b"ping\n")
        assert s.recv(5) == b"pong\n"
        proxy.offline(True)
        with pytest.raises(OSError):
            s.sendall(b"ping\n")
            if not s.recv(5):
                raise ConnectionResetError
        s.close()
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", proxy.port)) as t:
            t.sendall(b"ping\n")
            if not t.recv(5):
                raise ConnectionResetError
        proxy.offline(False)
        with socket.create_connection(("127.0.0.1", proxy.port)) as u:
            u.sendall(b"ping\n")
            assert u.recv(5) == b"pong\n"

"""A bad-network TCP proxy on loopback for tests and benchmarks: real sockets, no mocks.

It models one shared link between the client and the server: a bandwidth cap shared by
all connections in each direction (serialisation at `rate_bps` bits per second), a
one-way delay added to every byte (`latency_s`; the round trip is twice that), cuts (all
open connections reset after N bytes sent upstream, at a list of upstream offsets, at
random, or on demand), stalls (bytes stop flowing but sockets stay open) and an offline
mode (new connections are reset at once).

It counts the bytes actually delivered each way, so a test can tell how much an upload
re-sent after a cut. The asyncio loop runs in a background thread; every method of
`Proxy` may be called from any thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

_READ_SIZE = 8 * 1024
_SOCKET_BUFFER = 64 * 1024


@dataclass
class _Link:
    """One direction of the shared link: a serialisation clock for the bandwidth cap."""

    bytes_per_s: float | None
    next_free: float = 0.0

    def transmit(self, now: float, size: int) -> float:
        """When `size` bytes handed over at `now` have left the sender's end."""
        if self.bytes_per_s is None:
            return now
        start = max(now, self.next_free)
        self.next_free = start + size / self.bytes_per_s
        return self.next_free


@dataclass(eq=False)
class _Conn:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    closed: bool = False

    def abort(self) -> None:
        if self.closed:
            return
        self.closed = True
        for writer in (self.client, self.upstream):
            if writer is not None:
                with contextlib.suppress(Exception):
                    _set_linger_reset(writer)
                    writer.transport.abort()
        for task in self.tasks:
            task.cancel()


def _set_linger_reset(writer: asyncio.StreamWriter) -> None:
    # SO_LINGER 0: closing sends RST, so the peer sees a reset like a dropped link.
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


class Proxy:
    """A running proxy. `port` on 127.0.0.1 forwards to the target."""

    def __init__(
        self,
        target_host: str,
        target_port: int,
        *,
        rate_bps: float | None,
        latency_s: float,
        cut_after_bytes: int | None,
        cut_at: Sequence[int],
        random_cut_bytes: tuple[int, int] | None,
        seed: int | None,
    ) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.latency_s = latency_s
        self.bytes_up = 0  # delivered to the server
        self.bytes_down = 0  # delivered to the client
        self.connections = 0
        self.cuts = 0
        self.cut_log: list[int] = []  # bytes_up at each cut
        self.port = 0
        rate = rate_bps / 8 if rate_bps else None
        self._up = _Link(rate)
        self._down = _Link(rate)
        self._cut_points = sorted({*cut_at, *([cut_after_bytes] if cut_after_bytes else [])})
        self._random = random.Random(seed)
        self._random_cut = random_cut_bytes
        if random_cut_bytes is not None:
            self._cut_points.append(self._random.randint(*random_cut_bytes))
        self._cut_markers: list[bytes] = []
        self._stalled = False
        self._offline = False
        self._conns: set[_Conn] = set()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="netproxy", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if not self.port:
            raise RuntimeError("netproxy did not start")

    # -- control, from any thread -------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut_now(self) -> None:
        """Reset every open connection (a dropped link)."""
        self._call(self._cut_all)

    def cut_at(self, *offsets: int) -> None:
        """Also cut when the upstream byte count reaches each of `offsets`."""

        def add() -> None:
            self._cut_points = sorted({*self._cut_points, *offsets})

        self._call(add)

    def cut_on(self, marker: bytes, times: int = 1) -> None:
        """Cut the next `times` requests whose bytes contain `marker` (e.g. a request line
        such as b"POST /v1/files "): the bytes up to the marker reach the server, then every
        connection is reset."""

        def add() -> None:
            self._cut_markers.extend([marker] * times)

        self._call(add)

    def stall(self, stalled: bool = True) -> None:
        """Stop (or resume) forwarding bytes; connections stay open, as on a hung link."""
        self._stalled = stalled

    def offline(self, offline: bool = True) -> None:
        """Refuse new connections and cut open ones (the network is gone)."""
        self._offline = offline
        if offline:
            self.cut_now()

    def set_rate(self, rate_bps: float | None) -> None:
        rate = rate_bps / 8 if rate_bps else None
        self._up.bytes_per_s = rate
        self._down.bytes_per_s = rate

    def reset_counters(self) -> None:
        self.bytes_up = self.bytes_down = self.connections = self.cuts = 0
        self.cut_log.clear()

    def stop(self) -> None:
        if not self._loop.is_running():
            return
        fut = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        with contextlib.suppress(Exception):
            fut.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> Proxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _call(self, fn: object) -> None:
        done = threading.Event()

        def run() -> None:
            try:
                fn()  # type: ignore[operator]
            finally:
                done.set()

        self._loop.call_soon_threadsafe(run)
        done.wait(10)

    # -- the loop -------------------------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # A modest receive buffer (inherited by accepted sockets) keeps the bytes that
        # sit "in the network" near what a real slow link holds.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _SOCKET_BUFFER)
        sock.bind(("127.0.0.1", 0))
        self._server = await asyncio.start_server(self._accept, sock=sock, limit=_READ_SIZE * 2)
        self.port = sock.getsockname()[1]

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        self._cut_all(count=False)
        await asyncio.sleep(0)

    def _cut_all(self, count: bool = True) -> None:
        if count and self._conns:
            self.cuts += 1
            self.cut_log.append(self.bytes_up)
        for conn in list(self._conns):
            conn.abort()
        self._conns.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Conn(client=writer)
        if self._offline:
            conn.abort()
            return
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(
                self.target_host, self.target_port, limit=_READ_SIZE * 2
            )
        except OSError:
            conn.abort()
            return
        sock = up_writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _SOCKET_BUFFER)
        conn.upstream = up_writer
        self._conns.add(conn)
        up_q: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
        down_q: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
        conn.tasks = [
            asyncio.ensure_future(self._read(conn, reader, self._up, up_q)),
            asyncio.ensure_future(self._write(conn, up_writer, up_q, upstream=True)),
            asyncio.ensure_future(self._read(conn, up_reader, self._down, down_q)),
            asyncio.ensure_future(self._write(conn, writer, down_q, upstream=False)),
        ]
        await asyncio.gather(*conn.tasks, return_exceptions=True)
        self._conns.discard(conn)
        conn.abort()

    async def _read(
        self,
        conn: _Conn,
        reader: asyncio.StreamReader,
        link: _Link,
        queue: asyncio.Queue[tuple[float, bytes] | None],
    ) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                while self._stalled:
                    await asyncio.sleep(0.02)
                data = await reader.read(_READ_SIZE)
                if not data:
                    break
                sent = link.transmit(loop.time(), len(data))
                # Serialisation: the reader holds the bytes until the link has sent them,
                # so the sender feels the cap through TCP backpressure.
                delay = sent - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                await queue.put((sent + self.latency_s, data))
        except (ConnectionError, OSError):
            conn.abort()
        finally:
            await queue.put(None)

    async def _write(
        self,
        conn: _Conn,
        writer: asyncio.StreamWriter,
        queue: asyncio.Queue[tuple[float, bytes] | None],
        *,
        upstream: bool,
    ) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                item = await queue.get()
                if item is None:
                    with contextlib.suppress(OSError):
                        if writer.can_write_eof():
                            writer.write_eof()
                    return
                due, data = item
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                while self._stalled:
                    await asyncio.sleep(0.02)
                if upstream:
                    data, marked = self._until_marker(data)
                    data = self._until_cut(data)
                    writer.write(data)
                    self.bytes_up += len(data)
                    if marked or self._cut_due():
                        await writer.drain()
                        self._cut_all()
                        return
                else:
                    writer.write(data)
                    self.bytes_down += len(data)
                await writer.drain()
        except (ConnectionError, OSError):
            conn.abort()

    def _until_marker(self, data: bytes) -> tuple[bytes, bool]:
        """`data` up to the end of the first pending cut marker in it, and whether one was."""
        if self._cut_markers:
            at = data.find(self._cut_markers[0])
            if at >= 0:
                end = at + len(self._cut_markers.pop(0))
                return data[:end], True
        return data, False

    def _until_cut(self, data: bytes) -> bytes:
        if self._cut_points:
            room = self._cut_points[0] - self.bytes_up
            if 0 <= room < len(data):
                return data[:room]
        return data

    def _cut_due(self) -> bool:
        if not self._cut_points or self.bytes_up < self._cut_points[0]:
            return False
        while self._cut_points and self._cut_points[0] <= self.bytes_up:
            self._cut_points.pop(0)
        if self._random_cut is not None:
            self._cut_points.append(self.bytes_up + self._random.randint(*self._random_cut))
            self._cut_points.sort()
        return True


def start_proxy(
    target_host: str,
    target_port: int,
    rate_bps: float | None = None,
    latency_s: float = 0.0,
    cut_after_bytes: int | None = None,
    *,
    cut_at: Sequence[int] = (),
    random_cut_bytes: tuple[int, int] | None = None,
    seed: int | None = None,
) -> Proxy:
    """Start a proxy on 127.0.0.1 (a free port) forwarding to the target.

    rate_bps: link capacity in bits per second, shared by all connections per direction.
    latency_s: one-way delay (round trip = 2 x latency_s).
    cut_after_bytes / cut_at: reset every connection when the upstream byte count
    reaches these offsets. random_cut_bytes=(lo, hi): also cut every lo..hi upstream bytes.
    """
    return Proxy(
        target_host,
        target_port,
        rate_bps=rate_bps,
        latency_s=latency_s,
        cut_after_bytes=cut_after_bytes,
        cut_at=cut_at,
        random_cut_bytes=random_cut_bytes,
        seed=seed,
    )


def wait_until(predicate: object, timeout: float = 10.0, step: float = 0.02) -> bool:
    """Poll `predicate()` until true or `timeout` seconds pass (for tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(step)
    return False

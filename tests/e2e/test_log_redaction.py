"""No log line of a whole sync run, server or client, shows an upload capability.

The server runs with uvicorn's access log on; the client logs at DEBUG (httpx writes every
request URL at INFO). The run uploads through the bad-network proxy with a cut, so the
retry and error lines are written too. The capabilities are taken from the server's own
creation answers, then looked for in everything that was logged or printed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync.engine import ChunkSizer
from tests.support.netproxy import start_proxy
from tests.support.server import start_server
from tests.sync.engine.conftest import DeviceFactory, random_bytes


class CapabilityRecorder:
    """An ASGI layer that notes the capability of every upload the server creates."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.capabilities: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def note(message: Message) -> None:
            if message["type"] == "http.response.start":
                for name, value in message.get("headers", []):
                    if name.lower() == b"location":
                        found = re.search(r"[?&]cap=([^&]+)", value.decode())
                        if found:
                            self.capabilities.add(found[1])
            await send(message)

        await self.app(scope, receive, note)


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def collect() -> Iterator[Collect]:
    handler = Collect()
    # uvicorn's loggers do not propagate to the root logger: listen on them too. httpx's
    # is opened to DEBUG as well: the program quiets it to WARNING when it sets up its
    # logging (client/sync_service.py), and an earlier test in the same process may have.
    loggers = [logging.getLogger(name) for name in ("", "uvicorn.access", "uvicorn.error", "httpx")]
    saved = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield handler
    for logger, level in zip(loggers, saved, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_no_capability_in_any_log_line_of_a_sync_run(
    tmp_path: Path, collect: Collect, capfd: pytest.CaptureFixture[str]
) -> None:
    recorders: list[CapabilityRecorder] = []

    def wrap(app: ASGIApp) -> ASGIApp:
        recorders.append(CapabilityRecorder(app))
        return recorders[0]

    server = start_server(tmp_path / "server", wrap=wrap, access_log=True)
    try:
        with start_proxy("127.0.0.1", server.port) as proxy:
            factory = DeviceFactory(tmp_path, server, proxy.url)
            try:
                a = factory("a")
                chunk = 64 * 1024
                a.engine.sizer = ChunkSizer(chunk, minimum=chunk, maximum=chunk)
                a.engine.backoff.base_s = 0.05
                for n in range(2):
                    a.store_scan(random_bytes(250_000, seed=40 + n), f"scan{n}.pdf")
                proxy.reset_counters()
                proxy.cut_at(150_000)  # mid-PATCH: retry and error lines are logged too
                report = a.sync()
                assert report.ok, report.error
                assert report.uploads.uploaded == 2
                assert proxy.cuts == 1
            finally:
                for device in factory.made:
                    device.close()
    finally:
        server.stop()
    out, err = capfd.readouterr()
    logged = "\n".join([*collect.lines, out, err])
    capabilities = recorders[0].capabilities
    assert len(capabilities) >= 2
    leaked = [line for line in logged.splitlines() if any(c in line for c in capabilities)]
    assert leaked == []
    # The upload requests were logged (access log and httpx), with the capability masked.
    assert re.search(r'"PATCH /v1/files/[0-9a-f]{32}\?cap=\*\*\* HTTP/1.1" 204', logged)
    assert re.search(r"HTTP Request: PATCH \S+\?cap=\*\*\* ", logged)


def test_client_error_messages_mask_capabilities() -> None:
    """Whatever an error quotes (a URL in a library's message, a server's detail), the
    message a person reads and the cause in the log never hold the capability."""
    from sync.engine import Offline
    from sync.engine.transport import classify_exception

    url = "http://127.0.0.1:1/v1/files/0123?cap=rahasia-kapabilitas&after=x"
    error = classify_exception(OSError(f"cannot reach {url}"))
    assert isinstance(error, Offline)
    for text in (str(error), error.message, error.cause):
        assert "rahasia-kapabilitas" not in text
    assert "cap=***&after=x" in error.cause

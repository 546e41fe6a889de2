"""Fixtures for tests that sync against a real server: `server`, a fresh one on loopback
for each test, and `proxy`, the bad-network proxy in front of it (what a device talks
to). Registered for the whole suite in tests/conftest.py; a folder's conftest may
define its own `server` (tests/server/ shares one per session)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.netproxy import Proxy, start_proxy
from tests.support.server import RunningServer, start_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(tmp_path / "server")
    yield running
    running.stop()


@pytest.fixture
def proxy(server: RunningServer) -> Iterator[Proxy]:
    with start_proxy("127.0.0.1", server.port) as p:
        yield p

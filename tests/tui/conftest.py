from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.support.home_fixtures import base_home, client, facts, home

__all__ = ["base_home", "client", "facts", "home"]  # fixtures shared with tests/client


@pytest.fixture(autouse=True)
def _wib(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Times render in WIB whatever the machine's zone, so snapshots match."""
    monkeypatch.setenv("TZ", "Asia/Jakarta")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()

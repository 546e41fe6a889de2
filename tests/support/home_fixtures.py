"""Fixtures over a real Berkas home (tests/tui/support.build_home): the client tests
and the TUI tests share them (each conftest imports them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from client.paths import Paths
from client.services import BerkasClient
from tests.tui.support import Facts, build_home, copy_home, open_client


@pytest.fixture(scope="session")
def base_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Facts]:
    root = tmp_path_factory.mktemp("tui") / "base"
    _, facts = build_home(root)
    return root, facts


@pytest.fixture
def facts(base_home: tuple[Path, Facts]) -> Facts:
    return base_home[1]


@pytest.fixture
def home(base_home: tuple[Path, Facts], tmp_path: Path) -> Paths:
    """A fresh copy of the test home for this test."""
    return copy_home(base_home[0], tmp_path / "home")


@pytest.fixture
def client(home: Paths) -> Iterator[BerkasClient]:
    c = open_client(home)
    yield c
    c.close()

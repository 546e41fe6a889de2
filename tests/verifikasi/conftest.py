from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.verifikasi_world import World, build_world


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.delenv("BERKAS_VERIFIER_PASSPHRASE", raising=False)
    built = build_world(tmp_path)
    yield built
    built.stop()

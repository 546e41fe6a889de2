"""Session-wide guards for the whole suite."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

# `server` and `proxy`: a real server on loopback and the bad-network proxy before it.
pytest_plugins = ["tests.support.live_server"]


@pytest.fixture(autouse=True, scope="session")
def _no_real_user_folders() -> Iterator[None]:
    """No test may read or write the machine's real Berkas folders: the platform
    data and config folders (platformdirs honours XDG_*) point at a throwaway
    place, and BERKAS_HOME from the developer's shell is ignored."""
    saved = {k: os.environ.get(k) for k in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "BERKAS_HOME")}
    with tempfile.TemporaryDirectory(prefix="berkas-xdg-") as tmp:
        os.environ["XDG_DATA_HOME"] = os.path.join(tmp, "data")
        os.environ["XDG_CONFIG_HOME"] = os.path.join(tmp, "config")
        os.environ.pop("BERKAS_HOME", None)
        yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value

"""The Berkas version, as pyproject.toml gives it (tests/sync/test_protocol.py checks they
agree). A constant, not importlib.metadata: that lookup costs 100+ ms at every start of a
program, and the sync agent and crash-restarted children start often."""

from __future__ import annotations

from typing import Final

BERKAS_VERSION: Final = "0.1.0"

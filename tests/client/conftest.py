from __future__ import annotations

from tests.support.home_fixtures import base_home, client, facts, home

__all__ = ["base_home", "client", "facts", "home"]  # a real home, as the TUI tests use

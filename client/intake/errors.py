"""The error intake raises to a person (the TUI's Kotak masuk, the CLI)."""

from __future__ import annotations

from store.errors import BerkasError


class IntakeError(BerkasError):
    """A Bahasa Indonesia message for the person, and the technical cause for the log."""

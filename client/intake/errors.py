"""The error intake raises to a person (the TUI's Kotak masuk, the CLI)."""

from __future__ import annotations


class IntakeError(Exception):
    """A Bahasa Indonesia message for the person, and the technical cause for the log."""

    def __init__(self, message: str, cause: str = "") -> None:
        super().__init__(f"{message} ({cause})" if cause else message)
        self.message = message
        self.cause = cause

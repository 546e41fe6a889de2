"""Errors a person can act on: a Bahasa Indonesia message plus the technical cause."""

from __future__ import annotations


class StoreError(Exception):
    """A store operation was refused or failed; nothing was changed."""

    def __init__(self, message: str, cause: str = "") -> None:
        super().__init__(f"{message} ({cause})" if cause else message)
        self.message = message
        self.cause = cause

"""Errors the client shows to a person: Bahasa Indonesia plus the technical cause."""

from __future__ import annotations


class ClientError(Exception):
    def __init__(self, message: str, cause: str = "") -> None:
        super().__init__(f"{message} ({cause})" if cause else message)
        self.message = message
        self.cause = cause

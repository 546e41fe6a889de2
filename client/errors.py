"""Errors the client shows to a person: Bahasa Indonesia plus the technical cause.

`BerkasError` (the one root, from store.errors) is re-exported so the TUI and the
CLIs catch every family through the client's surface.
"""

from __future__ import annotations

from store.errors import BerkasError

__all__ = ["BelumLayak", "BerkasError", "ClientError"]


class ClientError(BerkasError):
    """A client operation was refused (a record not found, a file that is not a PDF, ...)."""


class BelumLayak(ClientError):
    """The rules call the usulan ineligible; `reasons` are theirs, in Bahasa. Asked again
    with `tetap=True` once the person confirmed (the reason then goes into its history)."""

    def __init__(self, message: str, cause: str = "", *, reasons: tuple[str, ...] = ()) -> None:
        super().__init__(message, cause)
        self.reasons = reasons

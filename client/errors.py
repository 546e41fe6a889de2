"""Errors the client shows to a person: Bahasa Indonesia plus the technical cause.

`BerkasError` (the one root, from store.errors) is re-exported so the TUI and the
CLIs catch every family through the client's surface.
"""

from __future__ import annotations

from store.errors import BerkasError

__all__ = ["BerkasError", "ClientError"]


class ClientError(BerkasError):
    """A client operation was refused (a record not found, a file that is not a PDF, ...)."""

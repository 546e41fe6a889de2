"""The one error root of Berkas: a Bahasa Indonesia message plus the technical cause.

Every error family (StoreError, RuleError, CryptoError, SyncError, IntakeError,
ClientError) subclasses `BerkasError`, so a caller that shows errors to a person (the
TUI, the CLIs) catches this one type and reads `.message`; `.cause` goes to the log.
It lives in `store` because every other package may import `store` (the layers are
tui -> client -> sync -> store; server -> sync, store).
"""

from __future__ import annotations


class BerkasError(Exception):
    """Something a person can act on: `message` (Bahasa) for them, `cause` for the log.

    `str(error)` is "message (cause)": safe to log, never secrets or document contents.
    """

    def __init__(self, message: str, cause: str = "") -> None:
        super().__init__(f"{message} ({cause})" if cause else message)
        self.message = message
        self.cause = cause


class StoreError(BerkasError):
    """A store operation was refused or failed; nothing was changed."""

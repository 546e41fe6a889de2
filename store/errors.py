"""The one error root of Berkas: a Bahasa Indonesia message plus the technical cause.

Every error family (StoreError, RuleError, CryptoError, SyncError, IntakeError,
ClientError) subclasses `BerkasError`, so a caller that shows errors to a person (the
TUI, the CLIs) catches this one type and reads `.message`; `.cause` goes to the log.
It lives in `store` because every other package may import `store` (the layers are
tui -> client -> sync -> store; server -> sync, store).
"""

from __future__ import annotations

import errno


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


class DiskFull(StoreError):
    """The disk (or the user's quota) is full: nothing was changed, nothing is lost, and
    the same step succeeds once there is room. Never the fault of a file or the network."""


_FULL_ERRNOS = frozenset(
    e for e in (errno.ENOSPC, getattr(errno, "EDQUOT", None), errno.EFBIG) if e is not None
)
# SQLite reports SQLITE_FULL as "database or disk is full"; libraries that wrap an OS
# error in their own type (pikepdf, Pillow) keep the strerror text.
_FULL_TEXTS = ("database or disk is full", "no space left on device", "disk quota exceeded")
SQLITE_FULL = 13
# SQLITE_IOERR_SHMSIZE: the -shm file could not be grown, which is a full disk.
_SQLITE_FULL_CODES = frozenset({SQLITE_FULL, 4874})


def disk_full_message(what: str = "Data") -> str:
    """The one sentence a person reads when the disk is full, wherever it happened."""
    return (
        f"Ruang disk penuh: {what} tidak dapat disimpan. Kosongkan ruang disk lalu coba "
        "lagi; tidak ada data yang hilang."
    )


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc`, or anything it was raised from, is a full disk or quota."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DiskFull):
            return True
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return True
        if getattr(current, "sqlite_errorcode", None) in _SQLITE_FULL_CODES:
            return True
        text = str(current).lower()
        if any(t in text for t in _FULL_TEXTS):
            return True
        current = current.__cause__ or current.__context__
    return False

"""Only one process syncs a store at a time: an OS file lock plus who holds it.

The lock is the operating system's (flock on POSIX, msvcrt on Windows), so a holder that is
killed (kill -9, power cut) releases it with its file handle; the text in the file (pid,
host, program, start time) only tells the other process whom to name.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from sync.engine.errors import SyncBusy

# Windows locks a byte range that others then cannot read; lock a byte past the text.
_WIN_LOCK_OFFSET = 1 << 20


def _try_lock(fh: IO[bytes]) -> bool:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        fh.seek(_WIN_LOCK_OFFSET)
        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        finally:
            fh.seek(0)
        return True
    import fcntl

    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(fh: IO[bytes]) -> None:
    if sys.platform == "win32":  # pragma: no cover
        import msvcrt

        fh.seek(_WIN_LOCK_OFFSET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def read_holder(path: Path) -> dict[str, Any] | None:
    """What the holder wrote into the lock file, if readable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "null")
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def describe_holder(holder: dict[str, Any] | None) -> str:
    if not holder:
        return "proses lain (tidak diketahui)"
    started = str(holder.get("started_at", ""))
    with contextlib.suppress(ValueError):
        started = datetime.fromisoformat(started).astimezone().strftime("%d-%m-%Y %H:%M")
    return (
        f"{holder.get('program', 'berkas')} (pid {holder.get('pid', '?')} "
        f"di {holder.get('host', '?')}, sejak {started})"
    )


class SyncLock:
    """`with SyncLock(path, "agent"):` or acquire()/release(); SyncBusy names the holder."""

    def __init__(self, path: Path, program: str = "berkas", busy: str = "") -> None:
        """`busy`: what a refusal says, with `{holder}` for who holds it (the default
        speaks of syncing; the scan watcher and the demo use the same lock for their
        one-per-home rule)."""
        self.path = path
        self.program = program
        self.busy = busy or (
            "Sinkronisasi sedang dijalankan oleh {holder}. "
            "Tunggu sampai selesai, atau hentikan proses itu."
        )
        self._fh: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        return self._fh is not None

    def acquire(self) -> None:
        if self._fh is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+b")  # noqa: SIM115 - kept open while held
        if not _try_lock(fh):
            fh.close()
            holder = read_holder(self.path)
            raise SyncBusy(
                self.busy.format(holder=describe_holder(holder)),
                f"lock {self.path} held by {holder}",
            )
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "program": self.program,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps(info).encode())
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        fh, self._fh = self._fh, None
        if fh is None:
            return
        with contextlib.suppress(OSError):
            fh.seek(0)
            fh.truncate()
            fh.flush()
        with contextlib.suppress(OSError):
            _unlock(fh)
        fh.close()

    def __enter__(self) -> SyncLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def current_holder(path: Path) -> dict[str, Any] | None:
    """The holder's description when the lock is held by someone, else None."""
    if not path.exists():
        return None
    try:
        fh = open(path, "a+b")  # noqa: SIM115
    except OSError:
        return None
    try:
        if _try_lock(fh):
            _unlock(fh)
            return None
        return read_holder(path) or {}
    finally:
        fh.close()

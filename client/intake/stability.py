"""When a scan is finished being written: events are only hints.

A file is ready once no event has come for `delay` seconds, its size and
mtime are what they were when last seen, and it is still a regular file.
Files seen only by a rescan wait the same quiet period. An empty file waits
longer: scanners often create the file first and fill it later.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Signature = tuple[int, int]  # (size, mtime in ns)
_EMPTY_HOLD = 5  # an empty file must stay empty this many delays


@dataclass
class _Entry:
    root: Path
    last_event: float
    signature: Signature | None
    since: float  # when `signature` was first seen


def signature_of(path: Path) -> Signature | None:
    """(size, mtime) of a regular file, or None if it is gone or not one."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return info.st_size, info.st_mtime_ns


class StabilityTracker:
    """Files waiting to settle; thread-safe (events arrive on watchdog's threads)."""

    def __init__(self, delay: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.delay = delay
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[Path, _Entry] = {}

    def touch(self, path: Path, root: Path) -> None:
        """An event said `path` changed: restart its quiet period."""
        now = self._clock()
        sig = signature_of(path)
        with self._lock:
            entry = self._entries.get(path)
            if entry is None:
                self._entries[path] = _Entry(root, now, sig, now)
                return
            entry.last_event = now
            if sig != entry.signature:
                entry.signature, entry.since = sig, now
            # Entries stay in the order of their last event (see take_ready).
            del self._entries[path]
            self._entries[path] = entry

    def observe(self, path: Path, root: Path) -> bool:
        """A rescan found `path`: track it if new (True), leave it be if known."""
        with self._lock:
            if path in self._entries:
                return False
        now = self._clock()
        sig = signature_of(path)
        with self._lock:
            if path in self._entries:
                return False
            self._entries[path] = _Entry(root, now, sig, now)
            return True

    def forget(self, path: Path) -> None:
        with self._lock:
            self._entries.pop(path, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, path: object) -> bool:
        with self._lock:
            return path in self._entries

    def settled(self, path: Path) -> bool:
        """`path` is tracked and quiet for its hold: `take_ready` would take it now."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(path)
            if entry is None:
                return False
            hold = self._hold(entry.signature)
            return now - entry.since >= hold and now - entry.last_event >= hold

    def take_ready(self, limit: int | None = None) -> list[tuple[Path, Path]]:
        """Up to `limit` settled files as (path, scan folder), oldest first; they
        stop being tracked. Files that vanished are dropped.

        Entries are kept in the order of their last event, so a call looks only
        at the quiet ones it takes (and those still held), not at every file
        tracked: with thousands waiting behind a burst, the watcher asks for one
        file each time a conversion ends."""
        now = self._clock()
        ready: list[tuple[Path, Path]] = []
        looked: set[Path] = set()
        while limit is None or len(ready) < limit:
            batch = self._quiet(now, None if limit is None else limit - len(ready), looked)
            if not batch:
                break
            for path, entry in batch:
                looked.add(path)
                sig = signature_of(path)
                with self._lock:
                    if self._entries.get(path) is not entry:
                        continue
                    if sig is None:
                        del self._entries[path]
                        continue
                    if sig != entry.signature:
                        entry.signature, entry.since = sig, now
                        continue
                    hold = self._hold(sig)
                    if now - entry.since < hold or now - entry.last_event < hold:
                        continue
                    del self._entries[path]
                ready.append((path, entry.root))
        return ready

    def _hold(self, sig: Signature | None) -> float:
        return self.delay * (_EMPTY_HOLD if sig is not None and sig[0] == 0 else 1)

    def _quiet(self, now: float, want: int | None, looked: set[Path]) -> list[tuple[Path, _Entry]]:
        """Up to `want` entries, oldest first, quiet for the delay and not held
        back by their last known signature, skipping those in `looked`."""
        found: list[tuple[Path, _Entry]] = []
        with self._lock:
            for path, entry in self._entries.items():
                if now - entry.last_event < self.delay:
                    break  # every later entry had an event more recently still
                if path in looked or now - entry.since < self._hold(entry.signature):
                    continue
                found.append((path, entry))
                if want is not None and len(found) >= want:
                    break
        return found

"""Hybrid logical clock: timestamps that order changes across devices.

A stamp is `WWWWWWWWWWWWW.CCCC.DEVICE` (wall milliseconds, a counter, the device),
so plain string comparison orders them, even when a device's clock is behind.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

_WALL_DIGITS = 13
_COUNTER_DIGITS = 4
_COUNTER_MAX = 10**_COUNTER_DIGITS - 1


def format_hlc(wall_ms: int, counter: int, device: str) -> str:
    return f"{wall_ms:0{_WALL_DIGITS}d}.{counter:0{_COUNTER_DIGITS}d}.{device}"


def parse_hlc(stamp: str) -> tuple[int, int, str]:
    """Split a stamp into (wall_ms, counter, device); ValueError if malformed."""
    wall, counter, device = stamp.split(".", 2)
    return int(wall), int(counter), device


class HybridClock:
    """A monotonic HLC for one device; `observe` folds in stamps seen from others."""

    def __init__(
        self,
        device: str,
        last: str | None = None,
        wall_ms: Callable[[], int] | None = None,
    ) -> None:
        self._device = device
        self._wall_ms = wall_ms or (lambda: time.time_ns() // 1_000_000)
        self._lock = threading.Lock()
        self._last_wall, self._counter = (0, 0)
        if last:
            self._last_wall, self._counter, _ = parse_hlc(last)

    def now(self) -> str:
        """A new stamp, greater than every stamp this clock made or observed."""
        with self._lock:
            wall = self._wall_ms()
            if wall > self._last_wall:
                self._last_wall, self._counter = wall, 0
            elif self._counter < _COUNTER_MAX:
                self._counter += 1
            else:
                # Carry into the wall time so stamps keep their fixed width and order.
                self._last_wall, self._counter = self._last_wall + 1, 0
            return format_hlc(self._last_wall, self._counter, self._device)

    def observe(self, stamp: str) -> None:
        """Advance past a stamp received from another device."""
        try:
            wall, counter, _ = parse_hlc(stamp)
        except ValueError:
            return
        with self._lock:
            if (wall, counter) > (self._last_wall, self._counter):
                self._last_wall, self._counter = wall, counter

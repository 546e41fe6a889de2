"""One exponential backoff with jitter shared by every stream of a link.

Record sync, each upload worker and each download consult the same `Backoff`: after a
failure nobody talks to the server before the gate reopens, so a dropped link produces
one probe per step, not one per worker (no retry storm). A success anywhere resets it.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable


class Backoff:
    """Full-jitter exponential backoff (AWS style): wait U(0.5, 1) x min(cap, base x 2^n)."""

    def __init__(
        self,
        base_s: float = 0.5,
        cap_s: float = 300.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.base_s = base_s
        self.cap_s = cap_s
        self._clock = clock
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._failures = 0
        self._open_at = 0.0

    @property
    def failures(self) -> int:
        return self._failures

    def delay_for(self, failures: int) -> float:
        if failures <= 0:
            return 0.0
        ceiling = min(self.cap_s, self.base_s * (2 ** min(failures - 1, 30)))
        return float(ceiling * (0.5 + 0.5 * self._rng.random()))

    def failure(self, at_least: float = 0.0) -> float:
        """Record a failure; returns the seconds until the gate reopens. `at_least` is a
        wait the server asked for (Retry-After): the gate stays shut at least that long."""
        with self._lock:
            now = self._clock()
            if now < self._open_at:
                # Another stream already failed in this window: the same outage.
                self._open_at = max(self._open_at, now + at_least)
                return self._open_at - now
            self._failures += 1
            delay = max(self.delay_for(self._failures), at_least)
            self._open_at = now + delay
            return delay

    def success(self) -> None:
        with self._cond:
            self._failures = 0
            self._open_at = 0.0
            self._cond.notify_all()

    def remaining(self) -> float:
        """Seconds until the next attempt is allowed (0 when open)."""
        with self._lock:
            return max(0.0, self._open_at - self._clock())

    def wait(self, stop: threading.Event | None = None, limit_s: float | None = None) -> bool:
        """Block until the gate is open; False if `stop` was set or `limit_s` ran out first."""
        deadline = None if limit_s is None else time.monotonic() + limit_s
        while True:
            remaining = self.remaining()
            if remaining <= 0:
                return True
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                remaining = min(remaining, left)
            if stop is not None:
                if stop.wait(min(remaining, 0.5)):
                    return False
            else:
                with self._cond:
                    self._cond.wait(min(remaining, 0.5))

    def reset(self) -> None:
        self.success()

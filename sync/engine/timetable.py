"""The upload window and bandwidth cap for large files, written as an rclone timetable.

    "08:00,256k 16:00,off"          256 KiB/s from 08:00, no cap from 16:00 (until 08:00)
    "Mon-08:00,512k Sat-00:00,off"  weekday entries make a weekly table
    "07:30,0 17:00,off"             0 (or "stop") holds large uploads: an upload window
    "08:00,256k:1M"                 UPLOAD:DOWNLOAD, as rclone's --bwlimit

Rates follow rclone: bytes per second with an optional B, K, M or G suffix (powers of
1024); a bare number is KiB/s. "off" means no limit. The entry in force is the last one
at or before now, wrapping around the day (or the week).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sync.engine.errors import SyncError

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ENTRY = re.compile(r"^(?:(?P<day>[A-Za-z]{3})-)?(?P<hh>\d{1,2}):(?P<mm>\d{2}),(?P<rate>[^\s,]+)$")
_RATE = re.compile(r"^(?P<num>\d+(?:\.\d+)?)(?P<unit>[bBkKmMgG])?$")
_UNITS = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_PAUSE_WORDS = {"0", "stop", "henti", "tunda"}


class TimetableError(SyncError):
    """The upload_window setting cannot be read."""


@dataclass(frozen=True)
class Limit:
    """Bytes per second; None is unlimited, 0 holds transfers until the next entry."""

    upload: float | None
    download: float | None

    @property
    def paused(self) -> bool:
        return self.upload == 0

    def describe(self) -> str:
        def one(rate: float | None) -> str:
            if rate is None:
                return "tanpa batas"
            if rate == 0:
                return "ditahan"
            return f"{rate / 1024:.0f} KiB/s"

        return f"unggah {one(self.upload)}, unduh {one(self.download)}"


_UNLIMITED = Limit(None, None)


@dataclass(frozen=True)
class _Entry:
    minute_of_week: int  # -1 day means "every day": stored per day when expanded
    limit: Limit


def parse_rate(text: str) -> float | None:
    """One rclone rate: "256k" -> 262144.0, "off" -> None, "0"/"stop" -> 0.0."""
    word = text.strip().lower()
    if word in {"off", "unlimited", "bebas"}:
        return None
    if word in _PAUSE_WORDS:
        return 0.0
    match = _RATE.match(word)
    if match is None:
        raise TimetableError(
            f"Batas kecepatan '{text}' tidak dikenal (contoh: 256k, 1M, off, 0).",
            f"bad rate {text!r}",
        )
    unit = (match.group("unit") or "k").lower()
    return float(match.group("num")) * _UNITS[unit]


def _parse_limit(text: str) -> Limit:
    up, _, down = text.partition(":")
    upload = parse_rate(up)
    download = parse_rate(down) if down else upload
    return Limit(upload, download)


class Timetable:
    """A parsed timetable; `limit_at(datetime)` says what holds at that moment."""

    def __init__(self, spec: str = "") -> None:
        self.spec = spec.strip()
        self._weekly: list[_Entry] = []
        if not self.spec:
            return
        daily: list[tuple[int, Limit]] = []
        weekly: list[_Entry] = []
        for token in self.spec.split():
            match = _ENTRY.match(token)
            if match is None:
                if len(self.spec.split()) == 1 and "," not in token:
                    # A single plain rate, as rclone's "--bwlimit 1M": applies all day.
                    daily.append((0, _parse_limit(token)))
                    continue
                raise TimetableError(
                    f"Jadwal unggah '{token}' tidak dikenal (contoh: 08:00,256k 16:00,off).",
                    f"bad timetable entry {token!r}",
                )
            hh, mm = int(match.group("hh")), int(match.group("mm"))
            if hh > 23 or mm > 59:
                raise TimetableError(
                    f"Jam '{match.group('hh')}:{match.group('mm')}' pada jadwal unggah tidak sah.",
                    f"bad time in {token!r}",
                )
            limit = _parse_limit(match.group("rate"))
            day = match.group("day")
            if day is None:
                daily.append((hh * 60 + mm, limit))
                continue
            if day.lower() not in _DAYS:
                raise TimetableError(
                    f"Hari '{day}' pada jadwal unggah tidak dikenal (Mon..Sun).",
                    f"bad day in {token!r}",
                )
            weekly.append(_Entry(_DAYS.index(day.lower()) * 1440 + hh * 60 + mm, limit))
        if daily and weekly:
            raise TimetableError(
                "Jadwal unggah mencampur entri harian dan mingguan; pilih salah satu.",
                "mixed daily and weekly entries",
            )
        if daily:
            weekly = [_Entry(d * 1440 + m, lim) for d in range(7) for m, lim in daily]
        self._weekly = sorted(weekly, key=lambda e: e.minute_of_week)

    def __bool__(self) -> bool:
        return bool(self._weekly)

    def limit_at(self, when: datetime) -> Limit:
        if not self._weekly:
            return _UNLIMITED
        minute = when.weekday() * 1440 + when.hour * 60 + when.minute
        current = self._weekly[-1]  # wraps around from the end of the week
        for entry in self._weekly:
            if entry.minute_of_week <= minute:
                current = entry
            else:
                break
        return current.limit

    def now(self) -> Limit:
        return self.limit_at(datetime.now())


class Throttle:
    """A token bucket shared by every large transfer of one direction (thread-safe)."""

    def __init__(self, rate: float | None = None, *, burst_s: float = 0.25) -> None:
        self._rate = rate
        self._burst_s = burst_s
        self._lock = threading.Lock()
        self._next_free = time.monotonic()

    def set_rate(self, rate: float | None) -> None:
        with self._lock:
            self._rate = rate

    @property
    def rate(self) -> float | None:
        return self._rate

    def take(self, size: int) -> float:
        """Reserve `size` bytes; returns how long the caller must sleep first."""
        with self._lock:
            rate = self._rate
            if rate is None or rate <= 0:
                return 0.0
            now = time.monotonic()
            start = max(self._next_free, now - self._burst_s)
            self._next_free = start + size / rate
            return max(0.0, self._next_free - now)

"""Pure pieces of the engine: timetable, backoff, chunk sizing, the sync lock."""

from __future__ import annotations

import multiprocessing
import random
import time
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.engine import Backoff, ChunkSizer, SyncBusy, SyncLock, Timetable, current_holder
from sync.engine.timetable import Throttle, TimetableError, parse_rate
from sync.engine.tus_client import encode_metadata


def test_rates_follow_rclone() -> None:
    assert parse_rate("256k") == 256 * 1024
    assert parse_rate("1M") == 1024 * 1024
    assert parse_rate("512") == 512 * 1024
    assert parse_rate("100B") == 100
    assert parse_rate("off") is None
    assert parse_rate("0") == 0
    with pytest.raises(TimetableError):
        parse_rate("fast")


def test_daily_timetable_wraps_around_midnight() -> None:
    table = Timetable("08:00,256k 16:00,off")
    monday = datetime(2026, 1, 5)
    assert table.limit_at(monday.replace(hour=9)).upload == 256 * 1024
    assert table.limit_at(monday.replace(hour=17)).upload is None
    assert table.limit_at(monday.replace(hour=3)).upload is None  # yesterday's 16:00
    assert not table.limit_at(monday.replace(hour=9)).paused


def test_pause_entries_make_a_window() -> None:
    table = Timetable("07:30,0 17:00,off")
    day = datetime(2026, 1, 6)
    assert table.limit_at(day.replace(hour=10)).paused
    assert not table.limit_at(day.replace(hour=18)).paused


def test_weekly_and_pairs() -> None:
    table = Timetable("Mon-08:00,512k:1M Sat-00:00,off")
    assert table.limit_at(datetime(2026, 1, 7, 12)).download == 1024 * 1024  # Wednesday
    assert table.limit_at(datetime(2026, 1, 10, 12)).upload is None  # Saturday
    assert table.limit_at(datetime(2026, 1, 5, 7)).upload is None  # Monday before 08:00


def test_empty_and_bad_timetables() -> None:
    assert Timetable("").now().upload is None
    with pytest.raises(TimetableError):
        Timetable("25:00,1M")
    with pytest.raises(TimetableError):
        Timetable("08:00,1M Mon-09:00,off")


def test_throttle_paces_bytes() -> None:
    throttle = Throttle(1_000_000, burst_s=0)
    waits = [throttle.take(100_000) for _ in range(5)]
    assert waits[0] == pytest.approx(0.1, abs=0.02)
    assert waits[-1] == pytest.approx(0.5, abs=0.05)
    throttle.set_rate(None)
    assert throttle.take(10**9) == 0


def test_backoff_grows_with_jitter_and_resets() -> None:
    now = [0.0]
    backoff = Backoff(base_s=1, cap_s=60, clock=lambda: now[0], rng=random.Random(1))
    delays = []
    for _ in range(8):
        delays.append(backoff.failure())
        now[0] += 1000
    assert 0.5 <= delays[0] <= 1
    assert 30 <= delays[-1] <= 60  # capped
    backoff.success()
    assert backoff.remaining() == 0


def test_backoff_counts_one_outage_once() -> None:
    """Workers failing in the same window do not push each other's wait up (no storm)."""
    now = [0.0]
    backoff = Backoff(base_s=10, cap_s=600, clock=lambda: now[0], rng=random.Random(2))
    first = backoff.failure()
    for _ in range(10):
        backoff.failure()
    assert backoff.failures == 1
    assert backoff.remaining() == pytest.approx(first)


@given(st.lists(st.tuples(st.integers(1, 8 << 20), st.floats(0.01, 60)), max_size=30))
def test_chunk_size_stays_in_bounds(samples: list[tuple[int, float]]) -> None:
    sizer = ChunkSizer()
    for nbytes, seconds in samples:
        sizer.observe(nbytes, seconds)
        assert sizer.minimum <= sizer.size() <= sizer.maximum
        assert sizer.size() % 16384 == 0


def test_chunk_size_follows_the_link() -> None:
    sizer = ChunkSizer(target_s=3.0)
    assert sizer.size() == 256 * 1024
    for _ in range(10):  # 1 Mbit/s: 125 kB/s
        size = sizer.size()
        sizer.observe(size, size / 125_000)
    assert 300_000 <= sizer.size() <= 400_000
    for _ in range(10):  # 100 Mbit/s
        size = sizer.size()
        sizer.observe(size, size / 12_500_000)
    assert sizer.size() == sizer.maximum


def test_tus_metadata_encoding() -> None:
    assert encode_metadata({"sha256": "ab", "x": ""}) == "sha256 YWI=,x"


def _hold_lock(path: str, ready: multiprocessing.synchronize.Event, release: float) -> None:
    with SyncLock(Path(path), "agent"):
        ready.set()
        time.sleep(release)


def test_lock_names_the_holder_and_dies_with_it(tmp_path: Path) -> None:
    path = tmp_path / "sync.lock"
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    proc = ctx.Process(target=_hold_lock, args=(str(path), ready, 30))
    proc.start()
    try:
        assert ready.wait(10)
        with pytest.raises(SyncBusy) as info:
            SyncLock(path, "tui").acquire()
        assert f"pid {proc.pid}" in info.value.message
        assert "agent" in info.value.message
        assert current_holder(path) is not None
        proc.kill()  # kill -9: the OS drops the lock with the process
        proc.join(10)
        with SyncLock(path, "tui") as lock:
            assert lock.held
    finally:
        if proc.is_alive():
            proc.kill()
    assert current_holder(path) is None

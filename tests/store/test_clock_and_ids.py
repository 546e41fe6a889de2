"""UUIDv7 ids and the hybrid logical clock."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from store.hlc import HybridClock, parse_hlc
from store.ids import new_id, uuid7


def test_uuid7_version_variant_and_order() -> None:
    ids = [uuid7() for _ in range(200)]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in ids)
    # Time-ordered at millisecond precision: the timestamps never go back.
    stamps = [u.int >> 80 for u in ids]
    assert stamps == sorted(stamps)
    assert len({str(u) for u in ids}) == 200
    assert uuid.UUID(new_id()).version == 7


def test_clock_is_monotonic_even_when_the_wall_clock_goes_back() -> None:
    walls = iter([1000, 1000, 900, 2000])
    clock = HybridClock("dev", wall_ms=lambda: next(walls))
    stamps = [clock.now() for _ in range(4)]
    assert stamps == sorted(stamps) and len(set(stamps)) == 4
    assert parse_hlc(stamps[2])[:2] == (1000, 2)


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=9999))
def test_observe_moves_past_a_remote_stamp(wall: int, counter: int) -> None:
    clock = HybridClock("a", wall_ms=lambda: 5)
    remote = f"{wall:013d}.{counter:04d}.b"
    clock.observe(remote)
    assert clock.now() > remote


def test_clock_resumes_from_its_last_stamp() -> None:
    first = HybridClock("dev", wall_ms=lambda: 10_000)
    stamp = first.now()
    again = HybridClock("dev", last=stamp, wall_ms=lambda: 5)
    assert again.now() > stamp

"""Issue 13 item 15: the background scheduler (agent and TUI) runs the full integrity check
once a day; damage it finds stops syncing and makes every later open refuse the store."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest

from client.sample_data import generate_pegawai
from store.database import open_store
from store.integrity import CHECKED_KEY, StoreDamaged, marker_for
from store.models import Pegawai
from sync.engine import SyncScheduler
from tests.client.test_periksa import flip_index_entry
from tests.support.netproxy import wait_until
from tests.sync.engine.conftest import DeviceFactory


def test_daily_check_in_the_scheduler_finds_index_damage(new_device: DeviceFactory) -> None:
    a = new_device("a")
    with a.store.apply_remote() as session:
        for person in generate_pegawai(600, today=date(2026, 11, 23), opds=("DISDIK",)):
            session.add(Pegawai(**person.data.record_values(), opd_id="DISDIK", version=1))
    scheduler = SyncScheduler(a.engine, interval_minutes=60, poll_seconds=0.2)
    scheduler.start(sync_now=False)
    try:
        assert wait_until(lambda: bool(a.store.get_meta(CHECKED_KEY)), timeout=30)
    finally:
        scheduler.stop()
    assert scheduler.damage is None

    db = a.paths.store
    a.store.set_meta(CHECKED_KEY, "2000-01-01T00:00:00+00:00")  # due again
    a.close()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    flip_index_entry(db)

    b = new_device.reopen(a)  # quick_check at open passes: only an index is damaged
    scheduler = SyncScheduler(b.engine, interval_minutes=60, poll_seconds=0.2)
    scheduler.start(sync_now=False)
    try:
        assert wait_until(lambda: scheduler.damage is not None, timeout=30)
        runs = scheduler.runs
        scheduler.trigger()  # a sync asked for now does not run on a damaged store
        assert not wait_until(lambda: scheduler.runs > runs, timeout=2)
    finally:
        scheduler.stop()
    assert scheduler.damage is not None and scheduler.damage.repairable
    assert marker_for(db).exists()
    b.close()
    with pytest.raises(StoreDamaged):
        open_store(db)

"""Background sync: new local work syncs at once, offline backs off, the lock is shared."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from client.config import ClientConfig, save_config
from client.paths import resolve_paths
from client.sync_cli import app
from store.models import OutboxEntry
from sync.engine import SyncLock, SyncScheduler
from tests.support.netproxy import Proxy, wait_until
from tests.support.server import RunningServer
from tests.sync.engine.conftest import NIPS, Device, DeviceFactory


def _outbox_empty(device: Device) -> bool:
    with device.store.read() as session:
        return session.exec(select(OutboxEntry)).first() is None


@pytest.fixture
def scheduled(new_device: DeviceFactory) -> Iterator[tuple[Device, SyncScheduler]]:
    a = new_device("a")
    a.engine.backoff.base_s = 0.3
    scheduler = SyncScheduler(
        a.engine,
        interval_minutes=60,
        jitter_seconds=0,
        lock=SyncLock(a.paths.sync_lock, "tui"),
        poll_seconds=0.1,
        busy_retry_seconds=0.5,
    )
    scheduler.start(sync_now=False)
    yield a, scheduler
    scheduler.stop()


def test_new_outbox_work_syncs_at_once(scheduled: tuple[Device, SyncScheduler]) -> None:
    a, scheduler = scheduled
    a.add_pegawai(NIPS[0])
    assert wait_until(lambda: _outbox_empty(a) and scheduler.runs >= 1, timeout=10)


def test_offline_backs_off_and_retries_without_new_writes(
    scheduled: tuple[Device, SyncScheduler], proxy: Proxy
) -> None:
    a, scheduler = scheduled
    proxy.offline(True)
    a.add_pegawai(NIPS[0])
    assert wait_until(lambda: a.store.get_meta("state") == "offline", timeout=10)
    proxy.offline(False)
    # No new local write: the retry at the end of the backoff finishes the job.
    assert wait_until(
        lambda: _outbox_empty(a) and a.store.get_meta("state") == "online", timeout=15
    )
    assert scheduler.runs <= 8  # backing off, not hammering


def test_other_process_holding_the_lock_is_named(
    scheduled: tuple[Device, SyncScheduler], caplog: pytest.LogCaptureFixture
) -> None:
    a, _scheduler = scheduled
    caplog.set_level(logging.INFO, logger="sync.engine.scheduler")
    with SyncLock(a.paths.sync_lock, "berkas agent"):
        a.add_pegawai(NIPS[0])
        assert wait_until(
            lambda: any("berkas agent (pid" in r.getMessage() for r in caplog.records),
            timeout=10,
        )
        assert not _outbox_empty(a)
    # No trigger and no new write: the retry after the busy lock finishes the job.
    assert wait_until(lambda: _outbox_empty(a), timeout=10)


def test_cli_enrol_status_sync(
    server: RunningServer, proxy: Proxy, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    home = Path(str(tmp_path)) / "cli"
    monkeypatch.setenv("BERKAS_HOME", str(home))
    paths = resolve_paths(home)
    save_config(paths.config, ClientConfig(opd_kode="DISDIK", operator="Ani"))
    runner = CliRunner()
    out = runner.invoke(app, ["status"])
    assert out.exit_code == 0 and "belum terdaftar" in out.output
    out = runner.invoke(app, ["enrol", "--server", proxy.url, "--code", "SALAH-KODE"])
    assert out.exit_code == 2 and "Kode pendaftaran" in out.output
    code = server.enrol_code("DISDIK")
    out = runner.invoke(app, ["enrol", "--server", proxy.url, "--code", code])
    assert out.exit_code == 0, out.output
    assert "Terdaftar" in out.output
    out = runner.invoke(app, ["sync"])
    assert out.exit_code == 0 and "Sinkron:" in out.output
    out = runner.invoke(app, ["status"])
    assert "terhubung" in out.output and "DISDIK" in out.output
    out = runner.invoke(app, ["status", "--json"])
    shown = json.loads(out.output)
    assert (shown["state"], shown["opd_kode"], shown["open_conflicts"]) == ("online", "DISDIK", 0)
    assert datetime.fromisoformat(shown["last_sync"]) and shown["refused"] == []
    proxy.offline(True)
    out = runner.invoke(app, ["sync"])
    assert out.exit_code == 1 and "jaringan" in out.output
    out = runner.invoke(app, ["status"])
    assert "luring" in out.output


def test_agent_runs_headless_until_stopped(new_device: DeviceFactory, proxy: Proxy) -> None:
    import threading

    from client import sync_service
    from client.config import load_config

    a = new_device("a")
    config = load_config(a.paths.config)
    config.server_url = proxy.url
    save_config(a.paths.config, config)
    a.add_pegawai(NIPS[0])
    stop = threading.Event()
    agent = threading.Thread(target=sync_service.run_agent, args=(a.paths,), kwargs={"stop": stop})
    agent.start()
    try:
        assert wait_until(lambda: _outbox_empty(a), timeout=15)
        assert (a.paths.logs / "agent.log").exists()
    finally:
        stop.set()
        agent.join(15)
    assert not agent.is_alive()

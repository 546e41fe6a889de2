"""Background sync inside the TUI against the real server on loopback: the scheduler
`berkas agent` runs, its next run on the Sinkronisasi screen, the sync lock kept by
another process (an agent) respected and named, and a clean stop at quit."""

from __future__ import annotations

import asyncio
import io
import logging
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static

from client import sinkronisasi, sync_service
from client.cli_support import save_default_config
from client.paths import Paths, resolve_paths
from client.services import BerkasClient
from server.models import Record
from store.pegawai import PegawaiInput
from sync.engine import SyncLock
from tests.support.server import REPO_ROOT, RunningServer
from tests.tui.support import TODAY, settle
from tui.app import BerkasApp
from tui.format import waktu
from tui.screens.sinkronisasi import SinkronisasiScreen
from tui.sync_port import EngineSyncPort

NIP = "196804111993031009"


@pytest.fixture
def enrolled(tmp_path: Path, server: RunningServer) -> Iterator[BerkasClient]:
    """An OPD home enrolled with the server, holding one change not yet sent."""
    paths = resolve_paths(tmp_path / "opd")
    save_default_config(paths, "DISDIK", "Ani")
    sync_service.enrol(paths, server.url, server.enrol_code("DISDIK"), device_name="TU")
    client = BerkasClient.open(paths)
    client.add_pegawai(
        PegawaiInput(
            nip=NIP,
            nama="Budi Santoso",
            golongan="III/a",
            tmt_pangkat=date(2019, 4, 1),
            pendidikan="s1",
            jenis_jabatan="pelaksana",
        )
    )
    assert client.pending_ops() > 0
    yield client
    client.close()


async def wait_until(pilot: Pilot[None], ok: Callable[[], object], what: str) -> None:
    """Let the app run until `ok()` holds (a hang guard, not a timing assertion)."""
    for _ in range(300):
        if ok():
            return
        await pilot.pause(0.1)
    raise AssertionError(f"never happened: {what}")


def shown(widget: Static) -> str:
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(widget.content)
    return console.export_text()


def held_by_agent(paths: Paths) -> subprocess.Popen[str]:
    """Another process holding the store's sync lock, as `berkas agent` does mid-sync."""
    code = (
        "import sys; from pathlib import Path; from sync.engine.lock import SyncLock\n"
        f"lock = SyncLock(Path({str(paths.sync_lock)!r}), 'berkas agent'); lock.acquire()\n"
        "print('held', flush=True); sys.stdin.read()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def server_record(server: RunningServer, table: str, record_id: str) -> dict[str, Any]:
    with server.db.read() as session:
        row = session.get(Record, (table, record_id))
        assert row is not None, f"the server has no {table} {record_id}"
        return dict(row.data)


def test_the_app_syncs_in_the_background_shows_the_next_run_and_stops_at_quit(
    enrolled: BerkasClient, server: RunningServer
) -> None:
    client = enrolled
    port = EngineSyncPort(client, background=True)

    async def main() -> None:
        app = BerkasApp(client, today=TODAY, sync_port=port, poll_seconds=0.2)
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            # Nobody pressed anything: the scheduler's first run sends the change.
            await wait_until(pilot, lambda: client.pending_ops() == 0, "the outbox drained")
            assert port.background_sync is not None
            await pilot.press("f6")
            await settle(pilot)
            assert isinstance(app.screen, SinkronisasiScreen)
            await wait_until(
                pilot,
                lambda: (
                    app.sync_status is not None
                    and app.sync_status.pending_ops == 0
                    and app.sync_status.last_sync is not None
                ),
                "the status after the run",
            )
            status = app.sync_status
            assert status is not None and status.online is True
            running = port.background_sync
            assert running is not None
            assert status.next_sync is not None and status.next_sync == running.next_run()
            facts = shown(app.screen.query_one("#keadaan", Static))
            assert f"Berikutnya        {waktu(status.next_sync)}" in facts
            assert "semua perubahan sudah terkirim" in facts
        assert running.scheduler.engine.stop_event.is_set()  # stopped at quit
        assert port.background_sync is None
        assert sinkronisasi.lock_holder(client.paths) == ("", False)
        lock = SyncLock(client.paths.sync_lock, "uji")
        lock.acquire()  # nobody holds it any more
        lock.release()

    asyncio.run(main())
    pegawai = client.pegawai_by_nip(NIP)
    assert pegawai is not None
    assert server_record(server, "pegawai", pegawai.id)["nama"] == "Budi Santoso"


def test_while_an_agent_holds_the_lock_the_app_names_it_and_does_not_sync(
    enrolled: BerkasClient, server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = enrolled
    caplog.set_level(logging.INFO, logger="sync.engine.scheduler")
    agent = held_by_agent(client.paths)
    port = EngineSyncPort(client, background=True)

    async def main() -> None:
        app = BerkasApp(client, today=TODAY, sync_port=port, poll_seconds=0.2)
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await wait_until(
                pilot,
                lambda: any("berkas agent" in r.getMessage() for r in caplog.records),
                "the scheduler's run skipped for the agent",
            )
            await wait_until(
                pilot,
                lambda: app.sync_status is not None and "berkas agent" in app.sync_status.held_by,
                "the status naming the agent",
            )
            assert client.pending_ops() > 0  # the app did not sync by itself
            await pilot.press("f6")
            await settle(pilot)
            facts = shown(app.screen.query_one("#keadaan", Static))
            assert "Disinkronkan oleh" in facts and f"berkas agent (pid {agent.pid}" in facts
            await pilot.press("s")  # Sinkronkan sekarang: refused, with the holder named
            await settle(pilot)
            messages = [n.message for n in app._notifications]
            assert any("sedang dijalankan oleh berkas agent" in m for m in messages)
            assert client.pending_ops() > 0

            agent.communicate("", timeout=15)  # the agent is done; the lock is free
            await pilot.press("s")
            await settle(pilot)
            await wait_until(pilot, lambda: client.pending_ops() == 0, "the outbox drained")
            await wait_until(
                pilot,
                lambda: app.sync_status is not None and not app.sync_status.held_by,
                "the holder gone from the status",
            )

    try:
        asyncio.run(main())
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait(10)
    pegawai = client.pegawai_by_nip(NIP)
    assert pegawai is not None and server_record(server, "pegawai", pegawai.id)["nip"] == NIP

"""The BKD server's disk is full (507): the client says so in Bahasa, not "jaringan putus",
keeps every change, waits as long as the server asks, and sends everything afterwards."""

from __future__ import annotations

from sqlmodel import select

from client import sync_service
from store.models import OutboxEntry, Pegawai
from sync.engine import LinkState, ServerDiskFull
from tests.support.server import RunningServer, database_full
from tests.sync.engine.conftest import DeviceFactory


def test_server_disk_full_is_reported_as_such_and_retried(
    new_device: DeviceFactory, server: RunningServer
) -> None:
    a = new_device("a")
    nips = [f"196804111993031{i:03d}" for i in range(1, 201)]
    ids = [a.add_pegawai(nip, nama="Budi Santoso " * 10) for nip in nips]
    with database_full(server.db):
        report = a.sync()
        assert isinstance(report.error, ServerDiskFull), report.error
        assert report.state is LinkState.SERVER_MENOLAK  # not OFFLINE: the link is fine
        status = sync_service.status_of(a.paths, a.store)
        assert "server BKD penuh" in status.last_error
        assert "jaringan" not in status.last_error
        with a.store.read() as session:
            assert len(list(session.exec(select(OutboxEntry)))) == len(nips)  # nothing lost
        # The server asked for Retry-After 300: the next attempt waits at least that long.
        assert a.engine.backoff.remaining() > 200
    a.engine.backoff.reset()  # the wait is over
    assert a.sync().ok
    b = new_device("b")
    assert b.sync().ok
    assert [b.get(Pegawai, i).nip for i in ids] == nips

"""Issue 15 item 7: a draft made by mistake is cancelled: a tombstone that syncs (the
server and the other devices drop it), the reason kept in its history."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.models import Usulan
from tests.e2e.helpers_replicas import server_records
from tests.e2e.test_attach_uploads import _usulan, device
from tests.support.netproxy import Proxy
from tests.support.server import RunningServer
from tests.sync.engine.conftest import Device, fast_settings, make_device

__all__ = ["device"]  # fixture; `server` and `proxy` come from tests/support/live_server


def test_cancelled_draft_is_a_tombstone_everywhere_with_its_reason(
    device: Device, server: RunningServer, proxy: Proxy, tmp_path: Path
) -> None:
    client, usulan_id = _usulan(device)
    assert device.sync().ok
    settings = fast_settings(downloads=False, key_check_interval_s=3600)
    other = make_device(tmp_path, "laptop", server, proxy.url, settings=settings)
    try:
        assert other.sync().ok
        with other.store.read() as session:
            seen = session.get(Usulan, usulan_id)
            assert seen is not None and not seen.deleted

        client.batalkan_usulan(usulan_id, "Salah pilih pegawai")
        assert [u.id for u in client.list_usulan()] == []
        assert device.sync().ok and other.sync().ok

        held = server_records(server.db)[("usulan", usulan_id)]
        assert held.deleted
        reasons = [
            r.data["alasan"]
            for (table, _), r in server_records(server.db).items()
            if table == "usulan_history" and r.data["usulan_id"] == usulan_id
        ]
        assert "Dibatalkan: Salah pilih pegawai" in reasons
        with other.store.read() as session:
            gone = session.get(Usulan, usulan_id)
            assert gone is not None and gone.deleted
    finally:
        other.close()


def test_only_a_draft_can_be_cancelled(device: Device) -> None:
    client, usulan_id = _usulan(device)
    with client.store.apply_remote() as session:
        u = session.get(Usulan, usulan_id)
        assert u is not None
        u.status = "diajukan"
        session.add(u)
    with pytest.raises(Exception, match="Hanya usulan berstatus draf"):
        client.batalkan_usulan(usulan_id, "keliru")

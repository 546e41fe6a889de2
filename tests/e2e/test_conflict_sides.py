"""Issue 15 item 1: two enrolled devices of one OPD change one field offline, then sync.

The server calls the later op "mine" and its own value "theirs"; each device must show
its own edit as "Perangkat ini" and the other device's by its enrolled name, in the
client's view (what the TUI's Konflik screen shows) and in `berkas konflik daftar`, and
choosing this device's side must keep this device's value everywhere.
"""

from __future__ import annotations

from pathlib import Path

from client.config import load_config
from client.services import BerkasClient
from store.models import Pegawai
from store.rules import load_rules_config
from tests.e2e.helpers_replicas import server_records
from tests.support.netproxy import Proxy
from tests.support.server import RunningServer
from tests.sync.engine.conftest import NIPS, Device, fast_settings, make_device


def _client(device: Device) -> BerkasClient:
    config = load_config(device.paths.config)
    return BerkasClient(device.paths, device.store, config, load_rules_config(None))


def _edit(device: Device, pegawai_id: str, jabatan: str) -> None:
    with device.store.write() as session:
        row = session.get(Pegawai, pegawai_id)
        assert row is not None
        row.jabatan = jabatan
        session.add(row)


def _jabatan(device: Device, pegawai_id: str) -> str | None:
    with device.store.read() as session:
        row = session.get(Pegawai, pegawai_id)
        return row.jabatan if row is not None else None


def test_each_device_sees_its_own_edit_as_its_own(
    tmp_path: Path, server: RunningServer, proxy: Proxy
) -> None:
    settings = fast_settings(downloads=False, key_check_interval_s=3600)
    sari = make_device(tmp_path, "Laptop Sari", server, proxy.url, settings=settings)
    budi = make_device(tmp_path, "Laptop Budi", server, proxy.url, settings=settings)
    try:
        pid = sari.add_pegawai(NIPS[0], nama="Dewi Lestari")
        assert sari.sync().ok and budi.sync().ok
        # Both change one field before either hears of the other; Sari's reaches the
        # server first, so on the server Budi's op is "mine" and Sari's value "theirs".
        _edit(sari, pid, "Analis SDM Aparatur")
        _edit(budi, pid, "Pranata Komputer")
        assert sari.sync().ok
        assert budi.sync().ok
        assert sari.sync().ok

        for device, own, other, other_name in (
            (sari, "Analis SDM Aparatur", "Pranata Komputer", "Laptop Budi"),
            (budi, "Pranata Komputer", "Analis SDM Aparatur", "Laptop Sari"),
        ):
            detail = _client(device).conflict_detail(pid)
            (field,) = detail.fields
            assert field.field == "jabatan"
            mine, theirs = field.sides
            assert mine.this_device and mine.value == own, device.paths.config_dir
            assert mine.who.startswith("Perangkat ini")
            assert not theirs.this_device and theirs.value == other
            assert theirs.who == other_name
            listing = device.berkas("konflik", "daftar")
            own_line = next(line for line in listing.splitlines() if own in line)
            other_line = next(line for line in listing.splitlines() if other in line)
            assert "Perangkat ini" in own_line and other_name in other_line, listing
            assert "Perangkat ini" not in other_line, listing

        # Sari (whose edit the server calls "theirs") keeps her own side: her value wins
        # on the server and on Budi's device.
        client = _client(sari)
        field = client.conflict_detail(pid).fields[0]
        assert field.own_side is not None
        client.resolve_conflicts({field.conflict_id: (field.own_side.choice, None)})
        assert sari.sync().ok and budi.sync().ok
        assert _jabatan(sari, pid) == "Analis SDM Aparatur"
        assert _jabatan(budi, pid) == "Analis SDM Aparatur"
        held = server_records(server.db)[("pegawai", pid)]
        assert held.data["jabatan"] == "Analis SDM Aparatur"
        assert _client(budi).count_conflicts() == 0
    finally:
        sari.close()
        budi.close()

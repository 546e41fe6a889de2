"""Issue 13 item 13, sync: a device whose disk is full (a real tmpfs filled to the last
byte) is told so, not "jaringan putus", loses nothing, and finishes once there is room."""

from __future__ import annotations

from pathlib import Path

from store import usulan as wf
from store.models import Pegawai
from sync.engine import LinkState, Offline
from tests.support.full_disk import small_disk
from tests.support.server import RunningServer
from tests.sync.engine.conftest import NIPS, DeviceFactory, fast_settings, random_bytes

SIZE = 600_000


def test_download_on_a_full_disk_says_disk_full_then_completes(
    tmp_path: Path, server: RunningServer, new_device: DeviceFactory
) -> None:
    a = new_device("a")
    pid = a.add_pegawai(NIPS[0])
    sha = a.store_scan(random_bytes(SIZE, seed=41))
    with a.store.write() as session:
        pegawai = session.get(Pegawai, pid)
        assert pegawai is not None
        usulan = wf.create_usulan(session, pegawai, "pindah", "pindah")
        kode = wf.required_kodes("pindah", "pindah", [])[0]
        wf.attach_dokumen(session, usulan, kode, sha256=sha, size=SIZE, pages=1)
    assert a.sync().ok

    with small_disk(tmp_path / "disk") as disk:
        on_disk = DeviceFactory(disk.root, new_device.server, new_device.url)
        try:
            b = on_disk("b", settings=fast_settings(download_retry_s=0, key_check_interval_s=3600))
            # Records and the OPD key first (no document yet), then the disk fills.
            assert b.engine.sync_once(uploads=False).ok
            assert a.sync().ok  # wraps the OPD key for b
            assert b.engine.sync_once(uploads=False).ok
            assert b.engine.keyring.opd_key() is not None
            # Room for the store's small writes, none for the document (a nearly full disk).
            disk.fill(leave=SIZE // 3)
            full = b.sync()
            assert full.error is not None
            assert not isinstance(full.error, Offline)
            assert full.state is not LinkState.OFFLINE
            assert "Ruang disk penuh" in full.error.message, full.error
            assert "jaringan" not in full.error.message
            assert full.downloads == 0
            disk.free()
            again = b.sync()
            assert again.ok, again.error
            assert again.downloads == 1
            assert b.blobs.verify(sha)
        finally:
            for device in on_disk.made:
                device.close()

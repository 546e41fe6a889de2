"""Documents: tus uploads cut and resumed, restart mid-upload, restore after total loss."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlmodel import select

from client import sync_service
from client.config import load_config
from client.errors import BerkasError
from client.paths import resolve_paths
from store import usulan as wf
from store.models import Blob, Dokumen, Pegawai, Usulan
from sync.engine import ChunkSizer, Timetable, key_requests, wrap_for_waiting_devices
from tests.support.netproxy import Proxy, wait_until
from tests.support.server import TEST_VERIFIER_PASSPHRASE, RunningServer
from tests.sync.engine.conftest import NIPS, Device, DeviceFactory, random_bytes

CHUNK = 256 * 1024
HEADER_ALLOWANCE = 2_000  # request line and headers of one tus request, generously


def fixed_chunks(device: Device, size: int = CHUNK) -> None:
    device.engine.sizer = ChunkSizer(size, minimum=size, maximum=size)
    device.engine.backoff.base_s = 0.1


def server_copy_hash(device: Device, sha: str) -> str:
    """Download what the server holds for `sha` into a second blob store and check it."""
    with device.store.read() as session:
        blob = session.get(Blob, sha)
        assert blob is not None and blob.uploaded and blob.file_id
    from sync.engine.download import list_files

    infos = list(list_files(device.engine.transport, sha256=sha))
    assert len(infos) == 1
    return infos[0].sha256


def test_upload_cut_at_several_offsets_resends_at_most_one_chunk_per_cut(
    new_device: DeviceFactory, proxy: Proxy
) -> None:
    a = new_device("a")
    fixed_chunks(a)
    data = random_bytes(1_500_000, seed=1)
    sha = a.store_scan(data)
    cipher_size = a.blobs.path_for(sha).stat().st_size
    assert a.sync().ok  # records (none) and key bookkeeping; the scan too, uncut
    # A second scan, sent through a link that drops three times mid-chunk.
    data2 = random_bytes(1_500_000, seed=2)
    sha2 = a.store_scan(data2, "scan2.pdf")
    proxy.reset_counters()
    proxy.cut_at(100_000, 500_000, 1_000_000)
    report = a.sync()
    assert report.ok, report.error
    assert report.uploads.uploaded == 1
    assert proxy.cuts == 3
    cipher2 = a.blobs.path_for(sha2).stat().st_size
    requests = report.requests + 3  # plus the connections' re-sent request heads
    resent = proxy.bytes_up - cipher2 - requests * HEADER_ALLOWANCE
    assert resent <= 3 * CHUNK, f"re-sent {resent} bytes over 3 cuts"
    assert server_copy_hash(a, sha2) == sha2
    assert cipher_size > len(data)


def test_restart_mid_upload_resumes_from_the_server_offset(
    new_device: DeviceFactory, proxy: Proxy, tmp_path: Path
) -> None:
    a = new_device("a")
    data = random_bytes(2_000_000, seed=3)
    sha = a.store_scan(data)
    cipher_size = a.blobs.path_for(sha).stat().st_size
    a.close()
    proxy.set_rate(8_000_000)  # 1 MB/s: the child is killed about halfway
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from client.paths import resolve_paths
        from tests.sync.engine.conftest import open_device
        from sync.engine import ChunkSizer
        device = open_device(resolve_paths(Path({str(a.paths.data)!r})), {proxy.url!r})
        device.engine.sizer = ChunkSizer({CHUNK}, minimum={CHUNK}, maximum={CHUNK})
        device.sync()
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).parents[3])
    try:
        assert wait_until(lambda: proxy.bytes_up > cipher_size // 2, timeout=30)
        os.kill(child.pid, signal.SIGKILL)  # kill -9 mid-upload
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    before = proxy.bytes_up
    with a.store.read() as session:
        blob = session.get(Blob, sha)
        assert blob is not None and blob.upload_url and not blob.uploaded
    proxy.set_rate(None)
    proxy.reset_counters()
    b = new_device.reopen(a)
    report = b.sync()
    assert report.ok, report.error
    assert report.uploads.uploaded == 1
    # Only what the server had not confirmed is sent again: at most the chunk in flight.
    remaining = cipher_size - (before - 2 * HEADER_ALLOWANCE) if before < cipher_size else 0
    assert proxy.bytes_up <= remaining + CHUNK + report.requests * HEADER_ALLOWANCE
    assert proxy.bytes_up < cipher_size
    assert server_copy_hash(b, sha) == sha


def test_corrupted_local_blob_is_reported_and_others_still_upload(
    new_device: DeviceFactory,
) -> None:
    a = new_device("a")
    good = a.store_scan(random_bytes(300_000, seed=4), "baik.pdf")
    bad = a.store_scan(random_bytes(300_000, seed=5), "rusak.pdf")
    path = a.blobs.path_for(bad)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # one flipped bit on disk
    path.write_bytes(bytes(raw))
    report = a.sync()
    assert not report.ok
    assert report.uploads.uploaded == 1 and report.uploads.corrupt == [bad]
    assert "rusak" in report.error.message  # type: ignore[union-attr]
    status = sync_service.status_of(a.paths, a.store)
    assert "rusak" in status.last_error and status.pending_uploads == 1
    with a.store.read() as session:
        assert session.get(Blob, good).uploaded  # type: ignore[union-attr]


def test_restore_after_total_loss(
    new_device: DeviceFactory,
    server: RunningServer,
    proxy: Proxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a = new_device("a")
    pid = a.add_pegawai(NIPS[0])
    shas = [
        a.store_scan(random_bytes(200_000 + n * 50_000, seed=10 + n), f"s{n}.pdf") for n in range(3)
    ]
    with a.store.write() as session:
        pegawai = session.get(Pegawai, pid)
        assert pegawai is not None
        usulan = wf.create_usulan(session, pegawai, "pindah", "pindah")
        for sha, kode in zip(shas, wf.required_kodes("pindah", "pindah", []), strict=False):
            wf.attach_dokumen(session, usulan, kode, sha256=sha, size=1, pages=1)
    report = a.sync()
    assert report.ok and report.uploads.uploaded == 3
    with a.store.read() as session:
        before = {
            (type(r).__name__, r.id, r.version)
            for model in (Pegawai, Usulan, Dokumen)
            for r in session.exec(select(model))
        }
    # A verifikator machine holds the BKD verifier key (handed over by the admin).
    verifier = new_device("verifikator", opd="BKD", role="verifikator")
    shutil.copy(server.verifier_key_path, verifier.paths.keys / "verifier.key")
    os.chmod(verifier.paths.keys / "verifier.key", 0o600)
    monkeypatch.setenv("BERKAS_VERIFIER_PASSPHRASE", TEST_VERIFIER_PASSPHRASE)
    # The flood: every machine of the OPD is gone.
    a.close()
    shutil.rmtree(a.paths.data)
    fresh = resolve_paths(tmp_path / "pengganti")
    code = server.enrol_code("DISDIK")
    with pytest.raises(BerkasError) as waiting:
        sync_service.restore(fresh, proxy.url, code)
    assert "verifikator" in waiting.value.message
    # The verifikator's sync shares nothing by itself; the request waits in their queue.
    assert verifier.sync().ok
    [request] = key_requests(verifier.engine.transport)
    assert request.opd_id == "DISDIK"
    shared = wrap_for_waiting_devices(
        verifier.engine.keyring, verifier.engine.transport, {request.device_id}
    )
    assert shared == 1
    result = sync_service.restore(fresh, proxy.url, "")
    assert sorted(result.verified) == sorted(shas)
    assert result.blobs_downloaded == 3 and not result.failed and not result.never_uploaded
    store = sync_service._open_store(fresh, load_config(fresh.config))
    try:
        with store.read() as session:
            after = {
                (type(r).__name__, r.id, r.version)
                for model in (Pegawai, Usulan, Dokumen)
                for r in session.exec(select(model))
            }
        assert after == before
        blobs = sync_service.open_blob_store(fresh)
        for sha, seed in zip(shas, range(10, 13), strict=True):
            assert blobs.verify(sha)
            out = tmp_path / "out.pdf"
            blobs.decrypt_to(sha, out)
            assert hashlib.sha256(out.read_bytes()).hexdigest() == sha
            assert out.read_bytes() == random_bytes(len(out.read_bytes()), seed=seed)
    finally:
        store.close()
    assert time.time() > 0


def test_upload_window_holds_large_files_and_caps_their_rate(new_device: DeviceFactory) -> None:
    a = new_device("a")
    a.engine.settings.large_file_bytes = 400_000
    small = a.store_scan(random_bytes(100_000, seed=20), "kecil.pdf")
    big = a.store_scan(random_bytes(600_000, seed=21), "besar.pdf")
    a.engine.timetable = Timetable("00:00,0")  # the window is closed all day
    report = a.sync()
    assert report.ok and report.uploads.uploaded == 1 and report.uploads.held == 1
    with a.store.read() as session:
        assert session.get(Blob, small).uploaded  # type: ignore[union-attr]
        assert not session.get(Blob, big).uploaded  # type: ignore[union-attr]
    a.engine.timetable = Timetable("00:00,400k")  # open, capped at 400 KiB/s
    started = time.monotonic()
    report = a.sync()
    elapsed = time.monotonic() - started
    assert report.ok and report.uploads.uploaded == 1
    assert elapsed >= 600_000 / (400 * 1024) - 0.4  # the cap held (token bucket burst aside)


def test_documents_of_another_device_are_downloaded(new_device: DeviceFactory) -> None:
    a, b = new_device("a"), new_device("b")
    pid = a.add_pegawai(NIPS[0])
    sha = a.store_scan(random_bytes(300_000, seed=30))
    with a.store.write() as session:
        pegawai = session.get(Pegawai, pid)
        assert pegawai is not None
        usulan = wf.create_usulan(session, pegawai, "pindah", "pindah")
        kode = wf.required_kodes("pindah", "pindah", [])[0]
        wf.attach_dokumen(session, usulan, kode, sha256=sha, size=300_000, pages=1)
    assert a.sync().ok
    # B receives the records and its copy of the OPD key (wrapped by A), then the scan.
    first, second = b.sync(), b.sync()
    assert first.ok and second.ok
    assert first.downloads + second.downloads == 1
    assert b.blobs.verify(sha)


def test_stalled_link_times_out_to_offline_then_recovers(
    new_device: DeviceFactory, proxy: Proxy
) -> None:
    import httpx

    from tests.sync.engine.conftest import fast_settings

    a = new_device("a", settings=fast_settings(timeout=httpx.Timeout(1.0)))
    a.add_pegawai(NIPS[0])
    proxy.stall(True)
    report = a.sync()
    assert report.state.value == "offline"
    proxy.stall(False)
    a.engine.backoff.reset()
    assert a.sync().ok

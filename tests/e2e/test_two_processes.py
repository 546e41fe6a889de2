"""Two server processes on one database behind a real load balancer (HAProxy from
Debian's packages, round robin, started here), one of them killed with SIGKILL and started
again in the middle of an usulan's life: nothing acknowledged is lost, uploads resume on
the other process, both devices converge with the server.

Needs the `haproxy` binary (`apt-get install haproxy`; .ci/run installs it); without it
the suite is skipped and says so. Runs on PostgreSQL with BERKAS_TEST_DATABASE_URL, else
on SQLite (two processes of one host sharing the home folder).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import select as sm_select

from server.models import Record, StoredFile, Upload
from store import usulan as wf
from store.models import Blob, Pegawai, Usulan
from store.rules import Role, UsulanStatus
from sync.engine import ChunkSizer
from tests.support.balancer import HAPROXY, HAPROXY_MISSING, start_two_processes
from tests.support.server import (
    drop_test_database,
    fresh_database_url,
)
from tests.sync.engine.conftest import NIPS, Device, fast_settings, make_device, random_bytes

pytestmark = pytest.mark.skipif(HAPROXY is None, reason=HAPROXY_MISSING)


@pytest.fixture
def database_url() -> Iterator[str | None]:
    url = fresh_database_url()
    yield url
    drop_test_database(url)


def sync_until_ok(device: Device, attempts: int = 20) -> None:
    """What the scheduler does: try again after a failed sync (a process was killed)."""
    for _ in range(attempts):
        report = device.sync()
        if report.ok and report.uploads.failed == 0:
            return
        time.sleep(0.3)
    raise AssertionError(f"sync did not succeed: {report.error}")


def test_usulan_life_on_two_processes_behind_haproxy_with_one_killed(
    tmp_path: Path, database_url: str | None
) -> None:
    cluster = start_two_processes(tmp_path, database_url)
    settings, url = cluster.settings, cluster.url
    devices: list[Device] = []
    try:
        # Enrolment codes straight in the database; everything else through the balancer.
        opd = make_device(tmp_path, "opd", cluster, url)
        verifier = make_device(
            tmp_path,
            "verifikator",
            cluster,
            url,
            opd="BKD",
            role="verifikator",
            settings=fast_settings(downloads=False),
        )
        devices += [opd, verifier]
        # Small fixed chunks: many PATCH requests, spread over both processes.
        opd.engine.sizer = ChunkSizer(64 * 1024, minimum=64 * 1024, maximum=64 * 1024)
        opd.engine.backoff.base_s = 0.1

        pid = opd.add_pegawai(NIPS[0])
        kodes = wf.required_kodes("pindah", "pindah", [])
        shas = [
            opd.store_scan(random_bytes(700_000 + 50_000 * n, seed=40 + n), f"{n}.pdf")
            for n in range(len(kodes))
        ]
        with opd.store.write() as session:
            pegawai = session.get(Pegawai, pid)
            assert pegawai is not None
            usulan = wf.create_usulan(session, pegawai, "pindah", "pindah")
            for kode, sha in zip(kodes, shas, strict=True):
                wf.attach_dokumen(session, usulan, kode, sha256=sha, size=1, pages=1)
            wf.ajukan(session, usulan)
            usulan_id = usulan.id

        # The OPD syncs; once uploads are under way, process one dies (SIGKILL) and comes
        # back on its port while the OPD keeps syncing through the balancer.
        done = threading.Event()
        errors: list[BaseException] = []

        def opd_sync() -> None:
            try:
                sync_until_ok(opd)
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)
            finally:
                done.set()

        worker = threading.Thread(target=opd_sync)
        worker.start()
        db = cluster.db
        deadline = time.monotonic() + 60
        while not done.is_set() and time.monotonic() < deadline:
            with db.read() as session:
                moved = session.scalar(
                    select(func.count()).select_from(Upload).where(Upload.offset > 0)
                )
            if moved:
                break
            time.sleep(0.02)
        cluster.kill_and_restart(0)
        worker.join(timeout=180)
        assert not worker.is_alive() and not errors, errors

        # The verifikator, through the balancer, sees the usulan and verifies it.
        sync_until_ok(verifier)
        with verifier.store.write() as session:
            seen = session.get(Usulan, usulan_id)
            assert seen is not None and seen.status == UsulanStatus.DIAJUKAN.value
            wf.move_status(session, seen, UsulanStatus.DIVERIFIKASI, Role.VERIFIKATOR)
        sync_until_ok(verifier)
        sync_until_ok(opd)
        assert opd.get(Usulan, usulan_id).status == UsulanStatus.DIVERIFIKASI.value

        with db.read() as session:
            stored = set(session.scalars(select(StoredFile.sha256)))
            cipher = set(session.scalars(select(StoredFile.cipher_sha256)))
            records = {
                (r.table_name, r.record_id): r.version for r in session.scalars(select(Record))
            }
        assert stored == set(shas)
        for name in cipher:  # every document complete on disk, bytes as addressed
            data = (settings.blob_dir / name).read_bytes()
            assert hashlib.sha256(data).hexdigest() == name
        with opd.store.read() as session:
            assert all(b.uploaded for b in session.exec(sm_select(Blob)))
        for device in (opd, verifier):
            with device.store.read() as session:
                local = {("usulan", u.id): u.version for u in session.exec(sm_select(Usulan))} | {
                    ("pegawai", p.id): p.version for p in session.exec(sm_select(Pegawai))
                }
            assert local == {
                key: version for key, version in records.items() if key[0] in ("usulan", "pegawai")
            }
    finally:
        for device in devices:
            device.close()
        cluster.stop()

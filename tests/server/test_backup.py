"""Server backup and restore: `cadangkan` while devices push and upload, `pulihkan` into a
fresh home with the manifest checked, and devices that synced after the backup bringing
the restored server back to what it had acknowledged (PROTOCOL.md 9)."""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import select
from sqlmodel import select as sm_select
from typer.testing import CliRunner

from server.backup import BackupError, backup, restore
from server.cli import app as server_cli
from server.db import open_database
from server.models import Record, StoredFile
from server.settings import ServerSettings
from store import usulan as wf
from store.models import Blob, OutboxHistory, Pegawai
from tests.support.server import RunningServer, start_server
from tests.sync.engine.conftest import NIPS, Device, make_device, open_device, random_bytes


@pytest.fixture
def restore_database_url(own_database_url: str | None) -> Iterator[str | None]:
    """An empty database to restore into: None (SQLite in the new home), or a new
    PostgreSQL database with the same search_path as the source schema."""
    if own_database_url is None:
        yield None
        return
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore tidak terpasang (apt-get install postgresql-client)")
    import psycopg

    name = f"berkas_restore_{secrets.token_hex(5)}"
    parts = urlsplit(own_database_url)
    admin = urlunsplit(parts._replace(scheme="postgresql", query=""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_records(url: str) -> dict[tuple[str, str], tuple[int, dict[str, object], bool]]:
    db = open_database(url)
    try:
        with db.read() as session:
            return {
                (r.table_name, r.record_id): (r.version, r.data, r.deleted)
                for r in session.scalars(select(Record))
            }
    finally:
        db.dispose()


def server_files(url: str) -> set[str]:
    db = open_database(url)
    try:
        with db.read() as session:
            return set(session.scalars(select(StoredFile.cipher_sha256)))
    finally:
        db.dispose()


def attach_scan(device: Device, pegawai_id: str, data: bytes, name: str) -> str:
    """A scan stored and attached to a new usulan of that pegawai (so it uploads)."""
    sha = device.store_scan(data, name)
    with device.store.write() as session:
        pegawai = session.get(Pegawai, pegawai_id)
        assert pegawai is not None
        usulan = wf.create_usulan(session, pegawai, "pindah", "pindah")
        kode = wf.required_kodes("pindah", "pindah", [])[0]
        wf.attach_dokumen(session, usulan, kode, sha256=sha, size=1, pages=1)
    return sha


def test_backup_during_pushes_and_uploads_restores_every_record_and_blob(
    tmp_path: Path, own_database_url: str | None, restore_database_url: str | None
) -> None:
    server = start_server(tmp_path / "server", own_database_url)
    pusher = make_device(tmp_path, "pusher", server, server.url)
    uploader = make_device(tmp_path, "uploader", server, server.url)
    try:
        pid = pusher.add_pegawai(NIPS[0])
        assert pusher.sync().ok
        uploader_pid = uploader.add_pegawai(NIPS[1])
        assert uploader.sync().ok
        stop = threading.Event()
        failures: list[str] = []
        counts = {"edits": 0, "scans": 0}

        def push_loop() -> None:
            while not stop.is_set():
                counts["edits"] += 1
                pusher.edit(Pegawai, pid, nama=f"Pegawai Sunting {counts['edits']}")
                report = pusher.sync()
                if not report.ok:
                    failures.append(str(report.error))

        def upload_loop() -> None:
            while not stop.is_set():
                counts["scans"] += 1
                n = counts["scans"]
                attach_scan(uploader, uploader_pid, random_bytes(150_000, seed=n), f"s{n}.pdf")
                report = uploader.sync()
                if not report.ok:
                    failures.append(str(report.error))

        threads = [threading.Thread(target=push_loop), threading.Thread(target=upload_loop)]
        for thread in threads:
            thread.start()
        target = tmp_path / "cadangan"
        try:
            # Wait until both lanes are busy, then back up twice while they run.
            while counts["edits"] < 3 or counts["scans"] < 3:
                stop.wait(0.05)
            first = backup(server.settings, target)
            while counts["scans"] < 6:
                stop.wait(0.05)
            second = backup(server.settings, target)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
        assert not failures
        # Incremental: the second backup did not copy the blobs the first one holds.
        assert second.blobs_reused >= first.blobs_copied > 0
        manifest = json.loads((second.snapshot / "manifest.json").read_text())
        assert manifest["records"] > 0 and manifest["stored_files"] >= 3

        # A quiet third backup (writers stopped) must restore to exactly the live server.
        third = backup(server.settings, target)
        expected_records = server_records(server.settings.database_url)
        expected_files = server_files(server.settings.database_url)
        server.stop()

        # The second snapshot (taken mid-traffic) restores consistent: every stored file
        # it names is on disk with the right bytes, every record is a real server state.
        mid_home = tmp_path / "pulih-tengah"
        mid_url = f"sqlite:///{tmp_path / 'tengah.db'}" if restore_database_url is None else None
        if mid_url is not None:
            mid = restore(second.snapshot, ServerSettings.for_home(mid_home, mid_url))
            for sha in server_files(mid_url):
                data = (mid_home / "blobs" / sha).read_bytes()
                assert hashlib.sha256(data).hexdigest() == sha
            for key, (version, _data, _deleted) in server_records(mid_url).items():
                assert key in expected_records and version <= expected_records[key][0]
            assert mid.max_seq == manifest["max_seq"]

        home = tmp_path / "pulih"
        result = CliRunner().invoke(
            server_cli,
            ["pulihkan", str(target), "--home", str(home)]
            + (["--database-url", restore_database_url] if restore_database_url else []),
        )
        assert result.exit_code == 0, result.output
        assert third.snapshot.name in result.output
        restored = ServerSettings.for_home(home, restore_database_url)
        assert server_records(restored.database_url) == expected_records
        assert server_files(restored.database_url) == expected_files
        for sha in expected_files:
            assert hashlib.sha256((home / "blobs" / sha).read_bytes()).hexdigest() == sha
        assert (home / "keys" / "server.key").read_bytes() == (
            server.settings.server_key_path.read_bytes()
        )
    finally:
        pusher.close()
        uploader.close()
        server.stop()


def test_restore_refuses_a_damaged_backup_and_a_used_home(tmp_path: Path) -> None:
    server = start_server(tmp_path / "server")
    device = make_device(tmp_path, "a", server, server.url)
    try:
        pid = device.add_pegawai(NIPS[0])
        sha = attach_scan(device, pid, random_bytes(100_000, seed=3), "a.pdf")
        assert device.sync().ok
        result = CliRunner().invoke(
            server_cli, ["cadangkan", str(tmp_path / "c"), "--home", str(server.home)]
        )
        assert result.exit_code == 0, result.output
    finally:
        device.close()
        server.stop()
    used = tmp_path / "server"
    with pytest.raises(BackupError, match="tidak kosong"):
        restore(tmp_path / "c", ServerSettings.for_home(used))
    [blob] = [p for p in (tmp_path / "c" / "blobs").iterdir()]
    assert blob.name != sha  # the ciphertext's address, not the plaintext's
    damaged = bytearray(blob.read_bytes())
    damaged[-1] ^= 1
    blob.write_bytes(bytes(damaged))
    fresh = tmp_path / "baru"
    with pytest.raises(BackupError, match="rusak"):
        restore(tmp_path / "c", ServerSettings.for_home(fresh))
    assert not fresh.exists()


def test_devices_give_the_restored_server_what_it_acknowledged_after_the_backup(
    tmp_path: Path, own_database_url: str | None, restore_database_url: str | None
) -> None:
    first = start_server(tmp_path / "server", own_database_url)
    a = make_device(tmp_path, "a", first, first.url)
    b = make_device(tmp_path, "b", first, first.url)
    c = make_device(tmp_path, "c", first, first.url)
    second: RunningServer | None = None
    try:
        p1 = a.add_pegawai(NIPS[0], nama="Sebelum Cadangan")
        p3 = a.add_pegawai(NIPS[2], nama="Pegawai Ketiga")
        assert a.sync().ok and b.sync().ok and c.sync().ok
        snapshot = backup(first.settings, tmp_path / "cadangan").snapshot
        # C edits after the backup and is then lost with the server: nobody can re-send
        # its edit, so B, which pulled it, must fall back to what the server holds.
        c.edit(Pegawai, p3, nama="Dari Perangkat Yang Hilang")
        assert c.sync().ok
        c.close()
        # After the backup: A creates and edits, uploads a scan; B pulls it all.
        p2 = a.add_pegawai(NIPS[1], nama="Sesudah Cadangan")
        a.edit(Pegawai, p1, nama="Diubah Sesudah Cadangan")
        sha = attach_scan(a, p2, random_bytes(120_000, seed=7), "s.pdf")
        assert a.sync().ok and b.sync().ok
        assert b.get(Pegawai, p2).nama == "Sesudah Cadangan"
        assert b.get(Pegawai, p3).nama == "Dari Perangkat Yang Hilang"
        lost_ops = {h.op_id for h in _history(a)}
        assert lost_ops  # acknowledged ops are kept after they leave the outbox
        # A's next edit builds on p2, which the restored server will not have: it must
        # not be refused there, but arrive after p2 is sent again.
        a.edit(Pegawai, p2, nama="Diubah Sebelum Pemulihan")
        first.stop()

        # The server machine is lost; the admin restores the backup on a new one.
        home = tmp_path / "pulih"
        restore(snapshot, ServerSettings.for_home(home, restore_database_url))
        second = start_server(home, restore_database_url)
        assert ("pegawai", p2) not in server_records(second.settings.database_url)
        a.close()
        b.close()
        a = open_device(a.paths, second.url)
        b = open_device(b.paths, second.url)

        report = a.sync()
        records = server_records(second.settings.database_url)
        assert records[("pegawai", p1)][1]["nama"] == "Diubah Sesudah Cadangan"
        assert records[("pegawai", p2)][1]["nama"] == "Diubah Sebelum Pemulihan"
        assert report.push.refused == 0
        assert report.ok and report.server_restored and report.resent >= len(lost_ops)
        with a.store.read() as session:
            blob = session.get(Blob, sha)
            assert blob is not None and blob.uploaded
        assert len(server_files(second.settings.database_url)) == 1

        # B only pulled: it re-reads everything and agrees with the restored server.
        assert b.sync().ok
        for device in (a, b):
            with device.store.read() as session:
                local = {p.id: (p.version, p.nama) for p in session.exec(sm_select(Pegawai))}
            server_now = server_records(second.settings.database_url)
            assert local == {
                pid: (server_now[("pegawai", pid)][0], server_now[("pegawai", pid)][1]["nama"])
                for pid in (p1, p2, p3)
            }
        # And both carry on: a new edit applies cleanly (no conflict).
        b.edit(Pegawai, p2, nama="Sesudah Pemulihan")
        report = b.sync()
        assert report.ok and report.push.applied == 1 and report.push.conflicts == 0
        assert a.sync().ok and a.get(Pegawai, p2).nama == "Sesudah Pemulihan"
    finally:
        a.close()
        b.close()
        c.close()
        first.stop()
        if second is not None:
            second.stop()


def _history(device: Device) -> list[OutboxHistory]:
    with device.store.read() as session:
        return list(session.exec(sm_select(OutboxHistory)))

"""Restore after a total loss, the whole path with a real server and the real `berkas`
command: the new machine files a key request, the verifikator's queue shows it
("permintaan kunci", with OPD and device name), the verifikator shares with one command,
and the new machine finishes by itself (or a later `berkas restore` / `berkas sync` does)
and opens every document."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import col, select

from berkas.demo_scans import draw_page
from client import sync_service
from client.cli_support import save_default_config
from client.paths import resolve_paths
from client.sample_data import generate_pegawai, pegawai_csv
from client.services import BerkasClient
from server import admin
from store.models import Dokumen
from store.rules import Layanan, checklist
from tests.support.server import TEST_VERIFIER_PASSPHRASE, RunningServer, start_server

TODAY = date(2026, 11, 23)
REQUIRED = [i.kode for i in checklist(Layanan.KP, "reguler") if not i.optional][:3]
BERKAS = [sys.executable, "-m", "client.cli"]


@pytest.fixture
def bkd(tmp_path: Path) -> Iterator[RunningServer]:
    server = start_server(tmp_path / "bkd")
    people = [p for p in generate_pegawai(120, today=TODAY) if p.opd_kode == "DISDIK"]
    admin.add_opd(server.db, "DISDIK", "Dinas Pendidikan")
    admin.add_opd(server.db, "BKD", "Badan Kepegawaian Daerah")
    admin.import_pegawai(server.db, "DISDIK", pegawai_csv(people).encode())
    yield server
    server.stop()


def berkas(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BERKAS, "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=_env(),
    )


def _env() -> dict[str, str]:
    return {**os.environ, "BERKAS_VERIFIER_PASSPHRASE": TEST_VERIFIER_PASSPHRASE, "COLUMNS": "200"}


def opd_with_documents(tmp_path: Path, bkd: RunningServer) -> dict[str, str]:
    """An OPD machine that filed and uploaded dokumen; returns {kode: sha256}."""
    opd = resolve_paths(tmp_path / "opd")
    save_default_config(opd, "DISDIK", "Ani")
    sync_service.enrol(opd, bkd.url, bkd.enrol_code("DISDIK"), device_name="PC TU lama")
    assert sync_service.sync_once(opd, program="uji").ok
    client = BerkasClient.open(opd)
    try:
        due = client.dashboard(TODAY).kp_due_without_usulan
        usulan = client.create_usulan(due[0].id, "kp", "reguler", today=TODAY)
        for n, kode in enumerate(REQUIRED):
            pdf = tmp_path / f"{kode}.pdf"
            draw_page(kode, usulan.nama, n).save(pdf, "PDF", resolution=150)
            client.attach_file(usulan.id, kode, pdf)
        shas = {line.kode: line.sha256 for line in _lines(client, usulan.id)}
    finally:
        client.close()
    report = sync_service.sync_once(opd, program="uji")
    assert report.ok and report.uploads.uploaded == len(REQUIRED), report
    shutil.rmtree(opd.data)  # the flood: the only machine of the OPD is gone
    return shas


def _lines(client: BerkasClient, usulan_id: str) -> list[Dokumen]:
    with client.store.read() as session:
        return list(
            session.exec(
                select(Dokumen)
                .where(Dokumen.usulan_id == usulan_id)
                .where(col(Dokumen.deleted).is_(False))
                .where(Dokumen.sha256 != "")
            )
        )


def verifikator(tmp_path: Path, bkd: RunningServer) -> Path:
    home = tmp_path / "verifikator"
    code = bkd.enrol_code("BKD", "verifikator")
    installed = berkas(home, "verifikasi", "kunci", "pasang", str(bkd.verifier_key_path))
    assert installed.returncode == 0, installed.stderr
    enrolled = berkas(home, "enrol", "--server", bkd.url, "--code", code)
    assert enrolled.returncode == 0, enrolled.stderr
    return home


def every_document_opens(home: Path, shas: dict[str, str], out: Path) -> None:
    paths = resolve_paths(home)
    blobs = sync_service.open_blob_store(paths)
    client = BerkasClient.open(paths)
    try:
        with client.store.read() as session:
            stored = set(
                session.exec(
                    select(Dokumen.sha256)
                    .where(col(Dokumen.deleted).is_(False))
                    .where(Dokumen.sha256 != "")
                )
            )
    finally:
        client.close()
    assert stored == set(shas.values())
    for kode, sha in shas.items():
        target = out / f"{kode}.pdf"
        blobs.decrypt_to(sha, target)
        assert hashlib.sha256(target.read_bytes()).hexdigest() == sha
        assert target.read_bytes()[:5] == b"%PDF-"


def device_id_of(home: Path) -> str:
    facts = sync_service.keyring_for(resolve_paths(home)).facts()
    assert facts is not None
    return facts.device_id


def test_restore_waits_for_the_verifikator_then_finishes_by_itself(
    tmp_path: Path, bkd: RunningServer
) -> None:
    shas = opd_with_documents(tmp_path, bkd)
    verifier = verifikator(tmp_path, bkd)
    fresh = tmp_path / "pengganti"
    code = bkd.enrol_code("DISDIK")

    # The new machine restores and waits (up to 5 minutes) for the OPD key.
    waiting = subprocess.Popen(
        [
            *BERKAS,
            "--home",
            str(fresh),
            "restore",
            "--server",
            bkd.url,
            "--code",
            code,
            "--tunggu",
            "5",
            "--interval",
            "0.2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        # Once it says it waits, its request is on the server.
        assert waiting.stdout is not None
        notice = ""
        while "antrean verifikator" not in notice:
            line = waiting.stdout.readline()
            assert line, waiting.communicate()  # ended without waiting
            notice += line
        # The verifikator's queue shows the request, with the OPD and the device name.
        queue = berkas(verifier, "verifikasi", "antrian")
        assert queue.returncode == 0, queue.stderr
        assert "OPD DISDIK (Dinas Pendidikan)" in queue.stdout, queue.stdout
        device_id = device_id_of(fresh)
        [line] = [ln for ln in queue.stdout.splitlines() if ln.startswith("permintaan kunci")]
        assert device_id in line
        assert f"'{_device_name(bkd, device_id)}'" in line
        # The verifikator's own sync (antrian syncs) shared nothing by itself.
        assert waiting.poll() is None

        shared = berkas(verifier, "verifikasi", "bagikan-kunci", device_id)
        assert shared.returncode == 0, shared.stderr
        assert "1 perangkat" in shared.stdout
        out, err = waiting.communicate(timeout=120)
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.wait()
    assert waiting.returncode == 0, err
    assert "Kunci OPD diterima" in out and "Dipulihkan:" in out
    every_document_opens(fresh, shas, tmp_path / "dibuka")
    assert "Tidak ada permintaan kunci" in berkas(verifier, "verifikasi", "permintaan-kunci").stdout


def test_an_interrupted_wait_is_finished_by_a_later_sync(
    tmp_path: Path, bkd: RunningServer
) -> None:
    shas = opd_with_documents(tmp_path, bkd)
    verifier = verifikator(tmp_path, bkd)
    fresh = tmp_path / "pengganti"
    stopped = berkas(
        fresh, "restore", "--server", bkd.url, "--code", bkd.enrol_code("DISDIK"), "--tunggu", "0"
    )
    assert stopped.returncode == 1
    assert "antrean verifikator" in stopped.stderr and "berkas sync" in stopped.stderr
    device_id = device_id_of(fresh)
    listed = berkas(verifier, "verifikasi", "permintaan-kunci")
    assert device_id in listed.stdout and "OPD DISDIK" in listed.stdout

    early = berkas(fresh, "sync")
    assert early.returncode == 0 and "Kunci OPD belum dibagikan" in early.stdout

    # A wrong ID shares nothing and says so; the right one shares.
    wrong = berkas(verifier, "verifikasi", "bagikan-kunci", "0" * len(device_id))
    assert wrong.returncode != 0 and "tidak sedang menunggu" in wrong.stderr
    assert berkas(verifier, "verifikasi", "bagikan-kunci", device_id).returncode == 0

    synced = berkas(fresh, "sync")
    assert synced.returncode == 0, synced.stderr
    assert f"{len(shas)} dokumen diunduh" in synced.stdout
    assert "Kunci OPD belum dibagikan" not in synced.stdout
    every_document_opens(fresh, shas, tmp_path / "dibuka")


def _device_name(bkd: RunningServer, device_id: str) -> str:
    [device] = [d for d in admin.list_devices(bkd.db, "DISDIK") if d.id == device_id]
    return device.name

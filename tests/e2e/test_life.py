"""An usulan's whole life across the real system: an OPD device offline, scans
taken in, sync through a cutting link, a verifikator's BTS and MS, forwarding,
and a total loss of the OPD machine followed by `berkas restore`."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from berkas.demo_scans import write_scan
from client import sync_service, verifikasi
from client.cli_support import save_default_config
from client.config import load_config, save_config
from client.intake_wiring import intake_service
from client.paths import Paths, resolve_paths
from client.sample_data import generate_pegawai, pegawai_csv
from client.services import BerkasClient
from server import admin
from store.rules import Layanan, checklist
from tests.support.keyscan import key_files_holding
from tests.support.netproxy import Proxy, start_proxy
from tests.support.server import TEST_VERIFIER_PASSPHRASE, RunningServer, start_server

TODAY = date(2026, 11, 23)
REQUIRED = [i.kode for i in checklist(Layanan.KP, "reguler") if not i.optional]


@pytest.fixture
def bkd(tmp_path: Path) -> Iterator[RunningServer]:
    server = start_server(tmp_path / "bkd")
    people = [p for p in generate_pegawai(300, today=TODAY) if p.opd_kode == "DISDIK"]
    admin.add_opd(server.db, "DISDIK", "Dinas Pendidikan")
    admin.add_opd(server.db, "BKD", "Badan Kepegawaian Daerah")
    report = admin.import_pegawai(server.db, "DISDIK", pegawai_csv(people).encode())
    assert report.created == len(people) and not report.errors
    yield server
    server.stop()


@pytest.fixture
def link(bkd: RunningServer) -> Iterator[Proxy]:
    # A slow regional link that drops three times during the first upload.
    proxy = start_proxy(
        "127.0.0.1", bkd.port, rate_bps=8_000_000, latency_s=0.01, cut_at=(60_000, 250_000, 600_000)
    )
    yield proxy
    proxy.stop()


def sync_until_ok(paths: Paths, attempts: int = 8) -> None:
    """What the scheduler does: try again after a failed sync."""
    for _ in range(attempts):
        report = sync_service.sync_once(paths, program="uji e2e")
        if report.ok and not report.uploads.errors:
            return
        time.sleep(0.3)
    raise AssertionError(f"sync did not finish: {report.error!r}")


def intake_now(paths: Paths) -> None:
    with intake_service(paths) as intake:
        time.sleep(intake.settings.stable_delay + 0.2)
        summary = intake.run_folder(paths.scans)
    assert summary.quarantined == 0 and summary.failed == 0


def scan_name(nip: str, kode: str) -> str:
    return f"{nip[:8]} {nip[8:14]} {nip[14]} {nip[15:]} {kode.lower().replace('_', '-')}.jpg"


def verifier_home(tmp_path: Path, bkd: RunningServer, monkeypatch: pytest.MonkeyPatch) -> Paths:
    paths = resolve_paths(tmp_path / "verifikator")
    config = load_config(paths.config)
    config.operator = "Rudi"
    save_config(paths.config, config)
    paths.keys.mkdir(parents=True, exist_ok=True)
    shutil.copy(bkd.verifier_key_path, paths.keys / "verifier.key")
    os.chmod(paths.keys / "verifier.key", 0o600)
    monkeypatch.setenv("BERKAS_VERIFIER_PASSPHRASE", TEST_VERIFIER_PASSPHRASE)
    sync_service.enrol(paths, bkd.url, bkd.enrol_code("BKD", "verifikator"))
    return paths


def berkas_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "berkas", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_usulan_whole_life_then_restore_after_total_loss(
    tmp_path: Path, bkd: RunningServer, link: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    opd = resolve_paths(tmp_path / "opd")
    save_default_config(opd, "DISDIK", "Ani")
    config = load_config(opd.config)
    config.intake = config.intake.model_copy(update={"stable_delay": 0.5})
    save_config(opd.config, config)
    sync_service.enrol(opd, link.url, bkd.enrol_code("DISDIK"))
    sync_until_ok(opd)
    client = BerkasClient.open(opd)
    try:
        due = client.dashboard(TODAY).kp_due_without_usulan
        assert due, "the sample data has pegawai due for KP"

        # Offline all day: create the usulan, scan, submit.
        link.offline(True)
        usulan = client.create_usulan(due[0].id, "kp", "reguler", today=TODAY)
        for n, kode in enumerate(REQUIRED):
            write_scan(opd.scans, scan_name(usulan.nip, kode), kode, usulan.nama, n)
        intake_now(opd)
        detail = client.usulan_detail(usulan.id)
        assert detail.complete, detail.missing
        client.ajukan(usulan.id)
        offline = sync_service.sync_once(opd, program="uji e2e")
        assert not offline.ok
        assert client.pending_ops() > 0  # nothing lost while offline

        # The network returns, and drops three times during the upload.
        link.offline(False)
        sync_until_ok(opd)
        assert client.pending_ops() == 0
        assert len(link.cut_log) >= 1, "the link was cut during sync"
        shas = {line.kode: c for line in detail.checklist if (c := _sha(client, line.dokumen_id))}

        # The verifikator returns it (BTS) with a note on the SKP.
        verifier = verifier_home(tmp_path, bkd, monkeypatch)
        assert [u.id for u in verifikasi.antrian(verifier)] == [usulan.id]
        opened = verifikasi.buka(verifier, usulan.id, tmp_path / "dibuka1")
        assert {d.kode: d.sha256 for d in opened} == shas
        for dok in opened:
            assert hashlib.sha256(dok.path.read_bytes()).hexdigest() == dok.sha256
        verifikasi.putuskan(
            verifier, usulan.id, verifikasi.Keputusan.BTS, "Perbaiki SKP", {"SKP": "Buram"}
        )

        # The OPD sees the note, rescans the SKP and submits again.
        sync_until_ok(opd)
        returned = client.usulan_detail(usulan.id)
        assert returned.usulan.status == "dikembalikan"
        skp = next(line for line in returned.checklist if line.kode == "SKP")
        assert (skp.state, skp.catatan_verifikator) == ("dikembalikan", "Buram")
        write_scan(opd.scans, scan_name(usulan.nip, "SKP"), "SKP BARU", usulan.nama, 99)
        intake_now(opd)
        client.ajukan(usulan.id, alasan="SKP diganti")
        sync_until_ok(opd)

        # MS and forwarding to BKN; the OPD sees it with the whole history.
        verifikasi.putuskan(verifier, usulan.id, verifikasi.Keputusan.MS, "Lengkap")
        verifikasi.teruskan(verifier, usulan.id)
        sync_until_ok(opd)
        final = client.usulan_detail(usulan.id)
        assert final.usulan.status == "diteruskan"
        assert [h.ke for h in final.history] == [
            "draft",
            "diajukan",
            "dikembalikan",
            "dikembalikan",  # no move: the note of which SKP scan replaced which
            "diajukan",
            "diverifikasi",
            "diteruskan",
        ]
        assert "Dokumen SKP diganti" in final.history[3].alasan
        assert {h.oleh for h in final.history} == {"Ani", "Rudi"}
        final_shas = {line.kode: _sha(client, line.dokumen_id) for line in final.checklist}
        final_shas = {k: v for k, v in final_shas.items() if v}
        assert final_shas["SKP"] != shas["SKP"]
        assert shas["SKP"][:12] in final.history[3].alasan
        assert final_shas["SKP"][:12] in final.history[3].alasan
        reopened = verifikasi.buka(verifier, usulan.id, tmp_path / "dibuka2")
        assert {d.kode: d.sha256 for d in reopened} == final_shas
    finally:
        client.close()

    # The flood: the OPD machine is lost. A new machine restores everything.
    shutil.rmtree(opd.data)
    fresh = tmp_path / "pengganti"
    code = bkd.enrol_code("DISDIK")
    waiting = berkas_cli(fresh, "restore", "--server", bkd.url, "--code", code, "--tunggu", "0")
    assert waiting.returncode != 0
    assert "verifikator" in waiting.stderr, waiting.stderr
    assert verifikasi.bagikan_kunci(verifier) >= 1
    restored = berkas_cli(fresh, "restore", "--server", bkd.url, "--code", code)
    assert restored.returncode == 0, restored.stderr
    back = BerkasClient.open(resolve_paths(fresh))
    try:
        detail = back.usulan_detail(usulan.id)
        assert detail.usulan.status == "diteruskan"
        assert [h.ke for h in detail.history][-1] == "diteruskan"
        blobs = sync_service.open_blob_store(resolve_paths(fresh))
        for kode, sha in final_shas.items():
            assert blobs.verify(sha), kode
            out = tmp_path / "pulih" / f"{kode}.pdf"
            blobs.decrypt_to(sha, out)
            assert out.read_bytes()[:5] == b"%PDF-"
    finally:
        back.close()


def _sha(client: BerkasClient, dokumen_id: str | None) -> str:
    if dokumen_id is None:
        return ""
    from store.models import Dokumen

    with client.store.read() as session:
        dok = session.get(Dokumen, dokumen_id)
        return dok.sha256 if dok else ""


def _demo_headless(tmp_path: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """`berkas --home HOME demo --headless`, with BERKAS_HOME naming another folder (the
    --home option wins) and a terminal wide enough that no line the test reads wraps."""
    env = {
        **os.environ,
        "BERKAS_VERIFIER_PASSPHRASE": "",
        "BERKAS_HOME": str(tmp_path / "lain"),
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "berkas", "--home", str(home), "demo", "--headless"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
    )


def test_demo_headless_runs_the_whole_system(tmp_path: Path) -> None:
    result = _demo_headless(tmp_path, tmp_path / "demo")
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    # The summary: what the demo home holds, and how to open the verifikator's side in a
    # second terminal, with the demo passphrase.
    assert re.search(r"Pegawai: \d+", out)
    assert "Periode KP berikut: TMT" in out
    assert re.search(r"Dokumen kurang: [1-9]\d* pada", out)
    assert f"berkas --home {tmp_path / 'demo' / 'verifikator'}" in out
    assert "demo-verifikator-berkas" in out
    conn = sqlite3.connect(tmp_path / "demo" / "berkas.db")
    assert conn.execute("SELECT count(*) FROM usulan").fetchone()[0] > 0
    conn.close()
    assert "Perangkat OPD DISDIK terdaftar." in out
    assert "semua sidik jari cocok" in out
    assert "Verifikator mengembalikan usulan (BTS)" in out
    assert "Status akhir di OPD: Diteruskan ke BKN" in out
    assert (
        "Draf → Diajukan → Dikembalikan (BTS) → Diajukan → Memenuhi Syarat (MS) → Diteruskan ke BKN"
        in out
    ), out
    assert "Perubahan menunggu sinkronisasi: 0" in out
    # The server really holds the forwarded usulan and the uploaded ciphertext.
    server_db = tmp_path / "demo" / "bkd-server" / "server.db"
    conn = sqlite3.connect(server_db)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert tables
    blob_files = [p for p in (tmp_path / "demo" / "bkd-server" / "blobs").rglob("*") if p.is_file()]
    assert len(blob_files) >= 7
    # The verifikator made the verifier key pair; the server holds only the public half.
    verifier_public = (tmp_path / "demo" / "verifikator" / "kunci" / "verifier.pub").read_text()
    server_home = tmp_path / "demo" / "bkd-server"
    assert (server_home / "keys" / "verifier.pub").read_text() == verifier_public
    assert key_files_holding(server_home, verifier_public.strip()) == []
    verifier_key = tmp_path / "demo" / "verifikator" / "kunci" / "verifier.key"
    assert key_files_holding(tmp_path / "demo", verifier_public.strip()) == [verifier_key]
    # Run again: the demo folder is recognised and made fresh; a folder that is not a demo
    # folder is never wiped.
    again = _demo_headless(tmp_path, tmp_path / "demo")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "Status akhir di OPD: Diteruskan ke BKN" in again.stdout
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "penting.txt").write_text("jangan hapus")
    refused = _demo_headless(tmp_path, tmp_path / "data")
    assert refused.returncode == 2 and "bukan folder demo" in refused.stderr
    assert (tmp_path / "data" / "penting.txt").read_text() == "jangan hapus"

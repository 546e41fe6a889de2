"""The verifikator's service against the real server: the queue across OPDs without
drafts, the passphrase, a BTS with a per-dokumen note reaching the OPD, MS, teruskan,
selesai, the paket BKN and the rekap."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import stat
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from client import verifikasi
from client.cli import tui_module_for
from client.config import load_config
from client.errors import BerkasError
from client.labels import nip_label
from client.services import BerkasClient
from client.verifikasi_service import VerifikasiService, rekap_csv
from client.verifikasi_views import AntrianFilter
from store.models import Pegawai, Usulan
from tests.support.server import TEST_VERIFIER_PASSPHRASE
from tests.support.verifikasi_world import TODAY, World, sync_until_ok
from tests.tui.support import make_pdf


def test_queue_lists_both_opds_and_never_a_draft(world: World) -> None:
    # `berkas` opens the verifikator's screens on its home, the OPD screens on an OPD's.
    assert tui_module_for(world.verifier) == "tui.verifikasi_app"
    assert tui_module_for(world.opd["DISDIK"]) == "tui.app"
    # After submitting, DINKES corrects its pegawai's TMT pangkat to last year: the rules
    # now call the usulan ineligible, and the BKD's review says so.
    opd = BerkasClient.open(world.opd["DINKES"])
    try:
        with opd.store.write() as session:
            u = session.get(Usulan, world.shared_file_usulan)
            p = session.get(Pegawai, u.pegawai_id) if u is not None else None
            assert p is not None
            p.tmt_pangkat = date(TODAY.year - 1, 4, 1)
            session.add(p)
    finally:
        opd.close()
    sync_until_ok(world.opd["DINKES"])
    service = VerifikasiService.open(world.verifier)
    try:
        with pytest.raises(BerkasError, match="salah"):
            service.unlock("bukan-frasa-sandi")
        assert not service.unlocked
        service.unlock(TEST_VERIFIER_PASSPHRASE)
        service.sync()
        queue = service.antrian(today=TODAY)
        assert {i.id: i.opd for i in queue.items} == world.submitted
        assert world.draft_id not in {i.id for i in service.antrian(AntrianFilter(status="")).items}
        assert queue.opd == ["DINKES", "DISDIK"]
        only = service.antrian(AntrianFilter(opd="DINKES"), today=TODAY).items
        assert [i.opd for i in only] == ["DINKES"]
        nip = world.nip[only[0].id]
        assert [i.id for i in service.antrian(AntrianFilter(cari=nip[:10])).items] == [only[0].id]
        with pytest.raises(BerkasError, match="draft"):
            service.pemeriksaan(world.draft_id)
        # DISDIK filed, confirming it, a scan intake read as another pegawai's: the NIP
        # read travelled with the dokumen, and the review says so at a glance.
        disdik = next(u for u, o in world.submitted.items() if o == "DISDIK")
        review = service.pemeriksaan(disdik, today=TODAY)
        line = next(d for d in review.dokumen if d.kode == "SK_JABATAN")
        assert line.nip_lain and line.nip_lain != world.nip[disdik]
        assert any(
            f"SK jabatan: pindaian memuat NIP {nip_label(line.nip_lain)}" in w
            for w in review.peringatan
        )
        assert all(not d.nip_lain for d in review.dokumen if d.kode != "SK_JABATAN")
        # A conditional (*) line the OPD left unmarked says why it is not there.
        unmarked = {d.alasan_tidak_berlaku for d in review.dokumen if d.state == "tidak_berlaku"}
        assert "bersyarat (*), OPD tidak menandainya berlaku" in unmarked
        # Named as the checklist names them, never by their codes.
        assert "SK jabatan: pindaian terbaca sebagai SK pangkat terakhir." in review.peringatan
        # Rekap: the period is one the usulan name; overdue past the threshold given.
        later = date.today() + timedelta(days=10)
        rekap = service.rekap(today=later, batas_hari=5)
        assert rekap.periode_tersedia == queue.periode and rekap.batas_hari == 5
        late = sorted(n for b in rekap.baris for n in b.terlambat)
        assert late == sorted(world.nip.values())
        assert not any(b.terlambat for b in service.rekap(today=later).baris)  # 14 by default
        # The dokumen opened in memory is exactly what the OPD filed.
        review = service.pemeriksaan(world.shared_file_usulan, today=TODAY)
        # Named as the checklist names them, not by code.
        assert any(
            "Berkas yang sama" in w and "SKP 2 tahun terakhir" in w for w in review.peringatan
        ), review.peringatan
        assert not review.aturan.kp_eligible
        assert any("belum memenuhi syarat KP" in w for w in review.peringatan)
        for line in review.dokumen:
            if line.dokumen_id:
                data = service.dokumen_pdf(line.dokumen_id)
                assert hashlib.sha256(data).hexdigest() == line.sha256
                assert data.startswith(b"%PDF")
    finally:
        service.close()
    # The threshold from the command line, for one run or kept in berkas.toml.
    cli = [sys.executable, "-m", "berkas", "--home", str(world.verifier.data)]
    exported = world.verifier.data / "rekap.csv"
    done = subprocess.run(
        [*cli, "verifikasi", "rekap", "--batas-hari", "9", "--simpan", "--csv", str(exported)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    rows = csv.DictReader(exported.read_text(encoding="utf-8").splitlines())
    assert [r["batas_hari"] for r in rows] == ["9", "9"]
    assert load_config(world.verifier.config).verifikator_batas_hari == 9
    # The CLI's buka refuses a draft too (it opened drafts before).
    with pytest.raises(BerkasError, match="draft"):
        verifikasi.buka(world.verifier, world.draft_id, world.verifier.data / "x")


def test_decisions_reach_the_opd_and_the_paket_matches(world: World, tmp_path: Path) -> None:
    disdik = next(u for u, o in world.submitted.items() if o == "DISDIK")
    dinkes = next(u for u, o in world.submitted.items() if o == "DINKES")
    service = VerifikasiService.open(world.verifier)
    try:
        service.unlock(TEST_VERIFIER_PASSPHRASE)
        service.sync()
        with pytest.raises(BerkasError, match="sedikitnya satu dokumen"):
            service.putuskan(disdik, "bts", "Perbaiki", {})
        with pytest.raises(BerkasError, match="alasan"):
            service.putuskan(dinkes, "tms", " ")
        service.putuskan(disdik, "bts", "", {"SKP": "Buram, pindai ulang"})
        service.putuskan(dinkes, "ms", "Lengkap")
        service.teruskan([dinkes])
        service.selesai(dinkes, "PERTEK-123/2026", date(2026, 12, 1))
    finally:
        service.close()

    sync_until_ok(world.opd["DISDIK"])
    sync_until_ok(world.opd["DINKES"])
    opd = BerkasClient.open(world.opd["DISDIK"])
    try:
        back = opd.usulan_detail(disdik)
        assert back.usulan.status == "dikembalikan"
        skp = next(line for line in back.checklist if line.kode == "SKP")
        assert (skp.state, skp.catatan_verifikator) == ("dikembalikan", "Buram, pindai ulang")
        # The OPD scans SKP again: intake replaces the returned line (a note in the
        # history, not a status move), and the usulan goes back to the BKD.
        scan = opd.paths.scans / f"{world.nip[disdik]}_SKP.pdf"
        make_pdf(scan, ("SASARAN KINERJA PEGAWAI", world.nip[disdik]), pages=1)
        opd._intake().process_file(scan)
        assert any(h.dari == h.ke == "dikembalikan" for h in opd.usulan_detail(disdik).history)
        opd.ajukan(disdik)
    finally:
        opd.close()
    sync_until_ok(world.opd["DISDIK"])
    opd = BerkasClient.open(world.opd["DINKES"])
    try:
        done = opd.usulan_detail(dinkes)
        assert done.usulan.status == "selesai"
        assert [h.ke for h in done.history][-3:] == ["diverifikasi", "diteruskan", "selesai"]
    finally:
        opd.close()

    service = VerifikasiService.open(world.verifier)
    try:
        service.unlock(TEST_VERIFIER_PASSPHRASE)
        service.sync()
        assert service.pemeriksaan(disdik).item.pengajuan_ulang == 1
        service.putuskan(disdik, "ms", "Lengkap")
        paket = service.paket([dinkes], tmp_path / "paket")
        rekap = service.rekap(today=TODAY)
    finally:
        service.close()
    folder = Path(paket.folder)
    assert paket.usulan == 1 and {f.kode for f in paket.files} == set(world.shas[dinkes])
    for f in paket.files:
        path = folder / f.path
        assert path.name == f"{world.nip[dinkes]}_{f.kode}.pdf"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == world.shas[dinkes][f.kode]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert f.bytes == path.stat().st_size
    rows = list(csv.DictReader((folder / "manifest.csv").open(encoding="utf-8")))
    assert {r["sha256"] for r in rows} == set(world.shas[dinkes].values())
    listed = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["berkas"]
    assert {r["kode"] for r in listed} == set(world.shas[dinkes])
    # The same paket from the command line; a wrong passphrase is refused there too.
    env = {**os.environ, "BERKAS_VERIFIER_PASSPHRASE": "bukan-frasa-sandi"}
    cli = [sys.executable, "-m", "berkas", "--home", str(world.verifier.data)]
    target = tmp_path / "paket-cli"
    wrong = subprocess.run(
        [*cli, "verifikasi", "paket", "--ke", str(target)], env=env, capture_output=True, text=True
    )
    assert wrong.returncode == 2 and "salah" in wrong.stderr
    env["BERKAS_VERIFIER_PASSPHRASE"] = TEST_VERIFIER_PASSPHRASE
    done = subprocess.run(
        [*cli, "verifikasi", "paket", dinkes, "--ke", str(target)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "data pribadi" in done.stdout
    cli_rows = list(csv.DictReader((target / "manifest.csv").open(encoding="utf-8")))
    for row in cli_rows:
        data = (target / row["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"] == world.shas[dinkes][row["kode"]]
    assert len(cli_rows) == len(world.shas[dinkes])

    by = {(b.opd, b.layanan): b for b in rekap.baris}
    # One BTS, then one MS: the note of the replaced scan is not a decision.
    assert by[("DISDIK", "kp")].counts == {"diverifikasi": 1}
    assert by[("DISDIK", "kp")].bts_rate == 0.5
    assert by[("DINKES", "kp")].counts == {"selesai": 1}
    assert "DINKES,kp" in rekap_csv(rekap)

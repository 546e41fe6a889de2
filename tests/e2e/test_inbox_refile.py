"""The BKD returns an usulan (BTS) and the OPD scans the corrected dokumen before its
device has pulled the BTS: the scan waits in the Kotak masuk ("belum ada usulan
terbuka"), and the next `berkas sync` files it to the returned line by itself."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from berkas.cli import app as berkas_app
from client import sync_service
from client.cli_support import save_default_config
from client.intake.filing import NO_OPEN_USULAN
from client.intake.results import IntakeStatus
from client.intake_wiring import intake_service
from client.paths import resolve_paths
from client.sample_data import generate_pegawai, pegawai_csv
from client.services import BerkasClient
from client.verifikasi_service import VerifikasiService
from server import admin
from store.models import Dokumen, InboxItem
from store.rules import Layanan, checklist
from tests.support.server import TEST_VERIFIER_PASSPHRASE, RunningServer
from tests.support.verifikasi_world import sync_until_ok, verifier_home
from tests.tui.support import make_pdf

TODAY = date(2026, 11, 23)
REQUIRED = [i.kode for i in checklist(Layanan.KP, "reguler") if not i.optional]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("BERKAS_VERIFIER_PASSPHRASE", raising=False)
    monkeypatch.delenv("BERKAS_HOME", raising=False)
    yield


def test_a_scan_taken_before_the_bts_is_pulled_is_filed_by_the_next_sync(
    server: RunningServer, tmp_path: Path, clean_env: None
) -> None:
    admin.add_opd(server.db, "BKD", "Badan Kepegawaian Daerah")
    admin.add_opd(server.db, "DISDIK", "Dinas Pendidikan")
    people = generate_pegawai(120, today=TODAY, opds=("DISDIK",))
    assert not admin.import_pegawai(server.db, "DISDIK", pegawai_csv(people).encode()).errors
    home = resolve_paths(tmp_path / "disdik")
    save_default_config(home, "DISDIK", "Operator Disdik")
    sync_service.enrol(home, server.url, server.enrol_code("DISDIK"))
    sync_until_ok(home)

    # The OPD submits a complete KP usulan.
    opd = BerkasClient.open(home)
    try:
        due = opd.dashboard(TODAY).kp_due_without_usulan
        usulan = opd.create_usulan(due[0].id, "kp", "reguler", today=TODAY)
        for kode in REQUIRED:
            opd.attach_file(usulan.id, kode, make_pdf(tmp_path / f"{kode}.pdf", (kode,)))
        old_skp = next(x for x in opd.usulan_detail(usulan.id).checklist if x.kode == "SKP")
        opd.ajukan(usulan.id)
    finally:
        opd.close()
    sync_until_ok(home)

    # The verifikator returns it: the SKP is blurred.
    verifier = verifier_home(tmp_path / "verifikator", server)
    service = VerifikasiService.open(verifier)
    try:
        service.unlock(TEST_VERIFIER_PASSPHRASE)
        service.sync()
        service.putuskan(usulan.id, "bts", "", {"SKP": "Buram, pindai ulang"})
    finally:
        service.close()

    # The OPD scans the SKP again at once; its device has not pulled the BTS yet.
    scan = home.scans / f"{usulan.nip}_SKP.pdf"
    scan.parent.mkdir(parents=True, exist_ok=True)
    make_pdf(scan, ("SASARAN KINERJA PEGAWAI", usulan.nip), pages=1)
    with intake_service(home) as intake:
        taken = intake.process_file(scan)
    assert taken.status is IntakeStatus.INBOX, taken.message
    opd = BerkasClient.open(home)
    try:
        (waiting,) = opd.list_inbox()
        assert waiting.id == taken.inbox_id and waiting.reason.startswith(NO_OPEN_USULAN)
    finally:
        opd.close()

    # `berkas sync` pulls the BTS and files the waiting scan to the returned line.
    result = CliRunner().invoke(berkas_app, ["--home", str(home.data), "sync"])
    assert result.exit_code == 0, result.output
    assert "1 pindaian dari Kotak masuk dilampirkan ke usulan" in result.output
    assert "menggantikan dokumen yang dikembalikan BKD" in result.output

    opd = BerkasClient.open(home)
    try:
        assert opd.list_inbox() == []
        with opd.store.read() as session:
            item = session.get(InboxItem, taken.inbox_id)
            assert item is not None and item.state == "diproses"
        detail = opd.usulan_detail(usulan.id)
        assert detail.usulan.status == "dikembalikan"
        skp = next(x for x in detail.checklist if x.kode == "SKP")
        assert skp.dokumen_id != old_skp.dokumen_id
        with opd.store.read() as session:
            new = session.get(Dokumen, skp.dokumen_id)
            assert new is not None and new.sha256 == taken.sha256
        (note,) = [h.alasan for h in detail.history if h.alasan.startswith("Dokumen SKP diganti")]
        assert f"{usulan.nip}_SKP.pdf" in note and taken.sha256[:12] in note
        opd.ajukan(usulan.id)  # the OPD can send it back
    finally:
        opd.close()
    sync_until_ok(home)

    # The BKD sees the resubmission with the new scan on the SKP line.
    service = VerifikasiService.open(verifier)
    try:
        service.unlock(TEST_VERIFIER_PASSPHRASE)
        service.sync()
        assert service.pemeriksaan(usulan.id).item.pengajuan_ulang == 1
        with service.store.read() as session:
            served = session.exec(
                select(Dokumen)
                .where(Dokumen.usulan_id == usulan.id)
                .where(Dokumen.kode == "SKP")
                .where(col(Dokumen.deleted).is_(False))
            ).one()
        assert served.sha256 == taken.sha256
    finally:
        service.close()

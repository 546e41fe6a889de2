"""Issue 15 item 8 and issue 16 item 3, whole system: an OPD device marks two family lines
of a pensiun "tidak berlaku" with reasons and submits without dummy files; the real server
takes the submission and holds the reasons; the verifikator's device shows them (service
and Pemeriksaan screen), and the paket BKN has no file for them but names them in its
manifest."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from rich.text import Text
from textual.widgets import DataTable

from client.services import BerkasClient
from client.verifikasi_service import VerifikasiService
from store.rules import Layanan, checklist
from tests.e2e.helpers_replicas import server_records
from tests.support.server import TEST_VERIFIER_PASSPHRASE
from tests.support.verifikasi_world import TODAY, World, sync_until_ok
from tests.tui.support import make_pdf, settle
from tests.verifikasi.conftest import world
from tui.screens.verifikasi_periksa import PemeriksaanScreen
from tui.verifikasi_app import VerifikasiApp

__all__ = ["world"]

REASONS = {
    "SURAT_NIKAH": "belum pernah menikah",
    "AKTA_ANAK": "tidak mempunyai anak",
}


def test_tidak_berlaku_reason_reaches_the_server_and_the_verifikator(
    world: World, tmp_path: Path
) -> None:
    opd = BerkasClient.open(world.opd["DISDIK"])
    try:
        taken = {u.nip for u in opd.list_usulan()}
        person = next(p for p in opd.search_pegawai("", limit=50) if p.nip not in taken)
        usulan = opd.create_usulan(person.id, "pensiun", "bup", today=TODAY)
        for kode in [i.kode for i in checklist(Layanan.PENSIUN, "bup") if not i.optional]:
            if kode not in REASONS:
                pdf = make_pdf(tmp_path / f"{kode}.pdf", (f"{kode} {person.nip}",), pages=1)
                opd.attach_file(usulan.id, kode, pdf)
        assert set(opd.usulan_detail(usulan.id).missing) == set(REASONS)
        for kode, alasan in REASONS.items():
            opd.tandai_tidak_berlaku(usulan.id, kode, alasan)
        assert opd.usulan_detail(usulan.id).missing == []
        opd.ajukan(usulan.id)
    finally:
        opd.close()
    sync_until_ok(world.opd["DISDIK"])

    held = server_records(world.bkd.db, "DISDIK")[("usulan", usulan.id)]
    assert held.data["status"] == "diajukan"  # the server checked the checklist with the marks
    assert held.data["tidak_berlaku"] == REASONS
    history = [
        r.data["alasan"]
        for (table, _), r in server_records(world.bkd.db, "DISDIK").items()
        if table == "usulan_history" and r.data["usulan_id"] == usulan.id
    ]
    assert any(h.endswith("ditandai tidak berlaku: belum pernah menikah") for h in history)

    service = VerifikasiService.open(world.verifier)
    try:
        service.unlock(TEST_VERIFIER_PASSPHRASE)
        service.sync()
        review = service.pemeriksaan(usulan.id, today=TODAY)
        lines = {d.kode: d for d in review.dokumen}
        for kode, alasan in REASONS.items():
            assert (lines[kode].state, lines[kode].alasan_tidak_berlaku) == (
                "tidak_berlaku",
                alasan,
            )
        assert not any("belum ada" in w for w in review.peringatan)
        service.putuskan(usulan.id, "ms", "Lengkap")
        service.teruskan([usulan.id])
        paket = service.paket([usulan.id], tmp_path / "paket")
        # The Pemeriksaan screen (the App locks the service when it closes: last).
        shown = asyncio.run(_pemeriksaan_cells(service, usulan.id))
        assert shown["SURAT_NIKAH"] == "Tidak berlaku: belum pernah menikah"
        assert shown["AKTA_ANAK"] == "Tidak berlaku: tidak mempunyai anak"
    finally:
        service.close()
    assert not {f.kode for f in paket.files} & set(REASONS)
    manifest = json.loads((Path(paket.folder) / "manifest.json").read_text(encoding="utf-8"))
    assert {(t["kode"], t["alasan"]) for t in manifest["tidak_berlaku"]} == set(REASONS.items())
    # `berkas verifikasi paket` says which lines have no file, and why.
    env = {**os.environ, "BERKAS_VERIFIER_PASSPHRASE": TEST_VERIFIER_PASSPHRASE}
    cli = [sys.executable, "-m", "berkas", "--home", str(world.verifier.data), "verifikasi"]
    done = subprocess.run(
        [*cli, "paket", usulan.id, "--ke", str(tmp_path / "paket-cli")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"{usulan.nip} SURAT_NIKAH tidak berlaku (belum pernah menikah)" in done.stdout


async def _pemeriksaan_cells(service: VerifikasiService, usulan_id: str) -> dict[str, str]:
    """The Penilaian column of each checklist line, as the Pemeriksaan screen draws it."""
    app = VerifikasiApp(service, today=TODAY, viewer_mode="halfcell", sync_on_unlock=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = PemeriksaanScreen(usulan_id)
        app.push_screen(screen)
        await settle(pilot, rounds=4)
        table = screen.query_one("#checklist", DataTable)
        cells = {}
        for row in table.ordered_rows:
            last = table.get_row(row.key)[-1]
            cells[str(row.key.value)] = last.plain if isinstance(last, Text) else str(last)
    assert app.failures == []
    return cells

"""The verifikator's TUI driven as a person would, against the real server: the
passphrase (a wrong one refused), the queue of two OPDs without drafts, a review with a
dokumen shown in the viewer, a BTS with a per-dokumen note that reaches the OPD device,
and the idle lock."""

from __future__ import annotations

import asyncio
import stat

from textual.widgets import DataTable, Input, Select, Static

from client.config import load_config
from client.labels import nip_label
from client.services import BerkasClient
from client.verifikasi_service import VerifikasiService
from tests.support.server import TEST_VERIFIER_PASSPHRASE
from tests.support.verifikasi_world import TODAY, World, sync_until_ok
from tests.tui.support import settle
from tui.screens.verifikasi_antrian import AntrianScreen
from tui.screens.verifikasi_base import CatatanDialog, KunciDialog
from tui.screens.verifikasi_periksa import PemeriksaanScreen
from tui.screens.verifikasi_rekap import RekapScreen
from tui.verifikasi_app import VerifikasiApp
from tui.widgets.viewer import DokumenViewer


async def _type(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    for ch in text:
        await pilot.press(ch if ch != " " else "space")


def test_bts_from_the_tui_reaches_the_opd(world: World) -> None:
    asyncio.run(_bts_flow(world))


async def _bts_flow(world: World) -> None:
    disdik = next(u for u, o in world.submitted.items() if o == "DISDIK")
    service = VerifikasiService.open(world.verifier)
    app = VerifikasiApp(service, today=TODAY, viewer_mode="halfcell")
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, KunciDialog)
            await _type(pilot, "salah-sekali")
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, KunciDialog)
            assert "salah" in str(app.screen.query_one("#galat", Static).render())
            assert app.screen.query_one("#frasa", Input).value == ""  # not kept
            assert not service.unlocked

            await _type(pilot, TEST_VERIFIER_PASSPHRASE)
            await pilot.press("enter")
            await settle(pilot, rounds=5)
            screen = app.screen
            assert isinstance(screen, AntrianScreen)
            assert screen.antrian is not None
            assert {i.id: i.opd for i in screen.antrian.items} == world.submitted
            assert world.draft_id not in {i.id for i in screen.antrian.items}

            table = screen.query_one("#antrian", DataTable)
            table.move_cursor(row=[i.id for i in screen.antrian.items].index(disdik))
            await pilot.press("enter")
            await settle(pilot)
            review = app.screen
            assert isinstance(review, PemeriksaanScreen) and review.review is not None
            # A submitted usulan offers the decisions, not what comes after MS.
            assert review.check_action("ms", ()) and review.check_action("bts", ())
            assert not review.check_action("teruskan", ())
            assert not review.check_action("selesai", ())
            info = str(review.query_one("#info", Static).render())
            assert f"NIP {nip_label(world.nip[disdik])}" in info  # spaced as on an SK
            # The scan read as another pegawai's is flagged above and in its row.
            warned = str(review.query_one("#peringatan", Static).render())
            assert "SK jabatan: pindaian memuat NIP" in warned
            kodes = [d.kode for d in review.review.dokumen]
            checklist = review.query_one("#checklist", DataTable)
            row = checklist.get_row_at(kodes.index("SK_JABATAN"))
            assert any("NIP lain" in str(cell) for cell in row)  # its Keadaan
            checklist.move_cursor(row=kodes.index("SKP"))
            await pilot.press("enter")
            await settle(pilot, rounds=5)
            viewer = review.query_one(DokumenViewer)
            assert viewer.shown_page == 0  # the scan is drawn in the terminal
            assert viewer._title == "SKP 2 tahun terakhir"  # its name, not "SKP"
            await pilot.press("b")  # BTS without a dokumen note: refused
            await settle(pilot)
            assert not isinstance(app.screen, CatatanDialog)
            await pilot.press("e")
            await settle(pilot)
            assert isinstance(app.screen, CatatanDialog)
            await _type(pilot, "Buram")
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("b")
            await settle(pilot)
            assert isinstance(app.screen, CatatanDialog)
            await pilot.press("enter")  # the general note may stay empty
            await settle(pilot, rounds=5)
            assert review.review is not None
            assert review.review.item.status == "dikembalikan"

            # Back in the queue, "Semua status" shows the returned usulan too.
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, AntrianScreen)
            assert disdik not in {i.id for i in app.screen.antrian.items}  # diajukan only
            app.screen.query_one("#f-status", Select).value = Select.NULL
            await settle(pilot)
            assert {i.id for i in app.screen.antrian.items} == set(world.submitted)

            # Rekap: its own period picker, and the overdue threshold kept in berkas.toml.
            await pilot.press("r")
            await settle(pilot)
            rekap = app.screen
            assert isinstance(rekap, RekapScreen) and rekap.rekap is not None
            assert rekap.rekap.periode is None and rekap.rekap.batas_hari == 14
            periode = rekap.rekap.periode_tersedia[0]
            rekap.query_one("#periode-rekap", Select).value = periode.isoformat()
            await settle(pilot)
            assert rekap.rekap.periode == periode
            assert sum(b.total for b in rekap.rekap.baris) == len(world.submitted)
            rekap.query_one("#periode-rekap", Select).value = Select.NULL  # "Semua periode"
            await settle(pilot)
            assert rekap.rekap.periode is None
            await pilot.press("h")
            await settle(pilot)
            assert isinstance(app.screen, CatatanDialog)
            await pilot.press("ctrl+u")
            await _type(pilot, "21")
            await pilot.press("enter")
            await settle(pilot)
            assert load_config(world.verifier.config).verifikator_batas_hari == 21
            assert rekap.rekap.batas_hari == 21
            assert "lebih dari 21 hari" in str(rekap.query_one("#batas", Static).render())
    finally:
        service.close()
    assert app.failures == []

    sync_until_ok(world.opd["DISDIK"])
    opd = BerkasClient.open(world.opd["DISDIK"])
    try:
        back = opd.usulan_detail(disdik)
        assert back.usulan.status == "dikembalikan"
        skp = next(line for line in back.checklist if line.kode == "SKP")
        assert (skp.state, skp.catatan_verifikator) == ("dikembalikan", "Buram")
    finally:
        opd.close()


def test_idle_lock_and_private_copy(world: World) -> None:
    asyncio.run(_idle_flow(world))


async def _idle_flow(world: World) -> None:
    now = [1000.0]
    service = VerifikasiService.open(world.verifier)
    app = VerifikasiApp(
        service,
        today=TODAY,
        idle_seconds=60,
        clock=lambda: now[0],
        sync_on_unlock=True,
    )
    usulan = next(iter(world.submitted))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await _type(pilot, TEST_VERIFIER_PASSPHRASE)
            await pilot.press("enter")
            await settle(pilot, rounds=5)
            assert service.unlocked
            review = PemeriksaanScreen(usulan)
            app.push_screen(review)
            await settle(pilot)
            assert review.review is not None
            first = next(i for i, d in enumerate(review.review.dokumen) if d.dokumen_id)
            review.query_one("#checklist", DataTable).move_cursor(row=first)
            await pilot.press("enter")
            await settle(pilot, rounds=5)
            viewer = app.screen.query_one(DokumenViewer)
            assert viewer.shown_page == 0
            viewer.action_penampil()
            folder = app.copies.folder
            assert folder is not None
            copies = list(folder.iterdir())
            assert len(copies) == 1 and copies[0].read_bytes().startswith(b"%PDF")
            assert stat.S_IMODE(copies[0].stat().st_mode) == 0o600
            now[0] += 59
            app.lock_if_idle()
            assert service.unlocked
            now[0] += 2
            app.lock_if_idle()
            await settle(pilot)
            assert not service.unlocked
            assert service.keyring.verifier_passphrase is None
            assert isinstance(app.screen, KunciDialog)
        assert not folder.exists()  # removed when the app closed
    finally:
        service.close()

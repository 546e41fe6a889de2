"""Persiapan awal against the real server on loopback: a new home walks enrolment (a
wrong code first), the pegawai CSV (progress, the rows refused, the good rows stored and
synced as the enrolled device) and the scan folder, then lands on the Beranda; a flow
left after enrolling resumes at the import; skipped steps come back from the Beranda; a
home set up before, and a verifikator's, never see it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input, ProgressBar, Static

from client import sync_service
from client.config import load_config
from client.paths import Paths, resolve_paths
from client.sample_data import generate_pegawai, pegawai_csv
from client.services import BerkasClient
from client.sinkronisasi import enrolment
from server import admin
from server.models import Record
from store.models import Pegawai
from tests.support.server import RunningServer, start_server
from tests.tui.support import TODAY, settle
from tui.app import BerkasApp
from tui.screens.beranda import BerandaScreen
from tui.screens.persiapan import PersiapanScreen

GOOD_ROWS = 40


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(tmp_path / "server")
    running.add_opd("DISDIK", "Dinas Pendidikan dan Kebudayaan")
    yield running
    running.stop()


def pegawai_file(folder: Path) -> Path:
    """GOOD_ROWS sample pegawai with three bad rows among them (lines 4, 8 and 11)."""
    people = generate_pegawai(GOOD_ROWS, today=TODAY, opds=("DISDIK",))
    lines = pegawai_csv(people).splitlines()
    lines.insert(3, "1234,NIP Pendek,III/a,2020-01-01,s1,pelaksana,,,")
    lines.insert(7, "196804111993031009,Golongan Salah,V/z,2020-01-01,s1,pelaksana,,,")
    lines.insert(10, lines[2])  # the pegawai of line 3 again
    path = folder / "pegawai.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def type_into(pilot: Pilot[None], selector: str, text: str) -> None:
    field = pilot.app.screen.query_one(selector, Input)
    field.value = text
    await pilot.pause()


async def press(pilot: Pilot[None], selector: str) -> None:
    pilot.app.screen.query_one(selector, Button).press()
    await settle(pilot)


def shown(pilot: Pilot[None], selector: str) -> str:
    return str(pilot.app.screen.query_one(selector, Static).render())


async def until_setup(pilot: Pilot[None]) -> PersiapanScreen:
    for _ in range(50):
        await settle(pilot)
        if isinstance(pilot.app.screen, PersiapanScreen):
            return pilot.app.screen
    raise AssertionError(f"no persiapan awal, but {pilot.app.screen!r}")


async def enrol_through_the_screen(pilot: Pilot[None], server: RunningServer, code: str) -> None:
    await type_into(pilot, "#server", server.url)
    await type_into(pilot, "#kode", code)
    await type_into(pilot, "#operator", "Ani Pengelola")
    await type_into(pilot, "#perangkat", "PC Kepegawaian")
    await press(pilot, "#daftar")


def test_a_new_home_enrols_imports_and_chooses_its_scan_folder(
    tmp_path: Path, server: RunningServer
) -> None:
    home = resolve_paths(tmp_path / "opd")
    csv = pegawai_file(tmp_path)
    scans = tmp_path / "Pindaian Kepegawaian"

    async def main() -> None:
        app = BerkasApp(paths=home, today=TODAY, background_intake=True)
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await until_setup(pilot)
            assert screen.query_one("#isi").current == "pendaftaran"  # type: ignore[attr-defined]

            # A wrong code: refused in Bahasa, nothing enrolled, what was typed kept.
            await enrol_through_the_screen(pilot, server, "SALA-HKOD-EXXX-XXXX")
            assert "Kode pendaftaran tidak dikenal" in shown(pilot, "#pesan-pendaftaran")
            assert enrolment(home) is None
            assert screen.query_one("#operator", Input).value == "Ani Pengelola"

            await type_into(pilot, "#kode", server.enrol_code("DISDIK"))
            await press(pilot, "#daftar")
            facts = enrolment(home)
            assert facts is not None and facts.role == "opd" and facts.opd_kode == "DISDIK"
            devices = admin.list_devices(server.db, "DISDIK")
            assert [(d.id, d.name) for d in devices] == [(facts.device_id, "PC Kepegawaian")]
            assert load_config(home.config).operator == "Ani Pengelola"
            assert screen.query_one("#isi").current == "impor"  # type: ignore[attr-defined]

            # The CSV: a progress bar to the end, the good rows stored, the bad ones listed.
            await type_into(pilot, "#csv", str(csv))
            await press(pilot, "#impor-csv")
            bar = screen.query_one("#kemajuan", ProgressBar)
            assert bar.total is not None and bar.progress == bar.total
            assert app.client.count_pegawai() == GOOD_ROWS
            table = screen.query_one("#baris-salah", DataTable)
            refused = {
                int(table.get_cell_at((row, 0))): str(table.get_cell_at((row, 1)))
                for row in range(table.row_count)
            }
            assert sorted(refused) == [4, 8, 11]
            assert "18 digit" in refused[4] and "V/z" in refused[8]
            assert "sudah ada di baris 3" in refused[11]
            assert f"{GOOD_ROWS} baru" in shown(pilot, "#hasil-impor")
            await press(pilot, "#lanjut-impor")
            assert screen.query_one("#isi").current == "pindai"  # type: ignore[attr-defined]

            # The scan folder: made, kept in berkas.toml; then the Beranda.
            await type_into(pilot, "#folder", str(scans))
            await press(pilot, "#simpan-folder")
            await settle(pilot)
            assert isinstance(app.screen, BerandaScreen)
            assert "p" not in app.screen.active_bindings  # nothing left to offer
            # The scan watcher started over on the chosen folder.
            for _ in range(100):
                state = app.watch_state
                if state is not None and state.watching and state.folders == (scans.resolve(),):
                    break
                await pilot.pause(0.1)
            assert app.watch_state is not None and app.watch_state.folders == (scans.resolve(),)
        app.client.close()

    asyncio.run(main())
    assert scans.is_dir()
    config = load_config(home.config)
    assert config.intake.scan_folders == [scans.resolve()]
    assert config.persiapan is not None
    assert (config.persiapan.pendaftaran, config.persiapan.impor, config.persiapan.pindai) == (
        "selesai",
        "selesai",
        "selesai",
    )
    # The imported rows were written as the enrolled device of DISDIK: they sync there.
    client = BerkasClient.open(home)
    try:
        with client.store.read() as session:
            owners = {p.opd_id for p in session.exec(select(Pegawai)).scalars()}
        assert owners == {"DISDIK"}
    finally:
        client.close()
    report = sync_service.sync_once(home)
    assert report.error is None
    with server.db.read() as session:
        held = session.execute(
            select(func.count()).select_from(Record).where(Record.table_name == "pegawai")
        ).scalar_one()
    assert held == GOOD_ROWS


def test_quitting_after_enrolment_resumes_at_the_import_and_skipped_steps_come_back(
    tmp_path: Path, server: RunningServer
) -> None:
    home = resolve_paths(tmp_path / "opd")

    async def first_start() -> None:
        app = BerkasApp(paths=home, today=TODAY)
        async with app.run_test(size=(120, 36)) as pilot:
            await until_setup(pilot)
            await enrol_through_the_screen(pilot, server, server.enrol_code("DISDIK"))
            assert enrolment(home) is not None
        app.client.close()  # quit before importing

    async def second_start() -> None:
        app = BerkasApp(paths=home, today=TODAY)
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await until_setup(pilot)
            assert screen.query_one("#isi").current == "impor"  # type: ignore[attr-defined]
            assert "✓ 1 Daftar ke BKD" in shown(pilot, "#langkah")
            await press(pilot, "#lewati-impor")
            await press(pilot, "#lewati-pindai")
            await settle(pilot)
            beranda = app.screen
            assert isinstance(beranda, BerandaScreen)
            assert "p" in beranda.active_bindings  # "Persiapan awal", offered again
        app.client.close()

    async def third_start() -> None:
        app = BerkasApp(paths=home, today=TODAY)
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await settle(pilot)
            assert isinstance(app.screen, BerandaScreen)  # skipped: not forced on anyone
            await pilot.press("p")
            screen = await until_setup(pilot)
            assert screen.query_one("#isi").current == "impor"  # type: ignore[attr-defined]
        app.client.close()

    asyncio.run(first_start())
    asyncio.run(second_start())
    config = load_config(home.config)
    assert config.persiapan is not None
    assert (config.persiapan.impor, config.persiapan.pindai) == ("dilewati", "dilewati")
    asyncio.run(third_start())


def test_a_home_set_up_before_or_a_verifikators_never_sees_it(
    tmp_path: Path, server: RunningServer, home: Paths
) -> None:
    from client.cli import tui_module_for

    client = BerkasClient.open(home)  # the TUI tests' home: pegawai, no enrolment
    try:
        assert client.begin_setup() is None
        assert load_config(home.config).persiapan is None
    finally:
        client.close()
    verifier = resolve_paths(tmp_path / "verifikator")
    sync_service.enrol(verifier, server.url, server.enrol_code("BKD", "verifikator"))
    assert tui_module_for(verifier) == "tui.verifikasi_app"
    client = BerkasClient.open(verifier)
    try:
        assert client.begin_setup() is None
    finally:
        client.close()

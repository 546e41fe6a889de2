"""How each screen looks, at 120x36 and at 80x24, against a real store (fixed date
and times). Update after a deliberate change with `pytest --snapshot-update`, then
look at the SVGs in __snapshots__."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input

from client.paths import Paths, resolve_paths
from client.sample_data import generate_pegawai, pegawai_csv
from store.usulan import history_of
from tests.tui.support import TODAY, Facts, open_client, settle
from tui.app import BerkasApp
from tui.screens.persiapan import PersiapanScreen

SIZES = [pytest.param((120, 36), id="120x36"), pytest.param((80, 24), id="80x24")]
Steps = Callable[[Pilot[None], Facts], Awaitable[None]]


def shoot(
    snap_compare: Callable[..., bool],
    home: Paths,
    facts: Facts,
    size: tuple[int, int],
    steps: Steps,
) -> bool:
    client = open_client(home)

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await steps(pilot, facts)
        await settle(pilot)
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False  # a blinking cursor would make the shot flaky

    try:
        return snap_compare(
            BerkasApp(client, today=TODAY), terminal_size=size, run_before=run_before
        )
    finally:
        client.close()


async def keys(pilot: Pilot[None], *pressed: str) -> None:
    for key in pressed:
        await pilot.press(key)
        await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
class TestBeranda:
    """The Beranda: figures, what is due, returned usulan."""

    def test_beranda(self, snap_compare, home: Paths, facts: Facts, size: tuple[int, int]) -> None:
        async def steps(pilot: Pilot[None], facts: Facts) -> None:
            pass

        assert shoot(snap_compare, home, facts, size, steps)


@pytest.mark.parametrize("size", SIZES)
class TestPegawai:
    """The Pegawai screen: search and one pegawai's detail."""

    def test_pegawai_search(
        self, snap_compare, home: Paths, facts: Facts, size: tuple[int, int]
    ) -> None:
        async def steps(pilot: Pilot[None], facts: Facts) -> None:
            await keys(pilot, "f3")
            pilot.app.screen.query_one("#cari", Input).value = facts.search_name.lower()

        assert shoot(snap_compare, home, facts, size, steps)

    def test_pegawai_detail(
        self, snap_compare, home: Paths, facts: Facts, size: tuple[int, int]
    ) -> None:
        async def steps(pilot: Pilot[None], facts: Facts) -> None:
            await keys(pilot, "f3")
            pilot.app.screen.query_one("#cari", Input).value = facts.kp_pegawai_nip
            await settle(pilot)
            await keys(pilot, "enter")

        assert shoot(snap_compare, home, facts, size, steps)


@pytest.mark.parametrize("size", SIZES)
class TestUsulan:
    """Usulan: the list, the editor of a returned one, the new-usulan dialog."""

    def test_usulan_list(
        self, snap_compare, home: Paths, facts: Facts, size: tuple[int, int]
    ) -> None:
        async def steps(pilot: Pilot[None], facts: Facts) -> None:
            await keys(pilot, "f4")

        assert shoot(snap_compare, home, facts, size, steps)

    def test_usulan_editor_returned(
        self, snap_compare, home: Paths, facts: Facts, size: tuple[int, int]
    ) -> None:
        """BTS: notes of the verifikator, a dokumen too large, one returned, the history."""

        async def steps(pilot: Pilot[None], facts: Facts) -> None:
            assert isinstance(pilot.app, BerkasApp)
            pilot.app.open_usulan(facts.bts_usulan_id)

        assert shoot(snap_compare, home, facts, size, steps)

    def test_usulan_editor_tidak_berlaku(
        self, snap_compare, home: Paths, facts: Facts, size: tuple[int, int]
    ) -> None:
        """A pensiun's surat nikah marked "tidak berlaku" with its reason (issue 15 item 8)."""

        async def steps(pilot: Pilot[None], facts: Facts) -> None:
            assert isinstance(pilot.app, BerkasApp)
            client = pilot.app.client
            client.tandai_tidak_berlaku(facts.bts_usulan_id, "SURAT_NIKAH", "belum pernah menikah")
            with client.store.apply_remote() as session:  # type: ignore[attr-defined]
                for h in history_of(session, facts.bts_usulan_id):
                    if "tidak berlaku" in h.alasan:
                        h.waktu = "2026-01-05T03:00:00+00:00"  # a fixed time for the shot
                        session.add(h)
            pilot.app.open_usulan(facts.bts_usulan_id)
            await settle(pilot)
            table = pilot.app.screen.query_one("#daftar-periksa", DataTable)
            table.move_cursor(row=table.get_row_index("SURAT_NIKAH"))

        assert shoot(snap_compare, home, facts, size, steps)

    def test_usulan_baru(
        self, snap_compare, home: Paths, facts: Facts, size: tuple[int, int]
    ) -> None:
        async def steps(pilot: Pilot[None], facts: Facts) -> None:
            await keys(pilot, "f4", "n")
            pilot.app.screen.query_one("#cari", Input).value = facts.search_name
            await settle(pilot)
            await keys(pilot, "down", "enter")

        assert shoot(snap_compare, home, facts, size, steps)


@pytest.mark.parametrize("size", SIZES)
class TestKotakMasuk:
    """The Kotak masuk with a scan's preview."""

    def test_kotak_masuk(
        self, snap_compare, home: Paths, facts: Facts, size: tuple[int, int]
    ) -> None:
        async def steps(pilot: Pilot[None], facts: Facts) -> None:
            await keys(pilot, "f5")

        assert shoot(snap_compare, home, facts, size, steps)


@pytest.mark.parametrize("size", SIZES)
class TestKotakMasukSaran:
    """A scan intake recognised: its suggestion in the preview, accepted with s."""

    def test_kotak_masuk_saran(
        self, snap_compare, home: Paths, facts: Facts, size: tuple[int, int]
    ) -> None:
        async def steps(pilot: Pilot[None], facts: Facts) -> None:
            await keys(pilot, "f5", "down")

        assert shoot(snap_compare, home, facts, size, steps)


@pytest.mark.parametrize("size", SIZES)
class TestSinkronisasi:
    """The Sinkronisasi screen over the local store."""

    def test_sinkronisasi(
        self, snap_compare, home: Paths, facts: Facts, size: tuple[int, int]
    ) -> None:
        async def steps(pilot: Pilot[None], facts: Facts) -> None:
            await keys(pilot, "f6")

        assert shoot(snap_compare, home, facts, size, steps)


@pytest.mark.parametrize("size", SIZES)
class TestKonflik:
    """The Konflik screen, both sides of a field."""

    def test_konflik(self, snap_compare, home: Paths, facts: Facts, size: tuple[int, int]) -> None:
        """Golongan taken from the server; jabatan not decided yet."""

        async def steps(pilot: Pilot[None], facts: Facts) -> None:
            await keys(pilot, "f7", "t")

        assert shoot(snap_compare, home, facts, size, steps)


@pytest.mark.parametrize("size", SIZES)
class TestBantuan:
    """The help screen (F1)."""

    def test_bantuan(self, snap_compare, home: Paths, facts: Facts, size: tuple[int, int]) -> None:
        async def steps(pilot: Pilot[None], facts: Facts) -> None:
            await keys(pilot, "f1")

        assert shoot(snap_compare, home, facts, size, steps)


@pytest.mark.parametrize("size", SIZES)
class TestPersiapan:
    """Persiapan awal on a new home: the enrolment form, the import with the rows
    refused, the scan folder."""

    @pytest.fixture(autouse=True)
    def _host(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # The device name offered is the computer's: one name on every machine.
        monkeypatch.setattr("client.persiapan.platform.node", lambda: "PC-KEPEGAWAIAN")

    def shoot_new_home(
        self,
        snap_compare: Callable[..., bool],
        tmp_path: Path,
        size: tuple[int, int],
        steps: Callable[[Pilot[None]], Awaitable[None]],
    ) -> bool:
        home = resolve_paths(tmp_path / "baru")
        client = open_client(home)

        async def run_before(pilot: Pilot[None]) -> None:
            for _ in range(20):
                await settle(pilot)
                if isinstance(pilot.app.screen, PersiapanScreen):
                    break
            await steps(pilot)
            await settle(pilot)
            for field in pilot.app.screen.query(Input):
                field.cursor_blink = False

        try:
            return snap_compare(
                BerkasApp(client, today=TODAY), terminal_size=size, run_before=run_before
            )
        finally:
            client.close()

    def test_pendaftaran(self, snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
        async def steps(pilot: Pilot[None]) -> None:
            screen = pilot.app.screen
            screen.query_one("#server", Input).value = "https://berkas.bkd.example.go.id"
            screen.query_one("#operator", Input).value = "Ani"
            screen.query_one("#kode", Input).focus()

        assert self.shoot_new_home(snap_compare, tmp_path, size, steps)

    def test_impor_with_rows_refused(
        self, snap_compare, tmp_path: Path, size: tuple[int, int]
    ) -> None:
        people = generate_pegawai(12, today=TODAY, opds=("DISDIK",))
        lines = pegawai_csv(people).splitlines()
        lines.insert(3, "1234,NIP Pendek,III/a,2020-01-01,s1,pelaksana,,,")
        lines.insert(7, "196804111993031009,Golongan Salah,V/z,2020-01-01,s1,pelaksana,,,")
        csv = tmp_path / "pegawai.csv"
        csv.write_text("\n".join(lines) + "\n", encoding="utf-8")

        async def steps(pilot: Pilot[None]) -> None:
            pilot.app.screen.query_one("#lewati-pendaftaran", Button).press()
            await settle(pilot)
            pilot.app.screen.query_one("#csv", Input).value = str(csv)
            pilot.app.screen.query_one("#impor-csv", Button).press()
            await settle(pilot)
            pilot.app.screen.query_one("#csv", Input).value = "/home/ani/pegawai.csv"

        assert self.shoot_new_home(snap_compare, tmp_path, size, steps)

    def test_folder_pindai(self, snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
        async def steps(pilot: Pilot[None]) -> None:
            for step in ("#lewati-pendaftaran", "#lewati-impor"):
                pilot.app.screen.query_one(step, Button).press()
                await settle(pilot)
            pilot.app.screen.query_one("#folder", Input).value = "/home/ani/Pindaian"

        assert self.shoot_new_home(snap_compare, tmp_path, size, steps)

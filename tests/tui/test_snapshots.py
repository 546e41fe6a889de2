"""How each screen looks, at 120x36 and at 80x24, against a real store (fixed date
and times). Update after a deliberate change with `pytest --snapshot-update`, then
look at the SVGs in __snapshots__."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from client.paths import Paths
from tests.tui.support import TODAY, Facts, open_client, settle
from tui.app import BerkasApp

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

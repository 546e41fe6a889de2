"""How each verifikator screen looks, at 120x36 and 80x24, over a fixed port (the viewer
in half-block mode). Update after a deliberate change with `pytest --snapshot-update`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.tui.support import settle
from tests.verifikasi.fake_port import PASSPHRASE, FakeVerifikasi
from tui.verifikasi_app import VerifikasiApp

SIZES = [pytest.param((120, 36), id="120x36"), pytest.param((80, 24), id="80x24")]
Steps = Callable[[Pilot[None]], Awaitable[None]]


async def keys(pilot: Pilot[None], *pressed: str) -> None:
    for key in pressed:
        await pilot.press(key)
        await settle(pilot)


async def unlock(pilot: Pilot[None]) -> None:
    await settle(pilot)
    for ch in PASSPHRASE:
        await pilot.press(ch)
    await keys(pilot, "enter")
    await settle(pilot, rounds=4)


def shoot(
    snap_compare: Callable[..., bool], root: Path, size: tuple[int, int], steps: Steps
) -> bool:
    port = FakeVerifikasi(root)

    async def run_before(pilot: Pilot[None]) -> None:
        await steps(pilot)
        await settle(pilot, rounds=4)
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False

    app = VerifikasiApp(port, viewer_mode="halfcell", sync_on_unlock=False)
    return snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
class TestKunci:
    def test_kunci(self, snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
        async def steps(pilot: Pilot[None]) -> None:
            await settle(pilot)
            for ch in "salah":
                await pilot.press(ch)
            await keys(pilot, "enter")

        assert shoot(snap_compare, tmp_path, size, steps)


@pytest.mark.parametrize("size", SIZES)
class TestAntrian:
    def test_antrian(self, snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
        assert shoot(snap_compare, tmp_path, size, unlock)


@pytest.mark.parametrize("size", SIZES)
class TestPemeriksaan:
    def test_pemeriksaan_with_viewer(
        self, snap_compare, tmp_path: Path, size: tuple[int, int]
    ) -> None:
        async def steps(pilot: Pilot[None]) -> None:
            await unlock(pilot)
            await keys(pilot, "enter")  # the oldest usulan
            await keys(pilot, "down", "enter")  # its SKP in the viewer
            await settle(pilot, rounds=4)

        assert shoot(snap_compare, tmp_path, size, steps)

    def test_pemeriksaan_tidak_berlaku(
        self, snap_compare, tmp_path: Path, size: tuple[int, int]
    ) -> None:
        """A line the OPD marked "tidak berlaku": its reason under the checklist and in
        the viewer's place."""

        async def steps(pilot: Pilot[None]) -> None:
            await unlock(pilot)
            await keys(pilot, "enter")
            await keys(pilot, "down", "down", "down", "enter")  # STLUD
            await settle(pilot, rounds=4)

        assert shoot(snap_compare, tmp_path, size, steps)


@pytest.mark.parametrize("size", SIZES)
class TestRekap:
    def test_rekap(self, snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
        async def steps(pilot: Pilot[None]) -> None:
            await unlock(pilot)
            await keys(pilot, "r")

        assert shoot(snap_compare, tmp_path, size, steps)

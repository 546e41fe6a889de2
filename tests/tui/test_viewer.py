"""The document viewer on the OPD side: the Kotak masuk shows the scan itself and the
usulan editor the attached dokumen, drawn in the terminal (half-blocks), with pages."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from client.services import BerkasClient
from tests.tui.support import TODAY, Facts, make_pdf, settle
from tui.app import BerkasApp
from tui.screens.kotak_masuk import KotakMasukScreen
from tui.screens.penampil import PenampilDialog
from tui.screens.usulan_editor import UsulanEditorScreen
from tui.widgets.viewer import (
    DokumenViewer,
    PageRenderer,
    kitty_version_ok,
    prepare_image_protocol,
)


async def _shown(pilot: Pilot[None]) -> DokumenViewer:
    await settle(pilot, rounds=5)
    assert isinstance(pilot.app.screen, PenampilDialog)
    viewer = pilot.app.screen.query_one(DokumenViewer)
    for _ in range(50):
        if viewer.shown_page is not None:
            break
        await pilot.pause(0.05)
    return viewer


def test_kotak_masuk_and_editor_show_the_pdf(
    client: BerkasClient, facts: Facts, tmp_path: Path
) -> None:
    pdf = make_pdf(tmp_path / "sk jabatan.pdf", ("SK JABATAN",), pages=3)
    client.attach_file(facts.kp_usulan_id, "SK_JABATAN", pdf)

    async def main() -> None:
        app = BerkasApp(client, today=TODAY)
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("f5")
            await settle(pilot)
            assert isinstance(app.screen, KotakMasukScreen)
            # The key is named on the screen, not only in the palette.
            shown = str(app.screen.query_one("#jumlah-masuk", Static).render())
            assert "l: lihat" in shown
            await pilot.press("l")
            viewer = await _shown(pilot)
            assert viewer.shown_page == 0
            await pilot.press("n")  # the text scan has two pages
            await settle(pilot)
            for _ in range(50):
                if viewer.shown_page == 1:
                    break
                await pilot.pause(0.05)
            assert viewer.shown_page == 1
            await pilot.press("escape")
            await settle(pilot)

            app.open_usulan(facts.kp_usulan_id)
            await settle(pilot)
            editor = app.screen
            assert isinstance(editor, UsulanEditorScreen) and editor.detail is not None
            table = editor.query_one("#daftar-periksa", DataTable)
            table.move_cursor(row=table.get_row_index("SK_JABATAN"))
            await pilot.press("l")
            viewer = await _shown(pilot)
            assert viewer.shown_page == 0
        assert app.failures == []

    asyncio.run(main())


def test_page_renderer_rotates_and_zooms(tmp_path: Path) -> None:
    data = make_pdf(tmp_path / "a4.pdf", ("Halaman",), pages=2).read_bytes()
    renderer = PageRenderer(data)
    try:
        upright = renderer.render(0, 40, 20, 1.0, 0)
        turned = renderer.render(0, 40, 20, 1.0, 90)
        zoomed = renderer.render(0, 40, 20, 2.0, 0)
    finally:
        renderer.close()
    assert upright.height > upright.width  # A4 portrait, fitted to the box
    assert turned.width > turned.height
    assert zoomed.width == 2 * upright.width or abs(zoomed.width - 2 * upright.width) <= 1
    assert renderer.pages == 2


def test_real_pixels_fill_the_box_at_the_terminal_cell_size(tmp_path: Path) -> None:
    """With an image protocol the page is rendered at the terminal's cell size (10x20
    pixels a cell on a VT340), not at half-block resolution: a 40x20-cell box gets a
    page 400 pixels high, not a 40-pixel thumbnail."""
    data = make_pdf(tmp_path / "a4.pdf", ("Halaman",), pages=1).read_bytes()
    renderer = PageRenderer(data)
    try:
        blocks = renderer.render(0, 40, 20, 1.0, 0)
        pixels = renderer.render(0, 40, 20, 1.0, 0, (10, 20))
    finally:
        renderer.close()
    assert 36 <= blocks.height <= 40  # two pixels a cell high, A4 fitted by its height
    assert 390 <= pixels.height <= 400 and pixels.width <= 400


def test_the_terminal_is_not_asked_where_images_cannot_show(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A console without an image protocol, BERKAS_PENAMPIL=blok, or no terminal at all:
    textual-image is not imported, so its probes (escape sequences a console may print as
    text) are never written; the viewer keeps half-blocks."""
    import sys

    monkeypatch.delitem(sys.modules, "textual_image.renderable", raising=False)
    for env in ({"TERM": "linux"}, {"TERM": "dumb"}, {"TERM": "xterm", "BERKAS_PENAMPIL": "blok"}):
        assert prepare_image_protocol(env) is False
        assert "textual_image.renderable" not in sys.modules
    assert prepare_image_protocol({"TERM": "xterm-256color"}) is False  # pytest: not a tty
    assert "textual_image.renderable" not in sys.modules


def test_kitty_images_only_where_kitty_reads_their_placeholders() -> None:
    """textual-image places kitty images with Unicode placeholders (kitty >= 0.28); kitty
    0.26.5 answered the graphics query yet drew rows of empty boxes, so the XTVERSION
    answer decides, and anything but kitty >= 0.28 keeps half-blocks."""
    assert kitty_version_ok("kitty(0.28.0)") and kitty_version_ok("kitty(0.35.2)")
    assert not kitty_version_ok("kitty(0.26.5)")
    assert not kitty_version_ok("WezTerm 20240203-110809-5046fc22")
    assert not kitty_version_ok("kitty(rusak)") and not kitty_version_ok("")

"""Issue 15 items 10 and 11: every screen of both Apps (the OPD's and the verifikator's)
reads in Bahasa Indonesia, the framework's words too (command palette, built-in keys),
and at 80x24 every screen's footer keeps F1 Bantuan in view."""

from __future__ import annotations

import asyncio
import html
import re
from pathlib import Path

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Footer, Input
from textual.widgets._footer import FooterKey

from client.paths import Paths
from tests.tui.support import TODAY, Facts, open_client, settle
from tests.verifikasi.fake_port import PASSPHRASE, FakeVerifikasi
from tui.app import BerkasApp
from tui.textual_bahasa import Palet
from tui.verifikasi_app import VerifikasiApp

# Words Textual writes on its own; none may reach a person.
ENGLISH = (
    "No matches found",
    "Search for commands",
    "Focus Next",
    "Focus Previous",
    "Dismiss",
    "Quit the application",
    "Toggle light/dark",
    "Screenshot",
    "Change theme",
    "Show keys",
    "palette",
    "Quit",
    "Error",
    "Keys",
    "Theme",
    "Do you want to quit",
    "to quit the app",
)


def shown(app: App[object]) -> str:
    """The screen's text as a person sees it (from Textual's own SVG export)."""
    svg = app.export_screenshot()
    text = re.sub(r"<[^>]+>", "", svg.partition("</style>")[2])
    return html.unescape(text).replace("\xa0", " ")


def english_in(app: App[object]) -> list[str]:
    text = shown(app)
    return [word for word in ENGLISH if word in text]


def footer_line(app: App[object]) -> str:
    """The footer keys wholly in view (at 80 columns the footer cuts its tail)."""
    footer = app.screen.query_one(Footer)
    width = app.size.width
    return " ".join(
        f"{key.key_display} {key.description}"
        for key in footer.query(FooterKey)
        if key.region.width and key.region.right <= width
    )


def commands_in_english(app: App[object]) -> list[str]:
    """Every palette command of the screen in view (also those scrolled out of sight)."""
    words = []
    for command in app.get_system_commands(app.screen):
        text = f"{command.title} {command.help}"
        words += [word for word in ENGLISH if word in text]
    return words


async def palette_checked(
    pilot: Pilot[None], seen: list[tuple[str, list[str]]], *, nothing_found: bool = False
) -> None:
    """Open the palette and list its commands; with `nothing_found`, type something
    that matches nothing too."""
    seen.append(("perintah", commands_in_english(pilot.app)))
    await pilot.press("ctrl+p")
    await settle(pilot)
    seen.append(("palet", english_in(pilot.app)))
    if not nothing_found:
        await pilot.press("escape")
        await settle(pilot)
        return
    for ch in "zzqx":
        await pilot.press(ch)
    await settle(pilot, rounds=6)
    text = shown(pilot.app)
    assert "Tidak ada perintah yang cocok" in text, text
    seen.append(("palet tanpa hasil", english_in(pilot.app)))
    await pilot.press("escape")
    await settle(pilot)


@pytest.fixture(autouse=True)
def _no_countdown(monkeypatch: pytest.MonkeyPatch) -> None:
    # The palette says "no matches" after half a second; here at once.
    monkeypatch.setattr(Palet, "_NO_MATCHES_COUNTDOWN", 0.01)


def test_every_opd_screen_reads_in_bahasa(home: Paths, facts: Facts) -> None:
    asyncio.run(_opd(home, facts))


def test_every_verifikator_screen_reads_in_bahasa(tmp_path: Path) -> None:
    asyncio.run(_verifikator(tmp_path))


async def _opd(home: Paths, facts: Facts) -> None:
    client = open_client(home)
    seen: list[tuple[str, list[str]]] = []
    try:
        app = BerkasApp(client, today=TODAY)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            for key in ("f2", "f3", "f4", "f5", "f6", "f7"):
                await pilot.press(key)
                await settle(pilot)
                name = type(app.screen).__name__
                seen.append((name, english_in(app)))
                assert "Bantuan" in footer_line(app), (name, footer_line(app))
                await palette_checked(pilot, seen, nothing_found=key == "f2")
            # The screens one level down: a pegawai, an usulan, the new-usulan dialog.
            await pilot.press("f3")
            await settle(pilot)
            app.screen.query_one("#cari", Input).value = facts.kp_pegawai_nip
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            app.open_usulan(facts.bts_usulan_id)
            await settle(pilot)
            for step in ("usulan", "pegawai"):
                name = type(app.screen).__name__
                assert name != "PegawaiScreen", step  # the detail opened
                seen.append((name, english_in(app)))
                assert "Bantuan" in footer_line(app), (name, footer_line(app))
                await palette_checked(pilot, seen)
                await pilot.press("escape")
                await settle(pilot)
            await pilot.press("f4", "n")
            await settle(pilot)
            app.screen.query_one("#cari", Input).value = facts.search_name
            await settle(pilot)
            await pilot.press("down", "enter")
            await settle(pilot)
            assert type(app.screen).__name__ == "UsulanBaruDialog", type(app.screen).__name__
            seen.append((type(app.screen).__name__, english_in(app)))
            await pilot.press("escape")
            await settle(pilot)
            await pilot.press("ctrl+c")  # a person's way to quit: Textual explains
            await settle(pilot)
            # The toast paints a moment later; what it says is in the App's list.
            said = " ".join(f"{n.title} {n.message}" for n in app._notifications)
            assert "untuk keluar" in said, said
            seen.append(("Ctrl+C", [word for word in ENGLISH if word in said]))
            await pilot.press("f1")
            await settle(pilot)
            seen.append(("Bantuan", english_in(app)))
    finally:
        client.close()
    assert [(name, words) for name, words in seen if words] == []


async def _verifikator(tmp_path: Path) -> None:
    seen: list[tuple[str, list[str]]] = []
    app = VerifikasiApp(FakeVerifikasi(tmp_path), viewer_mode="halfcell", sync_on_unlock=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        seen.append(("Kunci", english_in(app)))
        for ch in PASSPHRASE:
            await pilot.press(ch)
        await pilot.press("enter")
        await settle(pilot, rounds=4)
        for opening, closing in (("", ""), ("enter", "escape"), ("r", "escape")):
            if opening:
                await pilot.press(opening)
                await settle(pilot, rounds=4)
            name = type(app.screen).__name__
            seen.append((name, english_in(app)))
            assert "Bantuan" in footer_line(app), (name, footer_line(app))
            await palette_checked(pilot, seen, nothing_found=not opening)
            await pilot.press("f1")
            await settle(pilot)
            assert "Bantuan Berkas: verifikator BKD" in shown(app)
            seen.append((f"{name} + Bantuan", english_in(app)))
            await pilot.press("escape")
            await settle(pilot)
            dialog = {"AntrianScreen": "p", "PemeriksaanScreen": "e"}.get(name)
            if dialog:  # the paket's folder, a dokumen's note
                await pilot.press(dialog)
                await settle(pilot)
                assert type(app.screen).__name__ != name, dialog  # the dialog is open
                seen.append((type(app.screen).__name__, english_in(app)))
                await pilot.press("escape")
                await settle(pilot)
            if closing:
                await pilot.press(closing)
                await settle(pilot, rounds=4)
    assert [(name, words) for name, words in seen if words] == []

"""Start-up as `berkas` does it: the first frame before the store is open, then the
Beranda's real figures; keys pressed meanwhile wait for the store; a store that
cannot be opened ends the app with the reason."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from textual.widgets import Static

from client.paths import Paths
from client.services import BerkasClient
from tests.tui.support import PEGAWAI_COUNT, TODAY, Facts, settle
from tui.app import BerkasApp
from tui.screens.beranda import BerandaScreen
from tui.screens.pegawai import PegawaiScreen


def _held_open(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """BerkasClient.open waits for the returned event (a slow disk, made certain)."""
    release = threading.Event()
    real_open = BerkasClient.open.__func__  # type: ignore[attr-defined]

    def slow_open(cls: type[BerkasClient], paths: Paths) -> BerkasClient:
        assert release.wait(30)
        client: BerkasClient = real_open(cls, paths)
        return client

    monkeypatch.setattr(BerkasClient, "open", classmethod(slow_open))
    return release


def test_first_frame_then_the_beranda_fills_in(
    home: Paths, facts: Facts, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = _held_open(monkeypatch)

    async def main() -> None:
        app = BerkasApp(paths=home, today=TODAY)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            # Painted, the store not open yet: the Beranda says it is loading.
            assert isinstance(app.screen, BerandaScreen) and not app.opened
            assert "Memuat" in str(app.screen.query_one("#ringkasan", Static).render())
            assert app.screen.query_one("#kolom").loading
            await pilot.press("f3")  # pressed before the store is open: waits for it
            await pilot.pause()
            assert isinstance(app.screen, BerandaScreen)
            release.set()
            await settle(pilot)
            await settle(pilot)
            assert app.opened
            assert isinstance(app.screen, PegawaiScreen)
            await app.buka("beranda")
            await settle(pilot)
            beranda = app.screen
            assert isinstance(beranda, BerandaScreen)
            summary = str(beranda.query_one("#ringkasan", Static).render())
            assert f"{PEGAWAI_COUNT} pegawai" in summary and "DISDIK" in summary
            assert not beranda.query_one("#kolom").loading
            title = str(beranda.query_one("#app-title", Static).render())
            assert title == "Berkas · DISDIK · Ani"
            assert app.sync_status is not None  # the header's indicator, after the figures
            assert app.sync_status.pending_ops == app.client.pending_ops()
        app.client.close()

    asyncio.run(main())


def test_a_store_that_cannot_be_opened_ends_the_app(tmp_path: Path) -> None:
    from client.cli_support import save_default_config
    from client.paths import resolve_paths

    paths = resolve_paths(tmp_path / "rusak")
    save_default_config(paths, "DISDIK", "Ani")
    paths.store.parent.mkdir(parents=True, exist_ok=True)
    paths.store.write_bytes(b"bukan basis data " * 64)

    async def main() -> BerkasApp:
        app = BerkasApp(paths=paths, today=TODAY)
        async with app.run_test(size=(80, 24)) as pilot:
            for _ in range(50):
                if not app.is_running:
                    break
                await pilot.pause(0.05)
        return app

    app = asyncio.run(main())
    assert app.return_code == 2
    assert not app.opened  # (test_tmux shows what the person reads then)


def test_opening_the_client_leaves_the_sync_engine_and_pdf_reader_unloaded() -> None:
    """Start-up opens the client before the Beranda fills in; the sync engine (httpx,
    APScheduler) and intake's PDF reader load later, when first used."""
    import subprocess
    import sys

    probe = (
        "import sys, tui.app, client.services\n"
        "heavy = ('sync.engine', 'httpx', 'apscheduler', 'pikepdf', 'client.intake.service')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"

"""A failure never disappears: a screen whose load raises tells the person (in Bahasa)
and the log gets the cause, instead of "Memuat…" forever. The screens run against a
fake port: the real client with one call broken."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from textual.pilot import Pilot

from client.errors import ClientError
from client.services import BerkasClient
from tests.tui.support import TODAY, settle
from tui.app import UNEXPECTED, BerkasApp
from tui.screens.kotak_masuk import KotakMasukScreen


class BrokenPort:
    """The client port with `list_inbox` raising `error`; everything else is real."""

    def __init__(self, client: BerkasClient, error: BaseException) -> None:
        self._client = client
        self._error = error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def list_inbox(self, state: str = "menunggu", limit: int = 1000) -> list[object]:
        raise self._error


def open_kotak_masuk(port: BrokenPort) -> BerkasApp:
    async def main() -> BerkasApp:
        app = BerkasApp(port, today=TODAY)  # type: ignore[arg-type]
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("f5")
            await wait_for_failure(app, pilot)
            assert isinstance(app.screen, KotakMasukScreen)
        return app

    return asyncio.run(main())


async def wait_for_failure(app: BerkasApp, pilot: Pilot[None]) -> None:
    for _ in range(50):
        await pilot.pause(0.05)
        if app.failures:
            return


def test_a_load_that_raises_is_shown_and_logged(
    client: BerkasClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="tui.app")
    app = open_kotak_masuk(BrokenPort(client, RuntimeError("bug in the inbox query")))
    [failure] = app.failures
    assert isinstance(failure.error, RuntimeError)
    assert [n.message for n in app._notifications if n.severity == "error"] == [UNEXPECTED]
    assert "bug in the inbox query" in caplog.text


def test_a_refusal_in_a_load_shows_its_own_words(client: BerkasClient) -> None:
    # A BerkasError from the client reads as itself, not as an unexpected failure.
    refusal = ClientError("Kotak masuk tidak dapat dibaca.", "disk")
    app = open_kotak_masuk(BrokenPort(client, refusal))
    notes = [n.message for n in app._notifications if n.severity == "error"]
    assert "Kotak masuk tidak dapat dibaca." in notes


def test_settle_re_raises_a_failed_worker(client: BerkasClient) -> None:
    async def main() -> None:
        app = BerkasApp(BrokenPort(client, RuntimeError("gagal")), today=TODAY)  # type: ignore[arg-type]
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("f5")
            with pytest.raises(RuntimeError, match="gagal"):
                await settle(pilot)

    asyncio.run(main())

"""Textual's own words in Bahasa Indonesia, shared by the OPD and the verifikator App:
the command palette and the hint Ctrl+C shows.

Textual's palette writes three things of its own in English: the input's placeholder (a
constructor argument, given here), the App's default system commands (Keys, Theme,
Screenshot, Quit: each App replaces `get_system_commands` with its own), and the "No
matches found" line, a literal inside `CommandPalette._start_no_matches_countdown`. That
method is small, so `Palet` overrides it whole; if a Textual upgrade renames it, the
English line comes back and tests/tui/test_bahasa.py fails on it. Ctrl+C, which no
longer quits, makes Textual say "Do you want to quit?": `explain_quit` says it in Bahasa.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from rich.align import Align
from rich.text import Text
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandList, CommandPalette
from textual.screen import Screen
from textual.widgets.option_list import Option

PLACEHOLDER = "Cari perintah…"
NO_MATCHES = "Tidak ada perintah yang cocok"


class Palet(CommandPalette):
    """Textual's command palette, every word of it in Bahasa Indonesia."""

    def __init__(self) -> None:
        super().__init__(placeholder=PLACEHOLDER, id="--command-palette")

    def _start_no_matches_countdown(self, search_value: str) -> None:
        self._stop_no_matches_countdown()

        def show_no_matches() -> None:
            if search_value:
                self.query_one(CommandList).add_option(
                    Option(
                        Align.center(Text(NO_MATCHES, style="not bold")),
                        disabled=True,
                        id=self._NO_MATCHES,
                    )
                )
                self._list_visible = True
            else:  # discovery mode: nothing typed, nothing to say
                self._list_visible = False

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, show_no_matches)


def open_palette(app: App[object]) -> None:
    """What Ctrl+P does in both Apps: the Bahasa palette, once."""
    if app.use_command_palette and not CommandPalette.is_open(app):
        app.push_screen(Palet())


def screen_commands(app: App[object], screen: Screen[Any], title: str) -> Iterable[SystemCommand]:
    """The screen's own footer actions as palette commands, so each is findable by name
    (the App's keys are listed by the App itself)."""
    # Textual's own screen keys (Tab's "Focus Next", copy) are not the screen's actions.
    seen: set[str] = {b.action for b in Screen.BINDINGS if isinstance(b, Binding)}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if active.node is not screen or not binding.description or not active.enabled:
            continue
        if binding.action.startswith("app."):  # F1 and the like: the App lists those
            continue
        if binding.action in seen:
            continue
        seen.add(binding.action)
        yield SystemCommand(
            f"{title}: {binding.description}" if title else binding.description,
            f"Tombol {app.get_key_display(binding) or key}",
            partial(screen.run_action, binding.action),
        )


def explain_quit(app: App[object]) -> None:
    """What Ctrl+C does in both Apps (a person presses it to quit): say which key quits."""
    for key, active in app.active_bindings.items():
        if active.binding.action in ("quit", "app.quit"):
            shown = app.get_key_display(active.binding) or key
            app.notify(f"Tekan {shown} untuk keluar dari Berkas.", title="Mau keluar?")
            return

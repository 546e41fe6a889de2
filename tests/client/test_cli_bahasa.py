"""Issue 15 item 10: every `--help` of `berkas` reads in Bahasa Indonesia, including the
words Click and Typer write themselves."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from berkas.cli import app

ENGLISH = ("Usage:", "Options:", "Commands:", "Arguments:", "Show this message and exit.")


def _paths(command: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    if isinstance(getattr(command, "commands", None), dict):
        for name, sub in command.commands.items():
            if name in ("server",):  # forwarded to the server's own app (its --help too)
                continue
            found += _paths(sub, (*path, name))
    return found


COMMANDS = _paths(typer.main.get_command(app))


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "berkas")
def test_help_has_no_english_framework_words(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for word in ENGLISH:
        assert word not in result.output, (path, word, result.output)
    assert "Cara pakai:" in result.output


def test_a_usage_error_reads_in_bahasa() -> None:
    result = CliRunner().invoke(app, ["konflik", "selesaikan"], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "Galat:" in result.output and "untuk bantuan" in result.output
    assert "Error:" not in result.output and "for help" not in result.output

"""Issue 15 item 10: every `--help` of `berkas` (the server's commands too) and its usage
errors read in Bahasa Indonesia, including the words Click and Typer write themselves."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from berkas.cli import app
from server.cli import app as server_app

# Words Click and Typer write on their own; none may reach a person.
ENGLISH = (
    "Usage:",
    "Options",
    "Commands",
    "Arguments",
    "Show this message",
    "[OPTIONS]",
    "COMMAND [ARGS]",
    "Missing argument",
    "Missing option",
    "Invalid value",
    "No such",
    "Error:",
    "for help",
    "unexpected extra",
    "is not a valid",
    "required]",
    "default:",
    "<str>",
    "<path>",
    "<int>",
    "list[",
)


def _paths(command: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    if isinstance(getattr(command, "commands", None), dict):
        for name, sub in command.commands.items():
            if name == "server":  # forwarded to the server's own app: walked below
                sub = typer.main.get_command(server_app)
            found += _paths(sub, (*path, name))
    return found


COMMANDS = _paths(typer.main.get_command(app))


def _english(text: str) -> list[str]:
    found = [word for word in ENGLISH if word in text]
    # A metavar in braces ({usulan_id}) or in lower case is Typer's, not ours.
    found += re.findall(r"\{\w+\}", text)
    return found


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "berkas")
def test_help_has_no_english_framework_words(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert _english(result.output) == [], (path, result.output)
    assert "Cara pakai:" in result.output
    # A description is wrapped, never cut off with "...".
    listing = result.output.partition("Perintah:")[2]
    assert not re.search(r"\w\.\.\.$", listing, re.MULTILINE), listing
    usage = result.output.splitlines()[0]
    metavars = re.findall(r"\b[A-Za-z_]+\b", usage.partition("[OPSI]")[2])
    assert all(m.isupper() for m in metavars), usage


@pytest.mark.parametrize(
    "args",
    [
        ["konflik", "selesaikan"],  # a missing argument
        ["usulan", "lihat", "a", "b"],  # one too many
        ["usulan", "tidak-ada"],  # no such command
        ["usulan", "daftar", "--tidak-ada"],  # no such option
        ["pegawai", "cari", "budi", "--batas", "banyak"],  # not a number
        ["--home"],  # an option without its value
    ],
    ids=lambda a: " ".join(a),
)
def test_a_usage_error_reads_in_bahasa(args: list[str]) -> None:
    result = CliRunner().invoke(app, args, env={"COLUMNS": "80"})
    assert result.exit_code == 2, result.output
    assert "Galat:" in result.output
    assert _english(result.output) == [], result.output

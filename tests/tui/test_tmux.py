"""End to end: the real `berkas` command in a real terminal (tmux): it opens on the
Beranda, a search finds pegawai as the keys are typed, and Ctrl+Q quits cleanly."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.tui.support import Facts, copy_home

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux tidak terpasang")


def berkas_command() -> list[str]:
    """`.venv/bin/berkas`; the same entry point through Python when the console
    script is missing (an editable install made without scripts)."""
    script = Path(sys.executable).parent / "berkas"
    return [str(script)] if script.exists() else [sys.executable, "-m", "berkas"]


def tmux_socket(prefix: str, tmp_path: Path) -> str:
    """A tmux server name of this test run alone: tmux keeps its sockets in one folder per
    user, so parallel workers and other runs on the machine must not share a name."""
    return f"{prefix}-{os.getpid()}-{tmp_path.name}"


class Tmux:
    def __init__(self, socket: str, session: str) -> None:
        self.base = ["tmux", "-L", socket]
        self.session = session

    def run(self, *args: str) -> str:
        done = subprocess.run([*self.base, *args], capture_output=True, text=True, check=True)
        return done.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.session)

    def send(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.session, *keys)

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", self.session, "-l", text)

    def pane(self, fmt: str) -> str:
        return self.run("display-message", "-p", "-t", self.session, fmt).strip()

    def wait_for(self, what: str, ok: Callable[[str], bool], timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if ok(text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; screen was:\n{text}")


def test_berkas_opens_searches_and_quits(base_home: tuple[Path, Facts], tmp_path: Path) -> None:
    root, facts = base_home
    home = copy_home(root, tmp_path / "home")
    tmux = Tmux(socket=tmux_socket("berkas-test", tmp_path), session="berkas")
    exit_file = tmp_path / "exit-status"
    # The shell around berkas only records how it ended (tmux's own pane exit status is
    # not always filled in when the pane dies); remain-on-exit keeps a crash readable.
    command = f"{shlex.join([*berkas_command(), '--home', str(home.data)])}; echo $? > {exit_file}"
    tmux.run(
        "new-session", "-d", "-s", "berkas", "-x", "120", "-y", "36", command,
        ";", "set-option", "-t", "berkas", "remain-on-exit", "on",
    )  # fmt: skip
    try:
        # The first frame comes before the store is open; the figures follow it.
        # Its headings come with the first frame, the figures when the dashboard's worker
        # is done (later on a loaded machine): wait for the figures themselves.
        screen = tmux.wait_for(
            "the Beranda with its data",
            lambda s: "Yang perlu dikerjakan" in s and "DISDIK" in s and "150 pegawai" in s,
        )
        assert "Usulan per status" in screen
        tmux.send("F3")
        tmux.wait_for("the Pegawai screen", lambda s: "Pegawai · 150 orang" in s)
        query = facts.search_name.lower()
        tmux.type(query)
        screen = tmux.wait_for("search results", lambda s: f"cocok dengan “{query}”" in s)
        assert facts.kp_pegawai_nama in screen
        assert f"{facts.kp_pegawai_nip[:8]} {facts.kp_pegawai_nip[8:14]}" in screen
        tmux.send("C-q")
        deadline = time.monotonic() + 15
        status = ""
        while not status and time.monotonic() < deadline:
            time.sleep(0.1)
            status = exit_file.read_text().strip() if exit_file.exists() else ""
        screen = tmux.screen()
        assert status == "0", f"berkas did not exit cleanly after Ctrl+Q ({status!r}):\n{screen}"
        assert "Traceback" not in screen
    finally:
        subprocess.run([*tmux.base, "kill-server"], capture_output=True, check=False)


def test_berkas_on_a_broken_store_says_why_and_exits(tmp_path: Path) -> None:
    from client.cli_support import save_default_config
    from client.paths import resolve_paths

    home = resolve_paths(tmp_path / "rusak")
    save_default_config(home, "DISDIK", "Ani")
    home.store.parent.mkdir(parents=True, exist_ok=True)
    home.store.write_bytes(b"bukan basis data " * 64)
    tmux = Tmux(socket=tmux_socket("berkas-test", tmp_path), session="berkas")
    exit_file = tmp_path / "exit-status"
    command = f"{shlex.join([*berkas_command(), '--home', str(home.data)])}; echo $? > {exit_file}"
    tmux.run(
        "new-session", "-d", "-s", "berkas", "-x", "100", "-y", "30", command,
        ";", "set-option", "-t", "berkas", "remain-on-exit", "on",
    )  # fmt: skip
    try:
        screen = tmux.wait_for("the reason", lambda s: "Gagal membuka data Berkas" in s)
        # The path in it wraps the message wherever its length (the temp folder) puts the
        # break, and a break at a space drops that space: compare without whitespace.
        unwrapped = "".join(screen.split())
        assert "tidakdapatdibuka" in unwrapped and "Traceback" not in screen
        deadline = time.monotonic() + 15
        while not exit_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert exit_file.read_text().strip() == "2"
    finally:
        subprocess.run([*tmux.base, "kill-server"], capture_output=True, check=False)

"""End to end: the real `berkas` command in a real terminal (tmux) on a verifikator home,
against the real server: the passphrase prompt (a wrong one refused), the queue of two
OPDs, an usulan's dokumen drawn by the viewer, MS, and Ctrl+Q."""

from __future__ import annotations

import shlex
import shutil
import time
from pathlib import Path

import pytest

from client.services import BerkasClient
from tests.support.server import TEST_VERIFIER_PASSPHRASE
from tests.support.verifikasi_world import World, sync_until_ok
from tests.tui.test_tmux import Tmux, berkas_command, tmux_socket

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux tidak terpasang")


def test_verifier_side_in_a_real_terminal(world: World, tmp_path: Path) -> None:
    tmux = Tmux(socket=tmux_socket("berkas-verif", tmp_path), session="v")
    exit_file = tmp_path / "exit-status"
    home = world.verifier.data
    # A shell that exported COLUMNS/LINES (for a help text, say) must not size the TUI:
    # the window is 120x36 and the layout follows it.
    berkas = shlex.join([*berkas_command(), "--home", str(home)])
    command = f"COLUMNS=80 LINES=24 {berkas}; echo $? > {exit_file}"
    tmux.run(
        "new-session", "-d", "-s", "v", "-x", "120", "-y", "36", command,
        ";", "set-option", "-t", "v", "remain-on-exit", "on",
    )  # fmt: skip
    disdik = next(u for u, o in world.submitted.items() if o == "DISDIK")
    try:
        tmux.wait_for("the passphrase prompt", lambda s: "Buka kunci verifikator BKD" in s)
        screen = tmux.screen()
        assert "Beranda" not in screen and "Buat usulan" not in screen  # no OPD screens
        tmux.type("bukan-frasa-sandi")
        tmux.send("Enter")
        tmux.wait_for("the refusal", lambda s: "Frasa sandi kunci verifikator salah" in s)
        tmux.type(TEST_VERIFIER_PASSPHRASE)
        tmux.send("Enter")
        screen = tmux.wait_for(
            "the queue of both OPDs", lambda s: "DISDIK" in s and "DINKES" in s, timeout=40
        )
        assert world.nip[disdik] in screen
        # The queue's right-hand columns are there: a 120-column layout, not 80.
        assert "Batas" in screen and "Status" in screen, screen
        # Search the DISDIK usulan by its NIP, open it, show its first dokumen.
        tmux.send("/")
        time.sleep(0.5)  # a person's pause: the search field takes the focus first
        tmux.type(world.nip[disdik][:12])
        tmux.wait_for("the search", lambda s: "1 dari 2 usulan" in s or "DINKES" not in s)
        tmux.send("Enter")  # back to the table
        time.sleep(0.5)
        tmux.send("Enter")
        tmux.wait_for(
            "the review", lambda s: "Pemeriksaan" in s and "SK pangkat terakhir" in s, timeout=30
        )
        time.sleep(0.5)
        tmux.send("Enter")
        tmux.wait_for("a page drawn", lambda s: "hal. 1/" in s and "▀" in s, timeout=30)
        tmux.send("m")
        tmux.wait_for("the decision", lambda s: "Status Memenuhi Syarat" in s, timeout=40)
        tmux.send("C-q")
        tmux.wait_for("berkas to exit", lambda _s: exit_file.exists(), timeout=20)
        assert exit_file.read_text().strip() == "0"
    finally:
        subprocess_run_quietly(tmux)
    sync_until_ok(world.opd["DISDIK"])
    opd = BerkasClient.open(world.opd["DISDIK"])
    try:
        assert opd.usulan_detail(disdik).usulan.status == "diverifikasi"
    finally:
        opd.close()


def subprocess_run_quietly(tmux: Tmux) -> None:
    import subprocess

    subprocess.run([*tmux.base, "kill-server"], capture_output=True, check=False)

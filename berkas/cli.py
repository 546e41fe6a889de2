"""`berkas`: the OPD client's commands plus `berkas demo`.

This package is the composition root: the demo plays the BKD admin and runs a
local BKD server, so it imports `server` as well as `client`, which the layers
forbid everywhere else (client -> sync -> store; server -> sync, store).
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from client.cli import FORWARD, app, fail, home_option, open_tui, print_summary
from client.cli import main as client_main
from client.errors import BerkasError, ClientError
from client.paths import Paths, resolve_paths


@app.command("demo")
def demo_cmd(
    headless: Annotated[bool, typer.Option("--headless", help="Tanpa tampilan terminal.")] = False,
    fresh: Annotated[bool, typer.Option("--fresh/--keep", help="Mulai dari folder kosong.")] = True,
) -> None:
    """Jalankan demo dengan data contoh di folder demo (bawaan: ./berkas-demo)."""
    from berkas.demo import DEMO_LOCK, DEMO_MARKER, DEMO_VERIFIER_PASSPHRASE, run_demo
    from sync.engine import SyncLock

    # Only --home or ./berkas-demo, never BERKAS_HOME: --fresh wipes the folder,
    # and only one that an earlier demo made (it carries the marker file) and that no
    # running demo holds (its lock is held while its TUI is open).
    home = home_option() or Path("berkas-demo")
    busy = (
        f"Demo di {home} sedang dipakai oleh {{holder}}; tidak dihapus. Tutup demo itu "
        "dahulu, atau pakai --home lain."
    )
    lock = SyncLock(home / DEMO_LOCK, "berkas demo", busy=busy)
    if home.exists() and (home / DEMO_MARKER).exists():
        try:
            lock.acquire()
        except BerkasError as exc:
            fail(exc)
    if fresh and home.exists():
        if not (home / DEMO_MARKER).exists():
            fail(ClientError(f"Folder {home} bukan folder demo; tidak dihapus. Pakai --home lain."))
        shutil.rmtree(home)
        lock.release()  # its file went with the folder; taken again in the new one
    home.mkdir(parents=True, exist_ok=True)
    (home / DEMO_MARKER).write_text("Folder demo Berkas; boleh dihapus.\n", encoding="utf-8")
    try:
        lock.acquire()
    except BerkasError as exc:
        fail(exc)
    try:
        result = run_demo(resolve_paths(home), today=date.today(), echo=typer.echo)
    except BerkasError as exc:
        fail(exc)
        return
    try:
        typer.echo("")
        print_summary(result.client, date.today())
        result.client.close()
        verifier = resolve_paths(home / "verifikator")
        typer.echo("")
        typer.echo("Sisi verifikator BKD: buka terminal kedua dan jalankan")
        typer.echo(f"    berkas --home {verifier.data}")
        typer.echo(f"  frasa sandi kunci verifikator demo: {DEMO_VERIFIER_PASSPHRASE}")
        if not headless and sys.stdin.isatty():
            typer.echo(
                f"Membuka tampilan terminal; server BKD demo tetap berjalan di {result.server.url} "
                "selama tampilan OPD atau verifikator terbuka."
            )
            open_tui(resolve_paths(home))
            _wait_for_verifier(verifier)
    finally:
        result.server.stop()
        lock.release()


def _wait_for_verifier(verifier: Paths) -> None:
    """Keep the demo server up while the verifikator's TUI is still open elsewhere."""
    from tui.verifikasi_app import is_open

    if not is_open(verifier):
        return
    typer.echo("Tampilan verifikator masih terbuka: server BKD demo tetap berjalan (Ctrl+C).")
    with contextlib.suppress(KeyboardInterrupt):
        while is_open(verifier):
            time.sleep(1)


@app.command("server", context_settings=FORWARD, add_help_option=False)
def server_cmd(ctx: typer.Context) -> None:
    """Server BKD: init, run, opd, enrol-code, pegawai, devices (jalankan di mesin BKD)."""
    from server.cli import app as server_app  # the server's imports load only when asked

    server_app(args=list(ctx.args), prog_name="berkas server", standalone_mode=True)


def main() -> None:
    client_main()  # the client's renderer for errors no command caught

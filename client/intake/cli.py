"""`berkas intake watch` and `berkas intake run FOLDER`.

The application wires the service: `make_app(open_service)` builds the commands
over a function that opens an `IntakeService` (store, blob store, settings) for a
Berkas home and closes it afterwards.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from client.intake.errors import IntakeError
from client.intake.events import (
    FileProcessed,
    FolderStatus,
    IntakeEvent,
    ObserverRestarted,
    WatcherProblem,
    WatcherStarted,
)
from client.intake.filing import refiled_message
from client.intake.results import IntakeResult, IntakeStatus, IntakeSummary
from client.intake.service import IntakeService
from client.intake.watcher import Watcher
from store.errors import BerkasError

ServiceFactory = Callable[[Path | None], AbstractContextManager[IntakeService]]


STATUS_LABELS = {
    IntakeStatus.FILED: "DIARSIPKAN",
    IntakeStatus.INBOX: "KOTAK MASUK",
    IntakeStatus.QUARANTINED: "KARANTINA",
    IntakeStatus.DUPLICATE: "DUPLIKAT",
    IntakeStatus.FAILED: "GAGAL",
}


def make_app(open_service: ServiceFactory) -> typer.Typer:
    """The `berkas intake` commands, over the services `open_service(home)` opens."""
    app = typer.Typer(
        help="Pindaian masuk: pantau folder pindai, normalkan, arsipkan.",
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,
    )

    @app.callback()
    def root(
        ctx: typer.Context,
        home: Annotated[
            Path | None,
            typer.Option(
                "--home", help="Folder data Berkas (juga: BERKAS_HOME).", show_default=False
            ),
        ] = None,
    ) -> None:
        ctx.obj = home

    @app.command("watch")
    def watch_cmd(ctx: typer.Context) -> None:
        """Pantau folder pindai terus-menerus (berhenti dengan Ctrl+C)."""
        with open_service(ctx.obj) as service:
            watch(service)

    @app.command("run")
    def run_cmd(
        ctx: typer.Context,
        folder: Annotated[
            Path, typer.Argument(metavar="FOLDER", help="Folder berisi hasil pindaian.")
        ],
    ) -> None:
        """Proses semua pindaian di FOLDER sekali jalan, lalu tampilkan ringkasan."""
        with open_service(ctx.obj) as service:
            run_folder(service, folder)

    return app


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def describe(result: IntakeResult) -> str:
    """One line for a processed file, as the `watch` command prints it."""
    sizes = ""
    if result.sha256:
        sizes = f"  {_human_size(result.size_before)} -> {_human_size(result.size_after)}"
    return (
        f"{STATUS_LABELS[result.status]:<11}  {result.relative_name}{sizes}"
        f"  {result.seconds:.1f} dtk  {result.message}"
    )


def watch(service: IntakeService) -> None:
    """Watch the service's scan folders, printing what happens, until Ctrl+C or SIGTERM."""
    console = Console(highlight=False)
    stop = threading.Event()

    def show(event: IntakeEvent) -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        if isinstance(event, FileProcessed):
            console.print(f"{stamp}  {describe(event.result)}", markup=False)
        elif isinstance(event, WatcherStarted):
            folders = ", ".join(str(f) for f in event.folders) or "(tidak ada)"
            console.print(f"{stamp}  Memantau: {folders}", markup=False)
            if event.polling:
                polled = ", ".join(str(f) for f in event.polling)
                console.print(f"{stamp}  (polling untuk: {polled})", markup=False)
        elif isinstance(event, FolderStatus | ObserverRestarted | WatcherProblem):
            text = event.message if not isinstance(event, ObserverRestarted) else event.reason
            console.print(f"{stamp}  ! {text}", markup=False)

    if not service.settings.scan_folders:
        typer.echo("Gagal: belum ada folder pindai di pengaturan (scan_folders).", err=True)
        raise typer.Exit(2)
    watcher = Watcher(service, show)
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    watcher.start()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        console.print("Menghentikan pemantauan...", markup=False)
        watcher.stop()
        signal.signal(signal.SIGTERM, previous)


def _summary_table(summary: IntakeSummary) -> Table:
    table = Table(title="Ringkasan pindaian", show_header=True)
    table.add_column("Keterangan")
    table.add_column("Jumlah", justify="right")
    rows = [
        ("Diambil", str(summary.taken)),
        ("Diarsipkan", str(summary.filed)),
        ("Kotak masuk", str(summary.inbox)),
        ("Karantina", str(summary.quarantined)),
        ("Duplikat", str(summary.duplicates)),
        ("Gagal (berkas asli tetap)", str(summary.failed)),
        ("Masih ditulis (dilewati)", str(summary.skipped)),
        ("Ukuran sebelum", _human_size(summary.bytes_before)),
        ("Ukuran sesudah", _human_size(summary.bytes_after)),
        ("Waktu", f"{summary.elapsed:.1f} dtk"),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table


def run_folder(service: IntakeService, folder: Path) -> None:
    """Process every scan in `folder` once with a progress bar, then print the summary."""
    console = Console(highlight=False)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("Memproses", total=None)
        waiting = bar.add_task("menunggu", total=None, visible=False)

        def settling(files: int, seconds_left: float) -> None:
            bar.update(
                waiting,
                visible=files > 0,
                description=(
                    f"Menunggu {files} berkas selesai ditulis "
                    f"(paling lama {seconds_left:.0f} dtk lagi)"
                ),
            )

        def progress(done: int, total: int, result: IntakeResult | None) -> None:
            bar.update(task, completed=done, total=total)
            if result is not None and result.status is not IntakeStatus.FILED:
                bar.console.print(describe(result), markup=False)

        try:
            summary = service.run_folder(folder, progress, settling)
        except IntakeError as exc:
            typer.echo(f"Gagal: {exc.message}", err=True)
            raise typer.Exit(2) from exc
    console.print(_summary_table(summary))
    # Scans that waited for an usulan opened since (here or, synced, elsewhere).
    try:
        refiled = service.refile_waiting()
    except BerkasError as exc:
        typer.echo(f"Kotak masuk belum dapat diproses ulang: {exc.message}", err=True)
        refiled = []
    if refiled:
        typer.echo(refiled_message(refiled))
    if summary.skipped:
        typer.echo(
            f"Perhatian: {summary.skipped} berkas masih terus berubah dan belum diambil; "
            "jalankan lagi setelah penyalinan selesai.",
            err=True,
        )
    if summary.failed or summary.skipped:
        raise typer.Exit(1)

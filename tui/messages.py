"""The TUI's messages: the App tells screens what changed, screens tell the App what
failed, without reaching into each other (Textual dataclass messages)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from textual.message import Message
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from textual.app import App

    from client.intake import IntakeEvent
    from client.intake_wiring import WatchState
    from client.views import PegawaiView, SyncStatus


@dataclass
class WorkerFailed(Message):
    """A worker raised: the App shows it to the person and logs the cause."""

    worker: str  # the worker's name (its function) or group, for the log
    error: BaseException


# -- screens ask the App to go somewhere ------------------------------------------------


@dataclass
class OpenPegawai(Message):
    """Show one pegawai; `layanan` is what a new usulan from there defaults to."""

    pegawai_id: str
    layanan: str | None = None


@dataclass
class OpenUsulan(Message):
    """Show one usulan in its editor."""

    usulan_id: str


@dataclass
class NewUsulan(Message):
    """Ask which pegawai, layanan and jenis, create the draft, open it."""

    pegawai: PegawaiView | None = None
    layanan: str | None = None


@dataclass
class ShowUsulan(Message):
    """The usulan list, filtered as asked (every other filter cleared). The App shows
    the Usulan screen and passes the message on to it."""

    layanan: str | None = None
    status: str | None = None
    periode: date | None = None
    belum_lengkap: bool | None = None


@dataclass
class ShowPegawaiList(Message):
    """The Pegawai screen showing a given list (due for KP, for pensiun). The App shows
    the Pegawai screen and passes the message on to it."""

    title: str
    people: list[PegawaiView]
    layanan: str | None


@dataclass
class DataChanged(Message):
    """Records changed (a write here, or a sync brought some): shown screens reload."""

    version: int


@dataclass
class SyncStatusChanged(Message):
    """Where sync stands now (the header's indicator and the Sinkronisasi screen)."""

    status: SyncStatus


@dataclass
class IntakeEventArrived(Message):
    """The background scan watcher reported something (posted from its threads)."""

    event: IntakeEvent


@dataclass
class WatchStateChanged(Message):
    """Whether the scan folder is watched and what it last took (Beranda shows it)."""

    state: WatchState


def report_if_failed(app: App[Any], event: Worker.StateChanged) -> None:
    """Tell the App about a worker that raised. Textual posts a worker's state to the
    node that started it only, so every node running workers forwards it here."""
    worker = event.worker
    if event.state == WorkerState.ERROR and worker.error is not None:
        app.post_message(WorkerFailed(worker.name or worker.group, worker.error))

"""The TUI's messages: the App tells screens what changed, screens tell the App what
failed, without reaching into each other (Textual dataclass messages)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from textual.app import App

    from tui.sync_port import SyncStatus


@dataclass
class WorkerFailed(Message):
    """A worker raised: the App shows it to the person and logs the cause."""

    worker: str  # the worker's name (its function) or group, for the log
    error: BaseException


@dataclass
class DataChanged(Message):
    """Records changed (a write here, or a sync brought some): shown screens reload."""

    version: int


@dataclass
class SyncStatusChanged(Message):
    """Where sync stands now (the header's indicator and the Sinkronisasi screen)."""

    status: SyncStatus


def report_if_failed(app: App[Any], event: Worker.StateChanged) -> None:
    """Tell the App about a worker that raised. Textual posts a worker's state to the
    node that started it only, so every node running workers forwards it here."""
    worker = event.worker
    if event.state == WorkerState.ERROR and worker.error is not None:
        app.post_message(WorkerFailed(worker.name or worker.group, worker.error))

"""Scan intake: watch the scan folders, normalise each scan to a PDF within its
size limit, store it encrypted, and file it to its usulan or to the Inbox.

The TUI and the CLI use `IntakeService` and `Watcher`; everything else here
is how they do it. Names are loaded on first use, so that conversion worker
processes (which import `client.intake.normalise`) do not pay for the store.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from client.intake.errors import IntakeError
    from client.intake.events import (
        FileProcessed,
        FileTaken,
        FolderStatus,
        IntakeEvent,
        ObserverRestarted,
        RescanDone,
        WatcherProblem,
        WatcherStarted,
        WatcherStopped,
    )
    from client.intake.rejection import RejectKind
    from client.intake.results import IntakeResult, IntakeStatus, IntakeSummary
    from client.intake.service import IntakeService
    from client.intake.settings import IntakeSettings, PollingMode, ProcessedAction
    from client.intake.watcher import Watcher

_WHERE = {
    "IntakeError": "errors",
    "FileProcessed": "events",
    "FileTaken": "events",
    "FolderStatus": "events",
    "IntakeEvent": "events",
    "ObserverRestarted": "events",
    "RescanDone": "events",
    "WatcherProblem": "events",
    "WatcherStarted": "events",
    "WatcherStopped": "events",
    "RejectKind": "rejection",
    "IntakeResult": "results",
    "IntakeStatus": "results",
    "IntakeSummary": "results",
    "IntakeService": "service",
    "IntakeSettings": "settings",
    "PollingMode": "settings",
    "ProcessedAction": "settings",
    "Watcher": "watcher",
}

__all__ = [
    "FileProcessed",
    "FileTaken",
    "FolderStatus",
    "IntakeError",
    "IntakeEvent",
    "IntakeResult",
    "IntakeService",
    "IntakeSettings",
    "IntakeStatus",
    "IntakeSummary",
    "ObserverRestarted",
    "PollingMode",
    "ProcessedAction",
    "RejectKind",
    "RescanDone",
    "Watcher",
    "WatcherProblem",
    "WatcherStarted",
    "WatcherStopped",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"client.intake.{module}"), name)

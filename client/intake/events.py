"""What the watcher tells its listener (the TUI, the `watch` command).

Events are posted from the watcher's threads; a Textual app forwards them
with `call_from_thread`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from client.intake.results import IntakeResult


@dataclass(frozen=True)
class WatcherStarted:
    folders: tuple[Path, ...]
    polling: tuple[Path, ...]  # the folders watched by polling rather than OS events


@dataclass(frozen=True)
class WatcherStopped:
    pass


@dataclass(frozen=True)
class FileTaken:
    """A file settled and conversion began."""

    path: Path
    relative_name: str


@dataclass(frozen=True)
class FileProcessed:
    result: IntakeResult


@dataclass(frozen=True)
class RescanDone:
    found: int  # files the rescan saw that no event had announced
    seconds: float


@dataclass(frozen=True)
class FolderStatus:
    folder: Path
    available: bool
    message: str


@dataclass(frozen=True)
class ObserverRestarted:
    reason: str


@dataclass(frozen=True)
class WatcherProblem:
    message: str


IntakeEvent = (
    WatcherStarted
    | WatcherStopped
    | FileTaken
    | FileProcessed
    | RescanDone
    | FolderStatus
    | ObserverRestarted
    | WatcherProblem
)

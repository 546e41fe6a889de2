"""Scan intake settings: which folders to watch and how to treat what arrives.

The client config embeds `IntakeSettings`; every default here is what a fresh
OPD installation gets.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class PollingMode(StrEnum):
    """How folder changes are noticed: native OS events, polling, or chosen per folder."""

    AUTO = "auto"  # polling for network shares and where native events fail
    ON = "on"
    OFF = "off"


class ProcessedAction(StrEnum):
    """What happens to an original once its normalised copy is committed."""

    MOVE = "move"  # to `processed_dir`
    DELETE = "delete"


def _default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


class IntakeSettings(BaseModel):
    """Everything scan intake can be told; times are in seconds."""

    model_config = ConfigDict(extra="forbid")

    scan_folders: list[Path] = Field(default_factory=list)
    recursive: bool = True
    # A file is taken once no event came for this long and its size and mtime held.
    stable_delay: float = Field(default=3.0, gt=0)
    # `berkas intake run`: how long to wait for files still being written
    # before leaving them for a later run (and exiting non-zero).
    settle_timeout: float = Field(default=120.0, gt=0)
    # Full rescan of every folder (at start, then this often) for missed events.
    rescan_interval: float = Field(default=180.0, gt=0)
    polling: PollingMode = PollingMode.AUTO
    polling_interval: float = Field(default=5.0, gt=0)
    # How often the observers' health and the folders' presence are checked.
    health_interval: float = Field(default=10.0, gt=0)
    processed_action: ProcessedAction = ProcessedAction.MOVE
    # Relative names live inside each scan folder (and are never scanned);
    # an absolute path is used as it is.
    processed_dir: str = "diproses"
    quarantine_dir: str = "karantina"
    file_time_limit: float = Field(default=180.0, gt=0)
    max_pages: int = Field(default=200, gt=0)
    # Per page; A4 at 600 dpi is 35 million pixels.
    max_pixels: int = Field(default=100_000_000, gt=0)
    workers: int = Field(default_factory=_default_workers, gt=0)
    # Reading the page when the name does not say it all: separator sheets
    # (QR codes) in every such scan, and OCR of the first page's top
    # `ocr_region` share for the NIP and the dokumen kind.
    read_pages: bool = True
    ocr: bool = True
    ocr_region: float = Field(default=0.5, gt=0, le=1)
    # Address space cap of a conversion process (POSIX only; 0 = none): a
    # last line of defence against files built to exhaust memory.
    worker_memory_mb: int = Field(default=3072, ge=0)

    def processed_root(self, scan_folder: Path) -> Path:
        return _beside(scan_folder, self.processed_dir)

    def quarantine_root(self, scan_folder: Path) -> Path:
        return _beside(scan_folder, self.quarantine_dir)


def _beside(scan_folder: Path, name: str) -> Path:
    path = Path(name)
    return path if path.is_absolute() else scan_folder / path

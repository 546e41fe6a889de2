"""Where Berkas keeps things: one home folder (`--home` / BERKAS_HOME) or the
platform's usual data and config folders."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

_APP_NAME = "berkas"


@dataclass(frozen=True)
class Paths:
    """Every file and folder of one Berkas installation."""

    data: Path
    config_dir: Path

    @property
    def store(self) -> Path:
        return self.data / "berkas.db"

    @property
    def blobs(self) -> Path:
        return self.data / "blobs"

    @property
    def keys(self) -> Path:
        return self.data / "kunci"

    @property
    def device_key(self) -> Path:
        return self.keys / "perangkat.key"

    @property
    def config(self) -> Path:
        return self.config_dir / "berkas.toml"

    @property
    def scans(self) -> Path:
        return self.data / "pindai"

    @property
    def intake_lock(self) -> Path:
        """Held by the one scan watcher of this home (the TUI's or `berkas intake watch`)."""
        return self.data / "pindai.lock"

    @property
    def logs(self) -> Path:
        return self.data / "log"

    @property
    def sync_lock(self) -> Path:
        return self.data / "sync.lock"


def resolve_paths(home: Path | None = None) -> Paths:
    """`home` (or BERKAS_HOME) puts everything in one folder; otherwise the
    platform's data and config folders are used."""
    chosen = home or (Path(os.environ["BERKAS_HOME"]) if os.environ.get("BERKAS_HOME") else None)
    if chosen is not None:
        chosen = chosen.expanduser().resolve()
        return Paths(data=chosen, config_dir=chosen)
    return Paths(
        data=Path(platformdirs.user_data_dir(_APP_NAME, appauthor=False)),
        config_dir=Path(platformdirs.user_config_dir(_APP_NAME, appauthor=False)),
    )

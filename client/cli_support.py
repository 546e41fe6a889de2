"""Small helpers shared by the command line and the demo."""

from __future__ import annotations

from client.config import ClientConfig, save_config
from client.intake import IntakeSettings
from client.paths import Paths


def save_default_config(paths: Paths, opd: str, operator: str) -> ClientConfig:
    """A config for one OPD with the home's scan folder."""
    config = ClientConfig(
        opd_kode=opd, operator=operator, intake=IntakeSettings(scan_folders=[paths.scans])
    )
    save_config(paths.config, config)
    return config

"""Opens the scan intake service over this installation's store, encrypted blob
store and settings; the command line and the TUI both start intake through it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from client.config import load_config
from client.intake.service import IntakeService
from client.paths import Paths
from client.sync_service import open_blob_store
from store.database import open_store
from store.rules import load_rules_config


@contextmanager
def intake_service(paths: Paths) -> Iterator[IntakeService]:
    """An IntakeService for `paths`; the default scan folder is HOME/pindai."""
    config = load_config(paths.config)
    settings = config.intake
    if not settings.scan_folders:
        settings = settings.model_copy(update={"scan_folders": [paths.scans]})
    for folder in settings.scan_folders:
        folder.mkdir(parents=True, exist_ok=True)
    store = open_store(paths.store, opd_id=config.opd_kode or None, person=config.operator)
    try:
        blobs = open_blob_store(paths)
        # Leftover staging files from a crash hold nothing a record refers to: our own
        # `*.part` and pikepdf's `.pikepdf.*.part<random>` from a save cut by a kill.
        for part in (blobs.root / "tmp").glob("*.part*"):
            part.unlink(missing_ok=True)
        with IntakeService(store, blobs, settings, load_rules_config(config.rules_override)) as svc:
            yield svc
    finally:
        store.close()

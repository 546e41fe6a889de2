"""Issue 13 item 13: a failure of the machine (a killed worker) never quarantines a scan:
it stays where it is, untouched, and is taken on a later pass."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from client.intake.converted import ConversionJob, ConversionOutcome
from client.intake.normalise import normalise
from client.intake.pool import ConversionPool
from client.intake.results import IntakeStatus
from client.intake.service import IntakeService
from client.intake.settings import IntakeSettings
from store.blobs import BlobStore
from store.database import Store
from tests.support.scans import NIP_BUDI, jpeg_scan

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
KILL_FLAG = "BERKAS_TEST_KILL_WORKER"


def killed_while_set(job: ConversionJob) -> ConversionOutcome:
    """Runs in the worker: killed from outside while the flag file exists (as the OOM
    killer would, mid-conversion), else the real conversion."""
    flag = os.environ.get(KILL_FLAG)
    if flag and Path(flag).exists():
        os.kill(os.getpid(), signal.SIGKILL)
    return normalise(job)


@pytest.fixture
def flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "bunuh"
    monkeypatch.setenv(KILL_FLAG, str(path))  # inherited by the spawned workers
    return path


@pytest.fixture
def killing_pool(flag: Path) -> Iterator[ConversionPool]:
    p = ConversionPool(workers=2, time_limit=60, run=killed_while_set)
    yield p
    p.close()


def test_a_good_scan_whose_worker_is_killed_stays_and_is_filed_later(
    store: Store,
    blobs: BlobStore,
    settings: IntakeSettings,
    scans: Path,
    killing_pool: ConversionPool,
    flag: Path,
) -> None:
    src = jpeg_scan(scans / NIP_BUDI / "sk cpns.jpg", dpi=150)
    original = src.read_bytes()
    flag.touch()
    with IntakeService(store, blobs, settings, pool=killing_pool) as service:
        first = service.process_file(src)
        assert first.status is IntakeStatus.FAILED
        assert "dicoba lagi" in first.message
        assert src.read_bytes() == original  # where it was, untouched
        assert not settings.quarantine_root(scans).exists()
        flag.unlink()
        second = service.process_file(src)
    assert second.status is IntakeStatus.FILED, second.message
    assert blobs.verify(second.sha256)

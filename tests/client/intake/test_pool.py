"""Conversion workers: a hung or crashed worker costs one file, never the service."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from client.intake.converted import ConversionJob, ConversionOutcome, Converted
from client.intake.pool import ConversionPool
from client.intake.rejection import RejectKind


def flaky(job: ConversionJob) -> ConversionOutcome:
    """Runs in the worker: hangs or dies as the file's name says."""
    if job.source.name.startswith("hang"):
        time.sleep(120)
    if job.source.name.startswith("crash"):
        os._exit(3)
    if job.source.name.startswith("killed"):
        os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer or a person would
    if job.source.name.startswith("slow"):
        time.sleep(0.5)
    return ConversionOutcome(converted=Converted("pdf", 1, 1, "asli", False, None))


@pytest.fixture
def pool() -> Iterator[ConversionPool]:
    p = ConversionPool(workers=2, time_limit=2.0, run=flaky)
    yield p
    p.close()


def job(name: str) -> ConversionJob:
    return ConversionJob(Path(name), Path(name + ".pdf"), 1, 1, 1)


def test_hung_worker_is_killed_and_the_pool_renewed(pool: ConversionPool) -> None:
    started = time.monotonic()
    outcome = pool.convert(job("hang.pdf"))
    assert outcome.rejection is not None and outcome.rejection.kind is RejectKind.TIMEOUT
    assert "batas waktu" in outcome.rejection.message
    assert time.monotonic() - started < 10
    assert pool.convert(job("ok.pdf")).converted is not None
    assert pool.restarts == 1


def test_crashing_file_is_refused_and_its_neighbour_survives(pool: ConversionPool) -> None:
    outcomes: dict[str, ConversionOutcome] = {}

    def run(name: str) -> None:
        outcomes[name] = pool.convert(job(name))

    threads = [threading.Thread(target=run, args=(n,)) for n in ("crash.pdf", "slow.pdf")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    crashed = outcomes["crash.pdf"].rejection
    assert crashed is not None and crashed.kind is RejectKind.CRASHED
    assert outcomes["slow.pdf"].converted is not None  # retried alone, not blamed
    assert pool.convert(job("ok.pdf")).converted is not None


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
def test_worker_killed_from_outside_is_the_machine_not_the_file(pool: ConversionPool) -> None:
    """Issue 13 item 13: SIGKILL (the OOM killer, a shutdown) never quarantines a scan."""
    outcome = pool.convert(job("killed.pdf"))
    assert outcome.rejection is None
    assert outcome.environment is not None
    assert "dicoba lagi" in outcome.environment.message
    assert pool.convert(job("ok.pdf")).converted is not None

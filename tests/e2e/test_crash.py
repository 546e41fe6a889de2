"""Crash safety: the client's sync and its scan intake, killed with SIGKILL at random moments
and restarted, lose nothing, apply nothing twice and leave nothing half-written.

The quick variant (a few kills each, for `make test`); bench/crash.py runs the same
scenarios with hundreds of kills. The harness and what it checks after every kill and at
the end are described in tests/e2e/helpers_crash.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from client.intake_wiring import intake_service
from client.paths import resolve_paths
from tests.e2e.helpers_crash import Launcher, intake_crash, launcher, sync_crash

KILLS = 8  # per scenario


@pytest.fixture(scope="module")
def crash_launcher() -> Iterator[Launcher]:
    with launcher() as started:
        yield started


def test_sync_killed_mid_work_loses_nothing_and_applies_nothing_twice(
    tmp_path: Path, crash_launcher: Launcher
) -> None:
    with sync_crash(tmp_path, 20250611, crash_launcher) as scenario:
        report = scenario.run(KILLS)
    assert report.failures == [], "\n".join(report.lines())
    assert (report.kills, report.restarts) == (KILLS, KILLS)
    assert report.mid_step >= KILLS // 2, "\n".join(report.lines())  # kills landed in syncs
    # How many rounds make new work depends on how fast the machine works the backlog off
    # (BACKLOG_LIMIT), so a busy machine makes fewer; the first and the last round always
    # make theirs (at least 8 ops and a document each). More would be a speed assertion.
    assert report.figures["ops_a"] >= 2 * 8 and report.figures["documents"] >= 2


def test_intake_killed_mid_work_keeps_every_scan(tmp_path: Path, crash_launcher: Launcher) -> None:
    with intake_crash(tmp_path, 20250612, crash_launcher, slots=2 * (KILLS + 2)) as scenario:
        report = scenario.run(KILLS, per_round=3)
    assert report.failures == [], "\n".join(report.lines())
    assert (report.kills, report.restarts) == (KILLS, KILLS)
    assert report.mid_step >= 1, "\n".join(report.lines())  # some kills landed in a pass
    assert report.figures["scans"] == 3 * (KILLS + 2)


def test_intake_start_clears_what_a_killed_pdf_save_leaves(tmp_path: Path) -> None:
    paths = resolve_paths(tmp_path / "home")
    staging = paths.blobs / "tmp"
    staging.mkdir(parents=True)
    # What the harness found after a kill (pikepdf's atomic save of an intake staging file).
    leftover = staging / ".pikepdf.intake-9zsw2a4a.pdf.partp4_8ejq9"
    leftover.write_bytes(b"%PDF-1.7\n% a normalised scan, cut short by the kill\n")
    ours = staging / "intake-0a1b2c3d.pdf.part"  # intake's own staging file: swept today
    ours.write_bytes(b"%PDF-1.7\n")
    with intake_service(paths):
        pass
    assert not ours.exists()
    assert not leftover.exists()

"""`berkas intake run FOLDER`: a progress bar, then the summary table."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from typer.testing import CliRunner

from client.intake import cli
from client.intake.service import IntakeService
from tests.support import scans as fixtures
from tests.support.scans import NIP_BUDI


def test_run_prints_summary(service: IntakeService, scans: Path, tmp_path: Path) -> None:
    scans_root = scans
    homes: list[Path | None] = []

    @contextmanager
    def factory(home: Path | None) -> Iterator[IntakeService]:
        homes.append(home)
        yield service

    fixtures.jpeg_scan(scans_root / f"{NIP_BUDI}_SK_CPNS.jpg", dpi=100)
    fixtures.jpeg_scan(scans_root / "scan0001.jpg", dpi=100, seed=3)
    (scans_root / "kosong.pdf").write_bytes(b"")
    old = time.time() - 60
    for path in scans_root.iterdir():
        os.utime(path, (old, old))
    result = CliRunner().invoke(
        cli.make_app(factory), ["--home", str(tmp_path), "run", str(scans_root)]
    )
    assert result.exit_code == 0, result.output
    assert homes == [tmp_path]
    out = result.output
    assert "Ringkasan pindaian" in out
    for label, value in (
        ("Diambil", "3"),
        ("Diarsipkan", "1"),
        ("Kotak masuk", "1"),
        ("Karantina", "1"),
    ):
        line = next(line for line in out.splitlines() if label in line)
        assert value in line
    assert "KARANTINA" in out and "kosong.pdf" in out


def test_run_refuses_a_missing_folder(service: IntakeService, tmp_path: Path) -> None:
    @contextmanager
    def factory(_home: Path | None) -> Iterator[IntakeService]:
        yield service

    result = CliRunner().invoke(cli.make_app(factory), ["run", str(tmp_path / "tidak-ada")])
    assert result.exit_code == 2
    assert "tidak ditemukan" in result.output


def test_describe_line() -> None:
    from client.intake.results import IntakeResult, IntakeStatus

    line = cli.describe(
        IntakeResult(
            source=Path("a.jpg"),
            relative_name="a.jpg",
            status=IntakeStatus.FILED,
            message="Diarsipkan sebagai X.pdf.",
            sha256="ab",
            size_before=2_000_000,
            size_after=500_000,
            seconds=0.8,
        )
    )
    assert line.startswith("DIARSIPKAN") and "1.9 MB -> 488.3 KB" in line

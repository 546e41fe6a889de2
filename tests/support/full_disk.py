"""A real small disk that tests can fill: a tmpfs mounted for the test (root only; the
tests that need it skip elsewhere). Filling it leaves no byte free, as a full office disk."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


class SmallDisk:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._ballast = root / ".ballast"

    def fill(self, leave: int = 0) -> None:
        """Write ballast until the disk says ENOSPC (big blocks, then single bytes); with
        `leave`, then give back about that many bytes (a nearly full disk)."""
        self._ballast.mkdir(exist_ok=True)
        n = 0
        for size in (1 << 20, 1 << 14, 1 << 10, 1):
            while True:
                try:
                    with (self._ballast / f"{n}").open("wb") as fh:
                        fh.write(b"\0" * size)
                        fh.flush()
                        os.fsync(fh.fileno())
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
                    (self._ballast / f"{n}").unlink(missing_ok=True)
                    break
                n += 1
        assert shutil.disk_usage(self.root).free < (1 << 10)
        if leave:
            (self._ballast / "0").unlink()  # the first block: 1 MiB
            with (self._ballast / "0").open("wb") as fh:
                fh.write(b"\0" * max(0, (1 << 20) - leave))

    def free(self) -> None:
        shutil.rmtree(self._ballast, ignore_errors=True)


@contextlib.contextmanager
def small_disk(where: Path, size_mb: int = 24) -> Iterator[SmallDisk]:
    """Mount a `size_mb` tmpfs at `where` for the block; skips the test where it can't."""
    if os.name != "posix" or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a small disk needs root to mount a tmpfs")
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"tmpfs cannot be mounted here: {done.stderr.strip()}")
    try:
        yield SmallDisk(where)
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)

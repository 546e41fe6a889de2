"""The home folder holds personnel data (UU 27/2022): only its owner may read it.

Every process of ours starts with a private umask, so what it makes is 0700 (folders)
and 0600 (files) from creation; a home made by an older Berkas, or opened up by hand,
is tightened once with a notice. POSIX only: on Windows the profile folder's ACL applies.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from client.paths import Paths

_PRIVATE_UMASK = 0o077
PRIVATE_DIR = 0o700
_PRIVATE_FILE = 0o600
_OPEN_BITS = 0o077

TIGHTENED_NOTICE = (
    "Perhatian: folder data Berkas {home} dapat dibaca pengguna lain di komputer ini. "
    "Izinnya kini dibatasi untuk pemiliknya saja ({count} berkas/folder diperbaiki)."
)


def private_umask() -> None:
    """Make everything this process creates from now on private to its owner."""
    if os.name == "posix":
        os.umask(_PRIVATE_UMASK)


def make_private(path: Path) -> bool:
    """Take group and other access away from `path` (not following links); True if changed."""
    if os.name != "posix":
        return False
    try:
        info = path.lstat()
    except OSError:
        return False
    if stat.S_ISLNK(info.st_mode) or not info.st_mode & _OPEN_BITS:
        return False
    wanted = PRIVATE_DIR if stat.S_ISDIR(info.st_mode) else _PRIVATE_FILE
    try:
        os.chmod(path, stat.S_IMODE(info.st_mode) & wanted)
    except OSError:
        return False
    return True


def _walk(folder: Path) -> list[Path]:
    found: list[Path] = []
    with contextlib.suppress(OSError):
        for root, dirs, files in os.walk(folder, followlinks=False):
            found += [Path(root, d) for d in dirs]
            found += [Path(root, f) for f in files]
    return found


def _is_open(path: Path) -> bool:
    try:
        return bool(path.lstat().st_mode & _OPEN_BITS)
    except OSError:
        return False


def tighten_home(paths: Paths) -> int:
    """Make an existing home private; returns how many entries were tightened.

    The data folder and everything in it (store, keys, blobs, logs), the settings file,
    and the kept and quarantined originals (pindai/diproses, pindai/karantina). The scan
    folder itself is left as it is: a scanner may write there as another user. A private
    home costs a few stat calls: its contents are walked only when it is open.
    """
    if os.name != "posix" or not paths.data.is_dir():
        return 0
    targets: list[Path] = [paths.config]
    if _is_open(paths.data):
        targets.append(paths.data)
        with contextlib.suppress(OSError):
            for entry in os.scandir(paths.data):
                path = Path(entry.path)
                if path == paths.scans:
                    continue
                targets.append(path)
                if entry.is_dir(follow_symlinks=False):
                    targets += _walk(path)
    for kept in (paths.scans / "diproses", paths.scans / "karantina"):
        if _is_open(kept):
            targets += [kept, *_walk(kept)]
    return sum(make_private(path) for path in dict.fromkeys(targets))

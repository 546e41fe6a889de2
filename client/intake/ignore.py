"""Files and folders intake never touches: temporary, partial and system files."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from pathlib import Path

# Case-insensitive globs on one path component (Windows names are case-blind).
_IGNORED_NAMES: tuple[str, ...] = (
    "~$*",  # Office owner files
    "*.tmp",
    "*.part",
    "*.partial",
    "*.crdownload",
    ".~lock.*",  # LibreOffice locks
    "._*",  # macOS resource forks on shares
    ".ds_store",
    "thumbs.db",
    "desktop.ini",
    "@eadir",  # Synology thumbnails
    "#recycle",
    "$recycle.bin",
    "*.alasan.txt",  # our own quarantine notes
)


def is_ignored_name(name: str) -> bool:
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern) for pattern in _IGNORED_NAMES)


def is_ignored(path: Path, root: Path, reserved: Iterable[Path] = ()) -> bool:
    """True for a path intake must skip: an ignored name anywhere below `root`,
    or anything inside a reserved folder (diproses, karantina)."""
    for folder in reserved:
        if path == folder or path.is_relative_to(folder):
            return True
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        parts = (path.name,)
    return any(is_ignored_name(part) for part in parts)

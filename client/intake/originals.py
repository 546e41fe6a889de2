"""Where an original goes once intake is done with it: diproses/ (or deleted)
after its normalised copy is committed, or karantina/ with a note saying why."""

from __future__ import annotations

import errno
import os
import shutil
from datetime import datetime
from pathlib import Path, PurePath

from client.home import PRIVATE_DIR, make_private
from client.intake.rejection import Rejection


def free_name(target: Path) -> Path:
    if not target.exists():
        return target
    stem, suffix = target.stem, target.suffix
    for n in range(2, 10_000):
        candidate = target.with_name(f"{stem} ({n}){suffix}")
        if not candidate.exists() and not _note_for(candidate).exists():
            return candidate
    raise FileExistsError(target)


def _note_for(path: Path) -> Path:
    return path.with_name(path.name + ".alasan.txt")


def _move_under(path: Path, folder: Path, relative: PurePath) -> Path:
    """Move `path` to `folder/relative` (keeping its subfolders), never over
    another file: a second "scan.pdf" becomes "scan (2).pdf"."""
    target = free_name(folder / relative)
    target.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    try:
        os.replace(path, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        shutil.move(os.fspath(path), os.fspath(target))  # another drive
    # A scan keeps the mode the scanner gave it (often 0644); once kept by us it holds
    # personnel data and is for the owner only.
    make_private(target)
    return target


def quarantine(path: Path, folder: Path, relative: PurePath, rejection: Rejection) -> Path:
    """Move a refused file into karantina/ with a `.alasan.txt` beside it."""
    target = _move_under(path, folder, relative)
    write_reason(target, relative.as_posix(), rejection.message, rejection.cause)
    return target


def write_reason(target: Path, name: str, message: str, cause: str = "") -> Path:
    note = _note_for(target)
    lines = [
        f"Berkas  : {name}",
        f"Waktu   : {datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"Alasan  : {message}",
    ]
    if cause:
        lines.append(f"Rincian : {cause}")
    note.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return note


def release(path: Path, folder: Path | None, relative: PurePath) -> Path | None:
    """Move a committed original to diproses/ (or delete it when `folder` is None)."""
    if folder is None:
        path.unlink(missing_ok=True)
        return None
    return _move_under(path, folder, relative)

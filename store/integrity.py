"""Is berkas.db whole? SQLite's own checks, and the way out when it is not.

Three depths: `PRAGMA quick_check` each time the store opens (page and b-tree structure;
cheap, see bench/integrity.py), the full `PRAGMA integrity_check` once a day in the
background and on demand (`berkas periksa`), which also compares every index with its
table. A damaged store is refused until it is repaired: REINDEX rebuilds indexes from
their tables, which mends the damage confined to indexes; anything else is restored
from the server. Damage the background check finds is remembered in a marker file beside
the store (not in the damaged file itself), so every later open refuses it too.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from store.errors import DiskFull, StoreError, disk_full_message, is_disk_full

# Lines of integrity_check that name only index damage: REINDEX rebuilds those.
_INDEX_ONLY = re.compile(
    r"(missing from index|wrong # of entries in index|non-unique entry in index"
    r"|row \d+ missing from index)",
)
_MAX_PROBLEMS = 100
SQLITE_IOERR = 10
SQLITE_NOTADB = 26
NOT_A_DATABASE = "bukan basis data"
CHECKED_KEY = "integrity_checked_at"  # meta: when the last full check passed (UTC ISO)


@dataclass
class IntegrityReport:
    """What a check found; `problems` is empty for a whole store."""

    full: bool
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def not_a_database(self) -> bool:
        """The file's header is not SQLite's: damaged there, or never a Berkas store."""
        return any(p.startswith(NOT_A_DATABASE) for p in self.problems)

    @property
    def repairable(self) -> bool:
        """True when REINDEX mends every problem found (they all concern indexes)."""
        return bool(self.problems) and all(_INDEX_ONLY.search(p) for p in self.problems)


class StoreDamaged(StoreError):
    """berkas.db is damaged; the message names the way out."""


def marker_for(path: Path) -> Path:
    return path.with_name(path.name + ".rusak")


def way_out(path: Path, repairable: bool) -> str:
    if repairable:
        return (
            "Kerusakan hanya pada indeks dan dapat diperbaiki: jalankan "
            "`berkas periksa --perbaiki`."
        )
    return (
        f"Kerusakan tidak dapat diperbaiki di tempat. Pindahkan {path.name} ke folder lain "
        "(simpan sebagai cadangan), lalu pulihkan data dari server BKD: "
        "`berkas restore --server URL --code KODE`."
    )


def damaged(path: Path, report: IntegrityReport) -> StoreDamaged:
    shown = "; ".join(report.problems[:3])
    if report.not_a_database:
        what = f"Berkas data {path} tidak dapat dibuka (rusak atau bukan basis data Berkas)."
    else:
        what = (
            f"Berkas data {path} rusak, jadi Berkas tidak membukanya agar kerusakan tidak menyebar."
        )
    return StoreDamaged(
        f"{what} {way_out(path, report.repairable)}",
        f"{'integrity_check' if report.full else 'quick_check'}: {shown}",
    )


def run_check(conn: sqlite3.Connection, *, full: bool) -> IntegrityReport:
    """`PRAGMA integrity_check` (full) or `quick_check` on an open connection."""
    pragma = "integrity_check" if full else "quick_check"
    try:
        rows = conn.execute(f"PRAGMA {pragma}({_MAX_PROBLEMS})").fetchall()
    except sqlite3.DatabaseError as exc:  # so damaged that the check itself cannot run
        if is_disk_full(exc):  # or no room for the check's own files: not the store's fault
            raise DiskFull(disk_full_message(), repr(exc)) from exc
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF == SQLITE_IOERR:
            # The disk failed to read or write, which says nothing about the store's pages.
            raise StoreError(
                "Berkas data tidak dapat dibaca dari disk (kesalahan I/O). Periksa disk "
                "komputer ini lalu coba lagi.",
                repr(exc),
            ) from exc
        if getattr(exc, "sqlite_errorcode", 0) == SQLITE_NOTADB:
            return IntegrityReport(full, [f"{NOT_A_DATABASE}: {exc}"])
        return IntegrityReport(full, [f"{type(exc).__name__}: {exc}"])
    lines = [str(row[0]) for row in rows]
    return IntegrityReport(full, [] if lines == ["ok"] else lines)


def check_file(path: Path, *, full: bool = True) -> IntegrityReport:
    """Check the store at `path` through a connection of its own (any schema version)."""
    conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=30)
    try:
        return run_check(conn, full=full)
    finally:
        conn.close()


def repair_indexes(path: Path) -> IntegrityReport:
    """REINDEX, then check again in full; the marker goes once the store is whole."""
    conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=30)
    try:
        conn.execute("REINDEX")
        conn.commit()
        report = run_check(conn, full=True)
    finally:
        conn.close()
    if report.ok:
        clear_marker(path)
    return report


def record_damage(path: Path, report: IntegrityReport) -> None:
    """Remember damage found in the background; every later open refuses the store."""
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    text = "\n".join([f"diperiksa {stamp}", *report.problems]) + "\n"
    with contextlib.suppress(OSError):  # the disk may be the problem; the log still says it
        marker_for(path).write_text(text, encoding="utf-8")


def clear_marker(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(marker_for(path))


def recorded_damage(path: Path) -> IntegrityReport | None:
    """The damage a background check recorded for the store at `path`, if any."""
    try:
        lines = marker_for(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return IntegrityReport(True, [f"penanda kerusakan tidak terbaca: {exc.strerror}"])
    return IntegrityReport(True, lines[1:] or ["kerusakan tercatat"])

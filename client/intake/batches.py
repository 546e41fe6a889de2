"""A batch scanned in one ADF run with separator sheets: one multi-page PDF or
TIFF, or a numbered run of images (scan0001.jpg, scan0002.jpg, ...).

The worker (`reading.read_scan`) finds the sheets and writes the parts between
them; here each part is normalised to its kind's limit, stored and filed to
the usulan and kode its sheet names (`filing.file_stored`, which sends a
sheet for another OPD's, a cancelled or a closed usulan to the Kotak masuk
with the reason). Pages before the first sheet go to the Kotak masuk. The
original is released only when every part is committed; a batch cut short
files its whole parts and keeps the original in karantina/ for the rest.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from client.intake import originals
from client.intake.filing import NotFiled
from client.intake.naming import Recognition
from client.intake.page_reading import Part, ReadOutcome
from client.intake.rejection import Rejection, RejectKind
from client.intake.results import IntakeResult, IntakeStatus
from client.intake.sheets import decode_sheet

if TYPE_CHECKING:
    from client.intake.service import IntakeService

log = logging.getLogger(__name__)

_NUMBERED = re.compile(r"^(?P<prefix>.*?)(?P<num>[0-9]+)$")
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff"}


def run_key(path: Path) -> tuple[Path, str, str, int] | None:
    """(folder, prefix, suffix, number) of a numbered image ("scan0007.jpg"), else None."""
    if path.suffix.lower() not in _IMAGE_SUFFIXES:
        return None
    match = _NUMBERED.match(path.stem)
    if match is None:
        return None
    return path.parent, match.group("prefix"), path.suffix.lower(), int(match.group("num"))


def neighbour(path: Path, step: int) -> Path | None:
    """The file numbered `step` away in the same run, if it exists."""
    key = run_key(path)
    if key is None:
        return None
    match = _NUMBERED.match(path.stem)
    assert match is not None
    width = len(match.group("num"))
    number = key[3] + step
    if number < 0:
        return None
    for digits in dict.fromkeys((f"{number:0{width}d}", str(number))):
        candidate = path.with_name(f"{key[1]}{digits}{path.suffix}")
        if candidate.is_file():
            return candidate
    return None


def run_after(path: Path, quiet: float) -> tuple[list[Path], bool]:
    """The files after `path` in its numbered run, and whether every one of
    them has stopped changing (a run still being written is not split yet)."""
    following: list[Path] = []
    current = path
    cutoff = time.time() - quiet
    while (nxt := neighbour(current, 1)) is not None:
        try:
            if nxt.stat().st_mtime > cutoff:
                return following, False
        except OSError:
            break
        following.append(nxt)
        current = nxt
    return following, True


def group_runs(paths: list[Path], is_sheet: Callable[[Path], bool]) -> list[list[Path]]:
    """`paths` as tasks: a separator sheet of a numbered image run with the
    pages behind it up to the next sheet, taken in number order (the sheet
    takes its pages, which are then gone); every other file alone, so scans
    without sheets are still taken side by side."""
    runs: dict[tuple[Path, str, str], list[tuple[int, Path]]] = {}
    tasks: list[list[Path]] = []
    for path in paths:
        key = run_key(path)
        if key is None:
            tasks.append([path])
        else:
            runs.setdefault(key[:3], []).append((key[3], path))
    for members in runs.values():
        chain: list[Path] | None = None
        previous: int | None = None
        for number, path in sorted(members):
            if previous is not None and number != previous + 1:
                chain = None  # a gap ends the run
            previous = number
            if is_sheet(path):
                chain = [path]
                tasks.append(chain)
            elif chain is not None:
                chain.append(path)
            else:
                tasks.append([path])
    return tasks


def _part_name(relative: PurePath, part: Part, index: int) -> str:
    last = part.first + part.pages
    pages = f"hal. {part.first + 1}" if part.pages == 1 else f"hal. {part.first + 1}-{last}"
    return f"{relative.as_posix()} [bagian {index}, {pages}]"


def process_batch(
    service: IntakeService,
    path: Path,
    root: Path,
    relative: PurePath,
    reading: ReadOutcome,
    size_before: int,
    result: Callable[..., IntakeResult],
) -> IntakeResult:
    """File every part of a read batch, then release (or quarantine) the original(s)."""
    parts: list[IntakeResult] = []
    kept: list[str] = []
    failed = False
    for index, part in enumerate(reading.parts, start=1):
        if part.pages == 0:
            continue  # a sheet right behind a sheet: nothing between them
        name = _part_name(relative, part, index)
        if not part.whole or part.path is None:
            kept.append(name)
            continue
        outcome = _file_part(service, part, name)
        parts.append(outcome)
        failed = failed or outcome.status in (IntakeStatus.FAILED, IntakeStatus.QUARANTINED)
    filed = sum(1 for p in parts if p.status in (IntakeStatus.FILED, IntakeStatus.DUPLICATE))
    inbox = sum(1 for p in parts if p.status is IntakeStatus.INBOX)
    summary = (
        f"Kumpulan pindaian dengan {len(reading.sheets)} lembar pemisah: "
        f"{filed} bagian diarsipkan, {inbox} ke kotak masuk"
    )
    if failed:
        # Nothing is lost: the committed parts stay filed and the original
        # stays where it was, to be taken again (those parts come back as duplicates).
        return result(
            IntakeStatus.FAILED,
            f"{summary}; bagian lain gagal disimpan, berkas asli tetap di tempatnya.",
            parts=tuple(parts),
            size_before=size_before,
        )
    sources = list(reading.consumed) if reading.consumed else [path]
    if kept:
        rejection = Rejection(
            RejectKind.CORRUPT,
            f"Pindaian terpotong: {', '.join(kept)} tidak utuh. Bagian yang utuh sudah "
            "diarsipkan; pindai ulang sisanya.",
            f"broken at page {reading.broken_at}",
        )
        moved: Path | None = None
        for source in sources:
            try:
                moved = originals.quarantine(
                    source,
                    service.settings.quarantine_root(root),
                    _relative(source, root),
                    rejection,
                )
            except OSError as exc:
                log.error("kumpulan pindaian tidak dapat dipindah ke karantina: %r", exc)
        return result(
            IntakeStatus.QUARANTINED,
            f"{summary}; {rejection.message}",
            parts=tuple(parts),
            rejection=rejection.kind,
            moved_to=moved,
            size_before=size_before,
        )
    moved = None
    note = ""
    for source in sources:
        try:
            moved = service.release_original(source, root, _relative(source, root))
        except OSError as exc:
            note = f" Berkas asli tidak dapat dipindahkan ({exc.strerror})."
    status = IntakeStatus.FILED if inbox == 0 else IntakeStatus.INBOX
    return result(
        status,
        f"{summary}.{note}",
        parts=tuple(parts),
        moved_to=moved,
        size_before=size_before,
        size_after=sum(p.size_after for p in parts),
        pages=reading.pages,
    )


def _relative(source: Path, root: Path) -> PurePath:
    try:
        return PurePath(source.relative_to(root))
    except ValueError:
        return PurePath(source.name)


_NO_SHEET = "bagian sebelum lembar pemisah pertama (tanpa lembar pemisah)"


def _file_part(service: IntakeService, part: Part, name: str) -> IntakeResult:
    """Normalise, store and file one part; its result names it as "<batch> [bagian n]"."""
    assert part.path is not None
    started = time.monotonic()
    sheet = decode_sheet(part.sheet) if part.sheet else None
    kode = sheet.kode if sheet is not None else None
    found = Recognition(relative_name=name, nip=None, kode=kode)

    def outcome(status: IntakeStatus, message: str, **kw: object) -> IntakeResult:
        res = IntakeResult(
            source=part.path or Path(name),
            relative_name=name,
            status=status,
            message=message,
            kode=kode,
            seconds=time.monotonic() - started,
            **kw,  # type: ignore[arg-type]
        )
        log.info("%s: bagian kumpulan (%s)", res.status.value, res.message)
        return res

    try:
        filed = service.convert_and_file(
            part.path,
            found,
            what="Bagian ini",
            usulan_id=sheet.usulan_id if sheet is not None else None,
            hold="" if sheet is not None else _NO_SHEET,
        )
    except NotFiled as stop:
        if stop.rejection is not None:
            return outcome(
                IntakeStatus.QUARANTINED, f"Bagian ini tidak dapat dinormalkan: {stop.message}"
            )
        # The machine failed (disk, memory, a killed worker), not the part: FAILED keeps
        # the batch's original in place for a later pass, never in karantina.
        return outcome(IntakeStatus.FAILED, stop.message)
    filing, common = filed.filing, filed.facts()
    if filing.duplicate_of:
        return outcome(
            IntakeStatus.DUPLICATE,
            f"Isi sama dengan yang sudah tersimpan ({filing.duplicate_of}).",
            dokumen_id=filing.dokumen.id if filing.dokumen else "",
            inbox_id=filing.inbox.id if filing.inbox else "",
            nip=filing.dokumen.nama_file.split("_")[0] if filing.dokumen else None,
            **common,
        )
    if filing.dokumen is not None:
        return outcome(
            IntakeStatus.FILED,
            f"Diarsipkan sebagai {filing.dokumen.nama_file}.",
            dokumen_id=filing.dokumen.id,
            nama_file=filing.dokumen.nama_file,
            nip=filing.dokumen.nama_file.split("_")[0],
            **common,
        )
    assert filing.inbox is not None
    return outcome(
        IntakeStatus.INBOX,
        f"Masuk kotak masuk: {filing.reason}.",
        inbox_id=filing.inbox.id,
        nip=filing.inbox.nip or None,
        **common,
    )

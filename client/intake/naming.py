"""Reading the NIP and the dokumen kind from a scan's name and its folders.

The file name speaks first, then its folders from the nearest up to the scan
folder (a folder per NIP, or per dokumen kind, is common). Names can also
carry a NIK (a KTP or KK scan named by it); `redact_nik` keeps those out of
log lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePath

from store.rules import RuleError, RulesConfig, find_kode_in_name, parse_nip

# Runs of digit groups joined by one separator: "19680411 199303 1 009",
# "196804111993031009", "19680411-199303-1-009".
_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9]+(?:[ ._\-][0-9]+)*(?![0-9])")
_GROUP = re.compile(r"[0-9]+")
_NIP_DIGITS = 18
_NIK_LIKE = re.compile(r"(?<![0-9])[0-9](?:[ .\-]?[0-9]){15}(?![0-9])")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")


@dataclass(frozen=True)
class Recognition:
    """What a scan's path says about it."""

    relative_name: str  # the path under the scan folder, with "/"
    nip: str | None
    kode: str | None
    note: str = ""  # why a NIP seen in the name was not taken, for the Inbox

    @property
    def complete(self) -> bool:
        return self.nip is not None and self.kode is not None


def nip_candidates(text: str) -> list[tuple[str, tuple[int, int]]]:
    """Every 18-digit number written in `text` (spaces or dashes allowed
    between digit groups), with where it stands."""
    found: list[tuple[str, tuple[int, int]]] = []
    for run in _DIGIT_RUN.finditer(text):
        groups = list(_GROUP.finditer(run.group()))
        for first in range(len(groups)):
            total = 0
            for last in range(first, len(groups)):
                total += len(groups[last].group())
                if total > _NIP_DIGITS:
                    break
                if total == _NIP_DIGITS:
                    digits = "".join(g.group() for g in groups[first : last + 1])
                    span = (run.start() + groups[first].start(), run.start() + groups[last].end())
                    found.append((digits, span))
    return found


def _is_pns_nip(digits: str) -> bool:
    try:
        parse_nip(digits)
    except RuleError:
        return False
    return True


def _nip_in(text: str) -> tuple[str | None, str, str]:
    """(nip, text without it, note) for one name."""
    candidates = nip_candidates(text)
    distinct = sorted({digits for digits, _ in candidates})
    if len(distinct) > 1:
        # A NIP with a stray number beside it: keep the one that is a real NIP.
        valid = [d for d in distinct if _is_pns_nip(d)]
        if len(valid) != 1:
            return None, text, "ada lebih dari satu NIP pada nama berkas"
        distinct = valid
    if not distinct:
        return None, text, ""
    nip = distinct[0]
    rest = text
    for digits, (start, end) in sorted(candidates, key=lambda c: -c[1][0]):
        if digits == nip:
            rest = rest[:start] + " " + rest[end:]
    return nip, rest, ""


def recognise(path: Path, root: Path, rules: RulesConfig | None = None) -> Recognition:
    """The NIP and dokumen kind that `path` (a file under `root`) names."""
    try:
        relative = PurePath(path.relative_to(root))
    except ValueError:
        relative = PurePath(path.name)
    # Nearest first: the file's own name, then its folders upwards.
    names = [_EXTENSION.sub("", relative.name), *reversed(relative.parts[:-1])]
    nip: str | None = None
    kode: str | None = None
    note = ""
    for name in names:
        found, rest, why = _nip_in(name)
        if nip is None and found is not None:
            nip = found
        note = note or why
        if kode is None:
            kode = find_kode_in_name(rest, rules)
    return Recognition(relative_name=relative.as_posix(), nip=nip, kode=kode, note=note)


_COPY = re.compile(
    r"^(?P<stem>.+?) ?(?:\((?P<n>[0-9]{1,3})\)|- (?:copy|salinan)(?: \([0-9]{1,3}\))?)$", re.I
)


def copy_of(path: Path) -> Path | None:
    """For "name (1).pdf" or "name - Copy.pdf", the "name.pdf" beside it it copies."""
    suffix = "".join(path.suffixes[-1:])
    match = _COPY.match(path.name[: len(path.name) - len(suffix)] if suffix else path.name)
    if match is None:
        return None
    return path.with_name(match.group("stem") + suffix)


def copies_last(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """`paths` split into (the rest, copies whose original is among them): a
    copy taken after its original is the one reported as the duplicate."""
    present = set(paths)
    copies = [p for p in paths if (base := copy_of(p)) is not None and base in present]
    taken = set(copies)
    return [p for p in paths if p not in taken], copies


def redact_nik(text: str) -> str:
    """`text` with any 16-digit number (a NIK, perhaps) masked, for log lines."""
    return _NIK_LIKE.sub("[NIK]", text)

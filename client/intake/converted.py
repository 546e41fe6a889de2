"""What a conversion job asks and what it answers (both cross the process boundary)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from client.intake.rejection import Rejection


@dataclass(frozen=True)
class PageRecord:
    """How one page was stored (content.py): its kind (teks, campuran, foto), resolution
    and bytes (`fallback`: the structure guard refused the kind first chosen), and how it
    was straightened first (upright.py: `turn` and `skew` degrees counter-clockwise)."""

    kind: str
    dpi: float
    bytes: int
    colour: bool
    fallback: bool = False
    turn: int = 0
    skew: float = 0.0


@dataclass(frozen=True)
class ConversionJob:
    source: Path
    target: Path  # where the normalised PDF is written
    size_limit: int
    max_pages: int
    max_pixels: int


@dataclass(frozen=True)
class Converted:
    scan_type: str
    pages: int
    size: int
    step: str  # "isi" (content-aware encoding) or the ladder step (ladder.LADDER names)
    terlalu_besar: bool  # no step fit the limit; this is the smallest reached
    min_dpi: float | None  # lowest effective resolution of any image in it
    # How each page was stored (content.PageRecord: kind, dpi, bytes), for "isi".
    page_records: tuple[PageRecord, ...] = ()


@dataclass(frozen=True)
class EnvironmentFailure:
    """The machine failed the conversion (disk full, memory, a killed worker), not the
    file: the scan stays where it is and is taken again later, never quarantined."""

    message: str  # Bahasa Indonesia, for the person
    cause: str = ""


@dataclass(frozen=True)
class ConversionOutcome:
    converted: Converted | None = None
    rejection: Rejection | None = None
    environment: EnvironmentFailure | None = None
    seconds: float = 0.0

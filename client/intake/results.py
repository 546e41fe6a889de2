"""What intake did with each file, and the sum of a run."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from client.intake.rejection import RejectKind


class IntakeStatus(StrEnum):
    FILED = "diarsipkan"  # stored and filed to its usulan slot
    INBOX = "kotak_masuk"  # stored; a person finishes it in the Kotak masuk
    QUARANTINED = "karantina"  # refused; moved to karantina/ with a reason
    DUPLICATE = "duplikat"  # the same content was already where it would go
    FAILED = "gagal"  # not done this time (disk, store); the original is untouched


@dataclass(frozen=True)
class IntakeResult:
    source: Path
    relative_name: str
    status: IntakeStatus
    message: str  # one line for the person, in Bahasa Indonesia
    nip: str | None = None
    kode: str | None = None
    sha256: str = ""
    size_before: int = 0
    size_after: int = 0
    pages: int = 0
    terlalu_besar: bool = False
    step: str = ""  # the shrink ladder step used
    min_dpi: float | None = None
    duplicate: bool = False  # the normalised content was already in the blob store
    dokumen_id: str = ""
    inbox_id: str = ""
    nama_file: str = ""  # canonical <NIP>_<KODE>.pdf when filed
    moved_to: Path | None = None  # where the original went (diproses/ or karantina/)
    rejection: RejectKind | None = None
    seconds: float = 0.0  # from "file stable" (or taken) to stored
    convert_seconds: float = 0.0  # of which converting, in a conversion process
    # A batch split at separator sheets: what became of each part.
    parts: tuple[IntakeResult, ...] = ()


@dataclass
class IntakeSummary:
    results: list[IntakeResult] = field(default_factory=list)
    elapsed: float = 0.0
    skipped: int = 0  # still being written when the run looked; left for later

    @property
    def outcomes(self) -> list[IntakeResult]:
        """Every filed unit: the parts of a split batch, else the file itself."""
        return [part for r in self.results for part in (r.parts or (r,))]

    def count(self, status: IntakeStatus) -> int:
        return sum(1 for r in self.outcomes if r.status is status)

    @property
    def taken(self) -> int:
        return len(self.results)

    @property
    def filed(self) -> int:
        return self.count(IntakeStatus.FILED)

    @property
    def inbox(self) -> int:
        return self.count(IntakeStatus.INBOX)

    @property
    def quarantined(self) -> int:
        return self.count(IntakeStatus.QUARANTINED)

    @property
    def duplicates(self) -> int:
        return self.count(IntakeStatus.DUPLICATE)

    @property
    def failed(self) -> int:
        return self.count(IntakeStatus.FAILED)

    @property
    def bytes_before(self) -> int:
        """Originals that became a stored PDF (quarantined files are not counted)."""
        return sum(r.size_before for r in self.results if r.sha256)

    @property
    def bytes_after(self) -> int:
        return sum(r.size_after for r in self.results if r.sha256)

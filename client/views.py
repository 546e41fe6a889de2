"""What the client hands the TUI and the CLIs: frozen views, never ORM objects.

Views carry the facts screens show and the flags they act on (`editable`,
`terlalu_besar`), so no screen derives a rule of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from store.pegawai import RowError
from store.rules import KpPeriod


@dataclass(frozen=True)
class PegawaiView:
    id: str
    nip: str
    nama: str
    golongan: str
    pangkat: str
    jabatan: str
    jabatan_kind: str
    unit_kerja: str
    pendidikan: str
    tanggal_lahir: date
    tmt_pangkat: date
    bup: int
    tmt_pensiun: date


@dataclass(frozen=True)
class UsulanView:
    id: str
    pegawai_id: str
    nip: str
    nama: str
    layanan: str
    jenis: str
    periode: date | None
    status: str
    status_label: str
    editable: bool  # the OPD may still change it (store.rules OPEN_STATUSES)
    catatan_verifikator: str
    kurang: int  # required dokumen still missing
    pending_sync: bool


@dataclass(frozen=True)
class ChecklistLineView:
    kode: str
    nama: str
    required: bool
    state: str  # ada | kurang | terlalu_besar | dikembalikan | tidak_berlaku
    dokumen_id: str | None
    size: int
    size_limit: int
    terlalu_besar: bool  # over the kind's size limit (store.rules exceeds_limit)
    pages: int
    nama_file: str
    catatan_verifikator: str
    boleh_tidak_berlaku: bool = False  # the checklist lets the OPD mark it "tidak berlaku"
    alasan_tidak_berlaku: str = ""  # the OPD's reason; "" when not marked


@dataclass(frozen=True)
class HistoryView:
    dari: str
    ke: str
    oleh: str
    perangkat: str
    waktu: str
    alasan: str


@dataclass(frozen=True)
class UsulanDetail:
    usulan: UsulanView
    checklist: list[ChecklistLineView]
    history: list[HistoryView]
    missing: list[str]

    @property
    def complete(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class PegawaiDetail:
    pegawai: PegawaiView
    riwayat_pangkat: list[tuple[str, str, date]]  # (golongan, pangkat, tmt)
    usulan: list[UsulanView]
    kp_eligible: bool
    kp_reasons: tuple[str, ...]


@dataclass(frozen=True)
class Dashboard:
    today: date
    status_counts: dict[str, int]
    kp_period: KpPeriod
    kp_window_open: bool
    kp_days_left: int
    kp_due_without_usulan: list[PegawaiView]
    pensiun_due_without_usulan: list[PegawaiView]
    missing_dokumen: int
    usulan_incomplete: int
    returned: list[UsulanView]
    pending_ops: int
    inbox_waiting: int
    pegawai_total: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ImportReport:
    created: int
    updated: int
    errors: list[RowError]


@dataclass(frozen=True)
class InboxItemView:
    """A scan intake could not file by itself, as the Kotak masuk shows it."""

    id: str
    original_name: str
    nip: str  # recognised NIP, "" when none
    pegawai_id: str  # the pegawai with that NIP in this store, "" when none
    pegawai_nama: str
    kode: str  # recognised dokumen kind, "" when none
    kode_nama: str
    pages: int
    size: int
    size_limit: int  # of the recognised kind; 0 when the kind is unknown
    terlalu_besar: bool
    reason: str
    state: str  # menunggu | diproses | dibuang
    created_at: str


@dataclass(frozen=True)
class InboxPreview:
    """What a person can see of a scan before filing it: pages and first-page text."""

    item: InboxItemView
    pages: int
    text_lines: list[str]
    note: str  # why there is no text, in Bahasa; "" when text_lines has some


@dataclass(frozen=True)
class DokumenChoice:
    """A dokumen kind a pegawai's open usulan needs (or may replace)."""

    usulan_id: str
    usulan_label: str
    kode: str
    nama: str
    state: str  # the checklist state: kurang | ada | terlalu_besar | dikembalikan


@dataclass(frozen=True)
class ConflictSide:
    """One side of a conflict as this device shows it: the value, who made it and when.

    The server calls the op that arrived second "mine" and the value it already held
    "theirs"; those words are the server's, so a device reads neither as its own: a side
    is this device's when its author is this device's id (computed here, on the device).
    """

    choice: str  # "mine" | "theirs": the word that picks this side when resolving
    value: Any
    device_id: str
    device_name: str  # the name the device enrolled with, "" if not known
    at: datetime | None
    this_device: bool

    @property
    def who(self) -> str:
        """ "Perangkat ini (Laptop Sari)", "Laptop Budi" or "Perangkat lain"."""
        if self.this_device:
            return f"Perangkat ini ({self.device_name})" if self.device_name else "Perangkat ini"
        return self.device_name or "Perangkat lain"


@dataclass(frozen=True)
class ConflictFieldView:
    """One field both sides changed: the base and both sides, who and when.

    `sides[0]` is this device's side when it made one; otherwise the side that reached
    the server first."""

    conflict_id: str
    field: str
    base: Any
    current: Any  # the value held locally now
    sides: tuple[ConflictSide, ConflictSide]

    @property
    def own_side(self) -> ConflictSide | None:
        return self.sides[0] if self.sides[0].this_device else None

    def side(self, choice: str) -> ConflictSide:
        return self.sides[0] if self.sides[0].choice == choice else self.sides[1]


@dataclass(frozen=True)
class ConflictRecordView:
    """A record with unresolved conflicts, for the list of the Konflik screen."""

    table_name: str
    record_id: str
    title: str
    fields: tuple[str, ...]
    since: str  # when the first conflict of this record arrived (ISO), "" if unknown


@dataclass(frozen=True)
class ConflictDetail:
    table_name: str
    record_id: str
    title: str
    fields: list[ConflictFieldView]


@dataclass(frozen=True)
class UploadView:
    """A stored document the server has not received whole yet."""

    sha256: str
    name: str
    sent: int
    total: int


@dataclass(frozen=True)
class RefusedUploadView:
    """A file the server refused to take, with the usulan and dokumen it belongs to."""

    sha256: str
    reason: str  # the server's, in Bahasa Indonesia
    dokumen_id: str
    dokumen: str  # the dokumen kind's name, or the file's
    usulan_id: str
    usulan: str  # "Usulan KP reguler — Dewi Lestari"


@dataclass(frozen=True)
class SyncStatus:
    """Where sync of this installation stands: the one description of it. `berkas status`
    prints it; the TUI's header and Sinkronisasi screen show it through the TUI's sync
    port, which adds what only a running scheduler knows (`next_sync`, `received`).
    Built by `client.sinkronisasi.status_of`."""

    enrolled: bool  # the server facts `berkas enrol` saved can be read
    server_url: str
    state: str  # sync.engine LinkState value
    state_label: str  # the engine's words for it, e.g. "terhubung"
    last_sync: datetime | None
    last_error: str
    pending_ops: int
    pending_uploads: int
    conflicts: int  # unresolved
    online: bool | None = None  # None when this device is not enrolled
    opd_kode: str = ""
    device_id: str = ""
    role: str = ""
    opd_key_held: bool = False
    lock_holder: str = ""  # the process syncing this store now, "" when none
    syncing: bool = False  # ... and that process is this one
    refused: list[dict[str, Any]] = field(default_factory=list)  # latest refused changes
    uploads: list[UploadView] = field(default_factory=list)  # the oldest unsent documents
    recent_errors: list[str] = field(default_factory=list)  # newest first, for a person
    next_sync: datetime | None = None
    received: int = 0  # records background syncs have pulled since the start

    @property
    def held_by(self) -> str:
        """Another process syncing this store now (e.g. `berkas agent`), "" otherwise."""
        return "" if self.syncing else self.lock_holder

    @property
    def upload_sent(self) -> int:
        return sum(u.sent for u in self.uploads)

    @property
    def upload_total(self) -> int:
        return sum(u.total for u in self.uploads)


@dataclass(frozen=True)
class SetupStep:
    """One step of the first-run flow (persiapan awal) and where it stands."""

    key: str  # "pendaftaran", "impor", "pindai"
    title: str
    state: str  # "menunggu", "selesai", "dilewati"
    detail: str  # what was done ("OPD DISDIK, perangkat ...", "412 pegawai", the folder)


@dataclass(frozen=True)
class SetupState:
    """The first-run flow of this home: its steps, the one to show, and the values its
    forms start with."""

    steps: tuple[SetupStep, ...]
    current: str | None  # the first step still waiting; None when none is
    enrolled: bool
    server_url: str
    operator: str
    device_name: str  # the name the device gets when none is typed
    scan_folder: Path
    pegawai: int

    @property
    def unfinished(self) -> bool:
        """Some step is still waiting or was skipped (the Beranda offers the flow)."""
        return any(step.state != "selesai" for step in self.steps)


@dataclass(frozen=True)
class EnrolView:
    """This device, once enrolled with the BKD server."""

    device_id: str
    opd_kode: str
    device_name: str
    opd_key_held: bool

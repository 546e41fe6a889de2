"""The OPD client's services: what the TUI and the CLI call.

They return plain frozen views (no ORM objects leave this module), run every
write through the store so its outbox entry is recorded, and compute "what is
due" and "what is missing" with the pure rules in store.rules.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import and_, func, or_, tuple_
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from client.config import ClientConfig, load_config
from client.errors import ClientError
from client.paths import Paths
from store import usulan as wf
from store.blobs import BlobStore
from store.database import Store, open_store, to_wire
from store.errors import StoreError
from store.hlc import parse_hlc
from store.models import (
    SYNCED_MODELS,
    Blob,
    Conflict,
    Dokumen,
    InboxItem,
    OutboxEntry,
    Pegawai,
    SyncedRecord,
    Usulan,
)
from store.pegawai import (
    PegawaiInput,
    RowError,
    get_pegawai_by_nip,
    parse_pegawai_csv,
    search_pegawai,
    upsert_pegawai,
)
from store.rules import (
    STATUS_LABELS,
    JabatanKind,
    KpJenis,
    KpPeriod,
    Layanan,
    Pendidikan,
    PensiunJenis,
    RulesConfig,
    UsulanStatus,
    bup_age,
    checklist,
    current_kp_period,
    dokumen_kinds,
    format_tanggal,
    jenis_options,
    kp_eligibility,
    load_rules_config,
    next_kp_period,
    parse_golongan,
    pensiun_due,
    tmt_pensiun,
)

if TYPE_CHECKING:
    from client.intake.service import IntakeService

PENSIUN_LEAD_MONTHS = 15
_LONG_AGO = date(1900, 1, 1)  # a TMT pangkat that passes any tenure rule
_SEP = "\x1f"  # joins dokumen codes in one SQL column (never part of a code)
# What a PegawaiView is made of: the dashboard reads these columns, not whole records.
_VIEW_COLUMNS = (
    col(Pegawai.id),
    col(Pegawai.nip),
    col(Pegawai.nama),
    col(Pegawai.golongan),
    col(Pegawai.jabatan),
    col(Pegawai.jabatan_kind),
    col(Pegawai.unit_kerja),
    col(Pegawai.pendidikan),
    col(Pegawai.tanggal_lahir),
    col(Pegawai.tmt_pangkat),
)


class _PegawaiFields(Protocol):
    """What a PegawaiView is made from: a Pegawai record or a row of _VIEW_COLUMNS."""

    @property
    def id(self) -> str: ...
    @property
    def nip(self) -> str: ...
    @property
    def nama(self) -> str: ...
    @property
    def golongan(self) -> str: ...
    @property
    def jabatan(self) -> str: ...
    @property
    def jabatan_kind(self) -> str: ...
    @property
    def unit_kerja(self) -> str: ...
    @property
    def pendidikan(self) -> str: ...
    @property
    def tanggal_lahir(self) -> date: ...
    @property
    def tmt_pangkat(self) -> date: ...


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
    pages: int
    nama_file: str
    catatan_verifikator: str


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


# -- views for the TUI: inbox, conflicts, uploads, choices -------------------------------


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
class ConflictFieldView:
    """One field both sides changed: the base and both values, who and when."""

    conflict_id: str
    field: str
    base: Any
    mine: Any
    theirs: Any
    current: Any  # the value held locally now
    mine_by: str
    theirs_by: str
    mine_at: datetime | None
    theirs_at: datetime | None
    mine_is_this_device: bool


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
class SyncFacts:
    """The link to the BKD as the sync engine recorded it (meta: state, last_sync, ...)."""

    enrolled: bool
    server_url: str
    state: str  # sync.engine.errors.LinkState value
    state_label: str
    last_sync: datetime | None
    last_error: str
    refused: list[str]  # the server's reasons for the latest refused changes


CONFLICT_CHOICES = ("mine", "theirs", "edit")


class BerkasClient:
    """One open OPD installation: its config, store and rules."""

    def __init__(self, paths: Paths, store: Store, config: ClientConfig, rules: RulesConfig):
        self.paths = paths
        self.store = store
        self.config = config
        self.rules = rules
        self._bup: dict[str, int] = {}
        self._pangkat: dict[str, str] = {}
        self._intake_service: IntakeService | None = None

    @classmethod
    def open(cls, paths: Paths) -> BerkasClient:
        config = load_config(paths.config)
        rules = load_rules_config(config.rules_override)
        try:
            store = open_store(paths.store, opd_id=config.opd_kode or None, person=config.operator)
        except StoreError as exc:
            raise ClientError(exc.message, exc.cause) from exc
        return cls(paths, store, config, rules)

    def close(self) -> None:
        if self._intake_service is not None:
            self._intake_service.close()
        self.store.close()

    # -- views ------------------------------------------------------------------------

    def _pegawai_view(self, p: _PegawaiFields) -> PegawaiView:
        # Thousands of views at once on the Beranda: look each kind and golongan up once.
        bup = self._bup.get(p.jabatan_kind)
        if bup is None:
            bup = self._bup[p.jabatan_kind] = bup_age(JabatanKind(p.jabatan_kind), self.rules)
        pangkat = self._pangkat.get(p.golongan)
        if pangkat is None:
            pangkat = self._pangkat[p.golongan] = parse_golongan(p.golongan).pangkat
        return PegawaiView(
            id=p.id,
            nip=p.nip,
            nama=p.nama,
            golongan=p.golongan,
            pangkat=pangkat,
            jabatan=p.jabatan,
            jabatan_kind=p.jabatan_kind,
            unit_kerja=p.unit_kerja,
            pendidikan=p.pendidikan,
            tanggal_lahir=p.tanggal_lahir,
            tmt_pangkat=p.tmt_pangkat,
            bup=bup,
            tmt_pensiun=tmt_pensiun(p.tanggal_lahir, bup),
        )

    def _usulan_view(self, session: Session, u: Usulan, nama: str | None = None) -> UsulanView:
        if nama is None:
            p = session.get(Pegawai, u.pegawai_id)
            nama = p.nama if p else ""
        pending = session.exec(
            select(func.count()).select_from(OutboxEntry).where(OutboxEntry.record_id == u.id)
        ).one()
        return UsulanView(
            id=u.id,
            pegawai_id=u.pegawai_id,
            nip=u.nip,
            nama=nama,
            layanan=u.layanan,
            jenis=u.jenis,
            periode=u.periode,
            status=u.status,
            status_label=STATUS_LABELS[UsulanStatus(u.status)],
            catatan_verifikator=u.catatan_verifikator,
            kurang=len(wf.missing_for(session, u, self.rules)),
            pending_sync=pending > 0,
        )

    # -- pegawai ----------------------------------------------------------------------

    def search_pegawai(self, query: str, limit: int = 100) -> list[PegawaiView]:
        with self.store.read() as session:
            return [self._pegawai_view(p) for p in search_pegawai(session, query, limit=limit)]

    def count_pegawai(self) -> int:
        with self.store.read() as session:
            stmt = select(func.count()).select_from(Pegawai).where(col(Pegawai.deleted).is_(False))
            return int(session.exec(stmt).one())

    def pegawai_detail(self, pegawai_id: str, today: date | None = None) -> PegawaiDetail:
        today = today or date.today()
        with self.store.read() as session:
            p = session.get(Pegawai, pegawai_id)
            if p is None or p.deleted:
                raise ClientError("Pegawai tidak ditemukan.", pegawai_id)
            riwayat = []
            for entry in p.riwayat_pangkat or []:
                gol = parse_golongan(str(entry.get("golongan", "")))
                riwayat.append((gol.kode, gol.pangkat, date.fromisoformat(str(entry["tmt"]))))
            gol = parse_golongan(p.golongan)
            riwayat.append((gol.kode, gol.pangkat, p.tmt_pangkat))
            period = next_kp_period(today, self.rules)
            elig = kp_eligibility(
                golongan=gol,
                tmt_pangkat=p.tmt_pangkat,
                pendidikan=Pendidikan(p.pendidikan),
                period_tmt=period.tmt,
                jenis=KpJenis.REGULER,
                config=self.rules,
            )
            usulan = [
                self._usulan_view(session, u, p.nama) for u in wf.usulan_of_pegawai(session, p.id)
            ]
            return PegawaiDetail(
                pegawai=self._pegawai_view(p),
                riwayat_pangkat=riwayat,
                usulan=usulan,
                kp_eligible=elig.eligible,
                kp_reasons=elig.reasons,
            )

    def import_pegawai_csv(self, path: Path) -> ImportReport:
        """Import valid rows in one transaction; bad rows are reported, not imported."""
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise ClientError(f"Berkas {path} tidak dapat dibaca.", repr(exc)) from exc
        try:
            parsed = parse_pegawai_csv(content)
        except StoreError as exc:
            raise ClientError(exc.message, exc.cause) from exc
        created = updated = 0
        with self.store.write() as session:
            for _line, row in parsed.rows:
                _, was_created = upsert_pegawai(session, row)
                created += was_created
                updated += not was_created
        return ImportReport(created=created, updated=updated, errors=parsed.errors)

    def add_pegawai(self, data: PegawaiInput) -> PegawaiView:
        with self.store.write() as session:
            record, _ = upsert_pegawai(session, data)
            return self._pegawai_view(record)

    # -- usulan -----------------------------------------------------------------------

    def list_usulan(
        self,
        *,
        layanan: str | None = None,
        status: str | None = None,
        periode: date | None = None,
        limit: int = 500,
    ) -> list[UsulanView]:
        with self.store.read() as session:
            stmt = (
                select(Usulan, Pegawai.nama)
                .join(Pegawai, col(Pegawai.id) == col(Usulan.pegawai_id))
                .where(col(Usulan.deleted).is_(False))
            )
            if layanan:
                stmt = stmt.where(Usulan.layanan == layanan)
            if status:
                stmt = stmt.where(Usulan.status == status)
            if periode:
                stmt = stmt.where(Usulan.periode == periode)
            stmt = stmt.order_by(col(Usulan.updated_at).desc()).limit(limit)
            return [self._usulan_view(session, u, nama) for u, nama in session.exec(stmt)]

    def create_usulan(
        self,
        pegawai_id: str,
        layanan: str,
        jenis: str,
        *,
        periode: date | None = None,
        berlaku: list[str] | None = None,
        today: date | None = None,
    ) -> UsulanView:
        """A new draft. Without a periode, KP takes the next period and pensiun
        the computed TMT."""
        today = today or date.today()
        with self.store.write() as session:
            p = session.get(Pegawai, pegawai_id)
            if p is None or p.deleted:
                raise ClientError("Pegawai tidak ditemukan.", pegawai_id)
            if periode is None and layanan == Layanan.KP.value:
                periode = next_kp_period(today, self.rules).tmt
            if periode is None and layanan == Layanan.PENSIUN.value:
                periode = tmt_pensiun(
                    p.tanggal_lahir, bup_age(JabatanKind(p.jabatan_kind), self.rules)
                )
            try:
                u = wf.create_usulan(
                    session, p, layanan, jenis, periode=periode, berlaku=berlaku or []
                )
            except StoreError as exc:
                raise ClientError(exc.message, exc.cause) from exc
            session.flush()
            return self._usulan_view(session, u, p.nama)

    def usulan_detail(self, usulan_id: str) -> UsulanDetail:
        kinds = dokumen_kinds(self.rules)
        with self.store.read() as session:
            u = session.get(Usulan, usulan_id)
            if u is None or u.deleted:
                raise ClientError("Usulan tidak ditemukan.", usulan_id)
            lines = []
            for line in wf.checklist_lines(session, u, self.rules):
                d = line.dokumen
                lines.append(
                    ChecklistLineView(
                        kode=line.item.kode,
                        nama=line.item.nama,
                        required=line.required,
                        state=line.state,
                        dokumen_id=d.id if d else None,
                        size=d.size if d else 0,
                        size_limit=kinds[line.item.kode].size_limit,
                        pages=d.pages if d else 0,
                        nama_file=d.nama_file if d else "",
                        catatan_verifikator=d.catatan_verifikator if d else "",
                    )
                )
            history = [
                HistoryView(
                    h.dari_status, h.ke_status, h.oleh_nama, h.oleh_perangkat, h.waktu, h.alasan
                )
                for h in wf.history_of(session, u.id)
            ]
            return UsulanDetail(
                usulan=self._usulan_view(session, u),
                checklist=lines,
                history=history,
                missing=wf.missing_for(session, u, self.rules),
            )

    def set_berlaku(self, usulan_id: str, kodes: list[str]) -> None:
        """Mark which optional checklist items apply to this usulan."""
        with self.store.write() as session:
            u = self._editable(session, usulan_id)
            u.berlaku = sorted(set(kodes))
            session.add(u)

    def _editable(self, session: Session, usulan_id: str) -> Usulan:
        u = session.get(Usulan, usulan_id)
        if u is None or u.deleted:
            raise ClientError("Usulan tidak ditemukan.", usulan_id)
        return u

    def attach_stored(
        self, usulan_id: str, kode: str, *, sha256: str, size: int, pages: int, terlalu_besar: bool
    ) -> None:
        """File an already-stored blob as a dokumen of this usulan."""
        with self.store.write() as session:
            u = self._editable(session, usulan_id)
            try:
                wf.attach_dokumen(
                    session,
                    u,
                    kode,
                    sha256=sha256,
                    size=size,
                    pages=pages,
                    terlalu_besar=terlalu_besar,
                )
            except StoreError as exc:
                raise ClientError(exc.message, exc.cause) from exc

    def remove_dokumen(self, dokumen_id: str) -> None:
        with self.store.write() as session:
            d = session.get(Dokumen, dokumen_id)
            if d is None or d.deleted:
                raise ClientError("Dokumen tidak ditemukan.", dokumen_id)
            try:
                wf.remove_dokumen(session, d)
            except StoreError as exc:
                raise ClientError(exc.message, exc.cause) from exc

    def ajukan(self, usulan_id: str, alasan: str = "Diajukan ke BKD") -> UsulanView:
        """Submit (draft or BTS -> diajukan); refused while the checklist is incomplete."""
        with self.store.write() as session:
            u = self._editable(session, usulan_id)
            try:
                wf.ajukan(session, u, alasan=alasan)
            except StoreError as exc:
                raise ClientError(exc.message, exc.cause) from exc
            session.flush()
            return self._usulan_view(session, u)

    # -- inbox and outbox -------------------------------------------------------------

    def pending_ops(self) -> int:
        with self.store.read() as session:
            return int(session.exec(select(func.count()).select_from(OutboxEntry)).one())

    def inbox_waiting(self) -> int:
        with self.store.read() as session:
            stmt = select(func.count()).select_from(InboxItem).where(InboxItem.state == "menunggu")
            return int(session.exec(stmt).one())

    # -- what is due ------------------------------------------------------------------

    def dashboard(self, today: date | None = None) -> Dashboard:
        """Usulan by status and what is due. Counting, the "without an usulan" tests and
        the date bounds run in SQL; the rules (store.rules) decide on the few rows left."""
        today = today or date.today()
        period = current_kp_period(today, self.rules) or next_kp_period(today, self.rules)
        with self.store.read() as session:
            counts = _status_counts(session)
            kp_due = self._kp_due_without_usulan(session, period)
            pensiun = self._pensiun_due_without_usulan(session, today)
            missing_total, incomplete = self._missing_in_open_usulan(session)
            returned_rows = session.exec(
                select(Usulan, col(Pegawai.nama))
                .join(Pegawai, col(Pegawai.id) == col(Usulan.pegawai_id), isouter=True)
                .where(col(Usulan.deleted).is_(False))
                .where(col(Usulan.status) == UsulanStatus.DIKEMBALIKAN.value)
            ).all()
            returned = [self._usulan_view(session, u, nama or "") for u, nama in returned_rows]
            total = int(
                session.exec(
                    select(func.count()).select_from(Pegawai).where(col(Pegawai.deleted).is_(False))
                ).one()
            )
        return Dashboard(
            today=today,
            status_counts={s.value: counts.get(s.value, 0) for s in UsulanStatus},
            kp_period=period,
            kp_window_open=period.window_open(today),
            kp_days_left=period.days_left(today),
            kp_due_without_usulan=sorted(kp_due, key=lambda v: v.nama),
            pensiun_due_without_usulan=sorted(pensiun, key=lambda v: v.tmt_pensiun),
            missing_dokumen=missing_total,
            usulan_incomplete=incomplete,
            returned=returned,
            pending_ops=self.pending_ops(),
            inbox_waiting=self.inbox_waiting(),
            pegawai_total=total,
        )

    def _kp_due_without_usulan(self, session: Session, period: KpPeriod) -> list[PegawaiView]:
        """PNS eligible for KP reguler at `period` with no KP usulan for that period."""
        required_years = self.rules.kp.min_years[KpJenis.REGULER]
        # Whole months in pangkat >= required years: nobody promoted after this date can
        # qualify (a month of slack; the rule below decides exactly).
        cutoff = _month_start(period.tmt, -12 * required_years + 1)
        has_kp = (
            select(col(Usulan.id))
            .where(col(Usulan.pegawai_id) == col(Pegawai.id))
            .where(col(Usulan.deleted).is_(False))
            .where(col(Usulan.layanan) == Layanan.KP.value)
            .where(col(Usulan.periode) == period.tmt)
        )
        candidates = (
            select_columns(*_VIEW_COLUMNS)
            .where(col(Pegawai.deleted).is_(False))
            .where(col(Pegawai.jenis_pegawai) == "pns")
            .where(col(Pegawai.tmt_pangkat) <= cutoff)
            .where(~has_kp.exists())
        )
        # The top golongan and the education ceiling depend on (golongan, pendidikan)
        # alone: ask the rule once per pair present, with a tenure long enough to pass.
        pairs = session.exec(
            select(col(Pegawai.golongan), col(Pegawai.pendidikan))
            .where(col(Pegawai.deleted).is_(False))
            .where(col(Pegawai.jenis_pegawai) == "pns")
            .where(col(Pegawai.tmt_pangkat) <= cutoff)
            .where(~has_kp.exists())
            .distinct()
        ).all()
        open_pairs = [
            (golongan, pendidikan)
            for golongan, pendidikan in pairs
            if self._kp_eligible(golongan, pendidikan, _LONG_AGO, period)
        ]
        if not open_pairs:
            return []
        candidates = candidates.where(
            tuple_(col(Pegawai.golongan), col(Pegawai.pendidikan)).in_(open_pairs)
        )
        return [
            self._pegawai_view(row)
            for row in session.execute(candidates)
            if self._kp_eligible(row.golongan, row.pendidikan, row.tmt_pangkat, period)
        ]

    def _kp_eligible(
        self, golongan: str, pendidikan: str, tmt_pangkat: date, period: KpPeriod
    ) -> bool:
        return kp_eligibility(
            golongan=parse_golongan(golongan),
            tmt_pangkat=tmt_pangkat,
            pendidikan=Pendidikan(pendidikan),
            period_tmt=period.tmt,
            jenis=KpJenis.REGULER,
            config=self.rules,
        ).eligible

    def _pensiun_due_without_usulan(self, session: Session, today: date) -> list[PegawaiView]:
        """Pegawai whose TMT pensiun BUP falls within the lead months, with no pensiun usulan."""
        has_pensiun = (
            select(col(Usulan.id))
            .where(col(Usulan.pegawai_id) == col(Pegawai.id))
            .where(col(Usulan.deleted).is_(False))
            .where(col(Usulan.layanan) == Layanan.PENSIUN.value)
        )
        # TMT = the 1st of the month after the BUP birthday, so that birthday lies from
        # a month before today to the end of the lead: per BUP age, a birth date range
        # (a month of slack each side; pensiun_due decides exactly).
        lead = PENSIUN_LEAD_MONTHS
        by_age: dict[int, list[str]] = {}
        for kind in JabatanKind:
            by_age.setdefault(bup_age(kind, self.rules), []).append(kind.value)
        ranges = [
            and_(
                col(Pegawai.jabatan_kind).in_(kinds),
                col(Pegawai.tanggal_lahir) >= _month_start(today, -12 * age - 2),
                col(Pegawai.tanggal_lahir) < _month_start(today, lead - 12 * age + 2),
            )
            for age, kinds in by_age.items()
        ]
        rows = session.execute(
            select_columns(*_VIEW_COLUMNS)
            .where(col(Pegawai.deleted).is_(False))
            .where(or_(*ranges))
            .where(~has_pensiun.exists())
        )
        return [
            self._pegawai_view(row)
            for row in rows
            if pensiun_due(
                row.tanggal_lahir,
                JabatanKind(row.jabatan_kind),
                today,
                lead,
                self.rules,
            )
            is not None
        ]

    def _missing_in_open_usulan(self, session: Session) -> tuple[int, int]:
        """(dokumen missing in all, usulan missing any) over the usulan still open for edit."""
        ok_kodes = func.group_concat(col(Dokumen.kode), _SEP)
        stmt = (
            select(col(Usulan.layanan), col(Usulan.jenis), col(Usulan.berlaku), ok_kodes)
            .join(
                Dokumen,
                and_(
                    col(Dokumen.usulan_id) == col(Usulan.id),
                    col(Dokumen.deleted).is_(False),
                    col(Dokumen.state) == "ada",
                ),
                isouter=True,
            )
            .where(col(Usulan.deleted).is_(False))
            .where(col(Usulan.status).in_(wf.OPEN_FOR_EDIT))
            .group_by(col(Usulan.id))
        )
        required: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
        missing_total = incomplete = 0
        for layanan, jenis, berlaku, kodes in session.exec(stmt):
            key = (layanan, jenis, tuple(sorted(berlaku or ())))
            if key not in required:
                required[key] = wf.required_kodes(layanan, jenis, key[2], self.rules)
            have = set(kodes.split(_SEP)) if kodes else set()
            missing = sum(kode not in have for kode in required[key])
            missing_total += missing
            incomplete += missing > 0
        return missing_total, incomplete

    def pegawai_by_nip(self, nip: str) -> PegawaiView | None:
        with self.store.read() as session:
            p = get_pegawai_by_nip(session, nip)
            return self._pegawai_view(p) if p else None

    # -- choices for forms --------------------------------------------------------------

    def layanan_choices(self) -> list[tuple[str, str]]:
        """(value, label) of every layanan."""
        return [(item.value, item.label) for item in Layanan]

    def jenis_choices(self, layanan: str) -> list[tuple[str, str]]:
        """(value, label) of the jenis a layanan offers, in configured order."""
        labels: dict[str, str] = {k.value: k.label for k in KpJenis}
        labels.update({k.value: k.label for k in PensiunJenis})
        return [
            (jenis, labels.get(jenis, jenis.replace("_", " ").capitalize()))
            for jenis in jenis_options(Layanan(layanan), self.rules)
        ]

    def optional_kodes(self, layanan: str, jenis: str) -> set[str]:
        """Checklist items that apply only to some pegawai (the trailing * of DOMAIN.md)."""
        items = checklist(Layanan(layanan), jenis, self.rules)
        return {item.kode for item in items if item.optional}

    def usulan_periods(self) -> list[date]:
        """Every periode some usulan has, newest first (for the list filter)."""
        with self.store.read() as session:
            stmt = (
                select(col(Usulan.periode))
                .where(col(Usulan.deleted).is_(False))
                .where(col(Usulan.periode).is_not(None))
                .distinct()
                .order_by(col(Usulan.periode).desc())
            )
            return [p for p in session.exec(stmt) if p is not None]

    def dokumen_choices(self, nip: str) -> list[DokumenChoice]:
        """The dokumen kinds the open usulan of this pegawai take, missing ones first."""
        kinds = dokumen_kinds(self.rules)
        choices: list[DokumenChoice] = []
        with self.store.read() as session:
            p = get_pegawai_by_nip(session, nip)
            if p is None:
                return []
            for u in wf.usulan_of_pegawai(session, p.id):
                if u.status not in wf.OPEN_FOR_EDIT:
                    continue
                label = _usulan_label(u, self.jenis_choices(u.layanan))
                for line in wf.checklist_lines(session, u, self.rules):
                    if line.state == "tidak_berlaku":
                        continue
                    choices.append(
                        DokumenChoice(
                            usulan_id=u.id,
                            usulan_label=label,
                            kode=line.item.kode,
                            nama=line.item.nama or kinds[line.item.kode].nama,
                            state=line.state,
                        )
                    )
        order = {"kurang": 0, "dikembalikan": 1, "terlalu_besar": 2, "ada": 3}
        return sorted(choices, key=lambda c: order.get(c.state, 9))

    # -- dokumen from a file ------------------------------------------------------------

    def attach_file(self, usulan_id: str, kode: str, path: Path) -> ChecklistLineView:
        """Store a PDF from disk (encrypted, content-addressed) and file it as this
        usulan's dokumen `kode`, replacing an earlier one of that kind."""
        blobs = self._blob_store()
        pages = _pdf_pages(path)
        try:
            stored = blobs.put(path)
        except StoreError as exc:
            raise ClientError(exc.message, exc.cause) from exc
        except Exception as exc:  # the cipher: keys unreadable, ...
            message = str(getattr(exc, "message", "")) or "kunci perangkat tidak dapat dibuka."
            raise ClientError(f"Dokumen tidak dapat disimpan: {message}", repr(exc)) from exc
        limit = self._size_limit(kode)
        with self.store.write() as session:
            if session.get(Blob, stored.sha256) is None:
                session.add(
                    Blob(
                        sha256=stored.sha256,
                        size=stored.size,
                        cipher_size=stored.cipher_size,
                        pages=pages,
                        created_at=_now_iso(),
                    )
                )
            u = self._editable(session, usulan_id)
            try:
                wf.attach_dokumen(
                    session,
                    u,
                    kode,
                    sha256=stored.sha256,
                    size=stored.size,
                    pages=pages,
                    terlalu_besar=bool(limit) and stored.size > limit,
                )
            except StoreError as exc:
                raise ClientError(exc.message, exc.cause) from exc
        for line in self.usulan_detail(usulan_id).checklist:
            if line.kode == kode:
                return line
        raise ClientError("Dokumen tidak termasuk daftar periksa usulan ini.", kode)

    def _size_limit(self, kode: str) -> int:
        kind = dokumen_kinds(self.rules).get(kode)
        return kind.size_limit if kind else 0

    def _blob_store(self) -> BlobStore:
        """The encrypted local blob store, opened on first use (device keys are made
        then if need be; tests and callers may set `self.blobs` beforehand)."""
        blobs: BlobStore | None = getattr(self, "blobs", None)
        if blobs is None:
            try:
                blobs = _open_blob_store(self.paths)
            except Exception as exc:  # keys unreadable, wrong passphrase, ...
                raise ClientError(
                    "Penyimpanan dokumen belum siap di perangkat ini: "
                    + str(getattr(exc, "message", "kunci perangkat tidak dapat dibuka."))
                    + " Letakkan pindaian di folder pindai, atau hubungi admin BKD.",
                    repr(exc),
                ) from exc
            self.blobs = blobs
        return blobs

    # -- inbox ----------------------------------------------------------------------------

    def _inbox_view(self, session: Session, item: InboxItem) -> InboxItemView:
        kinds = dokumen_kinds(self.rules)
        kind = kinds.get(item.kode) if item.kode else None
        p = get_pegawai_by_nip(session, item.nip) if item.nip else None
        return InboxItemView(
            id=item.id,
            original_name=item.original_name,
            nip=item.nip,
            pegawai_id=p.id if p else "",
            pegawai_nama=p.nama if p else "",
            kode=item.kode,
            kode_nama=kind.nama if kind else "",
            pages=item.pages,
            size=item.size,
            size_limit=kind.size_limit if kind else 0,
            terlalu_besar=item.terlalu_besar,
            reason=item.reason,
            state=item.state,
            created_at=item.created_at,
        )

    def list_inbox(self, state: str = "menunggu", limit: int = 1000) -> list[InboxItemView]:
        """Scans waiting for a person (or, by state, those already handled)."""
        with self.store.read() as session:
            stmt = (
                select(InboxItem)
                .where(InboxItem.state == state)
                .order_by(col(InboxItem.created_at), col(InboxItem.id))
                .limit(limit)
            )
            return [self._inbox_view(session, item) for item in session.exec(stmt)]

    def inbox_item(self, item_id: str) -> InboxItemView:
        with self.store.read() as session:
            item = session.get(InboxItem, item_id)
            if item is None:
                raise ClientError("Pindaian tidak ditemukan di kotak masuk.", item_id)
            return self._inbox_view(session, item)

    def inbox_preview(self, item_id: str, max_lines: int = 12) -> InboxPreview:
        """Page count and, when the PDF has a text layer, the first lines of page one.

        The scan is decrypted into a temporary file inside the data folder (never
        /tmp: it is personal data) and removed at once."""
        view = self.inbox_item(item_id)
        try:
            blobs = self._blob_store()
        except ClientError:
            return InboxPreview(view, view.pages, [], "Pratinjau belum tersedia di perangkat ini.")
        scratch = self.paths.data / "tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        with self.store.read() as session:
            item = session.get(InboxItem, item_id)
            sha = item.sha256 if item else ""
        with tempfile.TemporaryDirectory(dir=scratch) as tmp:
            target = Path(tmp) / "pratinjau.pdf"
            try:
                blobs.decrypt_to(sha, target)
            except StoreError as exc:
                return InboxPreview(view, view.pages, [], exc.message)
            except Exception:  # a blob this device cannot open (other keys)
                return InboxPreview(
                    view, view.pages, [], "Pindaian ini tidak dapat dibuka di perangkat ini."
                )
            pages, lines = _pdf_first_page_text(target, max_lines)
        if pages < 0:
            return InboxPreview(view, view.pages, [], "Berkas ini tidak dapat dibaca sebagai PDF.")
        note = "" if lines else "Halaman pertama tidak memiliki lapisan teks (hasil pindai gambar)."
        return InboxPreview(view, pages, lines, note)

    def attach_inbox_item(self, item_id: str, usulan_id: str, kode: str) -> None:
        """File a waiting scan (its blob is already stored) into this usulan as `kode`."""
        with self.store.write() as session:
            item = self._waiting_item(session, item_id)
            u = self._editable(session, usulan_id)
            limit = self._size_limit(kode)
            try:
                wf.attach_dokumen(
                    session,
                    u,
                    kode,
                    sha256=item.sha256,
                    size=item.size,
                    pages=item.pages,
                    terlalu_besar=item.terlalu_besar or (bool(limit) and item.size > limit),
                )
            except StoreError as exc:
                raise ClientError(exc.message, exc.cause) from exc
            item.state = "diproses"
            session.add(item)

    def assign_inbox_item(self, item_id: str, pegawai_nip: str, kode: str) -> UsulanView:
        """File a waiting scan for a pegawai as dokumen `kode`, through intake: into the
        pegawai's open usulan that takes `kode` (re-shrunk first if that kind's size
        limit is smaller). Returns that usulan."""
        from client.intake.errors import IntakeError

        try:
            dokumen = self._intake().assign_inbox_item(item_id, pegawai_nip, kode)
        except (IntakeError, StoreError) as exc:
            raise ClientError(exc.message, exc.cause) from exc
        with self.store.read() as session:
            u = session.get(Usulan, dokumen.usulan_id)
            if u is None:
                raise ClientError("Usulan tidak ditemukan.", dokumen.usulan_id)
            return self._usulan_view(session, u)

    def discard_inbox_item(self, item_id: str, reason: str) -> Path | None:
        """Set a scan aside, through intake: it leaves the inbox with the reason kept,
        and a copy goes to the scan folder's karantina/ beside its reason (returned)."""
        from client.intake.errors import IntakeError

        try:
            return self._intake().discard_inbox_item(item_id, reason)
        except (IntakeError, StoreError) as exc:
            raise ClientError(exc.message, exc.cause) from exc

    def accept_inbox_suggestion(self, item_id: str) -> UsulanView:
        """The Kotak masuk's one key: file a waiting scan where its suggestion
        ("Dikenali dari isi: NIP ..., SK Pangkat", or "pengganti?") says."""
        from client.intake.errors import IntakeError

        try:
            dokumen = self._intake().accept_suggestion(item_id)
        except (IntakeError, StoreError) as exc:
            raise ClientError(exc.message, exc.cause) from exc
        with self.store.read() as session:
            u = session.get(Usulan, dokumen.usulan_id)
            if u is None:
                raise ClientError("Usulan tidak ditemukan.", dokumen.usulan_id)
            return self._usulan_view(session, u)

    def separator_sheets(self, usulan_id: str, target: Path) -> int:
        """Print the usulan's separator sheets (one per missing line) to the PDF
        `target`; returns how many."""
        from client.intake.errors import IntakeError
        from client.intake.sheets import separator_sheets

        try:
            return len(separator_sheets(self.store, usulan_id, target, self.rules))
        except IntakeError as exc:
            raise ClientError(exc.message, exc.cause) from exc

    def _intake(self) -> IntakeService:
        """Intake's service over this client's store and blob store, made on first use."""
        if self._intake_service is None:
            from client.intake.service import IntakeService

            settings = self.config.intake
            if not settings.scan_folders:  # as `berkas intake` does: HOME/pindai
                settings = settings.model_copy(update={"scan_folders": [self.paths.scans]})
            self._intake_service = IntakeService(
                self.store, self._blob_store(), settings, self.rules
            )
        return self._intake_service

    def _waiting_item(self, session: Session, item_id: str) -> InboxItem:
        item = session.get(InboxItem, item_id)
        if item is None:
            raise ClientError("Pindaian tidak ditemukan di kotak masuk.", item_id)
        if item.state != "menunggu":
            raise ClientError("Pindaian ini sudah diproses.", f"inbox {item_id} is {item.state}")
        return item

    # -- conflicts ------------------------------------------------------------------------

    def count_conflicts(self) -> int:
        with self.store.read() as session:
            stmt = select(func.count()).select_from(Conflict)
            stmt = stmt.where(col(Conflict.resolved).is_(False))
            return int(session.exec(stmt).one())

    def list_conflicts(self) -> list[ConflictRecordView]:
        """Records with unresolved conflicts, oldest first, one entry per record."""
        with self.store.read() as session:
            rows = session.exec(
                select(Conflict)
                .where(col(Conflict.resolved).is_(False))
                .order_by(col(Conflict.created_at), col(Conflict.id))
            )
            grouped: dict[tuple[str, str], list[Conflict]] = {}
            for c in rows:
                grouped.setdefault((c.table_name, c.record_id), []).append(c)
            return [
                ConflictRecordView(
                    table_name=table,
                    record_id=record_id,
                    title=self._record_title(session, table, record_id),
                    fields=tuple(c.field for c in conflicts),
                    since=conflicts[0].created_at,
                )
                for (table, record_id), conflicts in grouped.items()
            ]

    def conflict_detail(self, record_id: str) -> ConflictDetail:
        """Every unresolved conflict of one record, field by field, side by side."""
        with self.store.read() as session:
            conflicts = list(
                session.exec(
                    select(Conflict)
                    .where(Conflict.record_id == record_id)
                    .where(col(Conflict.resolved).is_(False))
                    .order_by(col(Conflict.created_at), col(Conflict.id))
                )
            )
            if not conflicts:
                raise ClientError("Tidak ada konflik yang menunggu untuk data ini.", record_id)
            table = conflicts[0].table_name
            model = SYNCED_MODELS.get(table)
            record = session.get(model, record_id) if model else None
            device = self.store.context.device_id
            fields = [
                ConflictFieldView(
                    conflict_id=c.id,
                    field=c.field,
                    base=c.base,
                    mine=c.mine,
                    theirs=c.theirs,
                    current=to_wire(getattr(record, c.field, None)) if record else None,
                    mine_by=c.mine_by,
                    theirs_by=c.theirs_by,
                    mine_at=_hlc_time(c.mine_at),
                    theirs_at=_hlc_time(c.theirs_at),
                    mine_is_this_device=c.mine_by in ("", device),
                )
                for c in conflicts
            ]
            return ConflictDetail(
                table_name=table,
                record_id=record_id,
                title=self._record_title(session, table, record_id),
                fields=fields,
            )

    def resolve_conflict(self, conflict_id: str, choice: str, value: Any = None) -> None:
        """Decide one conflict: keep mine, take theirs, or an edited value."""
        self.resolve_conflicts({conflict_id: (choice, value)})

    def resolve_conflicts(self, decisions: Mapping[str, tuple[str, Any]]) -> None:
        """Decide conflicts of one record in one transaction.

        The record takes the chosen values inside `store.write()`, so the outbox
        hook records one op; that op's `resolves` names every conflict decided, and
        it carries every decided field, so the server applies the decision even
        where the local value did not change (choosing "mine")."""
        if not decisions:
            return
        with self.store.write() as session:
            conflicts: list[Conflict] = []
            for conflict_id in decisions:
                c = session.get(Conflict, conflict_id)
                if c is None:
                    raise ClientError("Konflik tidak ditemukan.", conflict_id)
                if c.resolved:
                    raise ClientError("Konflik ini sudah diselesaikan.", conflict_id)
                conflicts.append(c)
            table, record_id = conflicts[0].table_name, conflicts[0].record_id
            if any((c.table_name, c.record_id) != (table, record_id) for c in conflicts):
                raise ClientError(
                    "Konflik yang diputuskan bersama harus dari data yang sama.", record_id
                )
            model = SYNCED_MODELS.get(table)
            record = session.get(model, record_id) if model else None
            if model is None or record is None:
                raise ClientError("Data yang berkonflik tidak ada di perangkat ini.", record_id)
            last_seq = session.exec(
                select(func.max(OutboxEntry.seq)).where(OutboxEntry.record_id == record_id)
            ).one()
            chosen: dict[str, Any] = {}
            current: dict[str, Any] = {}
            for c in conflicts:
                choice, edited = decisions[c.id]
                if choice == "mine":
                    wire = c.mine
                elif choice == "theirs":
                    wire = c.theirs
                elif choice == "edit":
                    wire = to_wire(_value_for_field(model, c.field, edited))
                else:
                    raise ClientError(f"Pilihan tidak dikenal: {choice}.", choice)
                current[c.field] = to_wire(getattr(record, c.field))
                chosen[c.field] = wire
                setattr(record, c.field, _value_for_field(model, c.field, wire))
                c.resolved = True
                c.resolution = wire
                session.add(c)
            session.add(record)
            session.flush()
            stmt = select(OutboxEntry).where(OutboxEntry.record_id == record_id)
            if last_seq is not None:
                stmt = stmt.where(col(OutboxEntry.seq) > last_seq)
            entry = session.exec(stmt.order_by(col(OutboxEntry.seq).desc())).first()
            if entry is None:
                # Every chosen value was already the local one: the hook saw no change,
                # yet the server must hear the decision. The record keeps its stamp: the
                # server changes no value either, so it keeps its own (stamping the row
                # here would leave this device differing from every other for good).
                entry = OutboxEntry(
                    table_name=table,
                    record_id=record_id,
                    opd_id=record.opd_id,
                    base_version=record.version,
                    changes={},
                    hlc=self.store.context.clock.now(),
                )
            changes = dict(entry.changes or {})
            for name, wire in chosen.items():
                changes.setdefault(name, {"base": current[name], "new": wire})
            entry.changes = changes
            entry.resolves = [*(entry.resolves or []), *(c.id for c in conflicts)]
            session.add(entry)

    def _record_title(self, session: Session, table: str, record_id: str) -> str:
        model = SYNCED_MODELS.get(table)
        record = session.get(model, record_id) if model else None
        if isinstance(record, Pegawai):
            return f"Pegawai {record.nama} ({record.nip})"
        if isinstance(record, Usulan):
            p = session.get(Pegawai, record.pegawai_id)
            label = _usulan_label(record, self.jenis_choices(record.layanan))
            return f"Usulan {label} — {p.nama if p else record.nip}"
        if isinstance(record, Dokumen):
            u = session.get(Usulan, record.usulan_id)
            p = session.get(Pegawai, u.pegawai_id) if u else None
            kind = dokumen_kinds(self.rules).get(record.kode)
            nama = kind.nama if kind else record.kode
            return f"Dokumen {nama} — {p.nama}" if p else f"Dokumen {nama}"
        names = {"usulan_history": "Riwayat usulan"}
        return f"{names.get(table, table)} {record_id[:8]}"

    # -- sync facts (for the Sinkronisasi screen's offline port) ---------------------------

    def pending_uploads(self, limit: int = 200) -> list[UploadView]:
        """Stored documents the server has not received whole, oldest first."""
        with self.store.read() as session:
            blobs = list(
                session.exec(
                    select(Blob)
                    .where(col(Blob.uploaded).is_(False))
                    .order_by(col(Blob.created_at), col(Blob.sha256))
                    .limit(limit)
                )
            )
            views = []
            for b in blobs:
                dok = select(Dokumen.nama_file).where(Dokumen.sha256 == b.sha256)
                inbox = select(InboxItem.original_name).where(InboxItem.sha256 == b.sha256)
                name = session.exec(dok.limit(1)).first() or session.exec(inbox.limit(1)).first()
                views.append(
                    UploadView(
                        sha256=b.sha256,
                        name=name or f"dokumen {b.sha256[:12]}",
                        sent=b.upload_offset,
                        total=b.cipher_size or b.size,
                    )
                )
            return views

    def sync_errors(self, limit: int = 5) -> list[str]:
        """The latest reasons pushes failed, as the sync engine recorded them."""
        with self.store.read() as session:
            rows = session.exec(
                select(OutboxEntry.last_error, OutboxEntry.attempts)
                .where(OutboxEntry.last_error != "")
                .order_by(col(OutboxEntry.seq).desc())
                .limit(limit)
            )
            return [f"{error} (dicoba {attempts} kali)" for error, attempts in rows]

    def last_sync_at(self) -> datetime | None:
        """When the last sync finished (the sync engine writes meta `last_sync`)."""
        value = self.store.get_meta("last_sync")
        try:
            return datetime.fromisoformat(value) if value else None
        except ValueError:
            return None

    def sync_facts(self) -> SyncFacts:
        """Where the link to the BKD stands, as the sync engine left it in meta."""
        from sync.engine.errors import STATE_LABELS, LinkState

        enrolled = (self.paths.keys / "server.json").exists()
        state = self.store.get_meta("state") or LinkState.ONLINE.value
        if not enrolled:
            state = LinkState.BELUM_TERDAFTAR.value
        try:
            label = STATE_LABELS[LinkState(state)]
        except ValueError:
            label = state
        try:
            refused = json.loads(self.store.get_meta("refused", "[]"))
        except ValueError:
            refused = []
        return SyncFacts(
            enrolled=enrolled,
            server_url=self.store.get_meta("server_url") or self.config.server_url,
            state=state,
            state_label=label[:1].upper() + label[1:],
            last_sync=self.last_sync_at(),
            last_error=self.store.get_meta("last_error"),
            refused=[str(r.get("reason", "")) for r in refused if isinstance(r, dict)][-5:],
        )


# -- helpers of the TUI additions --------------------------------------------------------


def _open_blob_store(paths: Paths) -> BlobStore:
    # Imported here: the sync engine (httpx, keys) is not needed to start the app.
    from client.sync_service import open_blob_store

    return open_blob_store(paths)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _usulan_label(u: Usulan, jenis: list[tuple[str, str]]) -> str:
    label = dict(jenis).get(u.jenis, u.jenis)
    if u.periode is None:
        return label
    return f"{label}, periode {format_tanggal(u.periode)}"


def _status_counts(session: Session) -> dict[str, int]:
    stmt = (
        select(col(Usulan.status), func.count())
        .where(col(Usulan.deleted).is_(False))
        .group_by(col(Usulan.status))
    )
    return {status: int(n) for status, n in session.exec(stmt)}


def _month_start(day: date, months: int) -> date:
    """The 1st of the month `months` after the month of `day` (for SQL date bounds)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month0 + 1, 1)


def _hlc_time(stamp: str) -> datetime | None:
    """The wall-clock time of a hybrid logical clock stamp (UTC), if it is one."""
    try:
        wall_ms, _, _ = parse_hlc(stamp)
    except ValueError:
        return None
    return datetime.fromtimestamp(wall_ms / 1000, tz=UTC)


def _value_for_field(model: type[SyncedRecord], name: str, value: Any) -> Any:
    """A wire (or typed) value as the column's Python value: ISO text to a date, ..."""
    info = model.model_fields.get(name)
    if info is None:
        raise ClientError(f"Bidang {name} tidak dikenal.", f"{model.__name__}.{name}")
    adapter: TypeAdapter[Any] = TypeAdapter(info.annotation or Any)
    if isinstance(value, str) and not value.strip():
        value = None if _accepts_none(adapter) else value
    try:
        return adapter.validate_python(value.strip() if isinstance(value, str) else value)
    except ValidationError as exc:
        raise ClientError(f"Nilai {value!r} tidak sesuai untuk bidang {name}.", str(exc)) from exc


def _accepts_none(adapter: TypeAdapter[Any]) -> bool:
    try:
        adapter.validate_python(None)
    except ValidationError:
        return False
    return True


def _pdf_pages(path: Path) -> int:
    """The page count of a PDF on disk; ClientError when it is not a readable PDF."""
    import pikepdf  # heavy; only needed when a file is attached

    try:
        with path.open("rb") as fh:
            magic = fh.read(5)
    except OSError as exc:
        raise ClientError(f"Berkas {path} tidak dapat dibaca.", repr(exc)) from exc
    if magic != b"%PDF-":
        raise ClientError(
            f"{path.name} bukan PDF. Letakkan gambar pindaian di folder pindai: Berkas "
            "mengubahnya menjadi PDF.",
            f"magic {magic!r}",
        )
    try:
        with pikepdf.open(path) as pdf:
            return len(pdf.pages)
    except pikepdf.PdfError as exc:
        message = f"{path.name} rusak atau bukan PDF yang dapat dibaca."
        raise ClientError(message, repr(exc)) from exc


_TEXT_SHOW = {"Tj", "TJ", "'", '"'}
_TEXT_BREAK = {"Td", "TD", "T*", "Tm", "ET", "'", '"'}


def _pdf_first_page_text(path: Path, max_lines: int) -> tuple[int, list[str]]:
    """(pages, lines) read from page one's content stream; pages is -1 if unreadable.

    A minimal reader: the strings of text-showing operators, one line per text
    positioning. Fonts with their own encodings (common in OCR layers) give bytes
    that are not text; lines that are mostly unreadable are dropped."""
    import pikepdf

    try:
        pdf = pikepdf.open(path)
    except pikepdf.PdfError:
        return -1, []
    with pdf:
        pages = len(pdf.pages)
        if not pages:
            return 0, []
        try:
            instructions = pikepdf.parse_content_stream(pdf.pages[0])
        except pikepdf.PdfError:
            return pages, []
        lines: list[str] = []
        current = ""
        for instruction in instructions:
            if not isinstance(instruction, pikepdf.ContentStreamInstruction):
                continue  # an inline image
            operands, op = instruction.operands, str(instruction.operator)
            if op in _TEXT_BREAK and current.strip():
                lines.append(current.strip())
                current = ""
                if len(lines) >= max_lines * 3:
                    break
            if op not in _TEXT_SHOW or not operands:
                continue
            shown = operands[-1]
            parts = shown if isinstance(shown, pikepdf.Array) else [shown]
            for part in parts:
                if isinstance(part, pikepdf.String):
                    current += bytes(part).decode("latin-1")
                elif isinstance(part, int | float | pikepdf.Object) and _is_wide_gap(part):
                    current += " "
        if current.strip():
            lines.append(current.strip())
    readable = [" ".join(line.split()) for line in lines if _mostly_text(line)]
    return pages, readable[:max_lines]


def _is_wide_gap(value: Any) -> bool:
    try:
        return float(value) < -200  # a TJ kerning this large is a word gap
    except (TypeError, ValueError):
        return False


def _mostly_text(line: str) -> bool:
    printable = sum(ch.isalnum() or ch in " .,;:-/()'\"" for ch in line)
    return len(line) >= 2 and printable / len(line) >= 0.8

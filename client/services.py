"""The OPD client's services: what the TUI and the CLI call.

They return plain frozen views (no ORM objects leave this module), run every
write through the store so its outbox entry is recorded, and compute "what is
due" and "what is missing" with the pure rules in store.rules.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from client.config import ClientConfig, load_config
from client.errors import ClientError
from client.paths import Paths
from store import usulan as wf
from store.database import Store, open_store
from store.errors import StoreError
from store.models import Dokumen, InboxItem, OutboxEntry, Pegawai, Usulan
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
    RulesConfig,
    UsulanStatus,
    bup_age,
    current_kp_period,
    dokumen_kinds,
    kp_eligibility,
    load_rules_config,
    next_kp_period,
    parse_golongan,
    pensiun_due,
    tmt_pensiun,
)

PENSIUN_LEAD_MONTHS = 15


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


class BerkasClient:
    """One open OPD installation: its config, store and rules."""

    def __init__(self, paths: Paths, store: Store, config: ClientConfig, rules: RulesConfig):
        self.paths = paths
        self.store = store
        self.config = config
        self.rules = rules

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
        self.store.close()

    # -- views ------------------------------------------------------------------------

    def _pegawai_view(self, p: Pegawai) -> PegawaiView:
        bup = bup_age(JabatanKind(p.jabatan_kind), self.rules)
        return PegawaiView(
            id=p.id,
            nip=p.nip,
            nama=p.nama,
            golongan=p.golongan,
            pangkat=parse_golongan(p.golongan).pangkat,
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
        today = today or date.today()
        period = current_kp_period(today, self.rules) or next_kp_period(today, self.rules)
        with self.store.read() as session:
            usulan = list(session.exec(select(Usulan).where(col(Usulan.deleted).is_(False))))
            counts = Counter(u.status for u in usulan)
            with_kp = {
                u.pegawai_id
                for u in usulan
                if u.layanan == Layanan.KP.value and u.periode == period.tmt
            }
            with_pensiun = {u.pegawai_id for u in usulan if u.layanan == Layanan.PENSIUN.value}
            # Only pegawai at least two years in pangkat can be due: let SQL narrow it.
            cutoff = period.tmt.replace(year=period.tmt.year - 2)
            candidates = session.exec(
                select(Pegawai)
                .where(col(Pegawai.deleted).is_(False))
                .where(col(Pegawai.tmt_pangkat) <= cutoff)
            )
            kp_due = []
            for p in candidates:
                if p.id in with_kp or p.jenis_pegawai != "pns":
                    continue
                elig = kp_eligibility(
                    golongan=parse_golongan(p.golongan),
                    tmt_pangkat=p.tmt_pangkat,
                    pendidikan=Pendidikan(p.pendidikan),
                    period_tmt=period.tmt,
                    jenis=KpJenis.REGULER,
                    config=self.rules,
                )
                if elig.eligible:
                    kp_due.append(self._pegawai_view(p))
            oldest_birth = today.replace(year=today.year - 66)
            pensiun = []
            for p in session.exec(
                select(Pegawai)
                .where(col(Pegawai.deleted).is_(False))
                .where(col(Pegawai.tanggal_lahir) >= oldest_birth)
                .where(col(Pegawai.tanggal_lahir) <= today.replace(year=today.year - 56))
            ):
                if p.id in with_pensiun:
                    continue
                due = pensiun_due(
                    p.tanggal_lahir,
                    JabatanKind(p.jabatan_kind),
                    today,
                    PENSIUN_LEAD_MONTHS,
                    self.rules,
                )
                if due is not None:
                    pensiun.append(self._pegawai_view(p))
            open_usulan = [u for u in usulan if u.status in wf.OPEN_FOR_EDIT]
            missing_total = 0
            incomplete = 0
            for u in open_usulan:
                missing = len(wf.missing_for(session, u, self.rules))
                missing_total += missing
                incomplete += missing > 0
            returned = [
                self._usulan_view(session, u)
                for u in usulan
                if u.status == UsulanStatus.DIKEMBALIKAN.value
            ]
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

    def pegawai_by_nip(self, nip: str) -> PegawaiView | None:
        with self.store.read() as session:
            p = get_pegawai_by_nip(session, nip)
            return self._pegawai_view(p) if p else None

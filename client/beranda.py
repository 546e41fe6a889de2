"""The Beranda: usulan by status and what is due (KP, pensiun, missing dokumen).

Counting, the "without an usulan" tests and the date bounds run in SQL; the rules
(store.rules) decide on the few rows left.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, func, or_, tuple_
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from client._core import VIEW_COLUMNS, ClientCore
from client.views import Dashboard, PegawaiView
from store import usulan as wf
from store.models import Dokumen, InboxItem, OutboxEntry, Pegawai, Usulan
from store.rules import (
    JabatanKind,
    KpJenis,
    KpPeriod,
    Layanan,
    Pendidikan,
    UsulanStatus,
    bup_age,
    current_kp_period,
    kp_eligibility,
    next_kp_period,
    parse_golongan,
    pensiun_due,
)

PENSIUN_LEAD_MONTHS = 15

_LONG_AGO = date(1900, 1, 1)  # a TMT pangkat that passes any tenure rule

_SEP = "\x1f"  # joins dokumen codes in one SQL column (never part of a code)


class BerandaService(ClientCore):
    """What the Beranda shows."""

    def pending_ops(self) -> int:
        with self.store.read() as session:
            return int(session.exec(select(func.count()).select_from(OutboxEntry)).one())

    def inbox_waiting(self) -> int:
        with self.store.read() as session:
            stmt = select(func.count()).select_from(InboxItem).where(InboxItem.state == "menunggu")
            return int(session.exec(stmt).one())

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
            select_columns(*VIEW_COLUMNS)
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
            select_columns(*VIEW_COLUMNS)
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
            .where(col(Usulan.status).in_(wf.OPEN_VALUES))
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

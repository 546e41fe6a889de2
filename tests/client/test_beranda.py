"""The Beranda's figures, computed in SQL, against the rules applied to every row.

`reference` is the plain reading of the rules (store.rules) over every pegawai and
usulan, the way the dashboard was first written; the store's answer must be the
same, order included, on the test home plus pegawai placed at the edges of each
date rule (BUP birthdays around the 15-month lead, tenure around the KP minimum,
29 February births, the top golongan, an education ceiling, PPPK, tombstones).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import col, select

from client.services import PENSIUN_LEAD_MONTHS, BerkasClient
from client.views import Dashboard
from store import usulan as wf
from store.models import Pegawai, Usulan
from store.rules import (
    JabatanKind,
    KpJenis,
    Pendidikan,
    UsulanStatus,
    current_kp_period,
    kp_eligibility,
    next_kp_period,
    parse_golongan,
    pensiun_due,
)
from tests.tui.support import TODAY, Facts


@dataclass(frozen=True)
class Expected:
    status_counts: dict[str, int]
    kp_due: list[str]  # pegawai ids, in the dashboard's order
    pensiun_due: list[str]
    missing_dokumen: int
    usulan_incomplete: int
    returned: list[str]  # usulan ids


def reference(client: BerkasClient, today: date) -> Expected:
    """Every row through the rules, in Python."""
    rules = client.rules
    period = current_kp_period(today, rules) or next_kp_period(today, rules)
    with client.store.read() as session:
        usulan = list(session.exec(select(Usulan).where(col(Usulan.deleted).is_(False))))
        people = list(session.exec(select(Pegawai).where(col(Pegawai.deleted).is_(False))))
        with_kp = {u.pegawai_id for u in usulan if u.layanan == "kp" and u.periode == period.tmt}
        with_pensiun = {u.pegawai_id for u in usulan if u.layanan == "pensiun"}
        kp_due = [
            p
            for p in people
            if p.id not in with_kp
            and p.jenis_pegawai == "pns"
            and kp_eligibility(
                golongan=parse_golongan(p.golongan),
                tmt_pangkat=p.tmt_pangkat,
                pendidikan=Pendidikan(p.pendidikan),
                period_tmt=period.tmt,
                jenis=KpJenis.REGULER,
                config=rules,
            ).eligible
        ]
        pensiun = [
            p
            for p in people
            if p.id not in with_pensiun
            and pensiun_due(
                p.tanggal_lahir, JabatanKind(p.jabatan_kind), today, PENSIUN_LEAD_MONTHS, rules
            )
            is not None
        ]
        missing = [
            len(wf.missing_for(session, u, rules)) for u in usulan if u.status in wf.OPEN_VALUES
        ]
        counts = {s.value: sum(u.status == s.value for u in usulan) for s in UsulanStatus}
        returned = [u.id for u in usulan if u.status == UsulanStatus.DIKEMBALIKAN.value]
    views = {p.id: client.pegawai_by_nip(p.nip) for p in kp_due + pensiun}
    kp_sorted = sorted(kp_due, key=lambda p: p.nama)
    pensiun_sorted = sorted(pensiun, key=lambda p: views[p.id].tmt_pensiun)  # type: ignore[union-attr]
    return Expected(
        status_counts=counts,
        kp_due=[p.id for p in kp_sorted],
        pensiun_due=[p.id for p in pensiun_sorted],
        missing_dokumen=sum(missing),
        usulan_incomplete=sum(n > 0 for n in missing),
        returned=returned,
    )


def observed(d: Dashboard) -> Expected:
    return Expected(
        status_counts=d.status_counts,
        kp_due=[p.id for p in d.kp_due_without_usulan],
        pensiun_due=[p.id for p in d.pensiun_due_without_usulan],
        missing_dokumen=d.missing_dokumen,
        usulan_incomplete=d.usulan_incomplete,
        returned=[u.id for u in d.returned],
    )


def _edge_people(client: BerkasClient, today: date) -> None:
    """Pegawai on either side of every date bound the SQL narrows by."""
    rules = client.rules
    period = current_kp_period(today, rules) or next_kp_period(today, rules)
    births: list[tuple[date, str]] = []
    for kind in (JabatanKind.PELAKSANA, JabatanKind.JPT, JabatanKind.FUNGSIONAL_AHLI_PERTAMA):
        bup = rules.pensiun.bup[kind]
        for months in (-2, -1, 0, 1, PENSIUN_LEAD_MONTHS - 1, PENSIUN_LEAD_MONTHS, 16, 17):
            year, month0 = divmod(today.year * 12 + today.month - 1 + months, 12)
            anniversary = date(year, month0 + 1, 1)
            for shift in (-1, 0, 1, 27):
                born = anniversary + timedelta(days=shift)
                births.append((date(born.year - bup, born.month, min(born.day, 28)), kind.value))
        births.append((date(today.year - bup + 1 - (today.year - bup + 1) % 4, 2, 29), kind.value))
    years = rules.kp.min_years[KpJenis.REGULER]
    tenures = [
        period.tmt.replace(year=period.tmt.year - years) + timedelta(days=d)
        for d in (-40, -1, 0, 1, 30, 31, 45)
    ]
    with client.store.write() as session:
        for n, (born, kind) in enumerate(births, start=1):
            tmt = tenures[n % len(tenures)]
            golongan = ("II/c", "III/d", "IV/e", "II/d", "III/a")[n % 5]
            pendidikan = ("slta", "s1", "s2", "d3", "sd")[n % 5]
            session.add(
                Pegawai(
                    nip=f"{born:%Y%m%d}{tmt:%Y%m}1{n:03d}",
                    nama=f"Tepi {n:03d}",
                    tanggal_lahir=born,
                    jenis_kelamin=1 + n % 2,
                    jenis_pegawai="pppk" if n % 11 == 0 else "pns",
                    golongan=golongan,
                    tmt_pangkat=tmt,
                    tmt_cpns=date(2000, 1, 1),
                    pendidikan=pendidikan,
                    jabatan_kind=str(kind),
                    deleted=n % 13 == 0,
                )
            )


def _edge_usulan(client: BerkasClient, today: date) -> None:
    """Usulan that change who counts: optional dokumen that apply, a KP usulan of the
    period, one of another period, a tombstoned one."""
    period = current_kp_period(today, client.rules) or next_kp_period(today, client.rules)
    due = client.dashboard(today)
    kp = due.kp_due_without_usulan
    pensiun = due.pensiun_due_without_usulan
    with_optional = client.create_usulan(pensiun[0].id, "pensiun", "bup", today=today)
    client.set_berlaku(with_optional.id, sorted(client.optional_kodes("pensiun", "bup")))
    client.create_usulan(kp[0].id, "kp", "reguler", today=today)
    other = client.create_usulan(kp[1].id, "kp", "reguler", today=today)
    gone = client.create_usulan(pensiun[1].id, "pensiun", "bup", today=today)
    with client.store.write() as session:
        row = session.get(Usulan, other.id)
        assert row is not None
        row.periode = period.tmt.replace(year=period.tmt.year - 1)
        session.add(row)
        row = session.get(Usulan, gone.id)
        assert row is not None
        row.deleted = True
        session.add(row)


def test_dashboard_matches_the_rules_row_by_row(client: BerkasClient, facts: Facts) -> None:
    _edge_people(client, TODAY)
    _edge_usulan(client, TODAY)
    for today in (TODAY, date(2025, 12, 31), date(2026, 2, 28), date(2026, 7, 15)):
        d = client.dashboard(today)
        assert observed(d) == reference(client, today), today
    d = client.dashboard(TODAY)
    assert d.kp_due_without_usulan and d.pensiun_due_without_usulan
    assert [u.id for u in d.returned] == [facts.bts_usulan_id]
    assert d.usulan_incomplete == 5 and d.missing_dokumen > 5  # 2 of the home, 3 above


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(today=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)))
def test_dashboard_matches_the_rules_on_any_day(client: BerkasClient, today: date) -> None:
    assert observed(client.dashboard(today)) == reference(client, today)


def test_dashboard_on_29_february(client: BerkasClient) -> None:
    """A leap day is a day like any other (the date bounds never build 29 Feb 2027)."""
    leap = date(2028, 2, 29)
    assert observed(client.dashboard(leap)) == reference(client, leap)

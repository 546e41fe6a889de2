"""Pensiun: the retirement age, the TMT that follows from it, and who may retire."""

from __future__ import annotations

from datetime import date

from store.rules._dates import (
    add_months,
    add_years,
    first_of_next_month,
    format_masa,
    format_tanggal,
    whole_months_between,
    whole_years_between,
)
from store.rules._inputs import as_date, as_int
from store.rules._kinds import PensiunJenis
from store.rules.config import RulesConfig, resolve_config
from store.rules.eligibility import Eligibility
from store.rules.jabatan import JabatanKind, parse_jabatan

# Bounds for ages and month counts given as arguments: wide for any rule, and
# small enough that date arithmetic stays inside the calendar of _inputs.
_MAX_AGE = 150
_MAX_MONTHS = 1200

__all__ = [
    "PensiunJenis",
    "aps_eligible",
    "bup_age",
    "bup_service_ok",
    "pensiun_due",
    "pensiun_target_window",
    "tmt_pensiun",
]


def bup_age(kind: JabatanKind | str, config: RulesConfig | None = None) -> int:
    """Batas usia pensiun for a jenis jabatan (58, 60 or 65 by default).

    `kind` may be a name people use ("JPT pratama", "eselon III"; see `parse_jabatan`).
    """
    return resolve_config(config).pensiun.bup[parse_jabatan(kind)]


def tmt_pensiun(tanggal_lahir: date, bup: int) -> date:
    """TMT pensiun BUP: the 1st of the month after the month the pegawai reaches `bup`.

    Born 15 May 1967 or 1 May 1967, BUP 58: 1 June 2025. Someone born on
    29 February reaches the age on 28 February in a common year, so within
    February: TMT 1 March.
    """
    tanggal_lahir = as_date(tanggal_lahir, "tanggal_lahir", "Tanggal lahir")
    bup = as_int(bup, "bup", "Batas usia pensiun", 1, _MAX_AGE)
    return first_of_next_month(add_years(tanggal_lahir, bup))


def pensiun_due(
    tanggal_lahir: date,
    kind: JabatanKind | str,
    today: date,
    months: int | None = None,
    config: RulesConfig | None = None,
) -> date | None:
    """The TMT pensiun BUP if it falls from `today` up to `months` ahead, else None.

    `months` defaults to the configured lead (15); a TMT already past gives None.
    """
    cfg = resolve_config(config)
    today = as_date(today, "today", "Tanggal hari ini")
    lead = cfg.pensiun.lead_months if months is None else months
    lead = as_int(lead, "months", "Jumlah bulan ke depan", 0, _MAX_MONTHS)
    tmt = tmt_pensiun(tanggal_lahir, bup_age(kind, cfg))
    if today <= tmt <= add_months(today, lead):
        return tmt
    return None


def pensiun_target_window(tmt: date, config: RulesConfig | None = None) -> tuple[date, date]:
    """When the files should reach the BKD: from 12 to 8 months before `tmt` by default."""
    rules = resolve_config(config).pensiun
    tmt = as_date(tmt, "tmt", "TMT pensiun")
    return add_months(tmt, -rules.target_lead_months_max), add_months(
        tmt, -rules.target_lead_months_min
    )


def bup_service_ok(
    tmt_cpns: date, tmt_pns: date | None, at: date, config: RulesConfig | None = None
) -> Eligibility:
    """Has the pegawai served long enough for a BUP pension at `at`?

    By default >= 10 years of service (from TMT CPNS) with >= 5 as PNS.
    """
    rules = resolve_config(config).pensiun
    tmt_cpns = as_date(tmt_cpns, "tmt_cpns", "TMT CPNS")
    at = as_date(at, "at", "Tanggal")
    if tmt_pns is not None:
        tmt_pns = as_date(tmt_pns, "tmt_pns", "TMT PNS")
    reasons: list[str] = []
    service = whole_months_between(tmt_cpns, at)
    if service < rules.min_service_years * 12:
        reasons.append(
            f"Masa kerja pada {format_tanggal(at)} baru {format_masa(service)}; pensiun BUP "
            f"memerlukan sekurang-kurangnya {rules.min_service_years} tahun."
        )
    if tmt_pns is None:
        reasons.append(
            f"Belum ada TMT PNS; pensiun BUP memerlukan sekurang-kurangnya "
            f"{rules.min_pns_years} tahun sebagai PNS."
        )
    else:
        as_pns = whole_months_between(tmt_pns, at)
        if as_pns < rules.min_pns_years * 12:
            reasons.append(
                f"Masa kerja sebagai PNS pada {format_tanggal(at)} baru {format_masa(as_pns)}; "
                f"pensiun BUP memerlukan sekurang-kurangnya {rules.min_pns_years} tahun."
            )
    return Eligibility.from_reasons(reasons)


def aps_eligible(
    tanggal_lahir: date, tmt_cpns: date, at: date, config: RulesConfig | None = None
) -> Eligibility:
    """May the pegawai retire at their own request (APS) at `at`?

    By default: aged >= 45 and >= 20 years of service.
    """
    rules = resolve_config(config).pensiun
    tanggal_lahir = as_date(tanggal_lahir, "tanggal_lahir", "Tanggal lahir")
    tmt_cpns = as_date(tmt_cpns, "tmt_cpns", "TMT CPNS")
    at = as_date(at, "at", "Tanggal")
    reasons: list[str] = []
    age = whole_years_between(tanggal_lahir, at)
    if age < rules.aps_min_age:
        reasons.append(
            f"Usia pada {format_tanggal(at)} baru {age} tahun; pensiun APS memerlukan usia "
            f"sekurang-kurangnya {rules.aps_min_age} tahun."
        )
    service = whole_months_between(tmt_cpns, at)
    if service < rules.aps_min_service_years * 12:
        reasons.append(
            f"Masa kerja pada {format_tanggal(at)} baru {format_masa(service)}; pensiun APS "
            f"memerlukan sekurang-kurangnya {rules.aps_min_service_years} tahun."
        )
    return Eligibility.from_reasons(reasons)

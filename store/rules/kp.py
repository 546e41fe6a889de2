"""Kenaikan pangkat: the periods and their submission windows, and who may rise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from store.rules._dates import format_masa, format_tanggal, whole_months_between
from store.rules._kinds import KpJenis, Pendidikan
from store.rules.config import RulesConfig, resolve_config
from store.rules.eligibility import Eligibility
from store.rules.golongan import Golongan, next_golongan
from store.rules.pendidikan import education_ceiling

__all__ = [
    "KpEligibility",
    "KpJenis",
    "KpPeriod",
    "current_kp_period",
    "kp_eligibility",
    "kp_periods_of_year",
    "next_kp_period",
]

# KP and pensiun answer the same shape of question; one class serves both.
KpEligibility = Eligibility


@dataclass(frozen=True)
class KpPeriod:
    """One KP period: its TMT and the window in which usulan are submitted."""

    tmt: date
    window_start: date
    window_end: date

    def days_left(self, today: date) -> int:
        """Days left to submit, counting today and the last day; 0 once closed.

        Before the window opens this still counts up to its last day.
        """
        return max((self.window_end - today).days + 1, 0)

    def window_open(self, today: date) -> bool:
        """True if usulan for this period can be submitted on `today`."""
        return self.window_start <= today <= self.window_end


def kp_periods_of_year(year: int, config: RulesConfig | None = None) -> list[KpPeriod]:
    """The KP periods whose TMT falls in `year`, in order.

    The first one's window may start in the year before (15 Dec - 15 Jan for 1 Feb).
    """
    periods: list[KpPeriod] = []
    for rule in resolve_config(config).kp.periods:
        start, end = rule.window(year)
        periods.append(KpPeriod(tmt=rule.tmt(year), window_start=start, window_end=end))
    return periods


def _upcoming(today: date, config: RulesConfig | None) -> list[KpPeriod]:
    # A window never ends more than a year before its TMT, so this year's and
    # next year's periods hold every window not yet closed on `today`.
    return [
        period
        for year in (today.year, today.year + 1)
        for period in kp_periods_of_year(year, config)
        if period.window_end >= today
    ]


def next_kp_period(today: date, config: RulesConfig | None = None) -> KpPeriod:
    """The first period whose window has not closed on `today` (open, or the next to open)."""
    return min(_upcoming(today, config), key=lambda period: period.tmt)


def current_kp_period(today: date, config: RulesConfig | None = None) -> KpPeriod | None:
    """The period whose submission window is open on `today`, if any."""
    for period in sorted(_upcoming(today, config), key=lambda period: period.tmt):
        if period.window_open(today):
            return period
    return None


def kp_eligibility(
    *,
    golongan: Golongan,
    tmt_pangkat: date,
    pendidikan: Pendidikan,
    period_tmt: date,
    jenis: KpJenis = KpJenis.REGULER,
    config: RulesConfig | None = None,
) -> KpEligibility:
    """May this pegawai rise at `period_tmt`? Every reason against, in Bahasa.

    Checks whole years in the current pangkat against the minimum for `jenis`,
    the education ceiling (for the kinds bound by it; by default reguler) and
    that there is a golongan above.
    """
    jenis = KpJenis(jenis)  # tolerate the plain string stored in the database
    rules = resolve_config(config).kp
    reasons: list[str] = []
    target = next_golongan(golongan)
    if target is None:
        reasons.append(
            f"Golongan {golongan.kode} adalah golongan tertinggi; tidak ada kenaikan pangkat lagi."
        )
    elif jenis in rules.ceiling_jenis:
        ceiling = education_ceiling(pendidikan, config)
        if target > ceiling:
            reasons.append(
                f"Dengan pendidikan {pendidikan.label}, {jenis.label} paling tinggi sampai "
                f"golongan {ceiling.kode}; kenaikan ke {target.kode} tidak dapat diusulkan."
            )
    required = rules.min_years[jenis]
    months = whole_months_between(tmt_pangkat, period_tmt)
    if months < 0:
        reasons.append(
            f"TMT pangkat ({format_tanggal(tmt_pangkat)}) jatuh setelah TMT periode "
            f"({format_tanggal(period_tmt)})."
        )
    elif months < required * 12:
        reasons.append(
            f"Masa dalam pangkat {golongan.kode} baru {format_masa(months)} pada TMT "
            f"{format_tanggal(period_tmt)}; {jenis.label} memerlukan sekurang-kurangnya "
            f"{required} tahun."
        )
    return KpEligibility.from_reasons(reasons)

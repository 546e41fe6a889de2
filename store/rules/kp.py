"""Kenaikan pangkat: the periods and their submission windows, and who may rise."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from store.rules._dates import format_masa, format_tanggal, whole_months_between
from store.rules._inputs import MAX_DATE, MIN_DATE, as_date, as_enum, as_int, nfkc
from store.rules._kinds import KpJenis, Pendidikan
from store.rules.config import RulesConfig, resolve_config
from store.rules.eligibility import Eligibility
from store.rules.errors import RuleError
from store.rules.golongan import Golongan, next_golongan, parse_golongan
from store.rules.pendidikan import education_ceiling, parse_pendidikan

__all__ = [
    "KpEligibility",
    "KpJenis",
    "KpPeriod",
    "current_kp_period",
    "kp_eligibility",
    "kp_periods_of_year",
    "next_kp_period",
    "parse_kp_jenis",
]


@dataclass(frozen=True)
class KpEligibility(Eligibility):
    """`Eligibility` for a KP: also the golongan it rises to and the rule applied.

    `target` is None only when there is no golongan to rise to. `rule` names
    the rule that decided the years needed, in Bahasa (shown with the answer).
    """

    target: Golongan | None = None
    rule: str = ""


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
    year = as_int(year, "tahun", "Tahun periode KP", MIN_DATE.year + 1, MAX_DATE.year - 1)
    periods: list[KpPeriod] = []
    for rule in resolve_config(config).kp.periods:
        start, end = rule.window(year)
        periods.append(KpPeriod(tmt=rule.tmt(year), window_start=start, window_end=end))
    return periods


def _today(today: object) -> date:
    day = as_date(today, "today", "Tanggal hari ini")
    if not MIN_DATE.year < day.year < MAX_DATE.year:
        raise RuleError(
            f"Tanggal hari ini di luar rentang yang dapat dihitung "
            f"(tahun {MIN_DATE.year + 1} sampai {MAX_DATE.year - 1})",
            field="today",
        )
    return day


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
    today = _today(today)
    return min(_upcoming(today, config), key=lambda period: period.tmt)


def current_kp_period(today: date, config: RulesConfig | None = None) -> KpPeriod | None:
    """The period whose submission window is open on `today`, if any."""
    today = _today(today)
    for period in sorted(_upcoming(today, config), key=lambda period: period.tmt):
        if period.window_open(today):
            return period
    return None


_RANGE = re.compile(r"^\s*(\S+?)\s*(?:-|–|—|s\.?\s?d\.?|sampai)\s*(\S+)\s*$", re.IGNORECASE)

_KP_JENIS_SPELLINGS: dict[str, KpJenis] = {
    "regular": KpJenis.REGULER,
    "kp reguler": KpJenis.REGULER,
    "struktural": KpJenis.PILIHAN_STRUKTURAL,
    "pilihan struktural": KpJenis.PILIHAN_STRUKTURAL,
    "kp pilihan struktural": KpJenis.PILIHAN_STRUKTURAL,
    "fungsional": KpJenis.PILIHAN_FUNGSIONAL,
    "pilihan fungsional": KpJenis.PILIHAN_FUNGSIONAL,
    "kp pilihan fungsional": KpJenis.PILIHAN_FUNGSIONAL,
    "ijazah": KpJenis.PENYESUAIAN_IJAZAH,
    "penyesuaian ijazah": KpJenis.PENYESUAIAN_IJAZAH,
    "kp penyesuaian ijazah": KpJenis.PENYESUAIAN_IJAZAH,
    "pi": KpJenis.PENYESUAIAN_IJAZAH,
}


def parse_kp_jenis(text: KpJenis | str) -> KpJenis:
    """Read a KP kind: its value, its label, or a short name ("fungsional", "ijazah")."""
    return as_enum(text, KpJenis, "jenis", "Jenis KP", _KP_JENIS_SPELLINGS)


def _jabatan_range(value: object) -> tuple[Golongan, Golongan]:
    if value is None:
        raise RuleError(
            "Rentang pangkat jabatan belum diisi: KP pilihan (jabatan struktural) memerlukan "
            "pangkat terendah dan tertinggi jabatan yang diduduki",
            field="jabatan_pangkat",
        )
    if isinstance(value, str):  # "III/d - IV/a", "III/d s.d. IV/a", as written in tables
        match = _RANGE.match(nfkc(value))
        value = match.groups() if match else (value,)
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise RuleError(
            "Rentang pangkat jabatan harus berupa dua golongan: terendah dan tertinggi "
            '(misalnya "III/d - IV/a")',
            field="jabatan_pangkat",
        )
    low, high = (_golongan_of(item, "jabatan_pangkat") for item in value)
    if low > high:
        raise RuleError(
            f"Rentang pangkat jabatan terbalik: {low.kode} di atas {high.kode}",
            field="jabatan_pangkat",
        )
    return low, high


def _golongan_of(value: object, field: str) -> Golongan:
    try:
        return parse_golongan(value)  # type: ignore[arg-type]
    except RuleError as exc:
        raise RuleError(exc.message, field=field, detail=exc.detail) from None


def _masa_reason(
    what: str, months: int, required_years: int, period_tmt: date, rule_name: str
) -> str | None:
    if months >= required_years * 12:
        return None
    return (
        f"Masa dalam {what} baru {format_masa(months)} pada TMT {format_tanggal(period_tmt)}; "
        f"{rule_name} memerlukan sekurang-kurangnya {required_years} tahun."
    )


def kp_eligibility(
    *,
    golongan: Golongan | str,
    tmt_pangkat: date,
    pendidikan: Pendidikan | str,
    period_tmt: date,
    jenis: KpJenis | str = KpJenis.REGULER,
    jabatan_pangkat: tuple[Golongan | str, Golongan | str] | str | None = None,
    tmt_jabatan: date | None = None,
    jabatan_needs_ijazah: bool | None = None,
    config: RulesConfig | None = None,
) -> KpEligibility:
    """May this pegawai rise at `period_tmt`? Every reason against, in Bahasa.

    Checks whole years in the current pangkat against the minimum for `jenis`,
    the education ceiling (for the kinds bound by it; by default reguler) and
    that there is a golongan to rise to. For penyesuaian ijazah `pendidikan`
    is the new ijazah: the target is the golongan it opens (configured), and a
    pegawai already there or above is refused; `jabatan_needs_ijazah=False`
    (the jabatan held does not need the new ijazah) refuses too, None means not
    known here (the uraian tugas in the checklist shows it). KP pilihan struktural needs
    `jabatan_pangkat` (lowest, highest golongan of the jabatan held, or the
    text "III/d - IV/a"): one step
    below the lowest, 1 year in pangkat and 1 in the jabatan (`tmt_jabatan`);
    otherwise the configured 4 years, and never above the highest.

    Every argument is checked: a wrong one is a RuleError naming it.
    """
    jenis = parse_kp_jenis(jenis)
    golongan = _golongan_of(golongan, "golongan")
    pendidikan = parse_pendidikan(pendidikan)
    tmt_pangkat = as_date(tmt_pangkat, "tmt_pangkat", "TMT pangkat")
    if jabatan_needs_ijazah is not None and not isinstance(jabatan_needs_ijazah, bool):
        raise RuleError(
            "Keterangan apakah jabatan memerlukan ijazah baru harus ya atau tidak",
            field="jabatan_needs_ijazah",
        )
    period_tmt = as_date(period_tmt, "period_tmt", "TMT periode")
    if tmt_jabatan is not None:
        tmt_jabatan = as_date(tmt_jabatan, "tmt_jabatan", "TMT jabatan")
    rules = resolve_config(config).kp
    reasons: list[str] = []
    required = rules.min_years[jenis]
    rule_name = jenis.label  # the rule deciding the years, as the reasons name it
    opens = ""
    jabatan_years: int | None = None
    if jenis is KpJenis.PENYESUAIAN_IJAZAH:
        target = rules.ijazah_targets.get(pendidikan)
        if target is None:
            reasons.append(
                f"Ijazah {pendidikan.label} tidak membuka golongan baru melalui penyesuaian ijazah."
            )
        else:
            opens = f"; ijazah {pendidikan.label} membuka golongan {target.kode}"
            if jabatan_needs_ijazah is False:
                reasons.append(
                    f"Jabatan yang diduduki tidak memerlukan ijazah {pendidikan.label}; "
                    f"{jenis.label} memerlukan jabatan yang sesuai dengan ijazah baru."
                )
            if golongan >= target:
                reasons.append(
                    f"Golongan {golongan.kode} sudah sama dengan atau di atas golongan "
                    f"{target.kode} yang dibuka ijazah {pendidikan.label}; {jenis.label} "
                    "tidak dapat diusulkan."
                )
    else:
        target = next_golongan(golongan)
        if target is None:
            reasons.append(
                f"Golongan {golongan.kode} adalah golongan tertinggi; tidak ada kenaikan "
                "pangkat lagi."
            )
        elif jenis in rules.ceiling_jenis:
            ceiling = education_ceiling(pendidikan, config)
            if target > ceiling:
                reasons.append(
                    f"Dengan pendidikan {pendidikan.label}, {jenis.label} paling tinggi sampai "
                    f"golongan {ceiling.kode}; kenaikan ke {target.kode} tidak dapat diusulkan."
                )
    if jenis is KpJenis.PILIHAN_STRUKTURAL:
        low, high = _jabatan_range(jabatan_pangkat)
        if target is not None and target > high:
            reasons.append(
                f"{jenis.label} tidak boleh melampaui pangkat tertinggi jabatan "
                f"({high.kode}); kenaikan ke {target.kode} tidak dapat diusulkan."
            )
        if target is not None and target == low:
            step = rules.struktural_step_below
            required, jabatan_years = step.pangkat_years, step.jabatan_years
            rule_name = (
                f"{jenis.label} dengan pangkat satu tingkat di bawah pangkat terendah "
                f"jabatan ({low.kode})"
            )
        else:
            rule_name = (
                f"{jenis.label} dengan pangkat yang bukan satu tingkat di bawah pangkat "
                f"terendah jabatan ({low.kode})"
            )
    months = whole_months_between(tmt_pangkat, period_tmt)
    if months < 0:
        reasons.append(
            f"TMT pangkat ({format_tanggal(tmt_pangkat)}) jatuh setelah TMT periode "
            f"({format_tanggal(period_tmt)})."
        )
    else:
        reason = _masa_reason(f"pangkat {golongan.kode}", months, required, period_tmt, rule_name)
        if reason is not None:
            reasons.append(reason)
    if jabatan_years is not None:
        if tmt_jabatan is None:
            raise RuleError(
                "TMT jabatan belum diisi: KP pilihan (jabatan struktural) satu tingkat di bawah "
                "pangkat terendah jabatan memerlukan masa dalam jabatan",
                field="tmt_jabatan",
            )
        in_jabatan = whole_months_between(tmt_jabatan, period_tmt)
        if in_jabatan < 0:
            reasons.append(
                f"TMT jabatan ({format_tanggal(tmt_jabatan)}) jatuh setelah TMT periode "
                f"({format_tanggal(period_tmt)})."
            )
        else:
            reason = _masa_reason("jabatan", in_jabatan, jabatan_years, period_tmt, rule_name)
            if reason is not None:
                reasons.append(reason)
    rule = f"{rule_name}: sekurang-kurangnya {required} tahun dalam pangkat"
    if jabatan_years is not None:
        rule += f" dan {jabatan_years} tahun dalam jabatan"
    return KpEligibility(
        eligible=not reasons, reasons=tuple(reasons), target=target, rule=rule + opens
    )

"""KP: the six periods and their windows, and eligibility."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store.rules import (
    KpEligibility,
    KpJenis,
    KpPeriod,
    Pendidikan,
    current_kp_period,
    kp_eligibility,
    kp_periods_of_year,
    next_kp_period,
    parse_golongan,
)


def test_periods_of_2025() -> None:
    assert kp_periods_of_year(2025) == [
        KpPeriod(date(2025, 2, 1), date(2024, 12, 15), date(2025, 1, 15)),
        KpPeriod(date(2025, 4, 1), date(2025, 2, 1), date(2025, 2, 28)),
        KpPeriod(date(2025, 6, 1), date(2025, 4, 1), date(2025, 4, 30)),
        KpPeriod(date(2025, 8, 1), date(2025, 6, 1), date(2025, 6, 29)),
        KpPeriod(date(2025, 10, 1), date(2025, 8, 1), date(2025, 8, 31)),
        KpPeriod(date(2025, 12, 1), date(2025, 10, 1), date(2025, 10, 31)),
    ]


@pytest.mark.parametrize(
    ("today", "tmt"),
    [
        (date(2025, 1, 10), date(2025, 2, 1)),
        (date(2025, 1, 15), date(2025, 2, 1)),  # last day of the window
        (date(2025, 1, 16), date(2025, 4, 1)),
        (date(2025, 1, 20), date(2025, 4, 1)),
        (date(2025, 2, 28), date(2025, 4, 1)),
        (date(2025, 3, 1), date(2025, 6, 1)),
        (date(2025, 10, 31), date(2025, 12, 1)),
        (date(2025, 11, 1), date(2026, 2, 1)),  # between windows, across the year
        (date(2025, 12, 14), date(2026, 2, 1)),
        (date(2025, 12, 15), date(2026, 2, 1)),
        (date(2025, 12, 20), date(2026, 2, 1)),
        (date(2025, 12, 31), date(2026, 2, 1)),
    ],
)
def test_next_kp_period(today: date, tmt: date) -> None:
    assert next_kp_period(today).tmt == tmt


@pytest.mark.parametrize(
    ("today", "tmt"),
    [
        (date(2024, 12, 14), None),
        (date(2024, 12, 15), date(2025, 2, 1)),
        (date(2024, 12, 31), date(2025, 2, 1)),
        (date(2025, 1, 1), date(2025, 2, 1)),
        (date(2025, 1, 15), date(2025, 2, 1)),
        (date(2025, 1, 16), None),
        (date(2025, 1, 31), None),
        (date(2025, 2, 1), date(2025, 4, 1)),
        (date(2025, 6, 29), date(2025, 8, 1)),
        (date(2025, 6, 30), None),
        (date(2025, 11, 5), None),
    ],
)
def test_current_kp_period_across_the_year_boundary(today: date, tmt: date | None) -> None:
    period = current_kp_period(today)
    assert (period.tmt if period else None) == tmt


def test_window_in_a_leap_year() -> None:
    april_2024 = kp_periods_of_year(2024)[1]
    assert (april_2024.window_start, april_2024.window_end) == (date(2024, 2, 1), date(2024, 2, 29))


@pytest.mark.parametrize(
    ("today", "days", "open_"),
    [
        (date(2024, 12, 1), 46, False),  # not open yet: still counts to the end
        (date(2024, 12, 15), 32, True),
        (date(2025, 1, 1), 15, True),
        (date(2025, 1, 15), 1, True),
        (date(2025, 1, 16), 0, False),
        (date(2025, 3, 1), 0, False),
    ],
)
def test_days_left_and_window_open(today: date, days: int, open_: bool) -> None:
    february = kp_periods_of_year(2025)[0]
    assert february.days_left(today) == days
    assert february.window_open(today) is open_


@given(today=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
def test_next_period_is_the_first_not_closed(today: date) -> None:
    period = next_kp_period(today)
    assert period.window_end >= today
    assert period.tmt > today
    earlier = [
        p
        for year in (today.year - 1, today.year, today.year + 1)
        for p in kp_periods_of_year(year)
        if p.tmt < period.tmt
    ]
    assert all(p.window_end < today for p in earlier)
    current = current_kp_period(today)
    assert current is None or current == period
    assert (current is not None) == period.window_open(today)


# --- eligibility -----------------------------------------------------------------

S1 = Pendidikan.S1


@pytest.mark.parametrize(
    ("golongan", "tmt_pangkat", "pendidikan", "period_tmt", "jenis", "eligible"),
    [
        ("III/a", date(2021, 4, 1), S1, date(2025, 4, 1), KpJenis.REGULER, True),
        ("III/a", date(2021, 4, 2), S1, date(2025, 4, 1), KpJenis.REGULER, False),
        ("III/c", date(2019, 1, 1), S1, date(2025, 4, 1), KpJenis.REGULER, True),  # to III/d
        ("III/d", date(2019, 1, 1), S1, date(2025, 4, 1), KpJenis.REGULER, False),  # ceiling
        ("III/d", date(2019, 1, 1), Pendidikan.S2, date(2025, 4, 1), KpJenis.REGULER, True),
        ("II/a", date(2015, 1, 1), Pendidikan.SD, date(2025, 4, 1), KpJenis.REGULER, False),
        ("I/d", date(2015, 1, 1), Pendidikan.SD, date(2025, 4, 1), KpJenis.REGULER, True),
        ("III/b", date(2015, 1, 1), Pendidikan.SLTA, date(2025, 4, 1), KpJenis.REGULER, False),
        ("III/b", date(2015, 1, 1), Pendidikan.D3, date(2025, 4, 1), KpJenis.REGULER, True),
        # The ceiling binds KP reguler only (struktural: tests/store/rules/test_kp_rules.py).
        ("III/d", date(2019, 1, 1), S1, date(2025, 4, 1), KpJenis.PILIHAN_FUNGSIONAL, True),
        # Fungsional: 2 years are enough.
        ("III/d", date(2023, 4, 1), S1, date(2025, 4, 1), KpJenis.PILIHAN_FUNGSIONAL, True),
        ("III/d", date(2023, 4, 2), S1, date(2025, 4, 1), KpJenis.PILIHAN_FUNGSIONAL, False),
        ("III/b", date(2023, 4, 1), S1, date(2025, 4, 1), KpJenis.REGULER, False),
        (
            "IV/e",
            date(2000, 1, 1),
            Pendidikan.S3,
            date(2025, 4, 1),
            KpJenis.PILIHAN_FUNGSIONAL,
            False,
        ),
    ],
)
def test_kp_eligibility(
    golongan: str,
    tmt_pangkat: date,
    pendidikan: Pendidikan,
    period_tmt: date,
    jenis: KpJenis,
    eligible: bool,
) -> None:
    result = kp_eligibility(
        golongan=parse_golongan(golongan),
        tmt_pangkat=tmt_pangkat,
        pendidikan=pendidikan,
        period_tmt=period_tmt,
        jenis=jenis,
    )
    assert result.eligible is eligible
    assert bool(result) is eligible
    assert (result.reasons == ()) is eligible


def test_ceiling_reason_in_bahasa() -> None:
    result = kp_eligibility(
        golongan=parse_golongan("III/d"),
        tmt_pangkat=date(2019, 1, 1),
        pendidikan=S1,
        period_tmt=date(2025, 4, 1),
    )
    assert result == KpEligibility(
        eligible=False,
        reasons=(
            "Dengan pendidikan S-1, KP reguler paling tinggi sampai golongan III/d; "
            "kenaikan ke IV/a tidak dapat diusulkan.",
        ),
        target=parse_golongan("IV/a"),
        rule="KP reguler: sekurang-kurangnya 4 tahun dalam pangkat",
    )


def test_every_reason_is_given() -> None:
    result = kp_eligibility(
        golongan=parse_golongan("III/d"),
        tmt_pangkat=date(2021, 3, 1),
        pendidikan=S1,
        period_tmt=date(2025, 2, 1),
    )
    assert result.reasons == (
        "Dengan pendidikan S-1, KP reguler paling tinggi sampai golongan III/d; "
        "kenaikan ke IV/a tidak dapat diusulkan.",
        "Masa dalam pangkat III/d baru 3 tahun 11 bulan pada TMT 1 Februari 2025; "
        "KP reguler memerlukan sekurang-kurangnya 4 tahun.",
    )


def test_fungsional_reason_names_two_years() -> None:
    result = kp_eligibility(
        golongan=parse_golongan("III/c"),
        tmt_pangkat=date(2024, 6, 1),
        pendidikan=S1,
        period_tmt=date(2025, 4, 1),
        jenis=KpJenis.PILIHAN_FUNGSIONAL,
    )
    assert result.reasons == (
        "Masa dalam pangkat III/c baru 10 bulan pada TMT 1 April 2025; "
        "KP pilihan (jabatan fungsional) memerlukan sekurang-kurangnya 2 tahun.",
    )


def test_top_golongan_cannot_rise() -> None:
    result = kp_eligibility(
        golongan=parse_golongan("IV/e"),
        tmt_pangkat=date(2000, 1, 1),
        pendidikan=Pendidikan.S3,
        period_tmt=date(2025, 4, 1),
    )
    assert result.reasons == (
        "Golongan IV/e adalah golongan tertinggi; tidak ada kenaikan pangkat lagi.",
    )


def test_tmt_pangkat_after_period() -> None:
    result = kp_eligibility(
        golongan=parse_golongan("III/a"),
        tmt_pangkat=date(2025, 6, 1),
        pendidikan=S1,
        period_tmt=date(2025, 4, 1),
    )
    assert result.reasons == (
        "TMT pangkat (1 Juni 2025) jatuh setelah TMT periode (1 April 2025).",
    )


def test_jenis_may_be_the_stored_string() -> None:
    result = kp_eligibility(
        golongan=parse_golongan("III/d"),
        tmt_pangkat=date(2023, 4, 1),
        pendidikan=S1,
        period_tmt=date(2025, 4, 1),
        jenis="pilihan_fungsional",  # type: ignore[arg-type]
    )
    assert result.eligible


@given(
    tmt_pangkat=st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31)),
    period_tmt=st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31)),
)
def test_four_whole_years_decide_reguler(tmt_pangkat: date, period_tmt: date) -> None:
    result = kp_eligibility(
        golongan=parse_golongan("II/a"),
        tmt_pangkat=tmt_pangkat,
        pendidikan=Pendidikan.S3,
        period_tmt=period_tmt,
    )
    four_years_on = tmt_pangkat.replace(year=tmt_pangkat.year + 4)  # 29 Feb stays valid
    assert result.eligible is (period_tmt >= four_years_on)
    if not result.eligible and period_tmt >= tmt_pangkat:
        assert "memerlukan sekurang-kurangnya 4 tahun" in result.reasons[0]

"""Pensiun: BUP per jabatan, TMT pensiun, lead times, service and APS rules."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store.rules import (
    Eligibility,
    JabatanKind,
    aps_eligible,
    bup_age,
    bup_service_ok,
    pensiun_due,
    pensiun_target_window,
    tmt_pensiun,
)


@pytest.mark.parametrize(
    ("kind", "age"),
    [
        (JabatanKind.PELAKSANA, 58),
        (JabatanKind.ADMINISTRATOR, 58),
        (JabatanKind.PENGAWAS, 58),
        (JabatanKind.FUNGSIONAL_KETERAMPILAN, 58),
        (JabatanKind.FUNGSIONAL_AHLI_PERTAMA, 58),
        (JabatanKind.FUNGSIONAL_AHLI_MUDA, 58),
        (JabatanKind.JPT, 60),
        (JabatanKind.FUNGSIONAL_AHLI_MADYA, 60),
        (JabatanKind.FUNGSIONAL_AHLI_UTAMA, 65),
    ],
)
def test_bup_age(kind: JabatanKind, age: int) -> None:
    assert bup_age(kind) == age


@pytest.mark.parametrize(
    ("born", "bup", "tmt"),
    [
        (date(1967, 5, 15), 58, date(2025, 6, 1)),  # DOMAIN.md
        (date(1967, 5, 1), 58, date(2025, 6, 1)),  # DOMAIN.md: born on the 1st, same TMT
        (date(1967, 5, 31), 58, date(2025, 6, 1)),
        (date(1967, 12, 1), 58, date(2026, 1, 1)),  # across the year
        (date(1967, 12, 31), 60, date(2028, 1, 1)),
        (date(1968, 2, 29), 58, date(2026, 3, 1)),  # reaches 58 on 28 Feb 2026
        (date(1968, 2, 29), 56, date(2024, 3, 1)),  # leap year: on 29 Feb itself
        (date(1960, 1, 1), 65, date(2025, 2, 1)),
    ],
)
def test_tmt_pensiun(born: date, bup: int, tmt: date) -> None:
    assert tmt_pensiun(born, bup) == tmt


@given(
    born=st.dates(min_value=date(1940, 1, 1), max_value=date(2000, 12, 31)),
    bup=st.sampled_from([58, 60, 65]),
)
def test_tmt_pensiun_is_the_first_of_the_next_month(born: date, bup: int) -> None:
    tmt = tmt_pensiun(born, bup)
    assert tmt.day == 1
    months_after_birth_month = (tmt.year - born.year) * 12 + tmt.month - born.month
    assert months_after_birth_month == bup * 12 + 1


@pytest.mark.parametrize(
    ("born", "kind", "today", "months", "due"),
    [
        # TMT 1 June 2025 for a pelaksana born 15 May 1967.
        (date(1967, 5, 15), JabatanKind.PELAKSANA, date(2024, 3, 1), None, date(2025, 6, 1)),
        (date(1967, 5, 15), JabatanKind.PELAKSANA, date(2024, 2, 29), None, None),
        (date(1967, 5, 15), JabatanKind.PELAKSANA, date(2025, 6, 1), None, date(2025, 6, 1)),
        (date(1967, 5, 15), JabatanKind.PELAKSANA, date(2025, 6, 2), None, None),  # past
        (date(1967, 5, 15), JabatanKind.PELAKSANA, date(2024, 3, 1), 12, None),
        (date(1967, 5, 15), JabatanKind.PELAKSANA, date(2024, 6, 1), 12, date(2025, 6, 1)),
        # Same birthday, JPT: BUP 60, TMT 1 June 2027.
        (date(1967, 5, 15), JabatanKind.JPT, date(2024, 3, 1), None, None),
        (date(1967, 5, 15), JabatanKind.JPT, date(2026, 3, 1), None, date(2027, 6, 1)),
    ],
)
def test_pensiun_due(
    born: date, kind: JabatanKind, today: date, months: int | None, due: date | None
) -> None:
    assert pensiun_due(born, kind, today, months) == due


def test_target_window_8_to_12_months() -> None:
    assert pensiun_target_window(date(2025, 6, 1)) == (date(2024, 6, 1), date(2024, 10, 1))


@pytest.mark.parametrize(
    ("tmt_cpns", "tmt_pns", "at", "reasons"),
    [
        (date(2000, 3, 1), date(2001, 3, 1), date(2025, 6, 1), ()),
        (date(2015, 6, 1), date(2020, 6, 1), date(2025, 6, 1), ()),  # exactly 10 and 5
        (
            date(2015, 7, 1),
            date(2016, 7, 1),
            date(2025, 6, 1),
            (
                "Masa kerja pada 1 Juni 2025 baru 9 tahun 11 bulan; pensiun BUP memerlukan "
                "sekurang-kurangnya 10 tahun.",
            ),
        ),
        (
            date(2000, 3, 1),
            date(2021, 1, 1),
            date(2025, 6, 1),
            (
                "Masa kerja sebagai PNS pada 1 Juni 2025 baru 4 tahun 5 bulan; pensiun BUP "
                "memerlukan sekurang-kurangnya 5 tahun.",
            ),
        ),
        (
            date(2000, 3, 1),
            None,
            date(2025, 6, 1),
            ("Belum ada TMT PNS; pensiun BUP memerlukan sekurang-kurangnya 5 tahun sebagai PNS.",),
        ),
    ],
)
def test_bup_service_ok(
    tmt_cpns: date, tmt_pns: date | None, at: date, reasons: tuple[str, ...]
) -> None:
    assert bup_service_ok(tmt_cpns, tmt_pns, at) == Eligibility(not reasons, reasons)


@pytest.mark.parametrize(
    ("born", "tmt_cpns", "at", "eligible", "fragments"),
    [
        (date(1980, 1, 1), date(2005, 1, 1), date(2025, 1, 1), True, ()),  # 45 and 20
        (date(1980, 1, 2), date(2005, 1, 1), date(2025, 1, 1), False, ("Usia",)),
        (date(1980, 1, 1), date(2005, 1, 2), date(2025, 1, 1), False, ("Masa kerja",)),
        (date(1990, 1, 1), date(2015, 1, 1), date(2025, 1, 1), False, ("Usia", "Masa kerja")),
    ],
)
def test_aps_eligible(
    born: date, tmt_cpns: date, at: date, eligible: bool, fragments: tuple[str, ...]
) -> None:
    result = aps_eligible(born, tmt_cpns, at)
    assert result.eligible is eligible
    assert bool(result) is eligible
    assert [reason.split(" ")[0] for reason in result.reasons] == [
        fragment.split(" ")[0] for fragment in fragments
    ]


def test_aps_reason_text() -> None:
    result = aps_eligible(date(1990, 1, 1), date(2015, 1, 1), date(2025, 1, 1))
    assert result.reasons == (
        "Usia pada 1 Januari 2025 baru 35 tahun; pensiun APS memerlukan usia "
        "sekurang-kurangnya 45 tahun.",
        "Masa kerja pada 1 Januari 2025 baru 10 tahun; pensiun APS memerlukan "
        "sekurang-kurangnya 20 tahun.",
    )

"""KP penyesuaian ijazah and KP pilihan struktural as DOMAIN.md states them,
and the February window that runs to the end of February."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from store.rules import (
    KpJenis,
    Pendidikan,
    RuleError,
    current_kp_period,
    kp_eligibility,
    kp_periods_of_year,
    load_rules_config,
    parse_golongan,
)

PERIOD = date(2025, 4, 1)
IJAZAH = KpJenis.PENYESUAIAN_IJAZAH
STRUKTURAL = KpJenis.PILIHAN_STRUKTURAL

# --- penyesuaian ijazah ------------------------------------------------------


@pytest.mark.parametrize(
    ("golongan", "tmt_pangkat", "ijazah", "eligible", "target"),
    [
        # II/b with a new S1 and exactly one year in pangkat: eligible, to III/a.
        ("II/b", date(2024, 4, 1), Pendidikan.S1, True, "III/a"),
        ("II/b", date(2024, 4, 2), Pendidikan.S1, False, "III/a"),  # one day short
        ("II/d", date(2020, 1, 1), Pendidikan.S1, True, "III/a"),  # the highest that rises
        ("III/a", date(2020, 1, 1), Pendidikan.S1, False, "III/a"),  # already there
        ("III/b", date(2020, 1, 1), Pendidikan.S1, False, "III/a"),  # above it
        ("II/a", date(2024, 4, 1), Pendidikan.D3, True, "II/c"),
        ("II/c", date(2020, 1, 1), Pendidikan.D3, False, "II/c"),
        ("I/d", date(2024, 4, 1), Pendidikan.SLTA, True, "II/a"),
        ("III/a", date(2024, 4, 1), Pendidikan.S2, True, "III/b"),
        ("III/b", date(2024, 4, 1), Pendidikan.S3, True, "III/c"),
        ("II/d", date(2024, 4, 1), Pendidikan.D4, True, "III/a"),
    ],
)
def test_penyesuaian_ijazah_needs_one_year_and_rises_to_the_ijazah_target(
    golongan: str, tmt_pangkat: date, ijazah: Pendidikan, eligible: bool, target: str
) -> None:
    result = kp_eligibility(
        golongan=golongan,
        tmt_pangkat=tmt_pangkat,
        pendidikan=ijazah,
        period_tmt=PERIOD,
        jenis=IJAZAH,
    )
    assert result.eligible is eligible, result.reasons
    assert result.target == parse_golongan(target)
    assert f"membuka golongan {target}" in result.rule
    if not eligible:
        assert len(result.reasons) == 1


def test_penyesuaian_ijazah_reasons() -> None:
    short = kp_eligibility(
        golongan="II/b",
        tmt_pangkat=date(2024, 4, 2),
        pendidikan=Pendidikan.S1,
        period_tmt=PERIOD,
        jenis=IJAZAH,
    )
    assert short.reasons == (
        "Masa dalam pangkat II/b baru 11 bulan pada TMT 1 April 2025; "
        "KP penyesuaian ijazah memerlukan sekurang-kurangnya 1 tahun.",
    )
    above = kp_eligibility(
        golongan="III/b",
        tmt_pangkat=date(2020, 1, 1),
        pendidikan=Pendidikan.S1,
        period_tmt=PERIOD,
        jenis=IJAZAH,
    )
    assert above.reasons == (
        "Golongan III/b sudah sama dengan atau di atas golongan III/a yang dibuka ijazah S-1; "
        "KP penyesuaian ijazah tidak dapat diusulkan.",
    )
    sd = kp_eligibility(
        golongan="I/a",
        tmt_pangkat=date(2020, 1, 1),
        pendidikan=Pendidikan.SD,
        period_tmt=PERIOD,
        jenis=IJAZAH,
    )
    assert not sd.eligible and sd.target is None
    assert sd.reasons == ("Ijazah SD tidak membuka golongan baru melalui penyesuaian ijazah.",)


def test_ijazah_targets_and_years_are_configurable(tmp_path: Path) -> None:
    override = tmp_path / "aturan.toml"
    override.write_text(
        '[kp]\nmin_years = { penyesuaian_ijazah = 2 }\n[kp.ijazah_targets]\ns1 = "III/b"\n',
        encoding="utf-8",
    )
    config = load_rules_config(override)
    result = kp_eligibility(
        golongan="III/a",
        tmt_pangkat=date(2024, 4, 1),
        pendidikan="S1",
        period_tmt=PERIOD,
        jenis=IJAZAH,
        config=config,
    )
    assert result.target == parse_golongan("III/b")
    assert result.reasons == (
        "Masa dalam pangkat III/a baru 1 tahun pada TMT 1 April 2025; "
        "KP penyesuaian ijazah memerlukan sekurang-kurangnya 2 tahun.",
    )


# --- KP pilihan struktural ---------------------------------------------------

JABATAN = ("III/d", "IV/a")  # the jabatan's lowest and highest pangkat


@pytest.mark.parametrize(
    ("golongan", "tmt_pangkat", "tmt_jabatan", "eligible", "step_below"),
    [
        # One step below the jabatan's lowest pangkat: 1 year in pangkat and in jabatan.
        ("III/c", date(2024, 4, 1), date(2024, 4, 1), True, True),
        ("III/c", date(2024, 4, 2), date(2024, 4, 1), False, True),  # pangkat a day short
        ("III/c", date(2024, 4, 1), date(2024, 4, 2), False, True),  # jabatan a day short
        # Two steps below: the 4 years, whatever the jabatan.
        ("III/b", date(2024, 4, 1), date(2020, 1, 1), False, False),
        ("III/b", date(2021, 4, 1), date(2025, 1, 1), True, False),
        ("III/b", date(2021, 4, 2), date(2020, 1, 1), False, False),
        # At the lowest: 4 years, and the rise stays within the jabatan's range.
        ("III/d", date(2021, 4, 1), date(2024, 4, 1), True, False),
        ("III/d", date(2021, 4, 2), date(2024, 4, 1), False, False),
    ],
)
def test_kp_pilihan_struktural_one_step_below_or_four_years(
    golongan: str, tmt_pangkat: date, tmt_jabatan: date, eligible: bool, step_below: bool
) -> None:
    result = kp_eligibility(
        golongan=golongan,
        tmt_pangkat=tmt_pangkat,
        pendidikan=Pendidikan.S1,
        period_tmt=PERIOD,
        jenis=STRUKTURAL,
        jabatan_pangkat=JABATAN,
        tmt_jabatan=tmt_jabatan,
    )
    assert result.eligible is eligible, result.reasons
    if step_below:
        assert result.rule == (
            "KP pilihan (jabatan struktural) dengan pangkat satu tingkat di bawah pangkat "
            "terendah jabatan (III/d): sekurang-kurangnya 1 tahun dalam pangkat dan "
            "1 tahun dalam jabatan"
        )
    else:
        assert result.rule == (
            "KP pilihan (jabatan struktural) dengan pangkat yang bukan satu tingkat di bawah "
            "pangkat terendah jabatan (III/d): sekurang-kurangnya 4 tahun dalam pangkat"
        )
    # Every reason against names the rule used.
    for reason in result.reasons:
        assert "satu tingkat di bawah pangkat terendah jabatan (III/d)" in reason


def test_struktural_reasons_name_the_rule_and_the_jabatan() -> None:
    result = kp_eligibility(
        golongan="III/c",
        tmt_pangkat=date(2024, 6, 1),
        pendidikan=Pendidikan.S1,
        period_tmt=PERIOD,
        jenis=STRUKTURAL,
        jabatan_pangkat=JABATAN,
        tmt_jabatan=date(2024, 10, 1),
    )
    assert result.reasons == (
        "Masa dalam pangkat III/c baru 10 bulan pada TMT 1 April 2025; KP pilihan (jabatan "
        "struktural) dengan pangkat satu tingkat di bawah pangkat terendah jabatan (III/d) "
        "memerlukan sekurang-kurangnya 1 tahun.",
        "Masa dalam jabatan baru 6 bulan pada TMT 1 April 2025; KP pilihan (jabatan "
        "struktural) dengan pangkat satu tingkat di bawah pangkat terendah jabatan (III/d) "
        "memerlukan sekurang-kurangnya 1 tahun.",
    )


def test_struktural_never_rises_above_the_jabatan() -> None:
    result = kp_eligibility(
        golongan="IV/a",
        tmt_pangkat=date(2015, 1, 1),
        pendidikan=Pendidikan.S2,
        period_tmt=PERIOD,
        jenis=STRUKTURAL,
        jabatan_pangkat="III/d - IV/a",  # as written in tables
    )
    assert result.reasons == (
        "KP pilihan (jabatan struktural) tidak boleh melampaui pangkat tertinggi jabatan "
        "(IV/a); kenaikan ke IV/b tidak dapat diusulkan.",
    )


def test_struktural_step_below_is_configurable(tmp_path: Path) -> None:
    override = tmp_path / "aturan.toml"
    override.write_text("[kp]\nstruktural_step_below = { jabatan_years = 2 }\n", encoding="utf-8")
    result = kp_eligibility(
        golongan="III/c",
        tmt_pangkat=date(2024, 4, 1),
        pendidikan=Pendidikan.S1,
        period_tmt=PERIOD,
        jenis=STRUKTURAL,
        jabatan_pangkat=JABATAN,
        tmt_jabatan=date(2024, 4, 1),
        config=load_rules_config(override),
    )
    assert not result.eligible
    assert result.reasons[0].startswith("Masa dalam jabatan baru 1 tahun")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"golongan": "III/c", "jabatan_pangkat": None}, "jabatan_pangkat"),
        ({"golongan": "III/c", "jabatan_pangkat": ("IV/a", "III/d")}, "jabatan_pangkat"),
        ({"golongan": "III/c", "jabatan_pangkat": ("III/d",)}, "jabatan_pangkat"),
        ({"golongan": "III/c", "jabatan_pangkat": ("III/d", "V/a")}, "jabatan_pangkat"),
        ({"golongan": "III/c", "jabatan_pangkat": JABATAN}, "tmt_jabatan"),  # one step below
    ],
)
def test_struktural_refuses_what_it_cannot_decide(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(RuleError) as caught:
        kp_eligibility(
            tmt_pangkat=date(2020, 1, 1),
            pendidikan=Pendidikan.S1,
            period_tmt=PERIOD,
            jenis=STRUKTURAL,
            **kwargs,  # type: ignore[arg-type]
        )
    assert caught.value.field == field


def test_struktural_two_steps_below_needs_no_tmt_jabatan() -> None:
    result = kp_eligibility(
        golongan="III/b",
        tmt_pangkat=date(2020, 1, 1),
        pendidikan=Pendidikan.S1,
        period_tmt=PERIOD,
        jenis=STRUKTURAL,
        jabatan_pangkat=JABATAN,
    )
    assert result.eligible


# --- the February window -----------------------------------------------------


@pytest.mark.parametrize(
    ("year", "end"),
    [(2028, date(2028, 2, 29)), (2027, date(2027, 2, 28)), (2100, date(2100, 2, 28))],
)
def test_february_window_runs_to_the_end_of_february(year: int, end: date) -> None:
    april = kp_periods_of_year(year)[1]
    assert april.tmt == date(year, 4, 1)
    assert april.window_end == end
    assert current_kp_period(end) == april
    assert april.window_open(end) and april.days_left(end) == 1


def test_29_february_2028_is_inside_the_window() -> None:
    period = current_kp_period(date(2028, 2, 29))
    assert period is not None and period.tmt == date(2028, 4, 1)


def test_window_end_of_month_in_an_override(tmp_path: Path) -> None:
    override = tmp_path / "aturan.toml"
    override.write_text(
        '[[kp.periods]]\ntmt_month = 4\nwindow_start = "02-01"\nwindow_end = "02-AKHIR"\n',
        encoding="utf-8",
    )
    (april,) = kp_periods_of_year(2024, load_rules_config(override))
    assert april.window_end == date(2024, 2, 29)


def test_penyesuaian_ijazah_needs_a_jabatan_that_needs_the_ijazah() -> None:
    arguments: dict[str, object] = {
        "golongan": "II/b",
        "tmt_pangkat": date(2024, 4, 1),
        "pendidikan": Pendidikan.S1,
        "period_tmt": PERIOD,
        "jenis": IJAZAH,
    }
    assert kp_eligibility(**arguments, jabatan_needs_ijazah=True).eligible  # type: ignore[arg-type]
    refused = kp_eligibility(**arguments, jabatan_needs_ijazah=False)  # type: ignore[arg-type]
    assert refused.reasons == (
        "Jabatan yang diduduki tidak memerlukan ijazah S-1; KP penyesuaian ijazah memerlukan "
        "jabatan yang sesuai dengan ijazah baru.",
    )
    with pytest.raises(RuleError) as caught:
        kp_eligibility(**arguments, jabatan_needs_ijazah="ya")  # type: ignore[arg-type]
    assert caught.value.field == "jabatan_needs_ijazah"


@pytest.mark.parametrize(
    "written", ["III/d - IV/a", "III/d-IV/a", "III/d s.d. IV/a", "iii/d sampai iv/a", "3d–4a"]
)
def test_jabatan_range_as_written_in_tables(written: str) -> None:
    by_text = kp_eligibility(
        golongan="III/c",
        tmt_pangkat=date(2024, 4, 1),
        pendidikan=Pendidikan.S1,
        period_tmt=PERIOD,
        jenis=STRUKTURAL,
        jabatan_pangkat=written,
        tmt_jabatan=date(2024, 4, 1),
    )
    assert by_text.eligible and by_text.target == parse_golongan("III/d")

"""Pendidikan: tolerant parsing and the KP reguler ceiling table."""

from __future__ import annotations

import pytest

from store.rules import Pendidikan, RuleError, education_ceiling, parse_pendidikan


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("SD", Pendidikan.SD),
        ("sd", Pendidikan.SD),
        ("SMP", Pendidikan.SLTP),
        ("SLTP", Pendidikan.SLTP),
        ("MTs", Pendidikan.SLTP),
        ("SLTP Kejuruan", Pendidikan.SLTP_KEJURUAN),
        ("sltp_kejuruan", Pendidikan.SLTP_KEJURUAN),
        ("SMA", Pendidikan.SLTA),
        ("SMK", Pendidikan.SLTA),
        ("SLTA", Pendidikan.SLTA),
        ("smu", Pendidikan.SLTA),
        ("D1", Pendidikan.D1),
        ("D-I", Pendidikan.D1),
        ("Diploma II", Pendidikan.D2),
        ("D-III", Pendidikan.D3),
        ("D3", Pendidikan.D3),
        ("DIII", Pendidikan.D3),
        ("d.iii", Pendidikan.D3),
        ("D-IV", Pendidikan.D4),
        ("D4", Pendidikan.D4),
        ("S-1", Pendidikan.S1),
        ("S1", Pendidikan.S1),
        ("s 1", Pendidikan.S1),
        ("Strata I", Pendidikan.S1),
        ("S-2", Pendidikan.S2),
        ("S2", Pendidikan.S2),
        ("Magister", Pendidikan.S2),
        ("S3", Pendidikan.S3),
        ("Doktor", Pendidikan.S3),
    ],
)
def test_parse_pendidikan(text: str, level: Pendidikan) -> None:
    assert parse_pendidikan(text) is level


@pytest.mark.parametrize("text", ["", "S4", "D5", "kuliah", "M.A."])
def test_parse_pendidikan_refuses(text: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_pendidikan(text)
    assert caught.value.message.startswith("Pendidikan tidak dikenali")
    assert caught.value.field == "pendidikan"


def test_values_are_lower_case() -> None:
    assert [level.value for level in Pendidikan] == [
        "sd", "sltp", "sltp_kejuruan", "slta", "d1", "d2", "d3", "d4", "s1", "s2", "s3",
    ]  # fmt: skip
    assert all(parse_pendidikan(level.value) is level for level in Pendidikan)


@pytest.mark.parametrize(
    ("level", "ceiling"),
    [
        (Pendidikan.SD, "II/a"),
        (Pendidikan.SLTP, "II/c"),
        (Pendidikan.SLTP_KEJURUAN, "II/d"),
        (Pendidikan.SLTA, "III/b"),
        (Pendidikan.D1, "III/b"),
        (Pendidikan.D2, "III/b"),
        (Pendidikan.D3, "III/c"),
        (Pendidikan.D4, "III/d"),
        (Pendidikan.S1, "III/d"),
        (Pendidikan.S2, "IV/a"),
        (Pendidikan.S3, "IV/b"),
    ],
)
def test_education_ceiling_defaults(level: Pendidikan, ceiling: str) -> None:
    assert education_ceiling(level).kode == ceiling


def test_labels() -> None:
    assert Pendidikan.D3.label == "D-III"
    assert Pendidikan.S1.label == "S-1"
    assert Pendidikan.SLTP_KEJURUAN.label == "SLTP Kejuruan"

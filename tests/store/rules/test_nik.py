"""NIK: parts, women's day + 40, the century of a two-digit year."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store.rules import RuleError, default_config, parse_nik

TODAY = date(2025, 6, 1)


def test_parse_nik_man() -> None:
    nik = parse_nik("3204 1011 0468 0001", today=TODAY)
    assert (nik.provinsi, nik.kabupaten_kota, nik.kecamatan) == ("32", "04", "10")
    assert nik.tanggal_lahir == date(1968, 4, 11)
    assert nik.jenis_kelamin == 1
    assert nik.urutan == "0001"
    assert nik.digits == "3204101104680001"


def test_parse_nik_woman_has_day_plus_40() -> None:
    nik = parse_nik("3204105104680002", today=TODAY)
    assert nik.tanggal_lahir == date(1968, 4, 11)
    assert nik.jenis_kelamin == 2


@pytest.mark.parametrize(
    ("text", "today", "born"),
    [
        ("3204101104050001", TODAY, date(2005, 4, 11)),
        ("3204101104250001", TODAY, date(2025, 4, 11)),  # already past this year
        ("3204100106250001", TODAY, date(2025, 6, 1)),  # born today
        ("3204100206250001", TODAY, date(1925, 6, 2)),  # tomorrow in 2025 -> 1925
        ("3204102902000001", TODAY, date(2000, 2, 29)),
        ("3204106902000001", TODAY, date(2000, 2, 29)),  # woman
        ("3204102902960001", TODAY, date(1996, 2, 29)),
    ],
)
def test_century_is_the_latest_not_in_the_future(text: str, today: date, born: date) -> None:
    assert parse_nik(text, today=today).tanggal_lahir == born


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("320410110468000", "NIK harus 16 digit, yang diketik 15 digit"),
        ("32041011046800011", "NIK harus 16 digit, yang diketik 17 digit"),
        ("32041011046800x1", "NIK hanya boleh berisi angka"),
        ("", "NIK belum diisi"),
        ("0004101104680001", "Kode provinsi pada NIK tidak dikenal: 00"),
        ("3200101104680001", "Kode kabupaten/kota pada NIK tidak valid: 00"),
        ("3204001104680001", "Kode kecamatan pada NIK tidak valid: 00"),
        ("3204103204680001", "bukan tanggal yang ada"),  # day 32
        ("3204104004680001", "bukan tanggal yang ada"),  # day 40: neither man nor woman
        ("3204107204680001", "bukan tanggal yang ada"),  # woman, day 32
        ("3204101113680001", "bukan tanggal yang ada"),  # month 13
        ("3204102902970001", "bukan tanggal yang ada"),  # 29 Feb 1997 / 2097
        ("3204101104680000", "Nomor urut pada NIK tidak valid: 0000"),
    ],
)
def test_parse_nik_refuses(text: str, fragment: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_nik(text, today=TODAY)
    assert fragment in caught.value.message
    assert caught.value.field == "nik"


def test_messages_and_repr_do_not_repeat_the_nik() -> None:
    digits = "3204103204680001"
    with pytest.raises(RuleError) as caught:
        parse_nik(digits, today=TODAY)
    assert digits not in caught.value.message
    assert "320468" not in caught.value.message
    nik = parse_nik("3204101104680001", today=TODAY)
    assert "3204101104680001" not in repr(nik)
    assert "1968" not in repr(nik)


@given(
    born=st.dates(min_value=date(1926, 6, 2), max_value=TODAY),
    female=st.booleans(),
    region=st.tuples(
        st.sampled_from(sorted(int(kode) for kode in default_config().nik.provinsi)),
        *[st.integers(min_value=1, max_value=99)] * 2,
    ),
    urutan=st.integers(min_value=1, max_value=9999),
)
def test_nik_round_trip(
    born: date, female: bool, region: tuple[int, int, int], urutan: int
) -> None:
    day = born.day + (40 if female else 0)
    text = (
        "".join(f"{part:02d}" for part in region)
        + f"{day:02d}{born.month:02d}{born.year % 100:02d}{urutan:04d}"
    )
    nik = parse_nik(text, today=TODAY)
    assert nik.tanggal_lahir == born
    assert nik.jenis_kelamin == (2 if female else 1)
    assert (nik.provinsi, nik.kabupaten_kota, nik.kecamatan) == tuple(
        f"{part:02d}" for part in region
    )
    assert nik.urutan == f"{urutan:04d}"

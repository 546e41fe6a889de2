"""Golongan: parsing the ways people write it, order, pangkat names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store.rules import ALL_GOLONGAN, Golongan, RuleError, next_golongan, parse_golongan


@pytest.mark.parametrize(
    "text",
    ["III/a", "iii/a", "III a", "3a", "3/a", "III/A", " III / a ", "IIIa", "3-a", "III.a"],
)
def test_parse_golongan_spellings(text: str) -> None:
    assert parse_golongan(text) == Golongan(3, "a")


@pytest.mark.parametrize(
    ("text", "ruang", "huruf"),
    [("I/a", 1, "a"), ("II/d", 2, "d"), ("IV/e", 4, "e"), ("4e", 4, "e"), ("iv/b", 4, "b")],
)
def test_parse_golongan_values(text: str, ruang: int, huruf: str) -> None:
    assert parse_golongan(text) == Golongan(ruang, huruf)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("II/e", "Golongan II/e tidak ada: huruf e hanya ada pada golongan IV"),
        ("3e", "Golongan III/e tidak ada: huruf e hanya ada pada golongan IV"),
        ("V/a", "Golongan tidak dikenali: 'V/a' (contoh penulisan: III/a)"),
        ("5a", "Golongan tidak dikenali: '5a' (contoh penulisan: III/a)"),
        ("III/f", "Golongan tidak dikenali: 'III/f' (contoh penulisan: III/a)"),
        ("", "Golongan tidak dikenali: '' (contoh penulisan: III/a)"),
        ("IIII/a", "Golongan tidak dikenali: 'IIII/a' (contoh penulisan: III/a)"),
    ],
)
def test_parse_golongan_refuses(text: str, message: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_golongan(text)
    assert caught.value.message == message
    assert caught.value.field == "golongan"


def test_constructor_refuses_unknown() -> None:
    with pytest.raises(RuleError):
        Golongan(2, "e")
    with pytest.raises(RuleError):
        Golongan(3, "A")


@pytest.mark.parametrize(
    ("kode", "pangkat"),
    [
        ("I/a", "Juru Muda"),
        ("I/b", "Juru Muda Tingkat I"),
        ("I/c", "Juru"),
        ("I/d", "Juru Tingkat I"),
        ("II/a", "Pengatur Muda"),
        ("II/b", "Pengatur Muda Tingkat I"),
        ("II/c", "Pengatur"),
        ("II/d", "Pengatur Tingkat I"),
        ("III/a", "Penata Muda"),
        ("III/b", "Penata Muda Tingkat I"),
        ("III/c", "Penata"),
        ("III/d", "Penata Tingkat I"),
        ("IV/a", "Pembina"),
        ("IV/b", "Pembina Tingkat I"),
        ("IV/c", "Pembina Utama Muda"),
        ("IV/d", "Pembina Utama Madya"),
        ("IV/e", "Pembina Utama"),
    ],
)
def test_pangkat_table(kode: str, pangkat: str) -> None:
    golongan = parse_golongan(kode)
    assert golongan.pangkat == pangkat
    assert golongan.kode == kode
    assert str(golongan) == kode


def test_all_golongan_in_order() -> None:
    assert [g.kode for g in ALL_GOLONGAN] == [
        "I/a", "I/b", "I/c", "I/d",
        "II/a", "II/b", "II/c", "II/d",
        "III/a", "III/b", "III/c", "III/d",
        "IV/a", "IV/b", "IV/c", "IV/d", "IV/e",
    ]  # fmt: skip
    assert list(ALL_GOLONGAN) == sorted(ALL_GOLONGAN)
    assert parse_golongan("II/d") < parse_golongan("III/a") < parse_golongan("IV/e")


@pytest.mark.parametrize(
    ("current", "following"),
    [("I/d", "II/a"), ("II/d", "III/a"), ("III/b", "III/c"), ("IV/d", "IV/e"), ("IV/e", None)],
)
def test_next_golongan(current: str, following: str | None) -> None:
    result = next_golongan(parse_golongan(current))
    assert (result.kode if result else None) == following


@given(golongan=st.sampled_from(ALL_GOLONGAN))
def test_kode_round_trip(golongan: Golongan) -> None:
    assert parse_golongan(golongan.kode) == golongan
    assert parse_golongan(f"{golongan.ruang}{golongan.huruf.upper()}") == golongan
    following = next_golongan(golongan)
    if following is not None:
        assert following > golongan
        assert not any(golongan < other < following for other in ALL_GOLONGAN)

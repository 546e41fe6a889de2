"""NIP: normalising, the PNS checks of DOMAIN.md, and PPPK numbers."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store.rules import Nip, RuleError, is_valid_pppk_number, normalise_nip, parse_nip


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("196804111993031009", "196804111993031009"),
        ("19680411 199303 1 009", "196804111993031009"),
        ("  19680411  199303 1 009 ", "196804111993031009"),
        ("19680411.199303.1.009", "196804111993031009"),
        ("19680411-199303-1-009", "196804111993031009"),
        ("'196804111993031009", "196804111993031009"),
        ("19680411\u00a0199303\t1 009", "196804111993031009"),
    ],
)
def test_normalise_nip_strips_separators(text: str, digits: str) -> None:
    assert normalise_nip(text) == digits


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "belum diisi"),
        ("   ", "belum diisi"),
        ("19680411 199303 1 00", "yang diketik 17 digit"),
        ("1968041119930310091", "yang diketik 19 digit"),
        ("19680411 199303 1 00x", "hanya boleh berisi angka"),
        ("19680411/199303/1/009", "hanya boleh berisi angka"),
        ("١٩٦٨٠٤١١١٩٩٣٠٣١٠٠٩", "hanya boleh berisi angka"),  # Arabic-Indic digits
    ],
)
def test_normalise_nip_refuses(text: str, fragment: str) -> None:
    with pytest.raises(RuleError) as caught:
        normalise_nip(text)
    assert fragment in caught.value.message
    assert caught.value.field == "nip"


def test_parse_nip_parts() -> None:
    nip = parse_nip("19680411 199303 1 009")
    assert nip == Nip(
        digits="196804111993031009",
        tanggal_lahir=date(1968, 4, 11),
        tmt_cpns=date(1993, 3, 1),
        jenis_kelamin=1,
        urutan=9,
    )
    assert nip.formatted == "19680411 199303 1 009"


def test_parse_nip_woman() -> None:
    nip = parse_nip("198512302010122001")
    assert nip.jenis_kelamin == 2
    assert nip.tanggal_lahir == date(1985, 12, 30)
    assert nip.tmt_cpns == date(2010, 12, 1)
    assert nip.urutan == 1


def test_29_february_birth_valid_in_leap_year() -> None:
    nip = parse_nip("19680229 199001 2 001")
    assert nip.tanggal_lahir == date(1968, 2, 29)


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        (
            "19670229 199001 2 001",
            "tanggal_lahir",
            "Tanggal lahir pada NIP tidak valid: 19670229 (bukan tanggal yang ada)",
        ),
        (
            "19681301 199001 1 001",
            "tanggal_lahir",
            "Tanggal lahir pada NIP tidak valid: 19681301 (bukan tanggal yang ada)",
        ),
        (
            "19680400 199001 1 001",
            "tanggal_lahir",
            "Tanggal lahir pada NIP tidak valid: 19680400 (bukan tanggal yang ada)",
        ),
        (
            "19680411 199313 1 009",
            "tmt_cpns",
            "Bulan TMT CPNS pada NIP tidak valid: 13 (harus 01-12)",
        ),
        (
            "19680411 199300 1 009",
            "tmt_cpns",
            "Bulan TMT CPNS pada NIP tidak valid: 00 (harus 01-12)",
        ),
        (
            "19680411 199303 3 009",
            "jenis_kelamin",
            "Kode jenis kelamin pada NIP tidak valid: 3 "
            "(harus 1 untuk laki-laki atau 2 untuk perempuan)",
        ),
        (
            "19680411 199303 0 009",
            "jenis_kelamin",
            "Kode jenis kelamin pada NIP tidak valid: 0 "
            "(harus 1 untuk laki-laki atau 2 untuk perempuan)",
        ),
        (
            "19680411 199303 1 000",
            "urutan",
            "Nomor urut pada NIP tidak valid: 000 (paling kecil 001)",
        ),
        (
            "19680411 198603 1 001",
            "tmt_cpns",
            "TMT CPNS pada NIP (Maret 1986) kurang dari 18 tahun setelah tanggal lahir "
            "(11 April 1968)",
        ),
    ],
)
def test_parse_nip_names_the_wrong_part(text: str, field: str, message: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_nip(text)
    assert caught.value.message == message
    assert caught.value.field == field
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("19680401 198604 1 001", True),  # 18 exactly on the TMT
        ("19680402 198604 1 001", False),  # one day short
        ("19680229 198603 1 001", True),  # 29 Feb birth: 18 on 28 Feb 1986
        ("19680229 198602 1 001", False),
    ],
)
def test_tmt_cpns_18_years_boundary(text: str, valid: bool) -> None:
    if valid:
        assert parse_nip(text).digits == normalise_nip(text)
    else:
        with pytest.raises(RuleError, match="kurang dari 18 tahun"):
            parse_nip(text)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("199501012021212001", True),  # month 21 and gender 2: PNS checks would fail
        ("1995 0101 2021 21 2 001", True),
        ("000000000000000000", True),
        ("19950101202121200", False),
        ("1995010120212120011", False),
        ("abcdefghijklmnopqr", False),
    ],
)
def test_pppk_numbers_get_no_pns_checks(text: str, valid: bool) -> None:
    assert is_valid_pppk_number(text) is valid


# --- round trip --------------------------------------------------------------


@st.composite
def nip_parts(draw: st.DrawFn) -> tuple[date, date, int, int]:
    born = draw(st.dates(min_value=date(1940, 1, 1), max_value=date(2006, 12, 31)))
    earliest = date(born.year + 18 + (1 if (born.month, born.day) > (1, 1) else 0), 1, 1)
    tmt_year = draw(st.integers(min_value=earliest.year, max_value=2040))
    tmt_month = draw(st.integers(min_value=1, max_value=12))
    gender = draw(st.sampled_from([1, 2]))
    urutan = draw(st.integers(min_value=1, max_value=999))
    return born, date(tmt_year, tmt_month, 1), gender, urutan


@given(parts=nip_parts(), separator=st.sampled_from([" ", "  ", ".", "-", " - ", ""]))
def test_nip_round_trip(parts: tuple[date, date, int, int], separator: str) -> None:
    born, tmt, gender, urutan = parts
    groups = [born.strftime("%Y%m%d"), tmt.strftime("%Y%m"), str(gender), f"{urutan:03d}"]
    typed = separator.join(groups)
    nip = parse_nip(f" {typed} ")
    assert (nip.tanggal_lahir, nip.tmt_cpns, nip.jenis_kelamin, nip.urutan) == parts
    assert nip.digits == "".join(groups)
    assert nip.formatted == " ".join(groups)
    assert parse_nip(nip.formatted) == nip
    assert normalise_nip(typed) == nip.digits


@given(digits=st.text(alphabet="0123456789", min_size=18, max_size=18))
def test_any_18_digits_are_a_pppk_number_and_parse_nip_only_raises_rule_error(
    digits: str,
) -> None:
    assert is_valid_pppk_number(digits)
    try:
        nip = parse_nip(digits)
    except RuleError as exc:
        assert exc.field in {"tanggal_lahir", "tmt_cpns", "jenis_kelamin", "urutan"}
    else:
        assert nip.digits == digits
        assert nip.jenis_kelamin in (1, 2)
        assert nip.urutan >= 1

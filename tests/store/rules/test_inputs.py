"""Every input of a public rule function is read or refused with a RuleError in
Bahasa naming the field: NIP as a spreadsheet integer, full-width digits,
jabatan and jenis names as people write them, NIK province codes."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import store.rules as rules
from store.rules import (
    ALL_GOLONGAN,
    Golongan,
    JabatanKind,
    KpJenis,
    Layanan,
    Pendidikan,
    RuleError,
    bup_age,
    default_config,
    default_jenis,
    jenis_options,
    kp_eligibility,
    looks_like_pppk,
    parse_jabatan,
    parse_kp_jenis,
    parse_nik,
    parse_nip,
)

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")

# --- NIP ---------------------------------------------------------------------


def test_nip_as_a_spreadsheet_integer() -> None:
    nip = parse_nip(196804111993031009)
    assert nip.digits == "196804111993031009"
    assert nip.tanggal_lahir == date(1968, 4, 11)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "NIP belum diisi"),
        ("", "NIP belum diisi"),
        (1.968041119930310e17, "NIP terbaca sebagai bilangan pecahan"),
        (-196804111993031009, "NIP hanya boleh berisi angka"),
        (True, "NIP harus berupa teks 18 digit"),
        (["196804111993031009"], "NIP harus berupa teks 18 digit"),
        (19680411199303100, "NIP harus 18 digit, yang diketik 17 digit"),
    ],
)
def test_nip_that_cannot_be_read_is_a_rule_error(value: object, message: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_nip(value)  # type: ignore[arg-type]
    assert caught.value.field == "nip"
    assert caught.value.message.startswith(message)


def test_full_width_digits_are_digits() -> None:
    typed = "19680411 199303 1 009".translate(FULL_WIDTH)
    assert parse_nip(typed).digits == "196804111993031009"
    assert parse_nip("１９６８０４１１　１９９３０３　１　００９").digits == "196804111993031009"


@given(
    born=st.dates(min_value=date(1940, 1, 1), max_value=date(1990, 12, 31)),
    tmt_month=st.integers(min_value=1, max_value=12),
    gender=st.sampled_from([1, 2]),
    urutan=st.integers(min_value=1, max_value=999),
    full_width=st.lists(st.booleans(), min_size=18, max_size=18),
    separator=st.sampled_from(["", " ", "\u3000", "-", "．"]),
)
@settings(max_examples=60)
def test_nip_round_trip_with_full_width_digits(
    born: date,
    tmt_month: int,
    gender: int,
    urutan: int,
    full_width: list[bool],
    separator: str,
) -> None:
    groups = [born.strftime("%Y%m%d"), f"{born.year + 20}{tmt_month:02d}", str(gender)]
    digits = "".join(groups) + f"{urutan:03d}"
    typed = "".join(
        d.translate(FULL_WIDTH) if wide else d for d, wide in zip(digits, full_width, strict=True)
    )
    typed = separator.join([typed[:8], typed[8:14], typed[14], typed[15:]])
    nip = parse_nip(typed)
    assert nip.digits == digits
    assert (nip.tanggal_lahir, nip.jenis_kelamin, nip.urutan) == (born, gender, urutan)
    assert parse_nip(int(digits)) == nip


def test_pppk_number_in_a_pns_field_is_asked_about() -> None:
    with pytest.raises(RuleError) as caught:
        parse_nip("19950101 2021 21 2 001")
    assert caught.value.field == "tmt_cpns"
    assert caught.value.message == (
        "Bulan TMT CPNS pada NIP tidak valid: 21 (harus 01-12); apakah ini nomor PPPK? "
        "Nomor PPPK berisi 21 pada digit ke-13 dan ke-14: catat pegawai ini sebagai PPPK"
    )
    assert looks_like_pppk("199501012021212001")


@pytest.mark.parametrize(
    "text",
    [
        "199501012022131001",  # month 13: not the PPPK marker
        "199502302021212001",  # 30 February: not a birth date
        "199501012021213001",  # gender 3
        "199501012021212000",  # sequence 000
    ],
)
def test_no_pppk_hint_when_the_digits_do_not_fit_the_pattern(text: str) -> None:
    assert not looks_like_pppk(text)
    with pytest.raises(RuleError) as caught:
        parse_nip(text)
    assert "PPPK" not in caught.value.message


def test_every_problem_of_one_nip_is_listed() -> None:
    with pytest.raises(RuleError) as caught:
        parse_nip("19680230 199313 0 000")
    error = caught.value
    assert error.problems == (
        ("tanggal_lahir", "Tanggal lahir pada NIP tidak valid: 19680230 (bukan tanggal yang ada)"),
        ("tmt_cpns", "Bulan TMT CPNS pada NIP tidak valid: 13 (harus 01-12)"),
        (
            "jenis_kelamin",
            "Kode jenis kelamin pada NIP tidak valid: 0 "
            "(harus 1 untuk laki-laki atau 2 untuk perempuan)",
        ),
        ("urutan", "Nomor urut pada NIP tidak valid: 000 (paling kecil 001)"),
    )
    assert error.field == "tanggal_lahir"
    assert error.message == "; ".join(message for _, message in error.problems)


def test_age_and_gender_problems_together() -> None:
    with pytest.raises(RuleError) as caught:
        parse_nip("19680411 198603 3 001")
    assert [field for field, _ in caught.value.problems] == ["jenis_kelamin", "tmt_cpns"]


# --- NIK provinces -----------------------------------------------------------

TODAY = date(2025, 6, 1)


@pytest.mark.parametrize("kode", ["11", "32", "65", "91", "92", "93", "94", "95", "96"])
def test_nik_province_codes_include_the_2022_papua_provinces(kode: str) -> None:
    assert parse_nik(f"{kode}04101104680001", today=TODAY).provinsi == kode


@pytest.mark.parametrize("kode", ["99", "00", "10", "20", "37", "97"])
def test_unknown_nik_province_is_refused_with_the_reason(kode: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_nik(f"{kode}04101104680001", today=TODAY)
    assert caught.value.field == "nik"
    assert caught.value.message == (
        f"Kode provinsi pada NIK tidak dikenal: {kode} (dua digit pertama NIK adalah kode "
        "provinsi Kemendagri, misalnya 32 untuk Jawa Barat)"
    )


def test_nik_province_list_is_configuration() -> None:
    provinces = default_config().nik.provinsi
    assert len(provinces) == 38
    assert provinces["95"] == "Papua Pegunungan"
    assert "99" not in provinces


def test_nik_full_width_and_integer() -> None:
    assert parse_nik("３２０４１０１１０４６８０００１", today=TODAY).kecamatan == "10"
    assert parse_nik(3204101104680001, today=TODAY).provinsi == "32"
    with pytest.raises(RuleError, match="NIK belum diisi"):
        parse_nik(None)  # type: ignore[arg-type]


# --- jabatan and jenis names -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "bup"),
    [
        ("JPT pratama", JabatanKind.JPT, 60),
        ("JPT Madya", JabatanKind.JPT, 60),
        ("Jabatan Pimpinan Tinggi Utama", JabatanKind.JPT, 60),
        ("eselon II.a", JabatanKind.JPT, 60),
        ("Eselon III", JabatanKind.ADMINISTRATOR, 58),
        ("eselon IV/b", JabatanKind.PENGAWAS, 58),
        ("fungsional umum", JabatanKind.PELAKSANA, 58),
        ("JF Ahli Madya", JabatanKind.FUNGSIONAL_AHLI_MADYA, 60),
        ("ahli utama", JabatanKind.FUNGSIONAL_AHLI_UTAMA, 65),
        ("Penyelia", JabatanKind.FUNGSIONAL_KETERAMPILAN, 58),
        ("fungsional_ahli_muda", JabatanKind.FUNGSIONAL_AHLI_MUDA, 58),
        ("Fungsional ahli pertama", JabatanKind.FUNGSIONAL_AHLI_PERTAMA, 58),
    ],
)
def test_common_jabatan_names(text: str, kind: JabatanKind, bup: int) -> None:
    assert parse_jabatan(text) is kind
    assert bup_age(text) == bup


@pytest.mark.parametrize("text", ["camat", "", "ahli", "eselon V"])
def test_unknown_jabatan_is_a_rule_error(text: str) -> None:
    with pytest.raises(RuleError) as caught:
        bup_age(text)
    assert caught.value.field == "jabatan"
    assert "Jenis jabatan" in caught.value.message and "pilihan:" in caught.value.message


@given(
    kind=st.sampled_from(list(JabatanKind)),
    use_label=st.booleans(),
    case=st.sampled_from([str.upper, str.lower, str.title]),
    pad=st.sampled_from(["", " ", "  "]),
)
@settings(max_examples=60)
def test_jabatan_value_and_label_round_trip(
    kind: JabatanKind, use_label: bool, case: Callable[[str], str], pad: str
) -> None:
    text = kind.label if use_label else kind.value
    assert parse_jabatan(pad + case(text) + pad) is kind


@given(
    jenis=st.sampled_from(list(KpJenis)),
    use_label=st.booleans(),
    case=st.sampled_from([str.upper, str.lower, str.title]),
)
@settings(max_examples=40)
def test_kp_jenis_value_and_label_round_trip(
    jenis: KpJenis, use_label: bool, case: Callable[[str], str]
) -> None:
    assert parse_kp_jenis(case(jenis.label if use_label else jenis.value)) is jenis


def test_kp_eligibility_reads_short_jenis_and_refuses_unknown() -> None:
    result = kp_eligibility(
        golongan="III/c",
        tmt_pangkat=date(2023, 4, 1),
        pendidikan="S-1",
        period_tmt=date(2025, 4, 1),
        jenis="fungsional",
    )
    assert result.eligible
    with pytest.raises(RuleError) as caught:
        kp_eligibility(
            golongan="III/c",
            tmt_pangkat=date(2023, 4, 1),
            pendidikan="S-1",
            period_tmt=date(2025, 4, 1),
            jenis="istimewa",
        )
    assert caught.value.field == "jenis"
    assert caught.value.message.startswith("Jenis KP tidak dikenal: 'istimewa'")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"golongan": None}, "golongan"),
        ({"golongan": 3}, "golongan"),
        ({"tmt_pangkat": "kemarin"}, "tmt_pangkat"),
        ({"tmt_pangkat": date(1, 1, 1)}, "tmt_pangkat"),
        ({"period_tmt": None}, "period_tmt"),
        ({"pendidikan": "SMA kelas 2"}, "pendidikan"),
        ({"config": {"kp": {}}}, "config"),
    ],
)
def test_kp_eligibility_names_the_wrong_argument(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, Any] = {
        "golongan": "III/a",
        "tmt_pangkat": date(2020, 1, 1),
        "pendidikan": Pendidikan.S1,
        "period_tmt": date(2025, 4, 1),
        **kwargs,
    }
    with pytest.raises(RuleError) as caught:
        kp_eligibility(**arguments)
    assert caught.value.field == field


def test_dates_as_text_and_datetimes() -> None:
    by_text = kp_eligibility(
        golongan="III/a",
        tmt_pangkat="01-04-2021",  # type: ignore[arg-type]
        pendidikan="S1",
        period_tmt="2025-04-01",  # type: ignore[arg-type]
    )
    by_date = kp_eligibility(
        golongan="III/a",
        tmt_pangkat=datetime(2021, 4, 1, 8, 30),
        pendidikan="S1",
        period_tmt=date(2025, 4, 1),
    )
    assert by_text == by_date and by_text.eligible


# --- the default jenis of a layanan ------------------------------------------


@pytest.mark.parametrize(
    ("layanan", "jenis"),
    [(Layanan.KP, "reguler"), (Layanan.PENSIUN, "bup"), ("pindah", "pindah"), ("KP", "reguler")],
)
def test_default_jenis_follows_the_layanan(layanan: Layanan | str, jenis: str) -> None:
    assert default_jenis(layanan) == jenis
    assert default_jenis(layanan) in jenis_options(layanan)


def test_default_jenis_of_an_unknown_layanan() -> None:
    with pytest.raises(RuleError) as caught:
        default_jenis("mutasi")
    assert caught.value.field == "layanan"
    assert caught.value.message == (
        "Layanan tidak dikenal: 'mutasi' (pilihan: kp, pindah, pensiun)"
    )


# --- no public rule function raises anything but RuleError ------------------

# Reads files: tested in test_config.py, not fed arbitrary paths here.
_NOT_FUZZED = {"load_rules_config"}
PUBLIC_FUNCTIONS = sorted(
    name
    for name in rules.__all__
    if inspect.isfunction(getattr(rules, name)) and name not in _NOT_FUZZED
)

st.register_type_strategy(Golongan, st.sampled_from(ALL_GOLONGAN))

_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.dates(),
    st.datetimes(),
    st.lists(st.integers(), max_size=3),
    st.tuples(st.text(max_size=5), st.text(max_size=5)),
    st.sampled_from([*Pendidikan, *KpJenis, *JabatanKind, *Layanan]),
)


def _strategy(name: str, annotation: object) -> st.SearchStrategy[object]:
    if name == "config":
        return st.one_of(st.none(), st.just(default_config()), _JUNK)
    try:
        typed = st.from_type(annotation)  # type: ignore[arg-type]
    except Exception:  # an annotation Hypothesis cannot build: junk only
        return _JUNK
    return st.one_of(typed, _JUNK)


def _arguments(function: Callable[..., object]) -> st.SearchStrategy[dict[str, object]]:
    hints = typing.get_type_hints(function)
    parameters = inspect.signature(function).parameters
    return st.fixed_dictionaries(
        {name: _strategy(name, hints.get(name, object)) for name in parameters}
    )


@pytest.mark.parametrize("name", PUBLIC_FUNCTIONS)
def test_public_rule_functions_raise_only_rule_error(name: str) -> None:
    function = getattr(rules, name)

    @given(arguments=_arguments(function))
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(arguments: dict[str, object]) -> None:
        try:
            function(**arguments)
        except RuleError as exc:
            assert exc.message and exc.field, (name, arguments)

    check()


def test_every_public_function_is_fuzzed() -> None:
    assert len(PUBLIC_FUNCTIONS) >= 30
    assert {"parse_nip", "kp_eligibility", "bup_age", "parse_nik"} <= set(PUBLIC_FUNCTIONS)

"""Rules configuration: the shipped defaults, a BKD override merged over them,
and the Bahasa errors a bad override file gives."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from store.rules import (
    JabatanKind,
    KpJenis,
    KpPeriod,
    Layanan,
    Pendidikan,
    RuleError,
    RulesConfig,
    bup_age,
    checklist,
    default_config,
    dokumen_kinds,
    education_ceiling,
    find_kode_in_name,
    kp_eligibility,
    kp_periods_of_year,
    load_rules_config,
    next_kp_period,
    parse_golongan,
    pensiun_due,
)


def _override(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "aturan-bkd.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_config_is_cached_and_equals_a_fresh_load() -> None:
    assert default_config() is default_config()
    assert load_rules_config() == default_config()
    assert isinstance(default_config(), RulesConfig)


def test_config_is_frozen() -> None:
    config = default_config()
    with pytest.raises(ValueError):
        config.kp = config.kp


def test_defaults() -> None:
    config = default_config()
    assert [period.tmt_month for period in config.kp.periods] == [2, 4, 6, 8, 10, 12]
    assert dict(config.kp.min_years) == {
        KpJenis.REGULER: 4,
        KpJenis.PILIHAN_FUNGSIONAL: 2,
        KpJenis.PILIHAN_STRUKTURAL: 4,
        KpJenis.PENYESUAIAN_IJAZAH: 1,
    }
    assert config.kp.ceiling_jenis == (KpJenis.REGULER,)
    assert config.pensiun.lead_months == 15
    assert (config.pensiun.target_lead_months_min, config.pensiun.target_lead_months_max) == (8, 12)
    assert (config.pensiun.min_service_years, config.pensiun.min_pns_years) == (10, 5)
    assert (config.pensiun.aps_min_age, config.pensiun.aps_min_service_years) == (45, 20)
    assert (config.dokumen.size_limit, config.dokumen.multi_page_size_limit) == (
        1_048_576,
        2_097_152,
    )


def test_override_merges_tables_and_replaces_scalars_and_lists(tmp_path: Path) -> None:
    path = _override(
        tmp_path,
        """
# A BKD whose teachers retire at 60 and whose fungsional KP needs 3 years.
[kp]
min_years = { pilihan_fungsional = 3 }
ceiling_jenis = ["reguler", "penyesuaian_ijazah"]

[pendidikan.ceilings]
s1 = "IV/a"

[pensiun]
lead_months = 18

[pensiun.bup]
fungsional_ahli_pertama = 60

[dokumen]
size_limit = 800_000

[dokumen.kinds.SKP]
size_limit = 3_000_000

[dokumen.kinds.AKTA_KEMATIAN]
nama = "Akta kematian"
aliases = ["surat kematian"]

[checklists.pensiun.janda_duda_anak]
items = ["AKTA_KEMATIAN"]
""",
    )
    config = load_rules_config(path)
    # merged, not replaced: the other keys keep their defaults
    assert config.kp.min_years[KpJenis.PILIHAN_FUNGSIONAL] == 3
    assert config.kp.min_years[KpJenis.REGULER] == 4
    assert education_ceiling(Pendidikan.S1, config) == parse_golongan("IV/a")
    assert education_ceiling(Pendidikan.S2, config) == parse_golongan("IV/a")
    assert bup_age(JabatanKind.FUNGSIONAL_AHLI_PERTAMA, config) == 60
    assert bup_age(JabatanKind.PELAKSANA, config) == 58
    assert config.pensiun.lead_months == 18
    assert config.pensiun.min_pns_years == 5
    # the list replaced the default list
    assert config.kp.ceiling_jenis == (KpJenis.REGULER, KpJenis.PENYESUAIAN_IJAZAH)
    kinds = dokumen_kinds(config)
    assert kinds["KTP"].size_limit == 800_000
    assert kinds["SKP"].size_limit == 3_000_000
    assert kinds["DPCP"].size_limit == 2_097_152
    assert kinds["SKP"].nama == "SKP 2 tahun terakhir"  # the kind's other keys stay
    assert kinds["AKTA_KEMATIAN"].size_limit == 800_000
    assert find_kode_in_name("surat kematian ayah.pdf", config) == "AKTA_KEMATIAN"
    # a checklist table merges: `extends` stays, `items` is replaced
    codes = [item.kode for item in checklist(Layanan.PENSIUN, "janda_duda_anak", config)]
    assert codes[-1] == "AKTA_KEMATIAN"
    assert codes[:-1] == [item.kode for item in checklist(Layanan.PENSIUN, "bup", config)]
    # the defaults are untouched
    assert education_ceiling(Pendidikan.S1) == parse_golongan("III/d")


def test_override_changes_rule_outcomes(tmp_path: Path) -> None:
    config = load_rules_config(
        _override(tmp_path, "[kp]\nmin_years = { pilihan_fungsional = 3 }\n")
    )
    arguments = {
        "golongan": parse_golongan("III/c"),
        "tmt_pangkat": date(2022, 4, 1),
        "pendidikan": Pendidikan.S1,
        "period_tmt": date(2025, 2, 1),
        "jenis": KpJenis.PILIHAN_FUNGSIONAL,
    }
    assert kp_eligibility(**arguments).eligible  # type: ignore[arg-type]
    assert not kp_eligibility(**arguments, config=config).eligible  # type: ignore[arg-type]
    born = date(1967, 5, 15)
    config = load_rules_config(_override(tmp_path, "[pensiun]\nlead_months = 3\n"))
    assert pensiun_due(born, JabatanKind.PELAKSANA, date(2025, 1, 1)) == date(2025, 6, 1)
    assert pensiun_due(born, JabatanKind.PELAKSANA, date(2025, 1, 1), config=config) is None


def test_override_kp_periods(tmp_path: Path) -> None:
    # A region on the old four-period calendar (April and October).
    path = _override(
        tmp_path,
        """
[[kp.periods]]
tmt_month = 10
window_start = "07-01"
window_end = "07-31"

[[kp.periods]]
tmt_month = 4
window_start = "01-01"
window_end = "01-31"
""",
    )
    config = load_rules_config(path)
    assert kp_periods_of_year(2025, config) == [
        KpPeriod(date(2025, 4, 1), date(2025, 1, 1), date(2025, 1, 31)),
        KpPeriod(date(2025, 10, 1), date(2025, 7, 1), date(2025, 7, 31)),
    ]
    assert next_kp_period(date(2025, 8, 1), config).tmt == date(2026, 4, 1)


def test_window_day_past_month_end_is_clamped(tmp_path: Path) -> None:
    path = _override(
        tmp_path,
        '[[kp.periods]]\ntmt_month = 4\nwindow_start = "02-01"\nwindow_end = "02-29"\n',
    )
    config = load_rules_config(path)
    assert kp_periods_of_year(2025, config)[0].window_end == date(2025, 2, 28)
    assert kp_periods_of_year(2024, config)[0].window_end == date(2024, 2, 29)


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        (
            '[kp]\nmin_years = { reguler = "empat" }\n',
            ["- kp.min_years.reguler: harus berupa bilangan bulat (nilai: 'empat')"],
        ),
        ("[kp]\nmin_yeers = 3\n", ["- kp.min_yeers: kunci tidak dikenal (nilai: 3)"]),
        (
            '[pendidikan.ceilings]\ns1 = "II/e"\n',
            [
                "- pendidikan.ceilings.s1: Golongan II/e tidak ada: "
                "huruf e hanya ada pada golongan IV"
            ],
        ),
        (
            '[pendidikan.ceilings]\nsma = "III/b"\n',
            ["- pendidikan.ceilings.sma (nama kunci): nilai tidak dikenal (pilihan: 'sd',"],
        ),
        (
            '[kp]\nceiling_jenis = ["regular"]\n',
            ["- kp.ceiling_jenis[ke-1]: nilai tidak dikenal (pilihan: 'reguler', 'pilihan_"],
        ),
        (
            '[[kp.periods]]\ntmt_month = 13\nwindow_start = "11-01"\nwindow_end = "x"\n',
            [
                "- kp.periods[ke-1].tmt_month: paling besar 12 (nilai: 13)",
                '- kp.periods[ke-1].window_end: harus berupa teks "BB-HH" (bulan-hari)',
            ],
        ),
        (
            '[[kp.periods]]\ntmt_month = 2\nwindow_start = "01-15"\nwindow_end = "12-15"\n',
            ["- kp.periods[ke-1]: awal jendela pengajuan jatuh setelah akhirnya"],
        ),
        ("[kp]\nperiods = []\n", ["- kp.periods: paling sedikit satu periode"]),
        ("[pensiun.bup]\njpt = 0\n", ["- pensiun.bup.jpt: harus lebih dari 0 (nilai: 0)"]),
        (
            "[pensiun]\ntarget_lead_months_min = 13\n",
            ["- pensiun: target_lead_months_min tidak boleh lebih besar dari"],
        ),
        ("kp = 3\n", ["- kp: harus berupa tabel (nilai: 3)"]),
        (
            '[dokumen.kinds.sk_baru]\nnama = "SK baru"\n',
            ["- dokumen.kinds: kode dokumen sk_baru harus huruf besar"],
        ),
        (
            '[dokumen.kinds.AKTA_KEMATIAN]\nnama = "Akta kematian"\naliases = ["kk"]\n',
            ["- dokumen: nama/alias 'kk' dipakai oleh dua jenis dokumen: KK dan AKTA_KEMATIAN"],
        ),
        (
            '[checklists.kp.reguler]\nitems = ["SK_CPNS", "SK_XXX*"]\n',
            ["- checklists.kp.reguler: kode dokumen 'SK_XXX' tidak ada di [dokumen.kinds]"],
        ),
        (
            '[checklists.kp.kilat]\nitems = ["SK_CPNS"]\n',
            ["- checklists.kp: jenis kilat tidak dikenal"],
        ),
        (
            '[checklists.kp.reguler]\nextends = "penyesuaian_ijazah"\n',
            [
                "- checklists.kp.reguler: extends berputar "
                "(reguler -> penyesuaian_ijazah -> reguler)"
            ],
        ),
        (
            '[checklists.pensiun.aps]\nextends = "cuti"\n',
            ["- checklists.pensiun.aps: extends = 'cuti' tidak ada"],
        ),
        (
            "[checklists.pindah.pindah]\nitems = []\n",
            ["- checklists.pindah.pindah: daftar dokumen kosong"],
        ),
    ],
)  # fmt: skip
def test_bad_override_names_file_and_problem(
    tmp_path: Path, text: str, problems: list[str]
) -> None:
    path = _override(tmp_path, text)
    with pytest.raises(RuleError) as caught:
        load_rules_config(path)
    message = caught.value.message
    assert message.startswith(f"Berkas konfigurasi aturan {path} tidak valid:\n")
    for problem in problems:
        assert problem in message
    assert caught.value.detail  # the pydantic report, for the log


def test_bad_toml_syntax(tmp_path: Path) -> None:
    path = _override(tmp_path, "[kp]\nmin_years = {\n")
    with pytest.raises(RuleError) as caught:
        load_rules_config(path)
    assert caught.value.message == (
        f"Berkas konfigurasi aturan {path} bukan TOML yang benar: "
        "ada kesalahan penulisan di baris 2, kolom 14."
    )
    assert caught.value.field == "config"
    assert "line 2" in caught.value.detail


def test_missing_and_non_utf8_override(tmp_path: Path) -> None:
    missing = tmp_path / "tidak-ada.toml"
    with pytest.raises(RuleError) as caught:
        load_rules_config(missing)
    assert caught.value.message == f"Berkas konfigurasi aturan {missing} tidak ditemukan."
    binary = tmp_path / "biner.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(RuleError) as caught:
        load_rules_config(binary)
    assert caught.value.message == f"Berkas konfigurasi aturan {binary} bukan teks UTF-8."


def test_empty_override_is_the_defaults(tmp_path: Path) -> None:
    assert load_rules_config(_override(tmp_path, "")) == default_config()

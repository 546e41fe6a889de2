"""Dokumen kinds, checklists per layanan and jenis, and codes in scan names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store.rules import (
    ChecklistItem,
    DokumenKind,
    KpJenis,
    Layanan,
    PensiunJenis,
    RuleError,
    checklist,
    dokumen_kinds,
    find_kode_in_name,
    jenis_options,
    match_kode,
)

MB = 1_048_576

ALL_KODES = {
    "SK_CPNS", "SK_PNS", "SK_PANGKAT", "SKP", "SK_JABATAN", "PELANTIKAN_SPMT", "IJAZAH",
    "TRANSKRIP", "STLUD", "URAIAN_TUGAS", "IZIN_BELAJAR", "SK_LULUS_UPI", "SERTIFIKAT_PIM",
    "SK_FUNGSIONAL_PERTAMA", "PAK_AWAL", "PAK_TERAKHIR", "KARPEG", "DPCP", "SK_KGB", "KP4",
    "KTP", "KARIS_KARSU", "KK", "SURAT_NIKAH", "AKTA_ANAK", "SURAT_HUKDIS", "SURAT_PIDANA",
    "PAS_FOTO", "PELEPASAN", "PENERIMAAN", "PERMOHONAN_PINDAH", "SURAT_TIDAK_HUKDIS_PERADILAN",
    "SURAT_TIDAK_TUGAS_BELAJAR", "BEBAS_TEMUAN", "ANJAB_ABK", "PERSETUJUAN_PASANGAN",
    "SURAT_SEHAT",
}  # fmt: skip


def test_every_kind_of_domain_md_is_there() -> None:
    assert set(dokumen_kinds()) == ALL_KODES


@pytest.mark.parametrize(
    ("kode", "limit", "multi_page"),
    [
        ("SKP", 2 * MB, True),
        ("DPCP", 2 * MB, True),
        ("IJAZAH", 2 * MB, True),
        ("TRANSKRIP", 2 * MB, True),
        ("SK_CPNS", MB, False),
        ("KTP", MB, False),
        ("PAS_FOTO", MB, False),
    ],
)
def test_size_limits(kode: str, limit: int, multi_page: bool) -> None:
    kind = dokumen_kinds()[kode]
    assert kind.size_limit == limit
    assert kind.multi_page is multi_page


def test_kind_fields() -> None:
    assert dokumen_kinds()["DPCP"] == DokumenKind(
        kode="DPCP",
        nama="DPCP (data perorangan calon penerima pensiun)",
        size_limit=2 * MB,
        multi_page=True,
        judul=("DATA PERORANGAN CALON PENERIMA PENSIUN",),
    )
    assert all(kind.size_limit in (MB, 2 * MB) for kind in dokumen_kinds().values())
    assert {k for k, kind in dokumen_kinds().items() if kind.multi_page} == {
        "SKP",
        "DPCP",
        "IJAZAH",
        "TRANSKRIP",
    }


def _codes(items: list[ChecklistItem]) -> list[str]:
    return [item.kode + ("*" if item.optional else "") for item in items]


REGULER = [
    "SK_CPNS*", "SK_PNS*", "SK_PANGKAT", "SKP", "SK_JABATAN", "PELANTIKAN_SPMT", "IJAZAH",
    "TRANSKRIP", "STLUD*",
]  # fmt: skip
PENSIUN = [
    "DPCP", "SK_CPNS", "SK_PNS", "SK_PANGKAT", "SK_KGB", "SK_JABATAN*", "KP4", "KARPEG", "KTP",
    "KARIS_KARSU", "KK", "SURAT_NIKAH", "AKTA_ANAK", "SKP", "SURAT_HUKDIS", "SURAT_PIDANA",
    "PAS_FOTO",
]  # fmt: skip


@pytest.mark.parametrize(
    ("layanan", "jenis", "codes"),
    [
        (Layanan.KP, "reguler", REGULER),
        (
            Layanan.KP,
            "penyesuaian_ijazah",
            [*REGULER, "URAIAN_TUGAS", "IZIN_BELAJAR", "SK_LULUS_UPI"],
        ),
        (
            Layanan.KP,
            "pilihan_struktural",
            [
                "SK_PANGKAT", "SKP", "SK_JABATAN", "PELANTIKAN_SPMT", "IJAZAH", "TRANSKRIP",
                "STLUD*", "IZIN_BELAJAR*", "SERTIFIKAT_PIM*",
            ],
        ),
        (
            Layanan.KP,
            "pilihan_fungsional",
            [
                "SK_FUNGSIONAL_PERTAMA", "PAK_AWAL", "PAK_TERAKHIR", "SKP", "SK_CPNS", "SK_PNS",
                "KARPEG",
            ],
        ),
        (Layanan.PENSIUN, "bup", PENSIUN),
        (Layanan.PENSIUN, "aps", PENSIUN),
        (Layanan.PENSIUN, "janda_duda_anak", PENSIUN),
        (Layanan.PENSIUN, "uzur", PENSIUN),
        (
            Layanan.PINDAH,
            "pindah",
            [
                "PELEPASAN", "PENERIMAAN", "PERMOHONAN_PINDAH", "SURAT_TIDAK_HUKDIS_PERADILAN",
                "SURAT_TIDAK_TUGAS_BELAJAR", "BEBAS_TEMUAN", "ANJAB_ABK", "SKP", "SK_PANGKAT",
                "SK_PNS", "SK_CPNS", "KARPEG", "PERSETUJUAN_PASANGAN*", "SURAT_SEHAT",
            ],
        ),
    ],
)  # fmt: skip
def test_checklist_contents(layanan: Layanan, jenis: str, codes: list[str]) -> None:
    assert _codes(checklist(layanan, jenis)) == codes


@pytest.mark.parametrize(
    ("layanan", "jenis", "kode", "nama"),
    [
        (Layanan.KP, "reguler", "SK_PANGKAT", "SK pangkat terakhir"),
        (Layanan.KP, "reguler", "SKP", "SKP 2 tahun terakhir"),
        (Layanan.KP, "reguler", "IJAZAH", "Ijazah terakhir"),
        (Layanan.KP, "pilihan_struktural", "IJAZAH", "Ijazah"),
        (Layanan.KP, "pilihan_struktural", "IZIN_BELAJAR", "Surat izin belajar"),
        (
            Layanan.KP,
            "pilihan_fungsional",
            "SKP",
            "SKP 2 tahun terakhir (predikat minimal Baik)",
        ),
        (Layanan.PENSIUN, "bup", "SKP", "SKP terakhir"),
        (Layanan.PENSIUN, "bup", "SK_JABATAN", "SK jabatan terakhir"),
        (Layanan.PINDAH, "pindah", "PENERIMAAN", dokumen_kinds()["PENERIMAAN"].nama),
    ],
)
def test_checklist_names(layanan: Layanan, jenis: str, kode: str, nama: str) -> None:
    items = {item.kode: item for item in checklist(layanan, jenis)}
    assert items[kode].nama == nama


def test_checklist_accepts_enum_and_string_jenis() -> None:
    assert checklist(Layanan.KP, KpJenis.REGULER) == checklist(Layanan.KP, "reguler")
    assert checklist("pensiun", PensiunJenis.BUP) == checklist(  # type: ignore[arg-type]
        Layanan.PENSIUN, "bup"
    )


@pytest.mark.parametrize(
    ("layanan", "jenis", "fragment", "field"),
    [
        (Layanan.KP, "bup", "Jenis 'bup' tidak dikenal untuk layanan Kenaikan pangkat", "jenis"),
        (Layanan.PINDAH, "mutasi", "Jenis 'mutasi' tidak dikenal untuk layanan Pindah", "jenis"),
        ("cuti", "x", "Layanan tidak dikenal: 'cuti'", "layanan"),
    ],
)
def test_checklist_unknown(layanan: Layanan, jenis: str, fragment: str, field: str) -> None:
    with pytest.raises(RuleError) as caught:
        checklist(layanan, jenis)
    assert fragment in caught.value.message
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("layanan", "options"),
    [
        (Layanan.KP, ["reguler", "penyesuaian_ijazah", "pilihan_struktural", "pilihan_fungsional"]),
        (Layanan.PENSIUN, ["bup", "aps", "janda_duda_anak", "uzur"]),
        (Layanan.PINDAH, ["pindah"]),
    ],
)
def test_jenis_options(layanan: Layanan, options: list[str]) -> None:
    assert jenis_options(layanan) == options


def test_every_checklist_kode_is_a_kind() -> None:
    kinds = dokumen_kinds()
    for layanan in Layanan:
        for jenis in jenis_options(layanan):
            assert {item.kode for item in checklist(layanan, jenis)} <= set(kinds)


# --- recognising codes ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kode"),
    [
        ("sk cpns", "SK_CPNS"),
        ("SK-CPNS", "SK_CPNS"),
        ("skcpns", "SK_CPNS"),
        ("SK_CPNS", "SK_CPNS"),
        ("SK CPNS", "SK_CPNS"),
        ("sk 80", "SK_CPNS"),
        ("sk pns", "SK_PNS"),
        ("SK_PNS", "SK_PNS"),
        ("sk pangkat", "SK_PANGKAT"),
        ("SK Pangkat Terakhir", "SK_PANGKAT"),
        ("skp", "SKP"),
        ("ijazah", "IJAZAH"),
        ("Ijasah", "IJAZAH"),
        ("Transkrip nilai", "TRANSKRIP"),
        ("transkrip", "TRANSKRIP"),
        ("pas foto", "PAS_FOTO"),
        ("Pas-Foto", "PAS_FOTO"),
        ("kk", "KK"),
        ("Kartu Keluarga", "KK"),
        ("kp4", "KP4"),
        ("KP-4", "KP4"),
        ("e-KTP", "KTP"),
        ("dpcp", "DPCP"),
        ("lolos butuh", "PENERIMAAN"),
        ("PAK awal", "PAK_AWAL"),
        ("", None),
        ("sk", None),
        ("pns", None),
        ("sk cpns lama", None),  # match_kode wants the whole text; see find_kode_in_name
    ],
)
def test_match_kode(text: str, kode: str | None) -> None:
    assert match_kode(text) == kode


@pytest.mark.parametrize(
    ("name", "kode"),
    [
        ("199001012015031001 sk-cpns scan2.jpg", "SK_CPNS"),
        ("199001012015031001_SK_CPNS.pdf", "SK_CPNS"),
        ("199001012015031001_SK_PNS.pdf", "SK_PNS"),
        ("199001012015031001skcpns.pdf", "SK_CPNS"),
        ("Ijazah S1 Budi.pdf", "IJAZAH"),
        ("scan sk pangkat terakhir 2021.jpeg", "SK_PANGKAT"),
        ("SKP 2023 2024.pdf", "SKP"),
        ("Transkrip Nilai S1.pdf", "TRANSKRIP"),
        ("ijazah_transkrip.pdf", "TRANSKRIP"),  # longest wins
        ("kk budi.jpg", "KK"),
        ("C:\\Users\\opd\\Scan\\KP4 budi.png", "KP4"),
        ("/home/opd/scan/pas foto 4x6.jpg", "PAS_FOTO"),
        ("foto ktp suami.jpg", "KTP"),
        ("Pak Budi skp.pdf", "SKP"),  # "pak" alone is no code
        ("surat tidak sedang tugas belajar.pdf", "SURAT_TIDAK_TUGAS_BELAJAR"),
        ("izin belajar.pdf", "IZIN_BELAJAR"),
        ("IMG_20240101_0001.jpg", None),
        ("bukkake.pdf", None),  # no "kk" inside a word
        ("", None),
    ],
)
def test_find_kode_in_name(name: str, kode: str | None) -> None:
    assert find_kode_in_name(name) == kode


def test_find_kode_among_a_checklist() -> None:
    name = "surat permohonan pensiun.pdf"
    assert find_kode_in_name(name) == "PERMOHONAN_PINDAH"
    among = [item.kode for item in checklist(Layanan.PENSIUN, "bup")]
    assert find_kode_in_name(name, among=among) is None
    assert find_kode_in_name("sk cpns.pdf", among=among) == "SK_CPNS"
    assert find_kode_in_name("sk cpns.pdf", among=[]) is None


@given(
    kode=st.sampled_from(sorted(ALL_KODES)),
    separator=st.sampled_from(["_", "-", " ", ""]),
    upper=st.booleans(),
    nip=st.text(alphabet="0123456789", min_size=18, max_size=18),
)
def test_canonical_name_round_trip(kode: str, separator: str, upper: bool, nip: str) -> None:
    typed = kode.replace("_", separator)
    typed = typed.upper() if upper else typed.lower()
    assert match_kode(typed) == kode
    assert find_kode_in_name(f"{nip}_{typed}.pdf") == kode
    assert find_kode_in_name(f"{nip}_{kode}.pdf") == kode

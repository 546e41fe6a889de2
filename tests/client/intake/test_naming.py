"""Reading the NIP and dokumen kind from scan names and folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from client.intake.ignore import is_ignored, is_ignored_name
from client.intake.naming import nip_candidates, recognise, redact_nik
from client.intake.sniff import ScanType, sniff_bytes
from tests.support.scans import NIP_BUDI

ROOT = Path("/pindai")


@pytest.mark.parametrize(
    ("relative", "nip", "kode"),
    [
        (f"{NIP_BUDI}_SK_CPNS.pdf", NIP_BUDI, "SK_CPNS"),
        ("19680411 199303 1 009 sk cpns.jpg", NIP_BUDI, "SK_CPNS"),
        ("19680411-199303-1-009 SK-CPNS.jpg", NIP_BUDI, "SK_CPNS"),
        (f"{NIP_BUDI} skcpns.tif", NIP_BUDI, "SK_CPNS"),
        (f"{NIP_BUDI}/sk pns.jpg", NIP_BUDI, "SK_PNS"),
        (f"Budi {NIP_BUDI}/scan ijasah s1.pdf", NIP_BUDI, "IJAZAH"),
        (f"SKP/{NIP_BUDI}.pdf", NIP_BUDI, "SKP"),
        (f"{NIP_BUDI}_SKP 2023.pdf", NIP_BUDI, "SKP"),
        (f"{NIP_BUDI} sk 80 persen.jpg", NIP_BUDI, "SK_CPNS"),
        ("scan0001.jpg", None, None),
        ("sk pangkat.jpg", None, "SK_PANGKAT"),
        (f"{NIP_BUDI}.jpg", NIP_BUDI, None),
        # 16 digits are a NIK, not a NIP
        ("3201234567890001 ktp.jpg", None, "KTP"),
    ],
)
def test_recognises_nip_and_kode(relative: str, nip: str | None, kode: str | None) -> None:
    found = recognise(ROOT / relative, ROOT)
    assert (found.nip, found.kode) == (nip, kode)
    assert found.relative_name == relative


def test_file_name_wins_over_folder() -> None:
    found = recognise(ROOT / "198001012005011002" / f"{NIP_BUDI}_SK_PNS.pdf", ROOT)
    assert found.nip == NIP_BUDI


def test_two_real_nips_in_one_name_are_not_guessed() -> None:
    found = recognise(ROOT / f"{NIP_BUDI} 197502142000032001 sk cpns.pdf", ROOT)
    assert found.nip is None
    assert "lebih dari satu NIP" in found.note
    assert found.kode == "SK_CPNS"


def test_nip_candidates_accept_spaced_groups() -> None:
    assert [d for d, _ in nip_candidates("a 19680411 199303 1 009 b")] == [NIP_BUDI]


def test_nik_is_redacted_for_logs() -> None:
    assert redact_nik("KTP 3201234567890001.jpg") == "KTP [NIK].jpg"
    assert redact_nik(f"{NIP_BUDI}_SK.pdf") == f"{NIP_BUDI}_SK.pdf"


@pytest.mark.parametrize(
    "name",
    [
        "~$laporan.docx",
        "scan.tmp",
        "scan.pdf.part",
        ".DS_Store",
        "Thumbs.db",
        "desktop.ini",
        "thumbs.DB",
        "@eaDir",
        "x.pdf.alasan.txt",
    ],
)
def test_temporary_and_system_files_are_ignored(name: str) -> None:
    assert is_ignored_name(name)


def test_files_in_ignored_and_reserved_folders_are_ignored() -> None:
    assert is_ignored(ROOT / "@eaDir" / "scan.jpg", ROOT)
    assert is_ignored(ROOT / "diproses" / "a.pdf", ROOT, [ROOT / "diproses"])
    assert not is_ignored(ROOT / "budi" / "a.pdf", ROOT, [ROOT / "diproses"])


def test_type_comes_from_magic_bytes() -> None:
    assert sniff_bytes(b"\xff\xd8\xff\xe0rest") is ScanType.JPEG
    assert sniff_bytes(b"\x89PNG\r\n\x1a\nrest") is ScanType.PNG
    assert sniff_bytes(b"II*\x00") is ScanType.TIFF
    assert sniff_bytes(b"MM\x00*") is ScanType.TIFF
    assert sniff_bytes(b"junk%PDF-1.7") is ScanType.PDF
    assert sniff_bytes(b"PK\x03\x04") == "ZIP/Office"
    assert sniff_bytes(b"hello") == "tidak dikenal"


@given(
    digits=st.text(alphabet="0123456789", min_size=18, max_size=18),
    cuts=st.lists(st.sampled_from([" ", "-", ""]), min_size=17, max_size=17),
    prefix=st.sampled_from(["", "scan ", "SK CPNS_"]),
)
def test_any_18_digits_with_separators_are_read_back(
    digits: str, cuts: list[str], prefix: str
) -> None:
    written = digits[0] + "".join(sep + d for sep, d in zip(cuts, digits[1:], strict=True))
    assert digits in [d for d, _ in nip_candidates(prefix + written + " x")]

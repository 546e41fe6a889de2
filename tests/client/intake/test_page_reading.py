"""Reading the page of a misnamed scan with OCR: NIP and kind from its words,
files itself only when both are certain, else waits with a suggestion the
person accepts with one key; the page wins over a reused name.

OCR is slow on two cores, so these few tests share one scan folder each and
read small pages (150 dpi, the top half)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import col, select

from client.intake.page_reading import ocr_available
from client.intake.pagetext import dates_in_text, kinds_in_text, name_key, valid_nips
from client.intake.results import IntakeStatus
from client.intake.service import IntakeService
from store.database import Store
from store.models import Dokumen, InboxItem, Usulan
from store.pegawai import PegawaiInput, upsert_pegawai
from store.rules import dokumen_kinds
from tests.support import documents as docs
from tests.support.scans import NIP_BUDI, NIP_SITI, NIP_UNKNOWN

pytestmark = pytest.mark.skipif(
    not ocr_available(), reason="rapidocr-onnxruntime (make install) tidak dapat dimuat di sini"
)


def _live(store: Store) -> dict[tuple[str, str], Dokumen]:
    with store.read() as session:
        rows = session.exec(select(Dokumen).where(col(Dokumen.deleted).is_(False))).all()
        usulan = {u.id: u.nip for u in session.exec(select(Usulan))}
    return {(usulan[d.usulan_id], d.kode): d for d in rows}


def _inbox(store: Store) -> dict[str, InboxItem]:
    with store.read() as session:
        return {i.original_name: i for i in session.exec(select(InboxItem))}


def test_nips_and_titles_in_ocr_text() -> None:
    # What OCR gives back: glued words, a NIP split over lines, O for 0.
    text = (
        "SURATKEPUTUSAN\nTENTANGKENAIKANPANGKATPEGAWAINEGERISIPIL\nNama\n:BudiSantoso\nNIP\n"
        "：19680411 199303\n1 OO9\nbahwa kenaikan gaji berkala yang bersangkutan\n"
        "Telp 0812 3456 7890 1234 5678 99"
    )
    assert valid_nips(text) == [NIP_BUDI]
    titles = {k: v.judul for k, v in dokumen_kinds().items()}
    # Lower-case body words never name a kind; only the capitals title does.
    assert kinds_in_text(text, titles) == ["SK_PANGKAT"]
    assert kinds_in_text("SURAT KETERANGAN LULUS UJIAN PENYESUAIAN IJAZAH", titles) == [
        "SK_LULUS_UPI"
    ]


def test_misnamed_scans_file_themselves_or_wait_with_a_suggestion(
    service: IntakeService, store: Store, scans
) -> None:
    service.settings.ocr = True
    budi = ("Budi Santoso", NIP_BUDI)
    # scan0001: Budi's SK pangkat, NIP broken over two lines, skewed, with grain.
    docs.jpeg(
        scans / "scan0001.jpg",
        docs.document(kode="SK_PANGKAT", people=[budi], seed=1, skew=1.0, nip_split=True),
    )
    # Reused name: Siti's NIP and SK_PNS in the name, but the page is Budi's SKP.
    docs.jpeg(
        scans / f"{NIP_SITI}_SK_PNS (2).jpg",
        docs.document(kode="SKP", people=[budi], seed=2, skew=-0.7),
    )
    # A pegawai of another OPD: suggestion only.
    docs.jpeg(
        scans / "IMG_20261101_093012.jpg",
        docs.document(kode="IJAZAH", people=[("Rudi Hartono", NIP_UNKNOWN)], seed=3),
    )
    # Budi's page whose title names no kind in the table: NIP suggested, kind left open.
    docs.jpeg(
        scans / "dokumen.jpg",
        docs.document(kode="LAIN", people=[budi], seed=4),
    )
    results = {p.name: service.process_file(p) for p in sorted(scans.glob("*.jpg"))}
    filed = results["scan0001.jpg"]
    assert filed.status is IntakeStatus.FILED, filed.message
    assert "Dikenali dari isi: NIP 19680411 199303 1 009, SK pangkat terakhir" in filed.message
    reused = results[f"{NIP_SITI}_SK_PNS (2).jpg"]
    assert reused.status is IntakeStatus.FILED, reused.message
    assert "menggantikan nama berkas" in reused.message
    live = _live(store)
    assert set(live) == {(NIP_BUDI, "SK_PANGKAT"), (NIP_BUDI, "SKP")}  # nothing for Siti

    waiting = _inbox(store)
    other = waiting["IMG_20261101_093012.jpg"]
    assert "bukan pegawai OPD ini" in other.reason and "Ijazah" in other.reason
    partial = waiting["dokumen.jpg"]
    assert partial.reason.startswith("Dikenali dari isi: NIP 19680411 199303 1 009"), partial.reason
    assert (partial.nip, partial.kode) == (NIP_BUDI, "")


def test_collective_sk_goes_to_the_one_whose_usulan_needs_it_and_suggestion_is_one_key(
    service: IntakeService, store: Store, scans
) -> None:
    service.settings.ocr = True
    page = docs.document(
        kode="SK_PANGKAT",
        people=[("Siti Aminah", NIP_SITI), ("Budi Santoso", NIP_BUDI)],
        seed=5,
    )
    result = service.process_file(docs.jpeg(scans / "scan0007.jpg", page))
    # Only Budi has an open usulan that still needs SK_PANGKAT.
    assert result.status is IntakeStatus.FILED, result.message
    assert set(_live(store)) == {(NIP_BUDI, "SK_PANGKAT")}

    # Budi's SKP whose NIP is smudged away: the kind is certain, the pegawai is not.
    smudged = docs.document(kode="SKP", people=[("Budi Santoso", "19680411")], seed=6)
    waiting = service.process_file(docs.jpeg(scans / "scan0008.jpg", smudged))
    assert waiting.status is IntakeStatus.INBOX
    item = _inbox(store)["scan0008.jpg"]
    assert item.reason.startswith("Dikenali dari isi: SKP")
    assert item.kode == "SKP" and item.nip == ""


def test_pages_without_a_nip_are_matched_by_name_and_birth_date(
    service: IntakeService, store: Store, scans
) -> None:
    service.settings.ocr = True
    with store.write() as session:
        # Budi's namesake, born in another year: the name alone must not decide.
        upsert_pegawai(
            session,
            PegawaiInput(
                nip="197501012000031003",
                nama="Budi Santoso, S.Pd.",
                golongan="III/b",
                tmt_pangkat="2018-04-01",  # type: ignore[arg-type]
                pendidikan="S1",
                jenis_jabatan="pelaksana",
            ),
        )
    # Budi's ijazah: his name (before his degree) and his birth date, no NIP.
    ijazah = docs.holder_document(
        kode="IJAZAH",
        holders=[("BUDI SANTOSO", "Tempat dan tanggal lahir : Sukamaju, 11 April 1968")],
        seed=1,
    )
    # A collective SK naming Siti and Budi by name and birth date: only Budi's open
    # usulan needs an SK pangkat.
    collective = docs.holder_document(
        kode="SK_PANGKAT",
        holders=[
            ("Siti Aminah", "Tanggal lahir : 14-02-1975"),
            ("Budi Santoso", "Tanggal lahir : 11-04-1968"),
        ],
        seed=2,
    )
    # Siti's KTP: her birth date is in her NIK (day + 40); she has no open usulan.
    ktp = docs.holder_document(
        kode="KTP", holders=[("SITI AMINAH", "NIK : 3201015402750003")], seed=3
    )
    # A name with no birth date anywhere: two pegawai bear it, none is chosen.
    nameless = docs.holder_document(
        kode="IJAZAH", holders=[("BUDI SANTOSO", "Program Studi : Administrasi")], seed=4
    )
    for name, page in (
        ("scan0101.jpg", ijazah),
        ("scan0102.jpg", collective),
        ("scan0103.jpg", ktp),
        ("scan0104.jpg", nameless),
    ):
        docs.jpeg(scans / name, page)
    results = {p.name: service.process_file(p) for p in sorted(scans.glob("*.jpg"))}
    for name in ("scan0101.jpg", "scan0102.jpg"):
        assert results[name].status is IntakeStatus.FILED, results[name].message
    assert "NIP 19680411 199303 1 009 (dari nama dan tanggal lahir)" in (
        results["scan0101.jpg"].message
    )
    assert set(_live(store)) == {(NIP_BUDI, "IJAZAH"), (NIP_BUDI, "SK_PANGKAT")}

    waiting = _inbox(store)
    assert set(waiting) == {"scan0103.jpg", "scan0104.jpg"}
    ktp_item = waiting["scan0103.jpg"]
    assert (ktp_item.nip, ktp_item.kode) == (NIP_SITI, "KTP"), ktp_item.reason
    assert "(dari nama dan tanggal lahir)" in ktp_item.reason
    assert (waiting["scan0104.jpg"].nip, waiting["scan0104.jpg"].kode) == ("", "IJAZAH")


def test_birth_dates_and_names_in_ocr_text() -> None:
    text = "Tempat/Tgl Lahir : SUKAMAJU,11-O4-1968\nNIK 3201015402750003\nlahir 1 Pebruari 1990"
    assert dates_in_text(text) == [date(1968, 4, 11), date(1975, 2, 14), date(1990, 2, 1)]
    assert dates_in_text("31-02-2000 dan 2 Mei") == []  # no such day; no year
    assert name_key("Drs. H. Budi Santoso, S.Pd., M.Si.") == "BUDISANTOSO"

"""Batches scanned in one ADF run with separator sheets: the exact filing of
every part, for PDF, TIFF and numbered image runs, sheets that cannot be
followed, and a batch cut short."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pikepdf
import pytest
from PIL import Image
from sqlmodel import col, select

from client.intake.page_reading import ReadJob, read_scan
from client.intake.results import IntakeResult, IntakeStatus
from client.intake.service import IntakeService
from client.intake.sheets import decode_sheet, separator_sheets
from store.blobs import BlobStore
from store.database import Store
from store.models import Dokumen, InboxItem, Pegawai, Usulan
from store.usulan import create_usulan
from tests.client.intake.conftest import usulan_of
from tests.support import documents as docs
from tests.support.scans import NIP_BUDI, NIP_SITI

OTHER_OPD_USULAN = "0193aaaa-bbbb-7ccc-8ddd-eeeeffff0000"  # not in this store


@pytest.fixture
def siti_usulan(store: Store) -> str:
    with store.write() as session:
        siti = session.exec(select(Pegawai).where(Pegawai.nip == NIP_SITI)).one()
        return create_usulan(session, siti, "kp", "reguler").id


def _page(kode: str, seed: int) -> Image.Image:
    return docs.document(kode=kode, people=[("Contoh", NIP_BUDI)], dpi=100, seed=seed, noise=False)


def _sheet(usulan_id: str, kode: str) -> Image.Image:
    return docs.sheet(usulan_id, kode, dpi=100)


def _live(store: Store) -> dict[tuple[str, str], Dokumen]:
    with store.read() as session:
        rows = session.exec(select(Dokumen).where(col(Dokumen.deleted).is_(False))).all()
        usulan = {u.id: u.nip for u in session.exec(select(Usulan))}
    return {(usulan[d.usulan_id], d.kode): d for d in rows}


def _inbox(store: Store) -> list[InboxItem]:
    with store.read() as session:
        return list(session.exec(select(InboxItem).order_by(col(InboxItem.original_name))))


def _pages_of(blobs: BlobStore, sha: str, tmp_path: Path) -> int:
    plain = tmp_path / f"{sha[:8]}.pdf"
    blobs.decrypt_to(sha, plain)
    with pikepdf.open(plain) as pdf:
        return len(pdf.pages)


def _parts(result: IntakeResult) -> list[tuple[IntakeStatus, str | None, int]]:
    return [(p.status, p.kode, p.pages) for p in result.parts]


def test_separator_sheets_pdf_names_every_missing_line(store: Store, tmp_path: Path) -> None:
    usulan = usulan_of(store, NIP_BUDI)
    target = tmp_path / "lembar.pdf"
    lines = separator_sheets(store, usulan.id, target)
    assert {line.code.kode for line in lines} >= {"SK_PANGKAT", "SKP", "IJAZAH"}
    with pikepdf.open(target) as pdf:
        assert len(pdf.pages) == len(lines)
    # What the printer gets back through the scanner reads as the same codes.
    read = read_scan(ReadJob(sources=(target,), parts_dir=tmp_path / "p", ocr=False))
    codes = [decode_sheet(payload) for _i, payload in read.sheets]
    assert [(c.usulan_id, c.kode) for c in codes if c] == [
        (usulan.id, line.code.kode) for line in lines
    ]


def test_pdf_batch_is_split_and_every_part_filed(
    service: IntakeService,
    store: Store,
    blobs: BlobStore,
    scans: Path,
    siti_usulan: str,
    tmp_path: Path,
) -> None:
    budi = usulan_of(store, NIP_BUDI).id
    src = docs.batch_pdf(
        scans / "scan0001.pdf",
        [
            _page("SK_KGB", 1),  # no sheet in front: Kotak masuk
            _sheet(budi, "SK_PANGKAT"),
            _page("SK_PANGKAT", 2),
            _sheet(budi, "SKP"),
            _page("SKP", 3),
            _page("SKP", 4),
            _page("SKP", 5),
            _sheet(siti_usulan, "SK_PANGKAT"),
            _page("SK_PANGKAT", 6),
        ],
        dpi=100,
    )
    result = service.process_file(src)
    assert result.status is IntakeStatus.INBOX, result.message  # one part went to the inbox
    assert _parts(result) == [
        (IntakeStatus.INBOX, None, 1),
        (IntakeStatus.FILED, "SK_PANGKAT", 1),
        (IntakeStatus.FILED, "SKP", 3),
        (IntakeStatus.FILED, "SK_PANGKAT", 1),
    ]
    live = _live(store)
    assert set(live) == {(NIP_BUDI, "SK_PANGKAT"), (NIP_BUDI, "SKP"), (NIP_SITI, "SK_PANGKAT")}
    assert _pages_of(blobs, live[(NIP_BUDI, "SKP")].sha256, tmp_path) == 3
    assert live[(NIP_SITI, "SK_PANGKAT")].nama_file == f"{NIP_SITI}_SK_PANGKAT.pdf"
    (item,) = _inbox(store)
    assert "sebelum lembar pemisah pertama" in item.reason and item.pages == 1
    assert not src.exists() and (scans / "diproses" / "scan0001.pdf").exists()


def test_tiff_batch_sheets_that_cannot_be_followed_go_to_the_inbox(
    service: IntakeService, store: Store, scans: Path, siti_usulan: str
) -> None:
    budi = usulan_of(store, NIP_BUDI).id
    first = service.process_file(
        docs.jpeg(scans / f"{NIP_BUDI}_SK_PANGKAT.jpg", _page("SK_PANGKAT", 9), dpi=100)
    )
    assert first.status is IntakeStatus.FILED
    with store.write() as session:  # Siti's usulan was cancelled
        cancelled = session.get(Usulan, siti_usulan)
        assert cancelled is not None
        cancelled.deleted = True
        session.add(cancelled)
    src = docs.batch_tiff(
        scans / "adf.tif",
        [
            _sheet(OTHER_OPD_USULAN, "SKP"),
            _page("SKP", 1),
            _sheet(siti_usulan, "SKP"),
            _page("SKP", 2),
            _sheet(budi, "SK_PANGKAT"),  # already holds a scan
            _page("SK_PANGKAT", 3),
            _sheet(budi, "IJAZAH"),
            _page("IJAZAH", 4),
            _page("IJAZAH", 5),
        ],
        dpi=100,
    )
    result = service.process_file(src)
    assert _parts(result) == [
        (IntakeStatus.INBOX, "SKP", 1),
        (IntakeStatus.INBOX, "SKP", 1),
        (IntakeStatus.INBOX, "SK_PANGKAT", 1),
        (IntakeStatus.FILED, "IJAZAH", 2),
    ]
    reasons = [i.reason for i in sorted(_inbox(store), key=lambda i: i.original_name)]
    assert "tidak ada di OPD ini" in reasons[0]
    assert "dibatalkan" in reasons[1]
    assert reasons[2].startswith("pengganti?")
    live = _live(store)
    assert live[(NIP_BUDI, "SK_PANGKAT")].sha256 == first.sha256  # not replaced
    assert (NIP_BUDI, "IJAZAH") in live


def test_numbered_image_run_is_split_at_its_sheets(
    service: IntakeService, store: Store, blobs: BlobStore, scans: Path, tmp_path: Path
) -> None:
    budi = usulan_of(store, NIP_BUDI).id
    files = docs.image_run(
        scans,
        [
            _sheet(budi, "SKP"),
            _page("SKP", 1),
            _page("SKP", 2),
            _sheet(budi, "SK_JABATAN"),
            _page("SK_JABATAN", 3),
        ],
        dpi=100,
    )
    old = time.time() - 60
    for path in files:
        os.utime(path, (old, old))
    summary = service.run_folder(scans)
    messages = [r.message for r in summary.results]
    assert [(r.relative_name, _parts(r)) for r in summary.results] == [
        ("scan0001.jpg", [(IntakeStatus.FILED, "SKP", 2)]),
        ("scan0004.jpg", [(IntakeStatus.FILED, "SK_JABATAN", 1)]),
    ], messages
    live = _live(store)
    assert _pages_of(blobs, live[(NIP_BUDI, "SKP")].sha256, tmp_path) == 2
    assert (NIP_BUDI, "SK_JABATAN") in live
    assert not any(p.exists() for p in files)
    assert not _inbox(store)


def test_batch_cut_short_files_what_is_whole_and_keeps_the_rest(
    service: IntakeService, store: Store, blobs: BlobStore, scans: Path
) -> None:
    budi = usulan_of(store, NIP_BUDI).id
    src = docs.batch_tiff(
        scans / "adf.tif",
        [
            _sheet(budi, "SK_PANGKAT"),
            _page("SK_PANGKAT", 1),
            _sheet(budi, "SKP"),
            _page("SKP", 2),
            _page("SKP", 3),
            _sheet(budi, "IJAZAH"),
            _page("IJAZAH", 4),
            _page("IJAZAH", 5),
        ],
        dpi=100,
    )
    docs.truncate(src, 0.93)  # the transfer stopped inside the last document
    result = service.process_file(src)
    assert result.status is IntakeStatus.QUARANTINED, result.message
    assert _parts(result) == [
        (IntakeStatus.FILED, "SK_PANGKAT", 1),
        (IntakeStatus.FILED, "SKP", 2),
    ]
    assert set(_live(store)) == {(NIP_BUDI, "SK_PANGKAT"), (NIP_BUDI, "SKP")}
    assert not list((blobs.root / "tmp").glob("bagian-*"))  # the parts were cleared away
    kept = scans / "karantina" / "adf.tif"
    assert kept.exists() and not src.exists()
    note = (scans / "karantina" / "adf.tif.alasan.txt").read_text("utf-8")
    assert "terpotong" in note and "bagian 3" in note

"""Upright pages: a scan turned sideways, upside down or a few degrees askew is stored
straight (the stored page matches the page as it was printed), a straight page is left
as it was, and a sideways misnamed scan is still read and filed."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest
from PIL import Image, ImageChops, ImageStat
from sqlmodel import col, select

from client.intake import page_reading
from client.intake.content import page_records
from client.intake.page_reading import ocr_available
from client.intake.results import IntakeStatus
from client.intake.service import IntakeService
from client.intake.upright import Straightening, find_straightening
from store.blobs import BlobStore
from store.database import Store
from store.models import Dokumen
from tests.support import documents as docs
from tests.support.scans import NIP_BUDI

BUDI = ("Budi Santoso", NIP_BUDI)
needs_ocr = pytest.mark.skipif(
    not ocr_available(), reason="rapidocr-onnxruntime (make install) tidak dapat dimuat di sini"
)


def _page(kode: str, seed: int) -> Image.Image:
    return docs.document(kode=kode, people=[BUDI], seed=seed)


def _skewed(page: Image.Image, degrees: float) -> Image.Image:
    return page.rotate(degrees, Image.Resampling.BILINEAR, fillcolor=255)


def _distance(a: Image.Image, b: Image.Image) -> float:
    """Mean grey difference (0-255) of two pages seen small (so 1-bit and grey compare)."""
    size = (62, 88)
    small_a = a.convert("L").resize(size, Image.Resampling.BOX)
    small_b = b.convert("L").resize(size, Image.Resampling.BOX)
    return ImageStat.Stat(ImageChops.difference(small_a, small_b)).mean[0]


def _stored(store: Store, blobs: BlobStore, kode: str, tmp_path: Path) -> tuple[Image.Image, dict]:
    with store.read() as session:
        dokumen = session.exec(
            select(Dokumen).where(Dokumen.kode == kode).where(col(Dokumen.deleted).is_(False))
        ).one()
    plain = tmp_path / f"{kode}.pdf"
    blobs.decrypt_to(dokumen.sha256, plain)
    with pikepdf.open(plain) as pdf:
        (image,) = pdf.pages[0].get_images().values()
        picture = pikepdf.PdfImage(image).as_pil_image()
    (record,) = page_records(plain)
    return picture, record


@needs_ocr
def test_turned_and_skewed_scans_are_stored_upright(
    service: IntakeService, store: Store, blobs: BlobStore, scans: Path, tmp_path: Path
) -> None:
    pages = {
        kode: _page(kode, seed)
        for seed, kode in enumerate(
            ("SK_CPNS", "SK_PANGKAT", "SKP", "IJAZAH", "TRANSKRIP"), start=1
        )
    }
    scanned = {
        "SK_CPNS": pages["SK_CPNS"],  # straight
        "SK_PANGKAT": pages["SK_PANGKAT"].rotate(90, expand=True),  # sideways, one way
        "SKP": pages["SKP"].rotate(180),  # upside down
        "IJAZAH": pages["IJAZAH"].rotate(270, expand=True),  # sideways, the other way
        "TRANSKRIP": _skewed(pages["TRANSKRIP"], 3.0),  # 3° askew
    }
    for kode, page in scanned.items():
        result = service.process_file(docs.jpeg(scans / f"{NIP_BUDI}_{kode}.jpg", page))
        assert result.status is IntakeStatus.FILED, result.message

    turns = {}
    for kode, printed in pages.items():
        stored, record = _stored(store, blobs, kode, tmp_path)
        turns[kode] = (record["turn"], record["skew"])
        assert stored.size == printed.size, kode  # an A4 page stays A4 (portrait)
        # The stored page is the printed page: far closer to it than to it upside down.
        upright = _distance(stored, printed)
        assert upright < 0.5 * _distance(stored, printed.rotate(180)), kode
        assert upright < 0.5 * _distance(stored, _skewed(printed, 3.0)), kode
    assert turns == {
        "SK_CPNS": (0, 0.0),  # left as it was
        "SK_PANGKAT": (270, 0.0),
        "SKP": (180, 0.0),
        "IJAZAH": (90, 0.0),
        "TRANSKRIP": (0, -3.0),
    }


def test_straight_pages_are_left_alone_and_sideways_found_without_the_ocr_engine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Where rapidocr cannot load: projection profiles still level a page and find a
    # sideways one (which quarter turn is then a guess by the shape of the lines).
    monkeypatch.setattr(page_reading, "ocr_available", lambda: False)
    page = _page("SK_PANGKAT", 7)
    assert find_straightening(page) == Straightening()
    assert find_straightening(_skewed(page, -2.5)) == Straightening(0, 2.5)
    assert find_straightening(page.rotate(90, expand=True)).turn in (90, 270)
    assert find_straightening(_skewed(page.rotate(270, expand=True), 2.0)).skew == -2.0
    # A blank sheet and a photo-like page are not turned.
    assert find_straightening(Image.new("L", page.size, 255)) == Straightening()
    assert find_straightening(Image.effect_noise(page.size, 90)) == Straightening()


@needs_ocr
def test_a_sideways_misnamed_scan_is_read_and_filed(
    service: IntakeService, store: Store, scans: Path
) -> None:
    service.settings.ocr = True
    page = docs.document(kode="SK_PANGKAT", people=[BUDI], seed=11).rotate(270, expand=True)
    result = service.process_file(docs.jpeg(scans / "scan0042.jpg", page))
    assert result.status is IntakeStatus.FILED, result.message
    assert (result.nip, result.kode) == (NIP_BUDI, "SK_PANGKAT")

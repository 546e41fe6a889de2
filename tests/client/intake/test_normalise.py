"""Normalising real scans: type by magic bytes, the shrink ladder, bad files."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest
from PIL import Image, ImageStat

from client.intake import images, pdfs
from client.intake import pages as pg
from client.intake.converted import ConversionJob, Converted
from client.intake.normalise import normalise
from client.intake.rejection import RejectKind
from tests.support import scans

MB = 1_048_576


def convert(src: Path, limit: int = MB, **kw: int) -> tuple[Converted, Path]:
    target = src.with_name(src.name + ".norm.pdf")
    job = ConversionJob(
        src, target, limit, kw.get("max_pages", 200), kw.get("max_pixels", 100_000_000)
    )
    outcome = normalise(job)
    assert outcome.rejection is None, outcome.rejection
    assert outcome.converted is not None
    assert target.stat().st_size == outcome.converted.size
    return outcome.converted, target


@pytest.fixture
def ladder_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shrink ladder alone: what runs when content-aware encoding (content.py) leaves
    a document over its limit, or for a PDF that is not one image a page."""
    monkeypatch.setattr(images, "_by_content", lambda *_: None)
    monkeypatch.setattr(pdfs, "_by_content", lambda *_: None)


def images_of(pdf_path: Path) -> list[tuple[Image.Image, float, bytes]]:
    """Each page's image, the resolution it is shown at, and its stored bytes."""
    found = []
    with pikepdf.open(pdf_path) as pdf:
        for page in pdf.pages:
            width_in = float(page.mediabox[2] - page.mediabox[0]) / 72
            for raw in page.get_images().values():
                image = pikepdf.PdfImage(raw).as_pil_image()
                found.append((image, image.width / width_in, raw.read_raw_bytes()))
    return found


@pytest.mark.usefixtures("ladder_only")
def test_small_jpeg_is_wrapped_untouched(tmp_path: Path) -> None:
    src = scans.jpeg_scan(tmp_path / "a.jpg", quality=60)
    done, out = convert(src)
    assert done.step == "asli" and not done.terlalu_besar
    ((_, dpi, raw),) = images_of(out)
    assert raw == src.read_bytes()  # no re-encoding
    assert round(dpi) == 300


def test_large_colour_jpeg_shrinks_under_limit_and_stays_colour(tmp_path: Path) -> None:
    src = scans.jpeg_scan(tmp_path / "a.jpg", quality=95)
    assert src.stat().st_size > MB
    done, out = convert(src)
    assert done.size <= MB and not done.terlalu_besar
    ((image, dpi, _),) = images_of(out)
    assert image.mode == "RGB" and pg.has_colour(image)
    assert dpi >= 150


def test_multi_page_tiff_becomes_one_pdf(tmp_path: Path) -> None:
    src = scans.tiff_scan(tmp_path / "a.tif", pages=3, colour=False)
    done, out = convert(src, limit=2 * MB)
    assert done.pages == 3 and done.size <= 2 * MB
    found = images_of(out)
    assert len(found) == 3
    assert all(dpi >= 150 for _, dpi, _ in found)
    assert all(image.mode in ("L", "1") for image, _, _ in found)  # grey stays grey


@pytest.mark.usefixtures("ladder_only")
def test_bitonal_tiff_keeps_ccitt(tmp_path: Path) -> None:
    src = scans.tiff_scan(tmp_path / "a.tif", pages=2, compression="group4")
    done, out = convert(src)
    assert done.step == "asli" and done.pages == 2
    for image, dpi, _ in images_of(out):
        assert image.mode == "1" and round(dpi) == 300
        assert ImageStat.Stat(image.convert("L")).mean[0] > 200  # white paper, not inverted


def test_pdf_over_limit_recompresses_its_images(tmp_path: Path) -> None:
    src = scans.pdf_scan(tmp_path / "a.pdf", pages=3, quality=92)
    assert src.stat().st_size > MB
    done, out = convert(src)
    assert done.size <= MB and done.pages == 3 and not done.terlalu_besar
    found = images_of(out)
    assert all(dpi >= 150 for _, dpi, _ in found)
    assert all(pg.has_colour(image) for image, _, _ in found)


@pytest.mark.usefixtures("ladder_only")
def test_text_pages_may_go_bitonal_colour_pages_never(tmp_path: Path) -> None:
    grey = scans.pdf_scan(tmp_path / "grey.pdf", pages=3, colour=False, quality=90)
    done, out = convert(grey, limit=250_000)
    assert done.step == "hitam-putih" and done.size <= 250_000
    for image, dpi, _ in images_of(out):
        assert image.mode == "1" and dpi >= 150
        assert ImageStat.Stat(image.convert("L")).mean[0] > 200

    colour = scans.pdf_scan(tmp_path / "colour.pdf", pages=3, colour=True, quality=90)
    done, out = convert(colour, limit=250_000)
    # Nothing fits without losing colour: kept, marked too large, at its smallest.
    assert done.terlalu_besar and done.size > 250_000
    for image, dpi, _ in images_of(out):
        assert image.mode == "RGB" and dpi >= 149.5


def test_what_cannot_fit_is_kept_at_the_best_size(tmp_path: Path) -> None:
    src = scans.jpeg_scan(tmp_path / "foto.jpg", page=scans.photo_page(), quality=92)
    done, out = convert(src, limit=50_000)
    assert done.terlalu_besar and done.step == "hitam-putih"
    assert done.min_dpi is not None and done.min_dpi >= 150
    ((image, dpi, _),) = images_of(out)
    assert image.mode == "RGB" and dpi >= 149.5
    assert done.size < src.stat().st_size / 4


def test_type_is_read_from_bytes_not_name(tmp_path: Path) -> None:
    done, _ = convert(scans.jpeg_named_pdf(tmp_path / "sk cpns.pdf"))
    assert done.scan_type == "jpeg"


def test_png_with_transparency_is_flattened(tmp_path: Path) -> None:
    page = scans.a4_page(dpi=150).convert("RGBA")
    page.putalpha(200)
    page.save(tmp_path / "a.png", dpi=(150, 150))
    _done, out = convert(tmp_path / "a.png")
    ((image, dpi, _),) = images_of(out)
    assert image.mode == "RGB" and round(dpi) == 150


def test_same_scan_normalises_to_the_same_bytes(tmp_path: Path) -> None:
    src = scans.pdf_scan(tmp_path / "a.pdf", pages=2, quality=92)
    _, first = convert(src)
    once = first.read_bytes()
    _, second = convert(src)
    assert second.read_bytes() == once


def test_owner_password_only_pdf_is_opened_and_saved_plain(tmp_path: Path) -> None:
    done, out = convert(scans.owner_locked_pdf(tmp_path / "a.pdf"))
    with pikepdf.open(out) as pdf:
        assert not pdf.is_encrypted
    assert done.pages == 1


@pytest.mark.parametrize(
    ("make", "kind", "words"),
    [
        (scans.zero_byte_file, RejectKind.EMPTY, "kosong"),
        (scans.encrypted_pdf, RejectKind.ENCRYPTED, "kata sandi"),
        (scans.truncated_pdf, RejectKind.CORRUPT, "rusak"),
        (scans.not_a_scan, RejectKind.UNSUPPORTED, "tidak didukung"),
        (scans.huge_pixel_png, RejectKind.TOO_MANY_PIXELS, "bom dekompresi"),
        (lambda p: scans.many_pages_pdf(p, 201), RejectKind.TOO_MANY_PAGES, "201"),
        (
            lambda p: p.write_bytes(scans.jpeg_bytes(scans.a4_page(dpi=100))[:5000]) and p,
            RejectKind.CORRUPT,
            "rusak",
        ),
    ],
    ids=[
        "kosong",
        "terenkripsi",
        "terpotong",
        "bukan-pindaian",
        "bom",
        "201-halaman",
        "jpeg-rusak",
    ],
)
def test_bad_files_are_refused_with_a_reason(tmp_path: Path, make, kind, words) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "bad.pdf"
    make(src)
    target = tmp_path / "out.pdf"
    outcome = normalise(ConversionJob(src, target, MB, 200, 100_000_000))
    assert outcome.converted is None and outcome.rejection is not None
    assert outcome.rejection.kind is kind
    assert words in outcome.rejection.message
    assert not target.exists()


@pytest.mark.parametrize("tail", ["potong", "nol", "tanpa-eoi"])
def test_jpeg_cut_short_is_refused_though_small_enough_to_embed(tmp_path: Path, tail: str) -> None:
    whole = scans.jpeg_bytes(scans.a4_page(dpi=150), quality=60)
    cut = len(whole) * 2 // 3
    data = {
        "potong": whole[:cut],  # a copy stopped half way
        "nol": whole[:cut] + bytes(len(whole) - cut),  # padded with zeros to its length
        "tanpa-eoi": whole[:-2],
    }[tail]
    src = tmp_path / "a.jpg"
    src.write_bytes(data)
    target = tmp_path / "out.pdf"
    outcome = normalise(ConversionJob(src, target, MB, 200, 100_000_000))
    assert outcome.rejection is not None and outcome.rejection.kind is RejectKind.CORRUPT
    assert not target.exists()


@pytest.mark.parametrize("variant", ["progresif", "ekor"])
@pytest.mark.usefixtures("ladder_only")
def test_whole_jpeg_is_embedded_as_it_is(tmp_path: Path, variant: str) -> None:
    page = scans.a4_page(dpi=150)
    src = tmp_path / "a.jpg"
    if variant == "progresif":
        page.save(src, "JPEG", quality=70, progressive=True, dpi=(150, 150))
    else:  # bytes after the EOI, as some devices append
        src.write_bytes(scans.jpeg_bytes(page, dpi=150, quality=70) + b"\x00" * 64)
    done, out = convert(src)
    assert done.step == "asli"
    ((_, _, raw),) = images_of(out)
    assert raw == src.read_bytes()


def test_colour_and_text_detection() -> None:
    assert pg.has_colour(scans.a4_page(colour=True, dpi=150, noise=0))
    grey_as_rgb = scans.a4_page(colour=False, dpi=150).convert("RGB")
    assert not pg.has_colour(grey_as_rgb)
    assert pg.look(grey_as_rgb).text
    assert not pg.look(scans.photo_page(dpi=100)).text

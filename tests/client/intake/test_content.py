"""Content-aware page encoding (client/intake/content.py) through the real normaliser: each
page kind round-trips (page count, dimensions, dpi, 1-bit where chosen, colour where it
was), a stamp keeps its colour, faint marks make the guard fall back, and the choice is
recorded in the PDF and is deterministic."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pikepdf
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from client.intake.content import page_records
from client.intake.converted import ConversionJob, Converted
from client.intake.normalise import normalise
from client.intake.page_reading import ocr_available, ocr_region
from tests.support import scans

MB = 1_048_576
A4_300 = scans.a4_pixels(300)


def convert(src: Path, limit: int = 2 * MB) -> tuple[Converted, Path]:
    target = src.with_name(src.name + ".norm.pdf")
    outcome = normalise(ConversionJob(src, target, limit, 200, 100_000_000))
    assert outcome.converted is not None, outcome.rejection
    return outcome.converted, target


def layers(pdf_path: Path) -> list[dict[str, tuple[Image.Image, float]]]:
    """Per page: its images by role ("page": the image drawn, "mask": the black stencil
    layer of a campuran page), each with the resolution it is shown at."""
    out = []
    with pikepdf.open(pdf_path) as pdf:
        for page in pdf.pages:
            width_in = float(page.mediabox[2] - page.mediabox[0]) / 72
            found = {}
            # Every image XObject (pikepdf's get_images leaves stencil masks out).
            for _, raw in page.resources.get("/XObject", pikepdf.Dictionary()).items():
                if raw.get("/Subtype") != pikepdf.Name.Image:
                    continue
                role = "mask" if raw.get("/ImageMask", False) else "page"
                if role == "mask":  # decode the stencil as the 1-bit image it is
                    raw.ColorSpace = pikepdf.Name.DeviceGray
                    del raw["/ImageMask"]
                image = pikepdf.PdfImage(raw).as_pil_image()
                found[role] = (image, image.width / width_in)
            out.append(found)
    return out


def _blue(img: Image.Image) -> Image.Image:
    """255 where a pixel is clearly blue (a stamp's ink), else 0."""
    r, _, b = img.convert("RGB").split()
    return ImageChops.subtract(b, r).point(lambda v: 255 if v > 60 else 0)


def _share(mask: Image.Image) -> float:
    return mask.histogram()[255] / (mask.width * mask.height)


def test_a_grey_letter_becomes_g4_at_300_dpi(tmp_path: Path) -> None:
    page = scans.document_page(style="surat", colour=False, clean=False, seed=3)
    src = scans.jpeg_scan(tmp_path / "surat.jpg", page=page, quality=85)
    done, out = convert(src)
    assert done.step == "isi" and done.pages == 1
    assert done.size <= src.stat().st_size * 0.15
    ((found,),) = [list(p.values()) for p in layers(out)]
    image, dpi = found
    assert image.mode == "1" and image.size == A4_300 and round(dpi) == 300
    # The ink is where it was: the 1-bit page and the scan differ in few pixels.
    ink = page.point(lambda v: 0 if v < 128 else 255).convert("1")
    assert _share(ImageChops.logical_xor(ink, image).convert("L")) < 0.01
    assert page_records(out) == [
        {
            "kind": "teks",
            "dpi": 300.0,
            "bytes": done.page_records[0].bytes,
            "colour": False,
            "fallback": False,
            "turn": 0,
            "skew": 0.0,
        }
    ]


def test_a_stamped_letter_keeps_its_blue_stamp(tmp_path: Path) -> None:
    # Level (no skew): the layers are compared with the scan pixel by pixel.
    page = scans.document_page(style="surat", colour=True, clean=True, seed=4, skew=0.0)
    src = scans.jpeg_scan(tmp_path / "sk.jpg", page=page, quality=85)
    done, out = convert(src)
    assert done.step == "isi" and [r.kind for r in done.page_records] == ["campuran"]
    assert done.size <= src.stat().st_size * 0.2
    ((roles,),) = [[p] for p in layers(out)]
    background, bg_dpi = roles["page"]
    mask, mask_dpi = roles["mask"]
    assert background.mode == "RGB" and round(bg_dpi) == 150
    assert mask.mode == "1" and mask.size == A4_300 and round(mask_dpi) == 300
    # The stamp: where the scan is clearly blue, the colour layer is blue too ...
    stamp = _blue(page.resize(background.size, Image.Resampling.BOX))
    assert _share(stamp) > 0.001
    red, _, blue = ImageStat.Stat(background, mask=stamp).mean
    assert blue - red > 50
    assert _share(ImageChops.darker(stamp, _blue(background))) >= 0.5 * _share(stamp)
    # ... and is not painted over in black by the text layer.
    stamp_full = _blue(page)
    blackened = ImageChops.darker(stamp_full, mask.convert("L").point(lambda v: 255 - v))
    assert _share(blackened) <= 0.1 * _share(stamp_full)
    # The text is in the black layer at 300 dpi.
    text = page.convert("L").point(lambda v: 255 if v < 80 else 0)
    painted = ImageChops.darker(text, mask.convert("L").point(lambda v: 255 - v))
    assert _share(painted) >= 0.9 * _share(text)


def test_a_photo_page_is_jpeg_between_150_and_200_dpi(tmp_path: Path) -> None:
    page = scans.document_page(style="foto", colour=True, seed=5)
    src = scans.jpeg_scan(tmp_path / "ktp.jpg", page=page, quality=90)
    done, out = convert(src)
    assert done.step == "isi" and done.page_records[0].kind == "foto"
    ((roles,),) = [[p] for p in layers(out)]
    image, dpi = roles["page"]
    assert "mask" not in roles
    assert image.mode == "RGB" and 150 <= round(dpi) <= 200
    assert _share(_blue(image)) > 0 or image.getextrema() != ((0, 0),) * 3


def test_a_multi_page_tiff_and_a_scanner_pdf_keep_their_pages(tmp_path: Path) -> None:
    frames = [
        scans.document_page(style=style, colour=False, seed=n)
        for n, style in enumerate(("surat", "tabel", "foto"))
    ]
    tiff = scans.tiff_scan(tmp_path / "a.tif", images=frames, compression="tiff_lzw")
    done, out = convert(tiff, limit=4 * MB)
    assert done.step == "isi" and done.pages == 3
    assert [r.kind for r in done.page_records] == ["teks", "teks", "foto"]
    found = layers(out)
    assert [roles["page"][0].mode for roles in found] == ["1", "1", "L"]
    assert all(roles["page"][1] >= 149.5 for roles in found)

    jpegs = [
        scans.jpeg_bytes(scans.document_page(style="surat", colour=colour, seed=n), quality=85)
        for n, colour in enumerate((True, False))
    ]
    pdf = scans.pdf_from_jpegs(tmp_path / "b.pdf", jpegs)
    done, out = convert(pdf, limit=4 * MB)
    assert done.step == "isi" and done.pages == 2
    assert [r.kind for r in done.page_records] == ["campuran", "teks"]
    assert done.size <= pdf.stat().st_size * 0.2
    with pikepdf.open(out) as result, pikepdf.open(pdf) as source:
        for mine, theirs in zip(result.pages, source.pages, strict=True):
            assert [round(float(v)) for v in mine.mediabox] == [
                round(float(v)) for v in theirs.mediabox
            ]


def test_faint_marks_make_the_guard_keep_grey(tmp_path: Path) -> None:
    """A page written in pencil (too light to survive thresholding) must not go 1-bit:
    its marks would vanish. The guard falls back to a grey JPEG."""
    width, height = scans.a4_pixels(300)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    font = scans._font(40)
    draw.text((200, 100), "SURAT KETERANGAN", fill=0, font=font)  # some real ink too
    for row in range(40):
        draw.text((200, 200 + row * 70), "catatan pensil " * 8, fill=200, font=font)
    src = tmp_path / "pensil.jpg"
    src.write_bytes(scans.jpeg_bytes(page, quality=90))
    done, out = convert(src)
    (record,) = done.page_records
    assert record.kind == "foto" and record.fallback
    ((roles,),) = [[p] for p in layers(out)]
    image, dpi = roles["page"]
    assert image.mode == "L" and dpi >= 149.5
    assert image.getextrema()[0] < 230  # the pencil is still there


def test_a_solid_black_area_is_not_hollowed_out(tmp_path: Path) -> None:
    """A box wider than the paper estimate's window looks like paper from inside: 1-bit
    would keep only its outline. The guard sees the lost ink and keeps the page grey."""
    width, height = scans.a4_pixels(300)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    draw.rectangle((300, 300, 1500, 1500), fill=0)
    for row in range(20):
        draw.text((200, 1800 + row * 70), "bahwa dalam rangka " * 5, fill=20, font=scans._font(40))
    src = tmp_path / "kotak.jpg"
    src.write_bytes(scans.jpeg_bytes(page, quality=90))
    done, out = convert(src)
    (record,) = done.page_records
    assert record.kind == "foto" and record.fallback
    ((roles,),) = [[p] for p in layers(out)]
    image, dpi = roles["page"]
    inside = image.crop(tuple(round(v * dpi / 300) for v in (500, 500, 1300, 1300)))
    assert ImageStat.Stat(inside).mean[0] < 40  # still black inside


def test_the_same_scan_gives_the_same_bytes(tmp_path: Path) -> None:
    page = scans.document_page(style="tabel", colour=True, seed=6)
    src = scans.jpeg_scan(tmp_path / "a.jpg", page=page, quality=80)
    twin = tmp_path / "b.jpg"
    shutil.copy(src, twin)
    _, first = convert(src)
    _, second = convert(twin)
    assert first.read_bytes() == second.read_bytes()


def _letters(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


@pytest.mark.skipif(
    not ocr_available(),
    reason="no OCR engine: rapidocr-onnxruntime (make install) cannot be loaded here",
)
def test_fine_print_keeps_its_words(tmp_path: Path) -> None:
    # Fine print (7 pt at 300 dpi, grey ink on slightly toned paper, with sensor grain) as a
    # JPEG scan: the encoder makes it 1-bit G4, and the intake's OCR engine must read on the
    # normalised page, as the viewer draws it, the words it reads on the scan.
    import pypdfium2 as pdfium

    rnd = random.Random(18)
    page = Image.new("L", (1200, 640), 238)
    draw = ImageDraw.Draw(page)
    for row in range(12):
        line = " ".join(rnd.choice(scans._WORDS) for _ in range(9))
        draw.text((40, 30 + row * 48), line, fill=70, font=scans._font(29))
    page = Image.blend(page, Image.effect_noise(page.size, 40).convert("L"), 0.04)
    src = tmp_path / "kecil.jpg"
    src.write_bytes(scans.jpeg_bytes(page, quality=80))
    done, out = convert(src)
    (record,) = done.page_records
    assert (record.kind, record.dpi) == ("teks", 300.0)
    doc = pdfium.PdfDocument(str(out))
    try:
        rendered = doc[0].render(scale=page.width / doc[0].get_width()).to_pil().convert("L")
    finally:
        doc.close()
    original = [w for w in ocr_region(page, 1.0).split() if len(_letters(w)) > 3]
    assert len(original) >= 80  # the engine reads the fixture itself
    result = _letters(ocr_region(rendered, 1.0))
    kept = [w for w in original if _letters(w) in result]
    assert len(kept) >= 0.98 * len(original), sorted(set(original) - set(kept))

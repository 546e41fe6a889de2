"""The shrink ladder with size guesses: it encodes only the steps worth trying,
yet lands on the step that walking every step in turn would choose."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from client.intake import images, pdfs
from client.intake import pages as pg
from client.intake.converted import ConversionJob, Converted
from client.intake.ladder import LADDER, Step, walk_ladder
from client.intake.normalise import normalise
from tests.support import scans

KB = 1024


# -- the walk, with made-up encoders --------------------------------------------------


class FakeSteps:
    """Writes `sizes[step]` bytes for each step; guesses are the sizes times `bias`."""

    def __init__(self, job: ConversionJob, sizes: dict[str, int], bias: float = 1.0) -> None:
        self.job, self.sizes, self.bias = job, sizes, bias
        self.encoded: list[str] = []

    def encode(self, step: Step, budget: int | None) -> tuple[int, float | None] | None:
        self.encoded.append(step.name)
        size = self.sizes[step.name]
        if budget is not None and size > budget and size > 2 * budget:
            return None  # saw early that it cannot fit
        self.job.target.write_bytes(b"x" * size)
        return size, 300.0 if step.max_dpi is None else step.max_dpi

    def guess(self, step: Step) -> int | None:
        return None if step.lossless else round(self.sizes[step.name] * self.bias)


def ladder_sizes(**given: int) -> dict[str, int]:
    """Sizes falling step by step from 4,000 KB, with some set by name."""
    sizes = {step.name: (4000 - 350 * i) * KB for i, step in enumerate(LADDER)}
    sizes.update({name.replace("_", "-"): size for name, size in given.items()})
    return sizes


def fake_job(tmp_path: Path, limit: int = 1000 * KB) -> ConversionJob:
    return ConversionJob(tmp_path / "src", tmp_path / "out.pdf", limit, 200, 100_000_000)


def first_fit(sizes: dict[str, int], limit: int) -> str:
    return next(step.name for step in LADDER if sizes[step.name] <= limit)


def test_without_guesses_every_step_is_tried_in_order(tmp_path: Path) -> None:
    job = fake_job(tmp_path)
    sizes = ladder_sizes(jpeg_55=900 * KB)
    fake = FakeSteps(job, sizes)
    done = walk_ladder(job, 1, fake.encode, "jpeg")
    assert done.step == "jpeg-55" and not done.terlalu_besar
    assert fake.encoded == ["asli", "jpeg-85", "jpeg-70", "jpeg-55"]
    assert job.target.stat().st_size == done.size


@pytest.mark.parametrize("bias", [1.0, 0.97, 1.02])
def test_good_guesses_cost_one_encode(tmp_path: Path, bias: float) -> None:
    job = fake_job(tmp_path)
    sizes = ladder_sizes(jpeg_55=1100 * KB, **{"200dpi": 800 * KB})
    fake = FakeSteps(job, sizes, bias)
    done = walk_ladder(job, 1, fake.encode, "jpeg", fake.guess)
    assert done.step == "200dpi" == first_fit(sizes, job.size_limit)
    assert fake.encoded == ["asli", "200dpi"]  # asli: a guess of None is simply tried


def test_a_guess_too_low_walks_on_to_the_next_step(tmp_path: Path) -> None:
    job = fake_job(tmp_path)
    sizes = ladder_sizes(jpeg_70=1050 * KB, jpeg_55=950 * KB)
    fake = FakeSteps(job, sizes, bias=0.9)  # jpeg-70 looks like 945 KB
    done = walk_ladder(job, 1, fake.encode, "jpeg", fake.guess)
    assert done.step == "jpeg-55" == first_fit(sizes, job.size_limit)
    assert fake.encoded == ["asli", "jpeg-70", "jpeg-55"]


def test_a_guess_too_high_is_corrected_by_looking_back(tmp_path: Path) -> None:
    job = fake_job(tmp_path)
    sizes = ladder_sizes(jpeg_70=980 * KB, jpeg_55=700 * KB)
    fake = FakeSteps(job, sizes, bias=1.12)  # jpeg-70 looks like 1,098 KB: skipped at first
    done = walk_ladder(job, 1, fake.encode, "jpeg", fake.guess)
    # jpeg-55 fits and shows the guesses run 12 % high: jpeg-70 is tried after all.
    assert done.step == "jpeg-70" == first_fit(sizes, job.size_limit)
    assert fake.encoded == ["asli", "jpeg-55", "jpeg-70"]
    assert job.target.stat().st_size == 980 * KB
    assert not list(tmp_path.glob("out.pdf.*"))  # no stash left behind


def test_when_nothing_fits_the_last_step_is_written_and_the_smallest_kept(
    tmp_path: Path,
) -> None:
    job = fake_job(tmp_path, limit=100 * KB)
    sizes = ladder_sizes(hitam_putih=600 * KB, abu_abu=500 * KB)
    fake = FakeSteps(job, sizes)
    done = walk_ladder(job, 1, fake.encode, "jpeg", fake.guess)
    assert done.terlalu_besar
    assert fake.encoded == ["asli", "hitam-putih"]  # every other guess was hopeless
    assert done.step == "hitam-putih" and job.target.stat().st_size == 600 * KB


# -- guesses of real pages ------------------------------------------------------------


def jpeg_size(img: Image.Image, **options: object) -> int:
    out = io.BytesIO()
    img.save(out, "JPEG", **options)
    return len(out.getvalue())


@pytest.fixture(scope="module")
def letter() -> Image.Image:
    return scans.document_page(style="surat", colour=True, dpi=200, seed=3)


def test_guesses_from_the_source_jpeg_are_close(letter: Image.Image) -> None:
    data = scans.jpeg_bytes(letter, dpi=200, quality=90)
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        source = pg.JpegSource.of(img, len(data), data[: pg.JPEG_HEAD])
        assert source is not None and not source.optimized and not source.progressive
        guess = pg.SizeGuess(img, 200, source)
        for quality, dpi in ((85, 200.0), (55, 200.0), (70, 150.0)):
            real, _ = pg.render(img, 200, codec="jpeg", dpi=dpi, quality=quality, grey=False)
            guessed = guess.size(codec="jpeg", dpi=dpi, quality=quality, grey=False)
            assert abs(guessed / len(real) - 1) < 0.1, (quality, dpi, guessed, len(real))


def test_huffman_tables_tell_an_optimised_jpeg(letter: Image.Image) -> None:
    for optimize in (False, True):
        out = io.BytesIO()
        letter.save(out, "JPEG", quality=80, optimize=optimize)
        out.seek(0)
        with Image.open(out) as img:
            source = pg.JpegSource.of(img, len(out.getvalue()), out.getvalue()[: pg.JPEG_HEAD])
        assert source is not None and source.optimized is optimize
    assert pg.JpegSource.of(letter, 1, b"") is None  # not opened from a JPEG


def test_halving_keeps_every_pixel_row() -> None:
    page = Image.new("RGB", (2481, 3507), "white")
    half = pg.resample(page, 0.5)
    assert half.size == (1241, 1754)  # rounded up: never under 150 dpi from 300
    bitonal = pg.resample(Image.new("1", (101, 51), 1), 0.5)
    assert bitonal.mode == "1" and bitonal.size == (51, 26)


# -- whole scans: guessed walk against the walk through every step ----------------------


def without_guesses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "_SAMPLE_PIXELS", 0)
    monkeypatch.setattr(pdfs, "_SAMPLE_PIXELS", 0)


def convert(src: Path, limit: int) -> tuple[Converted, Path]:
    target = src.with_name(src.name + ".norm.pdf")
    outcome = normalise(ConversionJob(src, target, limit, 200, 100_000_000))
    assert outcome.converted is not None, outcome.rejection
    return outcome.converted, target


def shown_dpis(pdf_path: Path) -> list[tuple[str, float]]:
    found = []
    with pikepdf.open(pdf_path) as pdf:
        for page in pdf.pages:
            width_in = float(page.mediabox[2] - page.mediabox[0]) / 72
            for raw in page.get_images().values():
                image = pikepdf.PdfImage(raw).as_pil_image()
                found.append((image.mode, image.width / width_in))
    return found


@pytest.fixture(scope="module")
def tables() -> list[Image.Image]:
    return [scans.document_page(style="tabel", colour=False, dpi=200, seed=s) for s in (1, 2)]


@pytest.mark.parametrize(
    ("kind", "limit", "step"),
    [
        ("jpeg", 400 * KB, "jpeg-70"),
        ("jpeg", 220 * KB, "150dpi-q55"),
        ("pdf", 500 * KB, "jpeg-70"),
        ("pdf", 150 * KB, "hitam-putih"),
    ],
)
def test_guessed_walk_lands_where_the_full_walk_does(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    letter: Image.Image,
    tables: list[Image.Image],
    kind: str,
    limit: int,
    step: str,
) -> None:
    # The ladder is the fallback behind content-aware encoding: walk it alone.
    monkeypatch.setattr(images, "_by_content", lambda *_: None)
    monkeypatch.setattr(pdfs, "_by_content", lambda *_: None)
    if kind == "jpeg":  # colour, 200 dpi
        src = scans.jpeg_scan(tmp_path / "surat.jpg", page=letter, dpi=200, quality=95)
    else:  # two greyscale pages of tables, 200 dpi
        jpegs = [scans.jpeg_bytes(page, dpi=200, quality=92) for page in tables]
        src = scans.pdf_from_jpegs(tmp_path / "tabel.pdf", jpegs, dpi=200)
    assert src.stat().st_size > limit
    guessed, out = convert(src, limit)
    assert guessed.size <= limit and not guessed.terlalu_besar
    assert guessed.min_dpi is not None and guessed.min_dpi >= 150
    shown = shown_dpis(out)
    assert len(shown) == guessed.pages and all(dpi >= 149.5 for _, dpi in shown)
    if kind == "jpeg":
        assert {mode for mode, _ in shown} == {"RGB"}  # colour stays colour
    with monkeypatch.context() as m:
        without_guesses(m)
        walked, _ = convert(src, limit)
    assert (guessed.step, guessed.size) == (walked.step, walked.size)
    assert guessed.step == step  # the case is the one meant (the page generator may drift)

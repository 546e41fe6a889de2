"""The shrink ladder: ways to write a dokumen, from untouched to smallest.

Conversion keeps the first result, in ladder order, under the dokumen's size
limit. No step goes below 150 dpi effective, and pages whose content is in
colour stay in colour on every step; only pages without colour may become
grey or, when they look like text, bitonal.

Encoding a 300 dpi page at every step would cost a second per page on a large
scan, so `walk_ladder` takes cheap size guesses (pages.SizeGuess) to skip the
steps that cannot fit, and encodes only where the guesses say a step may fit.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from client.intake.converted import ConversionJob, Converted
from client.intake.pages import PageLook


class Mono(StrEnum):
    KEEP = "keep"  # every page keeps its colour mode
    GREY = "grey"  # pages without colour become greyscale
    BITONAL = "bitonal"  # ... and those that look like text become black and white


@dataclass(frozen=True)
class Step:
    name: str
    quality: int | None = None  # JPEG quality; None: lossless repack
    max_dpi: float | None = None  # downsample pages above this (never upsample)
    mono: Mono = Mono.KEEP

    @property
    def lossless(self) -> bool:
        return self.quality is None


# Bitonal pages are written at up to this resolution: CCITT G4 text at 300 dpi
# is smaller than greyscale at 150 dpi, and far more legible.
_BITONAL_DPI = 300.0

LADDER: tuple[Step, ...] = (
    Step("asli"),
    Step("jpeg-85", quality=85),
    Step("jpeg-70", quality=70),
    Step("jpeg-55", quality=55),
    Step("200dpi", quality=70, max_dpi=200),
    Step("150dpi", quality=70, max_dpi=150),
    Step("150dpi-q55", quality=55, max_dpi=150),
    Step("150dpi-q45", quality=45, max_dpi=150),
    Step("abu-abu", quality=45, max_dpi=150, mono=Mono.GREY),
    Step("hitam-putih", quality=45, max_dpi=150, mono=Mono.BITONAL),
)


class Codec(StrEnum):
    ORIGINAL = "original"  # the source's own bytes (a JPEG, a plain PNG)
    PNG = "png"
    G4 = "g4"  # CCITT group 4, bitonal
    JPEG = "jpeg"


@dataclass(frozen=True)
class Encoding:
    """How one page (or one image of a PDF) is written at some step."""

    codec: Codec
    dpi: float
    quality: int = 0
    grey: bool = False


def plan_page(
    step: Step,
    *,
    source_dpi: float,
    bitonal_source: bool,
    has_original: bool,
    look: Callable[[], PageLook],
) -> Encoding:
    """The encoding `step` gives a page; `look` is only asked when needed."""
    if step.lossless:
        if has_original:
            return Encoding(Codec.ORIGINAL, source_dpi)
        return Encoding(Codec.G4 if bitonal_source else Codec.PNG, source_dpi)
    dpi = source_dpi if step.max_dpi is None else min(source_dpi, step.max_dpi)
    if bitonal_source:
        return Encoding(Codec.G4, dpi)
    assert step.quality is not None
    if step.mono is not Mono.KEEP:
        seen = look()
        if not seen.colour:
            if step.mono is Mono.BITONAL and seen.text:
                return Encoding(Codec.G4, min(source_dpi, _BITONAL_DPI))
            return Encoding(Codec.JPEG, dpi, step.quality, grey=True)
    return Encoding(Codec.JPEG, dpi, step.quality)


# A step whose calibrated guess is at most this much over the limit is still
# encoded: guesses from a sample are good to a few per cent, not exactly.
_GUESS_SLACK = 0.03
_RATIO_RANGE = (0.5, 2.0)


def walk_ladder(
    job: ConversionJob,
    pages_count: int,
    encode: Callable[[Step, int | None], tuple[int, float | None] | None],
    scan_type: str,
    guess: Callable[[Step], int | None] | None = None,
) -> Converted:
    """The first step, in ladder order, whose PDF fits the limit.

    `encode(step, budget)` writes `job.target` and returns (size, min dpi), or
    None when it saw early that the step cannot fit `budget`. When nothing
    fits, the smallest PDF reached is kept and marked too large.

    `guess(step)`, when given, predicts the step's size cheaply (None: no
    idea). Steps guessed clearly too large are skipped rather than encoded.
    Each real encode calibrates the guesses (real size / guessed size); once a
    step fits, any earlier step skipped that the calibrated guesses now say
    may fit is tried too, so a guess that was off costs an encode, not
    quality. Without `guess`, every step is tried in order.
    """
    limit = job.size_limit
    last = len(LADDER) - 1
    guessed: dict[int, int | None] = {}
    ratio = 1.0
    tried: set[int] = set()
    best: tuple[int, float | None, str] | None = None  # smallest too-large PDF, in `spare`
    fit: tuple[int, int, float | None] | None = None  # (index, size, dpi) of a PDF in `held`
    spare = job.target.with_name(job.target.name + ".best")
    held = job.target.with_name(job.target.name + ".fit")

    def promising(index: int) -> bool:
        if guess is None:
            return True
        if index not in guessed:
            guessed[index] = guess(LADDER[index])
        raw = guessed[index]
        return raw is None or raw * ratio <= limit * (1 + _GUESS_SLACK)

    try:
        index = 0
        while index <= last and (fit is None or index < fit[0]):
            step = LADDER[index]
            final = index == last
            if index in tried or not (final or promising(index)):
                index += 1
                continue
            made = encode(step, None if final else limit)
            tried.add(index)
            raw = guessed.get(index)
            if made is None:  # it cannot fit: it is larger than guessed, if the guess said so
                if raw and not step.lossless:
                    ratio = min(max(ratio, limit / raw), _RATIO_RANGE[1])
                index += 1
                continue
            size, min_dpi = made
            if raw and not step.lossless:
                ratio = min(max(size / raw, _RATIO_RANGE[0]), _RATIO_RANGE[1])
            if size > limit:
                if best is None or size < best[0]:
                    best = (size, min_dpi, step.name)
                    os.replace(job.target, spare)
                index += 1
                continue
            os.replace(job.target, held)
            fit = (index, size, min_dpi)
            # An earlier step skipped on an uncalibrated guess may fit after all.
            index = next((i for i in range(index) if i not in tried and promising(i)), index)
        if fit is not None:
            at, size, min_dpi = fit
            os.replace(held, job.target)
            return Converted(scan_type, pages_count, size, LADDER[at].name, False, _dpi(min_dpi))
        assert best is not None  # the last step always writes
        os.replace(spare, job.target)
        return Converted(scan_type, pages_count, best[0], best[2], True, _dpi(best[1]))
    finally:
        spare.unlink(missing_ok=True)
        held.unlink(missing_ok=True)


def _dpi(value: float | None) -> float | None:
    return None if value is None else round(value, 1)

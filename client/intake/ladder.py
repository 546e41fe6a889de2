"""The shrink ladder: ways to write a dokumen, from untouched to smallest.

Conversion walks it in order and keeps the first result under the dokumen's
size limit. No step goes below 150 dpi effective, and pages whose content is in
colour stay in colour on every step; only pages without colour may become
grey or, when they look like text, bitonal.
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
BITONAL_DPI = 300.0

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
                return Encoding(Codec.G4, min(source_dpi, BITONAL_DPI))
            return Encoding(Codec.JPEG, dpi, step.quality, grey=True)
    return Encoding(Codec.JPEG, dpi, step.quality)


def walk_ladder(
    job: ConversionJob,
    pages_count: int,
    encode: Callable[[Step, int | None], tuple[int, float | None] | None],
    scan_type: str,
) -> Converted:
    """Try each step in order until one writes a PDF within the limit.

    `encode(step, budget)` writes `job.target` and returns (size, min dpi), or
    None when it saw early that the step cannot fit `budget`. When nothing
    fits, the smallest PDF reached is kept and marked too large.
    """
    best: tuple[int, float | None, str] | None = None
    spare = job.target.with_name(job.target.name + ".best")
    try:
        for index, step in enumerate(LADDER):
            final = index == len(LADDER) - 1
            made = encode(step, None if final else job.size_limit)
            if made is None:
                continue
            size, min_dpi = made
            if size <= job.size_limit:
                return Converted(scan_type, pages_count, size, step.name, False, _dpi(min_dpi))
            if best is None or size < best[0]:
                best = (size, min_dpi, step.name)
                os.replace(job.target, spare)
        assert best is not None  # the last step always writes
        os.replace(spare, job.target)
        return Converted(scan_type, pages_count, best[0], best[2], True, _dpi(best[1]))
    finally:
        spare.unlink(missing_ok=True)


def _dpi(value: float | None) -> float | None:
    return None if value is None else round(value, 1)

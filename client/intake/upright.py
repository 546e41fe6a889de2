"""Upright pages: a page scanned sideways (90° or 270°), upside down (180°) or a few
degrees askew is turned straight before it is encoded (content.py) and before its text
is read (page_reading.py).

Projection profiles, in pure Pillow, so it works without the OCR engine:

- **skew and sideways**: lines of text make the page's row profile of ink (the share of
  ink in each row) sharply banded when they are level, and flat when they are not. The
  ink is rotated through a fixed set of small angles, both as scanned and a quarter turn
  on, and the angle and axis whose profile varies most win.
- **upside down**: in a level line of Latin text the x-height band is the densest; the
  ascenders and capitals above it carry more ink than the descenders below it
  (b d f h k l t and every capital and digit rise; only g j p q y fall). Summed over the
  page's lines, more ink below the band than above means the page is upside down.

Everything runs on a copy of at most `_SEARCH_SIDE` (skew) and `_LINE_SIDE` (lines)
pixels on the long side, through a fixed number of rotations: bounded in time whatever
the scan's resolution, and deterministic (the same pixels give the same answer). A page
that is not clearly text (blank, a photo, a few marks) is left as it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from PIL import Image

from client.intake.pages import otsu_threshold

# The skew search: coarse steps over +-_MAX_SKEW, then fine steps around the best.
_MAX_SKEW: Final = 6.0
_COARSE: Final = 0.5
_FINE: Final = 0.1
# A skew smaller than this is left alone (a straight page is not resampled).
_MIN_SKEW: Final = 0.25
_SEARCH_SIDE: Final = 900  # pixels on the long side for the skew search (fine steps) ...
_MIN_SEARCH_SIDE: Final = 200  # ... whose coarse steps run on a half-size copy above this
_LINE_SIDE: Final = 1800  # ... and for the lines read for their direction
# Ink share of the page between which it can be text: below, blank; above, a photo.
_MIN_INK: Final = 0.002
_MAX_INK: Final = 0.35
# Sideways only when the quarter-turned profile varies this much more than the other.
_SIDEWAYS: Final = 1.3
# A skew is taken only when its profile varies this much more than the level one's.
_SKEW_GAIN: Final = 1.05
# Upside down only when the ink below the lines' cores outweighs the ink above by this.
_FLIP: Final = 1.25
_MIN_LINES: Final = 3
_MIN_LINE_ROWS: Final = 4
_MAX_LINE_ROWS: Final = 120  # taller bands are pictures or merged lines, not one line
# The direction classifier reads pieces of up to _CLS_LINES lines, _CLS_PIECES a line,
# and turns the page when its votes for 180° outweigh those for 0° this many times.
_CLS_LINES: Final = 6
_CLS_PIECES: Final = 2
_CLS_MAJORITY: Final = 2.0


@dataclass(frozen=True)
class Straightening:
    """What was done to a page: `turn` degrees counter-clockwise (0, 90, 180, 270),
    then `skew` degrees counter-clockwise."""

    turn: int = 0
    skew: float = 0.0

    @property
    def changed(self) -> bool:
        return self.turn != 0 or self.skew != 0.0


_TURNS: Final = {
    90: Image.Transpose.ROTATE_90,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_270,
}


def _reduced_grey(img: Image.Image, side: int) -> Image.Image:
    grey = img.convert("L") if img.mode != "L" else img
    factor = math.ceil(max(grey.size) / side)
    return grey.reduce(factor) if factor > 1 else grey


def _ink(grey: Image.Image) -> Image.Image:
    """255 where there is ink (darker than the page's Otsu level, and than mid-grey)."""
    level = min(otsu_threshold(grey), 160)
    return grey.point([255 if v <= level else 0 for v in range(256)])


def _share(mask: Image.Image) -> float:
    return mask.histogram()[255] / max(1, mask.width * mask.height)


def _profile(mask: Image.Image) -> list[float]:
    """The ink share of every row (a box resize to one column averages each row)."""
    column = mask.resize((1, mask.height), Image.Resampling.BOX)
    return [v / 255 for v in column.tobytes()]


def _variance(values: list[float]) -> float:
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / len(values)


def _level_score(mask: Image.Image, angle: float) -> float:
    turned = mask.rotate(angle, Image.Resampling.NEAREST, fillcolor=0) if angle else mask
    return _variance(_profile(turned))


def _best_angle(mask: Image.Image) -> tuple[float, float, float]:
    """(angle, its score, the level score) of the rotation that levels `mask`'s lines:
    coarse steps on a half-size copy, then fine steps around the best on `mask`."""
    small = mask.reduce(2) if min(mask.size) >= 2 * _MIN_SEARCH_SIDE else mask
    steps = round(_MAX_SKEW / _COARSE)
    coarse_scores = {
        round(i * _COARSE, 2): _level_score(small, i * _COARSE) for i in range(-steps, steps + 1)
    }
    coarse = max(coarse_scores, key=lambda a: (coarse_scores[a], -abs(a)))
    scores = {0.0: _level_score(mask, 0.0)}
    for i in range(-5, 6):
        angle = round(coarse + i * _FINE, 2)
        if angle not in scores and abs(angle) <= _MAX_SKEW + _COARSE:
            scores[angle] = _level_score(mask, angle)
    best = max(scores, key=lambda a: (scores[a], -abs(a)))
    return best, scores[best], scores[0.0]


def _bands(profile: list[float]) -> list[tuple[int, int]]:
    """The rows (start, end) of each line of text in a level page's row profile."""
    peak = max(profile, default=0.0)
    floor = 0.05 * peak
    found: list[tuple[int, int]] = []
    row = 0
    while row < len(profile):
        if profile[row] <= floor:
            row += 1
            continue
        start = row
        while row < len(profile) and profile[row] > floor:
            row += 1
        if row - start >= _MIN_LINE_ROWS:
            found.append((start, row))
    return found


def _shapes_upside_down(mask: Image.Image) -> bool | None:
    """Whether the level lines of `mask` are upside down by the ink above and below
    their x-height cores; None when that is not clear (see module docstring)."""
    profile = _profile(mask)
    above = below = 0.0
    lines = _bands(profile)
    for start, end in lines:
        band = profile[start:end]
        top = max(band)
        core = [i for i, v in enumerate(band) if v >= 0.5 * top]
        above += sum(band[: core[0]])
        below += sum(band[core[-1] + 1 :])
    if len(lines) < _MIN_LINES or above + below <= 0:
        return None
    if below > _FLIP * above:
        return True
    if above > _FLIP * below:
        return False
    return None


def _line_crops(grey: Image.Image, mask: Image.Image) -> list[Image.Image]:
    """Pieces of text lines (about 4:1, as the direction classifier takes them), from
    lines spread over the page."""
    lines = [(s, e) for s, e in _bands(_profile(mask)) if e - s <= _MAX_LINE_ROWS]
    if len(lines) > _CLS_LINES:
        lines = [lines[i * len(lines) // _CLS_LINES] for i in range(_CLS_LINES)]
    crops: list[Image.Image] = []
    for start, end in lines:
        pad = max(1, (end - start) // 6)
        top, bottom = max(0, start - pad), min(grey.height, end + pad)
        strip = mask.crop((0, top, mask.width, bottom))
        columns = strip.resize((strip.width, 1), Image.Resampling.BOX).tobytes()
        inked = [x for x, v in enumerate(columns) if v > 0]
        if not inked:
            continue
        left, right = inked[0], inked[-1] + 1
        width = 4 * (bottom - top)
        for n in range(_CLS_PIECES):
            x = left + n * width
            if x >= right - width // 2:
                break
            crops.append(grey.crop((x, top, min(right, x + width), bottom)))
    return crops


def _classifier_upside_down(grey: Image.Image, mask: Image.Image) -> bool | None:
    """The OCR engine's text direction classifier over pieces of the page's lines: True
    when it clearly reads them as turned 180°; None without the engine."""
    from client.intake.page_reading import ocr_available, text_direction

    if not ocr_available():
        return None
    crops = _line_crops(grey, mask)
    if len(crops) < _MIN_LINES:
        return None
    turned = level = 0.0
    for label, score in text_direction(crops):
        if label == "180":
            turned += score
        else:
            level += score
    return turned > _CLS_MAJORITY * level


def find_straightening(img: Image.Image) -> Straightening:
    """How to turn `img` so its text stands upright and level (see module docstring)."""
    mask = _ink(_reduced_grey(img, _SEARCH_SIDE))
    if not _MIN_INK <= _share(mask) <= _MAX_INK:
        return Straightening()
    level_angle, level_best, level_zero = _best_angle(mask)
    side_angle, side_best, _ = _best_angle(mask.transpose(Image.Transpose.ROTATE_90))
    sideways = side_best > _SIDEWAYS * level_best
    angle, best, zero = (
        (side_angle, side_best, 0.0) if sideways else (level_angle, level_best, level_zero)
    )
    if abs(angle) < _MIN_SKEW or (not sideways and best < _SKEW_GAIN * zero):
        angle = 0.0
    # Upside down? On a sharper copy turned as found.
    lines = _reduced_grey(img, _LINE_SIDE)
    if sideways:
        lines = lines.transpose(Image.Transpose.ROTATE_90)
    if angle:
        lines = lines.rotate(angle, Image.Resampling.BILINEAR, fillcolor=255)
    lines_ink = _ink(lines)
    flipped = _classifier_upside_down(lines, lines_ink)
    if flipped is None and sideways:
        # Without the classifier a level page stays as it is; a sideways one must be
        # turned one way or the other, and the line shapes choose.
        flipped = _shapes_upside_down(lines_ink)
    turn = 90 if sideways else 0
    if flipped:
        turn = (turn + 180) % 360
    return Straightening(turn, angle)


def apply_straightening(img: Image.Image, how: Straightening) -> Image.Image:
    """`img` turned as `how` says. A quarter turn is lossless; a skew resamples within the
    page's own size (an A4 scan stays A4): the corners it uncovers are white paper, and
    what it turns past the edges is the scan's outer margin."""
    if how.turn:
        img = img.transpose(_TURNS[how.turn])
    if how.skew:
        if img.mode == "1":
            img = img.convert("L")
        white: int | tuple[int, int, int] = (255, 255, 255) if img.mode == "RGB" else 255
        img = img.rotate(how.skew, Image.Resampling.BICUBIC, fillcolor=white)
    return img


def straighten(img: Image.Image) -> tuple[Image.Image, Straightening]:
    """`img` upright and level, and what was done to it."""
    how = find_straightening(img)
    return (apply_straightening(img, how) if how.changed else img), how

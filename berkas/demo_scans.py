"""Sample scans for the demo: A4 pages drawn with Pillow, named the way a
scanner operator would name them (NIP and a typed dokumen kind)."""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

# A4 at 150 dpi keeps the demo quick; intake treats it like any scan.
_A4_150 = (1240, 1754)


def draw_page(title: str, subtitle: str, seed: int, *, colour: bool = True) -> Image.Image:
    """A document-like page: letterhead, title, lines of 'text', a stamp."""
    rng = random.Random(seed)
    page = Image.new("RGB", _A4_150, "white")
    draw = ImageDraw.Draw(page)
    big = ImageFont.load_default(size=44)
    small = ImageFont.load_default(size=26)
    draw.rectangle((80, 70, 1160, 200), outline="black", width=3)
    draw.text((110, 95), "PEMERINTAH PROVINSI - DOKUMEN KEPEGAWAIAN", fill="black", font=small)
    draw.text((110, 135), title, fill="black", font=big)
    draw.text((110, 240), subtitle, fill="black", font=small)
    y = 320
    while y < 1450:
        width = rng.randint(700, 1040)
        draw.rectangle((110, y, 110 + width, y + 14), fill=(40, 40, 40))
        y += rng.choice((36, 36, 36, 60))
    stamp = (30, 60, 170) if colour else (60, 60, 60)
    draw.ellipse((820, 1460, 1060, 1700), outline=stamp, width=8)
    draw.text((870, 1565), "CAP DINAS", fill=stamp, font=small)
    return page


def write_scan(folder: Path, name: str, title: str, subtitle: str, seed: int) -> Path:
    """One JPEG scan in `folder` (written to a temp name, then renamed, like a scanner)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    tmp = folder / f"{name}.part"
    draw_page(title, subtitle, seed).save(tmp, "JPEG", quality=85, dpi=(150, 150))
    tmp.replace(target)
    return target

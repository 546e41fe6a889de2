"""What a file really is, from its first bytes: the extension is only a name."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

_HEAD = 1024


class ScanType(StrEnum):
    PDF = "pdf"
    JPEG = "jpeg"
    PNG = "png"
    TIFF = "tiff"


# Recognised only to say what a refused file was.
_OTHERS: tuple[tuple[int, bytes, str], ...] = (
    (0, b"GIF8", "GIF"),
    (0, b"BM", "BMP"),
    (0, b"PK\x03\x04", "ZIP/Office"),
    (0, b"\xd0\xcf\x11\xe0", "Office lama"),
    (0, b"Rar!", "RAR"),
    (0, b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
    (4, b"ftypheic", "HEIC"),
    (4, b"ftypmif1", "HEIF"),
    (8, b"WEBP", "WebP"),
)


def sniff_bytes(head: bytes) -> ScanType | str:
    """The scan type `head` starts with, or a short name of what it is instead."""
    if head.startswith(b"\xff\xd8\xff"):
        return ScanType.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ScanType.PNG
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return ScanType.TIFF
    # The PDF header may follow some junk, within the first KB (as readers allow).
    if b"%PDF-" in head[:_HEAD]:
        return ScanType.PDF
    for offset, magic, name in _OTHERS:
        if head[offset : offset + len(magic)] == magic:
            return name
    return "tidak dikenal"


def sniff(path: Path) -> ScanType | str:
    with path.open("rb") as fh:
        return sniff_bytes(fh.read(_HEAD))

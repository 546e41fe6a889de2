"""Why a scan was refused: the quarantine reasons, worded for the person who
scanned it (Bahasa Indonesia), with the technical cause kept apart for the log."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RejectKind(StrEnum):
    UNSUPPORTED = "tidak_didukung"
    CORRUPT = "rusak"
    ENCRYPTED = "terenkripsi"
    EMPTY = "kosong"
    TOO_MANY_PAGES = "terlalu_banyak_halaman"
    TOO_MANY_PIXELS = "gambar_terlalu_besar"
    UNREADABLE = "tidak_terbaca"
    TIMEOUT = "batas_waktu"
    CRASHED = "konversi_gagal"


@dataclass(frozen=True)
class Rejection:
    kind: RejectKind
    message: str  # for the person, in Bahasa Indonesia
    cause: str = ""  # technical detail for the log; never document content


class ScanRejected(Exception):
    """Raised inside conversion when a file cannot become a dokumen."""

    def __init__(self, rejection: Rejection) -> None:
        super().__init__(rejection)
        self.rejection = rejection


def unsupported(detected: str) -> Rejection:
    return Rejection(
        RejectKind.UNSUPPORTED,
        f"Jenis berkas tidak didukung ({detected}). Pindai ulang sebagai PDF, JPEG, PNG atau TIFF.",
        f"magic bytes: {detected}",
    )


def corrupt(what: str, cause: str) -> Rejection:
    return Rejection(
        RejectKind.CORRUPT,
        f"Berkas {what} rusak atau tidak lengkap sehingga tidak dapat dibaca. "
        "Pindai atau salin ulang berkas ini.",
        cause,
    )


def encrypted(cause: str) -> Rejection:
    return Rejection(
        RejectKind.ENCRYPTED,
        "PDF ini dilindungi kata sandi (terenkripsi). "
        "Simpan ulang tanpa kata sandi, lalu masukkan lagi.",
        cause,
    )


def empty() -> Rejection:
    return Rejection(
        RejectKind.EMPTY, "Berkas kosong (0 bita). Pindai ulang dokumen ini.", "0 bytes"
    )


def too_many_pages(pages: int, limit: int) -> Rejection:
    return Rejection(
        RejectKind.TOO_MANY_PAGES,
        f"Terlalu banyak halaman: {pages} (paling banyak {limit}). "
        "Pisahkan menjadi beberapa dokumen.",
        f"{pages} pages > {limit}",
    )


def too_many_pixels(
    limit: int, *, width: int | None = None, height: int | None = None, cause: str = ""
) -> Rejection:
    size = f": {width} x {height} piksel" if width and height else ""
    return Rejection(
        RejectKind.TOO_MANY_PIXELS,
        f"Gambar terlalu besar{size} (paling banyak {limit / 1_000_000:g} juta piksel "
        "per halaman). Berkas ini bisa membuat komputer kehabisan memori "
        "(bom dekompresi); pindai ulang pada 300 dpi.",
        cause or f"{width}x{height} px > {limit}",
    )


def unreadable(cause: str) -> Rejection:
    return Rejection(
        RejectKind.UNREADABLE,
        "Berkas tidak dapat dibaca: izin akses ditolak. "
        "Periksa hak akses berkas atau folder, lalu salin ulang.",
        cause,
    )


def timed_out(seconds: float) -> Rejection:
    return Rejection(
        RejectKind.TIMEOUT,
        f"Konversi berkas ini melebihi batas waktu ({seconds:g} detik). "
        "Berkas mungkin rusak atau terlalu rumit; pindai ulang.",
        f"conversion exceeded {seconds:g} s",
    )


def crashed(cause: str) -> Rejection:
    return Rejection(
        RejectKind.CRASHED,
        "Proses konversi berhenti mendadak saat membaca berkas ini; berkas kemungkinan "
        "rusak. Pindai ulang.",
        cause,
    )

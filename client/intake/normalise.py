"""One scan to one normalised PDF, or the reason it cannot be: the function a
conversion worker process runs for each file.

Failures are answers, not exceptions, so that nothing a bad file does can
escape into the process that watches the folders.
"""

from __future__ import annotations

import logging
import struct
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import img2pdf
import pikepdf
from PIL import Image

from client.intake import rejection as rj
from client.intake.converted import ConversionJob, ConversionOutcome, EnvironmentFailure
from client.intake.images import normalise_image
from client.intake.pdfs import normalise_pdf
from client.intake.rejection import ScanRejected
from client.intake.sniff import ScanType, sniff
from store.errors import disk_full_message, is_disk_full

log = logging.getLogger(__name__)

_DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ValueError,
    TypeError,  # Pillow on a TIFF cut short: "Missing dimensions"
    SyntaxError,  # Pillow's parsers raise it for malformed headers
    EOFError,
    KeyError,
    IndexError,
    struct.error,
    pikepdf.PdfError,
    img2pdf.ImageOpenError,
    img2pdf.AlphaChannelError,
    img2pdf.JpegColorspaceError,
    img2pdf.UnsupportedColorspaceError,
    img2pdf.ExifOrientationError,
)
_NAMES = {ScanType.PDF: "PDF", ScanType.JPEG: "JPEG", ScanType.PNG: "PNG", ScanType.TIFF: "TIFF"}


@contextmanager
def _pixel_guard(max_pixels: int) -> Iterator[None]:
    # Pillow's own bomb check, set to our limit, catches whatever we miss.
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def normalise(job: ConversionJob) -> ConversionOutcome:
    """Convert `job.source` into `job.target`; never raises for a bad file."""
    started = time.monotonic()
    scan_type: ScanType | str = "berkas"
    try:
        if job.source.stat().st_size == 0:
            raise ScanRejected(rj.empty())
        scan_type = sniff(job.source)
        if not isinstance(scan_type, ScanType):
            raise ScanRejected(rj.unsupported(scan_type))
        with _pixel_guard(job.max_pixels):
            if scan_type is ScanType.PDF:
                converted = normalise_pdf(job)
            else:
                converted = normalise_image(job, scan_type)
        return ConversionOutcome(converted=converted, seconds=time.monotonic() - started)
    except ScanRejected as exc:
        rejection = exc.rejection
    except PermissionError as exc:
        rejection = rj.unreadable(f"PermissionError errno={exc.errno}")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        rejection = rj.too_many_pixels(job.max_pixels, cause=f"Pillow: {type(exc).__name__}")
    except MemoryError:
        # Pixel bombs are refused above, before decoding; running out of memory here is
        # the machine's state (other programs, the worker's cap), not the file's fault.
        return _environment(job, started, _MEMORY_MESSAGE, "MemoryError")
    except _DECODE_ERRORS as exc:
        if is_disk_full(exc):  # writing the PDF failed: the disk, not the scan
            return _environment(job, started, disk_full_message("Hasil konversi"), repr(exc))
        what = _NAMES[scan_type] if isinstance(scan_type, ScanType) else "ini"
        rejection = rj.corrupt(what, f"{type(exc).__name__}: {str(exc)[:200]}")
    _discard(job.target)
    return ConversionOutcome(rejection=rejection, seconds=time.monotonic() - started)


_MEMORY_MESSAGE = (
    "Memori komputer tidak cukup untuk mengubah pindaian ini sekarang. Berkas tetap di "
    "tempatnya dan dicoba lagi nanti; tutup program lain bila terus terjadi."
)


def _environment(job: ConversionJob, started: float, message: str, cause: str) -> ConversionOutcome:
    _discard(job.target)
    return ConversionOutcome(
        environment=EnvironmentFailure(message, cause[:300]),
        seconds=time.monotonic() - started,
    )


def _discard(target: Path) -> None:
    with suppress(OSError):
        target.unlink(missing_ok=True)


def init_worker(memory_mb: int) -> None:
    """Set up a conversion process: cap its address space where the OS allows."""
    if memory_mb <= 0:
        return
    try:
        import resource
    except ImportError:  # Windows
        return
    limit = memory_mb * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):
        log.warning("batas memori pekerja konversi tidak dapat dipasang")

"""The document viewer, shared by both sides: PDF pages drawn inside the terminal.

Pages are rendered by pypdfium2 in a worker thread and cached per (page, size, zoom,
rotation). They are shown as Unicode half-blocks (two pixels per cell, any terminal),
or, in `mode="auto"`, with the terminal's image protocol (kitty, sixel) through
textual-image: `prepare_image_protocol()` must run before the App starts, because it
asks the terminal what it supports. "Buka di penampil" writes a private copy (0600,
in a 0700 folder) that `PrivateCopies.cleanup()` removes when the App closes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

from PIL import Image
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from tui.messages import report_if_failed

__all__ = [
    "DokumenViewer",
    "HalfBlocks",
    "PageRenderer",
    "PrivateCopies",
    "prepare_image_protocol",
]

ZOOMS = (1.0, 1.5, 2.0, 3.0)
CACHE_PAGES = 24
_image_widget: Any = None  # textual-image's widget class, once the terminal was asked
# Pixels per cell (width, height) the page is rendered at: two a cell high for half-blocks;
# the terminal's own cell size when it shows real pixels (else the page would be drawn at
# half-block resolution, a thumbnail in the corner).
HALF_BLOCK_CELL = (1, 2)
_cell_pixels = HALF_BLOCK_CELL


# Terminals without an image protocol, where the probe's kitty query (an APC string) may
# even be printed as text: never asked.
_NO_IMAGE_TERMS = frozenset({"", "dumb", "linux", "cons25", "vt100", "vt102", "vt220"})
# BERKAS_PENAMPIL=blok keeps half-blocks without asking the terminal anything.
VIEWER_ENV = "BERKAS_PENAMPIL"


def prepare_image_protocol(environ: Mapping[str, str] | None = None) -> bool:
    """Ask the terminal (before the App starts) whether it shows real pixels; True when
    the viewer may use kitty or sixel graphics. Never raises: half-blocks are the fallback.

    textual-image asks with a DA1 query (sixel when the answer lists 4) and a kitty
    graphics query, each waiting 0.1 s for an answer. tmux answers DA1 itself without
    sixel (unless built with it) and drops the kitty query, so under tmux this is
    half-blocks. Not asked at all: no terminal on stdin/stdout, TERM of a console that
    has no image protocol, or BERKAS_PENAMPIL=blok."""
    global _image_widget
    env = os.environ if environ is None else environ
    if env.get(VIEWER_ENV, "").strip().lower() in ("blok", "halfcell"):
        return False
    if env.get("TERM", "") in _NO_IMAGE_TERMS:
        return False
    for stream in (sys.__stdout__, sys.__stdin__):
        if not stream or not stream.isatty():
            return False
    try:
        from textual_image.renderable import HalfcellImage, TGPImage, UnicodeImage
        from textual_image.renderable import Image as Chosen
        from textual_image.widget import Image as ImageWidget
    except Exception:  # an odd terminal: keep half-blocks
        return False
    if Chosen in (HalfcellImage, UnicodeImage):
        return False
    if Chosen is TGPImage and not _kitty_placeholders():
        return False
    try:
        from textual_image._terminal import get_cell_size

        cell = get_cell_size()  # what textual-image itself sizes images by
    except Exception:
        return False
    global _cell_pixels
    _cell_pixels = (max(cell.width, 1), max(cell.height, 1))
    _image_widget = ImageWidget
    return True


# textual-image places kitty images with Unicode placeholders (`U=1`), which kitty reads
# from 0.28 on. Older kitty (0.26 in Debian 12), and other terminals that answer the kitty
# query, draw the placeholders as rows of empty boxes: seen in kitty 0.26.5.
KITTY_PLACEHOLDERS = (0, 28)


def _kitty_placeholders() -> bool:
    """The terminal says (XTVERSION) it is kitty 0.28 or newer. Asked only of a terminal
    that already answered the kitty graphics query; no answer in 0.2 s means no."""
    try:
        from textual_image._terminal import capture_terminal_response

        assert sys.__stdout__ is not None
        with capture_terminal_response("\x1bP>|", "\x1b\\", timeout=0.2) as response:
            sys.__stdout__.write("\x1b[>0q")
            sys.__stdout__.flush()
    except Exception:
        return False
    return kitty_version_ok(response.sequence[len("\x1bP>|") : -len("\x1b\\")])


def kitty_version_ok(answer: str) -> bool:
    """An XTVERSION answer such as "kitty(0.31.0)" names kitty 0.28 or newer."""
    name, _, rest = answer.partition("(")
    if name.strip().lower() != "kitty":
        return False
    try:
        version = tuple(int(part) for part in rest.rstrip(")").split(".")[:2])
    except ValueError:
        return False
    return version >= KITTY_PLACEHOLDERS


class HalfBlocks:
    """A Rich renderable: an RGB image as "▀" cells (top pixel fg, bottom pixel bg)."""

    def __init__(self, image: Image.Image) -> None:
        self.image = image.convert("RGB")

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width, height = self.image.size
        pixels = self.image.load()
        assert pixels is not None
        styles: dict[tuple[Any, Any], Style] = {}
        for y in range(0, height - 1, 2):
            line: list[Segment] = []
            for x in range(width):
                top, bottom = pixels[x, y], pixels[x, y + 1]
                key = (top, bottom)
                style = styles.get(key)
                if style is None:
                    style = styles[key] = Style.parse(
                        "rgb({},{},{}) on rgb({},{},{})".format(*top, *bottom)  # type: ignore[misc]
                    )
                line.append(Segment("▀", style))
            yield from line
            yield Segment.line()


class PageRenderer:
    """One opened PDF: page count and rendered pages, cached (thread-safe)."""

    def __init__(self, data: bytes) -> None:
        import pypdfium2 as pdfium  # loaded with the first dokumen shown

        self._lock = threading.Lock()
        self._pdf = pdfium.PdfDocument(data)
        self.pages = len(self._pdf)
        self._cache: OrderedDict[tuple[int, int, int, float, int], Image.Image] = OrderedDict()

    def page_size(self, index: int) -> tuple[float, float]:
        with self._lock:
            page = self._pdf[index]
            try:
                w, h = page.get_size()
            finally:
                page.close()
        return float(w), float(h)

    def render(
        self,
        index: int,
        cols: int,
        rows: int,
        zoom: float,
        rotation: int,
        cell: tuple[int, int] = HALF_BLOCK_CELL,
    ) -> Image.Image:
        """Page `index` as pixels for a cols x rows cell area of `cell` pixels a cell (two
        pixels a cell high for half-blocks): fitted whole at zoom 1, `zoom` times wider
        beyond."""
        key = (index, cols * cell[0], rows * cell[1], zoom, rotation)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
            page = self._pdf[index]
            try:
                w, h = page.get_size()
                if rotation % 180:
                    w, h = h, w
                box_w, box_h = max(cols, 8) * cell[0], max(rows, 4) * cell[1]
                fit = min(box_w / w, box_h / h)
                target_w = max(int(w * fit * zoom), 8)
                scale = target_w / w
                # Render at up to twice the target, then reduce: cleaner than pdfium's smallest.
                bitmap = page.render(scale=min(scale * 2, 4.0), rotation=rotation)
                image: Image.Image = bitmap.to_pil().convert("RGB")
                bitmap.close()
            finally:
                page.close()
            target_h = max(int(h * scale) // 2 * 2, 2)
            image = image.resize((target_w, target_h), Image.Resampling.LANCZOS)
            self._cache[key] = image
            while len(self._cache) > CACHE_PAGES:
                self._cache.popitem(last=False)
            return image

    def close(self) -> None:
        with self._lock:
            self._pdf.close()


class PrivateCopies:
    """Private temporary copies for the system viewer, removed at exit."""

    def __init__(self) -> None:
        self._folder: Path | None = None

    @property
    def folder(self) -> Path | None:
        return self._folder

    def write(self, name: str, data: bytes) -> Path:
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="berkas-lihat-"))
            os.chmod(self._folder, 0o700)
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name) or "dokumen.pdf"
        path = self._folder / safe
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, data)
        finally:
            os.close(fd)
        return path

    def cleanup(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


def open_in_system_viewer(path: Path) -> bool:
    """Hand `path` to the desktop's PDF viewer; False when there is none."""
    opener = {"darwin": "open", "win32": ""}.get(sys.platform, "xdg-open")
    if sys.platform == "win32":  # pragma: no cover - not on this machine
        os.startfile(path)  # type: ignore[attr-defined]
        return True
    if shutil.which(opener) is None:
        return False
    subprocess.Popen(
        [opener, str(path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return True


class DokumenViewer(Vertical, can_focus=True):
    """Shows one dokumen's pages. `show(title, loader, name)` starts loading: `loader`
    returns the PDF bytes (called in a worker thread)."""

    DEFAULT_CSS = """
    DokumenViewer {
        height: 1fr;
        border: round $primary 50%;
    }
    DokumenViewer:focus-within, DokumenViewer:focus {
        border: round $accent;
    }
    DokumenViewer #viewer-status {
        height: 1;
        color: $text-muted;
    }
    DokumenViewer #viewer-scroll {
        height: 1fr;
    }
    DokumenViewer #viewer-page {
        width: auto;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("pagedown,n", "halaman(1)", "Hal. berikut"),
        Binding("pageup,p", "halaman(-1)", "Hal. sebelum"),
        Binding("plus,equals_sign", "zoom(1)", "Perbesar"),
        Binding("minus", "zoom(-1)", "Perkecil"),
        Binding("r", "putar", "Putar"),
        Binding("o", "penampil", "Buka di penampil"),
    ]

    page: reactive[int] = reactive(0, init=False)
    zoom_index: reactive[int] = reactive(0, init=False)
    rotation: reactive[int] = reactive(0, init=False)

    def __init__(
        self,
        *,
        mode: str = "halfcell",
        copies: PrivateCopies | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.mode = mode
        self.copies = copies or PrivateCopies()
        self._renderer: PageRenderer | None = None
        self._data: bytes = b""
        self._file_name = ""
        self._title = ""
        self._generation = 0
        self.shown_page: int | None = None  # the page drawn now (tests and the bench read it)
        self.on_shown: Callable[[int], None] | None = None

    def compose(self) -> ComposeResult:
        yield Static("Pilih dokumen untuk dilihat.", id="viewer-status", markup=False)
        with VerticalScroll(id="viewer-scroll"):
            if self._real_pixels:
                yield _image_widget(id="viewer-image")
            else:
                yield Static("", id="viewer-page", markup=False)

    # -- loading ------------------------------------------------------------------------------

    def show(self, title: str, loader: Callable[[], bytes], name: str) -> None:
        self._generation += 1
        self._title, self._file_name = title, name
        self.page, self.zoom_index, self.rotation = 0, 0, 0
        self.shown_page = None
        self._status("Memuat dokumen…")
        self._load(loader, self._generation)

    def clear(self, message: str = "Pilih dokumen untuk dilihat.") -> None:
        self._generation += 1
        self._drop()
        self.shown_page = None
        self._status(message)
        self._set_pixels(None)

    def _drop(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
        self._renderer = None
        self._data = b""

    @work(thread=True, group="viewer-load", exclusive=True, exit_on_error=False)
    def _load(self, loader: Callable[[], bytes], generation: int) -> None:
        data = loader()
        renderer = PageRenderer(data)
        self.app.call_from_thread(self._loaded, renderer, data, generation)

    def _loaded(self, renderer: PageRenderer, data: bytes, generation: int) -> None:
        if generation != self._generation:
            renderer.close()
            return
        self._drop()
        self._renderer, self._data = renderer, data
        self._draw()

    # -- drawing ------------------------------------------------------------------------------

    def _box(self) -> tuple[int, int]:
        scroll = self.query_one("#viewer-scroll")
        cols = max(scroll.content_region.width - 1, 8)
        rows = max(scroll.content_region.height, 4)
        return cols, rows

    def _draw(self) -> None:
        if self._renderer is None:
            return
        cols, rows = self._box()
        zoom = ZOOMS[self.zoom_index]
        self._status_line("menggambar…")
        self._render_page(self._renderer, self.page, cols, rows, zoom, self.rotation)

    @work(thread=True, group="viewer-render", exclusive=True, exit_on_error=False)
    def _render_page(
        self, renderer: PageRenderer, page: int, cols: int, rows: int, zoom: float, rotation: int
    ) -> None:
        cell = _cell_pixels if self._real_pixels else HALF_BLOCK_CELL
        image = renderer.render(page, cols, rows, zoom, rotation, cell)
        self.app.call_from_thread(self._rendered, renderer, page, image)

    def _rendered(self, renderer: PageRenderer, page: int, image: Image.Image) -> None:
        if renderer is not self._renderer or page != self.page:
            return
        self._set_pixels(image)
        self.shown_page = page
        self._status_line("")
        if self.on_shown is not None:
            self.on_shown(page)

    @property
    def _real_pixels(self) -> bool:
        """The page goes to the terminal's image protocol (kitty, sixel)."""
        return self.mode == "auto" and _image_widget is not None

    def _set_pixels(self, image: Image.Image | None) -> None:
        if self._real_pixels:
            widget = self.query_one("#viewer-image")
            widget.image = image  # type: ignore[attr-defined]
            return
        self.query_one("#viewer-page", Static).update(HalfBlocks(image) if image else "")

    def _status(self, text: str) -> None:
        self.query_one("#viewer-status", Static).update(text)

    def _status_line(self, extra: str) -> None:
        if self._renderer is None:
            return
        zoom = int(ZOOMS[self.zoom_index] * 100)
        parts = [
            self._title,
            f"hal. {self.page + 1}/{self._renderer.pages}",
            f"{zoom}%",
        ]
        if self.rotation:
            parts.append(f"diputar {self.rotation}°")
        if extra:
            parts.append(extra)
        self._status(" · ".join(p for p in parts if p))

    def on_resize(self) -> None:
        self._draw()

    # -- actions ------------------------------------------------------------------------------

    def action_halaman(self, step: int) -> None:
        if self._renderer is None:
            return
        target = min(max(self.page + step, 0), self._renderer.pages - 1)
        if target != self.page:
            self.page = target
            self._draw()

    def action_zoom(self, step: int) -> None:
        target = min(max(self.zoom_index + step, 0), len(ZOOMS) - 1)
        if target != self.zoom_index:
            self.zoom_index = target
            self._draw()

    def action_putar(self) -> None:
        self.rotation = (self.rotation + 90) % 360
        self._draw()

    def action_penampil(self) -> None:
        if not self._data:
            self.notify("Belum ada dokumen yang dibuka.", severity="warning")
            return
        path = self.copies.write(self._file_name or "dokumen.pdf", self._data)
        if open_in_system_viewer(path):
            self.notify(
                "Salinan pribadi dibuka di penampil; dihapus saat Berkas ditutup.",
                title="Buka di penampil",
            )
        else:
            self.notify(
                f"Tidak ada penampil PDF di komputer ini. Salinan pribadi: {path} "
                "(dihapus saat Berkas ditutup).",
                severity="warning",
                timeout=12,
            )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # A load or render that raised: the App shows it (a refusal in Bahasa), and the
        # status line says the page is not there rather than "Memuat…" for ever.
        if event.state == WorkerState.ERROR:
            self._status("Dokumen tidak dapat ditampilkan.")
        report_if_failed(self.app, event)

    def on_unmount(self) -> None:
        self._drop()


def cleanup_all(copies: Iterable[PrivateCopies]) -> None:
    for c in copies:
        with contextlib.suppress(OSError):
            c.cleanup()

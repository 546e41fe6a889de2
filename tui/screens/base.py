"""What every Berkas screen shares: the header with the sync indicator, the row of
main screens, the footer, and a way to call the client off the UI thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer
from textual.worker import Worker

from client.errors import BerkasError
from tui.messages import DataChanged, SyncStatusChanged, report_if_failed
from tui.widgets.app_header import AppHeader
from tui.widgets.nav_bar import NavBar
from tui.widgets.sync_indicator import SyncIndicator

if TYPE_CHECKING:
    from client.port import ClientPort
    from client.views import SyncStatus
    from tui.app import BerkasApp

NARROW = 100
T = TypeVar("T")
R = TypeVar("R")


class _Failed:
    """A client call refused with a BerkasError (already shown to the person)."""


FAILED = _Failed()


async def attempt_client(
    app: BerkasApp, fn: Callable[..., T], *args: Any, **kwargs: Any
) -> T | _Failed:
    """Run a (blocking) client call in a thread; a BerkasError becomes a notification
    in the person's words and FAILED. Anything else is a bug: it propagates, and the
    worker running this fails visibly (WorkerFailed)."""
    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    except BerkasError as exc:
        app.notify(exc.message, title="Tidak berhasil", severity="error", timeout=8)
        return FAILED


class ClientCalls:
    """What screens and dialogs share: the App, the client port, calls off the UI
    thread, and workers whose failures reach the App (Textual posts a worker's
    state to the node that started it, not further)."""

    app: Any  # provided by Textual's DOMNode

    @property
    def berkas(self) -> BerkasApp:
        return self.app  # type: ignore[no-any-return]

    @property
    def client(self) -> ClientPort:
        return self.berkas.client

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """The call's result, or None when it was refused (the person was told why)."""
        result = await attempt_client(self.berkas, fn, *args, **kwargs)
        return None if isinstance(result, _Failed) else result

    async def attempt(self, fn: Callable[..., object], *args: Any, **kwargs: Any) -> bool:
        """True when the call succeeded; False when it was refused (and shown)."""
        result = await attempt_client(self.berkas, fn, *args, **kwargs)
        return not isinstance(result, _Failed)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # A plain method name, not @on: this mixin is not a Textual class, and Textual
        # finds `on_<message>` methods along the whole MRO.
        report_if_failed(self.berkas, event)


class BerkasScreen(ClientCalls, Screen[None]):
    """A full screen of the app. Subclasses yield their body from `compose_body`
    and (re)load their data in `reload`, which runs again when the data changed
    while the screen was hidden."""

    SCREEN_TITLE: ClassVar[str] = ""
    NAV: ClassVar[str | None] = None
    # F1 first in every screen's footer (subclasses' keys follow), so at 80 columns,
    # where the footer cuts its tail, Bantuan stays in view.
    BINDINGS: ClassVar[list[BindingType]] = [Binding("f1", "app.bantuan", "Bantuan")]

    def __init__(self) -> None:
        super().__init__()
        self._seen_version = -1

    def compose(self) -> ComposeResult:
        yield AppHeader(self.berkas.header_title, self.SCREEN_TITLE)
        yield NavBar(self.NAV)
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_resize(self, event: events.Resize) -> None:
        # Below 100 columns the footer packs its keys tighter so more of them show.
        for footer in self.query(Footer):
            footer.compact = event.size.width < NARROW

    def set_title(self, title: str) -> None:
        self.query_one(AppHeader).set_screen_title(title)

    def on_mount(self) -> None:
        self.show_sync_status(self.berkas.sync_status)

    def on_screen_resume(self) -> None:
        self.show_sync_status(self.berkas.sync_status)
        self.load_if_stale()

    def on_data_changed(self, message: DataChanged) -> None:
        """Records changed while this screen is in view (a sync brought some)."""
        self.load_if_stale()

    def on_sync_status_changed(self, message: SyncStatusChanged) -> None:
        self.show_sync_status(message.status)

    def show_sync_status(self, status: SyncStatus | None) -> None:
        """Where sync stands, in the header (the Sinkronisasi screen shows more)."""
        for indicator in self.query(SyncIndicator):
            indicator.show_status(status)

    def load_if_stale(self) -> None:
        """Load when the data changed since this screen last loaded (and the store is
        open: at start the App calls this again once it is)."""
        if self.berkas.opened and self._seen_version != self.berkas.data_version:
            self._seen_version = self.berkas.data_version
            self.reload()

    def reload(self) -> None:
        """Load (or load again) what the screen shows; runs in a worker."""

    def changed(self) -> None:
        """This screen changed data: other screens reload when shown again."""
        self.berkas.data_changed()
        self._seen_version = self.berkas.data_version


class BerkasDialog(ClientCalls, ModalScreen[R]):
    """A dialog over the current screen; Esc closes it with None."""

    BINDINGS: ClassVar = [("escape", "batal", "Batal")]

    def action_batal(self) -> None:
        self.dismiss(None)

"""Opens the scan intake service over this installation's store, encrypted blob
store and settings; the command line and the TUI both start intake through it."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from client.config import load_config
from client.intake import FileProcessed, IntakeEvent, IntakeService, Watcher, WatcherProblem
from client.intake.filing import Refiled
from client.paths import Paths
from client.sync_service import open_blob_store
from store.database import open_store
from store.errors import BerkasError
from store.rules import load_rules_config

log = logging.getLogger(__name__)


@contextmanager
def intake_service(paths: Paths, *, lock: bool = False) -> Iterator[IntakeService]:
    """An IntakeService for `paths`; the default scan folder is HOME/pindai. With `lock`,
    the home's watcher lock is held meanwhile (refused, naming the holder, while the TUI
    or another `berkas intake` takes scans there)."""
    if lock:
        from sync.engine import SyncLock

        held = SyncLock(
            paths.intake_lock, "berkas intake", busy="Folder pindai sudah dipantau oleh {holder}."
        )
        try:
            held.acquire()
        except OSError as exc:
            # The lock file cannot be written (a full disk): intake itself reports that,
            # keeping every scan where it is; the one-watcher rule waits for space.
            log.warning("kunci folder pindai tidak dapat ditulis: %r", exc)
        try:
            with intake_service(paths) as service:
                yield service
        finally:
            held.release()
        return
    config = load_config(paths.config)
    settings = config.intake
    if not settings.scan_folders:
        settings = settings.model_copy(update={"scan_folders": [paths.scans]})
    for folder in settings.scan_folders:
        folder.mkdir(parents=True, exist_ok=True)
    store = open_store(paths.store, opd_id=config.opd_kode or None, person=config.operator)
    try:
        blobs = open_blob_store(paths)
        # Leftover staging files from a crash hold nothing a record refers to: our own
        # `*.part` and pikepdf's `.pikepdf.*.part<random>` from a save cut by a kill.
        for part in (blobs.root / "tmp").glob("*.part*"):
            part.unlink(missing_ok=True)
        with IntakeService(store, blobs, settings, load_rules_config(config.rules_override)) as svc:
            yield svc
    finally:
        store.close()


@dataclass(frozen=True)
class WatchState:
    """The background scan watcher as Beranda shows it."""

    watching: bool
    folders: tuple[Path, ...] = ()
    held_by: str = ""  # another process watches this home (its description)
    problem: str = ""
    last_name: str = ""  # the last file it took, and what became of it
    last_result: str = ""
    last_at: datetime | None = None
    taken: int = 0


class BackgroundIntake:
    """The scan watcher for one home, run beside the TUI: one per home (a file lock,
    as sync's), so the TUI and `berkas intake watch` never both take a scan.

    `on_event` receives every intake event (from the watcher's threads), `on_state` the
    WatchState after each change."""

    def __init__(
        self,
        paths: Paths,
        on_event: Callable[[IntakeEvent], None] | None = None,
        on_state: Callable[[WatchState], None] | None = None,
    ) -> None:
        self.paths = paths
        self._on_event = on_event
        self._on_state = on_state
        self._stack = ExitStack()
        self._watcher: Watcher | None = None
        self._state = WatchState(watching=False)
        self._lock = threading.Lock()

    @property
    def state(self) -> WatchState:
        return self._state

    def start(self) -> WatchState:
        """Take the home's watcher lock and start watching; when another process holds
        it, say who (nothing is watched twice)."""
        from sync.engine import SyncLock

        lock = SyncLock(
            self.paths.intake_lock,
            "berkas (tampilan terminal)",
            busy="Folder pindai sudah dipantau oleh {holder}.",
        )
        try:
            lock.acquire()
        except BerkasError as exc:
            self._set(WatchState(watching=False, held_by=exc.message))
            return self._state
        self._stack.callback(lock.release)
        _start_resource_tracker()
        try:
            service = self._stack.enter_context(intake_service(self.paths))
            watcher = Watcher(service, self._event)
            watcher.start()
        except BaseException as exc:
            self._stack.close()
            if isinstance(exc, BerkasError):
                self._set(WatchState(watching=False, problem=exc.message))
                return self._state
            raise
        self._watcher = watcher
        self._set(WatchState(watching=True, folders=tuple(watcher.folders)))
        return self._state

    def stop(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            with contextlib.suppress(Exception):
                watcher.stop(timeout=10)
        self._stack.close()
        self._set(replace(self._state, watching=False))

    def refiled(self, refiled: list[Refiled]) -> None:
        """Waiting scans were filed from the Kotak masuk: when the last file taken is one,
        its line says where it went now (not "Masuk kotak masuk" any more)."""
        state = self._state
        done = next((r for r in refiled if r.original_name == state.last_name), None)
        if done is not None:
            self._set(
                replace(
                    state,
                    last_result=f"Dari Kotak masuk dilampirkan sebagai {done.nama_file}.",
                    last_at=datetime.now(UTC),
                )
            )

    def _event(self, event: IntakeEvent) -> None:
        if isinstance(event, FileProcessed):
            r = event.result
            self._set(
                replace(
                    self._state,
                    last_name=r.relative_name,
                    last_result=r.message,
                    last_at=datetime.now(UTC),
                    taken=self._state.taken + 1,
                )
            )
        elif isinstance(event, WatcherProblem):
            self._set(replace(self._state, problem=event.message))
        if self._on_event is not None:
            self._on_event(event)

    def _set(self, state: WatchState) -> None:
        with self._lock:
            self._state = state
        if self._on_state is not None:
            self._on_state(state)


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker with the real stderr.

    The conversion pool's worker processes need it, and it hands its child the stderr
    file descriptor; inside a Textual app sys.stderr is the app's capture (no usable
    descriptor), so starting it from there fails ("bad value(s) in fds_to_keep")."""
    import sys
    from multiprocessing import resource_tracker

    if sys.__stderr__ is None:
        return
    saved = sys.stderr
    sys.stderr = sys.__stderr__
    try:
        resource_tracker.ensure_running()
    finally:
        sys.stderr = saved

"""The scan folder watcher: watchdog events and periodic rescans feed the
stability tracker; settled files go to the intake service a few at a time.

One loop thread does the bookkeeping (rescans, observer health, dispatch);
files are processed on a small thread pool whose threads wait on the
conversion processes. Nothing a file does can stop the loop: every failure
becomes an event.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers.api import BaseObserver

from client.intake.batches import neighbour
from client.intake.events import (
    FileProcessed,
    FileTaken,
    FolderStatus,
    IntakeEvent,
    ObserverRestarted,
    RescanDone,
    WatcherProblem,
    WatcherStarted,
    WatcherStopped,
)
from client.intake.ignore import is_ignored
from client.intake.naming import copy_of, redact_nik
from client.intake.observers import make_observer, wants_polling
from client.intake.results import IntakeStatus
from client.intake.service import IntakeService
from client.intake.stability import Signature, StabilityTracker, signature_of

log = logging.getLogger(__name__)

_IGNORED_EVENTS = frozenset({"opened", "closed_no_write", "deleted"})
# The events asked of the OS: all but those ignored above. Every read of a scan
# (conversion opens it several times) would otherwise come back as an "opened"
# and a "closed_no_write" event for watchdog to decode, in this process.
_WANTED_EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileClosedEvent,
    FileMovedEvent,
    DirCreatedEvent,
    DirMovedEvent,
]


class _Hints(FileSystemEventHandler):
    """Turns watchdog events under one scan folder into tracker hints."""

    def __init__(self, watcher: Watcher, root: Path) -> None:
        self._watcher = watcher
        self._root = root

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in _IGNORED_EVENTS:
            return
        where = event.dest_path if event.event_type == "moved" else event.src_path
        path = Path(os.fsdecode(where))
        if event.is_directory:
            if event.event_type in ("created", "moved"):
                self._watcher._folder_appeared(path, self._root)
            return
        self._watcher._hint(path, self._root)


class Watcher:
    """Watches the service's scan folders until stopped.

    `on_event` receives every `IntakeEvent`, from the watcher's own threads.
    """

    def __init__(
        self, service: IntakeService, on_event: Callable[[IntakeEvent], None] | None = None
    ) -> None:
        self.service = service
        self.settings = service.settings
        self.tracker = StabilityTracker(self.settings.stable_delay)
        self._on_event = on_event
        # Files in hand at once: per conversion process, one converting, one
        # waiting to, and one being stored and filed, so that a process never
        # waits for the main process to finish storing before its next file.
        self._capacity = self.settings.workers * 3
        self._tick = min(0.2, self.settings.stable_delay / 3)
        self._lock = threading.Lock()
        self._inflight: set[Path] = set()
        self._failed: dict[Path, tuple[Signature | None, float]] = {}
        # Numbered images put back to wait for the one before them: they had settled.
        self._held_back: set[Path] = set()
        self._new_folders: list[tuple[Path, Path]] = []
        self._available: dict[Path, bool] = {}
        self._observers: list[BaseObserver] = []
        self._polled: list[Path] = []
        self._stop = threading.Event()
        # Set when a file is done (or on stop): the loop dispatches the next one
        # at once instead of at its next tick, so no conversion process idles.
        self._wake = threading.Event()
        self._rescan_requested = threading.Event()
        self._loop: threading.Thread | None = None
        self._executor: ThreadPoolExecutor | None = None
        self.observer_restarts = 0
        self.rescans = 0

    # -- public -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._loop is not None and self._loop.is_alive()

    @property
    def folders(self) -> list[Path]:
        return self.service.scan_roots()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._executor = ThreadPoolExecutor(self._capacity, thread_name_prefix="intake-file")
        self._start_observers()
        self._loop = threading.Thread(target=self._run, name="intake-watcher", daemon=True)
        self._loop.start()
        self._emit(WatcherStarted(tuple(self.folders), tuple(self._polled)))

    def stop(self, timeout: float | None = None) -> None:
        """Stop watching; files already being processed are finished first."""
        self._stop.set()
        self._wake.set()
        if self._loop is not None:
            self._loop.join(timeout)
            self._loop = None
        self._stop_observers()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=False)
            self._executor = None
        self._emit(WatcherStopped())

    def rescan_now(self) -> None:
        self._rescan_requested.set()

    def busy(self) -> bool:
        """True while files are tracked or being processed (tests, the bench)."""
        with self._lock:
            return bool(self._inflight) or len(self.tracker) > 0

    # -- events in ----------------------------------------------------------------------

    def _emit(self, event: IntakeEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # a listener's bug must not stop intake
            log.exception("pendengar peristiwa intake gagal")

    def _reserved(self, root: Path) -> list[Path]:
        return self.service.reserved(root)

    def _hint(self, path: Path, root: Path) -> None:
        if is_ignored(path, root, self._reserved(root)):
            return
        if not self.settings.recursive and path.parent != root:
            return
        with self._lock:
            if path in self._inflight:
                return
        self.tracker.touch(path, root)

    def _folder_appeared(self, folder: Path, root: Path) -> None:
        # A folder moved in brings its files without an event for each.
        if self.settings.recursive and not is_ignored(folder, root, self._reserved(root)):
            with self._lock:
                self._new_folders.append((folder, root))

    # -- observers ----------------------------------------------------------------------

    def _start_observers(self) -> None:
        native = make_observer(False, self.settings.polling_interval)
        polling = make_observer(True, self.settings.polling_interval)
        native.start()
        polling.start()
        self._polled = []
        for root in self.folders:
            available = root.is_dir()
            if self._available.get(root) is not available:
                self._available[root] = available
                if not available:
                    self._emit(FolderStatus(root, False, f"Folder pindai tidak tersedia: {root}"))
            if not available:
                continue
            use_polling = wants_polling(root, self.settings.polling)
            handler = _Hints(self, root)
            try:
                observer = polling if use_polling else native
                observer.schedule(
                    handler,
                    os.fspath(root),
                    recursive=self.settings.recursive,
                    event_filter=_WANTED_EVENTS,
                )
            except OSError as exc:
                if use_polling:
                    self._emit(WatcherProblem(f"Folder {root} tidak dapat dipantau: {exc}"))
                    continue
                # inotify watches used up, or the like: polling still works.
                log.warning("pemantauan native gagal untuk %s (%s); beralih ke polling", root, exc)
                polling.schedule(
                    handler,
                    os.fspath(root),
                    recursive=self.settings.recursive,
                    event_filter=_WANTED_EVENTS,
                )
                use_polling = True
            if use_polling:
                self._polled.append(root)
        self._observers = [native, polling]

    def _stop_observers(self) -> None:
        for observer in self._observers:
            try:
                observer.stop()
            except Exception:
                log.debug("observer stop failed", exc_info=True)
        for observer in self._observers:
            observer.join(timeout=5)
        self._observers = []

    def _observers_healthy(self) -> bool:
        for observer in self._observers:
            if not observer.is_alive():
                return False
            if any(not emitter.is_alive() for emitter in observer.emitters):
                return False
        return True

    def _check_health(self) -> None:
        restart = ""
        for root in self.folders:
            available = root.is_dir()
            was = self._available.get(root)
            if available == was:
                continue
            self._available[root] = available
            if available:
                self._emit(FolderStatus(root, True, f"Folder pindai tersedia lagi: {root}"))
                restart = restart or f"folder {root} tersedia lagi"
            else:
                self._emit(FolderStatus(root, False, f"Folder pindai tidak tersedia: {root}"))
        if not restart and not self._observers_healthy():
            restart = "pemantau folder berhenti"
        if restart:
            self._stop_observers()
            self._start_observers()
            self.observer_restarts += 1
            self._emit(ObserverRestarted(restart))
            self._rescan_requested.set()

    # -- the loop -----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self.service.pool.warm_up()
        except Exception:
            log.exception("pekerja konversi gagal dimulai")
        next_rescan = 0.0
        next_health = time.monotonic() + self.settings.health_interval
        while not self._stop.is_set():
            try:
                now = time.monotonic()
                if now >= next_rescan or self._rescan_requested.is_set():
                    self._rescan_requested.clear()
                    self._rescan()
                    next_rescan = time.monotonic() + self.settings.rescan_interval
                if now >= next_health:
                    self._check_health()
                    next_health = time.monotonic() + self.settings.health_interval
                self._scan_new_folders()
                self._dispatch()
            except Exception as exc:
                log.exception("putaran pemantau intake gagal")
                self._emit(WatcherProblem(f"Kesalahan pemantau: {exc!r}"))
            self._wake.wait(self._tick)
            self._wake.clear()

    def _rescan(self) -> None:
        started = time.monotonic()
        found = 0
        for root in self.folders:
            if not root.is_dir():
                continue
            for path in self.service.files_in(root):
                with self._lock:
                    if path in self._inflight:
                        continue
                if self.tracker.observe(path, root):
                    found += 1
        self.rescans += 1
        self._emit(RescanDone(found, time.monotonic() - started))

    def _scan_new_folders(self) -> None:
        with self._lock:
            folders, self._new_folders = self._new_folders, []
        for folder, root in folders:
            for path in self.service.files_in(folder):
                if not is_ignored(path, root, self._reserved(root)):
                    self.tracker.observe(path, root)

    def _dispatch(self) -> None:
        with self._lock:
            free = self._capacity - len(self._inflight)
        if free <= 0 or self._executor is None:
            return
        now = time.monotonic()
        ready = self.tracker.take_ready(free)
        batch = {path for path, _root in ready}
        for path, root in ready:
            failed = self._failed.get(path)
            if failed is not None:
                signature, when = failed
                if signature == signature_of(path) and now - when < self.settings.rescan_interval:
                    continue  # failed recently and unchanged: wait for a later rescan
                del self._failed[path]
            base = copy_of(path)
            if base is not None and base.exists():
                with self._lock:
                    waiting = base in self._inflight
                if waiting or base in batch or base in self.tracker:
                    # "x (1).pdf" waits for "x.pdf", so the copy is the duplicate.
                    self.tracker.observe(path, root)
                    continue
            if self._run_waits(path, batch):
                self.tracker.observe(path, root)
                self._held_back.add(path)
                continue
            self._held_back.discard(path)
            with self._lock:
                self._inflight.add(path)
            self._executor.submit(self._take, path, root, now)

    def _run_waits(self, path: Path, batch: set[Path]) -> bool:
        """A numbered image ("scan0007.jpg") is taken after the one before it and
        once the one after it has settled, so a separator sheet finds its pages."""
        before = neighbour(path, -1)
        if before is not None:
            with self._lock:
                busy = before in self._inflight
            if busy or before in batch or before in self.tracker:
                return True
        # The next one still being written holds this one back; a settled next one that
        # only missed this batch (more files ready than free workers), or was put back to
        # wait its turn, does not: with a whole run already in the folder, waiting for it
        # turned into a livelock.
        after = neighbour(path, 1)
        return (
            after is not None
            and after not in batch
            and after not in self._held_back
            and after in self.tracker
            and not self.tracker.settled(after)
        )

    def _take(self, path: Path, root: Path, stable_at: float) -> None:
        try:
            self._emit(FileTaken(path, path.relative_to(root).as_posix()))
            result = self.service.process_file(path, root, stable_at=stable_at)
        except Exception as exc:  # a bug, not a bad file: report it and go on
            log.exception("intake gagal untuk %s", redact_nik(path.name))
            self._failed[path] = (signature_of(path), time.monotonic())
            self._emit(WatcherProblem(f"Gagal memproses {path.name}: {exc!r}"))
            return
        finally:
            with self._lock:
                self._inflight.discard(path)
            self._wake.set()
        if result.status is IntakeStatus.FAILED:
            self._failed[path] = (signature_of(path), time.monotonic())
        self._emit(FileProcessed(result))

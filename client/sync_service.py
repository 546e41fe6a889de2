"""The client side of sync: builds the engine of one installation from its Paths, config and
store, and offers what the CLI and the TUI call (enrol, sync, status, restore, the agent,
conflicts). Screens call these; they never touch httpx, keys or the engine directly.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import platform
import signal
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from client.config import ClientConfig, load_config
from client.paths import Paths
from client.sinkronisasi import status_of
from client.views import SyncStatus
from store.blobs import BlobStore
from store.database import Store, open_store
from store.errors import BerkasError
from store.rules import load_rules_config
from sync.engine import (
    ConflictView,
    EngineSettings,
    EnrolResult,
    Keyring,
    KeyWait,
    RestoreReport,
    StreamBlobCipher,
    SyncEngine,
    SyncLock,
    SyncReport,
    SyncScheduler,
    enrol_device,
    list_conflicts,
    resolve_conflicts,
    restore_home,
)

if TYPE_CHECKING:
    from client.intake.filing import Refiled

log = logging.getLogger("berkas.sync")


def keyring_for(paths: Paths) -> Keyring:
    return Keyring(paths.keys)


def _blob_cipher(paths: Paths, keyring: Keyring | None = None) -> StreamBlobCipher:
    """The cipher of the local blob store (what intake and the services should use)."""
    return StreamBlobCipher(keyring or keyring_for(paths))


def open_blob_store(paths: Paths, keyring: Keyring | None = None) -> BlobStore:
    return BlobStore(paths.blobs, _blob_cipher(paths, keyring))


def _open_store(paths: Paths, config: ClientConfig) -> Store:
    return open_store(paths.store, opd_id=config.opd_kode or None, person=config.operator)


def engine_settings(config: ClientConfig) -> EngineSettings:
    return EngineSettings(upload_window=config.sync.upload_window)


def build_engine(
    paths: Paths,
    store: Store,
    config: ClientConfig | None = None,
    *,
    settings: EngineSettings | None = None,
    server_url: str | None = None,
    keyring: Keyring | None = None,
) -> SyncEngine:
    """The engine of this installation over an open store (the caller owns the store);
    `keyring` is one already holding an unlocked key (the verifikator's TUI)."""
    config = config or load_config(paths.config)
    keyring = keyring or keyring_for(paths)
    return SyncEngine(
        store,
        open_blob_store(paths, keyring),
        keyring,
        settings=settings or engine_settings(config),
        server_url=server_url or None,
    )


@contextlib.contextmanager
def _session(paths: Paths) -> Iterator[tuple[ClientConfig, Store]]:
    config = load_config(paths.config)
    store = _open_store(paths, config)
    try:
        yield config, store
    finally:
        store.close()


# -- enrolment --------------------------------------------------------------------------------


def enrol(paths: Paths, server_url: str, code: str, device_name: str = "") -> EnrolResult:
    """`berkas enrol`: device keys, registration, the server's keys; saves server_url."""
    with _session(paths) as (config, store):
        # The name other devices show beside this one's changes (conflicts): the computer
        # and the operator, so "who made it" reads as a person would say it.
        if not device_name:
            host = platform.node() or "Perangkat"
            device_name = f"{host} ({config.operator})" if config.operator else host
        result = enrol_device(
            store, keyring_for(paths), server_url, code, device_name=device_name[:100]
        )
        if config.server_url != server_url.rstrip("/") or (
            result.role == "opd" and not config.opd_kode
        ):
            from client.config import save_config

            config.server_url = server_url.rstrip("/")
            if result.role == "opd" and not config.opd_kode:
                config.opd_kode = result.opd_kode
            save_config(paths.config, config)
        return result


# -- one sync ---------------------------------------------------------------------------------


def sync_once(
    paths: Paths,
    *,
    program: str = "berkas sync",
    settings: EngineSettings | None = None,
    keyring: Keyring | None = None,
) -> SyncReport:
    """One sync now (records, documents), holding the store's sync lock."""
    with _session(paths) as (config, store):
        lock = SyncLock(paths.sync_lock, program)
        lock.acquire()
        engine = build_engine(paths, store, config, settings=settings, keyring=keyring)
        try:
            return engine.sync_once()
        finally:
            engine.close()
            lock.release()


def refile_inbox(paths: Paths) -> list[Refiled]:
    """After a sync pulled records (an usulan returned, one created elsewhere): file the
    Kotak masuk scans that waited for such an usulan (client.intake.filing)."""
    with _session(paths) as (config, store):
        return _refile(store, config)


def _refile(store: Store, config: ClientConfig) -> list[Refiled]:
    from client.intake.filing import refile_waiting, refiled_message

    refiled = refile_waiting(store, load_rules_config(config.rules_override))
    if refiled:
        log.info(refiled_message(refiled))
    return refiled


# -- status -----------------------------------------------------------------------------------


def status(paths: Paths, *, check_server: bool = False) -> SyncStatus:
    """Where sync of the installation at `paths` stands (`berkas status`)."""
    with _session(paths) as (_config, store):
        return status_of(paths, store, check_server=check_server)


# -- conflicts --------------------------------------------------------------------------------


def conflicts(paths: Paths) -> list[ConflictView]:
    with _session(paths) as (_config, store):
        return list_conflicts(store)


def resolve_conflict(paths: Paths, conflict_id: str, choice: str, value: Any = None) -> None:
    """Resolve one conflict: "mine", "theirs" or "edit" (with `value`). The decision is a
    local write whose op names the conflict, so it syncs to every device
    (sync.engine.conflicts.resolve_conflicts, the one place for it)."""
    decision = ("edit" if choice == "edited" else choice, value)
    with _session(paths) as (_config, store):
        resolve_conflicts(store, {conflict_id: decision})


# -- restore ----------------------------------------------------------------------------------


def restore(
    paths: Paths,
    server_url: str,
    code: str,
    *,
    wait_s: float = 0.0,
    poll_s: float = 10.0,
    on_wait: Callable[[KeyWait], None] | None = None,
    stop: threading.Event | None = None,
) -> RestoreReport:
    """`berkas restore`: enrol this fresh home and bring back the OPD's records and
    documents (each verified after decryption). Running it again continues. Without the
    OPD key (a total loss) it files a key request for the verifikator and waits up to
    `wait_s` seconds for it, reporting through `on_wait`."""
    with _session(paths) as (config, store):
        lock = SyncLock(paths.sync_lock, "berkas restore")
        lock.acquire()
        keyring = keyring_for(paths)
        blobs = open_blob_store(paths, keyring)
        engine = SyncEngine(store, blobs, keyring, settings=engine_settings(config))
        try:
            return restore_home(
                store,
                blobs,
                keyring,
                lambda: engine.transport,
                server_url=server_url,
                code=code,
                wait_s=wait_s,
                poll_s=poll_s,
                on_wait=on_wait,
                stop=stop,
            )
        finally:
            engine.close()
            lock.release()
            # Saved even when the documents still wait for the OPD key: the home is
            # enrolled, and `berkas sync` finishes the restore later.
            facts = keyring.facts()
            if server_url and facts is not None and config.server_url != server_url.rstrip("/"):
                from client.config import save_config

                config.server_url = server_url.rstrip("/")
                if facts.role == "opd" and not config.opd_kode:
                    config.opd_kode = facts.opd_kode
                save_config(paths.config, config)


# -- background sync --------------------------------------------------------------------------


def _start_background_sync(
    paths: Paths,
    store: Store,
    config: ClientConfig | None = None,
    *,
    program: str = "berkas",
    on_report: Callable[[SyncReport], None] | None = None,
    poll_seconds: float = 3.0,
) -> SyncScheduler:
    """The scheduler the TUI runs in-process (and the agent headless); call stop() at exit."""
    config = config or load_config(paths.config)
    engine = build_engine(paths, store, config)
    scheduler = SyncScheduler(
        engine,
        interval_minutes=config.sync.interval_minutes,
        jitter_seconds=config.sync.jitter_seconds,
        lock=SyncLock(paths.sync_lock, program),
        poll_seconds=poll_seconds,
        on_report=on_report,
    )
    scheduler.start()
    return scheduler


class BackgroundSync:
    """The TUI's in-process background sync: the scheduler `berkas agent` runs, over a
    store connection of its own. The sync lock still decides who syncs: while another
    process (an agent) holds it, this one skips its runs. Call stop() at exit."""

    def __init__(self, paths: Paths, store: Store, scheduler: SyncScheduler) -> None:
        self.paths = paths
        self._store = store
        self.scheduler = scheduler
        self.received = 0  # records pulled by its runs: the TUI reloads what it shows

    @classmethod
    def start(cls, paths: Paths, *, program: str = "berkas") -> BackgroundSync:
        config = load_config(paths.config)
        store = _open_store(paths, config)
        box: list[BackgroundSync] = []

        def reported(report: SyncReport) -> None:
            if box:
                box[0].received += report.pull.changes
            _log_report(report)

        try:
            scheduler = _start_background_sync(
                paths, store, config, program=program, on_report=reported
            )
        except BaseException:
            store.close()
            raise
        running = cls(paths, store, scheduler)
        box.append(running)
        return running

    def next_run(self) -> datetime | None:
        """When the scheduler runs a sync next (the interval, a "now" or a retry job)."""
        return self.scheduler.next_run()

    def trigger(self) -> None:
        """Sync as soon as the scheduler allows (now, or when the backoff reopens)."""
        self.scheduler.trigger()

    def stop(self) -> None:
        """Stop the scheduler (waiting for a run in progress), then close the engine."""
        try:
            self.scheduler.stop()
        finally:
            self.scheduler.engine.close()
            self._store.close()


def _setup_agent_logging(paths: Paths) -> list[logging.Handler]:
    """Log lines to HOME/log/agent.log (rotated) and to stderr (journald, Task Scheduler)."""
    paths.logs.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    added: list[logging.Handler] = []
    if not any(type(h) is logging.StreamHandler for h in root.handlers):
        added.append(logging.StreamHandler())
    added.append(
        logging.handlers.RotatingFileHandler(
            paths.logs / "agent.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
    )
    for handler in added:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return added


def run_agent(paths: Paths, *, stop: threading.Event | None = None) -> None:
    """`berkas agent`: sync in the background until SIGTERM / Ctrl+C (for unattended use)."""
    handlers = _setup_agent_logging(paths)
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    with _session(paths) as (config, store):

        def reported(report: SyncReport) -> None:
            _log_report(report)
            if report.pull.changes:
                try:
                    _refile(store, config)
                except BerkasError as exc:  # the next pull tries again
                    log.warning("kotak masuk tidak dapat diproses ulang: %s", exc.message)

        scheduler = _start_background_sync(
            paths, store, config, program="berkas agent", on_report=reported
        )
        log.info(
            "agen sinkronisasi berjalan: tiap %.1f menit (jitter %.0f detik)",
            config.sync.interval_minutes,
            config.sync.jitter_seconds,
        )
        try:
            stop.wait()
        finally:
            scheduler.stop()
            scheduler.engine.close()
            log.info("agen sinkronisasi berhenti")
            for handler in handlers:
                logging.getLogger().removeHandler(handler)
                handler.close()


def _log_report(report: SyncReport) -> None:
    if report.error is not None:
        return  # the engine already logged it with its state
    log.info(
        "sinkron: %d op dikirim, %d perubahan diterima, %d dokumen diunggah, %d konflik baru",
        report.push.pushed,
        report.pull.changes,
        report.uploads.uploaded,
        report.push.conflicts + report.pull.conflicts,
    )

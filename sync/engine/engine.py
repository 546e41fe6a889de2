"""The sync engine of one store: record sync (push then pull), the upload lane, and the
link state every outcome leaves behind in meta ("state", "last_error", "last_sync").

A cycle (`sync_once`) pushes and pulls records, then runs the upload lane while record
sync keeps going on its own connection whenever new local work arrives, so one big file
never holds records back. Every failure becomes a state and a log line; nothing local is
removed before the server has acknowledged it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from store.blobs import BlobStore
from store.database import Store, set_meta
from store.errors import StoreError, is_disk_full
from store.models import Blob, Dokumen
from sync.crypto import x25519_public_from_b64
from sync.engine.backoff import Backoff
from sync.engine.download import download_blob, list_files
from sync.engine.errors import (
    LinkState,
    LocalFailure,
    OpdKeyMissing,
    ServerRefused,
    SyncError,
    local_failure,
)
from sync.engine.keyring import Keyring, ServerFacts
from sync.engine.opd_key import ensure_opd_key, wrap_for_waiting_devices
from sync.engine.outbox import last_seq as outbox_last_seq
from sync.engine.pull import PullReport, pull_changes
from sync.engine.push import PushReport, push_outbox
from sync.engine.server_restore import (
    EPOCH_CHANGED,
    EPOCH_META,
    changed_epoch,
    confirm_epoch,
)
from sync.engine.server_restore import recover as recover_after_restore
from sync.engine.timetable import Throttle, Timetable
from sync.engine.transport import LINK_TIMEOUTS, Transport
from sync.engine.tus_client import ChunkSizer, TusClient
from sync.engine.uploads import (
    LARGE_FILE_BYTES,
    Uploader,
    UploadReport,
    pending_uploads,
    withdrawn_uploads,
)
from sync.heap import settle_heap
from sync.protocol import MAX_PAGE_LIMIT, MAX_PUSH_OPS

log = logging.getLogger(__name__)


@dataclass
class EngineSettings:
    upload_concurrency: int = 3
    large_file_bytes: int = LARGE_FILE_BYTES
    push_batch: int = MAX_PUSH_OPS
    # An upper bound only: a server offering page-bytes fills pages up to a byte budget.
    page_limit: int = MAX_PAGE_LIMIT
    upload_window: str = ""
    # While uploads run, record sync repeats at least this often.
    record_interval_s: float = 30.0
    # How often to look for devices of the OPD waiting for a copy of the OPD key.
    key_check_interval_s: float = 1800.0
    # A document another device has not uploaded yet is asked for again after this.
    download_retry_s: float = 1800.0
    downloads: bool = True
    timeout: httpx.Timeout = field(default_factory=lambda: LINK_TIMEOUTS)
    verify_tls: bool | str = True


@dataclass
class SyncReport:
    push: PushReport = field(default_factory=PushReport)
    pull: PullReport = field(default_factory=PullReport)
    uploads: UploadReport = field(default_factory=UploadReport)
    state: LinkState = LinkState.ONLINE
    error: SyncError | None = None
    requests: int = 0
    downloads: int = 0
    # The server was found restored from a backup; `resent` acknowledged ops went again.
    server_restored: bool = False
    resent: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SyncEngine:
    """Everything one store needs to sync; thread-safe between record and upload lanes."""

    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        keyring: Keyring,
        *,
        settings: EngineSettings | None = None,
        backoff: Backoff | None = None,
        http_transport: httpx.BaseTransport | None = None,
        server_url: str | None = None,
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.keyring = keyring
        self.settings = settings or EngineSettings()
        self.backoff = backoff or Backoff()
        self.stop_event = threading.Event()
        self.records_wanted = threading.Event()
        self._records_lock = threading.Lock()
        self._cycle_lock = threading.Lock()
        self._http_transport = http_transport
        self._server_url = server_url
        self._transport: Transport | None = None
        self._tus: TusClient | None = None
        self.sizer = ChunkSizer()
        self.throttle = Throttle()
        self.timetable = Timetable(self.settings.upload_window)
        self.on_state: Callable[[LinkState, str], None] | None = None
        self._download_tried: dict[str, float] = {}

    # -- wiring ---------------------------------------------------------------------------------

    @property
    def facts(self) -> ServerFacts:
        return self.keyring.require_facts()

    @property
    def transport(self) -> Transport:
        if self._transport is None:
            facts = self.facts
            self._transport = Transport(
                self._server_url or facts.server_url,
                keys=self.keyring.device_keys(),
                device_id=facts.device_id,
                server_encryption_key=x25519_public_from_b64(facts.server_encryption_key),
                backoff=self.backoff,
                timeout=self.settings.timeout,
                http_transport=self._http_transport,
                max_connections=self.settings.upload_concurrency + 4,
                verify=self.settings.verify_tls,
            )
        return self._transport

    def tus(self) -> TusClient:
        """One tus client per engine, so its counters and chunk sizing carry over."""
        if self._tus is None or self._tus.transport is not self.transport:
            self._tus = TusClient(self.transport, sizer=self.sizer, stop=self.stop_event)
        self._tus.sizer = self.sizer
        return self._tus

    def close(self) -> None:
        self.stop_event.set()
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    # -- state ----------------------------------------------------------------------------------

    def _record_state(self, state: LinkState, error: SyncError | None) -> None:
        try:
            with self.store.apply_remote() as session:
                set_meta(session, "state", state.value)
                if error is None:
                    set_meta(session, "last_sync", now_iso())
                    set_meta(session, "last_error", "")
                else:
                    set_meta(session, "last_error", error.message)
                    set_meta(session, "last_error_at", now_iso())
        except Exception as exc:  # a full disk must not hide the sync outcome
            log.error("status sinkronisasi tidak dapat disimpan: %r", exc)
        if self.on_state is not None:
            self.on_state(state, error.message if error else "")

    def _fail(self, report: SyncReport, error: SyncError) -> None:
        report.error = report.error or error
        report.state = error.state
        if error.state is LinkState.OFFLINE or error.state is LinkState.SERVER_MENOLAK:
            delay = self.backoff.failure(at_least=error.retry_after)
            log.warning(
                "sinkronisasi gagal (%s): %s; dicoba lagi dalam %.1f detik [%s]",
                error.state.value,
                error.message,
                delay,
                error.cause,
            )
        else:
            log.error(
                "sinkronisasi gagal (%s): %s [%s]", error.state.value, error.message, error.cause
            )

    # -- records --------------------------------------------------------------------------------

    def sync_records(self, report: SyncReport | None = None) -> SyncReport:
        """Push the whole outbox, then pull every page of changes."""
        report = report or SyncReport()
        settle_heap()  # once per process: the program is up, its modules are loaded
        with self._records_lock:
            self.records_wanted.clear()
            try:
                # Twice at most: a server found restored from a backup gets the acknowledged
                # ops it lacks again, and every record is pulled again (server_restore).
                # Pushes carry the epoch this device knows; a restored server refuses them
                # (nothing applied) instead of refusing ops that build on what it lacks.
                for _round in range(2):
                    self.transport.known_epoch = self.store.get_meta(EPOCH_META, "") or None
                    try:
                        push = push_outbox(
                            self.store,
                            self.transport,
                            self.facts.device_id,
                            opd_id=self.facts.opd_id,
                            batch_size=self.settings.push_batch,
                        )
                    except ServerRefused as exc:
                        if exc.kode != EPOCH_CHANGED:
                            raise
                        restored = confirm_epoch(self.store, self.transport)
                        if restored is None:
                            raise
                    else:
                        _add_push(report.push, push)
                        pull = pull_changes(
                            self.store, self.transport, limit=self.settings.page_limit
                        )
                        _add_pull(report.pull, pull)
                        restored = changed_epoch(self.store, self.transport)
                    if restored is None:
                        break
                    # Only OPD devices upload; a verifikator's blobs are downloads.
                    files = (
                        {info.sha256 for info in list_files(self.transport)}
                        if self.facts.role == "opd"
                        else None
                    )
                    report.resent += recover_after_restore(self.store, restored, files)
                    report.server_restored = True
                self.backoff.success()
            except SyncError as exc:
                self._fail(report, exc)
            except (OSError, SQLAlchemyError, StoreError) as exc:
                self._fail(report, _local_error(exc))
        return report

    # -- a whole cycle --------------------------------------------------------------------------

    def sync_once(self, *, uploads: bool = True) -> SyncReport:
        """One cycle: records, then documents (with record sync continuing alongside)."""
        report = SyncReport()
        with self._cycle_lock:
            start_requests = self.transport.requests if self._transport else 0
            try:
                self.facts  # noqa: B018 - NotEnrolled early, with its own state
            except SyncError as exc:
                self._fail(report, exc)
                self._record_state(report.state, report.error)
                return report
            self.sync_records(report)
            if report.ok:
                self._maintain_keys(report)
            if uploads and report.ok:
                self._run_uploads(report)
            if uploads and report.ok and self.settings.downloads:
                self._download_missing(report)
            if report.ok and self.records_wanted.is_set():
                self.sync_records(report)
            report.requests = self.transport.requests - start_requests
            self._record_state(report.state if report.error else LinkState.ONLINE, report.error)
        return report

    def _run_uploads(self, report: SyncReport) -> None:
        if not pending_uploads(self.store) and not withdrawn_uploads(self.store):
            return  # an idle cycle stays one round trip
        uploader = Uploader(
            self.store,
            self.blobs,
            self.keyring,
            self.tus(),
            concurrency=self.settings.upload_concurrency,
            large_file_bytes=self.settings.large_file_bytes,
            timetable=self.timetable,
            throttle=self.throttle,
        )
        done = threading.Event()
        result: list[UploadReport] = []

        def lane() -> None:
            try:
                result.append(uploader.run())
            except Exception as exc:  # reported below, never lost in a thread
                result.append(UploadReport(errors=[_local_error(exc)], failed=1))
            finally:
                done.set()

        thread = threading.Thread(target=lane, name="unggah-lajur", daemon=True)
        thread.start()
        # Record sync goes on while documents upload: on new local work, or every interval.
        last = time.monotonic()
        while not done.wait(0.1):
            due = time.monotonic() - last >= self.settings.record_interval_s
            if self.records_wanted.is_set() or due:
                self.sync_records(report)
                last = time.monotonic()
        thread.join()
        uploads = result[0] if result else UploadReport()
        report.uploads = uploads
        if uploads.errors and report.error is None:
            self._fail(report, uploads.errors[0])

    def _maintain_keys(self, report: SyncReport) -> None:
        """Hold the OPD key (requests only while it is missing) and, every
        key_check_interval_s, wrap it for devices of the OPD still waiting."""
        try:
            ensure_opd_key(self.keyring, self.transport)
            # Remembered in meta, so one-shot `berkas sync` runs respect the interval too.
            # Kept to the millisecond: rounded to whole seconds it could lie in the future
            # (100.6 s kept as "101"), and a sync in the next half second found it not due.
            last = self.store.get_meta("keys_checked_at", "0")
            now = time.time()
            try:
                due = now - float(last) >= self.settings.key_check_interval_s
            except ValueError:
                due = True
            # Only OPD devices share on their own (with colleagues of the same OPD). A
            # verifikator shares after a total loss as a deliberate act on a key request
            # (`berkas verifikasi bagikan-kunci`), having checked the device is the OPD's.
            if due and self.facts.role == "opd":
                wrap_for_waiting_devices(self.keyring, self.transport)
                self.store.set_meta("keys_checked_at", f"{now:.3f}")
        except SyncError as exc:
            self._fail(report, exc)
        except (OSError, SQLAlchemyError, StoreError) as exc:
            self._fail(report, _local_error(exc))

    def _download_missing(self, report: SyncReport) -> None:
        """Fetch documents other devices uploaded that this one lacks."""
        now = time.monotonic()
        with self.store.read() as session:
            shas = set(
                session.exec(
                    select(Dokumen.sha256)
                    .where(col(Dokumen.deleted).is_(False))
                    .where(Dokumen.sha256 != "")
                )
            )
            known = set(session.exec(select(Blob.sha256)))
        missing = [
            sha
            for sha in sorted(shas - known)
            if now - self._download_tried.get(sha, -1e18) >= self.settings.download_retry_s
        ]
        for sha in missing:
            if self.stop_event.is_set():
                return
            self._download_tried[sha] = now
            try:
                for info in list_files(self.transport, sha256=sha):
                    download_blob(
                        self.store, self.blobs, self.transport, info, stop=self.stop_event
                    )
                    report.downloads += 1
                    break
            except OpdKeyMissing as exc:
                log.info("dokumen %s belum dapat dibuka: %s", sha[:12], exc.cause)
            except SyncError as exc:
                self._fail(report, exc)
                if exc.state is not LinkState.ONLINE:
                    return
            except (OSError, SQLAlchemyError, StoreError) as exc:
                self._fail(report, _local_error(exc))
                return

    def want_records(self) -> None:
        """New local work: record sync should run soon (also during a long upload)."""
        self.records_wanted.set()

    def outbox_marker(self) -> int:
        return outbox_last_seq(self.store)


def _add_push(total: PushReport, part: PushReport) -> None:
    total.pushed += part.pushed
    total.applied += part.applied
    total.merged += part.merged
    total.conflicts += part.conflicts
    total.refused += part.refused
    total.requests += part.requests
    total.refusals.extend(part.refusals)


def _add_pull(total: PullReport, part: PullReport) -> None:
    total.pages += part.pages
    total.changes += part.changes
    total.written += part.written
    total.conflicts += part.conflicts
    total.requests += part.requests
    total.last_seq = part.last_seq


def _local_error(exc: BaseException) -> SyncError:
    """A failure of this machine (disk full, database locked) as a SyncError."""
    if isinstance(exc, SyncError):
        return exc
    if isinstance(exc, StoreError) and not is_disk_full(exc):
        return LocalFailure(exc.message, exc.cause)
    return local_failure(exc, "Data lokal tidak dapat dibaca atau ditulis.")

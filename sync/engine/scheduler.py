"""Background sync with APScheduler: every few minutes with jitter, at once when local work
appears, and backing off while the server cannot be reached.

Three kinds of run share one guarded entry point (`_run`): the interval job, a one-shot
"now" job (new outbox entries or blobs, seen by a cheap poll of the store, which also
catches writes from another process such as the TUI while the agent syncs), and a one-shot
retry at the end of the shared backoff after a failure, so a failed upload is retried
without waiting for a new local write. The file lock (lock.py) keeps a second process
from syncing the same store; the busy one says who holds it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from store.integrity import IntegrityReport, damaged
from sync.engine.engine import SyncEngine, SyncReport
from sync.engine.errors import LinkState, SyncBusy
from sync.engine.lock import SyncLock
from sync.engine.uploads import pending_upload_count

log = logging.getLogger(__name__)

_SYNC_JOB = "berkas-sync"
_NOW_JOB = "berkas-sync-now"
_RETRY_JOB = "berkas-sync-retry"
_WATCH_JOB = "berkas-watch"
_INTEGRITY_JOB = "berkas-integrity"
_INTEGRITY_POLL_SECONDS = 3600.0  # how often to ask whether the daily full check is due
_BUSY_RETRY_SECONDS = 60.0


class SyncScheduler:
    """Runs `engine.sync_once` in the background; start() / trigger() / stop()."""

    def __init__(
        self,
        engine: SyncEngine,
        *,
        interval_minutes: float = 5.0,
        jitter_seconds: float = 30.0,
        lock: SyncLock | None = None,
        poll_seconds: float = 3.0,
        on_report: Callable[[SyncReport], None] | None = None,
        busy_retry_seconds: float = _BUSY_RETRY_SECONDS,
        integrity_poll_seconds: float = _INTEGRITY_POLL_SECONDS,
    ) -> None:
        self.engine = engine
        self.interval_minutes = interval_minutes
        self.jitter_seconds = jitter_seconds
        self.lock = lock
        self.poll_seconds = poll_seconds
        self.on_report = on_report
        self.busy_retry_seconds = busy_retry_seconds
        self.runs = 0
        self.last_report: SyncReport | None = None
        self._running = threading.Lock()
        self._scheduler = BackgroundScheduler(timezone=UTC)
        self._marker: tuple[int, int] | None = None
        self.integrity_poll_seconds = integrity_poll_seconds
        self.damage: IntegrityReport | None = None  # set once the daily check finds any

    # -- control --------------------------------------------------------------------------------

    def start(self, *, sync_now: bool = True) -> None:
        self._scheduler.add_job(
            self._run,
            IntervalTrigger(seconds=self.interval_minutes * 60, jitter=self.jitter_seconds or None),
            id=_SYNC_JOB,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        self._scheduler.add_job(
            self._watch,
            IntervalTrigger(seconds=self.poll_seconds),
            id=_WATCH_JOB,
            max_instances=1,
            coalesce=True,
        )
        self._scheduler.add_job(
            self._check_integrity,
            IntervalTrigger(seconds=self.integrity_poll_seconds),
            id=_INTEGRITY_JOB,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC) + timedelta(seconds=min(60.0, self.poll_seconds)),
        )
        self._marker = self._work_marker()
        self._scheduler.start()
        if sync_now:
            self.trigger()

    def stop(self) -> None:
        self.engine.stop_event.set()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    def next_run(self) -> datetime | None:
        """When a sync runs next (the interval, a "now" or a retry job); None if stopped."""
        if not self._scheduler.running:
            return None
        jobs = self._scheduler.get_jobs()
        times = [
            j.next_run_time
            for j in jobs
            if j.id not in (_WATCH_JOB, _INTEGRITY_JOB) and j.next_run_time
        ]
        return min(times) if times else None

    def trigger(self) -> None:
        """Sync as soon as allowed: now, or when the backoff gate reopens."""
        if self._running.locked():
            self.engine.want_records()  # the running cycle picks it up
            return
        wait = self.engine.backoff.remaining()
        self._once(_NOW_JOB, wait)

    # -- jobs -----------------------------------------------------------------------------------

    def _once(self, job_id: str, delay_s: float) -> None:
        when = datetime.now(UTC) + timedelta(seconds=max(0.0, delay_s))
        self._scheduler.add_job(
            self._run,
            "date",
            run_date=when,
            id=job_id,
            replace_existing=True,
            max_instances=1,
            misfire_grace_time=None,
        )

    def _work_marker(self) -> tuple[int, int]:
        return (self.engine.outbox_marker(), pending_upload_count(self.engine.store))

    def _watch(self) -> None:
        try:
            marker = self._work_marker()
        except Exception as exc:  # the store may be busy; the next poll sees it
            log.debug("pemantauan outbox gagal: %r", exc)
            return
        if marker != self._marker:
            self._marker = marker
            if marker[0] or marker[1]:
                self.trigger()

    def _check_integrity(self) -> None:
        """The daily full `integrity_check` of the local store, in the background. Damage
        stops syncing (nothing read from a damaged store is pushed) and is recorded, so
        the next start refuses the store with the way out."""
        try:
            report = self.engine.store.daily_integrity_check()
        except Exception:
            log.exception("pemeriksaan keutuhan data lokal gagal dijalankan")
            return
        if report is None or report.ok:
            return
        self.damage = report
        log.error(
            "%s (%s)",
            damaged(self.engine.store.path, report).message,
            "; ".join(report.problems[:3]),
        )

    def _run(self) -> None:
        if self.engine.stop_event.is_set() or self.damage is not None:
            return
        if not self._running.acquire(blocking=False):
            self.engine.want_records()
            return
        try:
            wait = self.engine.backoff.remaining()
            if wait > 0:
                # Offline or refused lately: the retry job runs when the gate reopens.
                self._once(_RETRY_JOB, wait)
                return
            report = self._cycle()
            if report is None:
                return
            self.runs += 1
            self.last_report = report
            if self.on_report is not None:
                self.on_report(report)
            if report.error is not None and report.error.retry:
                if report.state in (LinkState.OFFLINE, LinkState.SERVER_MENOLAK):
                    self._once(_RETRY_JOB, self.engine.backoff.remaining())
                elif report.uploads.failed:
                    self._once(_RETRY_JOB, 60.0)
        finally:
            self._running.release()

    def _cycle(self) -> SyncReport | None:
        if self.lock is None:
            return self.engine.sync_once()
        try:
            self.lock.acquire()
        except SyncBusy as exc:
            # Another process (an agent, the TUI) is syncing this store: try again once it
            # has likely finished, not only at the next interval.
            log.info("%s", exc.message)
            self._once(_RETRY_JOB, self.busy_retry_seconds)
            return None
        try:
            return self.engine.sync_once()
        finally:
            self.lock.release()

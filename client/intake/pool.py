"""Conversion in worker processes, each file under a time limit.

A worker that hangs is killed and the pool made anew; one that dies takes the
pool down with it. Files caught in a broken pool through no fault of their own
are tried again alone, so only a file that breaks the pool by itself is
quarantined. Nothing here can bring the caller down.
"""

from __future__ import annotations

import logging
import multiprocessing
import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar

from client.intake import rejection as rj
from client.intake.converted import ConversionJob, ConversionOutcome, EnvironmentFailure
from client.intake.normalise import init_worker, normalise
from store.errors import disk_full_message

log = logging.getLogger(__name__)
_A = TypeVar("_A")
_R = TypeVar("_R")


class _Gate:
    """Shared passage for ordinary jobs, exclusive for a suspect run alone."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._shared = 0
        self._exclusive = False
        self._waiting = 0

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._exclusive or self._waiting:
                self._cond.wait()
            self._shared += 1
        try:
            yield
        finally:
            with self._cond:
                self._shared -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            while self._exclusive or self._shared:
                self._cond.wait()
            self._waiting -= 1
            self._exclusive = True
        try:
            yield
        finally:
            with self._cond:
                self._exclusive = False
                self._cond.notify_all()


def _noop() -> None:
    return None


_KILLED_MESSAGE = (
    "Proses konversi dihentikan dari luar (mis. memori komputer habis). Berkas tetap di "
    "tempatnya dan dicoba lagi nanti."
)


def _killed_from_outside(pool: ProcessPoolExecutor) -> bool:
    """Whether a worker of the broken `pool` died of SIGKILL (the executor itself ends the
    others with SIGTERM; a crash in a library exits with SIGSEGV, SIGABRT or a code)."""
    if not hasattr(signal, "SIGKILL"):
        return False  # Windows: no signals to tell them apart
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        with suppress(Exception):
            process.join(timeout=2)
            if process.exitcode == -signal.SIGKILL:
                return True
    return False


def _start_workers(pool: ProcessPoolExecutor, workers: int) -> None:
    """Have `pool` start its `workers` processes and wait until they run."""
    futures: list[Future[None]] = [pool.submit(_noop) for _ in range(workers)]
    for future in futures:
        try:
            future.result(timeout=60)
        except Exception:  # a failed start shows again, and is handled, on use
            log.warning("pekerja konversi gagal dimulai", exc_info=True)
            return


# Below this much free space a worker that died writing its output is taken to have died
# of the full disk: a normalised scan needs more than this to be written at all.
_NEARLY_FULL_BYTES = 1024 * 1024


def _disk_full_under(target: Path) -> bool:
    """Whether the file system that `target` is written to is (nearly) full."""
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free < _NEARLY_FULL_BYTES
    except OSError:
        return False


class ConversionPool:
    """Runs `normalise` in `workers` processes; `convert` is thread-safe."""

    def __init__(
        self,
        workers: int,
        time_limit: float,
        memory_mb: int = 0,
        *,
        run: Callable[[ConversionJob], ConversionOutcome] = normalise,
    ) -> None:
        self.workers = workers
        self._run = run  # a module-level function (it is pickled to the workers)
        self.time_limit = time_limit
        self.memory_mb = memory_mb
        self.restarts = 0
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(workers)
        self._gate = _Gate()
        self._pool: ProcessPoolExecutor | None = None
        self._generation = 0
        self._closed = False

    def _current(self) -> tuple[ProcessPoolExecutor, int]:
        with self._lock:
            if self._closed:
                raise RuntimeError("conversion pool closed")
            if self._pool is None:
                # spawn: a fork of a process running watchdog and SQLite threads
                # could inherit held locks; it is also what Windows does anyway.
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=init_worker,
                    initargs=(self.memory_mb,),
                )
                # Started before any job is timed: the time limit is for converting a
                # file, and a spawned worker's imports on a busy machine can take longer
                # than that by themselves (a good file would be refused as "too slow").
                _start_workers(self._pool, self.workers)
            return self._pool, self._generation

    def _renew(self, generation: int, *, kill: bool) -> None:
        with self._lock:
            if generation != self._generation or self._pool is None:
                return  # another thread already replaced it
            old, self._pool = self._pool, None
            self._generation += 1
            self.restarts += 1
        if kill:
            # A running task cannot be cancelled; its process has to go.
            processes = getattr(old, "_processes", None) or {}
            for process in list(processes.values()):
                with suppress(OSError, AttributeError):
                    process.kill()
        old.shutdown(wait=False, cancel_futures=True)

    def warm_up(self) -> None:
        """Start the worker processes now rather than on the first scan."""
        self._current()

    def convert(self, job: ConversionJob) -> ConversionOutcome:
        suspect = False
        while True:
            gate = self._gate.exclusive() if suspect else self._gate.shared()
            with gate, self._slots:
                pool, generation = self._current()
                try:
                    future = pool.submit(self._run, job)
                    return future.result(timeout=self.time_limit)
                except FutureTimeout:
                    log.warning("konversi melebihi batas waktu; pekerja dimulai ulang")
                    self._renew(generation, kill=True)
                    return ConversionOutcome(rejection=rj.timed_out(self.time_limit))
                except BrokenProcessPool as exc:
                    killed = suspect and _killed_from_outside(pool)
                    self._renew(generation, kill=False)
                    if suspect and _disk_full_under(job.target):
                        # A native library that cannot write (pikepdf/QPDF aborts the
                        # process on ENOSPC) dies like a crash; the disk, not the file,
                        # is to blame, so the scan stays and is taken again later.
                        log.warning("pekerja konversi berhenti saat disk penuh")
                        return ConversionOutcome(
                            environment=EnvironmentFailure(
                                disk_full_message("Hasil konversi pindaian"),
                                f"{exc!r} with no free space under {job.target.parent}",
                            )
                        )
                    if killed:
                        # SIGKILL comes from outside (the OOM killer, a person, a
                        # shutdown), never from a file: the scan waits for a later pass.
                        log.warning("pekerja konversi dimatikan dari luar; dicoba lagi nanti")
                        return ConversionOutcome(
                            environment=EnvironmentFailure(_KILLED_MESSAGE, repr(exc))
                        )
                    if suspect:
                        log.warning("pekerja konversi berhenti mendadak pada satu berkas")
                        return ConversionOutcome(rejection=rj.crashed(repr(exc)))
                    suspect = True  # try once more, alone

    def call(self, fn: Callable[[_A], _R], arg: _A) -> _R | None:
        """`fn(arg)` in a worker process under the time limit (`fn` a module-level
        function, `arg` picklable); None when it timed out or its worker died,
        so a reading that fails only costs the reading, never the scan."""
        with self._gate.shared(), self._slots:
            pool, generation = self._current()
            try:
                return pool.submit(fn, arg).result(timeout=self.time_limit)
            except FutureTimeout:
                log.warning("pembacaan halaman melebihi batas waktu; pekerja dimulai ulang")
                self._renew(generation, kill=True)
            except BrokenProcessPool:
                log.warning("pekerja berhenti mendadak saat membaca halaman")
                self._renew(generation, kill=False)
        return None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            processes = getattr(pool, "_processes", None) or {}
            pool.shutdown(wait=False, cancel_futures=True)
            for process in list(processes.values()):
                process.join(timeout=5)
                if process.is_alive():
                    process.kill()

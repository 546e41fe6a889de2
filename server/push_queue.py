"""The one writer thread that applies pushes, grouping whatever is waiting into a single
transaction (group commit).

Pushes are serial writes anyway (server.db); queueing them for one thread keeps request
threads free for reads, and grouping turns N commits (on PostgreSQL, N WAL flushes) into
one when devices push at the same moment. A group that fails as a whole (a database error,
not a refused op) is retried push by push, so one bad push never fails its neighbours.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from server.auth import Caller
from server.db import Database
from server.push import push_many
from sync.protocol import Op, PushResponse

log = logging.getLogger(__name__)

MAX_GROUP_OPS: Final = 2000


@dataclass
class _Job:
    caller: Caller
    ops: Sequence[Op]
    future: asyncio.Future[PushResponse]
    loop: asyncio.AbstractEventLoop


def _settle(job: _Job, result: PushResponse | BaseException) -> None:
    def settle() -> None:
        if job.future.done():  # the client went away meanwhile
            return
        if isinstance(result, BaseException):
            job.future.set_exception(result)
        else:
            job.future.set_result(result)

    job.loop.call_soon_threadsafe(settle)


class PushQueue:
    """Submit pushes from the event loop; one thread applies them in arrival order."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="berkas-writer", daemon=True)
        self._thread.start()

    async def push(self, caller: Caller, ops: Sequence[Op]) -> PushResponse:
        loop = asyncio.get_running_loop()
        job = _Job(caller, ops, loop.create_future(), loop)
        self._jobs.put(job)
        return await job.future

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._jobs.get()
            if first is None:
                return
            group = [first]
            size = len(first.ops)
            stop = False
            while size < MAX_GROUP_OPS:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                group.append(job)
                size += len(job.ops)
            self._apply(group)
            if stop:
                return

    def _apply(self, group: list[_Job]) -> None:
        try:
            responses = push_many(self._db, [(job.caller, job.ops) for job in group])
        except Exception as exc:
            if len(group) == 1:
                log.exception("push failed")
                _settle(group[0], exc)
                return
            log.warning("group of %d pushes failed (%s); retrying one by one", len(group), exc)
            for job in group:
                self._apply([job])
            return
        for job, response in zip(group, responses, strict=True):
            _settle(job, response)

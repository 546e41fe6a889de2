"""The convergence machine (test_convergence.py) against two server processes on one
database behind a real HAProxy (round robin), with server processes killed (SIGKILL) in the
middle of a device's sync and started again.

Same devices, rules and invariants as the one-server machine, plus one rule: while a device
syncs, one process dies after a random delay and comes back on its port. Every example
ends (teardown) with A pushing an edit while a process dies the moment the push commits,
tried until the killed process was the one that ran the push: its answer is lost, and the
device retries the same ops through the other process. The op log must answer them with
their first results, and every replica must still end equal.

Needs `haproxy` (skipped with the reason otherwise). PostgreSQL with
BERKAS_TEST_DATABASE_URL, else SQLite shared by the two processes. Bounded: a few examples
of few steps (each example starts two processes; each kill starts one again).
"""

from __future__ import annotations

import os
import threading
import time

import pytest
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import rule
from sqlalchemy import func, select

from server.models import OpLog
from tests.e2e.helpers_replicas import server_op_log
from tests.e2e.test_convergence import DEVICES, OPD_TARGETS, Convergence, _pending
from tests.support.balancer import HAPROXY, HAPROXY_MISSING, TwoProcesses, start_two_processes
from tests.support.server import RunningServer, drop_test_database, fresh_database_url


def _op_log_rows(cluster: TwoProcesses) -> int:
    with cluster.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(OpLog)) or 0)


class ConvergenceTwoProcesses(Convergence):
    def _start_server(self) -> RunningServer | TwoProcesses:
        self.database_url = fresh_database_url()
        return start_two_processes(self.root, self.database_url)

    def _stop_server(self) -> None:
        try:
            self.server.stop()
        finally:
            drop_test_database(self.database_url)

    def _cluster(self) -> TwoProcesses:
        assert isinstance(self.server, TwoProcesses)
        return self.server

    def _sync_while_a_process_dies(self, who: str, which: int, after_ms: int | None) -> None:
        """`who` syncs; process `which` dies `after_ms` into the sync (or once it is over),
        or (None) the moment a push's op log rows are committed: if that process ran the
        push, its answer is lost and the device retries the same ops (through the other
        process); the op log must answer them with their first results."""
        cluster = self._cluster()
        done = threading.Event()
        before = _op_log_rows(cluster)

        def killer() -> None:
            if after_ms is not None:
                done.wait(after_ms / 1000)  # the sync may be over by then: killed anyway
                cluster.kill(which)
                return
            while not done.is_set():
                if _op_log_rows(cluster) > before:
                    cluster.kill(which)
                    return
                time.sleep(0.001)

        thread = threading.Thread(target=killer, name="killer")
        thread.start()
        try:
            self._sync(who)
        finally:
            done.set()
            thread.join()
            if cluster.processes[which].process.poll() is not None:
                cluster.restart(which)

    @rule(
        who=st.sampled_from(DEVICES),
        which=st.integers(0, 1),
        after_ms=st.none() | st.integers(0, 200),
    )
    def a_process_dies_during_sync(self, who: str, which: int, after_ms: int | None) -> None:
        self.busy = True
        self._sync_while_a_process_dies(who, which, after_ms)
        self.busy = False

    def _answers_lost(self, who: str) -> int:
        """Ops the server applied that are still in `who`'s outbox: their answer died."""
        device = self.devices[who]
        applied = server_op_log(self._cluster().db, device.engine.facts.device_id)
        return len(applied.keys() & set(_pending(device)))

    def _lose_a_push_answer(self) -> None:
        """A edits and syncs while a process dies as the push commits, until the process
        that ran the push was the one killed (round robin: either, so a few tries)."""
        for attempt in range(6):
            self._edit("A", OPD_TARGETS[attempt % len(OPD_TARGETS)])
            self._sync_while_a_process_dies("A", attempt % 2, None)
            if self._answers_lost("A"):
                event("a push answer lost to a kill")
                return

    def teardown(self) -> None:
        try:
            if not self.busy:
                self.busy = True
                self._lose_a_push_answer()
                self.busy = False
            event("server processes killed", self._cluster().kills)
        finally:
            super().teardown()


EXAMPLES = int(os.environ.get("BERKAS_CONVERGENCE_LB_EXAMPLES", "3"))
STEPS = int(os.environ.get("BERKAS_CONVERGENCE_LB_STEPS", "15"))

ConvergenceTwoProcesses.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    derandomize=True,  # the same examples every run
    database=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),  # no shrinking (seconds each)
    suppress_health_check=list(HealthCheck),
)
TestConvergenceTwoProcesses = pytest.mark.skipif(HAPROXY is None, reason=HAPROXY_MISSING)(
    pytest.mark.timeout(max(600, EXAMPLES * 120))(ConvergenceTwoProcesses.TestCase)
)

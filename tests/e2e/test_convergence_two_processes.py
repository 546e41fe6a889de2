"""The convergence machine (test_convergence.py) against two server processes on one
database behind a real HAProxy (round robin), with server processes killed (SIGKILL) in the
middle of a device's sync and started again.

Same devices, rules and invariants as the one-server machine, plus one rule: while a device
syncs, one process dies after a random delay and comes back on its port. Every example
kills at least once before the final rounds (teardown does it when no step did). A push
whose answer died with the process is retried by the device through the other process: the
op log must answer it with its first result, and every replica must still end equal.

Needs `haproxy` (skipped with the reason otherwise). PostgreSQL with
BERKAS_TEST_DATABASE_URL, else SQLite shared by the two processes. Bounded: a few examples
of few steps (each example starts two processes; each kill starts one again).
"""

from __future__ import annotations

import os
import threading

import pytest
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import rule

from tests.e2e.test_convergence import DEVICES, Convergence
from tests.support.balancer import HAPROXY, HAPROXY_MISSING, TwoProcesses, start_two_processes
from tests.support.server import RunningServer, drop_test_database, fresh_database_url


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

    def _sync_while_a_process_dies(self, who: str, which: int, after_ms: int) -> None:
        cluster = self._cluster()
        killer = threading.Timer(after_ms / 1000, cluster.kill, args=(which,))
        killer.start()
        try:
            self._sync(who)
        finally:
            killer.join()
            cluster.restart(which)

    @rule(who=st.sampled_from(DEVICES), which=st.integers(0, 1), after_ms=st.integers(0, 400))
    def a_process_dies_during_sync(self, who: str, which: int, after_ms: int) -> None:
        self.busy = True
        self._sync_while_a_process_dies(who, which, after_ms)
        self.busy = False

    def teardown(self) -> None:
        try:
            if not self.busy and self._cluster().kills == 0:
                self.busy = True
                self._sync_while_a_process_dies("A", 0, 50)
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

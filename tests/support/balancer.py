"""Two `berkas server run` processes on one database behind a real HAProxy (round robin),
for tests that kill one process mid-run:

    cluster = start_two_processes(tmp_path, database_url)   # None: SQLite in one home
    device = make_device(root, "a", cluster, cluster.url)    # enrolment via the database
    cluster.kill_and_restart(0)                              # SIGKILL, then up again
    cluster.stop()

Needs the `haproxy` binary (Debian's package); `HAPROXY` is None without it, and tests
skip with `HAPROXY_MISSING` as the reason.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from shutil import which

import httpx

from server.db import Database, open_database
from server.settings import ServerSettings
from store.rules import Role
from tests.support.server import ServerProcess, _free_port, init_home, start_server_process

HAPROXY = which("haproxy")
HAPROXY_MISSING = (
    "haproxy tidak terpasang (apt-get install haproxy): uji dua proses server di "
    "belakang load balancer dilewati"
)


def haproxy_config(
    port: int, servers: Sequence[int], *, maxconn: int = 256, failover: bool = True
) -> str:
    """HAProxy's config for a balancer on 127.0.0.1:`port` before the server processes on
    `servers` (round robin, health-checked on /healthz); bench/server_load.py uses it too.
    With `failover` (tests that kill a process) a dead process is noticed within 300 ms
    and a request it dropped is tried on another; without it (a load measurement) every
    failure shows."""
    lines = [
        "global",
        f"    maxconn {maxconn}",
        "defaults",
        "    mode http",
        "    option forwardfor",
        "    timeout connect 2s",
        "    timeout client 60s",
        "    timeout server 60s",
        "    retries 3",
        "    option redispatch",
    ]
    if failover:
        lines.append("    retry-on conn-failure empty-response response-timeout")
    lines += [
        "frontend berkas",
        f"    bind 127.0.0.1:{port}",
        "    default_backend servers",
        "backend servers",
        "    balance roundrobin",
        "    option httpchk GET /healthz",
    ]
    if failover:
        lines.append("    default-server inter 300ms fall 1 rise 1")
    lines += [f"    server s{i} 127.0.0.1:{p} check" for i, p in enumerate(servers)]
    return "\n".join(lines) + "\n"


@dataclass
class TwoProcesses:
    """The balancer at `url`, the two server processes behind it, and `db`: the shared
    database opened from the test (what the processes see)."""

    url: str
    home: Path
    settings: ServerSettings
    database_url: str | None
    ports: list[int]
    processes: list[ServerProcess]
    balancer: subprocess.Popen[bytes]
    db: Database = field(repr=False)
    kills: int = 0

    @property
    def port(self) -> int:
        """The balancer's port (what a device or a bad-network proxy connects to)."""
        return int(self.url.rsplit(":", 1)[1])

    def enrol_code(self, kode: str, role: Role | str = Role.OPD) -> str:
        return self.processes[0].enrol_code(kode, role)

    def kill(self, index: int) -> None:
        """SIGKILL one process: no shutdown, no flush, its open requests cut off."""
        self.processes[index].kill()
        self.kills += 1

    def restart(self, index: int) -> None:
        """Start the killed process again on its port (HAProxy's check brings it back)."""
        self.processes[index] = start_server_process(
            self.home, self.database_url, self.ports[index]
        )

    def kill_and_restart(self, index: int) -> None:
        self.kill(index)
        self.restart(index)

    def stop(self) -> None:
        try:
            self.db.dispose()
        finally:
            self.balancer.terminate()
            self.balancer.wait(timeout=10)
            for process in self.processes:
                process.stop()


def start_two_processes(root: Path, database_url: str | None = None) -> TwoProcesses:
    """Initialise `root / "bkd"`, run two server processes on it and HAProxy before them;
    returns once the balancer answers /healthz."""
    assert HAPROXY is not None, HAPROXY_MISSING
    home = root / "bkd"
    settings = init_home(home, database_url)
    ports = [_free_port(), _free_port()]
    processes: list[ServerProcess] = []
    try:
        for port in ports:
            processes.append(start_server_process(home, database_url, port))
        lb_port = _free_port()
        config = root / "haproxy.cfg"
        config.write_text(haproxy_config(lb_port, ports))
        balancer = subprocess.Popen(
            [HAPROXY, "-f", str(config), "-db"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except BaseException:
        for process in processes:
            process.stop()
        raise
    cluster = TwoProcesses(
        url=f"http://127.0.0.1:{lb_port}",
        home=home,
        settings=settings,
        database_url=database_url,
        ports=ports,
        processes=processes,
        balancer=balancer,
        db=open_database(settings.database_url),
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{cluster.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "haproxy did not answer"
            time.sleep(0.1)
    except BaseException:
        cluster.stop()
        raise
    return cluster

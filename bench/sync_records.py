"""Record sync on loopback: N changed records pushed by one device and pulled by another,
against the real server; then an idle sync, counted in HTTP requests.

Budget (DESIGN.md): 10,000 record changes pushed and pulled in <= 5 s; a sync with
nothing to do is one round trip.

With `--link-records M` (0 skips it) it then pushes M records and times a fresh device
pulling all of them through the bad-network proxy (tests/support/netproxy.py) at
`--rate` (2 Mbit/s) and `--rtt` (200 ms), printing the bytes on the wire each way.
Target (issue 18): 50,000 records in <= 40 s. `--plain` makes the client ask for nothing
beyond protocol 1 (no zstd, pages of at most 1000 changes): the wire as it was before.

    .venv/bin/python bench/sync_records.py [--records 10000] [--link-records 50000] \
        [--rate 2M] [--rtt 0.2] [--plain]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from client.config import ClientConfig, save_config  # noqa: E402
from client.paths import resolve_paths  # noqa: E402
from client.sync_service import build_engine, enrol  # noqa: E402
from store.database import Store, open_store  # noqa: E402
from store.models import Pegawai  # noqa: E402
from sync.engine import EngineSettings, SyncEngine  # noqa: E402
from sync.protocol import LEGACY_PAGE_LIMIT  # noqa: E402
from tests.support.netproxy import start_proxy  # noqa: E402
from tests.support.server import ServerProcess, start_server_process  # noqa: E402

BUDGET_S = 5.0
LINK_BUDGET_S = 40.0  # 50,000 records over 2 Mbit/s, 200 ms RTT (issue 18)


class _CpuClock:
    """CPU seconds used by this process (the client) and by the server process between
    laps: on a shared machine they say where the time goes better than the wall clock."""

    def __init__(self, server_pid: int) -> None:
        self._stat = Path(f"/proc/{server_pid}/stat")
        self._last = self._now()

    def _server(self) -> float:
        try:
            fields = self._stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")  # not Linux: no /proc
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _now(self) -> tuple[float, float]:
        return time.process_time(), self._server()

    def lap(self) -> tuple[float, float]:
        now = self._now()
        client, server = now[0] - self._last[0], now[1] - self._last[1]
        self._last = now
        return client, server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--link-records", type=int, default=50_000)
    parser.add_argument("--rate", default="2M", help="link rate in bit/s (K and M suffixes)")
    parser.add_argument("--rtt", type=float, default=0.2, help="round trip in seconds")
    parser.add_argument("--plain", action="store_true", help="the protocol-1 wire (before)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="berkas-bench-") as tmp:
        root = Path(tmp)
        # The server in its own process, as deployed: the client and the server each have
        # their own interpreter (and GIL), as on two machines.
        server = start_server_process(root / "server")
        try:
            code = run(root, server, args.records, plain=args.plain)
            if args.link_records:
                code |= run_link(root / "link", server, args)
            return code
        finally:
            server.stop()


def _parse_rate(text: str) -> float:
    scale = {"K": 1e3, "M": 1e6}.get(text[-1:].upper(), 1.0)
    return float(text[:-1] if scale != 1.0 else text) * scale


def _device(
    root: Path, name: str, server: ServerProcess, kode: str, *, plain: bool, url: str = ""
) -> tuple[Store, SyncEngine]:
    paths = resolve_paths(root / name)
    save_config(paths.config, ClientConfig(opd_kode=kode, operator=name))
    enrol(paths, server.url, server.enrol_code(kode), device_name=name)
    store = open_store(paths.store, opd_id=kode)
    settings = EngineSettings(page_limit=LEGACY_PAGE_LIMIT if plain else EngineSettings.page_limit)
    engine = build_engine(paths, store, settings=settings, server_url=url or server.url)
    if plain:
        engine.transport.features = False
    return store, engine


def _add_records(store: Store, count: int) -> None:
    with store.write() as session:
        for n in range(count):
            session.add(
                Pegawai(
                    nip=f"19800101{n:010d}",
                    nama=f"Pegawai {n}",
                    tanggal_lahir=date(1980, 1, 1),
                    jenis_kelamin=1,
                    golongan="III/a",
                    tmt_pangkat=date(2019, 4, 1),
                    tmt_cpns=date(2005, 1, 1),
                    pendidikan="S1",
                    jabatan_kind="pelaksana",
                )
            )


def run(root: Path, server: ServerProcess, count: int, *, plain: bool) -> int:
    engines = [_device(root, name, server, "DISDIK", plain=plain) for name in ("a", "b")]
    (store_a, engine_a), (_store_b, engine_b) = engines
    # Key bookkeeping (first syncs) out of the way, as on any device that has run before.
    engine_a.sync_once()
    engine_b.sync_once()

    started = time.perf_counter()
    _add_records(store_a, count)
    local_s = time.perf_counter() - started

    cpu = _CpuClock(server.process.pid)
    started = time.perf_counter()
    report_a = engine_a.sync_records()
    push_s = time.perf_counter() - started
    push_cpu = cpu.lap()
    assert report_a.ok, report_a.error
    started = time.perf_counter()
    report_b = engine_b.sync_records()
    pull_s = time.perf_counter() - started
    pull_cpu = cpu.lap()
    assert report_b.ok, report_b.error
    assert report_b.pull.changes == count, report_b.pull

    before = engine_b.transport.requests
    idle = engine_b.sync_once()
    idle_requests = engine_b.transport.requests - before
    assert idle.ok, idle.error

    total = push_s + pull_s
    print(f"records:                 {count}")
    print(f"local writes (not timed): {local_s:.2f} s")
    print(
        f"push:                    {push_s:.2f} s ({report_a.push.requests} requests, "
        f"{count / push_s:,.0f} ops/s; CPU client {push_cpu[0]:.2f} s, server {push_cpu[1]:.2f} s)"
    )
    print(
        f"pull:                    {pull_s:.2f} s ({report_b.pull.requests} requests, "
        f"{count / pull_s:,.0f} records/s; CPU client {pull_cpu[0]:.2f} s, "
        f"server {pull_cpu[1]:.2f} s)"
    )
    ratio = total / BUDGET_S
    print(f"push + pull:             {total:.2f} s (budget {BUDGET_S:.1f} s, ratio {ratio:.2f})")
    print(f"idle sync:               {idle_requests} HTTP request(s) (budget 1)")
    for store, engine in engines:
        engine.close()
        store.close()
    ok = total <= BUDGET_S * count / 10_000 and idle_requests == 1
    print("OK" if ok else "OVER BUDGET")
    return 0 if ok else 1


def run_link(root: Path, server: ServerProcess, args: argparse.Namespace) -> int:
    """A fresh device pulls `--link-records` records through the slow link."""
    count, rate = args.link_records, _parse_rate(args.rate)
    store_a, engine_a = _device(root, "a", server, "DINKES", plain=args.plain)
    engine_a.sync_once()
    _add_records(store_a, count)
    report_a = engine_a.sync_records()
    assert report_a.ok, report_a.error
    with start_proxy("127.0.0.1", server.port, rate_bps=rate, latency_s=args.rtt / 2) as proxy:
        store_b, engine_b = _device(root, "b", server, "DINKES", plain=args.plain, url=proxy.url)
        proxy.reset_counters()
        started = time.perf_counter()
        report_b = engine_b.sync_once()
        pull_s = time.perf_counter() - started
        assert report_b.ok, report_b.error
        assert report_b.pull.changes == count, report_b.pull
        wire = proxy.bytes_up + proxy.bytes_down
        print(
            f"fresh device pull over {rate / 1e6:g} Mbit/s, {args.rtt * 1000:.0f} ms RTT "
            f"({'plain JSON, protocol 1' if args.plain else 'zstd, pages by bytes'}):"
        )
        print(
            f"  {count} records in {pull_s:.1f} s ({report_b.pull.pages} pages, "
            f"{report_b.requests} requests; target {LINK_BUDGET_S:.0f} s)"
        )
        print(
            f"  bytes on the wire: {proxy.bytes_down:,} down, {proxy.bytes_up:,} up "
            f"({wire / count:.0f} bytes a record; link limit {wire * 8 / rate:.1f} s)"
        )
    for store, engine in ((store_a, engine_a), (store_b, engine_b)):
        engine.close()
        store.close()
    ok = pull_s <= LINK_BUDGET_S * count / 50_000
    print("OK" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Server load: simulated OPD devices pushing and pulling concurrently on loopback.

    .venv/bin/python bench/server_load.py                 # 60 devices, 30 s, SQLite
    .venv/bin/python bench/server_load.py --database-url postgresql+psycopg://...
    .venv/bin/python bench/server_load.py --processes 2 --backup --database-url ...

`--processes N` (N > 1) runs N server processes on the one database behind HAProxy (round
robin; `apt-get install haproxy`). `--backup` takes `berkas server cadangkan` halfway
through and prints its seconds, MB/s and the push p99 while it ran.

The server runs as its own process (`python -m server.cli run`), as in production; the
devices are asyncio tasks in this process, each signing and sealing every request like the
real client. They talk through aiohttp (installed with tuspy): httpx's AsyncClient spends
milliseconds of CPU per request at this concurrency and would measure itself, not the
server. Each device loops: push a batch of ops (new pegawai, edits of its own and of
records shared with the other devices of its OPD), then pull everything new, then waits
about `--think-ms` (uniform 0.5x-1.5x; starts are staggered the same way). The default,
1000 ms, has each device sync about once a second, hundreds of times more often than the
scheduler's every-few-minutes: a hard, but not absurd, load. `--think-ms 0` runs the
devices back to back and shows the server's capacity instead. Prints requests/s, p50/p99
latency per endpoint and errors (failed requests and refused ops). Budget: p99 push
<= 200 ms on SQLite, zero errors.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import httpx
from yarl import URL

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server import admin  # noqa: E402
from server.db import open_database  # noqa: E402
from server.keys import init_keys  # noqa: E402
from server.settings import ServerSettings  # noqa: E402
from store.hlc import HybridClock  # noqa: E402
from store.ids import new_id  # noqa: E402
from store.rules import Role  # noqa: E402
from sync.crypto import (  # noqa: E402
    SEALED_MEDIA_TYPE,
    PrivateKeySet,
    generate_device_keys,
    generate_x25519,
    open_json,
    public_key_b64,
    request_aad,
    response_aad,
    seal_json,
    sign_request,
    signature_nonce,
    x25519_public_from_b64,
)
from sync.protocol import (  # noqa: E402
    ChangesPage,
    EnrolRequest,
    EnrolResponse,
    FieldChange,
    Op,
    PushRequest,
    PushResponse,
)
from tests.support.balancer import haproxy_config  # noqa: E402


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    failed_requests: int = 0
    refused_ops: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    finished: list[tuple[float, str, float]] = field(default_factory=list)  # (when, kind, s)

    def record(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)
        self.finished.append((time.monotonic(), kind, seconds))


@dataclass
class Device:
    client: aiohttp.ClientSession
    base: str
    keys: PrivateKeySet
    enrolment: EnrolResponse
    clock: HybridClock
    rng: random.Random
    since: int = 0
    own: list[dict[str, Any]] = field(default_factory=list)
    nip_seq: int = 0

    @property
    def device_id(self) -> str:
        return self.enrolment.device_id

    async def request(self, method: str, target: str, body: bytes | None) -> tuple[bytes, str]:
        content = b""
        headers: dict[str, str] = {}
        if body is not None:
            server_key = x25519_public_from_b64(self.enrolment.server_encryption_key)
            content = seal_json(body, server_key, request_aad(method, target))
            headers["Content-Type"] = SEALED_MEDIA_TYPE
        headers.update(sign_request(self.keys, self.device_id, method, target, content))
        url = URL(self.base + target, encoded=True)
        async with self.client.request(method, url, data=content, headers=headers) as resp:
            answer = await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"{method} {target}: {resp.status} {answer[:200]!r}")
        aad = response_aad(method, target, signature_nonce(headers))
        return open_json(answer, self.keys.x25519("encryption"), aad), target


def _nip(seq: int) -> str:
    # Born 1970-01-01 + offset days, TMT CPNS 1995-03, male, sequence 001-999.
    day = 1 + seq % 28
    month = 1 + (seq // 28) % 12
    return f"1970{month:02d}{day:02d}199503100{1 + (seq // 336) % 9}"


def _pegawai(seq: int) -> dict[str, Any]:
    nip = _nip(seq)
    return {
        "nip": nip,
        "nama": f"Pegawai {seq}",
        "tanggal_lahir": f"1970-{nip[4:6]}-{nip[6:8]}",
        "jenis_kelamin": 1,
        "jenis_pegawai": "pns",
        "golongan": "III/b",
        "tmt_pangkat": "2020-04-01",
        "tmt_cpns": "1995-03-01",
        "tmt_pns": None,
        "pendidikan": "s1",
        "jabatan": "Pelaksana",
        "jabatan_kind": "pelaksana",
        "unit_kerja": "Sekretariat",
        "riwayat_pangkat": [],
    }


def _op(device: Device, record: dict[str, Any] | None, data: dict[str, Any]) -> Op:
    if record is None:
        return Op(
            op_id=new_id(),
            table="pegawai",
            record_id=new_id(),
            opd_id=device.enrolment.opd_kode,
            base_version=0,
            changes={k: FieldChange(base=None, new=v) for k, v in data.items()},
            hlc=device.clock.now(),
            device_id=device.device_id,
        )
    return Op(
        op_id=new_id(),
        table="pegawai",
        record_id=record["id"],
        opd_id=record["opd_id"],
        base_version=record["version"],
        changes={k: FieldChange(base=record.get(k), new=v) for k, v in data.items()},
        hlc=device.clock.now(),
        device_id=device.device_id,
    )


async def device_loop(
    device: Device, index: int, deadline: float, stats: Stats, ops_per_push: int, think: float
) -> None:
    shared: dict[str, dict[str, Any]] = {}
    if think:  # devices do not all wake at the same instant
        await asyncio.sleep(think * device.rng.random())
    while time.monotonic() < deadline:
        ops: list[Op] = []
        for _ in range(ops_per_push):
            choice = device.rng.random()
            if not device.own or choice < 0.3:
                device.nip_seq += 1
                ops.append(_op(device, None, _pegawai(index * 1000 + device.nip_seq)))
            elif choice < 0.8 or not shared:
                record = device.rng.choice(device.own)
                ops.append(_op(device, record, {"jabatan": f"Jabatan {device.rng.random():.6f}"}))
            else:
                record = device.rng.choice(list(shared.values()))
                ops.append(_op(device, record, {"unit_kerja": f"Unit {index}"}))
        body = PushRequest(ops=ops).model_dump_json().encode()
        started = time.perf_counter()
        try:
            plain, _ = await device.request("POST", "/v1/sync/push", body)
            stats.record("push", time.perf_counter() - started)
            results = PushResponse.model_validate_json(plain).results
            mine = {r["id"]: i for i, r in enumerate(device.own)}
            for result in results:
                stats.outcomes[result.outcome] = stats.outcomes.get(result.outcome, 0) + 1
                if result.outcome == "refused":
                    stats.refused_ops += 1
                    stats.failures.append(str(result.reason))
                elif result.record is not None:
                    record = dict(result.record)
                    if record["id"] in mine:
                        device.own[mine[record["id"]]] = record
                    elif record["updated_by"] == device.device_id and record["version"] == 1:
                        device.own.append(record)
                        mine[record["id"]] = len(device.own) - 1
        except Exception as exc:
            stats.failed_requests += 1
            stats.failures.append(repr(exc))
        while True:
            target = f"/v1/sync/changes?since={device.since}&limit=500"
            started = time.perf_counter()
            try:
                plain, _ = await device.request("GET", target, None)
            except Exception as exc:
                stats.failed_requests += 1
                stats.failures.append(repr(exc))
                break
            stats.record("pull", time.perf_counter() - started)
            page = ChangesPage.model_validate_json(plain)
            for change in page.changes:
                if change.record.get("updated_by") != device.device_id:
                    shared[change.record_id] = dict(change.record)
                    if len(shared) > 200:
                        shared.pop(next(iter(shared)))
            device.since = page.next_since
            if not page.has_more:
                break
        if think:
            await asyncio.sleep(think * (0.5 + device.rng.random()))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _bench_schema(url: str) -> tuple[str, str]:
    """A fresh PostgreSQL schema for one run: (URL with search_path, schema name)."""
    import psycopg

    schema = f"berkas_bench_{os.urandom(4).hex()}"
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    query = urlencode({"options": f"-csearch_path={schema}"})
    return url + ("&" if "?" in url else "?") + query, schema


def _drop_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _libpq(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


async def run(args: argparse.Namespace) -> int:
    home = Path(tempfile.mkdtemp(prefix="berkas-bench-"))
    base_url: str | None = args.database_url
    schema = None
    if base_url and base_url.startswith("postgres"):
        args.database_url, schema = _bench_schema(base_url)
    try:
        return await _run(args, home)
    finally:
        if base_url and schema:
            _drop_schema(base_url, schema)


async def _run(args: argparse.Namespace, home: Path) -> int:
    settings = ServerSettings.for_home(home, args.database_url)
    # The verifier key pair is the verifikator's; the server gets only the public half.
    init_keys(settings, public_key_b64(generate_x25519()))
    db = open_database(settings.database_url)
    opds = [f"OPD{i:02d}" for i in range(args.opds)]
    codes = []
    for i in range(args.devices):
        kode = opds[i % len(opds)]
        if i < len(opds):
            admin.add_opd(db, kode, f"OPD uji {i}")
        codes.append(admin.issue_enrol_code(db, kode, Role.OPD).code)
    db.dispose()

    ports = [_free_port() for _ in range(args.processes)]
    servers = []
    for port in ports:
        command = [
            sys.executable, "-m", "server.cli", "run", "--home", str(home),
            "--port", str(port), "--log-level", "warning",
        ]  # fmt: skip
        if args.database_url:
            command += ["--database-url", args.database_url]
        servers.append(subprocess.Popen(command, cwd=ROOT))
    balancer = None
    if args.processes > 1:
        haproxy = shutil.which("haproxy")
        if haproxy is None:
            sys.exit("--processes > 1 needs haproxy (apt-get install haproxy)")
        lb_port = _free_port()
        config = home.parent / f"{home.name}-haproxy.cfg"
        config.write_text(haproxy_config(lb_port, ports, maxconn=1024, failover=False))
        balancer = subprocess.Popen([haproxy, "-f", str(config), "-db"])
        base = f"http://127.0.0.1:{lb_port}"
    else:
        base = f"http://127.0.0.1:{ports[0]}"
    backup_facts: dict[str, float] = {}
    try:
        for port in ports:
            for _ in range(300):
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        connector = aiohttp.TCPConnector(limit=args.devices + 10)
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
            devices = []
            for i, code in enumerate(codes):
                keys = generate_device_keys()
                enrol = EnrolRequest(
                    code=code,
                    device_name=f"bench-{i}",
                    signing_key=public_key_b64(keys.ed25519("signing")),
                    encryption_key=public_key_b64(keys.x25519("encryption")),
                )
                async with client.post(f"{base}/v1/enrol", json=enrol.model_dump()) as resp:
                    resp.raise_for_status()
                    enrolment = EnrolResponse.model_validate(await resp.json())
                devices.append(
                    Device(
                        client=client,
                        base=base,
                        keys=keys,
                        enrolment=enrolment,
                        clock=HybridClock(enrolment.device_id),
                        rng=random.Random(i),
                    )
                )
            stats = Stats()
            started = time.monotonic()
            deadline = started + args.seconds
            loops = asyncio.gather(
                *(
                    device_loop(d, i, deadline, stats, args.ops_per_push, args.think_ms / 1000)
                    for i, d in enumerate(devices)
                )
            )
            if args.backup:
                await asyncio.sleep(args.seconds / 2)
                backup_facts = await asyncio.to_thread(_backup, settings, home)
            await loops
            elapsed = time.monotonic() - started
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        if balancer is not None:
            balancer.terminate()
            balancer.wait(timeout=10)
        shutil.rmtree(home.parent / f"{home.name}-cadangan", ignore_errors=True)
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)

    total = sum(len(v) for v in stats.latencies.values())
    kind = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"server_load: {args.devices} devices ({args.opds} OPDs), {elapsed:.1f} s, {kind}, "
        f"{args.processes} process(es){' behind HAProxy' if args.processes > 1 else ''}, "
        f"{args.ops_per_push} ops/push, think {args.think_ms} ms, {os.cpu_count()} CPUs"
    )
    print(f"  requests/s     {total / elapsed:8.1f}   ({total} requests)")
    for name in ("push", "pull"):
        values = stats.latencies.get(name, [])
        if values:
            print(
                f"  {name:<5} n={len(values):<6} p50 {_percentile(values, 0.5) * 1000:6.1f} ms"
                f"   p99 {_percentile(values, 0.99) * 1000:6.1f} ms"
                f"   max {max(values) * 1000:6.1f} ms"
                f"   mean {statistics.mean(values) * 1000:6.1f} ms"
            )
    if backup_facts:
        during = [
            s
            for when, kind, s in stats.finished
            if kind == "push" and backup_facts["start"] <= when <= backup_facts["end"]
        ]
        p99_during = _percentile(during, 0.99) * 1000 if during else 0.0
        print(
            f"  backup         {backup_facts['seconds']:.2f} s, {backup_facts['mb']:.1f} MB, "
            f"{backup_facts['mb'] / max(backup_facts['seconds'], 1e-9):.1f} MB/s; "
            f"push p99 while it ran {p99_during:.1f} ms (n={len(during)})"
        )
    ops = sum(stats.outcomes.values())
    print(f"  ops pushed     {ops}  outcomes {dict(sorted(stats.outcomes.items()))}")
    failed, refused = stats.failed_requests, stats.refused_ops
    print(f"  errors         {failed} failed requests, {refused} refused ops")
    for failure in stats.failures[:5]:
        print(f"    {failure[:160]}")
    p99_push = _percentile(stats.latencies.get("push", []), 0.99) * 1000
    ok = p99_push <= 200 and stats.failed_requests == 0 and stats.refused_ops == 0
    print(f"  budget p99 push <= 200 ms, zero errors: {'OK' if ok else 'NOT MET'}")
    return 0 if ok else 1


def _backup(settings: ServerSettings, home: Path) -> dict[str, float]:
    """`berkas server cadangkan` while the load runs: seconds and MB written."""
    from server.backup import backup

    target = home.parent / f"{home.name}-cadangan"
    start = time.monotonic()
    backup(settings, target)
    end = time.monotonic()
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    return {"start": start, "end": end, "seconds": end - start, "mb": size / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=60)
    parser.add_argument("--opds", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--ops-per-push", type=int, default=5)
    parser.add_argument("--think-ms", type=float, default=1000.0)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the server home afterwards")
    parser.add_argument("--processes", type=int, default=1, help="server processes (HAProxy)")
    parser.add_argument("--backup", action="store_true", help="back up halfway through")
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()

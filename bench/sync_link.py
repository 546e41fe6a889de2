"""Document upload over a slow, cut link: N synthetic scans (100 KB - 1 MB, incompressible)
through the bad-network proxy at RATE with RTT, cut CUTS times at evenly spaced points.

Prints the total time, bytes on the wire against the payload, the bytes re-sent per cut
(measured at the proxy: upstream bytes minus payload minus request heads and bodies), and
the ratio to the physical limit (payload bits / link rate).

Budget (DESIGN.md): total time <= 1.1 x the limit; at most one chunk re-sent per cut.
The full run (300 scans, ~165 MB at 1 Mbit/s) takes about 25 minutes; `make bench` runs
the smaller faithful variant below, which keeps rate, RTT, sizes and cuts.

    .venv/bin/python bench/sync_link.py [--scans 40] [--rate 1M] [--rtt 0.2] [--cuts 3]
    .venv/bin/python bench/sync_link.py --scans 300          # the full run
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from client.config import ClientConfig, save_config  # noqa: E402
from client.paths import resolve_paths  # noqa: E402
from client.sync_service import build_engine, enrol  # noqa: E402
from store.database import open_store  # noqa: E402
from store.models import Blob  # noqa: E402
from sync.engine import EngineSettings  # noqa: E402
from tests.support.netproxy import start_proxy  # noqa: E402
from tests.support.server import start_server  # noqa: E402

TARGET_RATIO = 1.1


def parse_rate(text: str) -> float:
    """Bits per second: 1M, 512k, 2000000."""
    text = text.strip().lower()
    scale = {"k": 1e3, "m": 1e6, "g": 1e9}.get(text[-1:], 1.0)
    return float(text.rstrip("kmg")) * scale


class _Wire:
    """Counts request heads and non-upload bodies as the client hands them to the network."""

    def __init__(self) -> None:
        self.head_bytes = 0
        self.other_body_bytes = 0
        self.requests = 0
        self.patches = 0

    def __call__(self, request: httpx.Request) -> None:
        self.requests += 1
        target = request.url.raw_path.decode()
        head = len(f"{request.method} {target} HTTP/1.1\r\n") + 2
        head += sum(len(k) + len(v) + 4 for k, v in request.headers.raw)
        self.head_bytes += head
        if request.method == "PATCH":
            self.patches += 1
        else:
            self.other_body_bytes += len(request.content)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scans", type=int, default=40)
    parser.add_argument("--rate", type=parse_rate, default=1e6, help="link rate, bits/s")
    parser.add_argument("--rtt", type=float, default=0.2, help="round trip, seconds")
    parser.add_argument("--cuts", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="berkas-link-") as tmp:
        root = Path(tmp)
        server = start_server(root / "server")
        try:
            return run(root, server.url, server.enrol_code("DISDIK"), server.port, args)
        finally:
            server.stop()


def run(root: Path, url: str, code: str, port: int, args: argparse.Namespace) -> int:
    paths = resolve_paths(root / "opd")
    save_config(paths.config, ClientConfig(opd_kode="DISDIK", operator="bench"))
    enrol(paths, url, code, device_name="bench")
    store = open_store(paths.store, opd_id="DISDIK")
    rng = random.Random(args.seed)
    proxy = start_proxy("127.0.0.1", port, rate_bps=args.rate, latency_s=args.rtt / 2)
    engine = build_engine(
        paths,
        store,
        settings=EngineSettings(upload_concurrency=args.concurrency, key_check_interval_s=1e9),
        server_url=proxy.url,
    )
    engine.sync_once()  # key bookkeeping before the clock starts
    scratch = root / "scan.bin"
    plain_total = 0
    for n in range(args.scans):
        size = rng.randint(100_000, 1_000_000)
        scratch.write_bytes(rng.randbytes(size))
        stored = engine.blobs.put(scratch)
        plain_total += size
        with store.apply_remote() as session:
            session.add(
                Blob(
                    sha256=stored.sha256,
                    size=stored.size,
                    cipher_size=stored.cipher_size,
                    created_at=f"{n:06d}",
                )
            )
    # The OPD and verifier stanzas are added before upload (ensure_recipients): do it now
    # so the payload below is exactly what goes up.
    from sync.engine.cipher import ensure_recipients

    cipher_total = 0
    for sha in engine.blobs.stored():
        cipher_total += ensure_recipients(engine.blobs.path_for(sha), engine.keyring)
    wire = _Wire()
    engine.transport.http.event_hooks["request"].append(wire)
    proxy.reset_counters()
    cut_points = [cipher_total * (i + 1) // (args.cuts + 1) for i in range(args.cuts)]
    proxy.cut_at(*cut_points)
    sizes: list[int] = []

    started = time.perf_counter()
    report = engine.sync_once()
    elapsed = time.perf_counter() - started
    sizes.append(engine.sizer.size())
    assert report.ok, report.error
    assert report.uploads.uploaded == args.scans, report.uploads

    limit_s = cipher_total * 8 / args.rate
    body_sent = engine.tus().bytes_sent
    overhead = proxy.bytes_up - cipher_total
    resent_wire = proxy.bytes_up - cipher_total - wire.head_bytes - wire.other_body_bytes
    per_cut = resent_wire / max(1, proxy.cuts)
    chunk = engine.sizer.size()
    ratio = elapsed / limit_s
    print(f"scans:                 {args.scans} ({plain_total / 1e6:.1f} MB plaintext)")
    print(
        f"link:                  {args.rate / 1e6:.2f} Mbit/s, RTT {args.rtt * 1000:.0f} ms, "
        f"{proxy.cuts} cuts at {', '.join(f'{c / 1e6:.1f}' for c in proxy.cut_log)} MB"
    )
    print(f"upload streams:        {args.concurrency}")
    print(f"payload (ciphertext):  {cipher_total:,} bytes")
    print(
        f"bytes sent upstream:   {proxy.bytes_up:,} bytes (+{overhead / cipher_total:.2%}: "
        f"{wire.head_bytes:,} request heads in {wire.requests} requests, "
        f"{wire.patches} PATCH)"
    )
    print(f"PATCH bodies handed to the network: {body_sent:,} bytes")
    print(
        f"re-sent per cut:       {per_cut:,.0f} bytes at the proxy "
        f"({per_cut / chunk:.2f} x the final chunk of {chunk:,} bytes per stream; "
        f"{args.concurrency} streams were in flight)"
    )
    print(f"total time:            {elapsed:.1f} s")
    print(f"physical limit:        {limit_s:.1f} s (payload / link rate)")
    print(f"ratio:                 {ratio:.3f} (target <= {TARGET_RATIO})")
    if args.scans != 300:
        full_s = elapsed * 300 / args.scans
        print(
            f"extrapolated to 300 scans (same mix, linear): about {full_s / 60:.0f} min "
            "(an extrapolation, not a measurement)"
        )
    engine.close()
    store.close()
    proxy.stop()
    ok = ratio <= TARGET_RATIO and per_cut <= args.concurrency * chunk
    print("OK" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

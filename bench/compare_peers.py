"""Berkas against two ordinary ways of sending the same scans over the same bad link.

The same N raw scans, as they come off the scanner (the office-document corpus of
bench/intake.py: letters, decrees, tables, KTP and pas foto as JPEG, scanner PDF and TIFF,
A4 at 300 dpi; made once and cached under /tmp), go through the same bad-network proxy
(tests/support/netproxy.py: RATE shared each way, RTT, CUTS connection resets) on
127.0.0.1 to the server of each peer:

* berkas: intake normalises the scans into the encrypted blob store (the "prep" phase,
  timed apart: in use it happens when the scan arrives, long before a sync), then one
  `sync_once` of the real engine uploads them with tus to the real server. The OPD's
  store holds the corpus' pegawai (each with an usulan KP), as in use: scans named by
  their NIP file themselves, the misnamed ones are read by OCR.
* rclone: `rclone copy` (Debian's rclone, apt-installed here if missing; default
  transfers, retries and low-level retries) to `rclone serve webdav` with no auth.
  WebDAV has no resumable upload: a cut PUT is sent again from byte 0.
* naive: an httpx loop that PUTs each whole file, one at a time, to a small stdlib
  HTTP server and starts the file again from byte 0 after a cut.

Cuts: every peer is cut at the same absolute offsets of the upstream byte stream as the
proxy counts it (payload plus protocol), at i/(CUTS+1) of the smallest payload among the
peers run (Berkas' normalised, encrypted payload when berkas is run; the raw scans
otherwise). So each peer suffers exactly CUTS resets, at identical points of its stream;
a cut costs a peer what it had in flight, which does not depend on where the cut falls.
`--cut-basis own` places them at i/(CUTS+1) of each peer's own payload instead.

Physical limit of a peer = (bytes it had to send / link rate): Berkas' normalised and
encrypted payload, the raw scans for rclone and naive. The second ratio is against the
raw-scan limit, the user-facing one (Berkas sends fewer bytes because it normalises).

The full run (300 scans, ~280 MB raw) takes about 40 minutes per peer at 1 Mbit/s (the
office-document corpus is already compact: intake saves ~10%); `--scans 30` is a faithful
small variant (same corpus mix, rate, RTT and number of cuts), about 15 minutes.

    .venv/bin/python bench/compare_peers.py                         # 300 scans, all three
    .venv/bin/python bench/compare_peers.py --scans 30 --peers berkas,naive
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import logging
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.intake import _dokumen_jobs, build_corpus, nips, seed_pegawai  # noqa: E402
from bench.sync_link import _Wire, parse_rate  # noqa: E402
from client.config import ClientConfig, save_config  # noqa: E402
from client.intake.results import IntakeStatus  # noqa: E402
from client.intake_wiring import intake_service  # noqa: E402
from client.paths import resolve_paths  # noqa: E402
from client.sync_service import build_engine, enrol  # noqa: E402
from store.database import open_store  # noqa: E402
from sync.engine.cipher import ensure_recipients  # noqa: E402
from tests.support.netproxy import Proxy, start_proxy  # noqa: E402
from tests.support.server import start_server  # noqa: E402

PEERS = ("berkas", "rclone", "naive")
BERKAS_VS_RCLONE = 0.3  # issue 18: Berkas' intake plus upload against rclone's wall time
MB = 1e6
_BLOCK = 64 * 1024


# -- the corpus -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    root: Path
    files: list[Path]

    @property
    def total(self) -> int:
        return sum(p.stat().st_size for p in self.files)

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


def raw_corpus(count: int) -> Corpus:
    """The `dokumen` corpus of bench/intake.py, `count` scans, cached under /tmp."""
    folder = Path(tempfile.gettempdir()) / f"berkas-bench-peers-{count}"
    files = build_corpus(folder, _dokumen_jobs(folder, count, nips(100)))
    return Corpus(folder, files)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_arrived(corpus: Corpus, dest: Path) -> None:
    """Every raw scan is at `dest` under its relative name, byte for byte."""
    for src in corpus.files:
        got = dest / corpus.relative(src)
        if not got.is_file() or sha256_of(got) != sha256_of(src):
            raise AssertionError(f"{corpus.relative(src)} did not arrive intact")


# -- results ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    peer: str
    needed: int  # bytes this peer had to send at minimum
    wall_s: float = 0.0
    prep_s: float = 0.0  # local work before the link phase (Berkas intake)
    prep_cpu_s: float = 0.0  # CPU seconds of that work (this process and its workers)
    up: int = 0
    down: int = 0
    cuts: int = 0
    cut_log: list[int] = field(default_factory=list)
    resent: int = 0  # payload bytes delivered to the server and thrown away
    connections: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Link:
    rate: float  # bits per second
    rtt: float

    def proxy(self, port: int) -> Proxy:
        return start_proxy("127.0.0.1", port, rate_bps=self.rate, latency_s=self.rtt / 2)

    def seconds(self, nbytes: int) -> float:
        return nbytes * 8 / self.rate


def _arm(proxy: Proxy, offsets: list[int]) -> None:
    proxy.reset_counters()
    proxy.cut_at(*offsets)


def _read_proxy(proxy: Proxy, out: Outcome) -> None:
    out.up, out.down = proxy.bytes_up, proxy.bytes_down
    out.cuts, out.cut_log = proxy.cuts, list(proxy.cut_log)
    out.connections = proxy.connections


@contextlib.contextmanager
def heartbeat(proxy: Proxy, name: str, needed: int, every: float = 120.0) -> Iterator[None]:
    """A progress line every `every` seconds: a full run is long."""
    stop = threading.Event()
    started = time.perf_counter()

    def beat() -> None:
        while not stop.wait(every):
            print(
                f"  [{name}] {time.perf_counter() - started:5.0f} s: "
                f"{proxy.bytes_up / MB:.1f} of {needed / MB:.1f} MB up, {proxy.cuts} cuts",
                flush=True,
            )

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Peer(Protocol):
    """One way of sending the corpus: set up, say what it must send, send it, tear down."""

    name: str

    def __init__(self, work: Path, corpus: Corpus, link: Link) -> None: ...

    def prepare(self) -> int:
        """Local work before the link phase; returns the bytes that must cross."""
        ...

    def run(self, offsets: list[int]) -> Outcome: ...

    def close(self) -> None: ...


# -- berkas -----------------------------------------------------------------------------------


class BerkasPeer:
    """The real client and server: intake first (prep), then one timed sync."""

    name = "berkas"

    def __init__(self, work: Path, corpus: Corpus, link: Link) -> None:
        self.work = work / "berkas"
        self.corpus = corpus
        self.link = link
        self.server = start_server(self.work / "server")
        self.paths = resolve_paths(self.work / "opd")
        save_config(self.paths.config, ClientConfig(opd_kode="DISDIK", operator="bench"))
        enrol(self.paths, self.server.url, self.server.enrol_code("DISDIK"), device_name="bench")
        self.store = open_store(self.paths.store, opd_id="DISDIK")
        # The OPD's pegawai are in its store (as in use and in bench/intake.py): a scan named
        # by its NIP files itself; only the scans named like "scan_00012.jpg" (15%) are read
        # by OCR. Pushed by the first sync below, before the clock starts.
        seed_pegawai(self.store, nips(100))
        self.proxy = link.proxy(self.server.port)
        # The installation's own engine settings; only the server URL points at the proxy.
        self.engine = build_engine(self.paths, self.store, server_url=self.proxy.url)
        self.engine.sync_once()  # master data and the OPD key, before the clock starts
        self.prep_s = 0.0
        self.prep_cpu_s = 0.0
        self.normalised = 0
        self.statuses: dict[str, int] = {}
        self.payload = 0
        self.blob_count = 0

    def prepare(self) -> int:
        """Intake of every raw scan; returns the encrypted payload the sync must send."""
        folder = self.paths.scans
        for src in self.corpus.files:
            target = folder / self.corpus.relative(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)  # keeps the mtime: stable at once, like a finished scan
        print(f"  [berkas] intake of {len(self.corpus.files)} scans ...", flush=True)
        results = []
        cpu = _cpu_seconds()
        started = time.perf_counter()
        with intake_service(self.paths) as intake:
            while True:
                summary = intake.run_folder(folder)
                results += summary.results
                if not summary.skipped:
                    break
                time.sleep(intake.settings.stable_delay)
        self.prep_s = time.perf_counter() - started
        # The workers have exited with the service: their CPU is in RUSAGE_CHILDREN.
        self.prep_cpu_s = _cpu_seconds() - cpu
        for res in results:
            self.statuses[res.status.value] = self.statuses.get(res.status.value, 0) + 1
        bad = [r for r in results if r.status in (IntakeStatus.QUARANTINED, IntakeStatus.FAILED)]
        if bad or len(results) != len(self.corpus.files):
            raise AssertionError(f"intake took {len(results)} scans, {len(bad)} not stored")
        self.normalised = sum(r.size_after for r in results if r.sha256)
        # What goes up is the local encrypted file as it stands, once wrapped for the OPD
        # and verifier keys (done now, so the payload below is exactly what is sent).
        self.payload = sum(
            ensure_recipients(self.engine.blobs.path_for(sha), self.engine.keyring)
            for sha in self.engine.blobs.stored()
        )
        self.blob_count = sum(1 for _ in self.engine.blobs.stored())
        return self.payload

    def run(self, offsets: list[int]) -> Outcome:
        out = Outcome(self.name, self.payload, prep_s=self.prep_s, prep_cpu_s=self.prep_cpu_s)
        wire = _Wire()
        self.engine.transport.http.event_hooks["request"].append(wire)
        _arm(self.proxy, offsets)
        with heartbeat(self.proxy, self.name, self.payload):
            started = time.perf_counter()
            report = self.engine.sync_once()
            out.wall_s = time.perf_counter() - started
        _read_proxy(self.proxy, out)
        if not report.ok or report.uploads.uploaded != self.blob_count:
            raise AssertionError(f"berkas sync: {report.error} {report.uploads}")
        out.resent = max(0, out.up - self.payload - wire.head_bytes - wire.other_body_bytes)
        streams = self.engine.settings.upload_concurrency
        chunk = self.engine.sizer.size()
        out.notes = [
            f"intake {self.prep_s:.1f} s ({self.prep_cpu_s:.1f} s CPU): "
            f"{self.corpus.total / MB:.1f} MB raw -> "
            f"{self.normalised / MB:.1f} MB normalised -> {self.payload / MB:.1f} MB "
            f"encrypted, {self.blob_count} blobs ("
            + ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items()))
            + ")",
            f"{wire.requests} requests ({wire.patches} tus PATCH), {streams} upload streams; "
            f"after a cut it asks the server for the offset (HEAD) and resumes there; "
            f"final chunk {chunk / 1024:.0f} KiB",
        ]
        return out

    def close(self) -> None:
        self.engine.close()
        self.store.close()
        self.proxy.stop()
        self.server.stop()


# -- rclone -----------------------------------------------------------------------------------


def ensure_rclone() -> str:
    """rclone on PATH, or Debian's rclone installed with apt-get (needs root)."""
    found = shutil.which("rclone")
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit(
            "rclone is not on PATH; install it (apt-get install rclone) or run as root"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "rclone"]
    print("  [rclone] not on PATH: apt-get install -y rclone ...", flush=True)
    done = subprocess.run(install, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, check=True)
        done = subprocess.run(install, env=env, capture_output=True, text=True)
    found = shutil.which("rclone")
    if done.returncode != 0 or not found:
        raise SystemExit(f"could not install rclone:\n{done.stdout}{done.stderr}")
    return found


def _wait_http(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code < 500:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


@dataclass(frozen=True)
class _Dumped:
    method: str
    path: str
    head_bytes: int
    body_bytes: int  # the request's Content-Length


def dumped_requests(log: str) -> list[_Dumped]:
    """The requests `rclone --dump headers` logged: request line and headers of each, the
    first line behind the log prefix, the block ended by the blank line."""
    found: list[_Dumped] = []
    lines = log.split("\n")
    for i, line in enumerate(lines):
        if not re.search(r"DEBUG : HTTP REQUEST \(req [^)]*\)$", line):
            continue
        head: list[str] = []
        for raw in lines[i + 1 :]:
            text = _LOG_PREFIX.sub("", raw.rstrip("\r"), count=1) if not head else raw
            text = text.rstrip("\r")
            if not text:
                break
            head.append(text)
        first = head[0].split(" ") if head else []
        if len(first) != 3 or not first[2].startswith("HTTP/"):
            continue
        length = 0
        for header in head[1:]:
            key, _, value = header.partition(":")
            if key.strip().lower() == "content-length" and value.strip().isdigit():
                length = int(value.strip())
        found.append(
            _Dumped(
                method=first[0],
                path=unquote(urlsplit(first[1]).path),
                head_bytes=sum(len(h) + 2 for h in head) + 2,
                body_bytes=length,
            )
        )
    return found


_LOG_PREFIX = re.compile(r"^\S+ \S+ DEBUG : ")


class RclonePeer:
    """`rclone copy` to `rclone serve webdav`, both Debian's rclone with its defaults."""

    name = "rclone"

    def __init__(self, work: Path, corpus: Corpus, link: Link) -> None:
        self.work = work / "rclone"
        self.corpus = corpus
        self.link = link
        self.exe = ensure_rclone()
        self.version = subprocess.run(
            [self.exe, "version"], capture_output=True, text=True
        ).stdout.splitlines()[0]
        self.dest = self.work / "dest"
        self.dest.mkdir(parents=True)
        self.config = self.work / "rclone.conf"  # empty: no remotes, nothing from ~
        self.config.write_text("")
        self.port = _free_port()
        self.serve_log = self.work / "serve.log"
        with self.serve_log.open("wb") as log:
            self.serve = subprocess.Popen(
                [
                    self.exe,
                    "serve",
                    "webdav",
                    "--addr",
                    f"127.0.0.1:{self.port}",
                    "--config",
                    str(self.config),
                    str(self.dest),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait_http(f"http://127.0.0.1:{self.port}/")
        self.proxy = link.proxy(self.port)

    def prepare(self) -> int:
        return self.corpus.total

    def run(self, offsets: list[int]) -> Outcome:
        out = Outcome(self.name, self.corpus.total)
        log = self.work / "copy.log"
        command = [
            self.exe,
            "copy",
            str(self.corpus.root),
            ":webdav:",
            "--webdav-url",
            self.proxy.url,
            "--config",
            str(self.config),
            "--exclude",
            "/.done",  # build_corpus's marker, not a scan
            "--dump",
            "headers",  # every request in the log: counts the PUTs of each file
            "--log-file",
            str(log),
        ]
        _arm(self.proxy, offsets)
        with heartbeat(self.proxy, self.name, out.needed):
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True)
            out.wall_s = time.perf_counter() - started
        _read_proxy(self.proxy, out)
        text = log.read_text(errors="replace")
        if done.returncode != 0:
            raise AssertionError(f"rclone copy exit {done.returncode}; see {log}")
        check_arrived(self.corpus, self.dest)
        requests = dumped_requests(text)
        puts: dict[str, int] = {}
        for req in requests:
            if req.method == "PUT":
                puts[req.path] = puts.get(req.path, 0) + 1
        restarted = {k: v for k, v in puts.items() if v > 1}
        heads = sum(r.head_bytes for r in requests)
        other_bodies = sum(r.body_bytes for r in requests if r.method != "PUT")
        out.resent = max(0, out.up - out.needed - heads - other_bodies)
        retries = len(re.findall(r"Received error: .* - low level retry", text))
        deletes = sum(1 for r in requests if r.method == "DELETE")
        attempts = re.findall(r"Attempt (\d+)/(\d+)", text)
        errors = sum(1 for line in text.splitlines() if " ERROR : " in line)
        out.notes = [
            f"{self.version}, defaults (4 transfers, --retries 3, --low-level-retries 10); "
            f"{len(requests)} requests, {sum(puts.values())} PUTs for "
            f"{len(self.corpus.files)} files",
            f"after a cut: every PUT in flight fails, rclone DELETEs the partial file and "
            f"PUTs it again from byte 0 ({retries} low-level retries, {deletes} DELETEs, "
            f"{len(restarted)} files sent more than once, "
            f"{sum(restarted.values()) - len(restarted)} extra PUTs); "
            f"{len(attempts) or 1} whole-copy attempt(s), {errors} ERROR lines",
        ]
        return out

    def close(self) -> None:
        self.proxy.stop()
        self.serve.terminate()
        try:
            self.serve.wait(10)
        except subprocess.TimeoutExpired:
            self.serve.kill()
            self.serve.wait()


# -- naive ------------------------------------------------------------------------------------


class _Sink(ThreadingHTTPServer):
    """Takes whole-file PUTs; counts every body byte that arrives, kept or not."""

    daemon_threads = True

    def __init__(self, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), _SinkHandler)
        self.root = root.resolve()
        self.lock = threading.Lock()
        self.body_bytes = 0
        self.puts = 0
        self.aborted = 0

    def count(self, n: int) -> None:
        with self.lock:
            self.body_bytes += n


class _SinkHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Sink

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_PUT(self) -> None:
        sink = self.server
        with sink.lock:
            sink.puts += 1
        length = int(self.headers.get("Content-Length", "0"))
        target = (sink.root / unquote(urlsplit(self.path).path).lstrip("/")).resolve()
        if not target.is_relative_to(sink.root):
            self.send_error(403)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".part")
        got = 0
        try:
            with part.open("wb") as fh:
                while got < length:
                    data = self.rfile.read1(min(_BLOCK, length - got))
                    if not data:
                        break
                    fh.write(data)
                    got += len(data)
                    sink.count(len(data))
        except OSError:
            pass
        if got < length:  # cut mid-body: the client starts this file again from byte 0
            part.unlink(missing_ok=True)
            with sink.lock:
                sink.aborted += 1
            self.close_connection = True
            return
        os.replace(part, target)
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()


def _file_body(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            yield block


class NaivePeer:
    """One httpx PUT per whole file, in turn; after a cut, the same file from byte 0."""

    name = "naive"
    max_attempts = 50

    def __init__(self, work: Path, corpus: Corpus, link: Link) -> None:
        self.dest = work / "naive"
        self.corpus = corpus
        self.sink = _Sink(self.dest)
        self.thread = threading.Thread(target=self.sink.serve_forever, daemon=True)
        self.thread.start()
        self.proxy = link.proxy(self.sink.server_address[1])

    def prepare(self) -> int:
        return self.corpus.total

    def run(self, offsets: list[int]) -> Outcome:
        out = Outcome(self.name, self.corpus.total)
        restarts: list[str] = []
        # Generous read timeout: the client's socket buffer can hold seconds of data at
        # 1 Mbit/s before the server's answer can come back.
        timeout = httpx.Timeout(300.0, connect=30.0)
        _arm(self.proxy, offsets)
        with (
            heartbeat(self.proxy, self.name, out.needed),
            httpx.Client(base_url=self.proxy.url, timeout=timeout) as http,
        ):
            started = time.perf_counter()
            for path in self.corpus.files:
                rel = self.corpus.relative(path)
                for _ in range(self.max_attempts):
                    try:
                        response = http.put(
                            "/" + quote(rel),
                            content=_file_body(path),
                            headers={"Content-Length": str(path.stat().st_size)},
                        )
                        response.raise_for_status()
                        break
                    except httpx.TransportError:
                        restarts.append(rel)
                else:
                    raise AssertionError(f"naive: {rel} failed {self.max_attempts} times")
            out.wall_s = time.perf_counter() - started
        _read_proxy(self.proxy, out)
        check_arrived(self.corpus, self.dest)
        out.resent = self.sink.body_bytes - out.needed
        out.notes = [
            f"{self.sink.puts} PUTs for {len(self.corpus.files)} files, one at a time",
            f"after the cuts: {len(set(restarts))} files sent again from byte 0 "
            f"({len(restarts)} restarts, {self.sink.aborted} bodies cut short at the server)",
        ]
        return out

    def close(self) -> None:
        self.proxy.stop()
        self.sink.shutdown()
        self.sink.server_close()


# -- the run ----------------------------------------------------------------------------------


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def cut_offsets(basis: int, cuts: int) -> list[int]:
    return [basis * (i + 1) // (cuts + 1) for i in range(cuts)]


def print_table(results: list[Outcome], raw: int, link: Link, scans: int) -> None:
    raw_limit = link.seconds(raw)
    head = (
        f"{'peer':<7} {'must send':>10} {'wire up':>10} {'wire down':>10} {'up/must':>8} "
        f"{'cuts':>4} {'re-sent':>9} {'wall':>8} {'limit':>8} {'wall/limit':>10} "
        f"{'wall/raw limit':>14}"
    )
    print()
    print(head)
    print("-" * len(head))
    for r in results:
        limit = link.seconds(r.needed)
        print(
            f"{r.peer:<7} {r.needed / MB:>7.1f} MB {r.up / MB:>7.1f} MB {r.down / MB:>7.2f} MB "
            f"{r.up / r.needed:>8.3f} {r.cuts:>4} {r.resent / MB:>6.2f} MB "
            f"{r.wall_s:>6.0f} s {limit:>6.0f} s {r.wall_s / limit:>10.3f} "
            f"{r.wall_s / raw_limit:>14.3f}"
        )
    print()
    print(
        f"must send = the least this peer had to send (limit = must send / link rate); "
        f"raw limit = {raw / MB:.1f} MB raw scans / link rate = {raw_limit:.0f} s"
    )
    print("re-sent = payload bytes that reached the server and were thrown away after cuts")
    for r in results:
        if r.prep_s:
            print(
                f"{r.peer}: with its intake ({r.prep_s:.0f} s of local work before the link) "
                f"{r.wall_s + r.prep_s:.0f} s = {(r.wall_s + r.prep_s) / raw_limit:.3f} x "
                "the raw limit"
            )
    by_peer = {r.peer: r for r in results}
    if "berkas" in by_peer:
        berkas = by_peer["berkas"]
        for other in results:
            if other.peer != "berkas" and other.wall_s:
                total = berkas.wall_s + berkas.prep_s
                print(
                    f"berkas (intake + upload, {total:.0f} s) / {other.peer} "
                    f"({other.wall_s:.0f} s): {total / other.wall_s:.3f} "
                    f"(issue 18 target vs rclone: <= {BERKAS_VS_RCLONE})"
                )
                # On a shared machine the intake's wall time is mostly its neighbours':
                # its CPU seconds over the two intake workers give its time on idle cores.
                idle = berkas.wall_s + berkas.prep_cpu_s / 2
                print(
                    f"  with the intake at its CPU time over 2 idle cores "
                    f"({berkas.prep_cpu_s:.0f} s CPU / 2): {idle:.0f} s / {other.wall_s:.0f} s "
                    f"= {idle / other.wall_s:.3f}; load {os.getloadavg()[0]:.1f}"
                )
    for r in results:
        where = ", ".join(f"{c / MB:.2f}" for c in r.cut_log)
        print(f"\n{r.peer}: cut at {where} MB upstream; {r.connections} TCP connections")
        for note in r.notes:
            print(f"  {note}")
    if scans != 300:
        factor = 300 / scans
        print(
            "\nEXTRAPOLATION to 300 scans, not a measurement: bytes and per-file work scale "
            f"with the scans (x{factor:g}); the cuts stay {results[0].cuts if results else 0}, "
            "so the link time of the re-sent bytes is not scaled (reconnects and backoff after "
            "a cut are, which makes this a little pessimistic):"
        )
        for r in results:
            cut_s = link.seconds(r.resent)
            est = (r.wall_s - cut_s) * factor + cut_s
            limit = link.seconds(r.needed) * factor
            print(
                f"  {r.peer:<7} about {est / 60:.0f} min on the link = {est / limit:.3f} x its "
                f"limit, {est / (raw_limit * factor):.3f} x the raw limit"
                + (f"; intake about {r.prep_s * factor / 60:.0f} min before" if r.prep_s else "")
            )
        print(f"  (raw limit {raw_limit * factor / 60:.0f} min for {raw * factor / MB:.0f} MB)")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:]) if __doc__ else None,
    )
    parser.add_argument("--scans", type=int, default=300)
    parser.add_argument("--rate", type=parse_rate, default=1_000_000, help="bits/s (1M, 512k)")
    parser.add_argument("--rtt", type=float, default=0.2, help="round trip, seconds")
    parser.add_argument("--cuts", type=int, default=3)
    parser.add_argument(
        "--peers", default=",".join(PEERS), help="comma-separated: " + ",".join(PEERS)
    )
    parser.add_argument(
        "--cut-basis",
        choices=("smallest", "own"),
        default="smallest",
        help="cut offsets from the smallest payload of the peers run (same offsets for "
        "all), or from each peer's own payload",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="work in this folder and keep it (logs, received files); default a temp dir",
    )
    args = parser.parse_args()
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = sorted(set(peers) - set(PEERS))
    if unknown or not peers:
        parser.error(f"unknown peers: {', '.join(unknown)}; choose from {', '.join(PEERS)}")
    logging.basicConfig(level=logging.WARNING)
    link = Link(args.rate, args.rtt)

    corpus = raw_corpus(args.scans)
    raw = corpus.total
    kinds: dict[str, int] = {}
    for path in corpus.files:
        kinds[path.suffix] = kinds.get(path.suffix, 0) + 1
    print(
        f"scans: {len(corpus.files)} raw ({raw / MB:.1f} MB: "
        + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        + f") from {corpus.root}"
    )
    print(
        f"link:  {args.rate / 1e6:g} Mbit/s each way, RTT {args.rtt * 1000:.0f} ms, "
        f"{args.cuts} cuts; peers {', '.join(peers)}"
    )

    classes: dict[str, type[Peer]] = {
        "berkas": BerkasPeer,
        "rclone": RclonePeer,
        "naive": NaivePeer,
    }
    results: list[Outcome] = []
    with contextlib.ExitStack() as stack:
        if args.keep is not None:
            work = args.keep.resolve()
            work.mkdir(parents=True, exist_ok=False)
        else:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="berkas-peers-")))
        # Every peer is set up (Berkas' intake run, rclone installed) before any is timed:
        # the common cut offsets come from the smallest payload.
        running: list[tuple[Peer, int]] = []
        closed: set[int] = set()

        def close_once(peer: Peer) -> None:
            if id(peer) not in closed:
                closed.add(id(peer))
                peer.close()

        for name in peers:
            peer = classes[name](work, corpus, link)
            stack.callback(close_once, peer)
            running.append((peer, peer.prepare()))
        basis = min(needed for _, needed in running)
        if args.cut_basis == "smallest":
            print(
                "cuts:  at "
                + ", ".join(f"{o:,}" for o in cut_offsets(basis, args.cuts))
                + f" bytes of each peer's upstream stream (i/{args.cuts + 1} of the smallest "
                f"payload, {basis:,} bytes)"
            )
        else:
            print(f"cuts:  at i/{args.cuts + 1} of each peer's own payload")
        for peer, needed in running:
            offsets = cut_offsets(basis if args.cut_basis == "smallest" else needed, args.cuts)
            print(f"\n== {peer.name}: sending {needed / MB:.1f} MB ...", flush=True)
            result = peer.run(offsets)
            print(
                f"   {peer.name}: {result.wall_s:.1f} s, {result.up / MB:.1f} MB up, "
                f"{result.cuts} cuts",
                flush=True,
            )
            results.append(result)
            close_once(peer)  # its servers go before the next peer's turn
    print_table(results, raw, link, args.scans)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Crash-safety harness: run the client's sync (or scan intake) in a child process, kill it
with SIGKILL at random moments, start it again, and check that nothing was lost, applied
twice or left half-written. Used by tests/e2e/test_crash.py (a few kills, in `make test`)
and bench/crash.py (hundreds).

Each scenario owns a real server (in this process) and enrolled client homes. Between kills,
with the child dead, this process makes new local work (edits through the store, so they
are in the outbox, documents in the blob store, scans in the scan folder), records what it
made, then starts the child (tests/e2e/crash_child.py) and kills its whole process group
(the conversion workers included) after a random delay. After every kill it checks what must
hold at any instant; after the last one it lets the child finish and checks the end state:

sync:   PRAGMA integrity_check ok; an op leaves the outbox only once the server holds it;
        every op made reaches the server exactly once (op log == ops made, record versions
        == ops per record, status moves == submissions); the device's replica equals the
        server's; every document is uploaded once and complete; no orphan or partial blob.
intake: PRAGMA integrity_check ok; every scan is in its folder, or filed (a Dokumen or Kotak
        masuk item referencing its blob) with the original in diproses/, never both, never
        neither, never twice; every blob file has its Blob row and decrypts to its address;
        no staging leftovers; the final sync brings every document and record to the server.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import col
from sqlmodel import select as sql_select

from client.config import load_config, save_config
from client.intake import IntakeSettings, PollingMode
from client.paths import Paths
from server.models import StatusMove, StoredFile
from store import usulan as wf
from store.blobs import BlobStore
from store.database import Store, open_store
from store.models import Blob, Dokumen, InboxItem, OutboxEntry, Pegawai, Usulan
from store.rules import Layanan, checklist
from store.usulan import unsent_blobs
from tests.e2e.helpers_replicas import (
    replica_differences,
    server_op_log,
    server_records,
    sqlite_health,
)
from tests.support import scans as scan_files
from tests.support.netproxy import Proxy, start_proxy
from tests.support.server import RunningServer, start_server
from tests.sync.engine.conftest import Device, DeviceFactory, open_device, random_bytes

REPO_ROOT = Path(__file__).resolve().parents[2]
MAX_DELAY_S = 1.5  # kills land 0 .. this many seconds into a child's work
OPD = "DISDIK"
# The link between the child and the server: slow enough that a round's documents take a
# good part of a second, so kills land inside uploads too.
LINK_BPS = 8_000_000
LINK_LATENCY_S = 0.003
# New work waits while this many ops are still pending from before: long runs keep each
# restart's work near what a kill interrupts, instead of piling it up.
BACKLOG_LIMIT = 40

# Known bug, pinned by test_crash.py::test_intake_start_clears_what_a_killed_pdf_save_leaves:
# pikepdf saves a normalised PDF through a temp file ".pikepdf.<target name><random>" beside
# the target (blobs/tmp); a kill during that save leaves it, and no sweep takes it (they look
# for "*.part"). While True such files are counted (figure "pikepdf_leftovers") instead of
# failing the run; set to False once fixed.
KNOWN_BUG_PIKEPDF_TEMP = False
_PIKEPDF_TEMP = re.compile(r"^\.pikepdf\.")

Echo = Callable[[str], None]


def _quiet(_text: str) -> None:
    return None


def nip_for(n: int) -> str:
    """A distinct, well-formed NIP for the n-th pegawai a scenario makes."""
    born = date(1980, 1, 1) + timedelta(days=n // 999)
    return f"{born:%Y%m%d}200501{1 + n % 2}{n % 999 + 1:03d}"


# -- the report ---------------------------------------------------------------------------------


@dataclass
class CrashReport:
    """What one scenario did and found; `failures` empty means every invariant held."""

    scenario: str
    kills: int = 0
    restarts: int = 0
    mid_step: int = 0  # kills inside a sync / intake pass (its "begin" without its "end")
    mid_work: int = 0  # kills that left work pending (ops, uploads, scans) for the restart
    seconds: float = 0.0
    figures: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, list[str]] = field(default_factory=dict)

    def check(self, name: str, problems: list[str]) -> None:
        """Record invariant `name`; problems accumulate over kills."""
        self.checks.setdefault(name, []).extend(problems)

    @property
    def failures(self) -> list[str]:
        out = []
        for name, problems in self.checks.items():
            if problems:
                shown = "; ".join(problems[:6])
                more = f" (+{len(problems) - 6} more)" if len(problems) > 6 else ""
                out.append(f"{self.scenario}: {name}: {shown}{more}")
        return out

    def lines(self) -> list[str]:
        out = [
            f"[{self.scenario}] kills={self.kills} restarts={self.restarts} "
            f"kills_inside_a_step={self.mid_step} kills_with_work_pending={self.mid_work} "
            f"time={self.seconds:.1f}s",
        ]
        if self.figures:
            out.append(
                f"[{self.scenario}] " + " ".join(f"{k}={v}" for k, v in self.figures.items())
            )
        for name, problems in self.checks.items():
            verdict = "ok" if not problems else f"FAILED ({len(problems)}): {problems[0]}"
            out.append(f"[{self.scenario}]   {name}: {verdict}")
        return out


# -- the child process --------------------------------------------------------------------------

_STEP = re.compile(
    r"^(?P<t>[0-9.]+) (?P<what>begin|end) (?P<kind>sync|pass) (?P<n>\d+)(?P<rest>.*)$"
)


def _group_alive(pgid: int) -> bool:
    """Whether a process of group `pgid` still runs (zombies waiting to be reaped do not)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


@dataclass
class Child:
    """One run of crash_child: its own process group (`pid` leads it) and its log."""

    pid: int
    log: Path
    popen: subprocess.Popen[bytes] | None = None  # when started by exec, not by the fork server

    def text(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def running(self) -> bool:
        if self.popen is not None:
            return self.popen.poll() is None
        try:
            os.kill(self.pid, 0)  # the fork server reaps its children at once
        except ProcessLookupError:
            return False
        return _group_alive(self.pid) or " exit " not in self.text()

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready\n" in self.text():
                return
            if not self.running():
                raise RuntimeError(f"child ended before it was ready:\n{self.text()}")
            time.sleep(0.003)
        self.kill()
        raise RuntimeError(f"child not ready in {timeout} s:\n{self.text()}")

    def kill(self) -> None:
        """SIGKILL the child's whole process group: it and its conversion workers, at once,
        as a power cut would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait(timeout=30)
        deadline = time.monotonic() + 10
        while _group_alive(self.pid) and time.monotonic() < deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            time.sleep(0.005)

    def finish(self, timeout: float = 180.0) -> int:
        """Wait for a child that ends by itself; its exit code (-9 if it had to be killed)."""
        if self.popen is not None:
            try:
                return self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return -9
        deadline = time.monotonic() + timeout
        while self.running():
            if time.monotonic() > deadline:
                self.kill()
                return -9
            time.sleep(0.02)
        match = re.search(r" exit (-?\d+)\n", self.text())
        return int(match.group(1)) if match else -1

    def steps(self) -> list[tuple[str, float, str]]:
        """(begin|end, monotonic time, rest of line) of each step the child printed."""
        out = []
        for line in self.text().splitlines():
            match = _STEP.match(line)
            if match:
                out.append((match["what"], float(match["t"]), match["rest"]))
        return out

    def killed_inside_a_step(self) -> bool:
        steps = self.steps()
        return bool(steps) and steps[-1][0] == "begin"


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.pop("BERKAS_HOME", None)
    return env


class Launcher:
    """Starts crash_child runs. By default through a fork server (one interpreter that has
    imported everything and forks a fresh process per run: a run starts in milliseconds, not
    the two seconds of Python imports); with `exec_each=True` as a new interpreter each time
    (`python -m tests.e2e.crash_child ...`). Either way each run opens the home afresh, in its
    own process group, and a kill takes the whole group."""

    def __init__(self, *, exec_each: bool = False) -> None:
        self.exec_each = exec_each
        self._server: subprocess.Popen[str] | None = None
        if not exec_each:
            self._server = subprocess.Popen(
                [sys.executable, "-m", "tests.e2e.crash_child", "serve"],
                cwd=REPO_ROOT,
                env=_child_env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        self._serving = False  # its imports run while the caller sets up

    def start(self, mode: str, home: Path, how: str, log: Path) -> Child:
        log.parent.mkdir(parents=True, exist_ok=True)
        if self._server is None:
            with log.open("wb") as out:
                popen = subprocess.Popen(
                    [sys.executable, "-m", "tests.e2e.crash_child", mode, str(home), how],
                    cwd=REPO_ROOT,
                    env=_child_env(),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: one killpg takes it all
                )
            return Child(popen.pid, log, popen)
        assert self._server.stdin is not None and self._server.stdout is not None
        if not self._serving:
            line = self._server.stdout.readline()
            if line.strip() != "serving":
                raise RuntimeError(f"fork server did not start: {line!r}")
            self._serving = True
        self._server.stdin.write(f"{log}\t{mode}\t{home}\t{how}\n")
        self._server.stdin.flush()
        reply = self._server.stdout.readline()
        try:
            return Child(int(reply), log)
        except ValueError:
            raise RuntimeError(f"fork server answered {reply!r}") from None

    def close(self) -> None:
        if self._server is not None:
            assert self._server.stdin is not None
            with contextlib.suppress(OSError):
                self._server.stdin.close()
            try:
                self._server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._server.kill()
                self._server.wait(timeout=10)
            self._server = None


class KillClock:
    """When to kill: uniformly over the child's first step of work (the one that does what
    piled up while it was dead), a little past it so that some runs finish, and never later
    than MAX_DELAY_S. It learns the step's length from the children: from those that
    finished it, and, from those killed inside it, that it is longer than they lived."""

    def __init__(self, rng: random.Random, guess: float = 1.0) -> None:
        self.rng = rng
        self.work_s = guess

    def delay(self) -> float:
        return self.rng.uniform(0.0, min(MAX_DELAY_S, 1.2 * self.work_s + 0.05))

    def learn(self, child: Child, lived: float) -> None:
        ends = [at for what, at, _rest in child.steps() if what == "end"]
        ready = [
            float(line.split()[0]) for line in child.text().splitlines() if line.endswith(" ready")
        ]
        if ends and ready:
            self.work_s = 0.5 * self.work_s + 0.5 * max(0.05, ends[0] - ready[0])
        else:
            self.work_s = max(self.work_s, 1.2 * lived)


def pikepdf_leftovers(blobs_root: Path) -> list[Path]:
    return [p for p in (blobs_root / "tmp").glob(".pikepdf.*") if _PIKEPDF_TEMP.match(p.name)]


def _blob_leftovers(blobs_root: Path) -> list[str]:
    """Files in the blob folder that are neither a stored blob nor the staging folder."""
    known = set(pikepdf_leftovers(blobs_root)) if KNOWN_BUG_PIKEPDF_TEMP else set()
    odd = []
    for path in blobs_root.rglob("*"):
        rel = path.relative_to(blobs_root)
        if path.is_dir() or path in known:
            continue
        if (
            len(rel.parts) == 2
            and re.fullmatch(r"[0-9a-f]{2}", rel.parts[0])
            and re.fullmatch(r"[0-9a-f]{64}\.blob", rel.parts[1])
        ):
            continue
        odd.append(str(rel))
    return odd


def blob_store_problems(
    store: Store, blobs: BlobStore, *, final: bool, verified: set[str] | None = None
) -> list[str]:
    """Blob rows and blob files must match one to one and every file must decrypt to its
    address. Right after a kill a file may briefly lack its row (stored, row not yet
    committed: the scan is still in its folder and will be taken again) and staging files
    may remain; at the end neither may. `verified` (shas known good, as files never change
    once stored) saves decrypting them again after every kill."""
    with store.read() as session:
        rows = {b.sha256: b for b in session.exec(sql_select(Blob))}
    files = set(blobs.stored())
    problems = []
    for sha in sorted(rows.keys() - files):
        problems.append(f"Blob row {sha[:12]} has no file")
    for sha in sorted(files & rows.keys()):
        if verified is not None and sha in verified:
            continue
        if blobs.verify(sha):
            if verified is not None:
                verified.add(sha)
        else:
            problems.append(f"blob {sha[:12]} does not decrypt to its address")
    if final:
        for sha in sorted(files - rows.keys()):
            problems.append(f"orphan blob file {sha[:12]} (no Blob row)")
        problems += [f"leftover in blob store: {name}" for name in _blob_leftovers(blobs.root)]
    return problems


# -- sync under kills ---------------------------------------------------------------------------


def kill_one(
    launcher: Launcher,
    clock: KillClock,
    report: CrashReport,
    what: tuple[str, Path, Path],
    *,
    restart: bool,
    after_kill: Callable[[Child], None],
) -> tuple[float, bool]:
    """Start `what` (scenario, data folder, log) looping, SIGKILL it at the clock's next
    moment, check what the kill left; returns the delay and whether it hit inside a step."""
    scenario, data, log = what
    child = launcher.start(scenario, data, "--loop", log)
    if restart:
        report.restarts += 1
    child.wait_ready()
    delay = clock.delay()
    time.sleep(delay)
    child.kill()
    report.kills += 1
    clock.learn(child, delay)
    after_kill(child)
    return delay, child.killed_inside_a_step()


class SyncCrash:
    """Device A's sync is killed again and again while A keeps making edits and documents
    and device B (in this process) edits other fields of A's records and syncs."""

    def __init__(self, root: Path, seed: int, launcher: Launcher, echo: Echo = _quiet) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.launcher = launcher
        self.echo = echo
        self.report = CrashReport("sync")
        self.clock = KillClock(self.rng, guess=0.8)
        self.server: RunningServer = start_server(root / "server")
        self.proxy: Proxy = start_proxy(
            "127.0.0.1", self.server.port, rate_bps=LINK_BPS, latency_s=LINK_LATENCY_S
        )
        self.factory = DeviceFactory(root, self.server, self.proxy.url)
        a = self.factory("a")
        self.b = self.factory("b")
        for device in (a, self.b, a):  # A makes the OPD key, B waits for it, A wraps it
            report = device.sync()
            assert report.ok, report.error
        self.a_paths: Paths = a.paths
        self.a_device_id = a.engine.facts.device_id
        self.b_device_id = self.b.engine.facts.device_id
        a.close()
        self.ops: dict[str, set[str]] = {"a": set(), "b": set()}
        self.ops_per_record: Counter[tuple[str, str]] = Counter()
        self.expected: dict[tuple[str, str], dict[str, Any]] = {}
        self.a_pegawai: list[str] = []
        self.draft_usulan: list[str] = []
        self.submitted = 0
        self.blob_bytes = 0
        self.nip_counter = 0
        self.edit_counter = 0
        self.backlog = 0  # ops still in A's outbox after the last kill

    def close(self) -> None:
        for device in self.factory.made:
            device.close()
        self.proxy.stop()
        self.server.stop()

    # -- the work made between kills ---------------------------------------------------

    def _value(self, tag: str) -> str:
        self.edit_counter += 1
        return f"{tag} {self.edit_counter}"

    def _note_outbox(self, device: Device, who: str) -> None:
        with device.store.read() as session:
            for entry in session.exec(sql_select(OutboxEntry)):
                if entry.op_id not in self.ops[who]:
                    self.ops[who].add(entry.op_id)
                    self.ops_per_record[(entry.table_name, entry.record_id)] += 1

    def _blob(self, device: Device, low: int, high: int) -> tuple[str, int]:
        size = self.rng.randint(low, high)
        sha = device.store_scan(random_bytes(size, self.rng.randrange(1 << 30)), "scan.bin")
        self.blob_bytes += size
        return sha, size

    def make_work(self, round_no: int) -> None:
        a = open_device(self.a_paths, self.proxy.url)
        try:
            self._a_work(a, round_no)
            self._note_outbox(a, "a")
        finally:
            a.close()
        self._b_work()

    def _a_work(self, a: Device, round_no: int) -> None:
        rng = self.rng
        for _ in range(2):
            self.nip_counter += 1
            pid = a.add_pegawai(nip_for(self.nip_counter), nama=f"Pegawai {self.nip_counter}")
            self.a_pegawai.append(pid)
        for _ in range(rng.randint(4, 8)):
            pid = rng.choice(self.a_pegawai)
            fields = rng.sample(["jabatan", "nama"], rng.randint(1, 2))
            values = {name: self._value(f"A {name}") for name in fields}
            a.edit(Pegawai, pid, **values)
            self.expected.setdefault(("pegawai", pid), {}).update(values)
        with a.store.write() as session:
            pegawai = session.get(Pegawai, rng.choice(self.a_pegawai))
            assert pegawai is not None
            usulan = wf.create_usulan(session, pegawai, "kp", "reguler")
            session.flush()
            self.draft_usulan.append(usulan.id)
        # A large document for one draft, small ones elsewhere: uploads under kills.
        uid = rng.choice(self.draft_usulan)
        sha, size = self._blob(a, 60_000, 300_000)
        self._attach(a, uid, rng.choice(_KP_KODES), sha, size)
        if round_no % 2 == 1 and len(self.draft_usulan) > 1:
            # Complete another draft with small documents and submit it: a status move
            # (and its history entry) that must reach the server exactly once.
            uid = self.draft_usulan.pop(0)
            for kode in wf.required_kodes("kp", "reguler", []):
                sha, size = self._blob(a, 3_000, 15_000)
                self._attach(a, uid, kode, sha, size)
            with a.store.write() as session:
                usulan_row = session.get(Usulan, uid)
                assert usulan_row is not None
                wf.ajukan(session, usulan_row)
                catatan = self._value("A catatan")
                usulan_row.catatan = catatan
                session.add(usulan_row)
            self.expected.setdefault(("usulan", uid), {}).update(
                {"status": "diajukan", "catatan": catatan}
            )
            self.submitted += 1

    def _attach(self, a: Device, usulan_id: str, kode: str, sha: str, size: int) -> None:
        """File a stored document; filing a kind again tombstones the earlier dokumen."""
        with a.store.write() as session:
            usulan = session.get(Usulan, usulan_id)
            assert usulan is not None
            wf.attach_dokumen(session, usulan, kode, sha256=sha, size=size, pages=1)

    def _b_work(self) -> None:
        b = self.b
        report = b.sync()
        self.report.check("B syncs cleanly", [] if report.ok else [str(report.error)])
        with b.store.read() as session:
            known = [
                p.id
                for p in session.exec(sql_select(Pegawai).where(col(Pegawai.version) > 0))
                if p.id in set(self.a_pegawai)
            ]
        for pid in self.rng.sample(known, min(len(known), self.rng.randint(1, 3))):
            value = self._value("B unit")
            b.edit(Pegawai, pid, unit_kerja=value)
            self.expected.setdefault(("pegawai", pid), {})["unit_kerja"] = value
        self._note_outbox(b, "b")
        report = b.sync()
        self.report.check("B syncs cleanly", [] if report.ok else [str(report.error)])

    # -- what must hold after any kill ----------------------------------------------------

    def after_kill(self, child: Child) -> None:
        report = self.report
        report.check("store healthy after every kill", sqlite_health(self.a_paths.store))
        store = open_store(self.a_paths.store)
        try:
            with store.read() as session:
                pending = {e.op_id for e in session.exec(sql_select(OutboxEntry))}
                uploaded = [b.sha256 for b in session.exec(sql_select(Blob)) if b.uploaded]
                waiting = [b.sha256 for b in session.exec(sql_select(Blob)) if not b.uploaded]
        finally:
            store.close()
        on_server = server_op_log(self.server.db, self.a_device_id)
        gone = self.ops["a"] - pending
        report.check(
            "an op leaves the outbox only once the server has it",
            [
                f"op {op[:8]} left the outbox, not on the server"
                for op in sorted(gone - on_server.keys())
            ],
        )
        report.check(
            "the server applies only ops the device made",
            [
                f"unknown op {op[:8]} on the server"
                for op in sorted(on_server.keys() - self.ops["a"])
            ],
        )
        stored = self._server_files()
        report.check(
            "a blob is marked uploaded only once the server holds it",
            [
                f"blob {sha[:12]} marked uploaded, not on the server"
                for sha in uploaded
                if sha not in stored
            ],
        )
        if child.killed_inside_a_step():
            report.mid_step += 1
        if pending or waiting:
            report.mid_work += 1
        self.backlog = len(pending)

    def _server_files(self) -> dict[str, list[StoredFile]]:
        with self.server.db.read() as session:
            out: dict[str, list[StoredFile]] = {}
            for row in session.scalars(select(StoredFile).where(StoredFile.opd_kode == OPD)):
                out.setdefault(row.sha256, []).append(row)
            return out

    # -- the end ------------------------------------------------------------------------

    def final_checks(self) -> None:
        report = self.report
        b_report = self.b.sync()
        report.check("B syncs cleanly", [] if b_report.ok else [str(b_report.error)])
        report.check("store healthy at the end", sqlite_health(self.a_paths.store))
        problems = []
        for who, device_id in (("a", self.a_device_id), ("b", self.b_device_id)):
            made = self.ops[who]
            applied = server_op_log(self.server.db, device_id)
            problems += [
                f"{who}: op {op[:8]} never reached the server"
                for op in sorted(made - applied.keys())
            ]
            problems += [
                f"{who}: op {op[:8]} the device never made" for op in sorted(applied.keys() - made)
            ]
            problems += [
                f"{who}: op {op[:8]} {result.get('outcome')}: {result.get('reason')}"
                for op, result in sorted(applied.items())
                if result.get("outcome") in ("refused", "conflict")
            ]
        report.check("every op made reaches the server exactly once", problems)

        records = server_records(self.server.db, OPD)
        problems = []
        for key, count in sorted(self.ops_per_record.items()):
            row = records.get(key)
            if row is None:
                problems.append(f"{key[0]} {key[1][:8]} missing on the server")
            elif row.version != count:
                problems.append(f"{key[0]} {key[1][:8]} at version {row.version} after {count} ops")
        for key in sorted(records.keys() - self.ops_per_record.keys()):
            problems.append(f"{key[0]} {key[1][:8]} on the server, made by no op")
        report.check("record versions == ops applied (nothing applied twice)", problems)

        problems = []
        for key, values in sorted(self.expected.items()):
            row = records.get(key)
            for name, value in values.items():
                got = row.data.get(name) if row else None
                if got != value:
                    problems.append(f"{key[0]} {key[1][:8]}.{name} = {got!r}, expected {value!r}")
        report.check("every edit has its value on the server", problems)

        with self.server.db.read() as session:
            moves = list(session.scalars(select(StatusMove)))
        per_usulan = Counter(m.usulan_id for m in moves)
        problems = [f"usulan {u[:8]} moved {n} times" for u, n in per_usulan.items() if n != 1]
        if len(moves) != self.submitted:
            problems.append(f"{len(moves)} status moves for {self.submitted} submissions")
        report.check("every submission moved the usulan exactly once", problems)

        a_store = open_store(self.a_paths.store)
        try:
            report.check(
                "A's replica equals the server", replica_differences(a_store, records, name="A")
            )
            report.check(
                "B's replica equals the server",
                replica_differences(self.b.store, records, name="B"),
            )
            with a_store.read() as session:
                pending = list(session.exec(sql_select(OutboxEntry)))
                # A blob whose every dokumen was replaced is withdrawn, never uploaded
                # (issue 15 item 2): only the others must reach the server.
                withdrawn = unsent_blobs(session)[1]
                blob_rows = [b for b in session.exec(sql_select(Blob)) if b.sha256 not in withdrawn]
                live_shas = {
                    d.sha256
                    for d in session.exec(
                        sql_select(Dokumen).where(col(Dokumen.deleted).is_(False))
                    )
                }
            report.check(
                "outbox empty at the end", [f"{len(pending)} ops pending"] if pending else []
            )
            blobs = open_device(self.a_paths, self.proxy.url)
            try:
                report.check(
                    "blob store whole at the end",
                    blob_store_problems(a_store, blobs.blobs, final=True),
                )
            finally:
                blobs.close()
        finally:
            a_store.close()
        stored = self._server_files()
        problems = [f"blob {b.sha256[:12]} not uploaded" for b in blob_rows if not b.uploaded]
        for sha in sorted(live_shas):
            files = stored.get(sha, [])
            if len(files) != 1:
                problems.append(f"blob {sha[:12]} stored {len(files)} times on the server")
            for stored_file in files:
                path = self.server.services.blobs.blob_path(stored_file.cipher_sha256)
                size = path.stat().st_size if path.is_file() else -1
                if size != stored_file.cipher_size:
                    problems.append(
                        f"server file of {sha[:12]}: {size} of {stored_file.cipher_size} bytes"
                    )
        report.check("every document uploaded once and whole", problems)
        report.figures.update(
            ops_a=len(self.ops["a"]),
            ops_b=len(self.ops["b"]),
            records=len(records),
            submissions=self.submitted,
            documents=len(blob_rows),
            document_mb=round(self.blob_bytes / 1e6, 1),
        )

    # -- the run ------------------------------------------------------------------------

    def run(self, kills: int) -> CrashReport:
        started = time.monotonic()
        logs = self.root / "logs"
        for n in range(kills):
            if self.backlog < BACKLOG_LIMIT:
                self.make_work(n)  # else the restarts work the backlog off first
            delay, inside = kill_one(
                self.launcher,
                self.clock,
                self.report,
                ("sync", self.a_paths.data, logs / f"sync-{n:03d}.log"),
                restart=n > 0,
                after_kill=self.after_kill,
            )
            where = "inside a sync" if inside else "between syncs"
            self.echo(f"sync kill {n + 1}/{kills} at {delay:.2f} s, {where}")
        self.make_work(kills)
        child = self.launcher.start("sync", self.a_paths.data, "--settle", logs / "sync-final.log")
        self.report.restarts += 1
        code = child.finish()
        self.report.check(
            "the restarted sync completes",
            [] if code == 0 else [f"exit {code}: {child.text()[-2000:]}"],
        )
        self.final_checks()
        self.report.seconds = time.monotonic() - started
        return self.report


_KP_KODES = [item.kode for item in checklist(Layanan.KP, "reguler")]


# -- intake under kills -------------------------------------------------------------------------


@dataclass(frozen=True)
class DroppedScan:
    name: str
    nip: str = ""  # with kode: a scan intake files to that pegawai's usulan
    kode: str = ""

    @property
    def filed(self) -> bool:
        return bool(self.nip)


class IntakeCrash:
    """Scan intake is killed again and again while new scans keep arriving."""

    def __init__(
        self, root: Path, seed: int, launcher: Launcher, *, slots: int, echo: Echo = _quiet
    ) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.launcher = launcher
        self.echo = echo
        self.report = CrashReport("intake")
        self.clock = KillClock(self.rng, guess=0.5)
        self.server = start_server(root / "server")
        factory = DeviceFactory(root, self.server, self.server.url)
        a = factory("a")
        config = load_config(a.paths.config)
        config.intake = IntakeSettings(
            stable_delay=0.2, workers=2, file_time_limit=120, polling=PollingMode.OFF
        )
        save_config(a.paths.config, config)
        self.paths = a.paths
        self.folder = a.paths.scans
        self.folder.mkdir(parents=True, exist_ok=True)
        self.slots: list[tuple[str, str]] = []
        self.usulan_of: dict[str, str] = {}
        pegawai = max(1, -(-slots // len(_KP_KODES)))
        for n in range(pegawai):
            nip = nip_for(n + 1)
            pid = a.add_pegawai(nip, nama=f"Pegawai {n + 1}")
            with a.store.write() as session:
                row = session.get(Pegawai, pid)
                assert row is not None
                usulan = wf.create_usulan(session, row, "kp", "reguler")
                session.flush()
                self.usulan_of[nip] = usulan.id
            self.slots += [(nip, kode) for kode in _KP_KODES]
        self.rng.shuffle(self.slots)
        report = a.sync()
        assert report.ok, report.error
        a.close()
        self.dropped: list[DroppedScan] = []
        self.counter = 0
        self.verified: set[str] = set()

    def close(self) -> None:
        self.server.stop()

    def drop_scans(self, count: int) -> None:
        """New scans in the folder, already still (their mtime a while ago)."""
        for _ in range(count):
            self.counter += 1
            n = self.counter
            if self.slots and self.rng.random() < 0.7:
                nip, kode = self.slots.pop()
                scan = DroppedScan(f"{nip}_{kode}.{'pdf' if n % 4 == 0 else 'jpg'}", nip, kode)
            else:
                scan = DroppedScan(f"scan {n:04d}.{'pdf' if n % 4 == 0 else 'jpg'}")
            path = self.folder / scan.name
            if scan.name.endswith(".pdf"):
                scan_files.pdf_scan(path, pages=1, dpi=100, seed=n)
            else:
                scan_files.jpeg_scan(path, dpi=100, seed=n, quality=80)
            past = time.time() - 30
            os.utime(path, (past, past))
            self.dropped.append(scan)

    # -- what must hold after any kill ----------------------------------------------------

    def scan_problems(self, store: Store, blobs: BlobStore) -> tuple[list[str], int]:
        """Each scan is in its folder, or taken with its record committed; returns the
        problems and how many scans are still waiting."""
        done_dir = self.folder / "diproses"
        problems: list[str] = []
        waiting = 0
        with store.read() as session:
            inbox = Counter(i.original_name for i in session.exec(sql_select(InboxItem)))
            blob_rows = {b.sha256 for b in session.exec(sql_select(Blob))}
            live: dict[tuple[str, str], list[Dokumen]] = {}
            for dok in session.exec(sql_select(Dokumen).where(col(Dokumen.deleted).is_(False))):
                live.setdefault((dok.usulan_id, dok.kode), []).append(dok)
            inbox_sha = {i.original_name: i.sha256 for i in session.exec(sql_select(InboxItem))}
        for scan in self.dropped:
            here = (self.folder / scan.name).exists()
            moved = (done_dir / scan.name).exists()
            stem, suffix = Path(scan.name).stem, Path(scan.name).suffix
            copies = list(done_dir.glob(f"{stem} (*){suffix}")) if done_dir.is_dir() else []
            if copies:
                problems.append(f"{scan.name}: taken twice ({len(copies) + moved} in diproses)")
            if here and moved:
                problems.append(f"{scan.name}: both in the folder and in diproses")
            if not here and not moved:
                problems.append(f"{scan.name}: LOST (neither in the folder nor in diproses)")
            if here:
                waiting += 1
            if not moved:
                continue
            if scan.filed:
                doks = live.get((self.usulan_of[scan.nip], scan.kode), [])
                if len(doks) != 1:
                    problems.append(f"{scan.name}: moved, {len(doks)} live dokumen {scan.kode}")
                    continue
                sha = doks[0].sha256
            else:
                if inbox[scan.name] != 1:
                    problems.append(f"{scan.name}: moved, {inbox[scan.name]} Kotak masuk items")
                    continue
                sha = inbox_sha[scan.name]
            if sha not in blob_rows:
                problems.append(f"{scan.name}: its blob {sha[:12]} has no Blob row")
            elif not blobs.has(sha):
                problems.append(f"{scan.name}: its blob {sha[:12]} has no file")
        quarantined = self.folder / "karantina"
        if quarantined.is_dir() and any(quarantined.iterdir()):
            problems.append(f"quarantined: {sorted(p.name for p in quarantined.iterdir())}")
        return problems, waiting

    def _open(self) -> tuple[Store, Device]:
        device = open_device(self.paths, self.server.url)
        return device.store, device

    def after_kill(self, child: Child) -> None:
        report = self.report
        report.check("store healthy after every kill", sqlite_health(self.paths.store))
        store, device = self._open()
        try:
            problems, waiting = self.scan_problems(store, device.blobs)
            report.check("every scan in its folder or filed, after every kill", problems)
            report.check(
                "blob rows have whole blobs, after every kill",
                blob_store_problems(store, device.blobs, final=False, verified=self.verified),
            )
            orphans = set(device.blobs.stored())
            with store.read() as session:
                orphans -= {b.sha256 for b in session.exec(sql_select(Blob))}
            staging = list((device.blobs.root / "tmp").glob("*.part"))
        finally:
            device.close()
        if orphans or staging:
            report.figures["kills_leaving_staging_or_unfiled_blob"] = (
                report.figures.get("kills_leaving_staging_or_unfiled_blob", 0) + 1
            )
        if child.killed_inside_a_step():
            report.mid_step += 1
        if waiting:
            report.mid_work += 1

    # -- the end ------------------------------------------------------------------------

    def final_checks(self) -> None:
        report = self.report
        report.check("store healthy at the end", sqlite_health(self.paths.store))
        store, device = self._open()
        try:
            problems, waiting = self.scan_problems(store, device.blobs)
            if waiting:
                problems.append(f"{waiting} scans still in the folder after the final pass")
            left = [p.name for p in self.folder.iterdir() if p.is_file()]
            problems += [
                f"unexpected file left in the folder: {name}"
                for name in left
                if name not in {s.name for s in self.dropped}
            ]
            report.check("every scan filed at the end, none lost or taken twice", problems)
            report.check(
                "blob store whole at the end", blob_store_problems(store, device.blobs, final=True)
            )
            with store.read() as session:
                tombstoned = list(
                    session.exec(sql_select(Dokumen).where(col(Dokumen.deleted).is_(True)))
                )
            report.check(
                "no scan filed twice (no replaced dokumen)",
                [f"dokumen {d.kode} of {d.usulan_id[:8]} replaced" for d in tombstoned],
            )
            sync = device.sync()
            report.check("the final sync succeeds", [] if sync.ok else [str(sync.error)])
            records = server_records(self.server.db, OPD)
            report.check(
                "the replica equals the server after the final sync",
                replica_differences(store, records, name="A"),
            )
            with store.read() as session:
                # A blob whose every dokumen was replaced is withdrawn, never uploaded
                # (issue 15 item 2): only the others must reach the server.
                withdrawn = unsent_blobs(session)[1]
                blob_rows = [b for b in session.exec(sql_select(Blob)) if b.sha256 not in withdrawn]
            report.check(
                "every stored scan uploaded",
                [f"blob {b.sha256[:12]} not uploaded" for b in blob_rows if not b.uploaded],
            )
        finally:
            device.close()
        report.figures.update(
            pikepdf_leftovers=len(pikepdf_leftovers(device.blobs.root)),
            scans=len(self.dropped),
            filed=sum(1 for s in self.dropped if s.filed),
            to_kotak_masuk=sum(1 for s in self.dropped if not s.filed),
            blobs=len(blob_rows),
        )

    # -- the run ------------------------------------------------------------------------

    def run(self, kills: int, per_round: int = 3) -> CrashReport:
        started = time.monotonic()
        logs = self.root / "logs"
        self.drop_scans(per_round * 2)
        for n in range(kills):
            self.drop_scans(per_round)
            delay, inside = kill_one(
                self.launcher,
                self.clock,
                self.report,
                ("intake", self.paths.data, logs / f"intake-{n:03d}.log"),
                restart=n > 0,
                after_kill=self.after_kill,
            )
            where = "inside a pass" if inside else "between passes"
            self.echo(f"intake kill {n + 1}/{kills} at {delay:.2f} s, {where}")
        child = self.launcher.start("intake", self.paths.data, "--once", logs / "intake-final.log")
        self.report.restarts += 1
        code = child.finish()
        self.report.check(
            "the restarted intake completes",
            [] if code == 0 else [f"exit {code}: {child.text()[-2000:]}"],
        )
        self.final_checks()
        self.report.seconds = time.monotonic() - started
        return self.report


@contextlib.contextmanager
def sync_crash(
    root: Path, seed: int, launcher: Launcher, echo: Echo = _quiet
) -> Iterator[SyncCrash]:
    scenario = SyncCrash(root, seed, launcher, echo)
    try:
        yield scenario
    finally:
        scenario.close()


@contextlib.contextmanager
def intake_crash(
    root: Path, seed: int, launcher: Launcher, *, slots: int, echo: Echo = _quiet
) -> Iterator[IntakeCrash]:
    scenario = IntakeCrash(root, seed, launcher, slots=slots, echo=echo)
    try:
        yield scenario
    finally:
        scenario.close()


@contextlib.contextmanager
def launcher(*, exec_each: bool = False) -> Iterator[Launcher]:
    started = Launcher(exec_each=exec_each)
    try:
        yield started
    finally:
        started.close()

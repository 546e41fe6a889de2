"""The process the crash tests kill: it opens a Berkas home and syncs it, or runs scan
intake on it, over and over until the parent sends SIGKILL; or once, to completion.

    python -m tests.e2e.crash_child sync HOME --loop      # sync forever (to be killed)
    python -m tests.e2e.crash_child sync HOME --settle    # sync until nothing is pending
    python -m tests.e2e.crash_child intake HOME --loop    # intake passes forever
    python -m tests.e2e.crash_child intake HOME --once    # one intake pass, then exit
    python -m tests.e2e.crash_child serve                 # fork server (see below)

It goes through the same entry points as `berkas sync` and the intake watcher
(client.sync_service.sync_once, client.intake_wiring.intake_service), so each run opens the
store, takes the sync lock, builds the engine and the conversion pool afresh, exactly as a
restarted program does. It prints "ready" when its work is about to start (sync: imports
done; intake: the conversion processes running), when the parent's kill timer starts;
"begin"/"end" around each sync or pass, so the parent can tell where the kill landed; and
"exit N" when it ends by itself.

`serve` is a fork server: it imports everything once, then for each line
"LOG<TAB>MODE<TAB>HOME<TAB>HOW" on stdin forks a fresh process that becomes the leader of its
own process group, writes to LOG and runs as above; the fork server answers with its pid. So
a restart costs milliseconds instead of two seconds of imports, while each run still opens
the store, the keys, the engine and the conversion pool from scratch.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sync.engine import EngineSettings

# Berkas is imported inside the functions: the conversion workers (spawned, so they import
# this __main__ module again) then start in a quarter of a second, as they do in the app.

# Small batches and pages: a round's work takes many requests, so kills land between them.
PUSH_BATCH = 4
PAGE_LIMIT = 6


def _say(text: str) -> None:
    print(f"{time.monotonic():.3f} {text}", flush=True)


def preload() -> None:
    """Import what a run needs (the fork server does it once for all its children)."""
    import client.intake.normalise
    import client.intake_wiring
    import client.sync_service  # noqa: F401


def engine_settings() -> EngineSettings:
    from sync.engine import EngineSettings

    return EngineSettings(
        push_batch=PUSH_BATCH,
        page_limit=PAGE_LIMIT,
        upload_concurrency=2,
        record_interval_s=0.2,
    )


def run_sync(home: Path, *, settle: bool) -> int:
    from client import sync_service
    from client.paths import resolve_paths

    paths = resolve_paths(home)
    tries = 0
    while True:
        tries += 1
        _say(f"begin sync {tries}")
        report = sync_service.sync_once(paths, program="crash-child", settings=engine_settings())
        status = sync_service.status(paths)
        error = report.error
        _say(
            f"end sync {tries} ok={report.ok} pushed={report.push.pushed} "
            f"refused={report.push.refused} pulled={report.pull.changes} "
            f"uploaded={report.uploads.uploaded} pending_ops={status.pending_ops} "
            f"pending_uploads={status.pending_uploads}"
            + (f" error={error.message!r} cause={error.cause!r}" if error else "")
        )
        if settle:
            if report.ok and status.pending_ops == 0 and status.pending_uploads == 0:
                _say("settled")
                return 0
            if tries >= 10:
                _say("not settled after 10 syncs")
                return 3
        if not report.ok:
            time.sleep(0.05)


def run_intake(home: Path, *, once: bool) -> int:
    from client.intake_wiring import intake_service
    from client.paths import resolve_paths

    paths = resolve_paths(home)
    with intake_service(paths) as service:
        # Ready once the conversion processes run: the kill clock then covers the passes.
        service.pool.warm_up()
        _say("ready")
        passes = 0
        while True:
            passes += 1
            _say(f"begin pass {passes}")
            summary = service.run_folder(paths.scans)
            _say(
                f"end pass {passes} taken={summary.taken} filed={summary.filed} "
                f"inbox={summary.inbox} quarantined={summary.quarantined} "
                f"duplicates={summary.duplicates} failed={summary.failed} skipped={summary.skipped}"
            )
            if once:
                return 0 if summary.failed == 0 and summary.quarantined == 0 else 4
            time.sleep(0.02)


def serve() -> int:
    """The fork server: one forked child per request line, reaped automatically."""
    preload()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    print("serving", flush=True)
    for line in sys.stdin:
        log, mode, home, how = line.rstrip("\n").split("\t")
        pid = os.fork()
        if pid == 0:
            _run_forked(log, [mode, home, how])
        print(pid, flush=True)
    return 0


def _run_forked(log: str, argv: list[str]) -> None:
    code = 70
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the pool waits for its workers
        os.setsid()
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        _say(f"exit {code}")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["sync", "intake", "serve"])
    parser.add_argument("home", type=Path, nargs="?")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--loop", action="store_true", help="repeat until killed")
    how.add_argument("--settle", action="store_true", help="sync until nothing is pending")
    how.add_argument("--once", action="store_true", help="one intake pass")
    args = parser.parse_args(argv)
    if args.mode == "serve":
        return serve()
    if args.home is None or not (args.loop or args.settle or args.once):
        parser.error("sync and intake need HOME and one of --loop, --settle, --once")
    if args.mode == "sync":
        preload()
        _say("ready")  # imports done; the store is opened by each sync
        return run_sync(args.home, settle=args.settle or args.once)
    return run_intake(args.home, once=args.once or args.settle)


if __name__ == "__main__":
    code = main()
    _say(f"exit {code}")
    sys.exit(code)

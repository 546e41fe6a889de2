"""Start the real Berkas server for tests: uvicorn on 127.0.0.1, an ephemeral port.

    running = start_server(tmp_path / "server")           # SQLite in that home
    running = start_server(home, database_url=url)         # or PostgreSQL
    ...
    running.stop()

`start_server` runs uvicorn in a background thread (fast, shares the process, so tests can
call admin functions through `running.db`); `start_server_process` runs
`python -m server.cli run` as a child process that a test may kill -9 mid-write.
With BERKAS_TEST_DATABASE_URL set, `fresh_database_url()` makes a fresh PostgreSQL schema
per call (dropped by `drop_test_database`), so runs never see each other's rows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import uvicorn
from sqlalchemy import event
from starlette.types import ASGIApp

from server import admin
from server.app import create_app
from server.db import Database, open_database
from server.keys import init_keys, is_initialised, registered_verifier_key
from server.services import Services
from server.settings import ServerSettings
from store.rules import Role
from sync.crypto import PrivateKeySet, generate_x25519, public_key_b64, save_key_file
from sync.crypto import keys as crypto_keys

TEST_DATABASE_ENV = "BERKAS_TEST_DATABASE_URL"
TEST_VERIFIER_PASSPHRASE = "kata-sandi-uji-verifikator"
REPO_ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def _cheap_scrypt() -> Iterator[None]:
    """Test homes protect the verifier key with scrypt N=2**10 (the file records it)."""
    saved = crypto_keys.SCRYPT_LOG_N
    crypto_keys.SCRYPT_LOG_N = 10
    try:
        yield
    finally:
        crypto_keys.SCRYPT_LOG_N = saved


def verifier_key_path(home: Path) -> Path:
    """The test verifikator's key file: beside the server home, never in it (as on a real
    BKD, where the verifikator's machine holds it)."""
    home = Path(home)
    return home.parent / f"{home.name}-verifikator" / "verifier.key"


def init_home(home: Path, database_url: str | None = None) -> ServerSettings:
    """`berkas server init` for a test home (idempotent), with the verifier key pair made
    outside it (as `berkas verifikasi kunci buat` does) and its public half registered."""
    settings = ServerSettings.for_home(home, database_url)
    if not is_initialised(settings):
        home.mkdir(parents=True, exist_ok=True)
        key_path = verifier_key_path(home)
        key_path.parent.mkdir(parents=True, exist_ok=True)
        verifier = generate_x25519()
        with _cheap_scrypt():
            save_key_file(key_path, PrivateKeySet({"verifier": verifier}), TEST_VERIFIER_PASSPHRASE)
        init_keys(settings, public_key_b64(verifier))
    assert registered_verifier_key(settings) is not None
    return settings


def _wait_healthy(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.05)
    raise RuntimeError(f"server at {url} did not become healthy: {last!r}")


@dataclass
class RunningServer:
    """A server running in this process; `stop()` shuts it down cleanly."""

    url: str
    home: Path
    settings: ServerSettings
    services: Services
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _socket: socket.socket = field(repr=False)

    @property
    def db(self) -> Database:
        return self.services.db

    @property
    def verifier_key_path(self) -> Path:
        """The verifikator's key file (passphrase TEST_VERIFIER_PASSPHRASE), outside home."""
        return verifier_key_path(self.home)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def add_opd(self, kode: str, nama: str | None = None) -> str:
        with contextlib.suppress(admin.AdminError):
            admin.add_opd(self.db, kode, nama or f"OPD {kode}")
        return kode

    def enrol_code(self, kode: str, role: Role | str = Role.OPD) -> str:
        self.add_opd(kode)
        return admin.issue_enrol_code(self.db, kode, role).code

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
        with contextlib.suppress(OSError):
            self._socket.close()


def start_server(
    home: Path,
    database_url: str | None = None,
    *,
    wrap: Callable[[ASGIApp], ASGIApp] | None = None,
    access_log: bool = False,
    **overrides: Any,
) -> RunningServer:
    """Initialise `home` if needed and serve it on 127.0.0.1:<ephemeral> in a thread.

    `wrap` puts an ASGI layer around the app (a server variant for interop tests);
    `access_log` turns on uvicorn's access log (INFO on "uvicorn.access");
    `overrides` replace ServerSettings fields (limits, blob_dir).
    """
    settings = dataclasses.replace(init_home(home, database_url), **overrides)
    app = create_app(settings)
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it small answers wait for delayed ACKs (40 ms a request).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        wrap(app) if wrap else app,
        log_level="info" if access_log else "warning",
        lifespan="on",
        access_log=access_log,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="berkas-server", daemon=True
    )
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url)
    except BaseException:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()
        raise
    return RunningServer(
        url=url,
        home=Path(home),
        settings=settings,
        services=app.state.services,
        _server=server,
        _thread=thread,
        _socket=sock,
    )


@dataclass
class ServerProcess:
    """`berkas server run` as a child process (for crash tests)."""

    url: str
    home: Path
    process: subprocess.Popen[bytes]
    database_url: str | None = None

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def enrol_code(self, kode: str, role: Role | str = Role.OPD) -> str:
        """Add the OPD if needed and issue a code, through the server's own database."""
        settings = ServerSettings.for_home(self.home, self.database_url)
        db = open_database(settings.database_url)
        try:
            with contextlib.suppress(admin.AdminError):
                admin.add_opd(db, kode, f"OPD {kode}")
            return admin.issue_enrol_code(db, kode, role).code
        finally:
            db.dispose()

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush; what a power cut or OOM kill leaves."""
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server_process(
    home: Path, database_url: str | None = None, port: int | None = None
) -> ServerProcess:
    """Initialise `home` if needed and run the server CLI in a child process."""
    init_home(home, database_url)
    port = port or _free_port()
    env = dict(os.environ)
    env.pop("BERKAS_DATABASE_URL", None)
    command = [
        sys.executable,
        "-m",
        "server.cli",
        "run",
        "--home",
        str(home),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    if database_url:
        command += ["--database-url", database_url]
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url)
    except BaseException:
        process.kill()
        process.wait(timeout=10)
        raise
    return ServerProcess(url=url, home=Path(home), process=process, database_url=database_url)


# -- PostgreSQL -----------------------------------------------------------------------------


def fresh_database_url() -> str | None:
    """A fresh PostgreSQL schema under BERKAS_TEST_DATABASE_URL, or None for SQLite."""
    base = os.environ.get(TEST_DATABASE_ENV)
    if not base:
        return None
    import psycopg

    schema = f"berkas_test_{secrets.token_hex(6)}"
    with psycopg.connect(_libpq_url(base), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    parts = urlsplit(base)
    query = parse_qs(parts.query)
    query["options"] = [f"-csearch_path={schema}"]
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True)))


def drop_test_database(url: str | None) -> None:
    """Drop the schema `fresh_database_url` made (no-op for None)."""
    if not url:
        return
    import psycopg

    options = parse_qs(urlsplit(url).query).get("options", [""])[0]
    schema = options.removeprefix("-csearch_path=")
    if not schema.startswith("berkas_test_"):
        return
    base = urlunsplit(urlsplit(url)._replace(query=""))
    with psycopg.connect(_libpq_url(base), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _libpq_url(url: str) -> str:
    """postgresql+psycopg://... -> postgresql://... (what libpq understands)."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgres") else url


@contextlib.contextmanager
def database_full(db: Database) -> Iterator[None]:
    """A SQLite server database that cannot grow: a write needing a new page fails with
    SQLITE_FULL ("database or disk is full"), exactly as on a full disk."""

    def cap(dbapi_conn: Any, _record: object) -> None:
        dbapi_conn.execute("PRAGMA max_page_count = 1")  # clamped to the file's size

    event.listen(db.engine, "connect", cap)
    db.engine.dispose()
    try:
        yield
    finally:
        event.remove(db.engine, "connect", cap)
        db.engine.dispose()

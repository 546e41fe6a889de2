"""Where a server keeps its things (the home folder) and the limits it enforces."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DATABASE_URL_ENV = "BERKAS_DATABASE_URL"

MIB = 1024 * 1024


@dataclass(frozen=True)
class ServerSettings:
    """Everything the app needs to start; `for_home` fills the defaults of a home folder."""

    home: Path
    database_url: str
    blob_dir: Path
    # A sealed push of MAX_PUSH_OPS ops fits easily; anything larger is refused with 413.
    max_body_size: int = 8 * MIB
    # tus Tus-Max-Size: the largest encrypted document accepted (dokumen are 1-2 MB).
    max_upload_size: int = 64 * MIB
    # A partial upload untouched this long expires (tus expiration extension).
    upload_ttl_seconds: int = 24 * 3600
    # How often expired uploads and old nonces are swept away.
    maintenance_interval_seconds: float = 300.0
    enrol_code_ttl_seconds: int = 72 * 3600
    # Throttles per client address, counted in the database (every server process shares
    # them): failed enrolments and failed signatures within a window; past the limit the
    # address gets 429 with Retry-After until the window ends. Only failures count: an
    # office behind one NAT address enrols and syncs many devices legitimately.
    throttle_window_seconds: int = 300
    enrol_failures_per_window: int = 10
    auth_failures_per_window: int = 60
    # Per device: unfinished uploads open at once, and the bytes they may still put on disk.
    max_open_uploads: int = 32
    max_pending_upload_bytes: int = 512 * MIB
    # Threads for request work (crypto, reads, file I/O). The work is CPU-bound under the
    # GIL: a few threads keep the one writer thread from waiting behind dozens of others.
    request_threads: int = 4

    @property
    def nonce_database_url(self) -> str:
        """Where request nonces are kept: their own SQLite file beside a SQLite database
        (so they never wait for the main write lock), else the main database."""
        if self.database_url.startswith("sqlite"):
            return f"sqlite:///{self.home / 'nonces.db'}"
        return self.database_url

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    @property
    def server_key_path(self) -> Path:
        return self.keys_dir / "server.key"

    @property
    def verifier_public_path(self) -> Path:
        return self.keys_dir / "verifier.pub"

    @classmethod
    def for_home(
        cls,
        home: Path,
        database_url: str | None = None,
        blob_dir: Path | None = None,
    ) -> ServerSettings:
        """Settings for a home folder: SQLite file DIR/server.db unless a URL is given
        (argument first, then BERKAS_DATABASE_URL), blobs in DIR/blobs.

        Change a limit with `dataclasses.replace(settings, max_upload_size=...)`.
        """
        home = Path(home).resolve()
        url = database_url or os.environ.get(DATABASE_URL_ENV) or default_sqlite_url(home)
        return cls(
            home=home,
            database_url=url,
            blob_dir=(blob_dir or home / "blobs").resolve(),
        )


def default_sqlite_url(home: Path) -> str:
    return f"sqlite:///{Path(home).resolve() / 'server.db'}"

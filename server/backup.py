"""`berkas server cadangkan` / `pulihkan`: an online backup of a running server and its
restore into an empty home.

A backup folder TUJUAN holds any number of snapshots and one shared blob folder:

    TUJUAN/blobs/<sha256 of ciphertext>        complete encrypted documents (shared; a
                                               file already there is never copied again)
    TUJUAN/cadangan-YYYYMMDDTHHMMSSZ/
        server.db | database.dump              SQLite online-backup copy | pg_dump -Fc
        keys/server.key, keys/verifier.pub     the server's keys and the verifier public key
        manifest.json                          written last: sha256 and size of every file
                                               of the snapshot (paths relative to TUJUAN)

Consistency: the database is copied first, in one snapshot (SQLite's backup API holds one
read transaction; pg_dump runs in one repeatable-read transaction), while pushes and
uploads go on. Blobs are then copied: a blob is written to its content address before the
database row naming it commits and is never changed or removed, so every blob the
snapshot names is already on disk when the copy starts. Partial uploads are not copied: a
restore resets them and the clients' tus HEAD answers offset 0 (they upload again).

The server.key file is private: a backup is as secret as the server home itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url

from server.blobstore import fsync_dir
from server.db import SCHEMA_VERSION, Database, get_meta, open_database
from server.models import ChangeLog, Record, ServerMeta, StoredFile, Upload
from server.settings import ServerSettings

MANIFEST: Final = "manifest.json"
MANIFEST_FORMAT: Final = 1
SNAPSHOT_PREFIX: Final = "cadangan-"
EPOCH_KEY: Final = "epoch"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK: Final = 1024 * 1024


class BackupError(RuntimeError):
    """A backup or restore cannot go on; `message` is for the admin (Bahasa Indonesia)."""

    def __init__(self, message: str, technical: str = "") -> None:
        super().__init__(technical or message)
        self.message = message


@dataclass(frozen=True)
class BackupReport:
    snapshot: Path
    records: int
    files: int
    blobs_copied: int
    blobs_reused: int
    bytes_copied: int
    seconds: float


@dataclass(frozen=True)
class RestoreReport:
    snapshot: Path
    files_verified: int
    blobs: int
    max_seq: int
    epoch: str


# -- the server epoch (tells clients the server was restored) ---------------------------------


def ensure_epoch(db: Database) -> str:
    """The server's epoch id: made once, replaced by every restore (see PROTOCOL.md 9)."""
    with db.read() as session:
        found = get_meta(session, EPOCH_KEY)
    if found:
        return found
    with db.write(serial=False) as session:
        found = get_meta(session, EPOCH_KEY)
        if found:
            return found
        epoch = secrets.token_hex(16)
        session.add(ServerMeta(key=EPOCH_KEY, value=epoch))
        return epoch


# -- files ------------------------------------------------------------------------------------


def _sha256_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_hashed(source: Path, target: Path) -> tuple[str, int]:
    """Copy through a temporary name, fsync, rename; returns (sha256, size) of the bytes."""
    tmp = target.with_name(f".{target.name}.tmp")
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as src, tmp.open("wb") as dst:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(tmp, target)
    return digest.hexdigest(), size


def _libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as libpq understands it (pg_dump, pg_restore)."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database:
        raise BackupError("Basis data SQLite tanpa berkas tidak dapat dicadangkan.", url)
    return Path(database)


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"Perintah {name} tidak ditemukan. Pasang klien PostgreSQL (Debian: "
            "apt-get install postgresql-client) dengan versi yang sama atau lebih baru "
            "dari servernya."
        )
    return found


def _run_tool(argv: list[str], what: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        # stderr of pg_dump names tables and errors, never row contents or passwords.
        raise BackupError(f"{what} gagal: {done.stderr.strip()[-400:]}", done.stderr[-2000:])


def _current_schema(db: Database) -> str:
    with db.read() as session:
        return str(session.execute(text("SELECT current_schema()")).scalar_one())


# -- backup -----------------------------------------------------------------------------------


def backup(
    settings: ServerSettings,
    target: Path,
    *,
    now: Callable[[], float] = time.time,
) -> BackupReport:
    """Take one consistent snapshot of a (possibly running) server into `target`."""
    started = time.monotonic()
    target = Path(target).resolve()
    if target == settings.home or settings.home in target.parents:
        raise BackupError("Folder cadangan tidak boleh berada di dalam folder server.")
    blob_target = target / "blobs"
    blob_target.mkdir(parents=True, exist_ok=True)
    stamp = datetime.fromtimestamp(now(), UTC).strftime("%Y%m%dT%H%M%SZ")
    snapshot = target / f"{SNAPSHOT_PREFIX}{stamp}"
    suffix = 1
    while snapshot.exists():
        suffix += 1
        snapshot = target / f"{SNAPSHOT_PREFIX}{stamp}-{suffix}"
    work = snapshot.with_name(f".{snapshot.name}.partial")
    shutil.rmtree(work, ignore_errors=True)
    (work / "keys").mkdir(parents=True)

    db = open_database(settings.database_url)
    try:
        epoch = ensure_epoch(db)
        if db.is_sqlite:
            database_file = "server.db"
            _sqlite_backup(_sqlite_path(settings.database_url), work / database_file)
        else:
            database_file = "database.dump"
            schema = _current_schema(db)
            argv = [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges"]
            if schema != "public":
                argv.append(f"--schema={schema}")
            argv += [
                "--file",
                str(work / database_file),
                "--dbname",
                _libpq_url(settings.database_url),
            ]
            _run_tool(argv, "pg_dump")
        # What the snapshot holds, read from the copy itself.
        facts = _snapshot_facts(work / database_file, db)
    finally:
        db.dispose()

    files: dict[str, dict[str, Any]] = {}
    for name in ("server.key", "verifier.pub"):
        source = settings.keys_dir / name
        if source.exists():
            sha, size = _copy_hashed(source, work / "keys" / name)
            os.chmod(work / "keys" / name, 0o600)
            files[f"{snapshot.name}/keys/{name}"] = {"sha256": sha, "size": size}
    sha, size = _sha256_file(work / database_file)
    _fsync_file(work / database_file)
    files[f"{snapshot.name}/{database_file}"] = {"sha256": sha, "size": size}

    copied = reused = copied_bytes = 0
    for entry in sorted(os.scandir(settings.blob_dir), key=lambda e: e.name):
        if not _HEX64.match(entry.name) or not entry.is_file():
            continue
        destination = blob_target / entry.name
        if destination.exists() and destination.stat().st_size == entry.stat().st_size:
            # Content-addressed: the name is the sha256, checked when it was first copied.
            reused += 1
            size = destination.stat().st_size
        else:
            sha, size = _copy_hashed(Path(entry.path), destination)
            if sha != entry.name:
                destination.unlink()
                raise BackupError(
                    f"Dokumen terenkripsi {entry.name} di server rusak (isi tidak cocok "
                    "dengan namanya). Periksa disk server.",
                    f"blob {entry.name} hashes to {sha}",
                )
            copied += 1
            copied_bytes += size
        files[f"blobs/{entry.name}"] = {"sha256": entry.name, "size": size}
    fsync_dir(blob_target)
    missing = [sha for sha in facts["stored_files"] if f"blobs/{sha}" not in files]
    if missing:
        raise BackupError(
            f"{len(missing)} dokumen yang tercatat di basis data tidak ada di folder blobs "
            "server; cadangan tidak dibuat.",
            f"missing blobs: {missing[:3]}",
        )

    manifest = {
        "format": MANIFEST_FORMAT,
        "created_at": datetime.fromtimestamp(now(), UTC).isoformat(timespec="seconds"),
        "database": "sqlite" if database_file == "server.db" else "postgresql",
        "database_file": database_file,
        "schema_version": SCHEMA_VERSION,
        "epoch": epoch,
        "max_seq": facts["max_seq"],
        "records": facts["records"],
        "stored_files": len(facts["stored_files"]),
        "files": files,
    }
    manifest_tmp = work / f".{MANIFEST}.tmp"
    manifest_tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    _fsync_file(manifest_tmp)
    os.replace(manifest_tmp, work / MANIFEST)
    fsync_dir(work / "keys")
    fsync_dir(work)
    os.replace(work, snapshot)
    fsync_dir(target)
    return BackupReport(
        snapshot=snapshot,
        records=facts["records"],
        files=len(files),
        blobs_copied=copied,
        blobs_reused=reused,
        bytes_copied=copied_bytes,
        seconds=time.monotonic() - started,
    )


def _sqlite_backup(source: Path, destination: Path) -> None:
    """SQLite's online backup API in one step: one read transaction, a consistent copy,
    while the server keeps writing (WAL)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(destination)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _snapshot_facts(copy: Path, live: Database) -> dict[str, Any]:
    """Records, newest sequence and stored files of the snapshot (SQLite: read from the
    copy, read-only; PostgreSQL: the dump was taken first, so the live database holds at
    least as much: the figures are for the report, the blob check is then stricter)."""
    if live.is_sqlite:
        conn = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
        try:
            records = int(conn.execute("SELECT count(*) FROM record").fetchone()[0])
            max_seq = int(conn.execute("SELECT max(seq) FROM change_log").fetchone()[0] or 0)
            stored = sorted({r[0] for r in conn.execute("SELECT cipher_sha256 FROM stored_file")})
        finally:
            conn.close()
        return {"records": records, "max_seq": max_seq, "stored_files": stored}
    with live.read() as session:
        records = int(session.scalar(select(func.count()).select_from(Record)) or 0)
        max_seq = int(session.scalar(select(func.max(ChangeLog.seq))) or 0)
        stored = sorted(set(session.scalars(select(StoredFile.cipher_sha256))))
    return {"records": records, "max_seq": max_seq, "stored_files": stored}


# -- restore ----------------------------------------------------------------------------------


def find_snapshot(source: Path) -> Path:
    """SUMBER is one snapshot folder, or a backup folder (then its newest complete one)."""
    source = Path(source).resolve()
    if (source / MANIFEST).is_file():
        return source
    candidates = (
        sorted(p for p in source.glob(f"{SNAPSHOT_PREFIX}*") if (p / MANIFEST).is_file())
        if source.is_dir()
        else []
    )
    if not candidates:
        raise BackupError(f"Tidak ada cadangan lengkap (dengan {MANIFEST}) di {source}.")
    return candidates[-1]


def verify_snapshot(snapshot: Path) -> dict[str, Any]:
    """Read the manifest and check the sha256 and size of every file it lists."""
    try:
        manifest = json.loads((snapshot / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{MANIFEST} di {snapshot} tidak dapat dibaca.", str(exc)) from exc
    if manifest.get("format") != MANIFEST_FORMAT:
        raise BackupError("Format cadangan ini tidak dikenal; perbarui Berkas.")
    root = snapshot.parent
    bad: list[str] = []
    for relative, facts in manifest["files"].items():
        path = root / relative
        try:
            sha, size = _sha256_file(path)
        except OSError:
            bad.append(f"{relative} (tidak ada)")
            continue
        if sha != facts["sha256"] or size != facts["size"]:
            bad.append(f"{relative} (isi berbeda)")
    if bad:
        raise BackupError(
            f"Cadangan rusak: {len(bad)} berkas tidak cocok dengan manifest, mis. "
            + ", ".join(bad[:3])
            + ". Pulihkan dari cadangan lain."
        )
    return dict(manifest)


def restore(source: Path, settings: ServerSettings) -> RestoreReport:
    """Restore a verified snapshot into an empty home (and an empty PostgreSQL database
    when the settings name one); the restored server gets a new epoch."""
    snapshot = find_snapshot(source)
    home = settings.home
    if home.exists() and any(home.iterdir()):
        raise BackupError(f"Folder server {home} tidak kosong; pulihkan ke folder baru.")
    manifest = verify_snapshot(snapshot)
    database_file = manifest["database_file"]
    is_sqlite = settings.database_url.startswith("sqlite")
    if (manifest["database"] == "sqlite") != is_sqlite:
        raise BackupError(
            f"Cadangan ini dari basis data {manifest['database']}; tujuan pemulihan "
            f"{'SQLite' if is_sqlite else 'PostgreSQL'}. Pakai --database-url yang sesuai."
        )
    if not is_sqlite:
        _require_empty_postgres(settings.database_url)
    home.mkdir(parents=True, exist_ok=True)
    os.chmod(home, 0o700)
    settings.keys_dir.mkdir()
    os.chmod(settings.keys_dir, 0o700)
    for name in ("server.key", "verifier.pub"):
        source_file = snapshot / "keys" / name
        if source_file.exists():
            _copy_hashed(source_file, settings.keys_dir / name)
            os.chmod(settings.keys_dir / name, 0o600)
    if is_sqlite:
        _copy_hashed(snapshot / database_file, _sqlite_path(settings.database_url))
    else:
        _run_tool(
            [
                _pg_tool("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--dbname",
                _libpq_url(settings.database_url),
                str(snapshot / database_file),
            ],
            "pg_restore",
        )
    settings.blob_dir.mkdir(parents=True, exist_ok=True)
    blobs = 0
    for relative, facts in manifest["files"].items():
        if relative.startswith("blobs/"):
            _copy_hashed(snapshot.parent / relative, settings.blob_dir / facts["sha256"])
            blobs += 1
    fsync_dir(settings.blob_dir)

    db = open_database(settings.database_url)
    try:
        epoch = secrets.token_hex(16)
        with db.write() as session:
            session.merge(ServerMeta(key=EPOCH_KEY, value=epoch))
            session.merge(ServerMeta(key="restored_at", value=str(time.time())))
            # Partial uploads were not backed up: start them again from offset 0.
            session.execute(update(Upload).where(Upload.completed_at.is_(None)).values(offset=0))
            max_seq = int(session.scalar(select(func.max(ChangeLog.seq))) or 0)
            stored = set(session.scalars(select(StoredFile.cipher_sha256)))
    finally:
        db.dispose()
    absent = [sha for sha in stored if not (settings.blob_dir / sha).is_file()]
    if absent:
        raise BackupError(
            f"{len(absent)} dokumen yang tercatat di cadangan tidak ada di folder blobs.",
            f"absent: {absent[:3]}",
        )
    return RestoreReport(
        snapshot=snapshot,
        files_verified=len(manifest["files"]),
        blobs=blobs,
        max_seq=max_seq,
        epoch=epoch,
    )


def _require_empty_postgres(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                text(
                    "SELECT count(*) FROM information_schema.tables "
                    "WHERE table_schema = current_schema()"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    if found:
        raise BackupError(
            "Basis data PostgreSQL tujuan tidak kosong; buat basis data baru "
            "(createdb) untuk pemulihan."
        )

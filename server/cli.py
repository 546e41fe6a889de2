"""`berkas server ...`: run the BKD server and the admin actions (local only, never over
the network). Mounted by client/cli.py; also runs as `python -m server.cli`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer

from server.admin import AdminError
from server.db import Database, SchemaTooNew, open_database
from server.keys import (
    ServerKeyError,
    export_legacy_verifier_key,
    init_keys,
    is_initialised,
    register_verifier_key,
    registered_verifier_key,
)
from server.settings import DATABASE_URL_ENV, MIB, ServerSettings

HOME_ENV = "BERKAS_SERVER_HOME"

app = typer.Typer(
    name="server",
    help="Server BKD Berkas: init, verifier-key, run, opd, enrol-code, pegawai, devices, "
    "revoke, cadangkan, pulihkan.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
opd_app = typer.Typer(help="OPD terdaftar: add, list.", no_args_is_help=True)
pegawai_app = typer.Typer(help="Data induk pegawai: import.", no_args_is_help=True)
verifier_app = typer.Typer(
    help="Kunci publik verifikator BKD: set, show, export (memindahkan kunci privat lama).",
    no_args_is_help=True,
)
app.add_typer(opd_app, name="opd")
app.add_typer(verifier_app, name="verifier-key")
app.add_typer(pegawai_app, name="pegawai")

HomeOption = Annotated[
    Path,
    typer.Option(
        "--home",
        envvar=HOME_ENV,
        help=f"Folder server (kunci, basis data, dokumen). Juga: {HOME_ENV}.",
    ),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar=DATABASE_URL_ENV,
        help="Basis data (mis. postgresql+psycopg://...); bawaan: SQLite DIR/server.db. "
        f"Juga: {DATABASE_URL_ENV}.",
        show_default=False,
    ),
]
DEFAULT_HOME = Path("berkas-server")
T = TypeVar("T")


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"Gagal: {message}", err=True)
    raise typer.Exit(code)


def _settings(home: Path, database_url: str | None) -> ServerSettings:
    return ServerSettings.for_home(home, database_url)


def _admin(home: Path, database_url: str | None, action: Callable[[Database], T]) -> T:
    """One admin action on the server's database, closed after; an AdminError is the
    person's message (the command fails with it)."""
    db = _open(home, database_url)
    try:
        return action(db)
    except AdminError as exc:
        _fail(exc.message)
    finally:
        db.dispose()


def _open(home: Path, database_url: str | None) -> Database:
    settings = _settings(home, database_url)
    if not is_initialised(settings):
        _fail(
            f"Server di {settings.home} belum diinisialisasi. "
            f"Jalankan dulu: berkas server init --home {home}"
        )
    try:
        return open_database(settings.database_url)
    except SchemaTooNew as exc:
        _fail(exc.message)
    except Exception as exc:  # connection refused, bad URL, ...
        _fail(f"Basis data server tidak dapat dibuka: {type(exc).__name__}: {exc}")


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _verifier_text(value: str) -> str:
    """KUNCI is the public key itself or the path of the verifier.pub file holding it."""
    candidate = Path(value).expanduser()
    if candidate.is_file():
        try:
            return candidate.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            _fail(f"Berkas {candidate} tidak dapat dibaca: {exc}")
    return value.strip()


VerifierKeyArgument = Annotated[
    str,
    typer.Argument(
        metavar="KUNCI_PUBLIK",
        help="Kunci publik verifikator (dicetak oleh 'berkas verifikasi kunci buat') "
        "atau berkas verifier.pub-nya.",
    ),
]


@app.command("init")
def init_cmd(
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseOption = None,
    verifier_key: Annotated[
        str | None,
        typer.Option(
            "--verifier-key",
            help="Kunci publik verifikator BKD (atau berkas verifier.pub); "
            "boleh didaftarkan nanti dengan 'berkas server verifier-key set'.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Buat kunci server dan basis data. Kunci privat verifikator tidak pernah di server."""
    settings = _settings(home, database_url)
    settings.home.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.home, 0o700)  # personnel data: only the server's own user
    try:
        init_keys(settings, _verifier_text(verifier_key) if verifier_key else None)
    except ServerKeyError as exc:
        _fail(exc.message)
    _open(home, database_url).dispose()
    settings.blob_dir.mkdir(parents=True, exist_ok=True)
    typer.echo(f"Server diinisialisasi di {settings.home}.")
    registered = registered_verifier_key(settings)
    if registered:
        typer.echo(f"Kunci publik verifikator BKD: {registered}")
    else:
        typer.echo(
            "Langkah berikutnya: di komputer verifikator jalankan 'berkas verifikasi kunci "
            "buat', bawa kunci publik yang dicetaknya ke sini, lalu: "
            f"berkas server verifier-key set KUNCI --home {home}"
        )


@verifier_app.command("set")
def verifier_set_cmd(
    kunci: VerifierKeyArgument,
    home: HomeOption = DEFAULT_HOME,
) -> None:
    """Daftarkan kunci publik verifikator BKD (dibuat di komputer verifikator)."""
    settings = _settings(home, None)
    if not is_initialised(settings):
        _fail(
            f"Server di {settings.home} belum diinisialisasi. "
            f"Jalankan dulu: berkas server init --home {home}"
        )
    try:
        key = register_verifier_key(settings, _verifier_text(kunci))
    except ServerKeyError as exc:
        _fail(exc.message)
    typer.echo(f"Kunci publik verifikator BKD terdaftar: {key}")
    typer.echo(
        "Cocokkan dengan yang tercetak di komputer verifikator sebelum mendaftarkan perangkat."
    )


@verifier_app.command("show")
def verifier_show_cmd(home: HomeOption = DEFAULT_HOME) -> None:
    """Tampilkan kunci publik verifikator yang terdaftar."""
    key = registered_verifier_key(_settings(home, None))
    if key is None:
        _fail("Kunci publik verifikator belum didaftarkan (berkas server verifier-key set).")
    typer.echo(key)


@verifier_app.command("export")
def verifier_export_cmd(
    ke: Annotated[
        Path,
        typer.Option("--ke", help="Berkas tujuan di luar server, mis. di flashdisk."),
    ],
    home: HomeOption = DEFAULT_HOME,
) -> None:
    """Pindahkan kunci privat verifikator yang ditinggalkan versi lama dari server."""
    settings = _settings(home, None)
    try:
        target = export_legacy_verifier_key(settings, ke)
    except ServerKeyError as exc:
        _fail(exc.message)
    typer.echo(f"Kunci privat verifikator dipindahkan ke {target} dan dihapus dari server.")
    typer.echo(
        "Di komputer verifikator: berkas verifikasi kunci pasang " + str(target) + "; "
        "lalu simpan berkas itu di tempat aman (terkunci) dan hapus dari media lain. "
        "Cadangan server yang dibuat sebelum hari ini masih memuatnya: musnahkan atau "
        "simpan di tempat yang sama amannya."
    )


@app.command("cadangkan")
def backup_cmd(
    tujuan: Annotated[
        Path,
        typer.Argument(
            metavar="FOLDER_TUJUAN",
            help="Folder cadangan (di disk lain atau mount jaringan). Dokumen yang sudah ada "
            "di sana tidak disalin ulang.",
        ),
    ],
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseOption = None,
) -> None:
    """Cadangkan server yang sedang berjalan: basis data, dokumen, kunci, manifest sha256."""
    from server.backup import BackupError, backup

    settings = _settings(home, database_url)
    if not is_initialised(settings):
        _fail(f"Server di {settings.home} belum diinisialisasi.")
    try:
        report = backup(settings, tujuan)
    except BackupError as exc:
        _fail(exc.message)
    except SchemaTooNew as exc:
        _fail(exc.message)
    mb = report.bytes_copied / MIB
    typer.echo(f"Cadangan dibuat: {report.snapshot}")
    typer.echo(
        f"{report.records} rekaman, {report.files} berkas di manifest; dokumen: "
        f"{report.blobs_copied} disalin ({mb:.1f} MB), {report.blobs_reused} sudah ada; "
        f"{report.seconds:.1f} detik."
    )
    typer.echo(
        "Cadangan memuat kunci privat server: simpan dan batasi aksesnya seperti folder "
        "server sendiri."
    )


@app.command("pulihkan")
def restore_cmd(
    sumber: Annotated[
        Path,
        typer.Argument(
            metavar="FOLDER_CADANGAN",
            help="Folder cadangan (yang terbaru dipakai) atau satu folder cadangan-....",
        ),
    ],
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseOption = None,
) -> None:
    """Pulihkan cadangan ke folder server kosong (dan basis data kosong), dengan
    pemeriksaan sha256 setiap berkas."""
    from server.backup import BackupError, restore

    settings = _settings(home, database_url)
    try:
        report = restore(sumber, settings)
    except BackupError as exc:
        _fail(exc.message)
    except SchemaTooNew as exc:
        _fail(exc.message)
    typer.echo(f"Dipulihkan dari {report.snapshot} ke {settings.home}.")
    typer.echo(
        f"{report.files_verified} berkas cocok dengan manifest; {report.blobs} dokumen; "
        f"nomor urut terakhir {report.max_seq}."
    )
    typer.echo(
        "Jalankan server seperti biasa. Perangkat yang tersinkron setelah cadangan ini "
        "mengirim ulang perubahannya sendiri pada sinkronisasi berikutnya."
    )


@app.command("run")
def run_cmd(
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseOption = None,
    host: Annotated[str, typer.Option("--host", help="Alamat dengar.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Porta dengar.")] = 8700,
    log_level: Annotated[str, typer.Option("--log-level")] = "info",
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Jumlah proses server pada porta ini (basis data yang sama).",
        ),
    ] = 1,
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            help="json (satu objek JSON per baris, dengan request_id) atau teks.",
        ),
    ] = "json",
) -> None:
    """Jalankan server (FastAPI di bawah uvicorn); OpenAPI di /docs, metrik di /metrics."""
    import uvicorn

    from server.app import create_app

    settings = _settings(home, database_url)
    try:
        api = create_app(settings)
    except ServerKeyError as exc:
        _fail(exc.message)
    except SchemaTooNew as exc:
        _fail(exc.message)
    if log_format not in ("json", "teks"):
        _fail("--log-format harus json atau teks.")
    typer.echo(f"Server Berkas berjalan di http://{host}:{port} (OpenAPI: /docs).")
    from server.metrics import json_log_config

    log_config = (
        json_log_config(log_level) if log_format == "json" else uvicorn.config.LOGGING_CONFIG
    )
    if workers == 1:
        uvicorn.run(api, host=host, port=port, log_level=log_level, log_config=log_config)
        return
    # Several processes: each worker builds its app from the environment (uvicorn spawns
    # them); their metrics counters meet in one multiprocess folder (prometheus-client).
    del api
    metrics_dir = settings.home / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(mode=0o700)
    os.environ[HOME_ENV] = str(settings.home)
    os.environ[DATABASE_URL_ENV] = settings.database_url
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    uvicorn.run(
        "server.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        log_config=log_config,
    )


@opd_app.command("add")
def opd_add_cmd(
    kode: Annotated[str, typer.Argument(metavar="KODE_OPD", help="Kode OPD, mis. DISDIK.")],
    nama: Annotated[str, typer.Argument(metavar="NAMA_OPD", help="Nama OPD.")],
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseOption = None,
) -> None:
    """Daftarkan OPD (atau BKD sendiri, untuk perangkat verifikator)."""
    from server.admin import add_opd

    opd = _admin(home, database_url, lambda db: add_opd(db, kode, nama))
    typer.echo(f"OPD {opd.kode} ({opd.nama}) terdaftar.")


@opd_app.command("list")
def opd_list_cmd(home: HomeOption = DEFAULT_HOME, database_url: DatabaseOption = None) -> None:
    """Tampilkan OPD terdaftar."""
    from server.admin import list_opds

    opds = _admin(home, database_url, list_opds)
    if not opds:
        typer.echo("Belum ada OPD terdaftar.")
    for opd in opds:
        typer.echo(f"{opd.kode:<16} {opd.nama}")


@app.command("enrol-code")
def enrol_code_cmd(
    kode: Annotated[str, typer.Argument(metavar="KODE_OPD", help="Kode OPD perangkat itu.")],
    role: Annotated[
        str, typer.Option("--role", help="Peran perangkat: opd atau verifikator.")
    ] = "opd",
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseOption = None,
) -> None:
    """Buat kode pendaftaran sekali pakai (berlaku 72 jam)."""
    from server.admin import issue_enrol_code

    issued = _admin(home, database_url, lambda db: issue_enrol_code(db, kode, role))
    typer.echo(f"Kode pendaftaran untuk {issued.opd_kode} ({issued.role.value}): {issued.code}")
    typer.echo(f"Berlaku sekali, sampai {_when(issued.expires_at)}.")


@pegawai_app.command("import")
def pegawai_import_cmd(
    kode: Annotated[str, typer.Argument(metavar="KODE_OPD", help="Kode OPD pemilik data.")],
    file: Annotated[Path, typer.Argument(metavar="BERKAS_CSV", help="Berkas CSV pegawai.")],
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseOption = None,
) -> None:
    """Impor data induk pegawai (CSV) untuk ditarik perangkat OPD."""
    from server.admin import import_pegawai

    try:
        content = file.read_bytes()
    except OSError as exc:
        _fail(f"Berkas {file} tidak dapat dibaca: {exc.strerror}")
    report = _admin(home, database_url, lambda db: import_pegawai(db, kode, content))
    typer.echo(
        f"Impor pegawai {kode.upper()}: {report.created} baru, {report.updated} diperbarui, "
        f"{report.unchanged} tidak berubah, {len(report.errors)} baris ditolak."
    )
    for line, message in report.errors:
        typer.echo(f"  baris {line}: {message}", err=True)
    if report.errors:
        raise typer.Exit(3)


@app.command("devices")
def devices_cmd(
    opd: Annotated[str | None, typer.Option("--opd", help="Hanya OPD ini.")] = None,
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseOption = None,
) -> None:
    """Tampilkan perangkat terdaftar."""
    from server.admin import list_devices

    devices = _admin(home, database_url, lambda db: list_devices(db, opd))
    if not devices:
        typer.echo("Belum ada perangkat terdaftar.")
        return
    typer.echo(
        f"{'ID PERANGKAT':<38} {'OPD':<12} {'PERAN':<12} {'STATUS':<8} "
        f"{'SINKRON TERAKHIR':<21} {'VERSI':<10} NAMA"
    )
    for d in devices:
        status = "dicabut" if d.revoked_at is not None else "aktif"
        typer.echo(
            f"{d.id:<38} {d.opd_kode:<12} {d.role:<12} {status:<8} "
            f"{_when(d.last_seen_at):<21} {d.client_version or '-':<10} {d.name}"
        )


@app.command("revoke")
def revoke_cmd(
    device_id: Annotated[
        str,
        typer.Argument(metavar="ID_PERANGKAT", help="ID perangkat (lihat: berkas server devices)."),
    ],
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseOption = None,
) -> None:
    """Cabut perangkat: semua permintaannya ditolak sejak saat ini."""
    from server.admin import revoke_device

    device = _admin(home, database_url, lambda db: revoke_device(db, device_id))
    typer.echo(f"Perangkat {device.id} ({device.opd_kode}, {device.name}) dicabut.")


def main() -> None:
    app(prog_name="berkas server")


if __name__ == "__main__":
    main()

"""The `berkas` command line, grouped by noun. With no arguments it opens the TUI.

This is the one module that sees both sides of the system: `berkas server ...`
forwards to the BKD server's own CLI (imported only when asked for), so the
OPD's everyday commands and the TUI's start never load the server.
"""

from __future__ import annotations

import importlib
import shutil
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from client.errors import ClientError
from client.paths import Paths, resolve_paths

if TYPE_CHECKING:
    from client.services import BerkasClient

# client.services and client.config (SQLAlchemy, pydantic, the rules) are imported
# inside the commands that need them: `berkas` alone must paint the TUI within 1 s.

app = typer.Typer(
    name="berkas",
    help="Berkas: usulan kepegawaian OPD, luring dulu, tersinkron ke BKD.",
    no_args_is_help=False,
    add_completion=False,
    rich_markup_mode=None,
)
pegawai_app = typer.Typer(help="Data pegawai: impor dan cari.", no_args_is_help=True)
usulan_app = typer.Typer(help="Usulan: buat, lihat, ajukan.", no_args_is_help=True)
app.add_typer(pegawai_app, name="pegawai")
app.add_typer(usulan_app, name="usulan")

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="Folder data Berkas (juga: BERKAS_HOME).", show_default=False),
]


class _State:
    home: Path | None = None


_state = _State()


@app.callback(invoke_without_command=True)
def _root(ctx: typer.Context, home: HomeOption = None) -> None:
    _state.home = home
    if ctx.invoked_subcommand is None:
        _open_tui(resolve_paths(home))


def paths() -> Paths:
    return resolve_paths(_state.home)


def fail(exc: ClientError) -> None:
    typer.echo(f"Gagal: {exc.message}", err=True)
    raise typer.Exit(2)


def open_client() -> BerkasClient:
    from client.services import BerkasClient

    try:
        return BerkasClient.open(paths())
    except ClientError as exc:
        fail(exc)
        raise  # unreachable; keeps mypy sure of the return


def _open_tui(p: Paths) -> None:
    try:
        tui_app = importlib.import_module("tui.app")
    except ImportError as exc:  # pragma: no cover - only before the TUI exists
        typer.echo(f"Tampilan terminal belum tersedia: {exc}", err=True)
        raise typer.Exit(2) from exc
    tui_app.run(p)


def _forward(module: str, args: list[str], prog: str) -> None:
    sub = importlib.import_module(module).app
    sub(args=args, prog_name=prog, standalone_mode=True)


_FORWARD = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


@app.command("server", context_settings=_FORWARD, add_help_option=False)
def server_cmd(ctx: typer.Context) -> None:
    """Server BKD: init, run, opd, enrol-code, pegawai, devices (jalankan di mesin BKD)."""
    _forward("server.cli", list(ctx.args), "berkas server")


@app.command("intake", context_settings=_FORWARD, add_help_option=False)
def intake_cmd(ctx: typer.Context) -> None:
    """Pindaian masuk: watch (pantau folder) atau run FOLDER (sekali jalan)."""
    from client.intake.cli import set_service_factory
    from client.intake_wiring import intake_service

    set_service_factory(lambda home: intake_service(resolve_paths(home)))
    args = list(ctx.args)
    if _state.home is not None:
        args = ["--home", str(_state.home), *args]
    _forward("client.intake.cli", args, "berkas intake")


def _sync_command(name: str, summary: str) -> None:
    def command(ctx: typer.Context) -> None:
        # client.sync_cli reads the home from `paths()` here, so no --home is passed.
        _forward("client.sync_cli", [name, *ctx.args], "berkas")

    command.__doc__ = summary
    app.command(name, context_settings=_FORWARD, add_help_option=False)(command)


_sync_command("enrol", "Daftarkan perangkat ini ke server BKD: --server URL --code KODE.")
_sync_command("status", "Keadaan sinkronisasi: server, OPD, perangkat, antrean.")
_sync_command("sync", "Sinkronkan sekarang (sekali).")
_sync_command("agent", "Sinkronisasi latar belakang tanpa tampilan (untuk layanan).")
_sync_command("restore", "Pulihkan data OPD ke mesin baru: --server URL --code KODE.")
_sync_command("konflik", "Konflik data: daftar | selesaikan.")


@app.command("verifikasi", context_settings=_FORWARD, add_help_option=False)
def verifikasi_cmd(ctx: typer.Context) -> None:
    """Verifikator BKD: antrian, buka, ms/bts/tms, teruskan, selesai."""
    _forward("client.verifikasi_cli", list(ctx.args), "berkas verifikasi")


@app.command("init")
def init_cmd(
    opd: Annotated[str, typer.Option("--opd", help="Kode OPD, mis. DISDIK.")],
    operator: Annotated[str, typer.Option("--operator", help="Nama pengelola kepegawaian.")] = "",
    server: Annotated[str, typer.Option("--server", help="Alamat server BKD.")] = "",
) -> None:
    """Siapkan folder data dan pengaturan untuk OPD ini."""
    p = paths()
    from client.config import load_config, save_config

    config = load_config(p.config)
    config.opd_kode = opd.upper()
    config.operator = operator or config.operator
    config.server_url = server or config.server_url
    if not config.intake.scan_folders:
        config.intake.scan_folders = [p.scans]
    save_config(p.config, config)
    p.scans.mkdir(parents=True, exist_ok=True)
    client = open_client()
    client.close()
    typer.echo(f"Siap: OPD {config.opd_kode}, data di {p.data}")


@pegawai_app.command("import")
def pegawai_import(file: Annotated[Path, typer.Argument(help="Berkas CSV pegawai.")]) -> None:
    """Impor pegawai dari CSV (kolom: lihat README). Baris salah dilaporkan."""
    client = open_client()
    try:
        report = client.import_pegawai_csv(file)
    except ClientError as exc:
        fail(exc)
    finally:
        client.close()
    typer.echo(f"Diimpor: {report.created} baru, {report.updated} diperbarui.")
    for err in report.errors:
        typer.echo(f"  baris {err.line}: {err.message}", err=True)
    if report.errors:
        typer.echo(f"{len(report.errors)} baris ditolak.", err=True)
        raise typer.Exit(1)


@pegawai_app.command("cari")
def pegawai_cari(
    teks: Annotated[str, typer.Argument(help="NIP (awalannya) atau nama.")],
    batas: Annotated[int, typer.Option(help="Jumlah hasil paling banyak.")] = 20,
) -> None:
    """Cari pegawai menurut NIP atau nama."""
    client = open_client()
    try:
        rows = client.search_pegawai(teks, limit=batas)
    finally:
        client.close()
    for v in rows:
        typer.echo(f"{v.nip}  {v.nama:<35} {v.golongan:<6} {v.jabatan}")
    if not rows:
        typer.echo("Tidak ada pegawai yang cocok.")


@usulan_app.command("buat")
def usulan_buat(
    nip: Annotated[str, typer.Argument(help="NIP pegawai (spasi boleh).")],
    layanan: Annotated[str, typer.Option(help="kp | pindah | pensiun")] = "kp",
    jenis: Annotated[str, typer.Option(help="mis. reguler, bup, pindah")] = "reguler",
) -> None:
    """Buat usulan draf untuk seorang pegawai."""
    client = open_client()
    try:
        pegawai = client.pegawai_by_nip(nip)
        if pegawai is None:
            fail(ClientError(f"Pegawai dengan NIP {nip} tidak ditemukan."))
            return
        view = client.create_usulan(pegawai.id, layanan, jenis)
    except ClientError as exc:
        fail(exc)
        return
    finally:
        client.close()
    typer.echo(
        f"Usulan dibuat: {view.id} ({view.layanan}/{view.jenis}, kurang {view.kurang} dokumen)"
    )


@usulan_app.command("daftar")
def usulan_daftar(
    status: Annotated[str | None, typer.Option(help="Saring menurut status.")] = None,
    layanan: Annotated[str | None, typer.Option(help="Saring menurut layanan.")] = None,
) -> None:
    """Daftar usulan."""
    client = open_client()
    try:
        rows = client.list_usulan(status=status, layanan=layanan)
    finally:
        client.close()
    for u in rows:
        typer.echo(
            f"{u.id}  {u.nip}  {u.nama:<30} {u.layanan}/{u.jenis:<18} "
            f"{u.status_label} (kurang {u.kurang})"
        )
    if not rows:
        typer.echo("Belum ada usulan.")


@usulan_app.command("lihat")
def usulan_lihat(usulan_id: str) -> None:
    """Daftar periksa dan riwayat satu usulan."""
    client = open_client()
    try:
        detail = client.usulan_detail(usulan_id)
    except ClientError as exc:
        fail(exc)
        return
    finally:
        client.close()
    u = detail.usulan
    typer.echo(f"{u.nama} ({u.nip}) — {u.layanan}/{u.jenis} — {u.status_label}")
    for line in detail.checklist:
        mark = {
            "ada": "ada",
            "kurang": "KURANG",
            "terlalu_besar": "TERLALU BESAR",
            "dikembalikan": "DIKEMBALIKAN",
            "tidak_berlaku": "-",
        }.get(line.state, line.state)
        typer.echo(f"  [{mark:>13}] {line.kode:<24} {line.nama}")
    for h in detail.history:
        typer.echo(f"  {h.waktu}  {h.dari or '-'} -> {h.ke}  {h.oleh}  {h.alasan}")


@usulan_app.command("lembar")
def usulan_lembar(
    usulan_id: str,
    keluar: Annotated[
        Path | None,
        typer.Option("--keluar", "-o", help="Berkas PDF tujuan.", show_default=False),
    ] = None,
) -> None:
    """Cetak lembar pemisah (PDF) untuk setiap dokumen usulan yang masih kurang."""
    target = keluar or Path(f"lembar-pemisah-{usulan_id[:8]}.pdf")
    client = open_client()
    try:
        count = client.separator_sheets(usulan_id, target)
    except ClientError as exc:
        fail(exc)
        return
    finally:
        client.close()
    typer.echo(f"{count} lembar pemisah ditulis ke {target}.")
    typer.echo("Letakkan tiap lembar di depan dokumennya, lalu pindai seluruh tumpukan sekaligus.")


@usulan_app.command("ajukan")
def usulan_ajukan(usulan_id: str) -> None:
    """Ajukan usulan ke BKD (hanya bila dokumennya lengkap)."""
    client = open_client()
    try:
        view = client.ajukan(usulan_id)
    except ClientError as exc:
        fail(exc)
        return
    finally:
        client.close()
    typer.echo(f"Usulan {view.id} diajukan.")


@app.command("ringkasan")
def ringkasan() -> None:
    """Ringkasan: pegawai, usulan per status, yang jatuh tempo, dokumen kurang."""
    client = open_client()
    try:
        print_summary(client, date.today())
    finally:
        client.close()


def print_summary(client: BerkasClient, today: date) -> None:
    d = client.dashboard(today)
    period = d.kp_period
    typer.echo(f"Pegawai: {d.pegawai_total}")
    typer.echo(
        "Usulan per status: " + ", ".join(f"{k} {v}" for k, v in d.status_counts.items() if v)
        or "Usulan per status: belum ada"
    )
    window = (
        f"jendela pengajuan {period.window_start:%d-%m-%Y} s.d. {period.window_end:%d-%m-%Y}"
        + (f", sisa {d.kp_days_left} hari" if d.kp_window_open else " (belum dibuka)")
    )
    typer.echo(f"Periode KP berikut: TMT {period.tmt:%d-%m-%Y}; {window}")
    typer.echo(f"Pegawai layak KP tanpa usulan: {len(d.kp_due_without_usulan)}")
    typer.echo(f"Pegawai pensiun dalam 15 bulan tanpa usulan: {len(d.pensiun_due_without_usulan)}")
    typer.echo(f"Dokumen kurang: {d.missing_dokumen} pada {d.usulan_incomplete} usulan terbuka")
    typer.echo(f"Usulan dikembalikan (BTS) perlu tindakan: {len(d.returned)}")
    typer.echo(f"Perubahan menunggu sinkronisasi: {d.pending_ops}")


@app.command("demo")
def demo_cmd(
    headless: Annotated[bool, typer.Option("--headless", help="Tanpa tampilan terminal.")] = False,
    fresh: Annotated[bool, typer.Option("--fresh/--keep", help="Mulai dari folder kosong.")] = True,
) -> None:
    """Jalankan demo dengan data contoh di folder demo (bawaan: ./berkas-demo)."""
    from client.demo import DEMO_MARKER, run_demo

    # Only --home or ./berkas-demo, never BERKAS_HOME: --fresh wipes the folder,
    # and only one that an earlier demo made (it carries the marker file).
    home = _state.home or Path("berkas-demo")
    if fresh and home.exists():
        if not (home / DEMO_MARKER).exists():
            fail(ClientError(f"Folder {home} bukan folder demo; tidak dihapus. Pakai --home lain."))
        shutil.rmtree(home)
    home.mkdir(parents=True, exist_ok=True)
    (home / DEMO_MARKER).write_text("Folder demo Berkas; boleh dihapus.\n", encoding="utf-8")
    try:
        result = run_demo(resolve_paths(home), today=date.today(), echo=typer.echo)
    except ClientError as exc:
        fail(exc)
        return
    try:
        typer.echo("")
        print_summary(result.client, date.today())
        result.client.close()
        if not headless and sys.stdin.isatty():
            typer.echo(
                f"Membuka tampilan terminal; server BKD demo tetap berjalan di {result.server.url}."
            )
            _open_tui(resolve_paths(home))
    finally:
        result.server.stop()


def main() -> None:
    app()


if __name__ == "__main__":
    # Run through the importable module: subcommand modules read `client.cli.paths()`,
    # which under `python -m` would otherwise be a second copy without --home.
    from client.cli import main as _main

    _main()

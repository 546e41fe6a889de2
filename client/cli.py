"""The `berkas` command line, grouped by noun. With no arguments it opens the TUI.

This is the one module that sees both sides of the system: `berkas server ...`
forwards to the BKD server's own CLI (imported only when asked for), so the
OPD's everyday commands and the TUI's start never load the server.
"""

from __future__ import annotations

import importlib
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from client import cli_lang
from client.errors import BelumLayak, BerkasError, ClientError
from client.home import TIGHTENED_NOTICE, private_umask, tighten_home
from client.paths import Paths, resolve_paths

if TYPE_CHECKING:
    from client.services import BerkasClient

# client.services and client.config (SQLAlchemy, pydantic, the rules) are imported
# inside the commands that need them: `berkas` alone must paint the TUI within 1 s.

cli_lang.install()  # Click's own words ("Usage:", "Options:", ...) in Bahasa Indonesia

app = typer.Typer(
    name="berkas",
    help="Berkas: usulan kepegawaian OPD, luring dulu, tersinkron ke BKD.",
    no_args_is_help=False,
    add_completion=False,
    rich_markup_mode=None,
)
pegawai_app = typer.Typer(help="Data pegawai: impor dan cari.", no_args_is_help=True)
usulan_app = typer.Typer(
    help="Usulan: buat, daftar, lihat, tidak berlaku, lembar pemisah, ajukan.",
    no_args_is_help=True,
)
app.add_typer(pegawai_app, name="pegawai")
app.add_typer(usulan_app, name="usulan")

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="Folder data Berkas (juga: BERKAS_HOME).", show_default=False),
]

UsulanIdArgument = Annotated[
    str, typer.Argument(metavar="ID_USULAN", help="ID usulan (lihat: berkas usulan daftar).")
]


class _State:
    home: Path | None = None


_state = _State()


@app.callback(invoke_without_command=True)
def _root(ctx: typer.Context, home: HomeOption = None) -> None:
    _state.home = home
    # Personnel data (UU 27/2022): whatever this process creates is the owner's alone.
    private_umask()
    if ctx.invoked_subcommand != "server":
        tightened = tighten_home(resolve_paths(home))
        if tightened:
            typer.echo(
                TIGHTENED_NOTICE.format(home=resolve_paths(home).data, count=tightened), err=True
            )
    if ctx.invoked_subcommand is None:
        open_tui(resolve_paths(home))


def paths() -> Paths:
    return resolve_paths(_state.home)


def home_option() -> Path | None:
    """The --home given on the command line, if any (not BERKAS_HOME)."""
    return _state.home


def fail(exc: BerkasError) -> None:
    typer.echo(f"Gagal: {exc.message}", err=True)
    raise typer.Exit(2)


def open_client() -> BerkasClient:
    from client.services import BerkasClient

    try:
        return BerkasClient.open(paths())
    except BerkasError as exc:
        fail(exc)
        raise  # unreachable; keeps mypy sure of the return


def _make_device_key(p: Paths) -> None:
    """Make this home's device key now, once, before any scan or process needs it."""
    from client.sync_service import keyring_for

    try:
        keyring_for(p).device_keys(create=True)
    except BerkasError as exc:
        fail(exc)


def tui_module_for(p: Paths) -> str:
    """The OPD screens, or on a home enrolled as BKD verifikator the verifikator's screens
    only (the OPD screens never appear there)."""
    from client.sinkronisasi import enrolment

    facts = enrolment(p)
    return "tui.verifikasi_app" if facts is not None and facts.role == "verifikator" else "tui.app"


def open_tui(p: Paths) -> None:
    module = tui_module_for(p)
    try:
        tui_app = importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - only before the TUI exists
        typer.echo(f"Tampilan terminal belum tersedia: {exc}", err=True)
        raise typer.Exit(2) from exc
    tui_app.run(p)


def _forward(module: str, args: list[str], prog: str) -> None:
    sub = importlib.import_module(module).app
    sub(args=args, prog_name=prog, standalone_mode=True)


FORWARD = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


@app.command("intake", context_settings=FORWARD, add_help_option=False)
def intake_cmd(ctx: typer.Context) -> None:
    """Pindaian masuk: watch (pantau folder) atau run FOLDER (sekali jalan)."""
    from client.intake.cli import make_app
    from client.intake_wiring import intake_service

    args = list(ctx.args)
    if _state.home is not None:
        args = ["--home", str(_state.home), *args]
    intake = make_app(lambda home: intake_service(resolve_paths(home), lock=True))
    intake(args=args, prog_name="berkas intake", standalone_mode=True)


def _sync_command(name: str, summary: str) -> None:
    def command(ctx: typer.Context) -> None:
        # client.sync_cli reads the home from `paths()` here, so no --home is passed.
        _forward("client.sync_cli", [name, *ctx.args], "berkas")

    command.__doc__ = summary
    app.command(name, context_settings=FORWARD, add_help_option=False)(command)


_sync_command("enrol", "Daftarkan perangkat ini ke server BKD: --server URL --code KODE.")
_sync_command("status", "Keadaan sinkronisasi: server, OPD, perangkat, antrean.")
_sync_command("sync", "Sinkronkan sekarang (sekali).")
_sync_command("agent", "Sinkronisasi latar belakang tanpa tampilan (untuk layanan).")
_sync_command("restore", "Pulihkan data OPD ke mesin baru: --server URL --code KODE.")
_sync_command("konflik", "Konflik data: daftar | selesaikan.")


@app.command("verifikasi", context_settings=FORWARD, add_help_option=False)
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
    _make_device_key(p)
    typer.echo(f"Siap: OPD {config.opd_kode}, data di {p.data}")


@app.command("periksa")
def periksa_cmd(
    perbaiki: Annotated[
        bool, typer.Option("--perbaiki", help="Bangun ulang indeks bila hanya indeks yang rusak.")
    ] = False,
) -> None:
    """Periksa keutuhan data lokal (berkas.db) secara menyeluruh; --perbaiki bila bisa."""
    from store import integrity

    store = paths().store
    if not store.is_file():
        fail(ClientError(f"Belum ada data Berkas di {store}. Jalankan dulu: berkas init"))
    typer.echo(f"Memeriksa {store} ...")
    report = integrity.check_file(store, full=True)
    if report.ok:
        integrity.clear_marker(store)
        typer.echo("Data utuh: tidak ada kerusakan.")
        return
    typer.echo(f"Ditemukan {len(report.problems)} kerusakan, mis.:", err=True)
    for line in report.problems[:5]:
        typer.echo(f"  {line}", err=True)
    integrity.record_damage(store, report)
    if perbaiki and report.repairable:
        after = integrity.repair_indexes(store)
        if after.ok:
            typer.echo("Indeks dibangun ulang; data kini utuh.")
            return
        report = after
        typer.echo("Membangun ulang indeks tidak cukup.", err=True)
    typer.echo(integrity.way_out(store, report.repairable), err=True)
    raise typer.Exit(1)


@pegawai_app.command("import")
def pegawai_import(
    file: Annotated[Path, typer.Argument(metavar="BERKAS_CSV", help="Berkas CSV pegawai.")],
) -> None:
    """Impor pegawai dari CSV (kolom: lihat README). Baris salah dilaporkan."""
    client = open_client()
    try:
        report = client.import_pegawai_csv(file)
    except BerkasError as exc:
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
    teks: Annotated[str, typer.Argument(metavar="TEKS", help="NIP (awalannya) atau nama.")],
    batas: Annotated[int, typer.Option(help="Jumlah hasil paling banyak.")] = 20,
) -> None:
    """Cari pegawai menurut NIP atau nama."""
    client = open_client()
    try:
        rows = client.search_pegawai(teks, limit=batas)
    finally:
        client.close()
    if rows:
        from client import cli_table

        cli_table.show(cli_table.pegawai_table(rows))
    if not rows:
        typer.echo("Tidak ada pegawai yang cocok.")


@usulan_app.command("buat")
def usulan_buat(
    nip: Annotated[str, typer.Argument(metavar="NIP", help="NIP pegawai (spasi boleh).")],
    layanan: Annotated[str, typer.Option(help="kp | pindah | pensiun")] = "kp",
    jenis: Annotated[
        str | None,
        typer.Option(help="mis. reguler, bup, pindah; tanpa ini: jenis pertama layanannya"),
    ] = None,
    tetap_buat: Annotated[
        bool,
        typer.Option(
            "--tetap-buat",
            help="Buat juga bila menurut aturan belum layak (alasannya dicatat di riwayat).",
        ),
    ] = False,
) -> None:
    """Buat usulan draf untuk seorang pegawai."""
    from store.rules import default_jenis

    client = open_client()
    try:
        pegawai = client.pegawai_by_nip(nip)
        if pegawai is None:
            fail(ClientError(f"Pegawai dengan NIP {nip} tidak ditemukan."))
            return
        if jenis is None:
            jenis = default_jenis(layanan, client.rules)
        view = client.create_usulan(pegawai.id, layanan, jenis, tetap=tetap_buat)
        refiled = client.refile_waiting()  # scans that waited in the Kotak masuk for it
        if refiled:
            view = client.usulan_detail(view.id).usulan
    except BelumLayak as exc:
        typer.echo(f"Gagal: {exc.message}", err=True)
        typer.echo("Bila memang hendak diusulkan, ulangi dengan --tetap-buat.", err=True)
        raise typer.Exit(2) from None
    except BerkasError as exc:  # RuleError among them
        fail(exc)
        return
    finally:
        client.close()
    from client.labels import usulan_label

    typer.echo(
        f"Usulan dibuat: {view.id} ({usulan_label(view.layanan, view.jenis)}, "
        f"kurang {view.kurang} dokumen)"
    )
    if refiled:
        from client.intake.filing import refiled_message

        typer.echo(refiled_message(refiled))


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
    if rows:
        from client import cli_table

        cli_table.show(cli_table.usulan_table(rows))
    if not rows:
        typer.echo("Belum ada usulan.")


@usulan_app.command("lihat")
def usulan_lihat(usulan_id: UsulanIdArgument) -> None:
    """Daftar periksa dan riwayat satu usulan."""
    client = open_client()
    try:
        detail = client.usulan_detail(usulan_id)
    except BerkasError as exc:
        fail(exc)
        return
    finally:
        client.close()
    u = detail.usulan
    from client import cli_table
    from client.labels import usulan_label

    typer.echo(f"{u.nama} ({u.nip}) — {usulan_label(u.layanan, u.jenis)} — {u.status_label}")
    cli_table.show(cli_table.checklist_table(detail.checklist))
    if detail.history:
        typer.echo("Riwayat:")
        cli_table.show(cli_table.history_table(detail.history))


@usulan_app.command("lembar")
def usulan_lembar(
    usulan_id: UsulanIdArgument,
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
    except BerkasError as exc:
        fail(exc)
        return
    finally:
        client.close()
    typer.echo(f"{count} lembar pemisah ditulis ke {target}.")
    typer.echo("Letakkan tiap lembar di depan dokumennya, lalu pindai seluruh tumpukan sekaligus.")


@usulan_app.command("tidak-berlaku")
def usulan_tidak_berlaku(
    usulan_id: UsulanIdArgument,
    kode: Annotated[
        str, typer.Argument(metavar="KODE_DOKUMEN", help="Kode dokumen, mis. SURAT_NIKAH.")
    ],
    alasan: Annotated[
        str,
        typer.Option(
            help="Mengapa dokumen ini tidak berlaku (dibaca verifikator).", show_default=False
        ),
    ] = "",
    cabut: Annotated[
        bool, typer.Option("--cabut", help="Cabut tanda tidak berlaku (dokumen diperlukan lagi).")
    ] = False,
) -> None:
    """Tandai satu baris daftar periksa tidak berlaku (dengan alasan), atau cabut tandanya."""
    client = open_client()
    try:
        if cabut:
            client.cabut_tidak_berlaku(usulan_id, kode.strip().upper())
        else:
            client.tandai_tidak_berlaku(usulan_id, kode.strip().upper(), alasan)
    except BerkasError as exc:
        fail(exc)
        return
    finally:
        client.close()
    if cabut:
        typer.echo(f"Tanda tidak berlaku {kode.upper()} dicabut; dokumennya diperlukan lagi.")
    else:
        typer.echo(f"{kode.upper()} ditandai tidak berlaku. Tercatat di riwayat usulan.")


@usulan_app.command("ajukan")
def usulan_ajukan(
    usulan_id: UsulanIdArgument,
    tetap_ajukan: Annotated[
        bool,
        typer.Option(
            "--tetap-ajukan",
            help="Ajukan juga bila menurut aturan belum layak (alasannya dicatat di riwayat).",
        ),
    ] = False,
) -> None:
    """Ajukan usulan ke BKD (hanya bila dokumennya lengkap)."""
    client = open_client()
    try:
        view = client.ajukan(usulan_id, tetap=tetap_ajukan)
    except BelumLayak as exc:
        typer.echo(f"Gagal: {exc.message}", err=True)
        typer.echo("Bila memang hendak diajukan, ulangi dengan --tetap-ajukan.", err=True)
        raise typer.Exit(2) from None
    except BerkasError as exc:
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
    from client.labels import status_label

    counts = ", ".join(f"{status_label(k)} {v}" for k, v in d.status_counts.items() if v)
    typer.echo(f"Usulan per status: {counts or 'belum ada'}")
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


def main() -> None:
    # The one renderer for our errors that no command caught (a full disk in the middle of
    # any command, a damaged store): the Bahasa message, never a traceback.
    try:
        app()
    except BerkasError as exc:
        typer.echo(f"Gagal: {exc.message}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    # Run through the importable module: subcommand modules read `client.cli.paths()`,
    # which under `python -m` would otherwise be a second copy without --home.
    from client.cli import main as _main

    _main()

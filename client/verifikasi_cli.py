"""`berkas verifikasi ...`: the verifikator's commands (see client/verifikasi.py)."""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from client import cli_table, verifikasi
from client.errors import BerkasError, ClientError
from client.paths import Paths, resolve_paths
from client.verifikasi_views import PermintaanKunciView
from sync.engine import VERIFIER_PASSPHRASE_ENV, SyncReport

if TYPE_CHECKING:
    from client.verifikasi_service import VerifikasiService

app = typer.Typer(
    help="Verifikasi BKD: antrian, buka, ms/bts/tms, teruskan, selesai, paket, rekap, "
    "permintaan-kunci, bagikan-kunci, kunci.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
kunci_app = typer.Typer(
    help="Kunci verifikator BKD di komputer ini: buat, pasang.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(kunci_app, name="kunci")

_PassphraseFileOption = Annotated[
    Path | None,
    typer.Option(
        "--passphrase-file",
        help=f"Baca frasa sandi kunci verifikator dari berkas (atau {VERIFIER_PASSPHRASE_ENV}).",
    ),
]
UsulanIdArgument = Annotated[
    str, typer.Argument(metavar="ID_USULAN", help="ID usulan (lihat: berkas verifikasi antrian).")
]


def _paths() -> Paths:
    main = sys.modules.get("client.cli")
    provider = getattr(main, "paths", None)
    found = provider() if callable(provider) else None
    return found if isinstance(found, Paths) else resolve_paths(None)


def _fail(exc: BerkasError) -> None:
    typer.echo(f"Gagal: {exc.message}", err=True)
    raise typer.Exit(2)


def _synced(report: SyncReport) -> str:
    return f"terkirim {report.push.applied} perubahan, diterima {report.pull.changes}"


@app.command("antrian")
def antrian_cmd() -> None:
    """Usulan berstatus diajukan dari semua OPD, menunggu verifikasi."""
    try:
        rows = verifikasi.antrian(_paths())
    except BerkasError as exc:
        _fail(exc)
        return
    if rows:
        cli_table.show(cli_table.usulan_table(rows))
    typer.echo(f"{len(rows)} usulan menunggu verifikasi.")
    try:
        requests = verifikasi.permintaan_kunci(_paths())
    except BerkasError as exc:
        _fail(exc)
        return
    if requests:
        _echo_requests(requests)


def _echo_requests(requests: list[PermintaanKunciView]) -> None:
    for r in requests:
        typer.echo(
            f"permintaan kunci  OPD {r.opd_kode} ({r.opd_nama})  perangkat {r.perangkat!r}  "
            f"{r.device_id}  sejak {r.diminta:%Y-%m-%d %H:%M} UTC"
        )
    typer.echo(
        f"{len(requests)} permintaan kunci OPD menunggu. Pastikan dengan OPD-nya bahwa "
        "perangkat itu milik mereka, lalu: berkas verifikasi bagikan-kunci ID_PERANGKAT"
    )


@app.command("permintaan-kunci")
def permintaan_kunci_cmd() -> None:
    """Perangkat OPD yang meminta kunci OPD (pemulihan setelah semua komputer hilang)."""
    try:
        requests = verifikasi.permintaan_kunci(_paths())
    except BerkasError as exc:
        _fail(exc)
        return
    if not requests:
        typer.echo("Tidak ada permintaan kunci OPD.")
        return
    _echo_requests(requests)


@app.command("buka")
def buka_cmd(
    usulan_id: Annotated[str, typer.Argument(metavar="ID_USULAN", help="ID usulan.")],
    ke: Annotated[
        Path | None, typer.Option("--ke", help="Folder tujuan (bawaan: sementara).")
    ] = None,
) -> None:
    """Buka (dekripsi) semua dokumen usulan ke folder pribadi dan periksa sidik jarinya."""
    try:
        opened = verifikasi.buka(_paths(), usulan_id, ke)
    except BerkasError as exc:
        _fail(exc)
        return
    for dok in opened:
        typer.echo(f"  {dok.kode:<24} {dok.size:>10} B  sidik jari cocok  {dok.path}")
    if opened:
        typer.echo(f"{len(opened)} dokumen dibuka di {opened[0].path.parent}")
    else:
        typer.echo("Usulan ini belum memiliki dokumen.")


_PAIRED = {"allow_extra_args": True, "ignore_unknown_options": True}


def _parse_decision_args(args: list[str]) -> tuple[str, dict[str, str]]:
    """`--catatan TEKS [--dokumen KODE --catatan TEKS]...`: the first note is for the
    usulan, each later one belongs to the --dokumen before it."""
    catatan = ""
    per_dokumen: dict[str, str] = {}
    pending: str | None = None
    it = iter(args)
    for arg in it:
        if arg not in ("--catatan", "--dokumen"):
            raise ClientError(f"Argumen tidak dikenal: {arg}")
        value = next(it, None)
        if value is None:
            raise ClientError(f"{arg} memerlukan nilai.")
        if arg == "--dokumen":
            if pending is not None:
                raise ClientError(f"Dokumen {pending} belum diberi --catatan.")
            pending = value.strip().upper()
        elif pending is not None:
            per_dokumen[pending] = value
            pending = None
        elif not catatan:
            catatan = value
        else:
            raise ClientError("Catatan kedua harus didahului --dokumen KODE.")
    if pending is not None:
        raise ClientError(f"Dokumen {pending} belum diberi --catatan.")
    return catatan, per_dokumen


def _decision(keputusan: verifikasi.Keputusan) -> None:
    def command(ctx: typer.Context, usulan_id: UsulanIdArgument) -> None:
        try:
            catatan, per_dokumen = _parse_decision_args(list(ctx.args))
            report = verifikasi.putuskan(_paths(), usulan_id, keputusan, catatan, per_dokumen)
        except BerkasError as exc:
            _fail(exc)
            return
        typer.echo(f"Usulan {usulan_id}: {keputusan.value.upper()} dicatat; {_synced(report)}.")

    command.__doc__ = {
        verifikasi.Keputusan.MS: "MS: memenuhi syarat. --catatan TEKS (opsional).",
        verifikasi.Keputusan.BTS: (
            "BTS: kembalikan ke OPD. --catatan TEKS [--dokumen KODE --catatan TEKS]..."
        ),
        verifikasi.Keputusan.TMS: "TMS: tolak. --catatan TEKS (wajib).",
    }[keputusan]
    app.command(keputusan.value, context_settings=_PAIRED)(command)


for _k in verifikasi.Keputusan:
    _decision(_k)


@app.command("bagikan-kunci")
def bagikan_kunci_cmd(
    device_id: Annotated[
        str | None,
        typer.Argument(
            metavar="ID_PERANGKAT", help="ID perangkat (lihat permintaan-kunci); tanpa ID: semua."
        ),
    ] = None,
) -> None:
    """Bagikan kunci OPD kepada perangkat pengganti yang menunggu (setelah bencana)."""
    try:
        count = verifikasi.bagikan_kunci(_paths(), device_id)
    except BerkasError as exc:
        _fail(exc)
        return
    typer.echo(f"Kunci OPD dibagikan kepada {count} perangkat.")


@app.command("teruskan")
def teruskan_cmd(usulan_id: UsulanIdArgument) -> None:
    """Teruskan usulan yang sudah MS ke BKN."""
    try:
        report = verifikasi.teruskan(_paths(), usulan_id)
    except BerkasError as exc:
        _fail(exc)
        return
    typer.echo(f"Usulan {usulan_id} diteruskan ke BKN; {_synced(report)}.")


@app.command("selesai")
def selesai_cmd(
    usulan_id: UsulanIdArgument,
    pertek: Annotated[str, typer.Option("--pertek", help="Nomor pertek/SK.")],
    tanggal: Annotated[str, typer.Option("--tanggal", help="Tanggal pertek/SK (TTTT-BB-HH).")],
) -> None:
    """Tandai selesai dengan nomor dan tanggal pertek/SK."""
    try:
        when = date.fromisoformat(tanggal)
    except ValueError:
        _fail(ClientError(f"Tanggal tidak valid: {tanggal} (gunakan TTTT-BB-HH)."))
        return
    try:
        report = verifikasi.selesai(_paths(), usulan_id, pertek, when)
    except BerkasError as exc:
        _fail(exc)
        return
    typer.echo(f"Usulan {usulan_id} selesai (pertek {pertek}); {_synced(report)}.")


def _passphrase(passphrase_file: Path | None, *, confirm: bool) -> str:
    if passphrase_file is not None:
        try:
            return passphrase_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            _fail(ClientError(f"Berkas frasa sandi tidak dapat dibaca: {exc.strerror}"))
    from_env = os.environ.get(VERIFIER_PASSPHRASE_ENV)
    if from_env:
        return from_env
    # Asked twice here rather than with Typer's confirmation_prompt, which asks and
    # refuses in English ("Repeat for confirmation", "The two entered values do not match").
    while True:
        phrase = str(typer.prompt("Frasa sandi kunci verifikator BKD", hide_input=True))
        if not confirm or typer.prompt("Ulangi frasa sandi", hide_input=True) == phrase:
            return phrase
        typer.echo("Kedua frasa sandi tidak sama; masukkan lagi.", err=True)


@kunci_app.command("buat")
def kunci_buat_cmd(passphrase_file: _PassphraseFileOption = None) -> None:
    """Buat pasangan kunci verifikator BKD di komputer ini (sekali untuk seluruh BKD)."""
    paths = _paths()
    try:
        public = verifikasi.buat_kunci(paths, _passphrase(passphrase_file, confirm=True))
    except BerkasError as exc:
        _fail(exc)
        return
    typer.echo(f"Kunci verifikator dibuat: {paths.keys / 'verifier.key'} (frasa sandi).")
    typer.echo(f"Kunci publik (juga di {paths.keys / 'verifier.pub'}):")
    typer.echo(public)
    typer.echo(
        "Serahkan kunci publik itu kepada admin server BKD untuk: "
        "berkas server verifier-key set KUNCI. Simpan salinan verifier.key di tempat aman: "
        "tanpa kunci itu dokumen hanya dapat dibuka oleh OPD pemiliknya."
    )


@kunci_app.command("pasang")
def kunci_pasang_cmd(
    berkas: Annotated[
        Path, typer.Argument(metavar="BERKAS_KUNCI", help="Berkas verifier.key yang dibawa.")
    ],
    passphrase_file: _PassphraseFileOption = None,
) -> None:
    """Pasang kunci verifikator dari komputer verifikator lain (atau dari server lama)."""
    try:
        public = verifikasi.pasang_kunci(
            _paths(), berkas, _passphrase(passphrase_file, confirm=False)
        )
    except BerkasError as exc:
        _fail(exc)
        return
    typer.echo(f"Kunci verifikator terpasang; kunci publiknya: {public}")


def _open_service(passphrase_file: Path | None) -> VerifikasiService:
    from client.verifikasi_service import VerifikasiService

    service = VerifikasiService.open(_paths())
    try:
        service.unlock(_passphrase(passphrase_file, confirm=False))
    except BerkasError:
        service.close()
        raise
    return service


@app.command("paket")
def paket_cmd(
    usulan_ids: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="ID_USULAN",
            help="ID usulan; tanpa ID: semua usulan yang sudah diteruskan.",
        ),
    ] = None,
    ke: Annotated[Path, typer.Option("--ke", help="Folder tujuan paket.")] = Path("paket-bkn"),
    passphrase_file: _PassphraseFileOption = None,
) -> None:
    """Paket BKN: dokumen usulan yang diteruskan, bernama <NIP>_<KODE>.pdf, dengan manifest."""
    try:
        service = _open_service(passphrase_file)
        try:
            service.sync()
            report = service.paket(usulan_ids or None, ke)
        finally:
            service.close()
    except BerkasError as exc:
        _fail(exc)
        return
    typer.echo(
        f"Paket BKN: {report.usulan} usulan, {len(report.files)} dokumen "
        f"({report.total_bytes} B), semuanya cocok dengan sidik jarinya, di {report.folder}"
    )
    typer.echo("  manifest.csv dan manifest.json memuat NIP, nama, layanan, kode, halaman, sha256.")
    for t in report.tidak_berlaku:
        typer.echo(f"  tanpa berkas: {t.nip} {t.kode} tidak berlaku ({t.alasan})")
    if report.tidak_berlaku:
        typer.echo("  Dokumen yang tidak berlaku tercantum di manifest.json bagian tidak_berlaku.")
    typer.echo(
        "Perhatian: paket berisi data pribadi pegawai. Simpan di folder yang tidak dibagikan "
        "dan hapus setelah diunggah ke SIASN."
    )


@app.command("rekap")
def rekap_cmd(
    periode: Annotated[
        str | None, typer.Option("--periode", help="TMT periode (TTTT-BB-HH); tanpa: semua.")
    ] = None,
    csv_path: Annotated[Path | None, typer.Option("--csv", help="Tulis rekap ke CSV.")] = None,
    batas_hari: Annotated[
        str | None,  # parsed here: the parser's own refusal of "x" reads in English
        typer.Option(
            "--batas-hari",
            metavar="HARI",
            help="Usulan yang menunggu lebih dari sekian hari sejak diajukan dianggap "
            "terlambat; tanpa: verifikator_batas_hari di berkas.toml (bawaan 14).",
        ),
    ] = None,
    simpan: Annotated[
        bool,
        typer.Option("--simpan", help="Simpan --batas-hari sebagai pengaturan rumah ini."),
    ] = False,
) -> None:
    """Rekap per OPD dan layanan: jumlah per status, median hari, rasio BTS, terlambat."""
    from client.verifikasi_service import VerifikasiService, rekap_csv

    try:
        when = date.fromisoformat(periode) if periode else None
    except ValueError:
        _fail(ClientError(f"Tanggal tidak valid: {periode} (gunakan TTTT-BB-HH)."))
        return
    if simpan and batas_hari is None:
        _fail(ClientError("--simpan memerlukan --batas-hari."))
        return
    hari: int | None = None
    if batas_hari is not None:
        try:
            hari = int(batas_hari.strip())
        except ValueError:
            hari = 0
        if not 1 <= hari <= 365:
            _fail(ClientError(f"--batas-hari harus bilangan 1 sampai 365, bukan {batas_hari}."))
            return
    try:
        service = VerifikasiService.open(_paths())
        try:
            if simpan and hari is not None:
                service.set_batas_hari(hari)
            rekap = service.rekap(when, batas_hari=hari)
        finally:
            service.close()
    except BerkasError as exc:
        _fail(exc)
        return
    text = rekap_csv(rekap)
    if csv_path is not None:
        csv_path.write_text(text, encoding="utf-8")
        typer.echo(f"Rekap ditulis ke {csv_path}.")
    elif rekap.baris:
        cli_table.show(cli_table.rekap_table(rekap))
    else:
        typer.echo("Belum ada usulan untuk direkap.")

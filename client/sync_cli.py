"""The sync commands of `berkas`: enrol, status, sync, agent, restore, konflik.

A Typer app the main CLI mounts at top level. The home folder comes from the main CLI's
`--home` (or BERKAS_HOME, or the platform folders).
"""

from __future__ import annotations

import contextlib
import json
import sys
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.text import Text

from client import cli_table, sync_service
from client.errors import BerkasError, ClientError
from client.intake.filing import refiled_message
from client.labels import field_label
from client.paths import Paths, resolve_paths
from client.views import SyncStatus
from sync.engine import KeyWait, SyncReport

app = typer.Typer(
    help="Sinkronisasi dengan server BKD.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
konflik_app = typer.Typer(help="Konflik data: lihat dan selesaikan.", no_args_is_help=True)
app.add_typer(konflik_app, name="konflik")


def _paths() -> Paths:
    """The main CLI's home (its --home option), else BERKAS_HOME / platform folders."""
    main = sys.modules.get("client.cli")
    provider = getattr(main, "paths", None)
    if callable(provider):
        found = provider()
        if isinstance(found, Paths):
            return found
    return resolve_paths(None)


def _fail(exc: BerkasError, code: int = 2) -> None:
    typer.echo(f"Gagal: {exc.message}", err=True)
    raise typer.Exit(code)


def _when(when: datetime | None) -> str:
    return when.astimezone().strftime("%d-%m-%Y %H:%M") if when else "belum pernah"


_JSON_KEYS = (
    "enrolled", "server_url", "opd_kode", "device_id", "role", "state", "state_label",
    "last_sync", "last_error", "pending_ops", "pending_uploads", "open_conflicts",
    "opd_key_held", "lock_holder", "refused",
)  # fmt: skip


def _status_json(st: SyncStatus) -> str:
    """`berkas status --json`: the keys scripts have read since the first release."""
    values = {
        **st.__dict__,
        "last_sync": st.last_sync.isoformat() if st.last_sync else "",
        "open_conflicts": st.conflicts,
    }
    return json.dumps({k: values[k] for k in _JSON_KEYS}, ensure_ascii=False, indent=2)


@app.command("enrol")
def enrol_cmd(
    server: Annotated[str, typer.Option("--server", help="Alamat server BKD, mis. https://...")],
    code: Annotated[str, typer.Option("--code", help="Kode pendaftaran sekali pakai dari BKD.")],
    nama: Annotated[str, typer.Option("--nama", help="Nama perangkat ini.")] = "",
) -> None:
    """Daftarkan perangkat ini ke server BKD dengan kode sekali pakai."""
    try:
        result = sync_service.enrol(_paths(), server, code, device_name=nama)
    except BerkasError as exc:
        _fail(exc)
        return
    role = ROLE_LABELS.get(result.role, result.role)
    typer.echo(f"Terdaftar: perangkat {result.device_id}, OPD {result.opd_kode} ({role}).")
    if result.role == "opd" and not result.opd_key_held:
        typer.echo(
            "Kunci bersama OPD belum dibagikan untuk perangkat ini; data tetap tersinkron, "
            "dokumen dari perangkat lain terbuka setelah kunci dibagikan."
        )


@app.command("status")
def status_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Keluaran JSON.")] = False,
) -> None:
    """Server, OPD, perangkat, sinkron terakhir, perubahan dan unggahan yang menunggu."""
    try:
        st = sync_service.status(_paths(), check_server=True)
    except BerkasError as exc:
        _fail(exc)
        return
    if as_json:
        typer.echo(_status_json(st))
        return
    lines: list[tuple[str, Any]] = [
        ("Server", st.server_url or "-"),
        ("OPD", st.opd_kode or "-"),
        (
            "Perangkat",
            f"{st.device_id or '-'} ({ROLE_LABELS.get(st.role or '', 'belum terdaftar')})",
        ),
        ("Keadaan", st.state_label),
        ("Sinkron terakhir", _when(st.last_sync)),
        ("Perubahan menunggu", st.pending_ops),
        ("Dokumen menunggu unggah", st.pending_uploads),
        ("Konflik terbuka", st.conflicts),
    ]
    if st.role == "opd":
        lines.append(("Kunci OPD", "ada" if st.opd_key_held else "belum dibagikan"))
    if st.last_error:
        lines.append(("Kesalahan terakhir", st.last_error))
    if st.lock_holder:
        lines.append(("Sedang disinkronkan oleh", st.lock_holder))
    for key, value in lines:
        typer.echo(f"{key + ':':<26} {value}")
    for refused in st.refused[-5:]:
        typer.echo(
            f"  ditolak server: {refused.get('table')} {refused.get('record_id')} "
            f"({', '.join(refused.get('fields') or [])}): {refused.get('reason')}"
        )


def _summary(report: SyncReport) -> str:
    parts = [
        f"{report.push.pushed} perubahan dikirim",
        f"{report.pull.changes} diterima",
        f"{report.uploads.uploaded} dokumen diunggah",
    ]
    if report.downloads:
        parts.append(f"{report.downloads} dokumen diunduh")
    conflicts = report.push.conflicts + report.pull.conflicts
    if conflicts:
        parts.append(f"{conflicts} konflik baru")
    if report.push.refused:
        parts.append(f"{report.push.refused} ditolak server")
    if report.uploads.held:
        parts.append(f"{report.uploads.held} unggahan besar ditahan jadwal")
    return ", ".join(parts)


@app.command("sync")
def sync_cmd() -> None:
    """Sinkronkan sekarang (sekali): data, lalu dokumen."""
    try:
        report = sync_service.sync_once(_paths())
        refiled = sync_service.refile_inbox(_paths())
    except BerkasError as exc:
        _fail(exc)
        return
    if refiled:
        typer.echo(refiled_message(refiled))
    if report.error is not None:
        typer.echo(f"Sinkronisasi belum selesai: {report.error.message}", err=True)
        typer.echo(_summary(report), err=True)
        raise typer.Exit(1)
    typer.echo("Sinkron: " + _summary(report) + ".")
    st = sync_service.status(_paths())
    if st.role == "opd" and not st.opd_key_held:
        typer.echo(
            f"Kunci OPD belum dibagikan untuk perangkat ini ({st.device_id}): dokumen dari "
            "server belum dapat dibuka. Perangkat lain OPD ini membagikannya saat "
            "sinkron; bila semua perangkat OPD hilang, minta verifikator BKD menjalankan "
            "'berkas verifikasi bagikan-kunci'. Sinkronisasi berikutnya menyelesaikannya."
        )


@app.command("agent")
def agent_cmd() -> None:
    """Sinkronisasi latar tanpa tampilan (untuk layanan systemd / Task Scheduler)."""
    try:
        sync_service.run_agent(_paths())
    except BerkasError as exc:
        _fail(exc)


@app.command("restore")
def restore_cmd(
    server: Annotated[str, typer.Option("--server", help="Alamat server BKD.")] = "",
    code: Annotated[str, typer.Option("--code", help="Kode pendaftaran sekali pakai.")] = "",
    tunggu: Annotated[
        float,
        typer.Option(
            "--tunggu",
            min=0,
            help="Menit menunggu verifikator membagikan kunci OPD (setelah kehilangan total).",
        ),
    ] = 60.0,
    interval: Annotated[float, typer.Option("--interval", min=0.05, hidden=True)] = 10.0,
) -> None:
    """Pulihkan data dan dokumen OPD ke komputer baru (dapat diulang bila terhenti)."""
    shown: list[int] = []

    def on_wait(wait: KeyWait) -> None:
        minutes = int(wait.waited_s // 60)
        if not shown:
            typer.echo(
                f"Kunci OPD belum ada di komputer ini. Permintaan kunci untuk perangkat "
                f"{wait.device_id} (OPD {wait.opd_kode}) sudah masuk antrean verifikator BKD; "
                "minta verifikator menjalankan 'berkas verifikasi bagikan-kunci'. Menunggu "
                f"paling lama {wait.wait_s / 60:g} menit (Ctrl+C untuk berhenti; permintaan "
                "tetap tercatat)."
            )
        elif minutes > shown[-1]:
            typer.echo(f"  masih menunggu kunci OPD ({minutes} menit)...")
        shown.append(minutes)

    try:
        report = sync_service.restore(
            _paths(), server, code, wait_s=tunggu * 60, poll_s=interval, on_wait=on_wait
        )
    except BerkasError as exc:
        _fail(exc, 1)
        return
    except KeyboardInterrupt:
        typer.echo(
            "\nDihentikan. Permintaan kunci tetap tercatat di server; setelah verifikator "
            "membagikannya, jalankan 'berkas restore' atau 'berkas sync' untuk menyelesaikan.",
            err=True,
        )
        raise typer.Exit(130) from None
    if report.key_requested:
        typer.echo("Kunci OPD diterima.")
    typer.echo(
        f"Dipulihkan: {report.records} data, {report.blobs_downloaded} dokumen diunduh "
        f"({report.blobs_present} sudah ada), semuanya cocok dengan sidik jarinya."
    )
    for sha, message in report.failed:
        typer.echo(f"  dokumen {sha[:12]}: {message}", err=True)
    if report.never_uploaded:
        typer.echo(
            f"{len(report.never_uploaded)} dokumen belum pernah diunggah dari perangkat lama "
            "dan tidak dapat dipulihkan.",
            err=True,
        )
    if report.failed:
        raise typer.Exit(1)


ROLE_LABELS = {"opd": "perangkat OPD", "verifikator": "verifikator BKD"}


def _konflik_value(value: Any) -> str:
    if value is None or value == "":
        return "(kosong)"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(kosong)"
    return str(value)


@konflik_app.command("daftar")
def konflik_daftar() -> None:
    """Konflik yang menunggu keputusan, tiap sisi dengan pembuatnya."""
    from client.services import BerkasClient

    try:
        client = BerkasClient.open(_paths())
    except BerkasError as exc:
        _fail(exc)
        return
    try:
        records = client.list_conflicts()
        if not records:
            typer.echo("Tidak ada konflik.")
        for record in records:
            detail = client.conflict_detail(record.record_id)
            typer.echo(detail.title)
            for f in detail.fields:
                typer.echo(f"  Kode {f.conflict_id} · {field_label(f.field)}")
                grid = cli_table.table("Pilihan", "Nilai", "Oleh", "Waktu", whole=("Waktu",))
                grid.add_row("semula", Text(_konflik_value(f.base)), "", "")
                for number, side in enumerate(f.sides, start=1):
                    when = side.at.astimezone().strftime("%d-%m-%Y %H:%M") if side.at else ""
                    grid.add_row(str(number), Text(_konflik_value(side.value)), side.who, when)
                grid.padding = (0, 2, 0, 0)
                cli_table.show(grid, indent=4)
        if records:
            typer.echo(
                "\nPilih dengan: berkas konflik selesaikan KODE --pilih 1 (atau 2, atau "
                "sunting --nilai ...)."
            )
    except BerkasError as exc:
        _fail(exc)
    finally:
        client.close()


@konflik_app.command("selesaikan")
def konflik_selesaikan(
    kode: Annotated[
        str,
        typer.Argument(metavar="KODE_KONFLIK", help="Kode konflik dari `berkas konflik daftar`."),
    ],
    pilih: Annotated[
        str, typer.Option("--pilih", help="1 atau 2 (sisi seperti di daftar), atau sunting.")
    ],
    nilai: Annotated[str, typer.Option("--nilai", help="Nilai baru untuk sunting.")] = "",
) -> None:
    """Selesaikan satu konflik; keputusan ikut tersinkron ke semua perangkat."""
    from client.services import BerkasClient

    if pilih not in ("1", "2", "sunting"):
        _fail(ClientError("Pilihan harus 1, 2 atau sunting."))
    try:
        client = BerkasClient.open(_paths())
    except BerkasError as exc:
        _fail(exc)
        return
    try:
        field = client.conflict_field(kode)
        if pilih == "sunting":
            value: Any = nilai
            with contextlib.suppress(ValueError):
                value = json.loads(nilai)
            client.resolve_conflict(kode, "edit", value)
            chosen = f"nilai {_konflik_value(value)}"
        else:
            side = field.sides[int(pilih) - 1]
            client.resolve_conflict(kode, side.choice)
            chosen = f"versi {side.who}: {_konflik_value(side.value)}"
    except BerkasError as exc:
        _fail(exc)
        return
    finally:
        client.close()
    typer.echo(
        f"Konflik {field_label(field.field)} diselesaikan dengan {chosen}; "
        "keputusan dikirim pada sinkronisasi berikutnya."
    )


if __name__ == "__main__":
    app()

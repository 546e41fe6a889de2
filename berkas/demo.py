"""The demo, the main job: a whole BKD province on one machine.

In a fresh demo folder it starts a local BKD server on SQLite, creates two OPDs
and a verifikator, loads sample pegawai as the BKD's master data, enrols the
demo OPD's device, drops sample scans into its scan folder, runs intake and
sync, and plays one BTS round trip with the verifikator. A second device of the
demo OPD (the kasubag's laptop) then changes what the first changed too, offline, so
two real conflicts, made through the real sync, wait on the Konflik screen. `berkas demo` then
opens the TUI on the OPD; `berkas demo --headless` prints what happened.

The demo is the composition root that also plays the BKD admin, so it lives
outside `client` and may import `server` (to create OPDs and enrol codes the way
`berkas server ...` does).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx

from client import sync_service, verifikasi
from client.cli_support import save_default_config
from client.config import load_config, save_config
from client.errors import ClientError
from client.intake import IntakeService, IntakeSummary
from client.intake_wiring import intake_service
from client.labels import status_label
from client.paths import Paths, resolve_paths
from client.sample_data import OPDS, generate_pegawai, pegawai_csv
from client.services import BerkasClient
from store.models import Pegawai, Usulan
from store.rules import Layanan, checklist

DEMO_OPD = "DISDIK"
DEMO_OPERATOR = "Ani Pengelola"
DEMO_DEVICE = f"PC Kepegawaian ({DEMO_OPERATOR})"
DEMO_SECOND_OPERATOR = "Rina Kasubag"
DEMO_SECOND_DEVICE = f"Laptop Kasubag ({DEMO_SECOND_OPERATOR})"
DEMO_LOCK = ".berkas-demo.lock"
DEMO_VERIFIKATOR = "Rudi Verifikator"
DEMO_PEGAWAI = 400
DEMO_MARKER = ".berkas-demo"
# The demo's verifier key passphrase; a real BKD admin chooses their own.
DEMO_VERIFIER_PASSPHRASE = "demo-verifikator-berkas"
BKD_KODE = "BKD"

Echo = Callable[[str], None]


@dataclass
class DemoServer:
    """The local BKD server, a child process on 127.0.0.1."""

    url: str
    home: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class DemoResult:
    client: BerkasClient
    server: DemoServer
    lines: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _prepare_server(
    home: Path, verifier_paths: Paths, people_csv: dict[str, bytes]
) -> tuple[tuple[str, str], str]:
    """The verifikator makes the verifier key pair on their machine (`berkas verifikasi kunci
    buat`); `berkas server init` with its public half, OPDs, master data and three enrol
    codes (two OPD devices, the verifikator). The server never sees the verifier private key."""
    from server import admin
    from server.db import open_database
    from server.keys import init_keys
    from server.settings import ServerSettings, default_sqlite_url

    verifier_public = verifikasi.buat_kunci(verifier_paths, DEMO_VERIFIER_PASSPHRASE)
    settings = ServerSettings.for_home(home, default_sqlite_url(home.resolve()))
    home.mkdir(parents=True, exist_ok=True)
    init_keys(settings, verifier_public)
    db = open_database(settings.database_url)
    try:
        for kode, nama in OPDS[:2]:
            admin.add_opd(db, kode, nama)
            admin.import_pegawai(db, kode, people_csv[kode])
        admin.add_opd(db, BKD_KODE, "Badan Kepegawaian Daerah")
        opd_codes = (
            admin.issue_enrol_code(db, DEMO_OPD, "opd").code,
            admin.issue_enrol_code(db, DEMO_OPD, "opd").code,
        )
        verifier_code = admin.issue_enrol_code(db, BKD_KODE, "verifikator").code
    finally:
        db.dispose()
    return opd_codes, verifier_code


def start_server(home: Path) -> DemoServer:
    """Run `berkas server run` for `home` on a free loopback port and wait for it."""
    from server.settings import default_sqlite_url

    port = _free_port()
    log = (home / "server.log").open("ab")
    env = {**os.environ, "BERKAS_DATABASE_URL": default_sqlite_url(home.resolve())}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server.cli",
            "run",
            "--home",
            str(home),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ClientError(
                "Server BKD demo gagal berjalan; lihat " + str(home / "server.log"),
                f"exit {process.returncode}",
            )
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return DemoServer(url, home, process)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise ClientError("Server BKD demo tidak menjawab dalam 30 detik.", url)


def _sync(paths: Paths, what: str, echo: Echo) -> None:
    report = sync_service.sync_once(paths, program="berkas demo")
    if report.error is not None:
        raise ClientError(
            f"Sinkronisasi ({what}) gagal: {report.error.message}", report.error.cause
        )
    echo(
        f"  sinkron {what}: {report.push.pushed} perubahan dikirim, "
        f"{report.pull.changes} diterima, {report.uploads.uploaded} dokumen diunggah"
    )


def _scan_name(nip: str, kode: str) -> str:
    # Named the way operators type them: spaces in the NIP, the kind in words.
    spaced = f"{nip[:8]} {nip[8:14]} {nip[14]} {nip[15:]}"
    return f"{spaced} {kode.lower().replace('_', ' ')}.jpg"


def run_demo(paths: Paths, *, today: date, echo: Echo) -> DemoResult:
    """Build the whole demo under `paths.data`; the server keeps running for the TUI."""
    root = paths.data
    server_home = root / "bkd-server"
    verifier_paths = resolve_paths(root / "verifikator")

    people = generate_pegawai(DEMO_PEGAWAI * 3, today=today)
    by_opd = {
        kode: pegawai_csv([p for p in people if p.opd_kode == kode]).encode()
        for kode, _ in OPDS[:2]
    }
    opd_codes, verifier_code = _prepare_server(server_home, verifier_paths, by_opd)
    server = start_server(server_home)
    echo(f"Server BKD lokal berjalan di {server.url} (data di {server_home})")
    try:
        result = _play(paths, verifier_paths, server, opd_codes[0], verifier_code, today, echo)
        _second_device(paths, resolve_paths(root / "laptop-kasubag"), server, opd_codes[1], echo)
        return result
    except BaseException:
        server.stop()
        raise


def _play(
    paths: Paths,
    verifier_paths: Paths,
    server: DemoServer,
    opd_code: str,
    verifier_code: str,
    today: date,
    echo: Echo,
) -> DemoResult:
    # The OPD's device: config, enrolment, first sync brings the master data.
    save_default_config(paths, DEMO_OPD, DEMO_OPERATOR)
    paths.scans.mkdir(parents=True, exist_ok=True)
    sync_service.enrol(paths, server.url, opd_code, device_name=DEMO_DEVICE)
    echo(f"Perangkat OPD {DEMO_OPD} terdaftar.")
    _sync(paths, "awal", echo)

    client = BerkasClient.open(paths)
    dashboard = client.dashboard(today)
    echo(
        f"Data pegawai dari BKD: {dashboard.pegawai_total}; layak KP tanpa usulan: "
        f"{len(dashboard.kp_due_without_usulan)}, pensiun <= 15 bulan: "
        f"{len(dashboard.pensiun_due_without_usulan)}"
    )
    kp = [
        client.create_usulan(v.id, "kp", "reguler", today=today)
        for v in dashboard.kp_due_without_usulan[:4]
    ]
    for view in dashboard.pensiun_due_without_usulan[:3]:
        client.create_usulan(view.id, "pensiun", "bup", today=today)
    if not kp:
        raise ClientError("Data contoh tidak memuat pegawai yang layak KP.")

    # Scans for the first KP usulan, plus two the intake cannot place.
    first = kp[0]
    required = [i.kode for i in checklist(Layanan.KP, "reguler") if not i.optional]
    from berkas.demo_scans import write_scan

    for n, kode in enumerate(required):
        write_scan(paths.scans, _scan_name(first.nip, kode), kode.replace("_", " "), first.nama, n)
    write_scan(paths.scans, "scan_0001.jpg", "SURAT", "tanpa nama", 91)
    write_scan(paths.scans, f"{kp[1].nip}.jpg", "DOKUMEN", kp[1].nama, 92)
    with intake_service(paths) as intake:
        summary = _intake_when_stable(intake, paths.scans)
    echo(
        f"Pindaian: {summary.taken} diambil, {summary.filed} diarsipkan, "
        f"{summary.inbox} ke kotak masuk, {summary.quarantined} karantina"
    )
    client.ajukan(first.id)
    echo(f"Usulan KP {first.nama} ({first.nip}) lengkap dan diajukan.")
    _sync(paths, "OPD mengajukan", echo)

    # The verifikator's device: it made the verifier key pair before the server existed.
    _setup_verifier(verifier_paths)
    sync_service.enrol(verifier_paths, server.url, verifier_code, device_name="PC Verifikator")
    queue = verifikasi.antrian(verifier_paths)
    echo(f"Verifikator: {len(queue)} usulan dalam antrian.")
    opened = verifikasi.buka(verifier_paths, first.id, verifier_paths.data / "dibuka")
    echo(f"Verifikator membuka {len(opened)} dokumen; semua sidik jari cocok.")
    verifikasi.putuskan(
        verifier_paths,
        first.id,
        verifikasi.Keputusan.BTS,
        "SKP perlu diganti",
        {"SKP": "Halaman nilai tidak terbaca"},
    )
    echo("Verifikator mengembalikan usulan (BTS) dengan catatan pada SKP.")

    # The OPD sees the BTS, rescans the SKP and submits again.
    _sync(paths, "OPD menerima BTS", echo)
    returned = client.usulan_detail(first.id)
    kurang = ", ".join(x.nama for x in returned.checklist if x.kode in returned.missing)
    echo(f"OPD melihat status: {returned.usulan.status_label}; kurang: {kurang}")
    write_scan(paths.scans, _scan_name(first.nip, "SKP"), "SKP (PINDAI ULANG)", first.nama, 77)
    with intake_service(paths) as intake:
        _intake_when_stable(intake, paths.scans)
    client.ajukan(first.id, alasan="SKP diganti sesuai catatan BTS")
    _sync(paths, "OPD mengajukan ulang", echo)

    verifikasi.putuskan(verifier_paths, first.id, verifikasi.Keputusan.MS, "Lengkap")
    verifikasi.teruskan(verifier_paths, first.id)
    echo("Verifikator: MS, lalu diteruskan ke BKN.")

    # A second usulan waits in the verifikator's queue for the TUI (berkas --home .../verifikator).
    waiting = kp[2] if len(kp) > 2 else None
    if waiting is not None:
        for n, kode in enumerate(required):
            name = _scan_name(waiting.nip, kode)
            write_scan(paths.scans, name, kode.replace("_", " "), waiting.nama, 40 + n)
        with intake_service(paths) as intake:
            _intake_when_stable(intake, paths.scans)
        if client.usulan_detail(waiting.id).complete:
            client.ajukan(waiting.id)
            _sync(paths, "OPD mengajukan usulan kedua", echo)
            echo(f"Usulan KP {waiting.nama} menunggu di antrian verifikator.")
    _sync(paths, "OPD menerima keputusan", echo)
    final = client.usulan_detail(first.id)
    moves = " → ".join(  # notes move nothing
        status_label(h.ke) for h in final.history if h.dari != h.ke
    )
    echo(f"Status akhir di OPD: {final.usulan.status_label}; riwayat: {moves}")
    return DemoResult(client=client, server=server)


def _second_device(paths: Paths, second: Paths, server: DemoServer, code: str, echo: Echo) -> None:
    """The kasubag's laptop, a second device of the demo OPD, and two conflicts made the
    way they happen: both devices change one field before either has synced.

    Usulan catatan: this device syncs first, so on the server the laptop's edit is the
    one that could not be applied. Pegawai unit kerja: the laptop syncs first, so it is
    this device's edit that could not be. The Konflik screen shows both, each side named
    by the device that made it."""
    save_default_config(second, DEMO_OPD, DEMO_SECOND_OPERATOR)
    sync_service.enrol(second, server.url, code, device_name=DEMO_SECOND_DEVICE)
    _sync(second, "perangkat kedua", echo)
    here = BerkasClient.open(paths)
    there = BerkasClient.open(second)
    try:
        usulan = next((u for u in here.list_usulan(status="draft") if u.layanan == "pensiun"), None)
        if usulan is None:
            return
        pegawai_id = usulan.pegawai_id
        # Plain record edits, as an edit screen would write them (each with its op).
        _set(here, Usulan, usulan.id, catatan="Menunggu surat nikah asli dari ahli waris")
        _set(there, Usulan, usulan.id, catatan="Surat nikah sudah dilegalisir, lengkap")
        _sync(paths, "perangkat ini lebih dulu", echo)
        _set(there, Pegawai, pegawai_id, unit_kerja="SMP Negeri 3")
        _sync(second, "perangkat kedua", echo)
        _set(here, Pegawai, pegawai_id, unit_kerja="SMP Negeri 5")
        _sync(paths, "perangkat ini kemudian", echo)
        echo(
            f"Perangkat kedua ({DEMO_SECOND_DEVICE}) mengubah data yang sama: "
            f"{here.count_conflicts()} data berkonflik menunggu di layar Konflik (F7)."
        )
    finally:
        there.close()
        here.close()


def _set(
    client: BerkasClient, model: type[Pegawai] | type[Usulan], record_id: str, **values: str
) -> None:
    with client.store.write() as session:
        row = session.get(model, record_id)
        if row is None:
            raise ClientError("Data demo tidak ditemukan.", record_id)
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)


def _intake_when_stable(intake: IntakeService, folder: Path) -> IntakeSummary:
    # Intake takes a file only once it has stopped changing for the stability
    # delay, exactly as with a real scanner: wait that out, then one pass.
    time.sleep(intake.settings.stable_delay + 0.2)
    return intake.run_folder(folder)


def _setup_verifier(paths: Paths) -> None:
    config = load_config(paths.config)
    config.operator = DEMO_VERIFIKATOR
    save_config(paths.config, config)
    # The demo verifier key's own passphrase, whatever the caller's environment says.
    os.environ["BERKAS_VERIFIER_PASSPHRASE"] = DEMO_VERIFIER_PASSPHRASE

"""Admin actions through the `berkas server` CLI (local only): init, OPDs, enrolment codes,
pegawai master data import, devices and revocation."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from server import admin
from server.cli import app
from server.db import open_database
from server.settings import ServerSettings
from sync.crypto import keys as crypto_keys
from sync.engine import Keyring, create_verifier_key
from tests.server.conftest import DeviceFactory, nip
from tests.support.device import TestDevice
from tests.support.server import RunningServer

CSV = (
    "nip;nama;golongan;tmt_pangkat;pendidikan;jenis_jabatan;jabatan\n"
    f"{nip(1)};Ani Lestari;III/a;2020-04-01;S1;pelaksana;Pengadministrasi\n"
    f"{nip(2)};Budi Santoso;III/c;2019-04-01;S1;pelaksana;Pengelola Kepegawaian\n"
    "123;Tanpa NIP Sah;III/a;2020-04-01;S1;pelaksana;Staf\n"
)


@pytest.fixture
def verifier_public(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The verifikator made the key pair on their own machine (never on the server)."""
    monkeypatch.setattr(crypto_keys, "SCRYPT_LOG_N", 10)
    return create_verifier_key(Keyring(tmp_path / "verifikator" / "kunci"), "rahasia-verifikator")


@pytest.fixture
def cli_home(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    own_database_url: str | None,
    verifier_public: str,
) -> Path:
    if own_database_url:
        monkeypatch.setenv("BERKAS_DATABASE_URL", own_database_url)
    else:
        monkeypatch.delenv("BERKAS_DATABASE_URL", raising=False)
    home = tmp_path / "bkd"
    result = CliRunner().invoke(
        app, ["init", "--home", str(home), "--verifier-key", verifier_public]
    )
    assert result.exit_code == 0, result.output
    assert "Server diinisialisasi" in result.output
    return home


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_init_makes_keys_and_refuses_twice(cli_home: Path, verifier_public: str) -> None:
    settings = ServerSettings.for_home(cli_home)
    assert settings.server_key_path.stat().st_mode & 0o777 == 0o600
    assert settings.verifier_public_path.read_text().strip() == verifier_public
    assert not (settings.keys_dir / "verifier.key").exists()
    code, output = _run("init", "--home", str(cli_home))
    assert code == 1 and "sudah diinisialisasi" in output


def test_admin_commands(cli_home: Path) -> None:
    home = str(cli_home)
    code, output = _run("opd", "add", "disdik", "Dinas Pendidikan", "--home", home)
    assert code == 0 and "OPD DISDIK" in output
    code, output = _run("opd", "add", "DISDIK", "Lagi", "--home", home)
    assert code == 1 and "sudah terdaftar" in output
    code, output = _run("opd", "list", "--home", home)
    assert "DISDIK" in output and "Dinas Pendidikan" in output
    code, output = _run("enrol-code", "DISDIK", "--role", "opd", "--home", home)
    assert code == 0 and "Kode pendaftaran untuk DISDIK" in output and "Berlaku sekali" in output
    code, output = _run("enrol-code", "DINKES", "--home", home)
    assert code == 1 and "belum terdaftar" in output
    code, output = _run("enrol-code", "DISDIK", "--role", "raja", "--home", home)
    assert code == 1 and "Peran" in output
    code, output = _run("devices", "--home", home)
    assert code == 0 and "Belum ada perangkat" in output
    code, output = _run("revoke", "tidak-ada", "--home", home)
    assert code == 1 and "tidak ditemukan" in output

    csv = cli_home / "pegawai.csv"
    csv.write_text(CSV, encoding="utf-8")
    code, output = _run("pegawai", "import", "DISDIK", str(csv), "--home", home)
    assert code == 3  # some rows refused
    assert "2 baru" in output and "1 baris ditolak" in output and "baris 4" in output


def test_commands_need_an_initialised_home(tmp_path: Path) -> None:
    code, output = _run("opd", "list", "--home", str(tmp_path / "kosong"))
    assert code == 1 and "belum diinisialisasi" in output


def test_imported_pegawai_pulled_by_the_opd_devices(
    server: RunningServer, enrol: DeviceFactory, opd: str, other_opd: str
) -> None:
    report = admin.import_pegawai(server.db, opd, CSV.encode())
    assert (report.created, report.updated, len(report.errors)) == (2, 0, 1)
    device = enrol(opd)
    pulled = {c.record["nip"]: c for c in device.pull_all()}
    assert set(pulled) == {nip(1), nip(2)}
    assert pulled[nip(1)].record["nama"] == "Ani Lestari"
    assert pulled[nip(1)].record["updated_by"] == admin.ADMIN_DEVICE
    assert enrol(other_opd).pull_all() == []

    # Re-import: unchanged rows stay put; a promotion updates the record and its history.
    again = admin.import_pegawai(server.db, opd, CSV.replace("III/c;2019", "III/d;2023").encode())
    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    since = max(c.seq for c in pulled.values())
    [change] = device.pull_all(since)
    assert change.record["golongan"] == "III/d" and change.version == 2
    assert change.record["riwayat_pangkat"] == [{"golongan": "III/c", "tmt": "2019-04-01"}]

    # The device edits the pegawai like any record.
    result = device.push(device.update("pegawai", dict(change.record), {"jabatan": "Analis"}))
    assert result.results[0].outcome == "applied"


def test_import_refuses_a_file_that_is_not_a_pegawai_csv(server: RunningServer, opd: str) -> None:
    with pytest.raises(admin.AdminError) as info:
        admin.import_pegawai(server.db, opd, b"\x00\x01\x02 bukan csv")
    assert "bukan CSV" in info.value.message


def test_devices_listing_and_revoke_through_cli(cli_home: Path) -> None:
    settings = ServerSettings.for_home(cli_home)
    db = open_database(settings.database_url)
    try:
        admin.add_opd(db, "DISDIK", "Dinas Pendidikan")
    finally:
        db.dispose()
    from tests.support.server import start_server

    running = start_server(cli_home, settings.database_url)
    try:
        device = TestDevice.enrol(running.url, running.enrol_code("DISDIK"), "Laptop TU")
        device.changes()
        running.services.auth.flush_last_seen()  # what the maintenance task does
        code, output = _run("devices", "--opd", "DISDIK", "--home", str(cli_home))
        assert code == 0 and device.device_id in output and "aktif" in output
        row = next(line for line in output.splitlines() if device.device_id in line)
        assert " 20" in row and row.endswith("Laptop TU")  # last sync: a date, not "-"
        code, output = _run("revoke", device.device_id, "--home", str(cli_home))
        assert code == 0 and "dicabut" in output
        code, output = _run("devices", "--home", str(cli_home))
        assert "dicabut" in output
        assert device.send("GET", "/v1/sync/changes").response.status_code == 403
        device.close()
    finally:
        running.stop()

"""The first-run steps as the client offers them: enrolment refused in words a person can
act on (no server there, not a Berkas server, a wrong code, fields left empty), the CSV
import's progress, and the scan folder's refusals. Nothing is enrolled or saved by a
refused step."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from client.config import load_config
from client.errors import BerkasError
from client.paths import resolve_paths
from client.persiapan import normalise_server_url
from client.sample_data import generate_pegawai, pegawai_csv
from client.services import BerkasClient
from client.sinkronisasi import enrolment
from tests.support.server import RunningServer, start_server
from tests.tui.support import TODAY


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[BerkasClient]:
    client = BerkasClient.open(resolve_paths(tmp_path / "opd"))
    assert client.begin_setup() is not None  # a new home starts the flow
    yield client
    client.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(tmp_path / "server")
    yield running
    running.stop()


def refused(call: object, *args: object) -> str:
    with pytest.raises(BerkasError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.message


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_enrolment_refusals_say_what_to_do(fresh: BerkasClient, server: RunningServer) -> None:
    enrol = fresh.enrol_device
    assert "Isi alamat server" in refused(enrol, "", "KODE", "Ani")
    assert "Isi kode pendaftaran" in refused(enrol, server.url, " ", "Ani")
    assert "Isi nama Anda" in refused(enrol, server.url, "KODE", "")
    nobody = f"http://127.0.0.1:{closed_port()}"
    message = refused(enrol, nobody, "KODE", "Ani")
    assert f"Server BKD di {nobody} tidak dapat dihubungi" in message
    assert "bukan server Berkas" in refused(enrol, f"{server.url}/salah", "KODE", "Ani")
    assert "Kode pendaftaran tidak dikenal" in refused(enrol, server.url, "AAAA-BBBB", "Ani")
    assert "ftp" in refused(enrol, "ftp://bkd.example", "KODE", "Ani")
    assert enrolment(fresh.paths) is None
    assert fresh.setup_state().current == "pendaftaran"
    view = enrol(server.url, server.enrol_code("DISDIK"), "Ani", "")
    assert view.opd_kode == "DISDIK" and view.device_name.endswith("(Ani)")
    assert fresh.store.context.opd_id == "DISDIK"
    assert fresh.store.context.device_id == view.device_id
    assert fresh.setup_state().current == "impor"


def test_server_addresses_as_people_type_them() -> None:
    assert normalise_server_url(" bkd.example.go.id/ ") == "https://bkd.example.go.id"
    assert normalise_server_url("http://127.0.0.1:8700") == "http://127.0.0.1:8700"


def test_import_reports_progress_to_the_end(fresh: BerkasClient, tmp_path: Path) -> None:
    people = generate_pegawai(450, today=TODAY, opds=("DISDIK",))
    csv = tmp_path / "pegawai.csv"
    csv.write_text(pegawai_csv(people), encoding="utf-8")
    seen: list[tuple[int, int]] = []
    report = fresh.import_pegawai_csv(csv, lambda done, total: seen.append((done, total)))
    assert report.created == 450 and fresh.count_pegawai() == 450
    totals = {total for _, total in seen}
    assert totals == {900}  # read once, stored once
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[0] == 450 and done[-1] == 900 and len(done) >= 4


def test_a_file_that_is_not_a_pegawai_csv_changes_nothing(
    fresh: BerkasClient, tmp_path: Path
) -> None:
    other = tmp_path / "bukan.csv"
    other.write_text("kolom,lain\n1,2\n", encoding="utf-8")
    assert "bukan CSV pegawai" in refused(fresh.import_pegawai_csv, other)
    assert "tidak ditemukan" in refused(fresh.import_pegawai_csv, tmp_path / "tidak-ada.csv")
    assert "folder" in refused(fresh.import_pegawai_csv, tmp_path)
    assert fresh.count_pegawai() == 0
    assert fresh.setup_state().steps[1].state == "menunggu"


def test_scan_folder_refusals_and_the_folder_kept(fresh: BerkasClient, tmp_path: Path) -> None:
    paths = fresh.paths
    assert "Isi folder" in refused(fresh.set_scan_folder, "  ")
    assert "berisi data Berkas" in refused(fresh.set_scan_folder, paths.data)
    assert "berisi data Berkas" in refused(fresh.set_scan_folder, paths.data.parent)
    assert "di dalam folder data" in refused(fresh.set_scan_folder, paths.data / "blobs")
    a_file = tmp_path / "berkas.txt"
    a_file.write_text("x", encoding="utf-8")
    assert "bukan folder" in refused(fresh.set_scan_folder, a_file)
    assert load_config(paths.config).intake.scan_folders == []
    chosen = fresh.set_scan_folder(tmp_path / "kantor" / "pindaian")
    assert chosen.is_dir()
    assert load_config(paths.config).intake.scan_folders == [chosen]
    assert fresh.setup_state().steps[2].state == "selesai"

"""The `berkas` command through its real entry point, as a person runs it."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

BERKAS = [sys.executable, "-m", "berkas"]
GOOD = "196804111993031009,Budi Santoso,III/c,2019-04-01,S1,pelaksana\n"
HEADER = "nip,nama,golongan,tmt_pangkat,pendidikan,jenis_jabatan\n"


def berkas(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BERKAS_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run(
        [*BERKAS, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def pegawai_rows(home: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(home / "berkas.db")
    rows = conn.execute("SELECT nip, nama FROM pegawai ORDER BY nip").fetchall()
    conn.close()
    return rows


@pytest.fixture
def home(tmp_path: Path) -> Path:
    result = berkas(tmp_path, "init", "--opd", "disdik", "--operator", "Ani")
    assert result.returncode == 0, result.stderr
    assert "OPD DISDIK" in result.stdout
    return tmp_path


def test_import_reports_bad_rows_and_keeps_the_good(home: Path) -> None:
    csv = home / "pegawai.csv"
    csv.write_text(
        HEADER + GOOD + "196804111993031,Pendek,III/c,2019-04-01,S1,pelaksana\n", encoding="utf-8"
    )
    result = berkas(home, "pegawai", "import", str(csv))
    assert result.returncode == 1
    assert "1 baru" in result.stdout
    assert re.search(r"baris 3: .*18 digit", result.stderr), result.stderr
    assert pegawai_rows(home) == [("196804111993031009", "Budi Santoso")]


def test_a_file_that_is_not_csv_changes_nothing(home: Path) -> None:
    csv = home / "pegawai.csv"
    csv.write_text(HEADER + GOOD, encoding="utf-8")
    assert berkas(home, "pegawai", "import", str(csv)).returncode == 0
    before = (home / "berkas.db").stat().st_size, pegawai_rows(home)
    image = home / "foto.csv"
    image.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(2000))
    result = berkas(home, "pegawai", "import", str(image))
    assert result.returncode == 2
    assert "bukan CSV" in result.stderr
    assert "Traceback" not in result.stderr
    assert pegawai_rows(home) == before[1]


def test_search_create_and_refused_submit(home: Path) -> None:
    csv = home / "pegawai.csv"
    csv.write_text(HEADER + GOOD, encoding="utf-8")
    berkas(home, "pegawai", "import", str(csv))
    found = berkas(home, "pegawai", "cari", "budi san")
    assert "196804111993031009" in found.stdout
    made = berkas(home, "usulan", "buat", "19680411 199303 1 009", "--layanan", "kp")
    assert made.returncode == 0, made.stderr
    usulan_id = re.search(r"Usulan dibuat: (\S+)", made.stdout).group(1)  # type: ignore[union-attr]
    refused = berkas(home, "usulan", "ajukan", usulan_id)
    assert refused.returncode == 2
    assert "belum lengkap" in refused.stderr and "SK pangkat terakhir" in refused.stderr
    shown = berkas(home, "usulan", "lihat", usulan_id)
    # The TUI's words, not the codes: "Draf", the dokumen's name, "✗ kurang".
    assert "Draf" in shown.stdout and "draft" not in shown.stdout
    assert "SK pangkat terakhir" in shown.stdout and "✗ kurang" in shown.stdout
    conn = sqlite3.connect(home / "berkas.db")
    assert conn.execute("SELECT status FROM usulan").fetchone() == ("draft",)
    conn.close()


@pytest.mark.parametrize(("layanan", "jenis"), [("pindah", "pindah"), ("pensiun", "bup")])
def test_usulan_buat_takes_the_default_jenis_of_the_layanan(
    home: Path, layanan: str, jenis: str
) -> None:
    csv = home / "pegawai.csv"
    csv.write_text(HEADER + GOOD, encoding="utf-8")
    assert berkas(home, "pegawai", "import", str(csv)).returncode == 0
    made = berkas(home, "usulan", "buat", "196804111993031009", "--layanan", layanan)
    assert made.returncode == 0, made.stderr
    conn = sqlite3.connect(home / "berkas.db")
    assert conn.execute("SELECT layanan, jenis FROM usulan").fetchall() == [(layanan, jenis)]
    conn.close()
    unknown = berkas(home, "usulan", "buat", "196804111993031009", "--layanan", "mutasi")
    assert unknown.returncode == 2
    assert "Layanan tidak dikenal" in unknown.stderr and "Traceback" not in unknown.stderr


def test_unknown_nip_is_a_clear_error(home: Path) -> None:
    result = berkas(home, "usulan", "buat", "196804111993031009")
    assert result.returncode == 2
    assert "tidak ditemukan" in result.stderr


def test_separator_sheets_for_an_usulan(home: Path) -> None:
    from client.intake.page_reading import ReadJob, read_scan
    from client.intake.sheets import decode_sheet

    csv = home / "pegawai.csv"
    csv.write_text(HEADER + GOOD, encoding="utf-8")
    berkas(home, "pegawai", "import", str(csv))
    made = berkas(home, "usulan", "buat", "196804111993031009", "--layanan", "kp")
    usulan_id = re.search(r"Usulan dibuat: (\S+)", made.stdout).group(1)  # type: ignore[union-attr]
    target = home / "lembar.pdf"
    printed = berkas(home, "usulan", "lembar", usulan_id, "--keluar", str(target))
    assert printed.returncode == 0, printed.stderr
    count = int(re.search(r"(\d+) lembar pemisah", printed.stdout).group(1))  # type: ignore[union-attr]
    read = read_scan(ReadJob(sources=(target,), parts_dir=home / "bagian", ocr=False))
    codes = [decode_sheet(payload) for _i, payload in read.sheets]
    assert len(codes) == count and count >= 5
    assert all(c is not None and c.usulan_id == usulan_id for c in codes)
    assert "SK_PANGKAT" in {c.kode for c in codes if c}
    missing = berkas(home, "usulan", "lembar", "tidak-ada", "--keluar", str(target))
    assert missing.returncode == 2 and "tidak ditemukan" in missing.stderr


def test_ineligible_usulan_needs_tetap_buat_and_keeps_the_reason(home: Path) -> None:
    from datetime import date

    recent = f"{date.today().year - 1}-04-01"  # a year in the pangkat: not yet 4
    csv = home / "pegawai.csv"
    csv.write_text(HEADER + GOOD.replace("2019-04-01", recent), encoding="utf-8")
    assert berkas(home, "pegawai", "import", str(csv)).returncode == 0
    refused = berkas(home, "usulan", "buat", "196804111993031009", "--layanan", "kp")
    assert refused.returncode == 2
    assert "belum layak" in refused.stderr and "--tetap-buat" in refused.stderr
    conn = sqlite3.connect(home / "berkas.db")
    assert conn.execute("SELECT count(*) FROM usulan").fetchone() == (0,)
    made = berkas(home, "usulan", "buat", "196804111993031009", "--layanan", "kp", "--tetap-buat")
    assert made.returncode == 0, made.stderr
    usulan_id = re.search(r"Usulan dibuat: (\S+)", made.stdout).group(1)  # type: ignore[union-attr]
    # Confirmed once: submitting it is refused only for what is missing.
    refused = berkas(home, "usulan", "ajukan", usulan_id)
    assert refused.returncode == 2 and "belum lengkap" in refused.stderr
    (reason,) = conn.execute(
        "SELECT alasan FROM usulan_history WHERE alasan LIKE 'Dibuat meski%'"
    ).fetchone()
    conn.close()
    assert "4 tahun" in reason


def test_line_marked_tidak_berlaku_from_the_command_line(home: Path) -> None:
    csv = home / "pegawai.csv"
    csv.write_text(HEADER + GOOD, encoding="utf-8")
    assert berkas(home, "pegawai", "import", str(csv)).returncode == 0
    made = berkas(home, "usulan", "buat", "196804111993031009", "--layanan", "pensiun")
    usulan_id = re.search(r"Usulan dibuat: (\S+)", made.stdout).group(1)  # type: ignore[union-attr]
    # Refusals (an empty reason, a mandatory line) are the store's: tests/store.
    empty = berkas(home, "usulan", "tidak-berlaku", usulan_id, "SURAT_NIKAH", "--alasan", " ")
    assert empty.returncode == 2 and "alasan" in empty.stderr
    marked = berkas(
        home, "usulan", "tidak-berlaku", usulan_id, "surat_nikah", "--alasan", "belum menikah"
    )
    assert marked.returncode == 0, marked.stderr
    shown = berkas(home, "usulan", "lihat", usulan_id).stdout
    assert "Surat nikah" in shown and "tidak berlaku: belum menikah" in shown
    conn = sqlite3.connect(home / "berkas.db")
    assert conn.execute("SELECT tidak_berlaku FROM usulan").fetchone() == (
        '{"SURAT_NIKAH": "belum menikah"}',
    )
    undone = berkas(home, "usulan", "tidak-berlaku", usulan_id, "SURAT_NIKAH", "--cabut")
    assert undone.returncode == 0, undone.stderr
    assert conn.execute("SELECT tidak_berlaku FROM usulan").fetchone() == ("{}",)


def test_a_scan_waiting_for_an_usulan_is_filed_when_usulan_buat_makes_it(
    home: Path, tmp_path: Path
) -> None:
    from tests.tui.support import make_pdf

    csv = home / "pegawai.csv"
    csv.write_text(HEADER + GOOD, encoding="utf-8")
    assert berkas(home, "pegawai", "import", str(csv)).returncode == 0
    folder = tmp_path / "masuk"
    folder.mkdir()
    make_pdf(folder / "196804111993031009_SK_PANGKAT.pdf", ("SK PANGKAT", "Budi"))
    taken = berkas(home, "intake", "run", str(folder))
    assert taken.returncode == 0, taken.stderr
    conn = sqlite3.connect(home / "berkas.db")
    (reason,) = conn.execute("SELECT reason FROM inbox WHERE state = 'menunggu'").fetchone()
    assert reason.startswith("belum ada usulan terbuka")
    conn.close()

    made = berkas(home, "usulan", "buat", "196804111993031009", "--layanan", "kp")
    assert made.returncode == 0, made.stderr
    assert "1 pindaian dari Kotak masuk dilampirkan ke usulan NIP 196804111993031009" in made.stdout
    conn = sqlite3.connect(home / "berkas.db")
    assert conn.execute("SELECT state FROM inbox").fetchall() == [("diproses",)]
    assert conn.execute(
        "SELECT d.kode FROM dokumen d JOIN usulan u ON u.id = d.usulan_id WHERE NOT d.deleted"
    ).fetchall() == [("SK_PANGKAT",)]
    conn.close()

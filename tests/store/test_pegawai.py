"""Pegawai input, search and CSV parsing."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from store.database import Store
from store.errors import StoreError
from store.pegawai import parse_pegawai_csv, search_pegawai, upsert_pegawai
from tests.store.conftest import pegawai_input

HEADER = "nip,nama,golongan,tmt_pangkat,pendidikan,jenis_jabatan\n"


def test_pns_facts_come_from_the_nip_typed_with_spaces() -> None:
    data = pegawai_input(nip="19680411 199303 1 009")
    assert data.nip == "196804111993031009"
    assert str(data.tanggal_lahir) == "1968-04-11"
    assert str(data.tmt_cpns) == "1993-03-01"
    assert data.jenis_kelamin == 1
    assert data.golongan == "III/c" and data.pendidikan == "s1"


def test_bad_nip_is_refused_with_the_part_named() -> None:
    with pytest.raises(ValidationError, match=r"[Bb]ulan"):
        pegawai_input(nip="196804111993131009")


def test_pppk_number_skips_pns_checks_but_needs_facts() -> None:
    data = pegawai_input(
        nip="123456789012345678",
        jenis_pegawai="PPPK",
        tanggal_lahir="1990-01-01",
        jenis_kelamin=2,
        tmt_cpns="2022-01-01",
    )
    assert data.nip == "123456789012345678"
    with pytest.raises(ValidationError, match="PPPK"):
        pegawai_input(nip="123456789012345678", jenis_pegawai="pppk")


@pytest.fixture
def people(store: Store) -> Store:
    rows = [
        ("196804111993031009", "Budi Santoso"),
        ("197001022000032001", "Siti Aminah Santoso"),
        ("198512302010011002", "Budiman Hidayat"),
        ("199002142015032003", "Dewi Lestari"),
    ]
    with store.write() as session:
        for nip, nama in rows:
            upsert_pegawai(session, pegawai_input(nip=nip, nama=nama))
    return store


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("1968", ["Budi Santoso"]),
        ("19700102 200003", ["Siti Aminah Santoso"]),
        ("bud", ["Budi Santoso", "Budiman Hidayat"]),
        ("santoso", ["Budi Santoso", "Siti Aminah Santoso"]),
        ("budi san", ["Budi Santoso"]),
        ("SITI santo", ["Siti Aminah Santoso"]),
        ("zzz", []),
        ("9999", []),
    ],
)
def test_search_by_nip_prefix_and_name_words(
    people: Store, query: str, expected: list[str]
) -> None:
    with people.read() as session:
        assert sorted(p.nama for p in search_pegawai(session, query)) == sorted(expected)


def test_search_skips_tombstoned_pegawai(people: Store) -> None:
    with people.write() as session:
        budi = search_pegawai(session, "1968")[0]
        budi.deleted = True
        session.add(budi)
    with people.read() as session:
        assert search_pegawai(session, "budi santoso") == []


def test_renamed_pegawai_is_found_by_the_new_name(people: Store) -> None:
    with people.write() as session:
        upsert_pegawai(session, pegawai_input(nip="199002142015032003", nama="Dewi Kartika"))
    with people.read() as session:
        assert [p.nip for p in search_pegawai(session, "kartika")] == ["199002142015032003"]
        assert search_pegawai(session, "lestari") == []


def test_csv_reports_each_bad_row_with_its_line() -> None:
    content = (
        HEADER
        + "196804111993031009,Budi Santoso,III/c,2019-04-01,S1,pelaksana\n"
        + "196813111993031009,Salah Bulan,III/c,2019-04-01,S1,pelaksana\n"
        + "196804111993031009,Budi Lagi,III/c,2019-04-01,S1,pelaksana\n"
        + "197001022000032001,Siti,II/e,2019-04-01,S1,pelaksana\n"
        + "197001022000032001,Siti,III/a,kemarin,S1,pelaksana\n"
        + "199002142015032003,Dewi,III/a,01-04-2020,SMA,guru_besar\n"
        + "199002142015032003,Dewi,III/a,01-04-2020,SMA,fungsional ahli pertama\n"
    ).encode()
    result = parse_pegawai_csv(content)
    assert [line for line, _ in result.rows] == [2, 8]
    lines = {e.line: e.message for e in result.errors}
    assert sorted(lines) == [3, 4, 5, 6, 7]
    assert "tanggal lahir" in lines[3].lower()
    assert "baris 2" in lines[4]
    assert "golongan" in lines[5].lower()
    assert "tanggal" in lines[6].lower()
    assert "jenis jabatan tidak dikenal: 'guru_besar'" in lines[7].lower()


def test_csv_reads_common_jabatan_names() -> None:
    content = (
        HEADER
        + "196804111993031009,Budi,IV/c,2019-04-01,S2,JPT Pratama\n"
        + "199002142015032003,Dewi,III/d,2019-04-01,S1,Eselon III.b\n"
        + "197001022000032001,Siti,III/b,2019-04-01,S1,JF Ahli Muda\n"
    ).encode()
    result = parse_pegawai_csv(content)
    assert result.errors == []
    assert [row.jenis_jabatan for _, row in result.rows] == [
        "jpt",
        "administrator",
        "fungsional_ahli_muda",
    ]


def test_semicolon_csv_with_bom_is_read() -> None:
    content = "\ufeffnip;nama;golongan;tmt_pangkat;pendidikan;jenis_jabatan\n".encode() + (
        b"196804111993031009;Budi;III/c;2019-04-01;S1;pelaksana\n"
    )
    assert len(parse_pegawai_csv(content).rows) == 1


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"ini hanya teks biasa\ntanpa kolom\n",
        b"nama,alamat\nBudi,Jalan Merdeka\n",
    ],
)
def test_not_a_pegawai_csv_raises(content: bytes) -> None:
    with pytest.raises(StoreError):
        parse_pegawai_csv(content)

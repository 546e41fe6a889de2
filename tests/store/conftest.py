from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from store.database import Store, open_store
from store.pegawai import PegawaiInput


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "berkas.db", opd_id="DISDIK", person="Ani")
    yield s
    s.close()


def pegawai_input(
    nip: str = "196804111993031009", nama: str = "Budi Santoso", **kw: object
) -> PegawaiInput:
    values: dict[str, object] = {
        "nip": nip,
        "nama": nama,
        "golongan": "III/c",
        "tmt_pangkat": "2019-04-01",
        "pendidikan": "S1",
        "jenis_jabatan": "pelaksana",
        "jabatan": "Pengelola Kepegawaian",
    }
    values.update(kw)
    return PegawaiInput(**values)  # type: ignore[arg-type]

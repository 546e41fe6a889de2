"""Fixtures for scan intake: a store with pegawai and usulan, a blob store with
a toy cipher, and one conversion pool shared by the whole module run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from client.intake.pool import ConversionPool
from client.intake.service import IntakeService
from client.intake.settings import IntakeSettings, PollingMode
from store.blobs import BlobStore
from store.database import Store, open_store
from store.models import Pegawai, Usulan
from store.pegawai import PegawaiInput, upsert_pegawai
from store.usulan import create_usulan
from tests.support.scans import NIP_BUDI, NIP_SITI

STABLE = 0.3  # seconds: the stability delay in tests


class XorCipher:
    """A stand-in for the real streaming cipher: reversible and not plaintext."""

    def _xor(self, src: BinaryIO, dst: BinaryIO) -> int:
        total = 0
        while chunk := src.read(1 << 16):
            mask = (0x5A).to_bytes(1, "big") * len(chunk)
            dst.write(
                (int.from_bytes(chunk, "big") ^ int.from_bytes(mask, "big")).to_bytes(
                    len(chunk), "big"
                )
            )
            total += len(chunk)
        return total

    def encrypt(self, src: BinaryIO, dst: BinaryIO) -> int:
        return self._xor(src, dst)

    def decrypt(self, src: BinaryIO, dst: BinaryIO) -> int:
        return self._xor(src, dst)


@pytest.fixture(scope="session")
def pool() -> Iterator[ConversionPool]:
    shared = ConversionPool(workers=2, time_limit=60, memory_mb=3072)
    shared.warm_up()
    yield shared
    shared.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "data" / "berkas.db", opd_id="DISDIK", person="Ani")
    with s.write() as session:
        budi, _ = upsert_pegawai(session, _pegawai(NIP_BUDI, "Budi Santoso"))
        upsert_pegawai(session, _pegawai(NIP_SITI, "Siti Aminah"))
        create_usulan(session, budi, "kp", "reguler")
    yield s
    s.close()


def _pegawai(nip: str, nama: str) -> PegawaiInput:
    return PegawaiInput(
        nip=nip,
        nama=nama,
        golongan="III/c",
        tmt_pangkat="2019-04-01",  # type: ignore[arg-type]
        pendidikan="S1",
        jenis_jabatan="pelaksana",
    )


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "data" / "blobs", XorCipher())


@pytest.fixture
def scans(tmp_path: Path) -> Path:
    folder = tmp_path / "pindai"
    folder.mkdir()
    return folder


@pytest.fixture
def settings(scans: Path) -> IntakeSettings:
    return IntakeSettings(
        scan_folders=[scans],
        stable_delay=STABLE,
        rescan_interval=60,
        health_interval=0.5,
        polling=PollingMode.OFF,
        workers=2,
        file_time_limit=60,
        # OCR is slow on 2 cores: only the tests about reading pages turn it on.
        ocr=False,
    )


@pytest.fixture
def service(
    store: Store, blobs: BlobStore, settings: IntakeSettings, pool: ConversionPool
) -> Iterator[IntakeService]:
    with IntakeService(store, blobs, settings, pool=pool) as svc:
        yield svc


def usulan_of(store: Store, nip: str) -> Usulan:
    from sqlmodel import select

    with store.read() as session:
        pegawai = session.exec(select(Pegawai).where(Pegawai.nip == nip)).one()
        return session.exec(select(Usulan).where(Usulan.pegawai_id == pegawai.id)).one()

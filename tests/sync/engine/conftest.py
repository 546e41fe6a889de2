"""A real server on loopback, the bad-network proxy in front of it, and client homes.

`Device` is one OPD (or verifikator) installation: its home, store, blob store and engine,
talking to the server through the proxy.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest

from client.config import ClientConfig, save_config
from client.paths import Paths, resolve_paths
from client.sync_service import build_engine, enrol
from store.blobs import BlobStore
from store.database import Store, open_store
from store.models import Blob, Pegawai, SyncedRecord
from sync.engine import EngineSettings, SyncEngine, SyncReport
from tests.support.netproxy import Proxy
from tests.support.server import RunningServer

R = TypeVar("R", bound=SyncedRecord)

NIPS = [
    "196804111993031009",
    "197502142000032001",
    "198001012005011002",
    "198203152006041003",
]


def fast_settings(**overrides: object) -> EngineSettings:
    settings = EngineSettings(key_check_interval_s=0, record_interval_s=0.5)
    for name, value in overrides.items():
        setattr(settings, name, value)
    return settings


@dataclass
class Device:
    paths: Paths
    store: Store
    engine: SyncEngine
    closed: bool = False

    @property
    def blobs(self) -> BlobStore:
        return self.engine.blobs

    def sync(self) -> SyncReport:
        return self.engine.sync_once()

    def add_pegawai(self, nip: str, nama: str = "Budi Santoso", **fields: Any) -> str:
        with self.store.write() as session:
            p = Pegawai(
                nip=nip,
                nama=nama,
                tanggal_lahir=date(int(nip[:4]), int(nip[4:6]), int(nip[6:8])),
                jenis_kelamin=1,
                golongan="III/a",
                tmt_pangkat=date(2019, 4, 1),
                tmt_cpns=date(1993, 3, 1),
                pendidikan="S1",
                jabatan_kind="pelaksana",
                **fields,
            )
            session.add(p)
            session.flush()
            return p.id

    def edit(self, model: type[SyncedRecord], record_id: str, **values: object) -> None:
        with self.store.write() as session:
            row = session.get(model, record_id)
            assert row is not None
            for name, value in values.items():
                setattr(row, name, value)
            session.add(row)

    def get(self, model: type[R], record_id: str) -> R:
        with self.store.read() as session:
            row = session.get(model, record_id)
            assert row is not None
            return row

    def store_scan(self, data: bytes, name: str = "scan.pdf") -> str:
        """Put a document into the blob store with its Blob row, as intake does."""
        source = self.paths.data / name
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_bytes(data)
        stored = self.blobs.put(source)
        source.unlink()
        with self.store.apply_remote() as session:
            if session.get(Blob, stored.sha256) is None:
                session.add(
                    Blob(
                        sha256=stored.sha256,
                        size=stored.size,
                        cipher_size=stored.cipher_size,
                        created_at=f"{len(os.listdir(self.blobs.root)):06d}",
                    )
                )
        return stored.sha256

    def berkas(self, *args: str) -> str:
        """Run the `berkas` command line on this device's home (a process of its own, as a
        person runs it); returns what it printed, after checking it succeeded."""
        env = {**os.environ, "BERKAS_HOME": str(self.paths.config_dir), "COLUMNS": "200"}
        result = subprocess.run(
            [sys.executable, "-m", "berkas", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.engine.close()
        self.store.close()


class IssuesEnrolCodes(Protocol):
    """What enrolling needs of a server: RunningServer, or two processes behind HAProxy."""

    def enrol_code(self, kode: str, role: Any = ...) -> str: ...


def make_device(
    root: Path,
    name: str,
    server: IssuesEnrolCodes,
    url: str,
    *,
    opd: str = "DISDIK",
    role: str = "opd",
    settings: EngineSettings | None = None,
) -> Device:
    paths = resolve_paths(root / name)
    save_config(paths.config, ClientConfig(opd_kode=opd if role == "opd" else "", operator=name))
    enrol(paths, url, server.enrol_code(opd, role), device_name=name)
    return open_device(paths, url, settings=settings)


def open_device(paths: Paths, url: str, *, settings: EngineSettings | None = None) -> Device:
    from client.config import load_config

    config = load_config(paths.config)
    store = open_store(paths.store, opd_id=config.opd_kode or None, person=config.operator)
    engine = build_engine(
        paths, store, config, settings=settings or fast_settings(), server_url=url
    )
    return Device(paths, store, engine)


class DeviceFactory:
    def __init__(self, root: Path, server: RunningServer, url: str) -> None:
        self.root = root
        self.server = server
        self.url = url
        self.made: list[Device] = []

    def __call__(
        self,
        name: str,
        *,
        opd: str = "DISDIK",
        role: str = "opd",
        settings: EngineSettings | None = None,
    ) -> Device:
        device = make_device(
            self.root, name, self.server, self.url, opd=opd, role=role, settings=settings
        )
        self.made.append(device)
        return device

    def reopen(self, device: Device, settings: EngineSettings | None = None) -> Device:
        """The same home in a new engine and store (a restarted program)."""
        device.close()
        again = open_device(device.paths, self.url, settings=settings)
        self.made.append(again)
        return again


@pytest.fixture
def new_device(tmp_path: Path, server: RunningServer, proxy: Proxy) -> Iterator[DeviceFactory]:
    factory = DeviceFactory(tmp_path, server, proxy.url)
    yield factory
    for device in factory.made:
        device.close()


def random_bytes(size: int, seed: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest() * 64
        counter += 1
    return bytes(out[:size])

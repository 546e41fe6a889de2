"""Fixtures of the server suite: one real server per session (SQLite, or PostgreSQL when
BERKAS_TEST_DATABASE_URL is set), a fresh OPD per test, enrolled test devices."""

from __future__ import annotations

import base64
import hashlib
import io
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from tusclient.uploader.uploader import Uploader

from store.ids import new_id
from store.rules import Role
from sync.crypto import (
    encrypt_stream,
    generate_x25519,
    public_key_b64,
    wrap_opd_key,
    x25519_public_from_b64,
)
from sync.protocol import VERIFIER_RECIPIENT, FileList, OpdKeyInfo, OpdKeyUpload, WrappedKey
from tests.support.device import SignedCall, TestDevice
from tests.support.server import (
    RunningServer,
    drop_test_database,
    fresh_database_url,
    start_server,
)

KP_REGULER_REQUIRED = (
    "SK_PANGKAT",
    "SKP",
    "SK_JABATAN",
    "PELANTIKAN_SPMT",
    "IJAZAH",
    "TRANSKRIP",
)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str | None]:
    """A fresh PostgreSQL schema for this session's shared server, or None (SQLite)."""
    url = fresh_database_url()
    yield url
    drop_test_database(url)


@pytest.fixture(scope="session")
def server(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("server"), database_url)
    yield running
    running.stop()


@pytest.fixture
def own_database_url() -> Iterator[str | None]:
    """A database (schema) of its own, for tests that start their own server."""
    url = fresh_database_url()
    yield url
    drop_test_database(url)


def unique_kode(prefix: str = "OPD") -> str:
    return f"{prefix}{secrets.token_hex(3).upper()}"


@pytest.fixture
def opd(server: RunningServer) -> str:
    """A fresh OPD on the shared server, so tests never see each other's records."""
    return server.add_opd(unique_kode())


@pytest.fixture
def other_opd(server: RunningServer) -> str:
    return server.add_opd(unique_kode("LAIN"))


DeviceFactory = Callable[..., TestDevice]


@pytest.fixture
def enrol(server: RunningServer) -> Iterator[DeviceFactory]:
    """enrol(kode, role="opd") -> an enrolled TestDevice on the shared server."""
    made: list[TestDevice] = []

    def make(kode: str, role: Role | str = Role.OPD, name: str = "Perangkat uji") -> TestDevice:
        device = TestDevice.enrol(server.url, server.enrol_code(kode, role), name)
        made.append(device)
        return device

    yield make
    for device in made:
        device.close()


@pytest.fixture
def device(enrol: DeviceFactory, opd: str) -> TestDevice:
    return enrol(opd)


@pytest.fixture
def verifier(enrol: DeviceFactory) -> TestDevice:
    return enrol("BKD", Role.VERIFIKATOR, "Verifikator uji")


# -- record data ---------------------------------------------------------------------------


def nip(seq: int = 9) -> str:
    """A valid PNS NIP (born 1968-04-11, TMT CPNS 1993-03, male) with sequence `seq`."""
    return f"19680411199303100{seq:01d}" if seq < 10 else f"1968041119930310{seq:02d}"


def pegawai_data(seq: int = 9, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "nip": nip(seq),
        "nama": "Budi Santoso",
        "tanggal_lahir": "1968-04-11",
        "jenis_kelamin": 1,
        "jenis_pegawai": "pns",
        "golongan": "III/c",
        "tmt_pangkat": "2019-04-01",
        "tmt_cpns": "1993-03-01",
        "tmt_pns": None,
        "pendidikan": "s1",
        "jabatan": "Pengelola Kepegawaian",
        "jabatan_kind": "pelaksana",
        "unit_kerja": "Sekretariat",
        "riwayat_pangkat": [],
    }
    data.update(overrides)
    return data


def usulan_data(pegawai_id: str, seq: int = 9, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "pegawai_id": pegawai_id,
        "nip": nip(seq),
        "layanan": "kp",
        "jenis": "reguler",
        "periode": "2025-04-01",
        "status": "draft",
        "catatan": "",
        "catatan_verifikator": "",
        "berlaku": [],
        "nomor_pertek": "",
        "tanggal_pertek": None,
    }
    data.update(overrides)
    return data


def dokumen_data(usulan_id: str, kode: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "usulan_id": usulan_id,
        "kode": kode,
        "sha256": secrets.token_hex(32),
        "size": 1234,
        "pages": 1,
        "nama_file": f"{nip()}_{kode}.pdf",
        "state": "ada",
        "catatan_verifikator": "",
    }
    data.update(overrides)
    return data


def history_data(
    usulan_id: str, dari: str, ke: str, device_id: str, alasan: str = ""
) -> dict[str, Any]:
    return {
        "usulan_id": usulan_id,
        "dari_status": dari,
        "ke_status": ke,
        "oleh_perangkat": device_id,
        "oleh_nama": "Ani",
        "waktu": "2025-01-10T08:00:00+00:00",
        "alasan": alasan,
    }


def new_record_id() -> str:
    return new_id()


def applied_record(device: TestDevice, table: str, data: dict[str, Any]) -> dict[str, Any]:
    """Create a record through push and return it as the server holds it."""
    result = device.push(device.create(table, data)).results[0]
    assert result.outcome == "applied", result
    assert result.record is not None
    return dict(result.record)


@pytest.fixture
def usulan_ready(device: TestDevice) -> dict[str, Any]:
    """A draft KP reguler usulan with a pegawai, on the server, no dokumen yet."""
    pegawai = applied_record(device, "pegawai", pegawai_data())
    return applied_record(device, "usulan", usulan_data(pegawai["id"]))


def complete_checklist(device: TestDevice, usulan: dict[str, Any]) -> list[dict[str, Any]]:
    ops = [device.create("dokumen", dokumen_data(usulan["id"], k)) for k in KP_REGULER_REQUIRED]
    results = device.push(*ops).results
    assert all(r.outcome == "applied" for r in results), results
    return [dict(r.record or {}) for r in results]


def tmp_home(tmp_path: Path, name: str = "home") -> Path:
    return tmp_path / name


# -- OPD key and documents -----------------------------------------------------------------


def make_opd_key(device: TestDevice) -> X25519PrivateKey:
    """What the first device of an OPD does: make the OPD key pair and register it, wrapped
    for itself and for the BKD verifier key."""
    opd_key = generate_x25519()
    own = x25519_public_from_b64(public_key_b64(device.keys.x25519("encryption")))
    verifier = x25519_public_from_b64(device.enrolment.verifier_encryption_key)
    body = OpdKeyUpload(
        public_key=public_key_b64(opd_key),
        wrapped=[
            WrappedKey(
                recipient_device_id=device.device_id,
                envelope_b64=wrap_opd_key(opd_key, own, device.opd_kode),
            ),
            WrappedKey(
                recipient_device_id=VERIFIER_RECIPIENT,
                envelope_b64=wrap_opd_key(opd_key, verifier, device.opd_kode),
            ),
        ],
    )
    info = device.call("PUT", "/v1/opd/key", OpdKeyInfo, body)
    assert info.public_key == public_key_b64(opd_key)
    return opd_key


def encrypt_document(plaintext: bytes, device: TestDevice, opd_key: X25519PrivateKey) -> bytes:
    """The document stream a client uploads: wrapped to the OPD key and the verifier key."""
    out = io.BytesIO()
    encrypt_stream(
        io.BytesIO(plaintext),
        out,
        [
            opd_key.public_key(),
            x25519_public_from_b64(device.enrolment.verifier_encryption_key),
        ],
    )
    return out.getvalue()


def start_upload(
    device: TestDevice,
    length: int,
    sha256: str,
    *,
    filename: str = "196804111993031009_SKP.pdf",
    dokumen_id: str | None = None,
    extra_headers: dict[str, str] | None = None,
) -> SignedCall:
    """The signed tus creation request (POST /v1/files)."""
    meta = {"sha256": sha256, "filename": filename}
    if dokumen_id:
        meta["dokumen_id"] = dokumen_id
    headers = {
        "Tus-Resumable": "1.0.0",
        "Upload-Length": str(length),
        "Upload-Metadata": ",".join(
            f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items()
        ),
        **(extra_headers or {}),
    }
    return device.send("POST", "/v1/files", None, headers=headers)


def upload_url(device: TestDevice, ciphertext: bytes, plaintext: bytes, **kw: Any) -> str:
    call = start_upload(device, len(ciphertext), hashlib.sha256(plaintext).hexdigest(), **kw)
    assert call.response.status_code == 201, call.response.text
    return device.base_url + call.response.headers["Location"]


def tus_upload(
    device: TestDevice,
    plaintext: bytes,
    opd_key: X25519PrivateKey,
    *,
    chunk_size: int = 64 * 1024,
    dokumen_id: str | None = None,
) -> tuple[str, bytes]:
    """Encrypt and upload with tuspy; returns (upload url, ciphertext)."""
    ciphertext = encrypt_document(plaintext, device, opd_key)
    url = upload_url(device, ciphertext, plaintext, dokumen_id=dokumen_id)
    uploader = Sha256Uploader(
        file_stream=io.BytesIO(ciphertext), url=url, chunk_size=chunk_size, upload_checksum=True
    )
    uploader.upload()
    return url, ciphertext


class Sha256Uploader(Uploader):
    """tuspy's uploader with the sha256 checksum the server asks for (tuspy defaults to sha1)."""

    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


def file_list(device: TestDevice, query: str = "") -> FileList:
    return device.call("GET", f"/v1/files{query}", FileList)

"""Admin actions, run locally by the BKD admin (server.cli), never over the network:
OPDs, one-time enrolment codes, the pegawai master data, devices and revocation.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db import Database
from server.models import Device, EnrolCode, Opd
from server.records import (
    ChangeLogWriter,
    RecordCache,
    StoredRecord,
    find_by_natural_key,
    normalise_record,
)
from store.errors import StoreError
from store.hlc import HybridClock
from store.ids import new_id
from store.pegawai import parse_pegawai_csv
from store.rules import Role

ADMIN_DEVICE: Final = "bkd-admin"
ENROL_CODE_TTL: Final = 72 * 3600
_KODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")
# No 0/O, 1/I/L: codes are read aloud and typed by hand.
_CODE_ALPHABET: Final = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_CODE_GROUPS: Final = 4
_CODE_GROUP_LEN: Final = 4


class AdminError(Exception):
    """An admin action was refused; `message` is for the admin, in Bahasa Indonesia."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _check_kode(kode: str) -> str:
    kode = kode.strip().upper()
    if not _KODE.match(kode):
        raise AdminError(
            f"Kode OPD {kode!r} tidak sah: 2-32 huruf besar, angka, '_' atau '-' (mis. DISDIK)."
        )
    return kode


def _require_opd(session: Session, kode: str) -> Opd:
    opd = session.get(Opd, kode)
    if opd is None:
        raise AdminError(f"OPD {kode} belum terdaftar. Tambahkan dulu: berkas server opd add.")
    return opd


def add_opd(db: Database, kode: str, nama: str) -> Opd:
    """Register an OPD (or the BKD itself, for verifikator devices)."""
    kode = _check_kode(kode)
    nama = nama.strip()
    if not nama:
        raise AdminError("Nama OPD tidak boleh kosong.")
    with db.write() as session:
        if session.get(Opd, kode) is not None:
            raise AdminError(f"OPD {kode} sudah terdaftar.")
        opd = Opd(kode=kode, nama=nama, created_at=time.time())
        session.add(opd)
    return opd


def list_opds(db: Database) -> list[Opd]:
    with db.read() as session:
        return list(session.scalars(select(Opd).order_by(Opd.kode)))


# -- enrolment codes -----------------------------------------------------------------------


def normalise_code(code: str) -> str:
    """What a person typed, without spaces or dashes, upper-case."""
    return re.sub(r"[\s-]+", "", code).upper()


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode("ascii", "replace")).hexdigest()


@dataclass(frozen=True)
class IssuedCode:
    code: str
    opd_kode: str
    role: Role
    expires_at: float


def issue_enrol_code(
    db: Database, kode: str, role: Role | str, ttl_seconds: int = ENROL_CODE_TTL
) -> IssuedCode:
    """A one-time enrolment code for a device of OPD `kode` (stored only as a hash)."""
    kode = _check_kode(kode)
    try:
        role = Role(role)
    except ValueError:
        raise AdminError("Peran harus 'opd' atau 'verifikator'.") from None
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_GROUPS * _CODE_GROUP_LEN))
    code = "-".join(raw[i : i + _CODE_GROUP_LEN] for i in range(0, len(raw), _CODE_GROUP_LEN))
    now = time.time()
    with db.write(serial=False) as session:
        _require_opd(session, kode)
        session.add(
            EnrolCode(
                code_hash=code_hash(code),
                opd_kode=kode,
                role=role.value,
                created_at=now,
                expires_at=now + ttl_seconds,
            )
        )
    return IssuedCode(code=code, opd_kode=kode, role=role, expires_at=now + ttl_seconds)


# -- devices -------------------------------------------------------------------------------


def list_devices(db: Database, kode: str | None = None) -> list[Device]:
    with db.read() as session:
        query = select(Device).order_by(Device.opd_kode, Device.enrolled_at)
        if kode:
            query = query.where(Device.opd_kode == _check_kode(kode))
        return list(session.scalars(query))


def revoke_device(db: Database, device_id: str) -> Device:
    """Refuse every further request of this device (its records stay)."""
    with db.write(serial=False) as session:
        device = session.get(Device, device_id.strip())
        if device is None:
            raise AdminError(f"Perangkat {device_id} tidak ditemukan.")
        if device.revoked_at is None:
            device.revoked_at = time.time()
        return device


# -- pegawai master data -------------------------------------------------------------------


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def import_pegawai(db: Database, kode: str, content: bytes) -> ImportReport:
    """Import valid CSV rows as pegawai records of OPD `kode` (upsert by NIP); every
    created or changed record gets a change-log entry so the OPD's devices pull it.
    Bad rows are reported by line and skipped."""
    kode = _check_kode(kode)
    try:
        parsed = parse_pegawai_csv(content)
    except StoreError as exc:
        raise AdminError(exc.message) from exc
    report = ImportReport(errors=[(e.line, e.message) for e in parsed.errors])
    clock = HybridClock(ADMIN_DEVICE)
    now = time.time()
    with db.write() as session:
        _require_opd(session, kode)
        conn = session.connection()
        changes = ChangeLogWriter(conn, db.engine.dialect.name)
        records = RecordCache(conn)
        for _line, item in parsed.rows:
            values: dict[str, Any] = dict(item.record_values())
            record_id = find_by_natural_key(conn, "pegawai", kode, item.nip)
            row = records.get("pegawai", record_id) if record_id else None
            if row is None:
                row = StoredRecord(
                    table_name="pegawai",
                    record_id=new_id(),
                    opd_id=kode,
                    version=1,
                    data=normalise_record("pegawai", {**values, "riwayat_pangkat": []}),
                    deleted=False,
                    updated_at=clock.now(),
                    updated_by=ADMIN_DEVICE,
                    received_at=now,
                )
                records.save(row, new=True)
                report.created += 1
            else:
                current = dict(row.data)
                merged = {**current, **values}
                if current.get("golongan") != item.golongan and current.get("golongan"):
                    history = list(current.get("riwayat_pangkat") or [])
                    history.append(
                        {"golongan": current["golongan"], "tmt": current.get("tmt_pangkat")}
                    )
                    merged["riwayat_pangkat"] = history
                data = normalise_record("pegawai", merged)
                if data == current and not row.deleted:
                    report.unchanged += 1
                    continue
                row.data = data
                row.deleted = False
                row.version += 1
                row.updated_at = clock.now()
                row.updated_by = ADMIN_DEVICE
                row.received_at = now
                records.save(row, new=False)
                report.updated += 1
            changes.log(row, now)
        records.flush()
        changes.flush()
    return report

"""Enrolment: a one-time code and a device's public keys become a registered device."""

from __future__ import annotations

import time

from sqlalchemy import update

from server.admin import code_hash
from server.db import Database
from server.errors import ApiError
from server.keys import ServerKeys
from server.models import Device, EnrolCode, OpdKey, WrappedOpdKey
from store.ids import new_id
from store.rules import Role
from sync.crypto import CryptoError, ed25519_public_from_b64, x25519_public_from_b64
from sync.protocol import EnrolRequest, EnrolResponse

BAD_CODE_KODE = "kode_tidak_sah"
BAD_CODE_MESSAGE = (
    "Kode pendaftaran tidak dikenal, sudah dipakai, atau kedaluwarsa. "
    "Minta kode baru kepada admin BKD."
)


def enrol(db: Database, keys: ServerKeys, request: EnrolRequest) -> EnrolResponse:
    """Spend the code (once) and register the device; 403 for any unusable code."""
    try:
        ed25519_public_from_b64(request.signing_key)
        x25519_public_from_b64(request.encryption_key)
    except CryptoError as exc:
        raise ApiError(422, "kunci_tidak_sah", exc.message, exc.cause) from None
    now = time.time()
    device_id = new_id()
    hashed = code_hash(request.code)
    with db.write(serial=False) as session:
        # Spend the code atomically: of two racing enrolments only one updates the row.
        spent = session.execute(
            update(EnrolCode)
            .where(EnrolCode.code_hash == hashed)
            .where(EnrolCode.used_at.is_(None))
            .where(EnrolCode.expires_at > now)
            .values(used_at=now, used_by=device_id)
            .returning(EnrolCode.code_hash)
        )
        if spent.first() is None:
            raise ApiError(403, BAD_CODE_KODE, BAD_CODE_MESSAGE)
        code = session.get(EnrolCode, hashed)
        assert code is not None
        role = Role(code.role)
        session.add(
            Device(
                id=device_id,
                opd_kode=code.opd_kode,
                role=role.value,
                name=request.device_name,
                signing_key=request.signing_key,
                encryption_key=request.encryption_key,
                enrolled_at=now,
            )
        )
        opd_key = session.get(OpdKey, code.opd_kode) if role is Role.OPD else None
        wrapped = session.get(WrappedOpdKey, (code.opd_kode, device_id))
        opd_kode = code.opd_kode
    return EnrolResponse(
        device_id=device_id,
        opd_id=opd_kode if role is Role.OPD else None,
        opd_kode=opd_kode,
        role=role.value,
        server_signing_key=keys.signing_public_b64,
        server_encryption_key=keys.encryption_public_b64,
        verifier_encryption_key=keys.verifier_public_b64,
        opd_encryption_key=opd_key.public_key if opd_key else None,
        wrapped_opd_key=wrapped.envelope_b64 if wrapped else None,
    )

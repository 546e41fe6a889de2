"""The shared OPD key, held by the server only wrapped (DESIGN.md "Keys and requests").

The first device of an OPD makes the key pair and uploads the public half with the private
half sealed to itself and to the BKD verifier key. Later devices get a copy re-wrapped for
them by an existing device of the OPD or, after a total loss, by a verifikator.
"""

from __future__ import annotations

import time
from typing import TypeVar

from sqlalchemy import Select, select

from server.auth import Caller
from server.db import Database
from server.errors import ApiError, not_found
from server.models import Device, Opd, OpdKey, WrappedOpdKey
from server.models import KeyRequest as KeyRequestRow
from store.rules import Role
from sync.crypto import CryptoError, x25519_public_from_b64
from sync.protocol import (
    VERIFIER_RECIPIENT,
    DeviceNeedingKey,
    DevicesNeedingKey,
    KeyRequest,
    KeyRequests,
    KeyRequestStatus,
    OpdKeyInfo,
    OpdKeyUpload,
    WrappedKey,
)

SelectT = TypeVar("SelectT", bound=Select)  # type: ignore[type-arg]


def _no_key() -> ApiError:
    return ApiError(
        404,
        "kunci_opd_belum_ada",
        "OPD ini belum memiliki kunci bersama; perangkat pertama OPD yang membuatnya.",
    )


def _waiting() -> ApiError:
    return ApiError(
        404,
        "kunci_opd_menunggu",
        "Kunci OPD untuk perangkat ini belum tersedia. Minta perangkat lain OPD ini atau "
        "verifikator BKD membagikannya, lalu coba lagi.",
    )


def _recipient(caller: Caller) -> str:
    return VERIFIER_RECIPIENT if caller.is_verifier else caller.device_id


def _opd_for(caller: Caller, opd: str | None) -> str:
    if caller.is_verifier:
        if not opd:
            raise ApiError(422, "isian_tidak_sah", "Sebutkan OPD-nya: ?opd=KODE.")
        return opd
    if opd and opd != caller.opd_kode:
        raise not_found("opd")
    return caller.opd_kode


def upload_key(db: Database, caller: Caller, body: OpdKeyUpload) -> OpdKeyInfo:
    """Register the OPD key (first device only); a retry with the same key is accepted."""
    if caller.is_verifier:
        raise ApiError(403, "dilarang", "Kunci OPD dibuat oleh perangkat OPD, bukan verifikator.")
    try:
        x25519_public_from_b64(body.public_key)
    except CryptoError as exc:
        raise ApiError(422, "kunci_tidak_sah", exc.message, exc.cause) from None
    recipients = [w.recipient_device_id for w in body.wrapped]
    if len(set(recipients)) != len(recipients):
        raise ApiError(422, "isian_tidak_sah", "Penerima salinan kunci ada yang ganda.")
    if caller.device_id not in recipients or VERIFIER_RECIPIENT not in recipients:
        raise ApiError(
            422,
            "isian_tidak_sah",
            "Kunci OPD harus dibungkus untuk perangkat ini dan untuk kunci verifikator BKD.",
        )
    now = time.time()
    with db.write() as session:
        others = [r for r in recipients if r not in (caller.device_id, VERIFIER_RECIPIENT)]
        for device_id in others:
            device = session.get(Device, device_id)
            if device is None or device.opd_kode != caller.opd_kode or device.revoked_at:
                raise ApiError(422, "isian_tidak_sah", f"Perangkat {device_id} tidak dikenal.")
        existing = session.get(OpdKey, caller.opd_kode)
        if existing is not None and existing.public_key != body.public_key:
            raise ApiError(
                409,
                "kunci_opd_sudah_ada",
                "OPD ini sudah memiliki kunci bersama; minta salinannya, jangan membuat baru.",
            )
        if existing is None:
            session.add(
                OpdKey(
                    opd_kode=caller.opd_kode,
                    public_key=body.public_key,
                    created_by=caller.device_id,
                    created_at=now,
                )
            )
        for wrapped in body.wrapped:
            if session.get(WrappedOpdKey, (caller.opd_kode, wrapped.recipient_device_id)):
                continue
            session.add(
                WrappedOpdKey(
                    opd_kode=caller.opd_kode,
                    recipient=wrapped.recipient_device_id,
                    envelope_b64=wrapped.envelope_b64,
                    created_by=caller.device_id,
                    created_at=now,
                )
            )
    return get_key(db, caller, None)


def get_key(db: Database, caller: Caller, opd: str | None) -> OpdKeyInfo:
    """The OPD public key and the caller's wrapped copy (404 when either is missing)."""
    opd_kode = _opd_for(caller, opd)
    with db.read() as session:
        key = session.get(OpdKey, opd_kode)
        if key is None:
            raise _no_key()
        wrapped = session.get(WrappedOpdKey, (opd_kode, _recipient(caller)))
    if wrapped is None:
        raise _waiting()
    return OpdKeyInfo(
        opd_id=opd_kode,
        public_key=key.public_key,
        wrapped=WrappedKey(
            recipient_device_id=wrapped.recipient, envelope_b64=wrapped.envelope_b64
        ),
    )


def _without_their_copy(query: SelectT, caller: Caller) -> SelectT:
    """`query` (over Device) narrowed to active OPD devices holding no wrapped copy of
    their OPD's key: the caller's OPD, every OPD for a verifikator."""
    query = (
        query.outerjoin(
            WrappedOpdKey,
            (WrappedOpdKey.opd_kode == Device.opd_kode) & (WrappedOpdKey.recipient == Device.id),
        )
        .where(Device.role == Role.OPD.value)
        .where(Device.revoked_at.is_(None))
        .where(WrappedOpdKey.recipient.is_(None))
    )
    return query if caller.is_verifier else query.where(Device.opd_kode == caller.opd_kode)


def devices_needing_key(db: Database, caller: Caller) -> DevicesNeedingKey:
    """Active OPD devices (the caller's OPD; every OPD for a verifikator) that have no
    wrapped copy of an existing OPD key."""
    with db.read() as session:
        query = _without_their_copy(
            select(Device).join(OpdKey, OpdKey.opd_kode == Device.opd_kode), caller
        ).order_by(Device.enrolled_at)
        devices = list(session.scalars(query))
    return DevicesNeedingKey(
        devices=[
            DeviceNeedingKey(
                device_id=d.id,
                opd_id=d.opd_kode,
                device_name=d.name,
                encryption_key=d.encryption_key,
            )
            for d in devices
        ]
    )


def request_key(db: Database, caller: Caller) -> KeyRequestStatus:
    """File (or find) this OPD device's request for a copy of its OPD key: what a restore
    does after a total loss, so the verifikator's queue shows it. Idempotent per device."""
    if caller.is_verifier:
        raise ApiError(403, "dilarang", "Permintaan kunci OPD hanya untuk perangkat OPD.")
    with db.write() as session:
        if session.get(OpdKey, caller.opd_kode) is None:
            raise _no_key()
        shared = session.get(WrappedOpdKey, (caller.opd_kode, caller.device_id)) is not None
        request = session.get(KeyRequestRow, caller.device_id)
        if request is None:
            request = KeyRequestRow(
                device_id=caller.device_id, opd_kode=caller.opd_kode, requested_at=time.time()
            )
            session.add(request)
        requested_at = request.requested_at
    return KeyRequestStatus(
        device_id=caller.device_id,
        opd_id=caller.opd_kode,
        requested_at=requested_at,
        shared=shared,
    )


def key_requests(db: Database, caller: Caller) -> KeyRequests:
    """Open key requests, oldest first: the device is an active OPD device and still has
    no wrapped copy of its OPD's key (every OPD for a verifikator, else the caller's)."""
    with db.read() as session:
        query = _without_their_copy(
            select(KeyRequestRow.requested_at, Device, Opd.nama)
            .join(Device, Device.id == KeyRequestRow.device_id)
            .join(Opd, Opd.kode == Device.opd_kode),
            caller,
        ).order_by(KeyRequestRow.requested_at)
        rows = [(row[0], row[1], row[2]) for row in session.execute(query)]
    return KeyRequests(
        requests=[
            KeyRequest(
                device_id=device.id,
                opd_id=device.opd_kode,
                opd_name=opd_name,
                device_name=device.name,
                requested_at=requested_at,
            )
            for requested_at, device, opd_name in rows
        ]
    )


def wrap_for_device(db: Database, caller: Caller, body: WrappedKey) -> OpdKeyInfo:
    """Store a copy of the OPD key wrapped for another device of that OPD."""
    now = time.time()
    with db.write() as session:
        target = session.get(Device, body.recipient_device_id)
        if target is None or (not caller.is_verifier and target.opd_kode != caller.opd_kode):
            raise not_found("device")
        if target.revoked_at is not None or target.role != Role.OPD.value:
            raise ApiError(
                422, "isian_tidak_sah", "Perangkat tujuan sudah dicabut atau bukan perangkat OPD."
            )
        key = session.get(OpdKey, target.opd_kode)
        if key is None:
            raise _no_key()
        existing = session.get(WrappedOpdKey, (target.opd_kode, target.id))
        if existing is not None and existing.envelope_b64 != body.envelope_b64:
            raise ApiError(
                409, "kunci_sudah_dibagikan", "Perangkat ini sudah menerima salinan kunci OPD."
            )
        if existing is None:
            session.add(
                WrappedOpdKey(
                    opd_kode=target.opd_kode,
                    recipient=target.id,
                    envelope_b64=body.envelope_b64,
                    created_by=caller.device_id,
                    created_at=now,
                )
            )
        opd_kode = target.opd_kode
        public_key = key.public_key
    return OpdKeyInfo(opd_id=opd_kode, public_key=public_key, wrapped=body)

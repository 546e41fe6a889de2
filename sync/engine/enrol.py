"""Enrolment from the client: device keys, the one-time code, the server's keys, the OPD key.

The device key set is made (or reused, when documents were already stored with it) and its
public halves are registered with the code; the answer's keys are kept in server.json and
the store takes the device and OPD identity the server assigned.
"""

from __future__ import annotations

import logging
import platform
from dataclasses import dataclass

from store.database import Store, set_meta
from sync.engine.errors import LinkState, NotEnrolled, OpdKeyMissing, SyncError
from sync.engine.keyring import Keyring, ServerFacts
from sync.engine.opd_key import adopt_enrolment_copy, ensure_opd_key
from sync.engine.transport import Transport
from sync.protocol import EnrolRequest, EnrolResponse

log = logging.getLogger(__name__)

_ENROL_PATH = "/v1/enrol"


class EnrolError(SyncError):
    """Enrolment cannot go on (already enrolled, another OPD's data)."""


@dataclass(frozen=True)
class EnrolResult:
    device_id: str
    opd_id: str
    opd_kode: str
    role: str
    opd_key_held: bool


def enrol_device(
    store: Store,
    keyring: Keyring,
    server_url: str,
    code: str,
    *,
    device_name: str = "",
    transport: Transport | None = None,
) -> EnrolResult:
    """Register this installation with the BKD server using a one-time code."""
    facts = keyring.facts()
    if facts is not None and store.get_meta("state") != LinkState.KUNCI_DICABUT.value:
        raise EnrolError(
            f"Perangkat ini sudah terdaftar pada {facts.server_url} (OPD {facts.opd_kode}). "
            "Pendaftaran ulang hanya untuk perangkat yang kuncinya dicabut.",
            f"already enrolled as {facts.device_id}",
        )
    signing, encryption = keyring.device_public_b64()
    plain = transport or Transport(server_url)
    try:
        answer = plain.plain_json(
            "POST",
            _ENROL_PATH,
            EnrolRequest(
                code=code.strip(),
                device_name=(device_name or platform.node() or "perangkat")[:100],
                signing_key=signing,
                encryption_key=encryption,
            ),
            EnrolResponse,
        )
    finally:
        if transport is None:
            plain.close()
    local_opd = store.context.opd_id
    opd_id = answer.opd_id or ""
    if answer.role == "opd" and local_opd and local_opd != opd_id:
        raise EnrolError(
            f"Kode pendaftaran ini untuk OPD {answer.opd_kode}, sedangkan data di komputer ini "
            f"milik OPD {local_opd}. Minta admin BKD mencabut perangkat {answer.device_id} "
            "dan memberi kode untuk OPD yang benar.",
            f"enrolled for {opd_id}, store belongs to {local_opd}",
        )
    facts = ServerFacts(
        server_url=server_url.rstrip("/"),
        device_id=answer.device_id,
        opd_id=opd_id,
        opd_kode=answer.opd_kode,
        role=answer.role,
        server_signing_key=answer.server_signing_key,
        server_encryption_key=answer.server_encryption_key,
        verifier_encryption_key=answer.verifier_encryption_key,
        opd_encryption_key=answer.opd_encryption_key or "",
    )
    keyring.save_facts(facts)
    store.set_identity(device_id=answer.device_id, opd_id=opd_id or local_opd)
    with store.apply_remote() as session:
        set_meta(session, "server_url", facts.server_url)
        set_meta(session, "role", answer.role)
        set_meta(session, "opd_kode", answer.opd_kode)
        set_meta(session, "state", LinkState.ONLINE.value)
        set_meta(session, "last_error", "")
    log.info(
        "perangkat terdaftar: %s, OPD %s, peran %s", answer.device_id, answer.opd_kode, answer.role
    )
    held = False
    if answer.role == "opd":
        if answer.wrapped_opd_key:
            adopt_enrolment_copy(keyring, facts, answer.wrapped_opd_key)
            held = True
        else:
            # First device of the OPD (registers a new key) or one that must wait.
            signed = _signed(keyring, facts, server_url)
            try:
                held = ensure_opd_key(keyring, signed)
            except OpdKeyMissing:
                held = False
            finally:
                signed.close()
    return EnrolResult(answer.device_id, opd_id, answer.opd_kode, answer.role, held)


def _signed(keyring: Keyring, facts: ServerFacts, server_url: str) -> Transport:
    from sync.crypto import x25519_public_from_b64

    return Transport(
        server_url,
        keys=keyring.device_keys(),
        device_id=facts.device_id,
        server_encryption_key=x25519_public_from_b64(facts.server_encryption_key),
    )


def _require_enrolled(keyring: Keyring) -> ServerFacts:
    facts = keyring.facts()
    if facts is None:
        raise NotEnrolled(
            "Perangkat ini belum terdaftar. Jalankan: berkas enrol --server URL --code KODE",
            "no server.json",
        )
    return facts

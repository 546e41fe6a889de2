"""The shared OPD key on the client: made by the first device of an OPD, fetched by later
ones once wrapped for them, and wrapped by this device for devices still waiting.

Requests are made only when something is missing, so a device that holds its key costs
the server nothing per sync; the check for waiting devices runs every
`EngineSettings.key_check_interval_s`.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from sync.crypto import (
    CryptoError,
    public_key_b64,
    unwrap_opd_key,
    wrap_opd_key,
    x25519_public_from_b64,
)
from sync.engine.errors import LocalFailure, OpdKeyMissing, ServerRefused, SyncError
from sync.engine.keyring import Keyring, ServerFacts
from sync.engine.transport import Transport
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

log = logging.getLogger(__name__)

_OPD_KEY_PATH = "/v1/opd/key"
_WRAP_PATH = "/v1/opd/key/wrap"
_NEEDING_PATH = "/v1/opd/devices-needing-key"
_REQUEST_PATH = "/v1/opd/key/request"
_REQUESTS_PATH = "/v1/opd/key/requests"

_WAITING_MESSAGE = (
    "Kunci bersama OPD belum dibagikan untuk perangkat ini. Minta perangkat lain OPD ini "
    "menyinkronkan, atau minta verifikator BKD membagikan kunci untuk perangkat {device}."
)


def _update_facts(keyring: Keyring, facts: ServerFacts, public_b64: str) -> None:
    if facts.opd_encryption_key != public_b64:
        facts.opd_encryption_key = public_b64
        keyring.save_facts(facts)


def _adopt(keyring: Keyring, facts: ServerFacts, info: OpdKeyInfo) -> X25519PrivateKey:
    if info.wrapped is None:
        raise OpdKeyMissing(_WAITING_MESSAGE.format(device=facts.device_id), "no wrapped copy")
    device = keyring.device_keys().x25519("encryption")
    try:
        key = unwrap_opd_key(info.wrapped.envelope_b64, device, facts.opd_id)
    except CryptoError as exc:
        raise ServerRefused(
            "Salinan kunci OPD dari server tidak dapat dibuka dengan kunci perangkat ini.",
            exc.cause,
        ) from exc
    if public_key_b64(key) != info.public_key:
        raise ServerRefused(
            "Kunci OPD dari server tidak cocok dengan kunci publik OPD.", "public key mismatch"
        )
    keyring.save_opd_key(key)
    _update_facts(keyring, facts, info.public_key)
    return key


def adopt_enrolment_copy(keyring: Keyring, facts: ServerFacts, envelope_b64: str) -> None:
    """Open the OPD key copy that came with the enrolment answer and keep it."""
    _adopt(
        keyring,
        facts,
        OpdKeyInfo(
            opd_id=facts.opd_id,
            public_key=facts.opd_encryption_key,
            wrapped=WrappedKey(recipient_device_id=facts.device_id, envelope_b64=envelope_b64),
        ),
    )


def _register_new(keyring: Keyring, transport: Transport, facts: ServerFacts) -> None:
    """First device of the OPD: make the key pair (kept locally before the PUT, so a cut
    PUT is retried with the same key) and register it wrapped to us and the verifier."""
    key = keyring.opd_key() or keyring.create_opd_key()
    device_pub = keyring.device_keys().x25519("encryption").public_key()
    verifier_pub = x25519_public_from_b64(facts.verifier_encryption_key)
    body = OpdKeyUpload(
        public_key=public_key_b64(key),
        wrapped=[
            WrappedKey(
                recipient_device_id=facts.device_id,
                envelope_b64=wrap_opd_key(key, device_pub, facts.opd_id),
            ),
            WrappedKey(
                recipient_device_id=VERIFIER_RECIPIENT,
                envelope_b64=wrap_opd_key(key, verifier_pub, facts.opd_id),
            ),
        ],
    )
    try:
        info = transport.sealed("PUT", _OPD_KEY_PATH, body, OpdKeyInfo)
    except SyncError as exc:
        if exc.kode == "kunci_opd_sudah_ada":
            # Another device was first. Ours encrypted nothing yet (documents only name
            # the OPD key once the server confirmed it): drop it and fetch theirs.
            keyring.forget_opd_key()
            _fetch_opd_key(keyring, transport)
            return
        raise
    _update_facts(keyring, facts, info.public_key)
    log.info("kunci OPD %s dibuat dan didaftarkan", facts.opd_id)


def _fetch_opd_key(keyring: Keyring, transport: Transport) -> X25519PrivateKey:
    """GET our wrapped copy; OpdKeyMissing while nobody has wrapped it for us."""
    facts = keyring.require_facts()
    try:
        info = transport.sealed("GET", _OPD_KEY_PATH, None, OpdKeyInfo)
    except SyncError as exc:
        if exc.kode == "kunci_opd_belum_ada":
            _register_new(keyring, transport, facts)
            key = keyring.opd_key()
            if key is None:  # pragma: no cover - _register_new saved one
                raise LocalFailure("Kunci OPD tidak tersimpan.", "no key after register") from exc
            return key
        if exc.kode == "kunci_opd_menunggu":
            raise OpdKeyMissing(
                _WAITING_MESSAGE.format(device=facts.device_id), exc.cause, kode=exc.kode
            ) from exc
        raise
    return _adopt(keyring, facts, info)


def ensure_opd_key(keyring: Keyring, transport: Transport) -> bool:
    """An OPD device holds the OPD key and the server knows it; True when held.

    No request when all is in place. A device still waiting for its copy gets False (its
    records sync anyway; documents stay readable through the device's own stanza).
    """
    facts = keyring.require_facts()
    if facts.role != "opd":
        return False
    key = keyring.opd_key()
    if key is not None and facts.opd_encryption_key == public_key_b64(key):
        return True
    try:
        if key is not None and not facts.opd_encryption_key:
            _register_new(keyring, transport, facts)
        else:
            _fetch_opd_key(keyring, transport)
    except OpdKeyMissing as exc:
        log.info("kunci OPD belum tersedia: %s", exc.cause)
        return False
    return keyring.opd_key() is not None


def request_opd_key(transport: Transport) -> KeyRequestStatus:
    """File this device's request for its copy of the OPD key (idempotent): the
    verifikator's queue shows it as "permintaan kunci" until someone shares the key."""
    return transport.sealed("POST", _REQUEST_PATH, None, KeyRequestStatus)


def key_requests(transport: Transport) -> list[KeyRequest]:
    """Open key requests, oldest first (every OPD for a verifikator)."""
    return transport.sealed("GET", _REQUESTS_PATH, None, KeyRequests).requests


def _waiting_devices(transport: Transport) -> list[DeviceNeedingKey]:
    """Devices without a copy of their OPD key (every OPD for a verifikator)."""
    return transport.sealed("GET", _NEEDING_PATH, None, DevicesNeedingKey).devices


def wrap_for_waiting_devices(
    keyring: Keyring, transport: Transport, only: set[str] | None = None
) -> int:
    """Wrap the OPD key for devices that have none yet (only those in `only` when given):
    an OPD device for its own OPD, a verifikator holding the BKD verifier key for any OPD
    (the flood case)."""
    facts = keyring.require_facts()
    if facts.role == "opd":
        opd_key = keyring.opd_key()
        if opd_key is None or not facts.opd_encryption_key:
            return 0
        keys_by_opd: dict[str, X25519PrivateKey | None] = {facts.opd_id: opd_key}
    else:
        if keyring.verifier_key() is None:
            return 0
        keys_by_opd = {}
    by_opd = defaultdict(list)
    for device in _waiting_devices(transport):
        if device.device_id != facts.device_id and (only is None or device.device_id in only):
            by_opd[device.opd_id].append(device)
    wrapped = 0
    for opd_id, devices in by_opd.items():
        key = (
            keys_by_opd.get(opd_id)
            if facts.role == "opd"
            else _verifier_copy(keyring, transport, opd_id)
        )
        if key is None:
            continue
        for device in devices:
            envelope = wrap_opd_key(key, x25519_public_from_b64(device.encryption_key), opd_id)
            try:
                transport.sealed(
                    "POST",
                    _WRAP_PATH,
                    WrappedKey(recipient_device_id=device.device_id, envelope_b64=envelope),
                    OpdKeyInfo,
                )
            except SyncError as exc:
                if exc.kode == "kunci_sudah_dibagikan":
                    continue
                raise
            wrapped += 1
            log.info("kunci OPD %s dibagikan ke perangkat %s", opd_id, device.device_id)
    return wrapped


def _verifier_copy(keyring: Keyring, transport: Transport, opd_id: str) -> X25519PrivateKey | None:
    verifier = keyring.verifier_key()
    if verifier is None:
        return None
    info = transport.sealed("GET", _OPD_KEY_PATH, None, OpdKeyInfo, params={"opd": opd_id})
    if info.wrapped is None:
        return None
    try:
        return unwrap_opd_key(info.wrapped.envelope_b64, verifier, opd_id)
    except CryptoError as exc:
        log.error("salinan kunci OPD %s untuk verifikator tidak dapat dibuka: %s", opd_id, exc)
        return None

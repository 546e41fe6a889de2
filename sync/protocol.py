"""The /v1 wire format: every JSON body either side sends. Nothing else defines it.

Sync bodies travel sealed (sync.crypto.sealed_body); these models are the JSON inside.
Spec and rules: sync/PROTOCOL.md.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue, StringConstraints

from sync.crypto.signing import DEVICE_ID_PATTERN

API_PREFIX: Final = "/v1"
PROTOCOL_VERSION: Final = 1
MAX_PUSH_OPS: Final = 500
DEFAULT_PAGE_LIMIT: Final = 500
# A server that offers `page-bytes` (PROTOCOL.md §7.1) accepts limits up to MAX_PAGE_LIMIT
# and fills each page up to a byte budget; one without it refuses limits past
# LEGACY_PAGE_LIMIT, so a client asks for more only once the server named the feature.
MAX_PAGE_LIMIT: Final = 10_000
LEGACY_PAGE_LIMIT: Final = 1000
# Record fields added after protocol 1, by table, each with the feature token (PROTOCOL.md
# §7.1, `Berkas-Features`) of a server that knows it. A server without the token refuses an
# op naming an unknown field, so a client sends such a field only to a server whose sealed
# answer named its token; a record that lacks one (from an older peer) holds its default.
DOKUMEN_TERBACA: Final = "dokumen-terbaca"
USULAN_TIDAK_BERLAKU: Final = "usulan-tidak-berlaku"
ADDED_FIELDS: Final[dict[str, dict[str, str]]] = {
    "dokumen": {"nip_terbaca": DOKUMEN_TERBACA, "kode_terbaca": DOKUMEN_TERBACA},
    "usulan": {"tidak_berlaku": USULAN_TIDAK_BERLAKU},
}
# Every integer on the wire must fit the databases that hold it (SQLite INTEGER, PostgreSQL
# BIGINT): signed 64-bit. A larger one is refused as invalid input (422), not a 500.
DB_INT_MAX: Final = 2**63 - 1


def _canonical_uuid(value: str) -> str:
    return str(UUID(value))


UuidStr = Annotated[str, AfterValidator(_canonical_uuid)]
"""Any UUID spelling in, the canonical lower-case hyphenated form out."""
PublicKeyB64 = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{43}$")]
"""A raw 32-byte public key as unpadded base64url."""
EnvelopeB64 = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]+$", max_length=65536)]
"""A sealed envelope as unpadded base64url."""
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
FileIdHex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
DeviceId = Annotated[str, StringConstraints(pattern=f"^{DEVICE_ID_PATTERN}$")]
Ident = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Hlc = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Count = Annotated[int, Field(ge=0, le=DB_INT_MAX)]
"""A version, sequence number or size: 0 or more, and small enough for a database."""
Positive = Annotated[int, Field(ge=1, le=DB_INT_MAX)]
TableName = Literal["pegawai", "usulan", "dokumen", "usulan_history"]
Role = Literal["opd", "verifikator"]
Outcome = Literal["applied", "merged", "conflict", "refused", "duplicate"]


class WireModel(BaseModel):
    """Base of every wire model: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


# --- enrolment ----------------------------------------------------------------------------


class EnrolRequest(WireModel):
    """POST /v1/enrol, plain JSON: the one-time code and the new device's public keys."""

    code: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    device_name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    signing_key: PublicKeyB64
    encryption_key: PublicKeyB64


class EnrolResponse(WireModel):
    """The enrolled device's identity and the keys it needs to talk and to encrypt."""

    device_id: DeviceId
    opd_id: Ident | None
    opd_kode: str
    role: Role
    server_signing_key: PublicKeyB64
    server_encryption_key: PublicKeyB64
    verifier_encryption_key: PublicKeyB64
    opd_encryption_key: PublicKeyB64 | None = None
    wrapped_opd_key: EnvelopeB64 | None = None


class WrappedKey(WireModel):
    """The OPD private key sealed to one device (sync.crypto.opd_key)."""

    recipient_device_id: DeviceId
    envelope_b64: EnvelopeB64


# --- push ---------------------------------------------------------------------------------


class FieldChange(WireModel):
    """One changed field: the value the change was based on and the new value."""

    base: JsonValue
    new: JsonValue


class Op(WireModel):
    """One outbox entry: a create (base_version 0), update or tombstone of one record."""

    op_id: UuidStr
    table: TableName
    record_id: Ident
    opd_id: Ident
    base_version: Count
    changes: dict[str, FieldChange]
    deleted: bool | None = None
    resolves: list[Ident] = Field(default_factory=list)
    hlc: Hlc
    device_id: DeviceId


class PushRequest(WireModel):
    ops: Annotated[list[Op], Field(max_length=MAX_PUSH_OPS)]


class ConflictInfo(WireModel):
    """A field both sides changed to different values; waits for a person."""

    conflict_id: Ident
    table: TableName
    record_id: Ident
    field: str
    base: JsonValue
    mine: JsonValue
    theirs: JsonValue
    mine_by: Ident
    theirs_by: Ident
    mine_at: Hlc
    theirs_at: Hlc
    resolved: bool = False
    resolution: JsonValue = None
    # The names the two devices enrolled with (the server's register), so every device
    # can say who made each side; "" when the server no longer knows the device.
    mine_device: Annotated[str, StringConstraints(max_length=100)] = ""
    theirs_device: Annotated[str, StringConstraints(max_length=100)] = ""


class OpResult(WireModel):
    """What the server did with one op; a retried op_id gets the first result again."""

    op_id: UuidStr
    outcome: Outcome
    version: Count | None = None
    record: dict[str, JsonValue] | None = None
    conflicts: list[ConflictInfo] = Field(default_factory=list)
    reason: str | None = None


class PushResponse(WireModel):
    results: list[OpResult]
    server_seq: Count


# The header every answer of a server carries: its epoch id, replaced by every restore from
# a backup (PROTOCOL.md 9, "After a server restore"). Confirmed through GET /v1/sync/epoch.
EPOCH_HEADER = "Berkas-Epoch"


class ServerEpoch(WireModel):
    """GET /v1/sync/epoch: the server's epoch id (sealed, so a changed header is confirmed)."""

    epoch: Annotated[str, Field(min_length=1, max_length=64)]


# --- pull ---------------------------------------------------------------------------------


class ChangesQuery(WireModel):
    """Query of GET /v1/sync/changes."""

    since: Count = 0
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE_LIMIT)] = DEFAULT_PAGE_LIMIT


class Change(WireModel):
    """A record as it is now, at server sequence `seq`."""

    seq: Positive
    table: TableName
    record_id: Ident
    opd_id: Ident
    version: Positive
    deleted: bool
    record: dict[str, JsonValue]
    conflicts: list[ConflictInfo] = Field(default_factory=list)


class ChangesPage(WireModel):
    changes: list[Change]
    next_since: Count
    has_more: bool


# --- blobs and errors ---------------------------------------------------------------------


class BlobInfo(WireModel):
    """A stored document: plaintext address and size, ciphertext size, stream file id."""

    sha256: Sha256Hex
    size: Count
    cipher_size: Count
    file_id: FileIdHex


# --- OPD key exchange and file listing ------------------------------------------------------

# The recipient name of the OPD key copy sealed to the BKD verifier key.
VERIFIER_RECIPIENT: Final = "verifier"


class OpdKeyUpload(WireModel):
    """PUT /v1/opd/key: the first device of an OPD registers the OPD public key and the
    private key wrapped for itself and for the verifier key (recipient "verifier")."""

    public_key: PublicKeyB64
    wrapped: Annotated[list[WrappedKey], Field(min_length=2, max_length=64)]


class OpdKeyInfo(WireModel):
    """An OPD's public key and the caller's wrapped copy of its private key."""

    opd_id: Ident
    public_key: PublicKeyB64
    wrapped: WrappedKey | None = None


class DeviceNeedingKey(WireModel):
    device_id: DeviceId
    opd_id: Ident
    device_name: str
    encryption_key: PublicKeyB64


class DevicesNeedingKey(WireModel):
    """GET /v1/opd/devices-needing-key: devices with no wrapped copy of their OPD key."""

    devices: list[DeviceNeedingKey]


class KeyRequestStatus(WireModel):
    """POST /v1/opd/key/request: this device's standing request for a copy of its OPD key
    (kept until a device of the OPD or a verifikator wraps one for it)."""

    device_id: DeviceId
    opd_id: Ident
    requested_at: float
    shared: bool


class KeyRequest(WireModel):
    """An OPD device's open request for its copy of the OPD key (Unix seconds)."""

    device_id: DeviceId
    opd_id: Ident
    opd_name: str
    device_name: str
    requested_at: float


class KeyRequests(WireModel):
    """GET /v1/opd/key/requests: open key requests (the device is active and has no copy
    yet), oldest first; every OPD for a verifikator, the caller's OPD for an OPD device.
    The verifikator's "permintaan kunci"."""

    requests: list[KeyRequest]


class FileList(WireModel):
    """GET /v1/files: stored documents the caller may download, by file id order."""

    files: list[BlobInfo]
    has_more: bool


class ErrorBody(WireModel):
    """Every error answer: a stable code, a Bahasa Indonesia message, an optional detail."""

    kode: str
    pesan: str
    detail: str | None = None

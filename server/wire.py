"""Wire models of the server endpoints that sync/protocol.py does not define yet
(OPD key exchange, file listing). Same rules as there: unknown fields are refused.
They belong in sync/protocol.py; they are kept here until that module adopts them.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import Field

from sync.protocol import (
    BlobInfo,
    DeviceId,
    Ident,
    PublicKeyB64,
    WireModel,
    WrappedKey,
)

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


class FileList(WireModel):
    """GET /v1/files: stored documents the caller may download, by file id order."""

    files: list[BlobInfo]
    has_more: bool

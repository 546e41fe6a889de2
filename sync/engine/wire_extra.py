"""Wire models of endpoints sync/protocol.py does not define yet (OPD key exchange, file
listing), mirrored field for field from the server's `server/wire.py`.

They belong in sync/protocol.py (asked of the protocol's owner); until then the client keeps
this copy because `sync` may not import `server`. Same rules: unknown fields are refused.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import Field

from sync.protocol import BlobInfo, DeviceId, Ident, PublicKeyB64, WireModel, WrappedKey

VERIFIER_RECIPIENT: Final = "verifier"


class OpdKeyUpload(WireModel):
    public_key: PublicKeyB64
    wrapped: Annotated[list[WrappedKey], Field(min_length=2, max_length=64)]


class OpdKeyInfo(WireModel):
    opd_id: Ident
    public_key: PublicKeyB64
    wrapped: WrappedKey | None = None


class DeviceNeedingKey(WireModel):
    device_id: DeviceId
    opd_id: Ident
    device_name: str
    encryption_key: PublicKeyB64


class DevicesNeedingKey(WireModel):
    devices: list[DeviceNeedingKey]


class FileList(WireModel):
    files: list[BlobInfo]
    has_more: bool

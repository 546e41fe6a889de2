"""What can go wrong while syncing, as values a person can act on.

Every error carries the link state it leaves the engine in (shown by `berkas status` and
the TUI), a Bahasa Indonesia message for the person and a technical cause for the log.
"""

from __future__ import annotations

from enum import StrEnum

from store.errors import BerkasError, disk_full_message, is_disk_full
from sync.redact import redact


class LinkState(StrEnum):
    """The engine's view of the server, stored in meta "state"."""

    ONLINE = "online"
    OFFLINE = "offline"
    SERVER_MENOLAK = "server_menolak"
    KUNCI_DICABUT = "kunci_dicabut"
    BELUM_TERDAFTAR = "belum_terdaftar"


STATE_LABELS: dict[LinkState, str] = {
    LinkState.ONLINE: "terhubung",
    LinkState.OFFLINE: "luring (server tidak terjangkau)",
    LinkState.SERVER_MENOLAK: "server menolak",
    LinkState.KUNCI_DICABUT: "kunci perangkat dicabut",
    LinkState.BELUM_TERDAFTAR: "belum terdaftar",
}


class SyncError(BerkasError):
    """A sync step failed; nothing local was lost. `retry` says whether trying later helps."""

    state: LinkState = LinkState.SERVER_MENOLAK
    retry: bool = True
    # Seconds the server asked us to wait (Retry-After of a 429 or 507); 0 when it did not.
    retry_after: float = 0.0

    def __init__(self, message: str, cause: str = "", *, status: int = 0, kode: str = "") -> None:
        # Causes quote URLs and library errors: an upload's capability never shows.
        super().__init__(redact(message), redact(cause))
        self.status = status  # HTTP status of a refusal (0 when none)
        self.kode = kode  # the server's ErrorBody.kode, if any


class Offline(SyncError):
    """The server could not be reached (no network, DNS, timeout, connection cut)."""

    state = LinkState.OFFLINE


class ServerRefused(SyncError):
    """The server answered but refused, failed (5xx) or sent something we cannot read."""

    state = LinkState.SERVER_MENOLAK


class ServerDiskFull(ServerRefused):
    """The BKD server's disk is full (507): nothing was lost here, sync retries later."""


class DeviceRevoked(SyncError):
    """The server no longer knows this device's key: a BKD admin revoked it."""

    state = LinkState.KUNCI_DICABUT
    retry = False


class NotEnrolled(SyncError):
    """This installation has no device keys yet: `berkas enrol` first."""

    state = LinkState.BELUM_TERDAFTAR
    retry = False


class LocalFailure(SyncError):
    """Something on this machine failed (disk full, unreadable file); the server is fine."""

    state = LinkState.ONLINE


class DiskFullLocal(LocalFailure):
    """This machine's disk is full: not the network, not the server, not a file. Nothing
    is lost; the same sync succeeds once there is room."""


def local_failure(exc: BaseException, message: str) -> LocalFailure:
    """A failure of this machine as a LocalFailure: the disk-full sentence when the disk
    (or quota) is full, wherever in the chain it shows, else `message`."""
    if is_disk_full(exc):
        return DiskFullLocal(disk_full_message(), repr(exc)[:300])
    return LocalFailure(message, repr(exc)[:300])


class BlobCorrupt(LocalFailure):
    """A local or downloaded document does not match its content hash."""


class OpdKeyMissing(SyncError):
    """The shared OPD key has not been wrapped for this device yet."""

    state = LinkState.ONLINE


class SyncBusy(SyncError):
    """Another process holds the sync lock of this store."""

    state = LinkState.ONLINE

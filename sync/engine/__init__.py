"""The client sync engine: outbox push, paged pull with a local three-way merge, conflicts,
tus uploads and Range downloads of encrypted documents, the shared backoff and link states,
background scheduling, the sync lock, enrolment and restore.

Entry points: `SyncEngine` (one store's engine), `SyncScheduler` (background runs),
`enrol_device`, `restore_home`; client.sync_service wires them to a Berkas home.
"""

from __future__ import annotations

from sync.engine.backoff import Backoff
from sync.engine.cipher import StreamBlobCipher
from sync.engine.conflicts import ConflictView, ResolutionRefused, list_conflicts, resolve_conflicts
from sync.engine.engine import EngineSettings, SyncEngine, SyncReport
from sync.engine.enrol import EnrolResult, enrol_device
from sync.engine.errors import (
    STATE_LABELS,
    BlobCorrupt,
    DeviceRevoked,
    LinkState,
    LocalFailure,
    NotEnrolled,
    Offline,
    OpdKeyMissing,
    ServerDiskFull,
    ServerRefused,
    SyncBusy,
    SyncError,
)
from sync.engine.keyring import VERIFIER_PASSPHRASE_ENV, Keyring, ServerFacts
from sync.engine.lock import SyncLock, current_holder, describe_holder, read_holder
from sync.engine.opd_key import key_requests, wrap_for_waiting_devices
from sync.engine.outbox import pending_count
from sync.engine.restore import KeyWait, RestoreReport, restore_home
from sync.engine.scheduler import SyncScheduler
from sync.engine.timetable import Timetable
from sync.engine.tus_client import ChunkSizer
from sync.engine.uploads import pending_upload_count
from sync.engine.verifier_key import create_verifier_key, install_verifier_key

__all__ = [
    "STATE_LABELS",
    "VERIFIER_PASSPHRASE_ENV",
    "Backoff",
    "BlobCorrupt",
    "ChunkSizer",
    "ConflictView",
    "DeviceRevoked",
    "EngineSettings",
    "EnrolResult",
    "KeyWait",
    "Keyring",
    "LinkState",
    "LocalFailure",
    "NotEnrolled",
    "Offline",
    "OpdKeyMissing",
    "ResolutionRefused",
    "RestoreReport",
    "ServerDiskFull",
    "ServerFacts",
    "ServerRefused",
    "StreamBlobCipher",
    "SyncBusy",
    "SyncEngine",
    "SyncError",
    "SyncLock",
    "SyncReport",
    "SyncScheduler",
    "Timetable",
    "create_verifier_key",
    "current_holder",
    "describe_holder",
    "enrol_device",
    "install_verifier_key",
    "key_requests",
    "list_conflicts",
    "pending_count",
    "pending_upload_count",
    "read_holder",
    "resolve_conflicts",
    "restore_home",
    "wrap_for_waiting_devices",
]

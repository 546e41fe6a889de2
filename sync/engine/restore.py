"""Restore after losing a machine (or all of them): enrol, pull every record of the OPD and
download every document, each one verified against its content hash after decryption.

Restore can be run again: an enrolled home skips the code, pulls what is new and downloads
what is still missing. The documents need the OPD key; after a total loss a verifikator
wraps it for the new device, and until then restore says so and stops after the records.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlmodel import col, select

from store.blobs import BlobStore
from store.database import Store
from store.models import Dokumen
from sync.engine.download import download_blob, list_files
from sync.engine.enrol import enrol_device
from sync.engine.errors import NotEnrolled, OpdKeyMissing, SyncError
from sync.engine.keyring import Keyring
from sync.engine.opd_key import ensure_opd_key
from sync.engine.pull import pull_changes
from sync.engine.transport import Transport

log = logging.getLogger(__name__)


@dataclass
class RestoreReport:
    enrolled: bool = False
    records: int = 0
    blobs_downloaded: int = 0
    blobs_present: int = 0
    verified: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    never_uploaded: list[str] = field(default_factory=list)
    opd_key_held: bool = False


def restore_home(
    store: Store,
    blobs: BlobStore,
    keyring: Keyring,
    transport_factory: Callable[[], Transport],
    *,
    server_url: str = "",
    code: str = "",
) -> RestoreReport:
    """Enrol (if needed), pull all records and download all documents of the OPD."""
    report = RestoreReport()
    if keyring.facts() is None:
        if not server_url or not code:
            raise NotEnrolled(
                "Untuk memulihkan, berikan alamat server dan kode pendaftaran.",
                "restore without enrolment",
            )
        enrol_device(store, keyring, server_url, code)
        report.enrolled = True
    transport = transport_factory()
    pulled = pull_changes(store, transport)
    report.records = pulled.changes
    try:
        report.opd_key_held = ensure_opd_key(keyring, transport)
    except OpdKeyMissing:
        report.opd_key_held = False
    facts = keyring.require_facts()
    if facts.role == "opd" and not report.opd_key_held:
        raise OpdKeyMissing(
            f"Data tercatat dipulihkan ({report.records} perubahan). Dokumen belum dapat "
            "dibuka: minta verifikator BKD membagikan kunci OPD untuk perangkat "
            f"{facts.device_id}, lalu jalankan 'berkas restore' lagi.",
            "opd key not wrapped for this device yet",
        )
    stored: set[str] = set()
    for info in list_files(transport):
        stored.add(info.sha256)
        try:
            if download_blob(store, blobs, transport, info):
                report.blobs_downloaded += 1
            else:
                report.blobs_present += 1
            report.verified.append(info.sha256)
        except SyncError as exc:
            if exc.state.value == "offline":
                raise
            report.failed.append((info.sha256, exc.message))
            log.error("dokumen %s gagal dipulihkan: %s", info.sha256[:12], exc.cause)
    with store.read() as session:
        wanted = set(
            session.exec(
                select(Dokumen.sha256)
                .where(col(Dokumen.deleted).is_(False))
                .where(Dokumen.sha256 != "")
            )
        )
    report.never_uploaded = sorted(wanted - stored - set(blobs.stored()))
    return report

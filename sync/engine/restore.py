"""Restore after losing a machine (or all of them): enrol, pull every record of the OPD and
download every document, each one verified against its content hash after decryption.

Restore can be run again: an enrolled home skips the code, pulls what is new and downloads
what is still missing. The documents need the OPD key. After a total loss nobody of the OPD
is left to share it: restore files a key request on the server (the verifikator's queue
shows it as "permintaan kunci"), waits up to `wait_s` for the verifikator to share it and
then finishes by itself. If the wait ends first, a later `berkas restore` or `berkas sync`
finishes the job once the key is shared.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlmodel import col, select

from store.blobs import BlobStore
from store.database import Store
from store.models import Dokumen
from sync.engine.download import download_blob, list_files
from sync.engine.enrol import enrol_device
from sync.engine.errors import LinkState, NotEnrolled, OpdKeyMissing, SyncError
from sync.engine.keyring import Keyring
from sync.engine.opd_key import ensure_opd_key, request_opd_key
from sync.engine.pull import pull_changes
from sync.engine.transport import Transport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeyWait:
    """What a restore waiting for its OPD key tells the person (on_wait callback)."""

    device_id: str
    opd_kode: str
    waited_s: float
    wait_s: float


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
    key_requested: bool = False
    key_waited_s: float = 0.0


def restore_home(
    store: Store,
    blobs: BlobStore,
    keyring: Keyring,
    transport_factory: Callable[[], Transport],
    *,
    server_url: str = "",
    code: str = "",
    wait_s: float = 0.0,
    poll_s: float = 10.0,
    on_wait: Callable[[KeyWait], None] | None = None,
    stop: threading.Event | None = None,
) -> RestoreReport:
    """Enrol (if needed), pull all records and download all documents of the OPD; without
    the OPD key, request it and wait up to `wait_s` seconds for a verifikator to share it."""
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
    report.opd_key_held = _holds_opd_key(keyring, transport)
    facts = keyring.require_facts()
    if facts.role == "opd" and not report.opd_key_held:
        request_opd_key(transport)
        report.key_requested = True
        log.info(
            "permintaan kunci OPD %s untuk perangkat %s dikirim", facts.opd_id, facts.device_id
        )
        report.opd_key_held = _wait_for_opd_key(
            keyring, transport, report, wait_s, poll_s, on_wait, stop or threading.Event()
        )
    if facts.role == "opd" and not report.opd_key_held:
        raise OpdKeyMissing(
            f"Data tercatat dipulihkan ({report.records} perubahan). Dokumen belum dapat "
            f"dibuka: permintaan kunci OPD untuk perangkat {facts.device_id} "
            f"(OPD {facts.opd_kode}) sudah ada di antrean verifikator BKD. Setelah "
            "verifikator membagikannya (berkas verifikasi bagikan-kunci), jalankan "
            "'berkas restore' atau 'berkas sync' untuk menyelesaikan pemulihan dokumen.",
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


def _holds_opd_key(keyring: Keyring, transport: Transport) -> bool:
    try:
        return ensure_opd_key(keyring, transport)
    except OpdKeyMissing:
        return False


def _wait_for_opd_key(
    keyring: Keyring,
    transport: Transport,
    report: RestoreReport,
    wait_s: float,
    poll_s: float,
    on_wait: Callable[[KeyWait], None] | None,
    stop: threading.Event,
) -> bool:
    """Ask the server every `poll_s` until the key is shared, `wait_s` passes or `stop` is
    set; a dropped link while waiting is waited out like the verifikator."""
    facts = keyring.require_facts()
    started = time.monotonic()
    while True:
        waited = time.monotonic() - started
        report.key_waited_s = waited
        if waited >= wait_s or stop.is_set():
            return False
        if on_wait is not None:
            on_wait(KeyWait(facts.device_id, facts.opd_kode, waited, wait_s))
        if stop.wait(min(poll_s, max(wait_s - waited, 0.0))):
            return False
        try:
            if _holds_opd_key(keyring, transport):
                report.key_waited_s = time.monotonic() - started
                return True
        except SyncError as exc:
            if exc.state is not LinkState.OFFLINE:
                raise
            log.info("menunggu kunci OPD, sambungan terputus: %s", exc.cause)

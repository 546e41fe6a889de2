"""A small real world for the verifikator's tests: the BKD server, two OPD devices
(DISDIK, DINKES) that each submitted a KP usulan with real PDF dokumen, a draft left on
DISDIK, and a verifikator home holding the verifier key but not its passphrase."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from client import sync_service
from client.cli_support import save_default_config
from client.config import load_config, save_config
from client.paths import Paths, resolve_paths
from client.sample_data import generate_pegawai, pegawai_csv
from client.services import BerkasClient
from server import admin
from store.rules import Layanan, checklist
from tests.support.server import RunningServer, start_server
from tests.tui.support import make_pdf

TODAY = date(2026, 11, 23)
REQUIRED = [i.kode for i in checklist(Layanan.KP, "reguler") if not i.optional]
OPDS = ("DISDIK", "DINKES")


@dataclass
class World:
    bkd: RunningServer
    opd: dict[str, Paths]
    submitted: dict[str, str]  # usulan id -> OPD
    nip: dict[str, str]  # usulan id -> NIP
    shas: dict[str, dict[str, str]]  # usulan id -> kode -> sha256
    draft_id: str
    verifier: Paths
    shared_file_usulan: str = ""  # its SKP and another line carry the same file
    extra: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        self.bkd.stop()


def sync_until_ok(paths: Paths, attempts: int = 10) -> None:
    for _ in range(attempts):
        report = sync_service.sync_once(paths, program="uji verifikasi")
        if report.ok and not report.uploads.errors:
            return
        time.sleep(0.2)
    raise AssertionError(f"sync did not finish: {report.error!r}")


def verifier_home(root: Path, bkd: RunningServer) -> Paths:
    """A verifikator home with the verifier key file, the passphrase nowhere on disk or env."""
    paths = resolve_paths(root)
    config = load_config(paths.config)
    config.operator = "Rudi"
    save_config(paths.config, config)
    paths.keys.mkdir(parents=True, exist_ok=True)
    shutil.copy(bkd.verifier_key_path, paths.keys / "verifier.key")
    os.chmod(paths.keys / "verifier.key", 0o600)
    sync_service.enrol(paths, bkd.url, bkd.enrol_code("BKD", "verifikator"))
    return paths


def build_world(root: Path) -> World:
    os.environ.pop("BERKAS_VERIFIER_PASSPHRASE", None)
    bkd = start_server(root / "bkd")
    admin.add_opd(bkd.db, "BKD", "Badan Kepegawaian Daerah")
    people = generate_pegawai(300, today=TODAY, opds=OPDS)
    submitted: dict[str, str] = {}
    nips: dict[str, str] = {}
    shas: dict[str, dict[str, str]] = {}
    opd_homes: dict[str, Paths] = {}
    draft_id = ""
    shared = ""
    for n, kode in enumerate(OPDS):
        admin.add_opd(bkd.db, kode, f"Dinas {kode.title()}")
        mine = [p for p in people if p.opd_kode == kode]
        report = admin.import_pegawai(bkd.db, kode, pegawai_csv(mine).encode())
        assert not report.errors
        paths = resolve_paths(root / kode.lower())
        save_default_config(paths, kode, f"Operator {kode.title()}")
        sync_service.enrol(paths, bkd.url, bkd.enrol_code(kode))
        sync_until_ok(paths)
        opd_homes[kode] = paths
        client = BerkasClient.open(paths)
        try:
            due = client.dashboard(TODAY).kp_due_without_usulan
            assert len(due) >= 2, "the sample data has pegawai due for KP"
            usulan = client.create_usulan(due[0].id, "kp", "reguler", today=TODAY)
            files = root / f"pdf-{kode}"
            files.mkdir()
            for i, dok in enumerate(REQUIRED):
                pdf = make_pdf(files / f"{dok}.pdf", (f"{dok} {usulan.nip}", kode), pages=1 + i % 2)
                client.attach_file(usulan.id, dok, pdf)
            if n == 0:  # DISDIK filed, with confirmation, a scan bearing another's NIP
                attach_other_nip_scan(client, usulan.id, usulan.nip, [d.id for d in due[:2]])
            if n == 1:  # DINKES filed the same scan on two lines
                client.attach_file(usulan.id, REQUIRED[1], files / f"{REQUIRED[0]}.pdf")
                shared = usulan.id
            client.ajukan(usulan.id)
            detail = client.usulan_detail(usulan.id)
            shas[usulan.id] = {
                line.kode: _sha(client, line.dokumen_id)
                for line in detail.checklist
                if line.dokumen_id
            }
            submitted[usulan.id] = kode
            nips[usulan.id] = usulan.nip
            if n == 0:
                draft = client.create_usulan(due[1].id, "kp", "reguler", today=TODAY)
                draft_id = draft.id
        finally:
            client.close()
        sync_until_ok(paths)
    verifier = verifier_home(root / "verifikator", bkd)
    return World(
        bkd=bkd,
        opd=opd_homes,
        submitted=submitted,
        nip=nips,
        shas=shas,
        draft_id=draft_id,
        verifier=verifier,
        shared_file_usulan=shared,
    )


def attach_other_nip_scan(client: BerkasClient, usulan_id: str, nip: str, busy: list[str]) -> str:
    """Intake reads another pegawai's NIP and SK_PANGKAT on a scan (named
    <NIP>_SK_PANGKAT.pdf, that NIP on its page); it waits in the Kotak masuk, and the OPD
    files it on this usulan's SK_JABATAN line, confirming the doubt. Returns the NIP read."""
    from sqlmodel import col, select

    from client.kotak_masuk import NeedsConfirmation
    from store.models import Pegawai

    with client.store.read() as session:
        other = session.exec(
            select(Pegawai).where(Pegawai.nip != nip).where(col(Pegawai.id).not_in(busy))
        ).first()
    assert other is not None
    scan = client.paths.scans / f"{other.nip}_SK_PANGKAT.pdf"
    scan.parent.mkdir(parents=True, exist_ok=True)
    make_pdf(scan, ("KENAIKAN PANGKAT", f"NIP {other.nip}"), pages=1)
    client._intake().process_file(scan)
    item = next(i for i in client.list_inbox() if i.nip == other.nip)
    try:
        client.attach_inbox_item(item.id, usulan_id, "SK_JABATAN")
    except NeedsConfirmation:
        client.attach_inbox_item(item.id, usulan_id, "SK_JABATAN", confirmed=True)
    else:
        raise AssertionError("another pegawai's NIP was filed without a confirmation")
    return other.nip


def _sha(client: BerkasClient, dokumen_id: str | None) -> str:
    from store.models import Dokumen

    with client.store.read() as session:
        d = session.get(Dokumen, dokumen_id)
        return d.sha256 if d else ""

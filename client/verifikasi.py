"""The verifikator's side, from the command line: the queue of submitted usulan,
opening their dokumen with the BKD verifier key, and the decisions (MS, BTS
with notes per dokumen, TMS, forwarding to BKN, selesai).

A verifikator device is an ordinary enrolled device with the role
"verifikator": every decision is a local write (so it is in the outbox), then a
sync through the same protocol an OPD device uses.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

from sqlmodel import Session

from client import sync_service
from client.errors import ClientError
from client.paths import Paths
from client.services import BerkasClient, UsulanView
from store import usulan as wf
from store.errors import StoreError
from store.models import Usulan
from store.rules import Role, UsulanStatus
from sync.engine.engine import SyncReport
from sync.engine.errors import SyncError
from sync.engine.opd_key import wrap_for_waiting_devices
from sync.engine.verifier_key import create_verifier_key, install_verifier_key


class Keputusan(StrEnum):
    MS = "ms"  # Memenuhi Syarat -> diverifikasi
    BTS = "bts"  # Berkas Tidak Sesuai -> dikembalikan with notes
    TMS = "tms"  # Tidak Memenuhi Syarat -> ditolak


@dataclass(frozen=True)
class OpenedDokumen:
    kode: str
    path: Path
    sha256: str
    size: int


def _require_verifikator(paths: Paths) -> None:
    status = sync_service.status(paths)
    if not status.enrolled:
        raise ClientError(
            "Perangkat ini belum terdaftar. Daftarkan dulu: berkas enrol --server URL --code KODE."
        )
    if status.role != Role.VERIFIKATOR.value:
        raise ClientError(
            "Perintah verifikasi hanya untuk perangkat verifikator BKD.", f"role {status.role}"
        )


def sync_now(paths: Paths) -> SyncReport:
    report = sync_service.sync_once(paths, program="berkas verifikasi")
    if report.error is not None:
        raise ClientError(report.error.message, report.error.cause)
    return report


def antrian(paths: Paths, *, sync: bool = True) -> list[UsulanView]:
    """Usulan waiting for verification (diajukan), across every OPD."""
    _require_verifikator(paths)
    if sync:
        sync_now(paths)
    client = BerkasClient.open(paths)
    try:
        return client.list_usulan(status=UsulanStatus.DIAJUKAN.value)
    finally:
        client.close()


def buka(paths: Paths, usulan_id: str, target: Path | None = None) -> list[OpenedDokumen]:
    """Decrypt every dokumen of an usulan into a private folder, checking each hash."""
    _require_verifikator(paths)
    sync_now(paths)  # brings the records and any dokumen not downloaded yet
    folder = target or Path(tempfile.mkdtemp(prefix=f"berkas-{usulan_id[:8]}-"))
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)  # personnel data: only this user
    blobs = sync_service.open_blob_store(paths)
    client = BerkasClient.open(paths)
    opened = []
    try:
        with client.store.read() as session:
            usulan = session.get(Usulan, usulan_id)
            if usulan is None or usulan.deleted:
                raise ClientError("Usulan tidak ditemukan.", usulan_id)
            dokumen = wf.live_dokumen(session, usulan_id)
        for dok in dokumen:
            if not dok.sha256:
                continue
            out = folder / (dok.nama_file or f"{usulan.nip}_{dok.kode}.pdf")
            try:
                blobs.decrypt_to(dok.sha256, out)
            except StoreError as exc:
                raise ClientError(f"Dokumen {dok.kode}: {exc.message}", exc.cause) from exc
            opened.append(OpenedDokumen(dok.kode, out, dok.sha256, out.stat().st_size))
    finally:
        client.close()
    return opened


def bagikan_kunci(paths: Paths) -> int:
    """Wrap each OPD's key for its devices still waiting for it (a replacement
    machine after a flood), now rather than at the next periodic check."""
    _require_verifikator(paths)
    client = BerkasClient.open(paths)
    engine = sync_service.build_engine(paths, client.store)
    try:
        return wrap_for_waiting_devices(engine.keyring, engine.transport)
    except SyncError as exc:
        raise ClientError(exc.message, exc.cause) from exc
    finally:
        engine.close()
        client.close()


def buat_kunci(paths: Paths, passphrase: str) -> str:
    """Make the BKD verifier key pair on this verifikator machine (the private half stays
    here, under `passphrase`); returns the public half, also written to kunci/verifier.pub,
    for the admin to register on the server."""
    try:
        public = create_verifier_key(sync_service.keyring_for(paths), passphrase)
    except SyncError as exc:
        raise ClientError(exc.message, exc.cause) from exc
    (paths.keys / "verifier.pub").write_text(public + "\n", encoding="ascii")
    return public


def pasang_kunci(paths: Paths, source: Path, passphrase: str) -> str:
    """Install a verifier key file carried from another verifikator machine (or moved off
    an old server); returns its public half."""
    try:
        return install_verifier_key(sync_service.keyring_for(paths), source, passphrase)
    except SyncError as exc:
        raise ClientError(exc.message, exc.cause) from exc


def _decide(paths: Paths, usulan_id: str, apply: Callable[[Session, Usulan], None]) -> SyncReport:
    _require_verifikator(paths)
    sync_now(paths)  # decide on the newest state
    client = BerkasClient.open(paths)
    try:
        with client.store.write() as session:
            usulan = session.get(Usulan, usulan_id)
            if usulan is None or usulan.deleted:
                raise ClientError("Usulan tidak ditemukan.", usulan_id)
            try:
                apply(session, usulan)
            except StoreError as exc:
                raise ClientError(exc.message, exc.cause) from exc
    finally:
        client.close()
    report = sync_now(paths)
    if report.push.refused:
        reasons = "; ".join(report.push.refusals) or "tanpa alasan"
        raise ClientError(f"Server menolak keputusan ini: {reasons}", "push refused")
    return report


def putuskan(
    paths: Paths,
    usulan_id: str,
    keputusan: Keputusan,
    catatan: str,
    catatan_dokumen: dict[str, str] | None = None,
) -> SyncReport:
    """MS, BTS (with notes, per dokumen where given) or TMS, then sync."""
    if keputusan is not Keputusan.MS and not catatan.strip():
        raise ClientError("BTS dan TMS wajib disertai catatan untuk OPD.")
    if catatan_dokumen and keputusan is not Keputusan.BTS:
        raise ClientError("Catatan per dokumen hanya untuk BTS.")

    def apply(session: Session, usulan: Usulan) -> None:
        if keputusan is Keputusan.BTS:
            wf.kembalikan(session, usulan, catatan, catatan_dokumen)
            return
        target = UsulanStatus.DIVERIFIKASI if keputusan is Keputusan.MS else UsulanStatus.DITOLAK
        wf.move_status(session, usulan, target, Role.VERIFIKATOR, alasan=catatan)
        if keputusan is Keputusan.TMS:
            usulan.catatan_verifikator = catatan

    return _decide(paths, usulan_id, apply)


def teruskan(paths: Paths, usulan_id: str, catatan: str = "Diteruskan ke BKN") -> SyncReport:
    def apply(session: Session, usulan: Usulan) -> None:
        wf.move_status(session, usulan, UsulanStatus.DITERUSKAN, Role.VERIFIKATOR, alasan=catatan)

    return _decide(paths, usulan_id, apply)


def selesai(paths: Paths, usulan_id: str, pertek: str, tanggal: date) -> SyncReport:
    if not pertek.strip():
        raise ClientError("Nomor pertek/SK wajib diisi.")

    def apply(session: Session, usulan: Usulan) -> None:
        wf.move_status(
            session,
            usulan,
            UsulanStatus.SELESAI,
            Role.VERIFIKATOR,
            alasan=f"Pertek/SK {pertek} tanggal {tanggal:%d-%m-%Y}",
        )
        usulan.nomor_pertek = pertek
        usulan.tanggal_pertek = tanggal

    return _decide(paths, usulan_id, apply)

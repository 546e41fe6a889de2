"""The verifikator's side, from the command line: the queue of submitted usulan and of
key requests (permintaan kunci) from OPD devices restoring after a total loss, opening
dokumen with the BKD verifier key, sharing OPD keys, and the decisions (MS, BTS with notes
per dokumen, TMS, forwarding to BKN, selesai).

A verifikator device is an ordinary enrolled device with the role
"verifikator": every decision is a local write (so it is in the outbox), then a
sync through the same protocol an OPD device uses.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

from sqlmodel import Session

from client import sync_service
from client.errors import ClientError
from client.paths import Paths
from client.services import BerkasClient
from client.verifikasi_service import (
    VerifikasiService,
    check_sync,
    require_verifikator,
    reviewable_usulan,
)
from client.verifikasi_views import PermintaanKunciView
from client.views import UsulanView
from store import usulan as wf
from store.errors import StoreError
from store.models import Usulan
from store.rules import Role, UsulanStatus
from sync.engine import (
    SyncReport,
    create_verifier_key,
    install_verifier_key,
)


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


def sync_now(paths: Paths) -> SyncReport:
    return check_sync(sync_service.sync_once(paths, program="berkas verifikasi"))


@contextlib.contextmanager
def _service(paths: Paths) -> Iterator[VerifikasiService]:
    """The verifikator's service, its key opened as the command line always has: with the
    passphrase in BERKAS_VERIFIER_PASSPHRASE."""
    service = VerifikasiService.open(paths)
    try:
        service.use_environment_passphrase()
        yield service
    finally:
        service.close()


def antrian(paths: Paths, *, sync: bool = True) -> list[UsulanView]:
    """Usulan waiting for verification (diajukan), across every OPD."""
    require_verifikator(paths)
    if sync:
        sync_now(paths)
    client = BerkasClient.open(paths)
    try:
        return client.list_usulan(status=UsulanStatus.DIAJUKAN.value)
    finally:
        client.close()


def buka(paths: Paths, usulan_id: str, target: Path | None = None) -> list[OpenedDokumen]:
    """Decrypt every dokumen of an usulan into a private folder, checking each hash."""
    require_verifikator(paths)
    sync_now(paths)  # brings the records and any dokumen not downloaded yet
    folder = target or Path(tempfile.mkdtemp(prefix=f"berkas-{usulan_id[:8]}-"))
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)  # personnel data: only this user
    blobs = sync_service.open_blob_store(paths)
    client = BerkasClient.open(paths)
    opened = []
    try:
        with client.store.read() as session:
            usulan = reviewable_usulan(session, usulan_id)
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


def permintaan_kunci(paths: Paths) -> list[PermintaanKunciView]:
    """Key requests waiting for a verifikator, oldest first (one request to the server)."""
    with _service(paths) as service:
        return service.permintaan_kunci()


def bagikan_kunci(paths: Paths, device_id: str | None = None) -> int:
    """Wrap each OPD's key for its devices still waiting for it (a replacement machine
    after a flood), or only for `device_id`; returns how many copies were shared."""
    with _service(paths) as service:
        if not service.has_verifier_key:
            raise ClientError(
                "Komputer ini belum memiliki kunci verifikator BKD: pasang dulu dengan "
                "'berkas verifikasi kunci pasang FILE'.",
                "no verifier key",
            )
        count = service.bagikan_kunci(device_id)
    if device_id and count == 0:
        raise ClientError(
            f"Perangkat {device_id} tidak sedang menunggu kunci OPD (sudah dibagikan, "
            "dicabut, atau ID salah). Lihat: berkas verifikasi permintaan-kunci.",
            "device not waiting",
        )
    return count


def buat_kunci(paths: Paths, passphrase: str) -> str:
    """Make the BKD verifier key pair on this verifikator machine (the private half stays
    here, under `passphrase`); returns the public half, also written to kunci/verifier.pub,
    for the admin to register on the server."""
    public = create_verifier_key(sync_service.keyring_for(paths), passphrase)
    (paths.keys / "verifier.pub").write_text(public + "\n", encoding="ascii")
    return public


def pasang_kunci(paths: Paths, source: Path, passphrase: str) -> str:
    """Install a verifier key file carried from another verifikator machine (or moved off
    an old server); returns its public half."""
    return install_verifier_key(sync_service.keyring_for(paths), source, passphrase)


def _decide(paths: Paths, usulan_id: str, apply: Callable[[Session, Usulan], None]) -> SyncReport:
    require_verifikator(paths)
    sync_now(paths)  # decide on the newest state
    client = BerkasClient.open(paths)
    try:
        with client.store.write() as session:
            usulan = session.get(Usulan, usulan_id)
            if usulan is None or usulan.deleted:
                raise ClientError("Usulan tidak ditemukan.", usulan_id)
            apply(session, usulan)
    finally:
        client.close()
    return check_sync(sync_now(paths), decision=True)


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

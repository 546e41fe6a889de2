"""What every part of the client shares: the open installation (paths, store,
config, rules, blob store) and the views of pegawai and usulan."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, date, datetime
from typing import Protocol

from sqlmodel import Session, col, func, select

from client.config import ClientConfig
from client.errors import BerkasError, ClientError
from client.paths import Paths
from client.views import PegawaiView, UsulanView
from store import usulan as wf
from store.blobs import BlobStore
from store.database import Store
from store.models import OutboxEntry, Pegawai, Usulan
from store.rules import (
    OPEN_STATUSES,
    STATUS_LABELS,
    JabatanKind,
    KpJenis,
    Layanan,
    PensiunJenis,
    RulesConfig,
    UsulanStatus,
    bup_age,
    dokumen_kinds,
    format_tanggal,
    jenis_options,
    parse_golongan,
    tmt_pensiun,
)

# What a PegawaiView is made of: the dashboard reads these columns, not whole records.
VIEW_COLUMNS = (
    col(Pegawai.id),
    col(Pegawai.nip),
    col(Pegawai.nama),
    col(Pegawai.golongan),
    col(Pegawai.jabatan),
    col(Pegawai.jabatan_kind),
    col(Pegawai.unit_kerja),
    col(Pegawai.pendidikan),
    col(Pegawai.tanggal_lahir),
    col(Pegawai.tmt_pangkat),
)


class _PegawaiFields(Protocol):
    """What a PegawaiView is made from: a Pegawai record or a row of VIEW_COLUMNS."""

    @property
    def id(self) -> str: ...
    @property
    def nip(self) -> str: ...
    @property
    def nama(self) -> str: ...
    @property
    def golongan(self) -> str: ...
    @property
    def jabatan(self) -> str: ...
    @property
    def jabatan_kind(self) -> str: ...
    @property
    def unit_kerja(self) -> str: ...
    @property
    def pendidikan(self) -> str: ...
    @property
    def tanggal_lahir(self) -> date: ...
    @property
    def tmt_pangkat(self) -> date: ...


class ClientCore:
    """One open OPD installation: its config, store, rules and (encrypted) blob store."""

    # What a person reads when a dokumen's encrypted file is not on this device.
    MISSING_BLOB = "Dokumen belum ada di perangkat ini."

    def __init__(
        self,
        paths: Paths,
        store: Store,
        config: ClientConfig,
        rules: RulesConfig,
        blobs: BlobStore | None = None,
    ) -> None:
        """`blobs` is opened from `paths` on first use when not given (device keys are
        made then if need be); tests pass one with a plain cipher."""
        self.paths = paths
        self.store = store
        self.config = config
        self.rules = rules
        self._blobs = blobs
        self._bup: dict[str, int] = {}
        self._pangkat: dict[str, str] = {}

    def _pegawai_view(self, p: _PegawaiFields) -> PegawaiView:
        # Thousands of views at once on the Beranda: look each kind and golongan up once.
        bup = self._bup.get(p.jabatan_kind)
        if bup is None:
            bup = self._bup[p.jabatan_kind] = bup_age(JabatanKind(p.jabatan_kind), self.rules)
        pangkat = self._pangkat.get(p.golongan)
        if pangkat is None:
            pangkat = self._pangkat[p.golongan] = parse_golongan(p.golongan).pangkat
        return PegawaiView(
            id=p.id,
            nip=p.nip,
            nama=p.nama,
            golongan=p.golongan,
            pangkat=pangkat,
            jabatan=p.jabatan,
            jabatan_kind=p.jabatan_kind,
            unit_kerja=p.unit_kerja,
            pendidikan=p.pendidikan,
            tanggal_lahir=p.tanggal_lahir,
            tmt_pangkat=p.tmt_pangkat,
            bup=bup,
            tmt_pensiun=tmt_pensiun(p.tanggal_lahir, bup),
        )

    def _usulan_view(self, session: Session, u: Usulan, nama: str | None = None) -> UsulanView:
        if nama is None:
            p = session.get(Pegawai, u.pegawai_id)
            nama = p.nama if p else ""
        pending = session.exec(
            select(func.count()).select_from(OutboxEntry).where(OutboxEntry.record_id == u.id)
        ).one()
        return UsulanView(
            id=u.id,
            pegawai_id=u.pegawai_id,
            nip=u.nip,
            nama=nama,
            layanan=u.layanan,
            jenis=u.jenis,
            periode=u.periode,
            status=u.status,
            status_label=STATUS_LABELS[UsulanStatus(u.status)],
            editable=UsulanStatus(u.status) in OPEN_STATUSES,
            catatan_verifikator=u.catatan_verifikator,
            kurang=len(wf.missing_for(session, u, self.rules)),
            pending_sync=pending > 0,
        )

    def _live_usulan(self, session: Session, usulan_id: str) -> Usulan:
        u = session.get(Usulan, usulan_id)
        if u is None or u.deleted:
            raise ClientError("Usulan tidak ditemukan.", usulan_id)
        return u

    def _size_limit(self, kode: str) -> int:
        kind = dokumen_kinds(self.rules).get(kode)
        return kind.size_limit if kind else 0

    @property
    def blobs(self) -> BlobStore:
        """The encrypted local blob store (opened now if it was not given)."""
        return self._blob_store()

    def _blob_store(self) -> BlobStore:
        """The encrypted local blob store: the one given, or opened on first use."""
        blobs = self._blobs
        if blobs is None:
            try:
                blobs = _open_blob_store(self.paths)
            except BerkasError as exc:  # keys unreadable, wrong passphrase, ...
                raise ClientError(
                    f"Penyimpanan dokumen belum siap di perangkat ini: {exc.message} "
                    "Letakkan pindaian di folder pindai, atau hubungi admin BKD.",
                    exc.cause,
                ) from exc
            self._blobs = blobs
        return blobs

    def _plaintext(self, sha: str) -> bytes:
        """A stored document's bytes, decrypted in memory (never to a file) and checked
        against its sha256."""
        blobs = self._blob_store()
        source = blobs.path_for(sha)
        if not source.is_file():
            raise ClientError(self.MISSING_BLOB, f"missing blob {sha[:12]}")
        out = io.BytesIO()
        try:
            with source.open("rb") as src:
                blobs.cipher.decrypt(src, out)
        except BerkasError as exc:
            raise ClientError(f"Dokumen tidak dapat dibuka: {exc.message}", exc.cause) from exc
        data = out.getvalue()
        if hashlib.sha256(data).hexdigest() != sha:
            raise ClientError("Dokumen tidak cocok dengan sidik jarinya.", f"sha {sha[:12]}")
        return data


def _open_blob_store(paths: Paths) -> BlobStore:
    # Imported here: the sync engine (httpx, keys) is not needed to start the app.
    from client.sync_service import open_blob_store

    return open_blob_store(paths)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def jenis_choices(layanan: str, rules: RulesConfig) -> list[tuple[str, str]]:
    """(value, label) of the jenis a layanan offers, in configured order."""
    labels: dict[str, str] = {k.value: k.label for k in KpJenis}
    labels.update({k.value: k.label for k in PensiunJenis})
    return [
        (jenis, labels.get(jenis, jenis.replace("_", " ").capitalize()))
        for jenis in jenis_options(Layanan(layanan), rules)
    ]


def usulan_label(u: Usulan, rules: RulesConfig) -> str:
    """ "Kenaikan pangkat reguler, periode 1 April 2026": how a person names an usulan."""
    label = dict(jenis_choices(u.layanan, rules)).get(u.jenis, u.jenis)
    if u.periode is None:
        return label
    return f"{label}, periode {format_tanggal(u.periode)}"

"""The verifikator's workstation, as the TUI (and `berkas verifikasi paket/rekap`) sees it:
the queue across every OPD, one usulan under review with what the rules compute, its
dokumen decrypted in memory for the viewer, the decisions, the paket BKN and the rekap.

The verifier key's passphrase is given to `unlock` and held in memory only (the keyring
of this service, never the environment nor a file); `lock` forgets it. Every decision
is a local write (so it is in the outbox), then a sync, as on the OPD side.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from client import sync_service
from client._core import ClientCore, jenis_choices
from client.config import load_config, save_config
from client.errors import BerkasError, ClientError
from client.labels import nip_label
from client.paths import Paths
from client.verifikasi_views import (
    Antrian,
    AntrianFilter,
    AntrianItem,
    AturanView,
    DokumenPeriksa,
    PaketBerkas,
    PaketReport,
    PaketTidakBerlaku,
    Pemeriksaan,
    PermintaanKunciView,
    Rekap,
    RekapBaris,
)
from client.views import HistoryView
from store import usulan as wf
from store.blobs import BlobStore
from store.database import open_store
from store.models import Dokumen, Pegawai, Usulan, UsulanHistory
from store.rules import (
    STATUS_LABELS,
    JabatanKind,
    KpJenis,
    Layanan,
    Pendidikan,
    Role,
    RulesConfig,
    UsulanStatus,
    bup_age,
    dokumen_kinds,
    education_ceiling,
    kp_eligibility,
    kp_periods_of_year,
    load_rules_config,
    next_statuses,
    parse_golongan,
    tmt_pensiun,
)
from sync.engine import (
    VERIFIER_PASSPHRASE_ENV,
    Keyring,
    StreamBlobCipher,
    SyncReport,
    key_requests,
    wrap_for_waiting_devices,
)

__all__ = [
    "VerifikasiService",
    "check_sync",
    "require_verifikator",
    "reviewable_usulan",
]

# What the queue may show: everything past draft (a draft is the OPD's own business).
_QUEUE_STATUSES = tuple(s.value for s in UsulanStatus if s is not UsulanStatus.DRAFT)
_DECIDED = {
    UsulanStatus.DIVERIFIKASI.value: "ms",
    UsulanStatus.DIKEMBALIKAN.value: "bts",
    UsulanStatus.DITOLAK.value: "tms",
}


class _UsulanFields(Protocol):
    """What a queue row is made from: an Usulan record or a row of the queue's columns."""

    @property
    def id(self) -> str: ...
    @property
    def opd_id(self) -> str: ...
    @property
    def nip(self) -> str: ...
    @property
    def layanan(self) -> str: ...
    @property
    def jenis(self) -> str: ...
    @property
    def periode(self) -> date | None: ...
    @property
    def status(self) -> str: ...


def require_verifikator(paths: Paths) -> None:
    """Refuse a home that is not enrolled as a BKD verifikator."""
    status = sync_service.status(paths)
    if not status.enrolled:
        raise ClientError(
            "Perangkat ini belum terdaftar. Daftarkan dulu: berkas enrol --server URL --code KODE."
        )
    if status.role != Role.VERIFIKATOR.value:
        raise ClientError(
            "Perintah verifikasi hanya untuk perangkat verifikator BKD.", f"role {status.role}"
        )


def check_sync(report: SyncReport, *, decision: bool = False) -> SyncReport:
    """Refuse a sync that did not finish; after a `decision`, one whose push the server
    refused too (the decision did not reach the BKD)."""
    if report.error is not None:
        raise ClientError(report.error.message, report.error.cause)
    if decision and report.push.refused:
        reasons = "; ".join(report.push.refusals) or "tanpa alasan"
        raise ClientError(f"Server menolak keputusan ini: {reasons}", "push refused")
    return report


class VerifikasiService(ClientCore):
    """One open verifikator installation: its store (every OPD's records), the verifier key
    (once unlocked), and the blob store that opens dokumen with it."""

    MISSING_BLOB = "Dokumen belum diunduh dari server; sinkronkan dulu."

    def __init__(self, paths: Paths, keyring: Keyring, **kwargs: object) -> None:
        config = load_config(paths.config)
        rules = load_rules_config(config.rules_override)
        store = open_store(paths.store, opd_id=None, person=config.operator)
        blobs = BlobStore(paths.blobs, StreamBlobCipher(keyring))
        super().__init__(paths, store, config, rules, blobs)
        self.keyring = keyring

    @classmethod
    def open(cls, paths: Paths) -> VerifikasiService:
        require_verifikator(paths)
        return cls(paths, Keyring(paths.keys))

    def close(self) -> None:
        self.lock()
        self.store.close()

    # -- the verifier key ---------------------------------------------------------------------

    @property
    def unlocked(self) -> bool:
        return self.keyring.verifier_passphrase is not None

    @property
    def has_verifier_key(self) -> bool:
        return self.keyring.verifier_path.exists()

    def unlock(self, passphrase: str) -> None:
        """Open the verifier key with `passphrase` (kept in memory); refuse a wrong one."""
        if not self.has_verifier_key:
            raise ClientError(
                "Komputer ini belum memiliki kunci verifikator BKD: buat dengan 'berkas "
                "verifikasi kunci buat' atau pasang dengan 'berkas verifikasi kunci pasang FILE'.",
                "no verifier key",
            )
        self.keyring.forget_verifier_key()
        self.keyring.verifier_passphrase = passphrase
        try:
            self.keyring.verifier_key()
        except BerkasError as exc:
            self.keyring.forget_verifier_key()
            raise ClientError(
                "Frasa sandi kunci verifikator salah.", exc.cause or exc.message
            ) from exc

    def use_environment_passphrase(self) -> None:
        """The command line's way: the verifier key opens when it is needed, with the
        passphrase in BERKAS_VERIFIER_PASSPHRASE (read by the engine's keyring)."""
        self.keyring.verifier_passphrase = os.environ.get(VERIFIER_PASSPHRASE_ENV, "")

    def lock(self) -> None:
        """Forget the passphrase and the opened key (after idle time, and at exit)."""
        self.keyring.forget_verifier_key()

    def _require_unlocked(self) -> None:
        if not self.unlocked:
            raise ClientError("Buka kunci verifikator dulu (frasa sandi).", "locked")

    # -- sync ---------------------------------------------------------------------------------

    def sync(self) -> SyncReport:
        """One sync now with this service's keyring (downloads need the verifier key)."""
        self._require_unlocked()
        return check_sync(
            sync_service.sync_once(self.paths, program="berkas verifikasi", keyring=self.keyring)
        )

    # -- antrian ------------------------------------------------------------------------------

    def antrian(
        self, filt: AntrianFilter | None = None, *, today: date | None = None, limit: int = 1000
    ) -> Antrian:
        """Usulan past draft across every OPD, oldest submission first."""
        filt = filt or AntrianFilter()
        today = today or date.today()
        if filt.status and filt.status not in _QUEUE_STATUSES:
            raise ClientError("Usulan draft tidak ditampilkan kepada verifikator.", filt.status)
        with self.store.read() as session:
            submitted = _submissions(session)
            # Columns, not ORM objects: thousands of rows on every keystroke of a search.
            stmt = (
                sa_select(
                    col(Usulan.id),
                    col(Usulan.opd_id),
                    col(Usulan.nip),
                    col(Usulan.layanan),
                    col(Usulan.jenis),
                    col(Usulan.periode),
                    col(Usulan.status),
                    col(Pegawai.nama),
                )
                .join(Pegawai, col(Pegawai.id) == col(Usulan.pegawai_id))
                .where(col(Usulan.deleted).is_(False))
                .where(col(Usulan.status).in_(_QUEUE_STATUSES))
            )
            if filt.status:
                stmt = stmt.where(col(Usulan.status) == filt.status)
            if filt.opd:
                stmt = stmt.where(col(Usulan.opd_id) == filt.opd)
            if filt.layanan:
                stmt = stmt.where(col(Usulan.layanan) == filt.layanan)
            if filt.periode:
                stmt = stmt.where(col(Usulan.periode) == filt.periode)
            rows = list(session.execute(stmt).all())
            facets = session.exec(
                select(col(Usulan.opd_id), col(Usulan.periode))
                .where(col(Usulan.deleted).is_(False))
                .where(col(Usulan.status).in_(_QUEUE_STATUSES))
                .distinct()
            ).all()
        total = len(rows)
        needle = filt.cari.strip().lower()
        if needle:
            digits = needle.replace(" ", "")
            by_nip = digits.isdigit()
            rows = [r for r in rows if (by_nip and digits in r.nip) or needle in r.nama.lower()]
        items = [self._item(r, r.nama, submitted.get(r.id), today) for r in rows]
        far = datetime.max.replace(tzinfo=UTC)
        items.sort(key=lambda i: (i.diajukan or far, i.nip))
        return Antrian(
            items=items[:limit],
            total=total,
            opd=sorted({o for o, _ in facets if o}),
            periode=sorted({p for _, p in facets if p is not None}),
        )

    def _item(
        self,
        u: _UsulanFields,
        nama: str,
        submitted: tuple[datetime, int] | None,
        today: date,
    ) -> AntrianItem:
        when, count = submitted or (None, 0)
        waiting = (today - when.date()).days if when is not None else 0
        return AntrianItem(
            id=u.id,
            opd=u.opd_id,
            nip=u.nip,
            nama=nama,
            layanan=u.layanan,
            jenis=u.jenis,
            jenis_label=self._jenis_label(u.layanan, u.jenis),
            periode=u.periode,
            status=u.status,
            status_label=STATUS_LABELS[UsulanStatus(u.status)],
            diajukan=when,
            hari_menunggu=max(waiting, 0),
            pengajuan_ulang=max(count - 1, 0),
            batas=self._batas(u),
            terlambat=u.status == UsulanStatus.DIAJUKAN.value and waiting > self.batas_hari,
        )

    def _jenis_label(self, layanan: str, jenis: str) -> str:
        cache: dict[tuple[str, str], str] = self.__dict__.setdefault("_jenis_labels", {})
        key = (layanan, jenis)
        if key not in cache:
            try:
                cache[key] = dict(jenis_choices(layanan, self.rules)).get(jenis, jenis)
            except (ValueError, BerkasError):
                cache[key] = jenis
        return cache[key]

    def _batas(self, u: _UsulanFields) -> date | None:
        """The last day to submit for the usulan's KP period."""
        if u.layanan != Layanan.KP.value or u.periode is None:
            return None
        cache: dict[date, date | None] = self.__dict__.setdefault("_batas_cache", {})
        if u.periode not in cache:
            periods = kp_periods_of_year(u.periode.year, self.rules)
            cache[u.periode] = next((p.window_end for p in periods if p.tmt == u.periode), None)
        return cache[u.periode]

    @property
    def batas_hari(self) -> int:
        """Days after diajukan past which a waiting usulan is overdue (berkas.toml
        `verifikator_batas_hari`)."""
        return self.config.verifikator_batas_hari

    def set_batas_hari(self, hari: int) -> None:
        """Keep a new overdue threshold in this home's berkas.toml."""
        if not 1 <= hari <= 365:
            raise ClientError("Batas hari harus antara 1 dan 365.", f"batas_hari {hari}")
        config = load_config(self.paths.config)
        config.verifikator_batas_hari = hari
        save_config(self.paths.config, config)
        self.config.verifikator_batas_hari = hari

    # -- pemeriksaan --------------------------------------------------------------------------

    def pemeriksaan(self, usulan_id: str, *, today: date | None = None) -> Pemeriksaan:
        today = today or date.today()
        with self.store.read() as session:
            u = reviewable_usulan(session, usulan_id)
            p = session.get(Pegawai, u.pegawai_id)
            if p is None:
                raise ClientError("Data pegawai usulan ini belum diterima.", u.pegawai_id)
            item = self._item(u, p.nama, _submissions(session, u.id).get(u.id), today)
            aturan = self._aturan(p, u)
            lines = []
            sha_lines: dict[str, list[str]] = defaultdict(list)
            peringatan = []
            kinds = dokumen_kinds(self.rules)

            def nama_of(kode: str) -> str:
                kind = kinds.get(kode)
                return kind.nama if kind else kode

            for line in wf.checklist_lines(session, u, self.rules):
                d = line.dokumen
                if d is not None and d.sha256:
                    sha_lines[d.sha256].append(line.item.nama)
                nip_lain = d.nip_terbaca if d is not None and d.nip_terbaca != u.nip else ""
                if d is not None and nip_lain:
                    peringatan.append(
                        f"{line.item.nama}: pindaian memuat NIP {nip_label(nip_lain)}"
                        f"{self._whose(session, nip_lain)}, bukan NIP pegawai usulan ini."
                    )
                if d is not None and d.kode_terbaca and d.kode_terbaca != d.kode:
                    peringatan.append(
                        f"{line.item.nama}: pindaian terbaca sebagai {nama_of(d.kode_terbaca)}."
                    )
                lines.append(
                    DokumenPeriksa(
                        kode=line.item.kode,
                        nama=line.item.nama,
                        required=line.required,
                        state=line.state,
                        dokumen_id=d.id if d else None,
                        sha256=d.sha256 if d else "",
                        size=d.size if d else 0,
                        pages=d.pages if d else 0,
                        nama_file=d.nama_file if d else "",
                        catatan_verifikator=d.catatan_verifikator if d else "",
                        # The OPD's reason where it marked the line; an optional (*) line it
                        # never marked as applying has none, and says so.
                        alasan_tidak_berlaku=(
                            line.alasan_tidak_berlaku
                            or "bersyarat (*), OPD tidak menandainya berlaku"
                            if line.state == "tidak_berlaku"
                            else ""
                        ),
                        nip_lain=nip_lain,
                    )
                )
            history = [
                HistoryView(
                    h.dari_status, h.ke_status, h.oleh_nama, h.oleh_perangkat, h.waktu, h.alasan
                )
                for h in wf.history_of(session, u.id)
            ]
            peringatan += [
                f"Berkas yang sama dilampirkan pada {', '.join(names)}."
                for names in sha_lines.values()
                if len(names) > 1
            ]
            if u.layanan == Layanan.KP.value and not aturan.kp_eligible:
                peringatan.append(
                    "Menurut aturan, pegawai ini belum memenuhi syarat KP: "
                    + "; ".join(aturan.kp_alasan)
                )
            missing = wf.missing_for(session, u, self.rules)
            if missing:
                names = ", ".join(nama_of(k) for k in missing)
                peringatan.append(f"Dokumen wajib belum ada: {names}.")
            return Pemeriksaan(
                item=item,
                pegawai=self._pegawai_view(p),
                aturan=aturan,
                dokumen=lines,
                history=history,
                peringatan=peringatan,
                catatan_verifikator=u.catatan_verifikator,
                nomor_pertek=u.nomor_pertek,
                tanggal_pertek=u.tanggal_pertek,
                keputusan=_choices(u.status),
            )

    @staticmethod
    def _whose(session: Session, nip: str) -> str:
        """ " (nama, OPD)" of the pegawai with this NIP, when this store knows one."""
        other = session.exec(
            select(Pegawai).where(Pegawai.nip == nip).where(col(Pegawai.deleted).is_(False))
        ).first()
        return f" ({other.nama}, {other.opd_id})" if other is not None else ""

    def _aturan(self, p: Pegawai, u: Usulan) -> AturanView:
        gol = parse_golongan(p.golongan)
        period_tmt = u.periode or date.today()
        jenis = u.jenis if u.layanan == Layanan.KP.value else KpJenis.REGULER.value
        try:
            elig = kp_eligibility(
                golongan=gol,
                tmt_pangkat=p.tmt_pangkat,
                pendidikan=Pendidikan(p.pendidikan),
                period_tmt=period_tmt,
                jenis=jenis,
                config=self.rules,
            )
            eligible, reasons = elig.eligible, tuple(elig.reasons)
        except BerkasError as exc:  # a jenis whose rule needs facts the store lacks
            eligible, reasons = False, (exc.message,)
        try:
            ceiling = education_ceiling(p.pendidikan, self.rules).kode
        except BerkasError:
            ceiling = "-"
        bup = bup_age(JabatanKind(p.jabatan_kind), self.rules)
        return AturanView(
            kp_eligible=eligible,
            kp_alasan=reasons,
            batas_pendidikan=ceiling,
            bup=bup,
            tmt_pensiun=tmt_pensiun(p.tanggal_lahir, bup),
        )

    def dokumen_pdf(self, dokumen_id: str) -> bytes:
        """The dokumen's plaintext, decrypted in memory and checked against its sha256."""
        self._require_unlocked()
        with self.store.read() as session:
            d = session.get(Dokumen, dokumen_id)
            if d is None or d.deleted or not d.sha256:
                raise ClientError("Dokumen tidak ditemukan.", dokumen_id)
            reviewable_usulan(session, d.usulan_id)
            sha = d.sha256
        return self._plaintext(sha)

    # -- decisions ----------------------------------------------------------------------------

    def putuskan(
        self,
        usulan_id: str,
        keputusan: str,
        catatan: str,
        catatan_dokumen: dict[str, str] | None = None,
        *,
        sync: bool = True,
    ) -> None:
        """MS, BTS (at least one dokumen note) or TMS (a reason), written then synced."""
        notes = {k: v.strip() for k, v in (catatan_dokumen or {}).items() if v.strip()}
        if keputusan == "bts" and not notes:
            raise ClientError("BTS wajib disertai catatan pada sedikitnya satu dokumen.")
        if keputusan == "tms" and not catatan.strip():
            raise ClientError("TMS wajib disertai alasan.")
        if keputusan not in ("ms", "bts", "tms"):
            raise ClientError(f"Keputusan tidak dikenal: {keputusan}")
        with self.store.write() as session:
            u = reviewable_usulan(session, usulan_id)
            if keputusan == "bts":
                wf.kembalikan(session, u, catatan.strip() or "Perbaiki dokumen bertanda", notes)
            else:
                ms = keputusan == "ms"
                target = UsulanStatus.DIVERIFIKASI if ms else UsulanStatus.DITOLAK
                wf.move_status(session, u, target, Role.VERIFIKATOR, alasan=catatan.strip())
                if not ms:
                    u.catatan_verifikator = catatan.strip()
        if sync:
            self._sync_decision()

    def teruskan(self, usulan_ids: Sequence[str], *, sync: bool = True) -> int:
        """Forward every MS usulan given to BKN (one write), then sync."""
        with self.store.write() as session:
            for usulan_id in usulan_ids:
                u = reviewable_usulan(session, usulan_id)
                wf.move_status(
                    session,
                    u,
                    UsulanStatus.DITERUSKAN,
                    Role.VERIFIKATOR,
                    alasan="Diteruskan ke BKN",
                )
        if sync:
            self._sync_decision()
        return len(usulan_ids)

    def selesai(self, usulan_id: str, pertek: str, tanggal: date, *, sync: bool = True) -> None:
        if not pertek.strip():
            raise ClientError("Nomor pertek/SK wajib diisi.")
        with self.store.write() as session:
            u = reviewable_usulan(session, usulan_id)
            wf.move_status(
                session,
                u,
                UsulanStatus.SELESAI,
                Role.VERIFIKATOR,
                alasan=f"Pertek/SK {pertek.strip()} tanggal {tanggal:%d-%m-%Y}",
            )
            u.nomor_pertek = pertek.strip()
            u.tanggal_pertek = tanggal
        if sync:
            self._sync_decision()

    def _sync_decision(self) -> None:
        check_sync(self.sync(), decision=True)

    # -- permintaan kunci ---------------------------------------------------------------------

    def permintaan_kunci(self) -> list[PermintaanKunciView]:
        engine = sync_service.build_engine(self.paths, self.store, keyring=self.keyring)
        try:
            requests = key_requests(engine.transport)
        finally:
            engine.close()
        return [
            PermintaanKunciView(
                device_id=r.device_id,
                opd_kode=r.opd_id,
                opd_nama=r.opd_name,
                perangkat=r.device_name,
                diminta=datetime.fromtimestamp(r.requested_at, UTC),
            )
            for r in requests
        ]

    def bagikan_kunci(self, device_id: str | None = None) -> int:
        self._require_unlocked()
        engine = sync_service.build_engine(self.paths, self.store, keyring=self.keyring)
        try:
            only = {device_id} if device_id else None
            return wrap_for_waiting_devices(engine.keyring, engine.transport, only)
        finally:
            engine.close()

    # -- paket BKN ----------------------------------------------------------------------------

    def paket(self, usulan_ids: Iterable[str] | None, folder: Path) -> PaketReport:
        """The bundle a BKD uploads to SIASN: per usulan a folder of its dokumen named
        <NIP>_<KODE>.pdf, each checked against its sha256, files 0600, and a manifest
        (CSV and JSON). Without ids: every usulan diteruskan."""
        self._require_unlocked()
        with self.store.read() as session:
            if usulan_ids is None:
                chosen = list(
                    session.exec(
                        select(Usulan)
                        .where(col(Usulan.deleted).is_(False))
                        .where(Usulan.status == UsulanStatus.DITERUSKAN.value)
                        .order_by(col(Usulan.nip))
                    )
                )
            else:
                chosen = [reviewable_usulan(session, i) for i in usulan_ids]
            plan = []
            skipped: list[PaketTidakBerlaku] = []
            for u in chosen:
                if u.status not in (UsulanStatus.DITERUSKAN.value, UsulanStatus.SELESAI.value):
                    raise ClientError(
                        f"Usulan {u.nip} belum diteruskan ke BKN: paket hanya untuk usulan "
                        "yang sudah diteruskan.",
                        u.id,
                    )
                p = session.get(Pegawai, u.pegawai_id)
                docs = [
                    (d.kode, d.sha256, d.pages) for d in wf.live_dokumen(session, u.id) if d.sha256
                ]
                plan.append((u.id, u.nip, p.nama if p else "", u.layanan, docs))
                # Lines the OPD marked "tidak berlaku" have no file: the manifest says why.
                skipped.extend(
                    PaketTidakBerlaku(
                        nip=u.nip,
                        layanan=u.layanan,
                        kode=line.item.kode,
                        alasan=line.alasan_tidak_berlaku,
                    )
                    for line in _marked_lines(session, u, self.rules)
                )
        folder.mkdir(parents=True, exist_ok=True)
        if os.name == "posix":
            os.chmod(folder, 0o700)
        files: list[PaketBerkas] = []
        for usulan_id, nip, nama, layanan, docs in plan:
            sub = folder / f"{nip}_{layanan.upper()}_{usulan_id[:8]}"
            sub.mkdir(exist_ok=True)
            if os.name == "posix":
                os.chmod(sub, 0o700)
            for kode, sha, pages in sorted(docs):
                data = self._plaintext(sha)
                target = sub / f"{nip}_{kode}.pdf"
                _write_private(target, data)
                if hashlib.sha256(target.read_bytes()).hexdigest() != sha:
                    raise ClientError(f"Berkas {target.name} tidak cocok dengan sidik jarinya.")
                files.append(
                    PaketBerkas(
                        nip=nip,
                        nama=nama,
                        layanan=layanan,
                        kode=kode,
                        path=str(target.relative_to(folder)),
                        pages=pages,
                        bytes=len(data),
                        sha256=sha,
                    )
                )
        fields = ["nip", "nama", "layanan", "kode", "path", "pages", "bytes", "sha256"]
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=fields)
        writer.writeheader()
        for f in files:
            writer.writerow({k: getattr(f, k) for k in fields})
        _write_private(folder / "manifest.csv", buf.getvalue().encode("utf-8"))
        manifest = {
            "dibuat": datetime.now(UTC).isoformat(timespec="seconds"),
            "usulan": len(plan),
            "berkas": [{k: getattr(f, k) for k in fields} for f in files],
            "tidak_berlaku": [
                {"nip": t.nip, "layanan": t.layanan, "kode": t.kode, "alasan": t.alasan}
                for t in skipped
            ],
        }
        _write_private(
            folder / "manifest.json",
            json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"),
        )
        return PaketReport(
            folder=str(folder),
            usulan=len(plan),
            files=files,
            total_bytes=sum(f.bytes for f in files),
            tidak_berlaku=skipped,
        )

    # -- rekap --------------------------------------------------------------------------------

    def rekap(
        self,
        periode: date | None = None,
        *,
        today: date | None = None,
        batas_hari: int | None = None,
    ) -> Rekap:
        """Per OPD and layanan: counts by status, median days from diajukan to the decision,
        BTS rate and the overdue list (waiting more than `batas_hari` days, by default the
        configured one)."""
        today = today or date.today()
        batas = self.batas_hari if batas_hari is None else batas_hari
        if batas < 1:
            raise ClientError("Batas hari harus sedikitnya 1.", f"batas_hari {batas}")
        with self.store.read() as session:
            periods = session.exec(
                select(col(Usulan.periode))
                .where(col(Usulan.deleted).is_(False))
                .where(col(Usulan.status).in_(_QUEUE_STATUSES))
                .where(col(Usulan.periode).is_not(None))
                .distinct()
            ).all()
            stmt = (
                select(Usulan)
                .where(col(Usulan.deleted).is_(False))
                .where(col(Usulan.status).in_(_QUEUE_STATUSES))
            )
            if periode is not None:
                stmt = stmt.where(Usulan.periode == periode)
            usulan = list(session.exec(stmt))
            ids = [u.id for u in usulan]
            history: dict[str, list[UsulanHistory]] = defaultdict(list)
            for h in session.exec(
                select(UsulanHistory)
                .where(col(UsulanHistory.usulan_id).in_(ids))
                .order_by(col(UsulanHistory.waktu))
            ):
                history[h.usulan_id].append(h)
        groups: dict[tuple[str, str], list[Usulan]] = defaultdict(list)
        for u in usulan:
            groups[(u.opd_id, u.layanan)].append(u)
        rows = []
        for (opd, layanan), members in sorted(groups.items()):
            counts = Counter(u.status for u in members)
            days: list[float] = []
            decisions = bts = 0
            overdue = []
            for u in members:
                submitted: datetime | None = None
                for h in history[u.id]:
                    if h.dari_status == h.ke_status:
                        continue  # a note (a replaced scan, a confirmed doubt), not a move
                    if h.ke_status == UsulanStatus.DIAJUKAN.value:
                        submitted = _parse_time(h.waktu)
                    elif h.ke_status in _DECIDED and submitted is not None:
                        decisions += 1
                        bts += h.ke_status == UsulanStatus.DIKEMBALIKAN.value
                        when = _parse_time(h.waktu)
                        if when is not None:
                            days.append((when - submitted).total_seconds() / 86400)
                if (
                    u.status == UsulanStatus.DIAJUKAN.value
                    and submitted is not None
                    and (today - submitted.date()).days > batas
                ):
                    overdue.append(u.nip)
            rows.append(
                RekapBaris(
                    opd=opd,
                    layanan=layanan,
                    counts=dict(counts),
                    total=len(members),
                    median_hari=round(statistics.median(days), 1) if days else None,
                    bts_rate=round(bts / decisions, 3) if decisions else None,
                    terlambat=sorted(overdue),
                )
            )
        return Rekap(
            periode=periode,
            baris=rows,
            batas_hari=batas,
            periode_tersedia=sorted(p for p in periods if p is not None),
        )


def rekap_csv(rekap: Rekap) -> str:
    """The rekap as CSV text (one row per OPD and layanan)."""
    statuses = list(_QUEUE_STATUSES)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(
        [
            "opd",
            "layanan",
            *statuses,
            "total",
            "median_hari",
            "rasio_bts",
            "terlambat",
            "batas_hari",
        ]
    )
    for b in rekap.baris:
        writer.writerow(
            [
                b.opd,
                b.layanan,
                *(b.counts.get(s, 0) for s in statuses),
                b.total,
                "" if b.median_hari is None else b.median_hari,
                "" if b.bts_rate is None else b.bts_rate,
                " ".join(b.terlambat),
                rekap.batas_hari,
            ]
        )
    return buf.getvalue()


def reviewable_usulan(session: Session, usulan_id: str) -> Usulan:
    """The usulan for the BKD to open; refuses a missing one and a draft (the OPD's own
    work in progress, not the BKD's to open)."""
    u = session.get(Usulan, usulan_id)
    if u is None or u.deleted:
        raise ClientError("Usulan tidak ditemukan.", usulan_id)
    if u.status == UsulanStatus.DRAFT.value:
        raise ClientError(
            "Usulan ini masih draft di OPD: belum diajukan ke BKD, tidak dapat dibuka.",
            usulan_id,
        )
    return u


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` to a 0600 file (personal data: only this user may read it)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    finally:
        os.close(fd)


def _parse_time(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _submissions(session: Session, usulan_id: str | None = None) -> dict[str, tuple[datetime, int]]:
    """Per usulan: when it was last submitted and how many times it was submitted."""
    stmt = (
        select(UsulanHistory.usulan_id, func.max(UsulanHistory.waktu), func.count())
        .where(UsulanHistory.ke_status == UsulanStatus.DIAJUKAN.value)
        .where(UsulanHistory.dari_status != UsulanStatus.DIAJUKAN.value)  # not a note
        .where(col(UsulanHistory.deleted).is_(False))
        .group_by(col(UsulanHistory.usulan_id))
    )
    if usulan_id is not None:
        stmt = stmt.where(UsulanHistory.usulan_id == usulan_id)
    out = {}
    for uid, waktu, count in session.exec(stmt):
        when = _parse_time(str(waktu))
        if when is not None:
            out[str(uid)] = (when, int(count))
    return out


def _choices(status: str) -> tuple[str, ...]:
    """What the verifikator may decide on an usulan in `status` (the state machine's word)."""
    allowed = {s.value for s in next_statuses(UsulanStatus(status), Role.VERIFIKATOR)}
    out = []
    if UsulanStatus.DIVERIFIKASI.value in allowed:
        out.append("ms")
    if UsulanStatus.DIKEMBALIKAN.value in allowed:
        out.append("bts")
    if UsulanStatus.DITOLAK.value in allowed:
        out.append("tms")
    if UsulanStatus.DITERUSKAN.value in allowed:
        out.append("teruskan")
    if UsulanStatus.SELESAI.value in allowed:
        out.append("selesai")
    return tuple(out)


def _marked_lines(session: Session, u: Usulan, rules: RulesConfig | None) -> list[wf.ChecklistLine]:
    """The usulan's lines the OPD marked "tidak berlaku" with a reason."""
    return [line for line in wf.checklist_lines(session, u, rules) if line.alasan_tidak_berlaku]

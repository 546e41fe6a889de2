"""Usulan: the list, a new draft, the checklist, dokumen from a file, submitting."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from sqlmodel import col, select

from client._core import ClientCore, jenis_choices, now_iso, usulan_label
from client.errors import BelumLayak, BerkasError, ClientError
from client.views import ChecklistLineView, DokumenChoice, HistoryView, UsulanDetail, UsulanView
from store import usulan as wf
from store.errors import StoreError
from store.models import Blob, Dokumen, Pegawai, Usulan
from store.pegawai import get_pegawai_by_nip
from store.rules import (
    OPEN_STATUSES,
    JabatanKind,
    Layanan,
    RuleError,
    UsulanStatus,
    bup_age,
    checklist,
    default_jenis,
    dokumen_kinds,
    exceeds_limit,
    kp_eligibility,
    next_kp_period,
    pensiun_due,
    tmt_pensiun,
)

# In a history line: the person confirmed an usulan the rules call ineligible (asked once).
_CONFIRMED = "meski menurut aturan belum layak (dikonfirmasi)"


class UsulanService(ClientCore):
    """The usulan of this OPD and their dokumen."""

    def list_usulan(
        self,
        *,
        layanan: str | None = None,
        status: str | None = None,
        periode: date | None = None,
        limit: int = 500,
    ) -> list[UsulanView]:
        with self.store.read() as session:
            stmt = (
                select(Usulan, Pegawai.nama)
                .join(Pegawai, col(Pegawai.id) == col(Usulan.pegawai_id))
                .where(col(Usulan.deleted).is_(False))
            )
            if layanan:
                stmt = stmt.where(Usulan.layanan == layanan)
            if status:
                stmt = stmt.where(Usulan.status == status)
            if periode:
                stmt = stmt.where(Usulan.periode == periode)
            stmt = stmt.order_by(col(Usulan.updated_at).desc()).limit(limit)
            return [self._usulan_view(session, u, nama) for u, nama in session.exec(stmt)]

    def create_usulan(
        self,
        pegawai_id: str,
        layanan: str,
        jenis: str,
        *,
        periode: date | None = None,
        berlaku: list[str] | None = None,
        today: date | None = None,
        tetap: bool | None = None,
    ) -> UsulanView:
        """A new draft. Without a periode, KP takes the next period and pensiun
        the computed TMT.

        One the rules call ineligible (`kelayakan`): with `tetap=False` (what a person
        asks for first, in the TUI or the CLI) it is refused with BelumLayak, whose
        reasons the screen shows; with `tetap=True` (they confirmed) it is made and the
        reasons go into its history. None does not ask (sample data, tests)."""
        today = today or date.today()
        with self.store.write() as session:
            p = session.get(Pegawai, pegawai_id)
            if p is None or p.deleted:
                raise ClientError("Pegawai tidak ditemukan.", pegawai_id)
            if periode is None and layanan == Layanan.KP.value:
                periode = next_kp_period(today, self.rules).tmt
            if periode is None and layanan == Layanan.PENSIUN.value:
                periode = tmt_pensiun(
                    p.tanggal_lahir, bup_age(JabatanKind(p.jabatan_kind), self.rules)
                )
            reasons = [] if tetap is None else self._kelayakan(p, layanan, jenis, periode)
            if reasons and not tetap:
                raise BelumLayak(
                    f"Menurut aturan, {p.nama} belum layak untuk usulan "
                    f"{dict(jenis_choices(layanan, self.rules)).get(jenis, jenis)}: "
                    f"{'; '.join(r.rstrip('.') for r in reasons)}.",
                    "; ".join(reasons),
                    reasons=tuple(reasons),
                )
            u = wf.create_usulan(session, p, layanan, jenis, periode=periode, berlaku=berlaku or [])
            if reasons:
                wf.note_history(
                    session,
                    u,
                    f"Dibuat {_CONFIRMED}: " + "; ".join(r.rstrip(".") for r in reasons),
                )
            session.flush()
            return self._usulan_view(session, u, p.nama)

    def kelayakan(
        self, pegawai_id: str, layanan: str, jenis: str, *, today: date | None = None
    ) -> list[str]:
        """Why the rules call an usulan of `layanan`/`jenis` for this pegawai ineligible
        (empty: nothing against it); the same words the pegawai screen shows."""
        today = today or date.today()
        with self.store.read() as session:
            p = session.get(Pegawai, pegawai_id)
            if p is None or p.deleted:
                raise ClientError("Pegawai tidak ditemukan.", pegawai_id)
            periode = next_kp_period(today, self.rules).tmt if layanan == Layanan.KP.value else None
            return self._kelayakan(p, layanan, jenis, periode)

    def _kelayakan(self, p: Pegawai, layanan: str, jenis: str, periode: date | None) -> list[str]:
        if layanan != Layanan.KP.value or periode is None:
            return []
        try:
            elig = kp_eligibility(
                golongan=p.golongan,
                tmt_pangkat=p.tmt_pangkat,
                pendidikan=p.pendidikan,
                period_tmt=periode,
                jenis=jenis,
                config=self.rules,
            )
        except RuleError:
            # A kind that needs facts the store does not hold (the jabatan's pangkat range
            # for pilihan struktural): the verifikator judges it from the dokumen.
            return []
        return list(elig.reasons) if not elig.eligible else []

    def layanan_saran(self, pegawai_id: str, *, today: date | None = None) -> str | None:
        """The layanan that fits the pegawai now: pensiun when the TMT pensiun BUP falls
        within the lead months (15), else KP when the rules call it eligible; None when
        neither (the dialog keeps its default)."""
        today = today or date.today()
        with self.store.read() as session:
            p = session.get(Pegawai, pegawai_id)
            if p is None or p.deleted:
                return None
            if pensiun_due(p.tanggal_lahir, JabatanKind(p.jabatan_kind), today, None, self.rules):
                return Layanan.PENSIUN.value
            periode = next_kp_period(today, self.rules).tmt
            if not self._kelayakan(p, Layanan.KP.value, default_jenis("kp", self.rules), periode):
                return Layanan.KP.value
            return None

    def open_usulan_like(self, pegawai_id: str, layanan: str) -> list[UsulanView]:
        """The pegawai's usulan of this layanan still open for edit: a new one beside
        them is usually a mistake, so the TUI asks before creating it."""
        with self.store.read() as session:
            p = session.get(Pegawai, pegawai_id)
            if p is None or p.deleted:
                return []
            return [
                self._usulan_view(session, u, p.nama)
                for u in wf.usulan_of_pegawai(session, p.id)
                if u.layanan == layanan and UsulanStatus(u.status) in OPEN_STATUSES
            ]

    def usulan_detail(self, usulan_id: str) -> UsulanDetail:
        kinds = dokumen_kinds(self.rules)
        with self.store.read() as session:
            u = session.get(Usulan, usulan_id)
            if u is None or u.deleted:
                raise ClientError("Usulan tidak ditemukan.", usulan_id)
            lines = []
            for line in wf.checklist_lines(session, u, self.rules):
                d = line.dokumen
                limit = kinds[line.item.kode].size_limit
                lines.append(
                    ChecklistLineView(
                        kode=line.item.kode,
                        nama=line.item.nama,
                        required=line.required,
                        state=line.state,
                        dokumen_id=d.id if d else None,
                        size=d.size if d else 0,
                        size_limit=limit,
                        terlalu_besar=line.state == "terlalu_besar"
                        or (d is not None and exceeds_limit(d.size, limit)),
                        pages=d.pages if d else 0,
                        nama_file=d.nama_file if d else "",
                        catatan_verifikator=d.catatan_verifikator if d else "",
                        boleh_tidak_berlaku=line.item.boleh_tidak_berlaku,
                        alasan_tidak_berlaku=line.alasan_tidak_berlaku,
                    )
                )
            history = [
                HistoryView(
                    h.dari_status, h.ke_status, h.oleh_nama, h.oleh_perangkat, h.waktu, h.alasan
                )
                for h in wf.history_of(session, u.id)
            ]
            return UsulanDetail(
                usulan=self._usulan_view(session, u),
                checklist=lines,
                history=history,
                missing=wf.missing_for(session, u, self.rules),
            )

    def set_berlaku(self, usulan_id: str, kodes: list[str]) -> None:
        """Mark which optional checklist items apply to this usulan."""
        with self.store.write() as session:
            u = self._live_usulan(session, usulan_id)
            u.berlaku = sorted(set(kodes))
            marks = u.tidak_berlaku or {}
            for kode in sorted(set(kodes) & set(marks)):
                # Marked as applying after all: the "tidak berlaku" reason no longer holds.
                wf.cabut_tidak_berlaku(session, u, kode, self.rules)
            session.add(u)

    def tandai_tidak_berlaku(self, usulan_id: str, kode: str, alasan: str) -> None:
        """Mark a checklist line "tidak berlaku" with the reason the verifikator reads (it then
        counts as satisfied for submission); the mark syncs and goes into the history."""
        with self.store.write() as session:
            u = self._live_usulan(session, usulan_id)
            wf.tandai_tidak_berlaku(session, u, kode, alasan, self.rules)

    def cabut_tidak_berlaku(self, usulan_id: str, kode: str) -> None:
        """Undo a "tidak berlaku" mark while the usulan is editable."""
        with self.store.write() as session:
            u = self._live_usulan(session, usulan_id)
            wf.cabut_tidak_berlaku(session, u, kode, self.rules)

    def attach_stored(
        self, usulan_id: str, kode: str, *, sha256: str, size: int, pages: int, terlalu_besar: bool
    ) -> None:
        """File an already-stored blob as a dokumen of this usulan."""
        with self.store.write() as session:
            u = self._live_usulan(session, usulan_id)
            wf.attach_dokumen(
                session,
                u,
                kode,
                sha256=sha256,
                size=size,
                pages=pages,
                terlalu_besar=terlalu_besar,
            )

    def remove_dokumen(self, dokumen_id: str) -> None:
        with self.store.write() as session:
            d = session.get(Dokumen, dokumen_id)
            if d is None or d.deleted:
                raise ClientError("Dokumen tidak ditemukan.", dokumen_id)
            wf.remove_dokumen(session, d)

    def batalkan_usulan(self, usulan_id: str, alasan: str) -> None:
        """Cancel a draft made by mistake (store.usulan.batalkan): it leaves every list,
        on every device once synced; the reason stays in its history."""
        with self.store.write() as session:
            u = self._live_usulan(session, usulan_id)
            wf.batalkan(session, u, alasan)

    def ajukan(
        self, usulan_id: str, alasan: str = "Diajukan ke BKD", *, tetap: bool | None = None
    ) -> UsulanView:
        """Submit (draft or BTS -> diajukan); refused while the checklist is incomplete.

        `tetap` as in `create_usulan`: with False, an usulan the rules call ineligible for
        its period, whose ineligibility nobody confirmed yet, is refused with BelumLayak;
        with True the reasons go into its history. None does not ask."""
        with self.store.write() as session:
            u = self._live_usulan(session, usulan_id)
            p = session.get(Pegawai, u.pegawai_id)
            reasons = []
            if tetap is not None and p is not None:
                confirmed = any(_CONFIRMED in h.alasan for h in wf.history_of(session, u.id))
                if not confirmed:
                    reasons = self._kelayakan(p, u.layanan, u.jenis, u.periode)
            if reasons and not tetap:
                raise BelumLayak(
                    f"Menurut aturan, {p.nama if p else u.nip} belum layak untuk usulan ini: "
                    f"{'; '.join(r.rstrip('.') for r in reasons)}.",
                    "; ".join(reasons),
                    reasons=tuple(reasons),
                )
            if reasons:
                wf.note_history(
                    session,
                    u,
                    f"Diajukan {_CONFIRMED}: " + "; ".join(r.rstrip(".") for r in reasons),
                )
            wf.ajukan(session, u, alasan=alasan)
            session.flush()
            return self._usulan_view(session, u)

    def separator_sheets(self, usulan_id: str, target: Path) -> int:
        """Print the usulan's separator sheets (one per missing line) to the PDF
        `target`; returns how many."""
        from client.intake import separator_sheets  # segno, img2pdf: when first asked

        return len(separator_sheets(self.store, usulan_id, target, self.rules))

    def layanan_choices(self) -> list[tuple[str, str]]:
        """(value, label) of every layanan."""
        return [(item.value, item.label) for item in Layanan]

    def jenis_choices(self, layanan: str) -> list[tuple[str, str]]:
        """(value, label) of the jenis a layanan offers, in configured order."""
        return jenis_choices(layanan, self.rules)

    def default_jenis(self, layanan: str) -> str:
        """The jenis a new usulan of `layanan` starts with (store.rules default_jenis)."""
        return default_jenis(layanan, self.rules)

    def optional_kodes(self, layanan: str, jenis: str) -> set[str]:
        """Checklist items that apply only to some pegawai (the trailing * of DOMAIN.md)."""
        items = checklist(Layanan(layanan), jenis, self.rules)
        return {item.kode for item in items if item.optional}

    def usulan_periods(self) -> list[date]:
        """Every periode some usulan has, newest first (for the list filter)."""
        with self.store.read() as session:
            stmt = (
                select(col(Usulan.periode))
                .where(col(Usulan.deleted).is_(False))
                .where(col(Usulan.periode).is_not(None))
                .distinct()
                .order_by(col(Usulan.periode).desc())
            )
            return [p for p in session.exec(stmt) if p is not None]

    def dokumen_choices(self, nip: str) -> list[DokumenChoice]:
        """The dokumen kinds the open usulan of this pegawai take, missing ones first."""
        kinds = dokumen_kinds(self.rules)
        choices: list[DokumenChoice] = []
        with self.store.read() as session:
            p = get_pegawai_by_nip(session, nip)
            if p is None:
                return []
            for u in wf.usulan_of_pegawai(session, p.id):
                if UsulanStatus(u.status) not in OPEN_STATUSES:
                    continue
                label = usulan_label(u, self.rules)
                for line in wf.checklist_lines(session, u, self.rules):
                    if line.state == "tidak_berlaku":
                        continue
                    choices.append(
                        DokumenChoice(
                            usulan_id=u.id,
                            usulan_label=label,
                            kode=line.item.kode,
                            nama=line.item.nama or kinds[line.item.kode].nama,
                            state=line.state,
                        )
                    )
        order = {"kurang": 0, "dikembalikan": 1, "terlalu_besar": 2, "ada": 3}
        return sorted(choices, key=lambda c: order.get(c.state, 9))

    def attach_file(self, usulan_id: str, kode: str, path: Path) -> ChecklistLineView:
        """Store a scan from disk (encrypted, content-addressed) and file it as this
        usulan's dokumen `kode`, replacing an earlier one of that kind.

        The file goes through intake's normalisation first, exactly as a scan dropped
        into the scan folder: an image or a large PDF becomes a PDF under its kind's size
        limit. One that cannot be brought under the limit, or cannot be read, is refused
        here with the reason, so nothing is ever queued that the server will refuse."""
        # Intake's converter (pikepdf, Pillow) loads when a file is attached, not at start-up.
        from client.intake import ConversionJob
        from client.intake.normalise import normalise

        blobs = self._blob_store()
        limit = self._size_limit(kode) or self.rules.dokumen.size_limit
        staging = blobs.root / "tmp"  # BlobStore.sweep clears *.part left by a crash
        try:
            staging.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=staging, suffix=".part") as work:
                target = Path(work) / "dokumen.pdf"
                settings = self.config.intake
                outcome = normalise(
                    ConversionJob(path, target, limit, settings.max_pages, settings.max_pixels)
                )
                if outcome.environment is not None:
                    raise ClientError(outcome.environment.message, outcome.environment.cause)
                if outcome.rejection is not None:
                    raise ClientError(
                        f"Dokumen tidak dapat dilampirkan: {outcome.rejection.message}",
                        outcome.rejection.kind,
                    )
                converted = outcome.converted
                assert converted is not None
                if converted.terlalu_besar:
                    raise ClientError(
                        f"Dokumen terlalu besar: setelah diperkecil masih "
                        f"{_mb(converted.size)}, batasnya {_mb(limit)}. Pindai ulang dengan "
                        "resolusi lebih rendah, atau pisahkan halamannya.",
                        f"size {converted.size} > limit {limit}",
                    )
                pages = converted.pages
                stored = blobs.put(target)
        except StoreError:
            raise
        except BerkasError as exc:
            if isinstance(exc, ClientError):
                raise
            # the cipher: keys unreadable, wrong passphrase, ...
            raise ClientError(f"Dokumen tidak dapat disimpan: {exc.message}", exc.cause) from exc
        except OSError as exc:
            raise ClientError("Dokumen tidak dapat dibaca.", repr(exc)) from exc
        with self.store.write() as session:
            if session.get(Blob, stored.sha256) is None:
                session.add(
                    Blob(
                        sha256=stored.sha256,
                        size=stored.size,
                        cipher_size=stored.cipher_size,
                        pages=pages,
                        created_at=now_iso(),
                    )
                )
            u = self._live_usulan(session, usulan_id)
            wf.attach_dokumen(
                session,
                u,
                kode,
                sha256=stored.sha256,
                size=stored.size,
                pages=pages,
                terlalu_besar=False,  # refused above otherwise
            )
        for line in self.usulan_detail(usulan_id).checklist:
            if line.kode == kode:
                return line
        raise ClientError("Dokumen tidak termasuk daftar periksa usulan ini.", kode)


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB".replace(".", ",")

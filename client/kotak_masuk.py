"""Kotak masuk: scans intake could not file by itself, their preview, filing by hand."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from client._core import ClientCore
from client.errors import BerkasError, ClientError
from client.views import InboxItemView, InboxPreview, UsulanView
from store import usulan as wf
from store.errors import StoreError
from store.models import InboxItem, Usulan
from store.pegawai import get_pegawai_by_nip
from store.rules import dokumen_kinds, exceeds_limit

if TYPE_CHECKING:  # intake (Pillow, pikepdf, watchdog) loads when first used
    from client.intake import IntakeService
    from client.intake.filing import Refiled


class NeedsConfirmation(ClientError):
    """The action is likely a mistake; the person must confirm it (then it is recorded)."""


class KotakMasukService(ClientCore):
    """The inbox of scans waiting for a person."""

    _intake_service: IntakeService | None = None

    def _inbox_view(self, session: Session, item: InboxItem) -> InboxItemView:
        kinds = dokumen_kinds(self.rules)
        kind = kinds.get(item.kode) if item.kode else None
        p = get_pegawai_by_nip(session, item.nip) if item.nip else None
        return InboxItemView(
            id=item.id,
            original_name=item.original_name,
            nip=item.nip,
            pegawai_id=p.id if p else "",
            pegawai_nama=p.nama if p else "",
            kode=item.kode,
            kode_nama=kind.nama if kind else "",
            pages=item.pages,
            size=item.size,
            size_limit=kind.size_limit if kind else 0,
            terlalu_besar=item.terlalu_besar
            or exceeds_limit(item.size, kind.size_limit if kind else 0),
            reason=item.reason,
            state=item.state,
            created_at=item.created_at,
        )

    def list_inbox(self, state: str = "menunggu", limit: int = 1000) -> list[InboxItemView]:
        """Scans waiting for a person (or, by state, those already handled)."""
        with self.store.read() as session:
            stmt = (
                select(InboxItem)
                .where(InboxItem.state == state)
                .order_by(col(InboxItem.created_at), col(InboxItem.id))
                .limit(limit)
            )
            return [self._inbox_view(session, item) for item in session.exec(stmt)]

    def inbox_item(self, item_id: str) -> InboxItemView:
        with self.store.read() as session:
            item = session.get(InboxItem, item_id)
            if item is None:
                raise ClientError("Pindaian tidak ditemukan di kotak masuk.", item_id)
            return self._inbox_view(session, item)

    def inbox_preview(self, item_id: str, max_lines: int = 12) -> InboxPreview:
        """Page count and, when the PDF has a text layer, the first lines of page one.

        The scan is decrypted into a temporary file inside the data folder (never
        /tmp: it is personal data) and removed at once."""
        from client.intake import first_page_text  # pikepdf: when first asked

        view = self.inbox_item(item_id)
        try:
            blobs = self._blob_store()
        except ClientError:
            return InboxPreview(view, view.pages, [], "Pratinjau belum tersedia di perangkat ini.")
        scratch = self.paths.data / "tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        with self.store.read() as session:
            item = session.get(InboxItem, item_id)
            sha = item.sha256 if item else ""
        with tempfile.TemporaryDirectory(dir=scratch) as tmp:
            target = Path(tmp) / "pratinjau.pdf"
            try:
                blobs.decrypt_to(sha, target)
            except StoreError as exc:
                return InboxPreview(view, view.pages, [], exc.message)
            except BerkasError:  # a blob this device cannot open (other keys)
                return InboxPreview(
                    view, view.pages, [], "Pindaian ini tidak dapat dibuka di perangkat ini."
                )
            pages, lines = first_page_text(target, max_lines)
        if pages < 0:
            return InboxPreview(view, view.pages, [], "Berkas ini tidak dapat dibaca sebagai PDF.")
        note = "" if lines else "Halaman pertama tidak memiliki lapisan teks (hasil pindai gambar)."
        return InboxPreview(view, pages, lines, note)

    def attach_inbox_item(
        self, item_id: str, usulan_id: str, kode: str, *, confirmed: bool = False
    ) -> None:
        """File a waiting scan (its blob is already stored) into this usulan as `kode`.

        A scan whose recognised NIP is another pegawai's, or whose file is already on
        another line of this usulan, is refused with NeedsConfirmation unless `confirmed`;
        a confirmed one is recorded in the usulan's history."""
        with self.store.write() as session:
            item = self._waiting_item(session, item_id)
            u = self._live_usulan(session, usulan_id)
            doubts = []
            if item.nip and item.nip != u.nip:
                doubts.append(
                    f"NIP pada pindaian ({item.nip}) bukan NIP pegawai usulan ini ({u.nip})"
                )
            others = [
                d.kode
                for d in wf.live_dokumen(session, u.id)
                if d.sha256 == item.sha256 and d.kode != kode
            ]
            if others:
                doubts.append(f"berkas yang sama sudah dilampirkan sebagai {', '.join(others)}")
            if doubts and not confirmed:
                raise NeedsConfirmation(
                    "Periksa dahulu: " + "; ".join(doubts) + ". Tetap lampirkan?", item_id
                )
            if doubts:
                wf.note(
                    session, u, f"Dilampirkan sebagai {kode} atas konfirmasi: " + "; ".join(doubts)
                )
            limit = self._size_limit(kode)
            wf.attach_dokumen(
                session,
                u,
                kode,
                sha256=item.sha256,
                size=item.size,
                pages=item.pages,
                terlalu_besar=item.terlalu_besar or exceeds_limit(item.size, limit),
                nip_terbaca=item.nip,
                kode_terbaca=item.kode,
            )
            item.state = "diproses"
            session.add(item)

    def assign_inbox_item(self, item_id: str, pegawai_nip: str, kode: str) -> UsulanView:
        """File a waiting scan for a pegawai as dokumen `kode`, through intake: into the
        pegawai's open usulan that takes `kode` (re-shrunk first if that kind's size
        limit is smaller). Returns that usulan."""
        dokumen = self._intake().assign_inbox_item(item_id, pegawai_nip, kode)
        with self.store.read() as session:
            u = session.get(Usulan, dokumen.usulan_id)
            if u is None:
                raise ClientError("Usulan tidak ditemukan.", dokumen.usulan_id)
            return self._usulan_view(session, u)

    def accept_inbox_suggestion(self, item_id: str) -> UsulanView:
        """The Kotak masuk's one key: file a waiting scan where its suggestion
        ("Dikenali dari isi: NIP ..., SK Pangkat", or "pengganti?") says."""
        dokumen = self._intake().accept_suggestion(item_id)
        with self.store.read() as session:
            u = session.get(Usulan, dokumen.usulan_id)
            if u is None:
                raise ClientError("Usulan tidak ditemukan.", dokumen.usulan_id)
            return self._usulan_view(session, u)

    def refile_waiting(self) -> list[Refiled]:
        """File the waiting scans whose usulan line has opened since they came (a new
        usulan, or one the BKD returned): intake's filing rules, no person needed.
        Only the store is touched (the scans are stored already): safe from any thread."""
        from client.intake.filing import refile_waiting

        return refile_waiting(self.store, self.rules)

    def discard_inbox_item(self, item_id: str, reason: str) -> Path | None:
        """Set a scan aside, through intake: it leaves the inbox with the reason kept,
        and a copy goes to the scan folder's karantina/ beside its reason (returned)."""
        return self._intake().discard_inbox_item(item_id, reason)

    def _intake(self) -> IntakeService:
        """Intake's service over this client's store and blob store, made on first use."""
        if self._intake_service is None:
            from client.intake import IntakeService

            settings = self.config.intake
            if not settings.scan_folders:  # as `berkas intake` does: HOME/pindai
                settings = settings.model_copy(update={"scan_folders": [self.paths.scans]})
            self._intake_service = IntakeService(
                self.store, self._blob_store(), settings, self.rules
            )
        return self._intake_service

    def _waiting_item(self, session: Session, item_id: str) -> InboxItem:
        item = session.get(InboxItem, item_id)
        if item is None:
            raise ClientError("Pindaian tidak ditemukan di kotak masuk.", item_id)
        if item.state != "menunggu":
            raise ClientError("Pindaian ini sudah diproses.", f"inbox {item_id} is {item.state}")
        return item

"""Filing a stored scan: to the pegawai's open usulan slot when the name says
all, otherwise to the Inbox with what was recognised. One transaction each:
the Blob row and the Dokumen (or InboxItem) land together or not at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from client.intake.converted import Converted
from client.intake.errors import IntakeError
from client.intake.naming import Recognition
from client.intake.rejection import Rejection
from store.blobs import StoredBlob
from store.database import Store
from store.models import Blob, Dokumen, InboxItem, Pegawai, Usulan
from store.pegawai import get_pegawai_by_nip
from store.rules import Layanan, RuleError, RulesConfig, checklist
from store.usulan import OPEN_VALUES, attach_dokumen, live_dokumen, note_history

NO_OPEN_USULAN = "belum ada usulan terbuka"


@dataclass(frozen=True)
class Filing:
    dokumen: Dokumen | None = None
    inbox: InboxItem | None = None
    reason: str = ""  # why it went to the Inbox
    duplicate_of: str = ""  # where the same content already was (nothing new written)
    blob_existed: bool = False
    replaced: Dokumen | None = None  # the earlier scan of a returned (BTS) line


@dataclass(frozen=True)
class Filed:
    """A scan converted, stored and filed (IntakeService.convert_and_file)."""

    stored: StoredBlob
    converted: Converted
    filing: Filing
    seconds: float  # what the conversion process spent

    def facts(self) -> dict[str, object]:
        """What an IntakeResult says of the stored file."""
        return {
            "sha256": self.stored.sha256,
            "size_after": self.stored.size,
            "pages": self.converted.pages,
            "terlalu_besar": self.converted.terlalu_besar,
            "duplicate": self.filing.blob_existed,
        }


class NotFiled(IntakeError):
    """Converting or filing a scan stopped. With a `rejection` the scan itself is bad (it
    goes to karantina); without one the machine failed and the original stays in place
    for a later pass."""

    def __init__(
        self, message: str, *, rejection: Rejection | None = None, seconds: float = 0.0
    ) -> None:
        super().__init__(message, rejection.cause if rejection is not None else "")
        self.rejection = rejection
        self.seconds = seconds


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def open_usulan_for(
    session: Session, pegawai: Pegawai, kode: str, rules: RulesConfig | None = None
) -> Usulan | None:
    """The pegawai's newest usulan still open for edit whose checklist has `kode`."""
    stmt = (
        select(Usulan)
        .where(Usulan.pegawai_id == pegawai.id)
        .where(col(Usulan.deleted).is_(False))
        .where(col(Usulan.status).in_(OPEN_VALUES))
        .order_by(col(Usulan.id).desc())  # UUIDv7: newest first
    )
    for usulan in session.exec(stmt):
        try:
            kodes = {item.kode for item in checklist(Layanan(usulan.layanan), usulan.jenis, rules)}
        except (RuleError, ValueError):
            continue
        if kode in kodes:
            return usulan
    return None


def _ensure_blob(session: Session, stored: StoredBlob, pages: int) -> bool:
    """Add the Blob row unless it is there; True when it already was."""
    if session.get(Blob, stored.sha256) is not None:
        return True
    session.add(
        Blob(
            sha256=stored.sha256,
            size=stored.size,
            cipher_size=stored.cipher_size,
            pages=pages,
            created_at=now_iso(),
        )
    )
    return False


def _inbox_reason(found: Recognition) -> str:
    if found.nip is None and found.kode is None:
        reason = "NIP dan jenis dokumen tidak terbaca dari nama berkas"
    elif found.nip is None:
        reason = "NIP tidak terbaca dari nama berkas atau foldernya"
    else:
        reason = "jenis dokumen tidak terbaca dari nama berkas"
    return f"{reason} ({found.note})" if found.note else reason


def replacement_note(kode: str, old: Dokumen, new_sha: str, source: str) -> str:
    """The history line saying which scan replaced which."""
    return (
        f"Dokumen {kode} diganti: pindaian {source!r} (sha256 {new_sha[:12]}) "
        f"menggantikan {old.nama_file} (sha256 {old.sha256[:12]})"
    )


def _sheet_usulan(
    session: Session, usulan_id: str, kode: str, opd_id: str, rules: RulesConfig | None = None
) -> tuple[Usulan | None, str]:
    """The usulan a separator sheet names, or why a part behind it cannot go there."""
    usulan = session.get(Usulan, usulan_id)
    if usulan is None or (usulan.opd_id != opd_id and opd_id):
        return None, f"lembar pemisah untuk usulan yang tidak ada di OPD ini ({usulan_id[:8]})"
    if usulan.deleted:
        return None, f"lembar pemisah untuk usulan yang sudah dibatalkan ({usulan_id[:8]})"
    if usulan.status not in OPEN_VALUES:
        return None, (
            f"lembar pemisah untuk usulan berstatus '{usulan.status}' "
            f"(NIP {usulan.nip}); dokumennya tidak dapat diubah"
        )
    try:
        kodes = {item.kode for item in checklist(Layanan(usulan.layanan), usulan.jenis, rules)}
    except (RuleError, ValueError):
        kodes = set()
    if kode not in kodes:
        return None, f"{kode} tidak termasuk daftar periksa usulan NIP {usulan.nip}"
    return usulan, ""


def file_stored(
    store: Store,
    stored: StoredBlob,
    *,
    pages: int,
    terlalu_besar: bool,
    found: Recognition,
    rules: RulesConfig | None = None,
    usulan_id: str | None = None,
    hold: str = "",
    note: str = "",
) -> Filing:
    """Write the Blob row and the Dokumen or InboxItem for a stored scan.

    `usulan_id` (from a separator sheet) names the usulan instead of the
    pegawai's newest open one. `hold` sends the scan to the Kotak masuk with
    that reason even when `found` is complete (a suggestion to accept).
    A line that already holds a different scan is replaced only when the BKD
    returned it (BTS); otherwise the new scan waits as "pengganti?". `note`
    (what the page said) is added to the reason when the scan waits.
    """
    with store.write() as session:
        existed = _ensure_blob(session, stored, pages)
        reason = hold
        usulan: Usulan | None = None
        if reason:
            pass
        elif usulan_id is not None and found.kode is not None:
            usulan, reason = _sheet_usulan(
                session, usulan_id, found.kode, store.context.opd_id, rules
            )
        elif found.nip is not None and found.kode is not None:
            pegawai = get_pegawai_by_nip(session, found.nip)
            usulan = (
                open_usulan_for(session, pegawai, found.kode, rules)
                if pegawai is not None
                else None
            )
            if pegawai is None:
                reason = f"tidak ada pegawai dengan NIP {found.nip}"
            elif usulan is None:
                reason = f"{NO_OPEN_USULAN} untuk NIP {found.nip} yang memerlukan {found.kode}"
        else:
            reason = _inbox_reason(found)
        nip = found.nip or ""
        if usulan is not None and found.kode is not None:
            nip = usulan.nip
            same_kind = [d for d in live_dokumen(session, usulan.id) if d.kode == found.kode]
            for dokumen in same_kind:
                if dokumen.sha256 == stored.sha256:
                    return Filing(
                        dokumen=dokumen, duplicate_of=dokumen.nama_file, blob_existed=True
                    )
            old = same_kind[0] if same_kind else None
            if old is not None and old.state != "dikembalikan":
                reason = (
                    f"pengganti? {found.kode} NIP {usulan.nip} sudah berisi pindaian lain "
                    f"({old.nama_file}); terima untuk menggantinya"
                )
            else:
                dokumen = attach_dokumen(
                    session,
                    usulan,
                    found.kode,
                    sha256=stored.sha256,
                    size=stored.size,
                    pages=pages,
                    terlalu_besar=terlalu_besar,
                    nip_terbaca=found.nip or "",
                    kode_terbaca=found.kode,
                )
                if old is not None:
                    note_history(
                        session,
                        usulan,
                        replacement_note(found.kode, old, stored.sha256, found.relative_name),
                    )
                return Filing(dokumen=dokumen, blob_existed=existed, replaced=old)
        if note and not hold:
            reason = f"{reason} ({note})"
        waiting = session.exec(
            select(InboxItem)
            .where(InboxItem.sha256 == stored.sha256)
            .where(InboxItem.state == "menunggu")
        ).first()
        if waiting is not None:
            return Filing(
                inbox=waiting,
                reason=waiting.reason,
                duplicate_of=f"Kotak masuk: {waiting.original_name}",
                blob_existed=True,
            )
        item = InboxItem(
            sha256=stored.sha256,
            original_name=found.relative_name,
            nip=nip,
            kode=found.kode or "",
            pages=pages,
            size=stored.size,
            terlalu_besar=terlalu_besar,
            reason=reason,
            created_at=now_iso(),
        )
        session.add(item)
        return Filing(inbox=item, reason=reason, blob_existed=existed)

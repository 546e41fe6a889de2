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
NO_PEGAWAI = "tidak ada pegawai dengan NIP"
PENGGANTI = "pengganti?"


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


@dataclass(frozen=True)
class _Line:
    """What filing a scan to one checklist line of an usulan did."""

    dokumen: Dokumen | None = None  # attached
    replaced: Dokumen | None = None  # the returned (BTS) scan it replaced
    duplicate: Dokumen | None = None  # the same content already there: nothing written
    reason: str = ""  # why it waits instead ("pengganti?")


def _file_to_line(
    session: Session,
    usulan: Usulan,
    kode: str,
    *,
    sha256: str,
    size: int,
    pages: int,
    terlalu_besar: bool,
    nip_terbaca: str,
    source: str,
) -> _Line:
    """Attach a stored scan as `kode` of `usulan` by intake's rule: an empty line takes
    it; a line the BKD returned (BTS) has its scan replaced, with a history line saying
    which replaced which; a line holding another scan is left alone ("pengganti?")."""
    same_kind = [d for d in live_dokumen(session, usulan.id) if d.kode == kode]
    for dokumen in same_kind:
        if dokumen.sha256 == sha256:
            return _Line(duplicate=dokumen)
    old = same_kind[0] if same_kind else None
    if old is not None and old.state != "dikembalikan":
        return _Line(
            reason=f"{PENGGANTI} {kode} NIP {usulan.nip} sudah berisi pindaian lain "
            f"({old.nama_file}); terima untuk menggantinya"
        )
    dokumen = attach_dokumen(
        session,
        usulan,
        kode,
        sha256=sha256,
        size=size,
        pages=pages,
        terlalu_besar=terlalu_besar,
        nip_terbaca=nip_terbaca,
        kode_terbaca=kode,
    )
    if old is not None:
        note_history(session, usulan, replacement_note(kode, old, sha256, source))
    return _Line(dokumen=dokumen, replaced=old)


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
                reason = f"{NO_PEGAWAI} {found.nip}"
            elif usulan is None:
                reason = f"{NO_OPEN_USULAN} untuk NIP {found.nip} yang memerlukan {found.kode}"
        else:
            reason = _inbox_reason(found)
        nip = found.nip or ""
        if usulan is not None and found.kode is not None:
            nip = usulan.nip
            line = _file_to_line(
                session,
                usulan,
                found.kode,
                sha256=stored.sha256,
                size=stored.size,
                pages=pages,
                terlalu_besar=terlalu_besar,
                nip_terbaca=found.nip or "",
                source=found.relative_name,
            )
            if line.duplicate is not None:
                return Filing(
                    dokumen=line.duplicate,
                    duplicate_of=line.duplicate.nama_file,
                    blob_existed=True,
                )
            if line.dokumen is not None:
                return Filing(dokumen=line.dokumen, blob_existed=existed, replaced=line.replaced)
            reason = line.reason
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


# -- the Kotak masuk tried again ------------------------------------------------------------


@dataclass(frozen=True)
class Refiled:
    """A waiting scan filed once its usulan line opened (refile_waiting)."""

    original_name: str
    nama_file: str
    usulan_id: str
    nip: str
    kode: str
    replaced: str = ""  # the returned scan's file name it replaced, if any


def waits_for_usulan(item: InboxItem) -> bool:
    """True for a scan that waits only because no usulan (or pegawai) was open for its
    recognised NIP and kind, so a new or returned usulan may take it without a person.
    Scans waiting for a decision (a suggestion from the page, "pengganti?", a sheet,
    an unread name) are not."""
    return (
        item.state == "menunggu"
        and bool(item.nip)
        and bool(item.kode)
        and (item.reason.startswith(NO_OPEN_USULAN) or item.reason.startswith(NO_PEGAWAI))
    )


def refile_waiting(store: Store, rules: RulesConfig | None = None) -> list[Refiled]:
    """File every Kotak masuk scan that waited for an usulan whose line is open now, by
    intake's rules (a returned line's scan is replaced, a filled line makes it wait as
    "pengganti?"). One transaction per scan: the Dokumen row and the item leaving the
    inbox commit together, so a crash loses nothing and a second run finds it done."""
    with store.read() as session:
        ids = [
            item.id
            for item in session.exec(
                select(InboxItem)
                .where(InboxItem.state == "menunggu")
                .order_by(col(InboxItem.created_at), col(InboxItem.id))
            )
            if waits_for_usulan(item)
        ]
    done: list[Refiled] = []
    for item_id in ids:
        with store.write() as session:
            item = session.get(InboxItem, item_id)
            if item is None or not waits_for_usulan(item):
                continue  # filed or set aside meanwhile
            pegawai = get_pegawai_by_nip(session, item.nip)
            usulan = open_usulan_for(session, pegawai, item.kode, rules) if pegawai else None
            if usulan is None:
                if pegawai is not None and item.reason.startswith(NO_PEGAWAI):
                    item.reason = (
                        f"{NO_OPEN_USULAN} untuk NIP {item.nip} yang memerlukan {item.kode}"
                    )
                    session.add(item)
                continue
            line = _file_to_line(
                session,
                usulan,
                item.kode,
                sha256=item.sha256,
                size=item.size,
                pages=item.pages,
                terlalu_besar=item.terlalu_besar,
                nip_terbaca=item.nip,
                source=item.original_name,
            )
            if line.dokumen is None and line.duplicate is None:
                item.reason = line.reason  # a person decides now
                session.add(item)
                continue
            item.state = "diproses"
            session.add(item)
            if line.dokumen is not None:
                done.append(
                    Refiled(
                        original_name=item.original_name,
                        nama_file=line.dokumen.nama_file,
                        usulan_id=usulan.id,
                        nip=usulan.nip,
                        kode=item.kode,
                        replaced=line.replaced.nama_file if line.replaced else "",
                    )
                )
    return done


def refiled_message(refiled: list[Refiled]) -> str:
    """What the person reads after waiting scans were filed ("" when none were)."""
    if not refiled:
        return ""
    targets = sorted({f"NIP {r.nip} ({r.kode})" for r in refiled})
    shown = ", ".join(targets[:3]) + (
        f" dan {len(targets) - 3} lainnya" if len(targets) > 3 else ""
    )
    replaced = sum(1 for r in refiled if r.replaced)
    tail = f"; {replaced} menggantikan dokumen yang dikembalikan BKD" if replaced else ""
    return f"{len(refiled)} pindaian dari Kotak masuk dilampirkan ke usulan {shown}{tail}."

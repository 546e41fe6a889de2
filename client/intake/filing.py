"""Filing a stored scan: to the pegawai's open usulan slot when the name says
all, otherwise to the Inbox with what was recognised. One transaction each:
the Blob row and the Dokumen (or InboxItem) land together or not at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from client.intake.naming import Recognition
from store.blobs import StoredBlob
from store.database import Store
from store.models import Blob, Dokumen, InboxItem, Pegawai, Usulan
from store.pegawai import get_pegawai_by_nip
from store.rules import Layanan, RuleError, RulesConfig, checklist
from store.usulan import OPEN_VALUES, attach_dokumen, live_dokumen

NO_OPEN_USULAN = "belum ada usulan terbuka"


@dataclass(frozen=True)
class Filing:
    dokumen: Dokumen | None = None
    inbox: InboxItem | None = None
    reason: str = ""  # why it went to the Inbox
    duplicate_of: str = ""  # where the same content already was (nothing new written)
    blob_existed: bool = False


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


def file_stored(
    store: Store,
    stored: StoredBlob,
    *,
    pages: int,
    terlalu_besar: bool,
    found: Recognition,
    rules: RulesConfig | None = None,
) -> Filing:
    """Write the Blob row and the Dokumen or InboxItem for a stored scan."""
    with store.write() as session:
        existed = _ensure_blob(session, stored, pages)
        reason = ""
        if found.nip is not None and found.kode is not None:
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
                for dokumen in live_dokumen(session, usulan.id):
                    if dokumen.kode == found.kode and dokumen.sha256 == stored.sha256:
                        return Filing(
                            dokumen=dokumen, duplicate_of=dokumen.nama_file, blob_existed=True
                        )
                dokumen = attach_dokumen(
                    session,
                    usulan,
                    found.kode,
                    sha256=stored.sha256,
                    size=stored.size,
                    pages=pages,
                    terlalu_besar=terlalu_besar,
                )
                return Filing(dokumen=dokumen, blob_existed=existed)
        else:
            reason = _inbox_reason(found)
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
            nip=found.nip or "",
            kode=found.kode or "",
            pages=pages,
            size=stored.size,
            terlalu_besar=terlalu_besar,
            reason=reason,
            created_at=now_iso(),
        )
        session.add(item)
        return Filing(inbox=item, reason=reason, blob_existed=existed)

"""The usulan workflow, offline: create, checklist, attach dokumen, submit, move.

Every status move goes through `move_status`, which checks DOMAIN.md's state
machine (store.rules.status) and writes the history entry in the same
transaction. The server runs the same checks on push.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlmodel import Session, col, select

from store.database import WriteContext, get_meta, set_meta
from store.errors import StoreError
from store.models import Blob, Dokumen, InboxItem, Pegawai, Usulan, UsulanHistory
from store.rules import (
    OPEN_STATUSES,
    ChecklistItem,
    Layanan,
    Role,
    RuleError,
    RulesConfig,
    UsulanStatus,
    check_transition,
    checklist,
    dokumen_kinds,
    jenis_options,
)

# The statuses whose dokumen the OPD may still change, as stored (SQL `IN` lists);
# the fact itself is store.rules.OPEN_STATUSES.
OPEN_VALUES = tuple(sorted(status.value for status in OPEN_STATUSES))


@dataclass(frozen=True)
class ChecklistLine:
    """One checklist item and where it stands in this usulan."""

    item: ChecklistItem
    required: bool
    dokumen: Dokumen | None
    # ada | kurang | terlalu_besar | dikembalikan | tidak_berlaku
    state: str
    # Why the OPD marked the line "tidak berlaku"; "" when it did not (an optional line
    # that was never marked as applying is not needed either, with no reason given).
    alasan_tidak_berlaku: str = ""


def _context(session: Session) -> WriteContext:
    ctx = session.info.get("berkas_context")
    if not isinstance(ctx, WriteContext):
        raise StoreError("Sesi tanpa konteks penulis.", "session lacks WriteContext")
    return ctx


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def marked_tidak_berlaku(item: ChecklistItem, tidak_berlaku: Mapping[str, str] | None) -> str:
    """The reason this line is marked "tidak berlaku", or "" when it is not (or the
    checklist does not allow it there, or the reason is empty: then the mark is void)."""
    if not item.boleh_tidak_berlaku or not tidak_berlaku:
        return ""
    reason = tidak_berlaku.get(item.kode)
    return reason.strip() if isinstance(reason, str) else ""


def required_kodes(
    layanan: str,
    jenis: str,
    berlaku: Iterable[str],
    config: RulesConfig | None = None,
    tidak_berlaku: Mapping[str, str] | None = None,
) -> list[str]:
    """The dokumen kinds this usulan needs: mandatory items plus the optional
    ones marked as applying, less the lines marked "tidak berlaku" with a reason."""
    applies = set(berlaku)
    return [
        item.kode
        for item in checklist(Layanan(layanan), jenis, config)
        if (not item.optional or item.kode in applies)
        and not marked_tidak_berlaku(item, tidak_berlaku)
    ]


def missing_kodes(
    layanan: str,
    jenis: str,
    berlaku: Iterable[str],
    present_ok: Iterable[str],
    config: RulesConfig | None = None,
    tidak_berlaku: Mapping[str, str] | None = None,
) -> list[str]:
    """Required kinds with no acceptable dokumen; pure, shared with the server."""
    have = set(present_ok)
    needed = required_kodes(layanan, jenis, berlaku, config, tidak_berlaku)
    return [k for k in needed if k not in have]


def live_dokumen(session: Session, usulan_id: str) -> list[Dokumen]:
    stmt = (
        select(Dokumen)
        .where(Dokumen.usulan_id == usulan_id)
        .where(col(Dokumen.deleted).is_(False))
        .order_by(col(Dokumen.kode))
    )
    return list(session.exec(stmt))


def checklist_lines(
    session: Session, usulan: Usulan, config: RulesConfig | None = None
) -> list[ChecklistLine]:
    by_kode = {d.kode: d for d in live_dokumen(session, usulan.id)}
    applies = set(usulan.berlaku or [])
    lines = []
    for item in checklist(Layanan(usulan.layanan), usulan.jenis, config):
        alasan = marked_tidak_berlaku(item, usulan.tidak_berlaku)
        required = (not item.optional or item.kode in applies) and not alasan
        dok = by_kode.get(item.kode)
        missing_state = "kurang" if required else "tidak_berlaku"
        state = dok.state if dok is not None else missing_state
        lines.append(
            ChecklistLine(
                item=item,
                required=required,
                dokumen=dok,
                state=state,
                alasan_tidak_berlaku=alasan,
            )
        )
    return lines


def missing_for(session: Session, usulan: Usulan, config: RulesConfig | None = None) -> list[str]:
    """Kinds still needed before this usulan can be submitted."""
    ok = [d.kode for d in live_dokumen(session, usulan.id) if d.state == "ada"]
    return missing_kodes(
        usulan.layanan, usulan.jenis, usulan.berlaku or [], ok, config, usulan.tidak_berlaku
    )


def tandai_tidak_berlaku(
    session: Session,
    usulan: Usulan,
    kode: str,
    alasan: str,
    config: RulesConfig | None = None,
) -> None:
    """Mark a checklist line "tidak berlaku" with the reason the verifikator reads; the line
    then counts as satisfied for submission. Only where the checklist allows it, only while
    the OPD may change the usulan, never over an attached dokumen (remove it first)."""
    _require_editable(usulan)
    item = _checklist_item(usulan, kode, config)
    if not item.boleh_tidak_berlaku:
        raise StoreError(
            f"{item.nama} wajib untuk usulan ini; tidak dapat ditandai tidak berlaku.",
            f"{kode} does not allow tidak berlaku in {usulan.layanan}/{usulan.jenis}",
        )
    reason = " ".join(alasan.split())
    if not reason:
        raise StoreError(
            f"Tuliskan alasan {item.nama} tidak berlaku (dibaca verifikator).", "empty reason"
        )
    if any(d.kode == kode for d in live_dokumen(session, usulan.id)):
        raise StoreError(
            f"{item.nama} sudah dilampirkan; hapus dokumennya dahulu bila memang tidak berlaku.",
            f"{kode} has a live dokumen",
        )
    marks = dict(usulan.tidak_berlaku or {})
    marks[kode] = reason
    usulan.tidak_berlaku = marks
    usulan.berlaku = [k for k in (usulan.berlaku or []) if k != kode]
    session.add(usulan)
    note_history(session, usulan, f"{item.nama} ditandai tidak berlaku: {reason}")


def cabut_tidak_berlaku(
    session: Session, usulan: Usulan, kode: str, config: RulesConfig | None = None
) -> None:
    """Undo a "tidak berlaku" mark while the usulan is editable: the line is needed again
    (an optional line goes back to applying only when marked so)."""
    _require_editable(usulan)
    item = _checklist_item(usulan, kode, config)
    marks = dict(usulan.tidak_berlaku or {})
    if marks.pop(kode, None) is None:
        raise StoreError(f"{item.nama} tidak sedang ditandai tidak berlaku.", f"{kode} unmarked")
    usulan.tidak_berlaku = marks
    session.add(usulan)
    note_history(session, usulan, f"Tanda tidak berlaku {item.nama} dicabut")


def _checklist_item(usulan: Usulan, kode: str, config: RulesConfig | None) -> ChecklistItem:
    for item in checklist(Layanan(usulan.layanan), usulan.jenis, config):
        if item.kode == kode:
            return item
    raise StoreError(
        f"Dokumen {kode} tidak termasuk daftar periksa usulan ini.",
        f"{kode} not in checklist of {usulan.layanan}/{usulan.jenis}",
    )


def create_usulan(
    session: Session,
    pegawai: Pegawai,
    layanan: str,
    jenis: str,
    *,
    periode: date | None = None,
    berlaku: Sequence[str] = (),
    catatan: str = "",
) -> Usulan:
    """A new draft usulan, with its first history entry."""
    try:
        layanan_value = Layanan(layanan)
    except ValueError:
        raise StoreError(f"Layanan tidak dikenal: {layanan}.", layanan) from None
    if jenis not in jenis_options(layanan_value):
        raise StoreError(
            f"Jenis {jenis!r} tidak ada untuk layanan {layanan}.",
            f"jenis {jenis!r} not in {jenis_options(layanan_value)}",
        )
    same = duplicate_of(session, pegawai.id, layanan_value.value, periode)
    if same is not None:
        when = f" periode {same.periode.isoformat()}" if same.periode else ""
        raise DuplicateUsulan(
            f"{pegawai.nama} sudah punya usulan {layanan_value.label}{when} "
            f"(status {UsulanStatus(same.status).label}). Buka usulan itu, atau batalkan "
            "dahulu bila keliru.",
            same.id,
        )
    usulan = Usulan(
        pegawai_id=pegawai.id,
        nip=pegawai.nip,
        layanan=layanan_value.value,
        jenis=jenis,
        periode=periode,
        berlaku=list(berlaku),
        catatan=catatan,
        opd_id=pegawai.opd_id,
    )
    session.add(usulan)
    _history(session, usulan, "", UsulanStatus.DRAFT.value, "Usulan dibuat")
    return usulan


def note(session: Session, usulan: Usulan, alasan: str) -> None:
    """A line in the usulan's history without a status move (a confirmed doubt)."""
    _history(session, usulan, usulan.status, usulan.status, alasan)


def batalkan(session: Session, usulan: Usulan, alasan: str) -> None:
    """Cancel a draft made by mistake: a tombstone that syncs, its dokumen with it (their
    uploads are then withdrawn), the reason in the history. Only a draft: one the BKD has
    seen stays on record (the server refuses the tombstone too)."""
    if usulan.status != UsulanStatus.DRAFT.value:
        raise StoreError(
            "Hanya usulan berstatus draf yang dapat dibatalkan.",
            f"usulan {usulan.id} status {usulan.status}",
        )
    if not alasan.strip():
        raise StoreError("Tuliskan alasan pembatalan.", "empty reason")
    _history(session, usulan, usulan.status, usulan.status, f"Dibatalkan: {alasan.strip()}")
    for dokumen in live_dokumen(session, usulan.id):
        dokumen.deleted = True
        session.add(dokumen)
    usulan.deleted = True
    session.add(usulan)


class DuplicateUsulan(StoreError):
    """A second usulan in progress for the same pegawai, layanan and period; `cause` is
    the existing usulan's id (the screen opens it)."""


# An usulan in one of these is still in progress: a second one beside it is a duplicate.
_IN_PROGRESS = frozenset(
    s.value for s in UsulanStatus if s not in (UsulanStatus.DITOLAK, UsulanStatus.SELESAI)
)


def duplicate_of(
    session: Session, pegawai_id: str, layanan: str, periode: date | None
) -> Usulan | None:
    """The pegawai's usulan in progress of this layanan and period, if there is one.
    Without a period there is nothing to call the same usulan by (the client always
    gives KP and pensiun theirs)."""
    if periode is None:
        return None
    for u in usulan_of_pegawai(session, pegawai_id):
        if u.layanan == layanan and u.periode == periode and u.status in _IN_PROGRESS:
            return u
    return None


def _history(session: Session, usulan: Usulan, dari: str, ke: str, alasan: str) -> None:
    ctx = _context(session)
    session.add(
        UsulanHistory(
            usulan_id=usulan.id,
            opd_id=usulan.opd_id,
            dari_status=dari,
            ke_status=ke,
            oleh_perangkat=ctx.device_id,
            oleh_nama=ctx.person,
            waktu=_now_iso(),
            alasan=alasan,
        )
    )


def note_history(session: Session, usulan: Usulan, alasan: str) -> None:
    """A history entry that moves nothing (e.g. which scan replaced which);
    `dari_status` and `ke_status` are both the current status."""
    _history(session, usulan, usulan.status, usulan.status, alasan)


def _require_editable(usulan: Usulan) -> None:
    if usulan.status not in OPEN_VALUES:
        raise StoreError(
            f"Usulan berstatus '{usulan.status}' tidak dapat diubah dokumennya.",
            f"usulan {usulan.id} status {usulan.status}",
        )


def attach_dokumen(
    session: Session,
    usulan: Usulan,
    kode: str,
    *,
    sha256: str,
    size: int,
    pages: int,
    terlalu_besar: bool = False,
    nip_terbaca: str = "",
    kode_terbaca: str = "",
) -> Dokumen:
    """File a stored scan as this usulan's dokumen of kind `kode`, replacing
    (tombstoning) any earlier one of the same kind. `nip_terbaca` and `kode_terbaca`
    are what intake read on the scan, if anything (the BKD is warned of another NIP)."""
    _require_editable(usulan)
    kinds = {item.kode for item in checklist(Layanan(usulan.layanan), usulan.jenis)}
    if kode not in kinds:
        raise StoreError(
            f"Dokumen {kode} tidak termasuk daftar periksa usulan ini.",
            f"{kode} not in checklist of {usulan.layanan}/{usulan.jenis}",
        )
    for old in live_dokumen(session, usulan.id):
        if old.kode == kode:
            old.deleted = True
            session.add(old)
    marks = dict(usulan.tidak_berlaku or {})
    if marks.pop(kode, None) is not None:
        # A file for the line says it applies after all.
        usulan.tidak_berlaku = marks
        session.add(usulan)
        nama = _checklist_item(usulan, kode, None).nama
        note_history(session, usulan, f"Tanda tidak berlaku {nama} dicabut: dokumen dilampirkan")
    dokumen = Dokumen(
        usulan_id=usulan.id,
        opd_id=usulan.opd_id,
        kode=kode,
        sha256=sha256,
        size=size,
        pages=pages,
        nama_file=f"{usulan.nip}_{kode}.pdf",
        state="terlalu_besar" if terlalu_besar else "ada",
        nip_terbaca=nip_terbaca,
        kode_terbaca=kode_terbaca,
    )
    session.add(dokumen)
    return dokumen


def remove_dokumen(session: Session, dokumen: Dokumen) -> None:
    usulan = session.get(Usulan, dokumen.usulan_id)
    if usulan is not None:
        _require_editable(usulan)
    dokumen.deleted = True
    session.add(dokumen)


def move_status(
    session: Session,
    usulan: Usulan,
    target: UsulanStatus,
    role: Role,
    *,
    alasan: str = "",
    config: RulesConfig | None = None,
) -> None:
    """Move an usulan along the state machine, recording who, when and why."""
    current = UsulanStatus(usulan.status)
    try:
        check_transition(current, target, role)
    except RuleError as exc:
        raise StoreError(exc.message, f"{current} -> {target} as {role}") from exc
    if target is UsulanStatus.DIAJUKAN:
        missing = missing_for(session, usulan, config)
        if missing:
            kinds = dokumen_kinds(config)
            names = [kinds[k].nama if k in kinds else k for k in missing]
            raise StoreError(
                "Usulan belum lengkap; dokumen yang kurang: " + ", ".join(names) + ".",
                f"missing {missing}",
            )
    usulan.status = target.value
    session.add(usulan)
    _history(session, usulan, current.value, target.value, alasan)


def ajukan(session: Session, usulan: Usulan, *, alasan: str = "Diajukan ke BKD") -> None:
    """The OPD submits (or resubmits after BTS) a complete usulan."""
    move_status(session, usulan, UsulanStatus.DIAJUKAN, Role.OPD, alasan=alasan)


def kembalikan(
    session: Session,
    usulan: Usulan,
    catatan: str,
    catatan_dokumen: dict[str, str] | None = None,
) -> None:
    """BTS by a verifikator: back to the OPD with notes, per dokumen where given."""
    notes = catatan_dokumen or {}
    by_kode = {d.kode: d for d in live_dokumen(session, usulan.id)}
    unknown = [k for k in notes if k not in by_kode]
    if unknown:
        raise StoreError(
            "Dokumen tidak ada pada usulan ini: " + ", ".join(unknown) + ".", f"{unknown}"
        )
    move_status(session, usulan, UsulanStatus.DIKEMBALIKAN, Role.VERIFIKATOR, alasan=catatan)
    usulan.catatan_verifikator = catatan
    session.add(usulan)
    for kode, note in notes.items():
        dok = by_kode[kode]
        dok.state = "dikembalikan"
        dok.catatan_verifikator = note
        session.add(dok)


def history_of(session: Session, usulan_id: str) -> list[UsulanHistory]:
    stmt = (
        select(UsulanHistory)
        .where(UsulanHistory.usulan_id == usulan_id)
        .order_by(col(UsulanHistory.waktu), col(UsulanHistory.updated_at))
    )
    return list(session.exec(stmt))


def usulan_of_pegawai(session: Session, pegawai_id: str) -> list[Usulan]:
    stmt = (
        select(Usulan)
        .where(Usulan.pegawai_id == pegawai_id)
        .where(col(Usulan.deleted).is_(False))
        .order_by(col(Usulan.updated_at).desc())
    )
    return list(session.exec(stmt))


def unsent_blobs(session: Session) -> tuple[list[Blob], set[str]]:
    """Blobs not yet on the server, oldest first, and those among them that were
    withdrawn: every dokumen that named one was replaced or removed, and no Inbox item
    still waits with it (the sync engine's upload lane and the Sinkronisasi screen
    both count by this). A withdrawn blob is never uploaded (its upload, if one was
    started, is cancelled on the server); attached again, it is wanted again."""
    blobs = list(
        session.exec(
            select(Blob)
            .where(col(Blob.uploaded).is_(False))
            .order_by(col(Blob.created_at), col(Blob.sha256))
        )
    )
    shas = [b.sha256 for b in blobs]
    named: set[str] = set()
    live: set[str] = set()
    for start in range(0, len(shas), 500):
        chunk = shas[start : start + 500]
        for sha, deleted in session.exec(
            select(Dokumen.sha256, Dokumen.deleted).where(col(Dokumen.sha256).in_(chunk))
        ):
            named.add(sha)
            if not deleted:
                live.add(sha)
        live.update(
            session.exec(
                select(InboxItem.sha256)
                .where(col(InboxItem.sha256).in_(chunk))
                .where(InboxItem.state == "menunggu")
            )
        )
    return blobs, named - live


REFUSED_UPLOADS = "upload_refused"


def refused_uploads(session: Session) -> dict[str, str]:
    """sha256 -> the server's reason, for files the server refused to take (kept aside
    until the person drops the dokumen or asks to try again)."""
    try:
        found = json.loads(get_meta(session, REFUSED_UPLOADS, "{}"))
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def retry_upload(session: Session, sha256: str) -> None:
    refused = refused_uploads(session)
    if refused.pop(sha256, None) is not None:
        set_meta(session, REFUSED_UPLOADS, json.dumps(refused, sort_keys=True))

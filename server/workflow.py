"""The usulan workflow on push: DOMAIN.md's state machine and the submission checklist.

The rules themselves live in store.rules (check_transition) and store.usulan
(missing_kodes); this module only feeds them what the server knows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from store.rules import (
    OPEN_STATUSES,
    Layanan,
    Role,
    RuleError,
    UsulanStatus,
    check_transition,
    jenis_options,
)
from store.usulan import missing_kodes


class WorkflowRefusal(Exception):
    """A move the workflow forbids; `args[0]` is the Bahasa reason."""


def check_layanan(data: Mapping[str, Any]) -> None:
    """The usulan's layanan and jenis must be ones the rules know."""
    try:
        layanan = Layanan(str(data.get("layanan")))
    except ValueError:
        raise WorkflowRefusal(f"Layanan tidak dikenal: {data.get('layanan')}.") from None
    if data.get("jenis") not in jenis_options(layanan):
        raise WorkflowRefusal(f"Jenis {data.get('jenis')!r} tidak ada untuk layanan {layanan}.")


def check_new_usulan_status(status: Any) -> None:
    if status != UsulanStatus.DRAFT.value:
        raise WorkflowRefusal("Usulan baru harus berstatus 'draft'.")


def check_move(current: str, target: Any, role: Role) -> UsulanStatus:
    """The target status, if `role` may move an usulan from `current` to it."""
    try:
        target_status = UsulanStatus(str(target))
        current_status = UsulanStatus(current)
    except ValueError:
        raise WorkflowRefusal(f"Status usulan tidak dikenal: {target}.") from None
    try:
        check_transition(current_status, target_status, role)
    except RuleError as exc:
        raise WorkflowRefusal(exc.message + ".") from None
    return target_status


def check_complete(ok_kodes: Iterable[str], usulan: Mapping[str, Any]) -> None:
    """An usulan may be submitted only with every required dokumen present ("ada");
    `ok_kodes` are the kinds of its live dokumen in state "ada"."""
    berlaku: Iterable[str] = usulan.get("berlaku") or []
    try:
        missing = missing_kodes(
            str(usulan.get("layanan")),
            str(usulan.get("jenis")),
            berlaku,
            ok_kodes,
            tidak_berlaku=usulan.get("tidak_berlaku") or {},
        )
    except (RuleError, ValueError) as exc:
        raise WorkflowRefusal(f"Daftar periksa usulan tidak dapat ditentukan: {exc}.") from None
    if missing:
        raise WorkflowRefusal(
            "Usulan belum lengkap; dokumen yang kurang: " + ", ".join(missing) + "."
        )


def is_open(status: Any) -> bool:
    """Whether the OPD may still change this usulan's dokumen."""
    try:
        return UsulanStatus(str(status)) in OPEN_STATUSES
    except ValueError:
        return False


def check_outcome_fields(target: UsulanStatus, usulan: Mapping[str, Any]) -> None:
    """A BTS carries the verifikator's notes; `selesai` carries the pertek/SK number and date."""
    if (
        target is UsulanStatus.DIKEMBALIKAN
        and not str(usulan.get("catatan_verifikator") or "").strip()
    ):
        raise WorkflowRefusal("Usulan yang dikembalikan (BTS) wajib disertai catatan verifikator.")
    if target is UsulanStatus.SELESAI and (
        not str(usulan.get("nomor_pertek") or "").strip() or not usulan.get("tanggal_pertek")
    ):
        raise WorkflowRefusal("Usulan selesai wajib disertai nomor dan tanggal pertek/SK.")

"""Who may read and write which records. Pure rules over the caller's role and OPD.

An OPD device reads and writes its own OPD's records only; a verifikator device reads all
and writes only the verification fields (and creates usulan history entries). Anything
that is not the caller's is answered exactly like something that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from store.rules import Role

# What a verifikator device may change, per table; it creates only history entries.
VERIFIER_FIELDS: Final[Mapping[str, frozenset[str]]] = {
    "usulan": frozenset({"status", "catatan_verifikator", "nomor_pertek", "tanggal_pertek"}),
    "dokumen": frozenset({"state", "catatan_verifikator"}),
}
VERIFIER_CREATES: Final = frozenset({"usulan_history"})

# Fields only the BKD fills: an OPD device creates them empty and never changes them.
BKD_ONLY_FIELDS: Final[Mapping[str, Mapping[str, Any]]] = {
    "usulan": {"catatan_verifikator": "", "nomor_pertek": "", "tanggal_pertek": None},
    "dokumen": {"catatan_verifikator": ""},
}
# Dokumen states only a verifikator sets.
BKD_ONLY_DOKUMEN_STATES: Final = frozenset({"dikembalikan"})
DOKUMEN_STATES: Final = frozenset({"ada", "terlalu_besar", "dikembalikan"})

NOT_FOUND_REASON: Final = "Data tidak ditemukan atau bukan milik OPD perangkat ini."
NOT_OWN_OPD_REASON: Final = "Perangkat ini hanya boleh menulis data OPD-nya sendiri."


def can_read(role: Role, caller_opd: str, record_opd: str) -> bool:
    """Whether a device may see a record of `record_opd`."""
    return role is Role.VERIFIKATOR or caller_opd == record_opd


def verifier_refusal(table: str, creating: bool, named: set[str], deleting: bool) -> str | None:
    """Why a verifikator may not make this change, or None if it may. `named` is every
    field the op names, whether its value changes or not."""
    if creating:
        if table in VERIFIER_CREATES:
            return None
        return "Verifikator BKD tidak dapat membuat data ini; hanya OPD yang dapat."
    if deleting:
        return "Verifikator BKD tidak dapat menghapus data."
    allowed = VERIFIER_FIELDS.get(table, frozenset())
    extra = sorted(named - allowed)
    if extra:
        return "Verifikator BKD hanya dapat mengubah kolom verifikasi; ditolak: " + ", ".join(extra)
    return None


def opd_refusal(
    table: str, creating: bool, named: Mapping[str, Any], merged: Mapping[str, Any]
) -> str | None:
    """Why an OPD device may not make this change (BKD-only fields), or None if it may.
    `named` is {field: new value} of every field the op names, whether it changes or not."""
    bkd_only = BKD_ONLY_FIELDS.get(table, {})
    for name, empty in bkd_only.items():
        if creating and merged.get(name, empty) not in (empty, None):
            return f"Kolom {name} hanya diisi oleh verifikator BKD."
        if not creating and name in named:
            return f"Kolom {name} hanya dapat diubah oleh verifikator BKD."
    if table == "dokumen" and "state" in named and named["state"] in BKD_ONLY_DOKUMEN_STATES:
        return "Hanya verifikator BKD yang dapat mengembalikan dokumen."
    return None

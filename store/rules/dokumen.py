"""Dokumen kinds, the checklist per layanan and jenis, and codes in scan names."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from store.rules._inputs import as_enum, as_text
from store.rules._kinds import Layanan
from store.rules.config import RulesConfig, alias_key, resolve_config
from store.rules.errors import RuleError

__all__ = [
    "ChecklistItem",
    "DokumenKind",
    "Layanan",
    "checklist",
    "default_jenis",
    "dokumen_kinds",
    "exceeds_limit",
    "find_kode_in_name",
    "jenis_options",
    "match_kode",
]

_TOKEN = re.compile(r"[a-z]+|[0-9]+")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")
_DIRECTORY = re.compile(r"^.*[\\/]")


@dataclass(frozen=True)
class DokumenKind:
    """A kind of supporting document; `kode` is the KODE in `<NIP>_<KODE>.pdf`."""

    kode: str
    nama: str
    size_limit: int
    multi_page: bool
    judul: tuple[str, ...] = ()  # title words on the page (read with OCR)


@dataclass(frozen=True)
class ChecklistItem:
    """One line of a checklist; `optional` items only apply to some pegawai;
    `boleh_tidak_berlaku` lines may be marked "tidak berlaku" with a reason."""

    kode: str
    nama: str
    optional: bool
    boleh_tidak_berlaku: bool = False


def dokumen_kinds(config: RulesConfig | None = None) -> dict[str, DokumenKind]:
    """Every configured dokumen kind by code, with its size limit in bytes."""
    rules = resolve_config(config).dokumen
    return {
        kode: DokumenKind(
            kode=kode,
            nama=kind.nama,
            size_limit=rules.size_limit_of(kode),
            multi_page=kind.multi_page,
            judul=kind.judul,
        )
        for kode, kind in rules.kinds.items()
    }


def _layanan(layanan: Layanan | str) -> Layanan:
    return as_enum(layanan, Layanan, "layanan", "Layanan")


def jenis_options(layanan: Layanan | str, config: RulesConfig | None = None) -> list[str]:
    """The jenis a `layanan` offers, in configured order (e.g. KP: reguler, ...)."""
    return list(resolve_config(config).checklists[_layanan(layanan)])


def default_jenis(layanan: Layanan | str, config: RulesConfig | None = None) -> str:
    """The jenis an usulan of `layanan` gets when none is chosen: the first configured.

    KP: reguler, pensiun: bup, pindah: pindah with the shipped checklists. The
    CLI and the new-usulan dialog both start from it.
    """
    return jenis_options(layanan, config)[0]  # the config refuses a layanan without jenis


def checklist(
    layanan: Layanan, jenis: str, config: RulesConfig | None = None
) -> list[ChecklistItem]:
    """The dokumen an usulan of `layanan`/`jenis` needs, in order."""
    cfg = resolve_config(config)
    service = _layanan(layanan)
    jenis = as_text(jenis, "jenis", "Jenis layanan").strip()
    if jenis not in cfg.checklists[service]:
        raise RuleError(
            f"Jenis {jenis!r} tidak dikenal untuk layanan {service.label} "
            f"(pilihan: {', '.join(cfg.checklists[service])})",
            field="jenis",
        )
    kinds = cfg.dokumen.kinds
    return [
        ChecklistItem(
            kode=item.kode,
            nama=item.nama if item.nama is not None else kinds[item.kode].nama,
            optional=item.optional,
            boleh_tidak_berlaku=item.optional or item.boleh_tidak_berlaku,
        )
        for item in cfg.checklist_items(service, jenis)
    ]


def match_kode(text: str, config: RulesConfig | None = None) -> str | None:
    """The dokumen code `text` spells ("sk cpns", "SK-CPNS", "skcpns", ...), or None.

    The whole text must be one code, nama or alias; to search a longer file
    name use `find_kode_in_name`.
    """
    key = alias_key(as_text(text, "kode", "Nama dokumen"))
    return resolve_config(config).dokumen.alias_table().get(key) if key else None


def find_kode_in_name(
    name: str, config: RulesConfig | None = None, *, among: Collection[str] | None = None
) -> str | None:
    """The dokumen code found in a scan's file name, or None.

    The name is cut into words (letters and digits apart), and runs of
    consecutive words are compared with every code, nama and alias; the
    longest match wins, then the earliest, so "sk cpns" is SK_CPNS and never
    SK_PNS. `among` limits the search to some codes (an usulan's checklist).
    """
    name = as_text(name, "nama_berkas", "Nama berkas")
    table = resolve_config(config).dokumen.alias_table()
    if among is not None:
        if isinstance(among, str) or not isinstance(among, Collection):
            raise RuleError("Daftar kode dokumen harus berupa kumpulan kode", field="among")
        wanted = {kode for kode in among if isinstance(kode, str)}
        table = {key: kode for key, kode in table.items() if kode in wanted}
    if not table:
        return None
    stem = _EXTENSION.sub("", _DIRECTORY.sub("", name))
    words = _TOKEN.findall(stem.lower())
    longest = max(len(key) for key in table)
    best_length, best_kode = 0, None
    for start in range(len(words)):
        joined = ""
        for word in words[start:]:
            joined += word
            if len(joined) > longest:
                break
            kode = table.get(joined)
            if kode is not None and len(joined) > best_length:
                best_length, best_kode = len(joined), kode
    return best_kode


def exceeds_limit(size: int, limit: int) -> bool:
    """A dokumen of `size` bytes is over its kind's `limit` (0: the kind is unknown)."""
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (size, limit)):
        raise RuleError(
            "Ukuran dokumen tidak dapat dibaca.",
            field="size",
            detail=f"size {type(size).__name__}, limit {type(limit).__name__}",
        )
    return bool(limit) and size > limit

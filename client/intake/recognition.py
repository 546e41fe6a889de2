"""What a page's text says about a scan: the NIPs of this OPD's pegawai on it
and the dokumen kind its title names, and what to do when that and the name
disagree.

A wrong automatic filing is worse than a Kotak masuk item, so a reading is
*certain* only when it leaves no choice: exactly one pegawai of this OPD
(or, on a page listing several, exactly one whose open usulan still needs
that kind) and exactly one kind whose title words stand on the page in
capitals. Anything less is a suggestion the person accepts with one key.

A page with no NIP at all (an ijazah names its holder, a KTP has name and
birth date) points at a pegawai only through both: a pegawai counts as on
the page when their name stands on one line and their birth date is written
on the page (or is the birth date of a NIK on it). A name alone, or a birth
date alone, is not enough.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlmodel import Session, col, select

from client.intake.filing import open_usulan_for
from client.intake.naming import Recognition
from client.intake.pagetext import dates_in_text, kinds_in_text, line_letters, name_key, valid_nips
from client.intake.sheets import format_nip
from store.models import Pegawai
from store.rules import DokumenKind, RulesConfig
from store.usulan import live_dokumen


@dataclass(frozen=True)
class PageReading:
    """What the first page says; empty tuples when it says nothing."""

    nips: tuple[str, ...] = ()  # NIPs of this OPD's pegawai on the page
    unknown_nips: tuple[str, ...] = ()  # valid NIPs no pegawai here has
    kodes: tuple[str, ...] = ()  # every kind whose title stands on the page
    nip: str | None = None  # the one pegawai it is certainly about
    kode: str | None = None  # the one kind it certainly is
    by_name: bool = False  # `nips` were found by name and birth date (the page has no NIP)

    @property
    def certain(self) -> bool:
        return self.nip is not None and self.kode is not None

    @property
    def says_anything(self) -> bool:
        return bool(self.nips or self.kodes)


def _pegawai_of(session: Session, nips: Iterable[str]) -> list[Pegawai]:
    wanted = list(nips)
    if not wanted:
        return []
    stmt = (
        select(Pegawai).where(col(Pegawai.nip).in_(wanted)).where(col(Pegawai.deleted).is_(False))
    )
    return list(session.exec(stmt))


# A name key this short is too likely to stand inside another word.
_MIN_NAME_LETTERS = 4


def _pegawai_by_name_and_birth(session: Session, text: str) -> list[Pegawai]:
    """This OPD's pegawai whose name stands on a line of the page and whose birth date
    is written on it, in the order of their names on the page."""
    born = dates_in_text(text)
    if not born:
        return []
    stmt = (
        select(Pegawai)
        .where(col(Pegawai.tanggal_lahir).in_(born))
        .where(col(Pegawai.deleted).is_(False))
        .order_by(col(Pegawai.nip))
    )
    lines = line_letters(text)
    found: list[tuple[int, Pegawai]] = []
    for pegawai in session.exec(stmt):
        key = name_key(pegawai.nama)
        if len(key) < _MIN_NAME_LETTERS:
            continue
        at = next((n for n, line in enumerate(lines) if key in line), None)
        if at is not None:
            found.append((at, pegawai))
    return [p for _at, p in sorted(found, key=lambda hit: (hit[0], hit[1].nip))]


def _needs(session: Session, pegawai: Pegawai, kode: str, rules: RulesConfig | None) -> bool:
    usulan = open_usulan_for(session, pegawai, kode, rules)
    if usulan is None:
        return False
    return not any(d.kode == kode and d.state == "ada" for d in live_dokumen(session, usulan.id))


def read_page(
    session: Session,
    text: str,
    kinds: Mapping[str, DokumenKind],
    rules: RulesConfig | None = None,
) -> PageReading:
    """The reading of a page's text against this store's pegawai."""
    nips = valid_nips(text)
    known = {p.nip: p for p in _pegawai_of(session, nips)}
    ours = tuple(n for n in nips if n in known)
    by_name = False
    if not nips:  # no NIP on the page: its holder's name and birth date
        named = _pegawai_by_name_and_birth(session, text)
        known = {p.nip: p for p in named}
        ours = tuple(known)
        by_name = bool(ours)
    kodes = tuple(kinds_in_text(text, {k: v.judul for k, v in kinds.items()}))
    kode = kodes[0] if len(kodes) == 1 else None
    nip: str | None = None
    if len(ours) == 1:
        nip = ours[0]
    elif len(ours) > 1 and kode is not None:
        # A collective SK: the one pegawai whose open usulan still needs it.
        needing = [n for n in ours if _needs(session, known[n], kode, rules)]
        nip = needing[0] if len(needing) == 1 else None
    return PageReading(
        nips=ours,
        unknown_nips=tuple(n for n in nips if n not in known),
        kodes=kodes,
        nip=nip,
        kode=kode,
        by_name=by_name,
    )


@dataclass(frozen=True)
class Verdict:
    """Where a scan goes after the name and the page were both heard."""

    found: Recognition  # the NIP and kode to file under (or to suggest)
    hold: str = ""  # set: to the Kotak masuk with this reason (a suggestion)
    note: str = ""  # for the result message: what the page changed


def _describe_reading(page: PageReading, kinds: Mapping[str, DokumenKind]) -> str:
    parts = []
    how = " (dari nama dan tanggal lahir)" if page.by_name else ""
    if page.nip is not None:
        parts.append(f"NIP {format_nip(page.nip)}{how}")
    elif page.nips:
        parts.append(
            "NIP " + " atau ".join(format_nip(n) for n in page.nips) + f"{how} (belum pasti)"
        )
    elif page.unknown_nips:
        parts.append(f"NIP {format_nip(page.unknown_nips[0])} (bukan pegawai OPD ini)")
    if page.kode is not None:
        parts.append(kinds[page.kode].nama if page.kode in kinds else page.kode)
    elif page.kodes:
        names = [kinds[k].nama if k in kinds else k for k in page.kodes]
        parts.append(" atau ".join(names) + " (belum pasti)")
    return ", ".join(parts)


def judge(name: Recognition, page: PageReading, kinds: Mapping[str, DokumenKind]) -> Verdict:
    """Combine the name's reading with the page's. The page wins where it is
    certain; where it contradicts the name without being certain, the scan
    waits with both readings."""
    said = _describe_reading(page, kinds)
    nip_clash = name.nip is not None and bool(page.nips) and name.nip not in page.nips
    kode_clash = name.kode is not None and bool(page.kodes) and name.kode not in page.kodes
    if page.certain:
        found = Recognition(name.relative_name, page.nip, page.kode, name.note)
        if name.complete and (name.nip != page.nip or name.kode != page.kode):
            named = _named(name, kinds)
            return Verdict(found, note=f"isi halaman ({said}) menggantikan nama berkas ({named})")
        return Verdict(found, note=f"dikenali dari isi: {said}")
    if nip_clash or kode_clash:
        suggestion = Recognition(
            name.relative_name, page.nip or name.nip, page.kode or name.kode, name.note
        )
        return Verdict(
            suggestion,
            hold=f"nama berkas dan isi halaman berbeda: nama {_named(name, kinds)}; "
            f"isi {said or 'tidak jelas'}",
        )
    # No contradiction: the page fills what the name left open, if it is sure of it.
    nip = name.nip or page.nip
    kode = name.kode or page.kode
    combined = Recognition(name.relative_name, nip, kode, name.note)
    if combined.complete and (name.nip is not None or name.kode is not None):
        if combined != name:
            return Verdict(combined, note=f"dikenali dari nama dan isi: {said}")
        return Verdict(combined)
    suggestion = Recognition(
        name.relative_name,
        nip or (page.nips[0] if page.nips else None),
        kode or (page.kodes[0] if page.kodes else None),
        name.note,
    )
    if not page.says_anything:
        return Verdict(suggestion)  # nothing read: the name's own Inbox reason stands
    return Verdict(suggestion, hold=f"Dikenali dari isi: {said}; periksa lalu terima")


def _named(name: Recognition, kinds: Mapping[str, DokumenKind]) -> str:
    nip = f"NIP {format_nip(name.nip)}" if name.nip else "tanpa NIP"
    kode = (kinds[name.kode].nama if name.kode in kinds else name.kode) if name.kode else "-"
    return f"{nip}, {kode}"

"""The sample generator makes pegawai an OPD would recognise: jabatan that fit the
golongan, golongan that fit the education and the years of service, ages under the BUP;
and what the rules compute on them looks like a real OPD (some due for KP, a few for
pensiun, some held back with a reason)."""

from __future__ import annotations

from datetime import date

from client.sample_data import generate_pegawai
from store.pegawai import PegawaiInput
from store.rules import (
    ALL_GOLONGAN,
    JENJANG_KETERAMPILAN,
    JabatanKind,
    KpJenis,
    Pendidikan,
    bup_age,
    education_ceiling,
    entry_golongan,
    golongan_fits_jabatan,
    kp_eligibility,
    next_kp_period,
    parse_golongan,
    parse_nip,
    pensiun_due,
    tmt_pensiun,
)

TODAY = date(2026, 12, 6)
COUNT = 900


def _add_years(d: date, years: int) -> date:
    return d.replace(year=d.year + years, day=min(d.day, 28))


def inconsistencies(p: PegawaiInput, today: date) -> list[str]:
    """What a BKD verifikator would call wrong in this pegawai's master data."""
    wrong: list[str] = []
    gol = parse_golongan(p.golongan)
    kind = JabatanKind(p.jenis_jabatan)
    pendidikan = Pendidikan(p.pendidikan)
    nip = parse_nip(p.nip)
    assert p.tanggal_lahir is not None and p.tmt_cpns is not None
    if nip.tanggal_lahir != p.tanggal_lahir or nip.tmt_cpns != p.tmt_cpns:
        wrong.append("NIP and dates disagree")
    if gol < entry_golongan(pendidikan):
        wrong.append(f"{gol.kode} below the CPNS start for {pendidikan.label}")
    if not golongan_fits_jabatan(kind, gol):
        wrong.append(f"{kind.label} at {gol.kode}")
    if kind == JabatanKind.PELAKSANA and gol > education_ceiling(pendidikan):
        wrong.append(f"pelaksana {gol.kode} above the {pendidikan.label} ceiling")
    if kind.value.startswith("fungsional_ahli"):
        jenjang = kind.label.removeprefix("Fungsional ").lower()  # "ahli madya"
        if not p.jabatan.lower().endswith(jenjang):
            wrong.append(f"{p.jabatan!r} is not a {jenjang}")
    if kind == JabatanKind.FUNGSIONAL_KETERAMPILAN:
        word = p.jabatan.split()[-1]
        lowest, highest = JENJANG_KETERAMPILAN.get(word, (None, None))
        if lowest is None or highest is None or not lowest <= gol <= highest:
            wrong.append(f"{p.jabatan!r} at {gol.kode}")
    if tmt_pensiun(p.tanggal_lahir, bup_age(kind)) <= today:
        wrong.append("past the BUP")
    if p.tmt_cpns < _add_years(p.tanggal_lahir, 18):
        wrong.append("CPNS before 18")
    if not p.tmt_cpns <= p.tmt_pangkat <= today:
        wrong.append("TMT pangkat outside the career")
    steps = ALL_GOLONGAN.index(gol) - ALL_GOLONGAN.index(entry_golongan(pendidikan))
    if steps > 0 and p.tmt_pangkat < _add_years(p.tmt_cpns, 2 * steps):
        wrong.append(f"{steps} KP in fewer than {2 * steps} years")
    return wrong


def test_every_sample_pegawai_is_consistent() -> None:
    people = generate_pegawai(COUNT, today=TODAY)
    wrong = {
        f"{p.data.nama} {p.data.golongan} {p.data.pendidikan} {p.data.jabatan}": found
        for p in people
        if (found := inconsistencies(p.data, TODAY))
    }
    assert not wrong, list(wrong.items())[:10]


def test_the_rules_on_the_sample_look_like_a_real_opd() -> None:
    people = [p.data for p in generate_pegawai(COUNT, today=TODAY)]
    period = next_kp_period(TODAY)
    verdicts = [
        kp_eligibility(
            golongan=p.golongan,
            tmt_pangkat=p.tmt_pangkat,
            pendidikan=p.pendidikan,
            period_tmt=period.tmt,
            jenis=KpJenis.REGULER,
        )
        for p in people
    ]
    layak = sum(v.eligible for v in verdicts)
    held_back = [v.reasons for v in verdicts if not v.eligible]
    assert all(held_back), "every pegawai held back has a reason"
    pensiun = [
        p
        for p in people
        if p.tanggal_lahir is not None and pensiun_due(p.tanggal_lahir, p.jenis_jabatan, TODAY)
    ]
    # Some due for KP, a few for pensiun, most not this period (shares of the whole).
    assert 0.10 * COUNT <= layak <= 0.40 * COUNT, layak
    assert 0.01 * COUNT <= len(pensiun) <= 0.08 * COUNT, len(pensiun)
    ceiling = sum(any("pendidikan" in r for r in reasons) for reasons in held_back)
    too_soon = sum(any("Masa dalam pangkat" in r for r in reasons) for reasons in held_back)
    assert ceiling > 0 and too_soon > 0
    kinds = {p.jenis_jabatan for p in people}
    assert {"pelaksana", "fungsional_keterampilan", "fungsional_ahli_madya", "pengawas"} <= kinds

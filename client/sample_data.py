"""A deterministic generator of realistic pegawai for the demo, tests and benches.

Same seed and reference date, same people, and people an OPD would recognise: valid
NIPs; a CPNS start at the golongan their education opens (`entry_golongan`), rising
about every four years, never past their education's ceiling unless their jabatan
carries them (KP pilihan); jabatan that fit the golongan (`golongan_fits_jabatan`: a
"Guru Ahli Madya" is IV/a-IV/c); ages under the BUP; a share due for KP in the coming
period, a few for pensiun within 15 months, and some held back (education ceiling,
too few years in the pangkat).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from store.pegawai import PegawaiInput
from store.rules import (
    ALL_GOLONGAN,
    GOLONGAN_RANGE,
    JabatanKind,
    Pendidikan,
    bup_age,
    education_ceiling,
    entry_golongan,
    golongan_fits_jabatan,
    jenjang_keterampilan,
    next_golongan,
    next_kp_period,
    parse_golongan,
)

OPDS: tuple[tuple[str, str], ...] = (
    ("DISDIK", "Dinas Pendidikan dan Kebudayaan"),
    ("DINKES", "Dinas Kesehatan"),
    ("BAPPEDA", "Badan Perencanaan Pembangunan Daerah"),
)

_FIRST_M = [
    "Agus",
    "Budi",
    "Dedi",
    "Eko",
    "Fajar",
    "Hendra",
    "Imam",
    "Joko",
    "Kurniawan",
    "Lukman",
    "Muhammad",
    "Nur",
    "Putu",
    "Rahmat",
    "Rudi",
    "Slamet",
    "Teguh",
    "Wahyu",
    "Yusuf",
    "Zainal",
    "Andi",
    "Bambang",
    "Dwi",
    "Hadi",
    "Iwan",
    "Made",
]
_FIRST_F = [
    "Ani",
    "Dewi",
    "Endang",
    "Fitri",
    "Indah",
    "Kartini",
    "Lestari",
    "Maria",
    "Nurul",
    "Putri",
    "Ratna",
    "Sari",
    "Siti",
    "Sri",
    "Tuti",
    "Wulan",
    "Yanti",
    "Ayu",
    "Dian",
    "Evi",
    "Lina",
    "Nining",
    "Rina",
    "Wati",
    "Yuni",
    "Ketut",
]
_LAST = [
    "Santoso",
    "Wijaya",
    "Saputra",
    "Hidayat",
    "Pratama",
    "Kusuma",
    "Siregar",
    "Nasution",
    "Harahap",
    "Lubis",
    "Simanjuntak",
    "Wibowo",
    "Setiawan",
    "Hartono",
    "Susanto",
    "Gunawan",
    "Rahayu",
    "Lestari",
    "Purnomo",
    "Suryadi",
    "Manurung",
    "Tanjung",
    "Putra",
    "Sulistyo",
    "Handayani",
    "Permana",
    "Ramadhan",
    "Syahputra",
]
# Jabatan names per OPD: the profession of its jabatan fungsional (the jenjang is added
# from the golongan), its pelaksana by education, its pengawas, administrator and head.
_FUNGSIONAL_AHLI = {
    "DISDIK": ("Guru", "Guru", "Guru", "Pengawas Sekolah", "Pranata Komputer"),
    "DINKES": ("Dokter", "Apoteker", "Perawat", "Epidemiolog Kesehatan", "Nutrisionis"),
    "BAPPEDA": ("Perencana", "Analis Kebijakan", "Statistisi", "Perencana"),
}
_FUNGSIONAL_TERAMPIL = {
    "DISDIK": ("Pustakawan", "Arsiparis", "Pranata Komputer"),
    "DINKES": ("Perawat", "Bidan", "Sanitarian", "Pranata Laboratorium Kesehatan"),
    "BAPPEDA": ("Statistisi", "Arsiparis", "Pranata Komputer"),
}
_PELAKSANA_SLTA = ("Pengadministrasi Umum", "Pengemudi", "Pengadministrasi Perkantoran")
_PELAKSANA_D3 = ("Pengelola Kepegawaian", "Bendahara", "Pengelola Barang Milik Daerah")
_PELAKSANA_S1 = ("Analis Kepegawaian", "Analis Keuangan", "Penyusun Program dan Anggaran")
_PENGAWAS = {
    "DISDIK": ("Kepala Subbagian Umum dan Kepegawaian", "Kepala Seksi Kurikulum"),
    "DINKES": ("Kepala Subbagian Umum dan Kepegawaian", "Kepala Seksi Pelayanan Kesehatan"),
    "BAPPEDA": ("Kepala Subbagian Umum dan Kepegawaian", "Kepala Subbidang Infrastruktur"),
}
_ADMINISTRATOR = {
    "DISDIK": ("Sekretaris Dinas", "Kepala Bidang Pembinaan SMP", "Kepala Bidang GTK"),
    "DINKES": ("Sekretaris Dinas", "Kepala Bidang Pelayanan Kesehatan"),
    "BAPPEDA": ("Sekretaris Badan", "Kepala Bidang Perencanaan Ekonomi"),
}
_AHLI_JENJANG = {
    JabatanKind.FUNGSIONAL_AHLI_PERTAMA: "Ahli Pertama",
    JabatanKind.FUNGSIONAL_AHLI_MUDA: "Ahli Muda",
    JabatanKind.FUNGSIONAL_AHLI_MADYA: "Ahli Madya",
    JabatanKind.FUNGSIONAL_AHLI_UTAMA: "Ahli Utama",
}
_PENDIDIKAN_WEIGHTS = (
    (Pendidikan.SLTA, 25),
    (Pendidikan.D3, 15),
    (Pendidikan.S1, 40),
    (Pendidikan.S2, 15),
    (Pendidikan.SLTP, 5),
)
# Age at TMT CPNS, by education.
_ENTRY_AGE = {
    Pendidikan.SLTP: (18, 24),
    Pendidikan.SLTA: (19, 27),
    Pendidikan.D3: (21, 29),
    Pendidikan.S1: (23, 32),
    Pendidikan.S2: (26, 35),
}
_YEARS_PER_KP = 5  # four at best; most wait a little longer
_HIGHEST_AHLI = ALL_GOLONGAN.index(parse_golongan("IV/c"))  # no ahli utama in an OPD
_HIGHEST_PELAKSANA = ALL_GOLONGAN.index(parse_golongan("III/d"))


@dataclass(frozen=True)
class SamplePegawai:
    opd_kode: str
    data: PegawaiInput


def _shift_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _shift_months(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _nip(birth: date, tmt_cpns: date, gender: int, seq: int) -> str:
    return f"{birth:%Y%m%d}{tmt_cpns:%Y%m}{gender}{seq:03d}"


def _rank(golongan: str) -> int:
    return ALL_GOLONGAN.index(parse_golongan(golongan))


def _career(
    rng: random.Random, pendidikan: Pendidikan, opd: str, years: int
) -> tuple[JabatanKind, int, str]:
    """(kind, golongan rank, jabatan name) after `years` of service: a KP about every five
    years from the entry golongan; a pelaksana stops at the education ceiling, a jabatan
    fungsional or struktural goes on within its own range (KP pilihan)."""
    start = ALL_GOLONGAN.index(entry_golongan(pendidikan))
    ceiling = ALL_GOLONGAN.index(education_ceiling(pendidikan))
    natural = start + max(0, years - rng.randint(0, 4)) // _YEARS_PER_KP
    roll = rng.random()
    if pendidikan in (Pendidikan.S1, Pendidikan.S2):
        if roll < 0.06 and natural >= _rank("IV/c"):
            kind = JabatanKind.JPT
        elif roll < 0.14 and natural >= _rank("III/d"):
            kind = JabatanKind.ADMINISTRATOR
        elif roll < 0.26 and natural >= _rank("III/b"):
            kind = JabatanKind.PENGAWAS
        elif roll < 0.82:
            rank = min(natural, _HIGHEST_AHLI)
            kind = next(k for k in _AHLI_JENJANG if golongan_fits_jabatan(k, ALL_GOLONGAN[rank]))
            return kind, rank, f"{rng.choice(_FUNGSIONAL_AHLI[opd])} {_AHLI_JENJANG[kind]}"
        else:
            rank = min(natural, ceiling, _HIGHEST_PELAKSANA)
            return JabatanKind.PELAKSANA, rank, rng.choice(_PELAKSANA_S1)
        lowest, highest = GOLONGAN_RANGE[kind]
        rank = min(natural, ALL_GOLONGAN.index(highest))
        rank = max(rank, ALL_GOLONGAN.index(lowest))
        names = {
            JabatanKind.JPT: (f"Kepala {dict(OPDS).get(opd, opd)}",),
            JabatanKind.ADMINISTRATOR: _ADMINISTRATOR[opd],
            JabatanKind.PENGAWAS: _PENGAWAS[opd],
        }[kind]
        return kind, rank, rng.choice(names)
    if pendidikan in (Pendidikan.SLTA, Pendidikan.D3) and roll < (
        0.6 if pendidikan == Pendidikan.D3 else 0.2
    ):
        lowest, highest = GOLONGAN_RANGE[JabatanKind.FUNGSIONAL_KETERAMPILAN]
        rank = max(min(natural, ALL_GOLONGAN.index(highest)), ALL_GOLONGAN.index(lowest))
        jenjang = jenjang_keterampilan(ALL_GOLONGAN[rank])
        name = f"{rng.choice(_FUNGSIONAL_TERAMPIL[opd])} {jenjang}"
        return JabatanKind.FUNGSIONAL_KETERAMPILAN, rank, name
    rank = min(natural, ceiling, _HIGHEST_PELAKSANA)
    names = _PELAKSANA_D3 if pendidikan == Pendidikan.D3 else _PELAKSANA_SLTA
    return JabatanKind.PELAKSANA, rank, rng.choice(names)


def generate_pegawai(
    count: int, *, today: date, seed: int = 2026, opds: tuple[str, ...] | None = None
) -> list[SamplePegawai]:
    """`count` pegawai spread over the OPDs; deterministic for (count, today, seed)."""
    rng = random.Random(seed)
    kodes = opds or tuple(k for k, _ in OPDS)
    period = next_kp_period(today)
    seen: set[str] = set()
    people: list[SamplePegawai] = []
    for index in range(count):
        opd = kodes[index % len(kodes)]
        gender = rng.choice((1, 2))
        first = rng.choice(_FIRST_M if gender == 1 else _FIRST_F)
        nama = f"{first} {rng.choice(_LAST)}"
        if rng.random() < 0.4:
            nama = f"{nama} {rng.choice(_LAST)}"
        pendidikan = rng.choices(
            [p for p, _ in _PENDIDIKAN_WEIGHTS], [w for _, w in _PENDIDIKAN_WEIGHTS]
        )[0]
        entry_age = rng.randint(*_ENTRY_AGE[pendidikan])
        roll = rng.random()
        if roll < 0.04:
            # Reaches the BUP within the next 15 months: a long career behind them.
            years = 57 - entry_age
            kind, rank, jabatan = _career(rng, pendidikan, opd, years)
            months_ahead = rng.randint(1, 14)
            reached = _shift_months(today, months_ahead - 1)
            birth = date(reached.year - bup_age(kind), reached.month, rng.randint(1, 28))
        else:
            # Between their first year and two years short of the lowest BUP (58).
            age = rng.randint(max(24, entry_age + 1), 55)
            birth = date(today.year - age, rng.randint(1, 12), rng.randint(1, 28))
            years = age - entry_age
            kind, rank, jabatan = _career(rng, pendidikan, opd, years)
        cpns = _shift_years(birth, entry_age)
        tmt_cpns = _shift_months(cpns, 1)
        if tmt_cpns > today:
            tmt_cpns = _shift_months(today, -12)
        golongan = ALL_GOLONGAN[rank]
        steps = rank - ALL_GOLONGAN.index(entry_golongan(pendidikan))
        if steps <= 0:
            tmt_pangkat = tmt_cpns  # still at the golongan they started at
        elif roll < 0.25 and next_golongan(golongan) is not None:
            # In the pangkat four to six years by the coming period: due for KP, unless
            # the education ceiling holds them.
            tmt_pangkat = _shift_years(period.tmt, -rng.randint(4, 6))
        else:
            tmt_pangkat = _shift_months(today, -rng.randint(1, 47))
        # A pangkat starts after the CPNS did, by at least two years per step (KP pilihan).
        tmt_pangkat = max(tmt_pangkat, _shift_years(tmt_cpns, 2 * steps))
        tmt_pangkat = min(date(tmt_pangkat.year, tmt_pangkat.month, 1), today)
        seq = 1
        nip = _nip(birth, tmt_cpns, gender, seq)
        while nip in seen:
            seq += 1
            nip = _nip(birth, tmt_cpns, gender, seq)
        seen.add(nip)
        data = PegawaiInput(
            nip=nip,
            nama=nama,
            golongan=golongan.kode,
            tmt_pangkat=tmt_pangkat,
            pendidikan=pendidikan.value,
            jenis_jabatan=kind.value,
            jabatan=jabatan,
            unit_kerja=dict(OPDS).get(opd, opd),
            tmt_pns=_shift_years(tmt_cpns, 1),
        )
        people.append(SamplePegawai(opd_kode=opd, data=data))
    return people


def pegawai_csv(people: list[SamplePegawai]) -> str:
    """The same people as an import CSV (the README's columns)."""
    header = "nip,nama,golongan,tmt_pangkat,pendidikan,jenis_jabatan,jabatan,unit_kerja,tmt_pns"
    rows = [header]
    for person in people:
        d = person.data
        rows.append(
            ",".join(
                [
                    d.nip,
                    d.nama,
                    d.golongan,
                    d.tmt_pangkat.isoformat(),
                    d.pendidikan,
                    d.jenis_jabatan,
                    d.jabatan,
                    f'"{d.unit_kerja}"',
                    d.tmt_pns.isoformat() if d.tmt_pns else "",
                ]
            )
        )
    return "\n".join(rows) + "\n"

"""A deterministic generator of realistic pegawai for the demo, tests and benches.

Same seed and reference date, same people: valid NIPs, golongan that fit the
years of service and education, and a share of them due for KP in the coming
period or for pensiun within 15 months.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from store.pegawai import PegawaiInput
from store.rules import (
    ALL_GOLONGAN,
    JabatanKind,
    Pendidikan,
    bup_age,
    education_ceiling,
    next_kp_period,
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
_JABATAN = {
    JabatanKind.PELAKSANA: ("Pengadministrasi Umum", "Pengelola Kepegawaian", "Bendahara"),
    JabatanKind.PENGAWAS: ("Kepala Subbagian Umum", "Kepala Seksi Kurikulum"),
    JabatanKind.ADMINISTRATOR: ("Sekretaris Dinas", "Kepala Bidang Pembinaan"),
    JabatanKind.FUNGSIONAL_KETERAMPILAN: ("Perawat Terampil", "Pranata Komputer Terampil"),
    JabatanKind.FUNGSIONAL_AHLI_PERTAMA: ("Guru Ahli Pertama", "Analis Kebijakan Ahli Pertama"),
    JabatanKind.FUNGSIONAL_AHLI_MUDA: ("Guru Ahli Muda", "Dokter Ahli Muda"),
    JabatanKind.FUNGSIONAL_AHLI_MADYA: ("Guru Ahli Madya", "Perencana Ahli Madya"),
    JabatanKind.JPT: ("Kepala Dinas",),
}
_PENDIDIKAN_WEIGHTS = (
    (Pendidikan.SLTA, 25),
    (Pendidikan.D3, 15),
    (Pendidikan.S1, 40),
    (Pendidikan.S2, 15),
    (Pendidikan.SLTP, 5),
)


@dataclass(frozen=True)
class SamplePegawai:
    opd_kode: str
    data: PegawaiInput


def _shift_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _nip(birth: date, tmt_cpns: date, gender: int, seq: int) -> str:
    return f"{birth:%Y%m%d}{tmt_cpns:%Y%m}{gender}{seq:03d}"


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
        gender = rng.choice((1, 2))
        first = rng.choice(_FIRST_M if gender == 1 else _FIRST_F)
        nama = f"{first} {rng.choice(_LAST)}"
        if rng.random() < 0.4:
            nama = f"{nama} {rng.choice(_LAST)}"
        pendidikan = rng.choices(
            [p for p, _ in _PENDIDIKAN_WEIGHTS], [w for _, w in _PENDIDIKAN_WEIGHTS]
        )[0]
        kind = rng.choice(list(_JABATAN))
        roll = rng.random()
        if roll < 0.08:
            # Reaches BUP within the next 15 months.
            bup = bup_age(kind)
            months_ahead = rng.randint(1, 14)
            year = today.year - bup + (today.month - 1 + months_ahead) // 12
            month = (today.month - 1 + months_ahead) % 12 + 1
            birth = date(year, month, rng.randint(1, 28))
        else:
            birth = date(rng.randint(1966, 1998), rng.randint(1, 12), rng.randint(1, 28))
        earliest_cpns = _shift_years(birth, rng.randint(19, 30))
        if earliest_cpns >= today:
            earliest_cpns = _shift_years(birth, 19)
        tmt_cpns = date(earliest_cpns.year, earliest_cpns.month, 1)
        if tmt_cpns > today:
            tmt_cpns = date(today.year - 1, 1, 1)
        years = max(0, (today - tmt_cpns).days // 365)
        ceiling = education_ceiling(pendidikan)
        start = {
            Pendidikan.SLTP: 5,
            Pendidikan.SLTA: 4,
            Pendidikan.D3: 7,
            Pendidikan.S1: 8,
            Pendidikan.S2: 9,
        }.get(pendidikan, 4)
        rank = min(start + years // 4, ALL_GOLONGAN.index(ceiling))
        golongan = ALL_GOLONGAN[rank]
        if roll < 0.35 and rank < ALL_GOLONGAN.index(ceiling):
            # Due for KP reguler in the coming period: four years or more in pangkat.
            tmt_pangkat = _shift_years(period.tmt, -rng.randint(4, 6))
        else:
            tmt_pangkat = _shift_years(today, -rng.randint(0, 3))
        tmt_pangkat = max(date(tmt_pangkat.year, tmt_pangkat.month, 1), tmt_cpns)
        seq = 1
        nip = _nip(birth, tmt_cpns, gender, seq)
        while nip in seen:
            seq += 1
            nip = _nip(birth, tmt_cpns, gender, seq)
        seen.add(nip)
        opd = kodes[index % len(kodes)]
        data = PegawaiInput(
            nip=nip,
            nama=nama,
            golongan=golongan.kode,
            tmt_pangkat=tmt_pangkat,
            pendidikan=pendidikan.value,
            jenis_jabatan=kind.value,
            jabatan=rng.choice(_JABATAN[kind]),
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

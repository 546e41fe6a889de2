"""Which golongan a kind of jabatan is held at, the jenjang of a jabatan fungsional
keterampilan, and the golongan a CPNS starts at by education."""

from __future__ import annotations

import pytest

from store.rules import (
    RuleError,
    entry_golongan,
    golongan_fits_jabatan,
    jenjang_keterampilan,
)


@pytest.mark.parametrize(
    ("kind", "fits", "does_not"),
    [
        ("fungsional_ahli_pertama", ["III/a", "III/b"], ["II/d", "III/c"]),
        ("fungsional_ahli_muda", ["III/c", "III/d"], ["III/b", "IV/a"]),
        ("JF ahli madya", ["IV/a", "IV/c"], ["II/a", "III/d", "IV/d"]),
        ("fungsional_ahli_utama", ["IV/d", "IV/e"], ["IV/c"]),
        ("eselon IV", ["III/a", "III/d"], ["II/d", "IV/a"]),
        ("administrator", ["III/c", "IV/b"], ["III/b", "IV/c"]),
        ("fungsional_keterampilan", ["II/a", "III/d"], ["I/d", "IV/a"]),
        ("pelaksana", ["I/a", "IV/e"], []),  # their education sets the ceiling
    ],
)
def test_golongan_fits_jabatan(kind: str, fits: list[str], does_not: list[str]) -> None:
    assert all(golongan_fits_jabatan(kind, gol) for gol in fits)
    assert not any(golongan_fits_jabatan(kind, gol) for gol in does_not)


def test_jenjang_keterampilan_by_golongan() -> None:
    assert [jenjang_keterampilan(g) for g in ("II/a", "II/c", "III/b", "III/c", "IV/a")] == [
        "Pemula",
        "Terampil",
        "Mahir",
        "Penyelia",
        "",
    ]


def test_cpns_start_by_education() -> None:
    starts = {p: entry_golongan(p).kode for p in ("SD", "SMP", "SMA", "D-III", "S-1", "S2")}
    assert starts == {
        "SD": "I/a",
        "SMP": "I/c",
        "SMA": "II/a",
        "D-III": "II/c",
        "S-1": "III/a",
        "S2": "III/b",
    }
    with pytest.raises(RuleError):
        entry_golongan("SMA kelas 2")

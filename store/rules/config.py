"""The configurable rules: defaults.toml shipped here, merged with a BKD's own TOML.

Everything DOMAIN.md marks *configurable* is read from `RulesConfig`; no rule
function carries its own copy of a value that a BKD may change.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from store.rules._dates import clamped_date, format_tanggal
from store.rules._kinds import KpJenis, Layanan, Pendidikan, PensiunJenis
from store.rules.errors import RuleError
from store.rules.golongan import Golongan, parse_golongan
from store.rules.jabatan import JabatanKind

DEFAULTS_NAME = "defaults.toml"

_KODE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_MONTH_DAY = re.compile(r"^(\d{1,2})-(\d{1,2}|akhir)$", re.IGNORECASE)
_PROVINSI_KODE = re.compile(r"^[0-9]{2}$")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def alias_key(text: str) -> str:
    """How a dokumen code or alias is compared: lower case, letters and digits only."""
    return _NOT_ALNUM.sub("", text.lower())


# --- value types --------------------------------------------------------------


def _to_golongan(value: object) -> Golongan:
    if isinstance(value, Golongan):
        return value
    if not isinstance(value, str):
        raise ValueError('harus berupa teks golongan, misalnya "III/b"')
    return parse_golongan(value)  # its RuleError is a ValueError pydantic reports


GolonganValue = Annotated[Golongan, PlainValidator(_to_golongan)]


@dataclass(frozen=True)
class MonthDay:
    """A day of the year without the year, as written in the TOML ("12-15").

    "MM-akhir" is the month's last day, whatever the year: "02-akhir" is
    28 February, or 29 in a leap year. It is kept as day 31, which
    `clamped_date` pulls back to the month's end.
    """

    month: int
    day: int

    @property
    def end_of_month(self) -> bool:
        """True for "MM-akhir" (and for any day the month never reaches)."""
        return self.day >= 31


def _to_month_day(value: object) -> MonthDay:
    if isinstance(value, MonthDay):
        return value
    match = _MONTH_DAY.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(
            'harus berupa teks "BB-HH" (bulan-hari), misalnya "12-15", '
            'atau "BB-akhir" untuk hari terakhir bulan itu'
        )
    month = int(match.group(1))
    day = 31 if match.group(2).lower() == "akhir" else int(match.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"bulan {month} tidak ada (harus 01-12)")
    if not 1 <= day <= 31:
        raise ValueError(f"hari {day} tidak ada (harus 01-31)")
    return MonthDay(month, day)


MonthDayValue = Annotated[MonthDay, PlainValidator(_to_month_day)]
Count = Annotated[int, Field(ge=0)]
Positive = Annotated[int, Field(gt=0)]


def _require_every(mapping: Mapping[Any, Any], kinds: type[StrEnum]) -> None:
    missing = [kind.value for kind in kinds if kind not in mapping]
    if missing:
        raise ValueError(f"nilai untuk {', '.join(missing)} belum diisi")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- kenaikan pangkat ---------------------------------------------------------


class KpPeriodRule(_Frozen):
    """One KP period: the month of its TMT and the submission window before it."""

    tmt_month: int = Field(ge=1, le=12)
    window_start: MonthDayValue
    window_end: MonthDayValue

    def tmt(self, year: int) -> date:
        """The period's TMT in `year` (always the 1st)."""
        return date(year, self.tmt_month, 1)

    def window(self, year: int) -> tuple[date, date]:
        """First and last day of the window for the TMT in `year`.

        A window day in or after the TMT month lies in the year before.
        """
        return self._on(self.window_start, year), self._on(self.window_end, year)

    def _on(self, day: MonthDay, tmt_year: int) -> date:
        year = tmt_year - 1 if day.month >= self.tmt_month else tmt_year
        return clamped_date(year, day.month, day.day)

    @model_validator(mode="after")
    def _start_before_end(self) -> KpPeriodRule:
        for year in (2023, 2024):  # a common and a leap year
            start, end = self.window(year)
            if start > end:
                raise ValueError(
                    "awal jendela pengajuan jatuh setelah akhirnya "
                    f"(TMT bulan {self.tmt_month}: {format_tanggal(start)} > {format_tanggal(end)})"
                )
        return self


class StrukturalStepBelow(_Frozen):
    """KP pilihan struktural when the pangkat is one step below the jabatan's lowest.

    Whole years needed in the pangkat and in the jabatan (PP 99/2000: 1 and 1).
    """

    pangkat_years: Count
    jabatan_years: Count


class KpRules(_Frozen):
    """Kenaikan pangkat: periods, minimum years in pangkat, education ceiling scope,
    KP pilihan struktural one step below the jabatan, penyesuaian ijazah targets."""

    min_years: Mapping[KpJenis, Count]
    ceiling_jenis: tuple[KpJenis, ...]
    struktural_step_below: StrukturalStepBelow
    # The golongan a new ijazah opens by penyesuaian ijazah; a level left out opens none.
    ijazah_targets: Mapping[Pendidikan, GolonganValue]
    periods: tuple[KpPeriodRule, ...]

    @field_validator("min_years")
    @classmethod
    def _every_jenis(cls, value: Mapping[KpJenis, int]) -> Mapping[KpJenis, int]:
        _require_every(value, KpJenis)
        return value

    @field_validator("periods")
    @classmethod
    def _one_period_per_month(cls, value: tuple[KpPeriodRule, ...]) -> tuple[KpPeriodRule, ...]:
        if not value:
            raise ValueError("paling sedikit satu periode")
        months = [period.tmt_month for period in value]
        doubled = sorted({month for month in months if months.count(month) > 1})
        if doubled:
            raise ValueError(f"bulan TMT {', '.join(map(str, doubled))} ditulis lebih dari sekali")
        return tuple(sorted(value, key=lambda period: period.tmt_month))


# --- NIK ----------------------------------------------------------------------


class NikRules(_Frozen):
    """NIK: the province codes (Kemendagri) a NIK may start with, code -> name."""

    provinsi: Mapping[str, Annotated[str, Field(min_length=1)]] = Field(min_length=1)

    @field_validator("provinsi")
    @classmethod
    def _two_digit_codes(cls, value: Mapping[str, str]) -> Mapping[str, str]:
        bad = [kode for kode in value if not _PROVINSI_KODE.match(kode)]
        if bad:
            raise ValueError(f'kode provinsi {", ".join(bad)} harus dua digit (misalnya "32")')
        return value


# --- pendidikan ---------------------------------------------------------------


class PendidikanRules(_Frozen):
    """The highest golongan KP reguler reaches, per education level."""

    ceilings: Mapping[Pendidikan, GolonganValue]

    @field_validator("ceilings")
    @classmethod
    def _every_level(cls, value: Mapping[Pendidikan, Golongan]) -> Mapping[Pendidikan, Golongan]:
        _require_every(value, Pendidikan)
        return value


# --- pensiun ------------------------------------------------------------------


class PensiunRules(_Frozen):
    """Pensiun: BUP per jabatan kind, lead times, service requirements."""

    bup: Mapping[JabatanKind, Positive]
    lead_months: Positive
    target_lead_months_min: Count
    target_lead_months_max: Count
    min_service_years: Count
    min_pns_years: Count
    aps_min_age: Count
    aps_min_service_years: Count

    @field_validator("bup")
    @classmethod
    def _every_jabatan(cls, value: Mapping[JabatanKind, int]) -> Mapping[JabatanKind, int]:
        _require_every(value, JabatanKind)
        return value

    @model_validator(mode="after")
    def _target_range(self) -> PensiunRules:
        if self.target_lead_months_min > self.target_lead_months_max:
            raise ValueError(
                "target_lead_months_min tidak boleh lebih besar dari target_lead_months_max"
            )
        return self


# --- dokumen ------------------------------------------------------------------


class DokumenKindRule(_Frozen):
    """One dokumen kind as configured (the code is its key)."""

    nama: str = Field(min_length=1)
    multi_page: bool = False
    size_limit: Positive | None = None
    aliases: tuple[str, ...] = ()
    # Words printed on the page that name this kind (upper-case titles such as
    # "SASARAN KINERJA PEGAWAI"): scan intake reads them with OCR.
    judul: tuple[str, ...] = ()


class DokumenRules(_Frozen):
    """Dokumen kinds by code, with the size limits that apply by default."""

    size_limit: Positive
    multi_page_size_limit: Positive
    kinds: Mapping[str, DokumenKindRule] = Field(min_length=1)

    @field_validator("kinds")
    @classmethod
    def _upper_case_codes(
        cls, value: Mapping[str, DokumenKindRule]
    ) -> Mapping[str, DokumenKindRule]:
        bad = [kode for kode in value if not _KODE.match(kode)]
        if bad:
            raise ValueError(
                f"kode dokumen {', '.join(bad)} harus huruf besar, angka dan garis bawah "
                "(misalnya SK_CPNS)"
            )
        return value

    @model_validator(mode="after")
    def _aliases_unique(self) -> DokumenRules:
        self.alias_table()
        return self

    def size_limit_of(self, kode: str) -> int:
        """The size limit in bytes for dokumen kind `kode`."""
        kind = self.kinds[kode]
        if kind.size_limit is not None:
            return kind.size_limit
        return self.multi_page_size_limit if kind.multi_page else self.size_limit

    def alias_table(self) -> dict[str, str]:
        """Every recognised spelling (code, nama, aliases; see `alias_key`) -> code."""
        table: dict[str, str] = {}
        for kode, kind in self.kinds.items():
            for text in (kode, kind.nama, *kind.aliases):
                key = alias_key(text)
                if not key:
                    continue
                owner = table.setdefault(key, kode)
                if owner != kode:
                    raise ValueError(
                        f"nama/alias {text!r} dipakai oleh dua jenis dokumen: {owner} dan {kode}"
                    )
        return table


# --- checklists ---------------------------------------------------------------


def _item_from_text(value: object) -> object:
    # "SK_CPNS*" is shorthand for {kode = "SK_CPNS", optional = true}; "SURAT_NIKAH?" for
    # {kode = "SURAT_NIKAH", boleh_tidak_berlaku = true}.
    if isinstance(value, str):
        kode = value.strip()
        if kode.endswith("?"):
            return {"kode": kode.rstrip("?").strip(), "boleh_tidak_berlaku": True}
        optional = kode.endswith("*")
        return {"kode": kode.rstrip("*").strip(), "optional": optional}
    return value


class ChecklistItemRule(_Frozen):
    """One line of a configured checklist; `nama` overrides the kind's nama.

    `optional` (the trailing * of DOMAIN.md): the line applies only when the OPD marks it
    as applying. `boleh_tidak_berlaku`: the line is needed unless the OPD marks it "tidak
    berlaku" with a reason the verifikator sees; an optional line always allows that.
    """

    kode: str
    nama: str | None = None
    optional: bool = False
    boleh_tidak_berlaku: bool = False


class ChecklistRule(_Frozen):
    """A configured checklist, optionally starting from another jenis of its layanan."""

    extends: str | None = None
    items: tuple[Annotated[ChecklistItemRule, BeforeValidator(_item_from_text)], ...] = ()


_CLOSED_JENIS: Mapping[Layanan, type[StrEnum]] = {
    Layanan.KP: KpJenis,
    Layanan.PENSIUN: PensiunJenis,
}


class RulesConfig(_Frozen):
    """Every configurable rule, validated; build it with `load_rules_config`."""

    kp: KpRules
    nik: NikRules
    pendidikan: PendidikanRules
    pensiun: PensiunRules
    dokumen: DokumenRules
    checklists: Mapping[Layanan, Mapping[str, ChecklistRule]]

    @model_validator(mode="after")
    def _checklists_complete(self) -> RulesConfig:
        _require_every(self.checklists, Layanan)
        for layanan, by_jenis in self.checklists.items():
            where = f"checklists.{layanan.value}"
            if not by_jenis:
                raise ValueError(f"{where}: belum ada jenis layanan")
            closed = _CLOSED_JENIS.get(layanan)
            if closed is not None:
                known = {kind.value for kind in closed}
                unknown = sorted(set(by_jenis) - known)
                if unknown:
                    raise ValueError(
                        f"{where}: jenis {', '.join(unknown)} tidak dikenal "
                        f"(pilihan: {', '.join(sorted(known))})"
                    )
                _require_every(by_jenis, closed)
            for jenis, rule in by_jenis.items():
                for item in rule.items:
                    if item.kode not in self.dokumen.kinds:
                        raise ValueError(
                            f"{where}.{jenis}: kode dokumen {item.kode!r} tidak ada "
                            "di [dokumen.kinds]"
                        )
                if not self.checklist_items(layanan, jenis):
                    raise ValueError(f"{where}.{jenis}: daftar dokumen kosong")
        return self

    def checklist_items(self, layanan: Layanan, jenis: str) -> list[ChecklistItemRule]:
        """The checklist of `layanan`/`jenis` with `extends` resolved, in order.

        An item repeated in the extending list replaces the inherited one in place.
        """
        by_jenis = self.checklists[layanan]
        if jenis not in by_jenis:
            raise ValueError(f"checklists.{layanan.value}: jenis {jenis!r} tidak ada")
        chain: list[ChecklistRule] = []
        seen: list[str] = []
        current: str | None = jenis
        while current is not None:
            if current in seen:
                raise ValueError(
                    f"checklists.{layanan.value}.{jenis}: extends berputar "
                    f"({' -> '.join([*seen, current])})"
                )
            if current not in by_jenis:
                raise ValueError(
                    f"checklists.{layanan.value}.{seen[-1]}: extends = {current!r} tidak ada"
                )
            seen.append(current)
            chain.append(by_jenis[current])
            current = by_jenis[current].extends
        items: dict[str, ChecklistItemRule] = {}
        for rule in reversed(chain):
            for item in rule.items:
                items[item.kode] = item
        return list(items.values())


# --- loading ------------------------------------------------------------------

_ERROR_TEXT = {
    "missing": "wajib diisi",
    "extra_forbidden": "kunci tidak dikenal",
    "int_type": "harus berupa bilangan bulat",
    "int_parsing": "harus berupa bilangan bulat",
    "int_from_float": "harus berupa bilangan bulat",
    "bool_type": "harus true atau false",
    "bool_parsing": "harus true atau false",
    "string_type": "harus berupa teks",
    "tuple_type": "harus berupa daftar [...]",
    "list_type": "harus berupa daftar [...]",
    "dict_type": "harus berupa tabel",
    "mapping_type": "harus berupa tabel",
    "model_type": "harus berupa tabel",
    "model_attributes_type": "harus berupa tabel",
}


def _where(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if part == "[key]":
            parts.append(" (nama kunci)")
        elif isinstance(part, int):
            parts.append(f"[ke-{part + 1}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts)


def _explain(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx = error.get("ctx", {})
    if kind == "value_error" and "error" in ctx:
        text = str(ctx["error"])
    elif kind == "enum":
        expected = str(ctx.get("expected", "")).replace(" or ", ", ")
        text = f"nilai tidak dikenal (pilihan: {expected})"
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {
            "greater_than_equal": f"paling kecil {ctx.get('ge')}",
            "greater_than": f"harus lebih dari {ctx.get('gt')}",
            "less_than_equal": f"paling besar {ctx.get('le')}",
            "less_than": f"harus kurang dari {ctx.get('lt')}",
        }
        text = bound[kind]
    elif kind in ("too_short", "string_too_short"):
        text = "tidak boleh kosong"
    else:
        text = _ERROR_TEXT.get(kind, error["msg"])
    value = error.get("input")
    loc = tuple(error["loc"])
    shown = kind not in ("missing", "value_error") and loc[-1:] != ("[key]",)
    if shown and isinstance(value, str | int | float | bool):
        text += f" (nilai: {value!r})"
    where = _where(loc)
    return f"{where}: {text}" if where else text


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` over `base`: tables merge key by key, other values replace."""
    merged = dict(base)
    for key, value in override.items():
        old = merged.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = _merge(old, value)
        else:
            merged[key] = value
    return merged


def _parse_toml(raw: bytes, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RuleError(
            f"Berkas konfigurasi aturan {source} bukan teks UTF-8.",
            field="config",
            detail=str(exc),
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        position = re.search(r"at line (\d+), column (\d+)", str(exc))
        where = f" di baris {position.group(1)}, kolom {position.group(2)}" if position else ""
        raise RuleError(
            f"Berkas konfigurasi aturan {source} bukan TOML yang benar: "
            f"ada kesalahan penulisan{where}.",
            field="config",
            detail=str(exc),
        ) from exc


def _read_override(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise RuleError(
            f"Berkas konfigurasi aturan {path} tidak ditemukan.", field="config", detail=str(exc)
        ) from exc
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        raise RuleError(
            f"Berkas konfigurasi aturan {path} tidak dapat dibaca.",
            field="config",
            detail=str(exc),
        ) from exc
    return _parse_toml(raw, str(path))


def load_rules_config(override: Path | str | None = None) -> RulesConfig:
    """The shipped defaults, with the BKD's `override` TOML merged over them.

    Raises RuleError (naming the file and each problem) if the result is invalid.
    """
    if isinstance(override, str):
        override = Path(override)
    elif override is not None and not isinstance(override, Path):
        raise RuleError(
            "Berkas konfigurasi aturan harus berupa path berkas TOML.",
            field="config",
            detail=type(override).__name__,
        )
    raw = resources.files(__package__ or "store.rules").joinpath(DEFAULTS_NAME).read_bytes()
    data = _parse_toml(raw, DEFAULTS_NAME)
    source = DEFAULTS_NAME
    if override is not None:
        data = _merge(data, _read_override(override))
        source = str(override)
    try:
        return RulesConfig.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        problems = "\n".join(f"- {_explain(error)}" for error in errors)
        first = _where(tuple(errors[0]["loc"])) if errors else ""
        raise RuleError(
            f"Berkas konfigurasi aturan {source} tidak valid:\n{problems}",
            field=first or "config",
            detail=str(exc),
        ) from exc


@functools.cache
def default_config() -> RulesConfig:
    """The shipped defaults, loaded once."""
    return load_rules_config()


def resolve_config(config: RulesConfig | None) -> RulesConfig:
    """`config`, or the shipped defaults when None (how every rule takes its config)."""
    if config is None:
        return default_config()
    if not isinstance(config, RulesConfig):
        raise RuleError(
            "Konfigurasi aturan tidak valid: harus hasil load_rules_config",
            field="config",
            detail=type(config).__name__,
        )
    return config

"""Pegawai: validated input, upsert by NIP, fast search, and CSV import parsing."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from sqlalchemy import text
from sqlmodel import Session, col, select

from store.errors import BerkasError, StoreError
from store.models import Pegawai
from store.rules import (
    RuleError,
    normalise_nip,
    parse_golongan,
    parse_jabatan,
    parse_nip,
    parse_pendidikan,
)

CSV_COLUMNS = (
    "nip",
    "nama",
    "golongan",
    "tmt_pangkat",
    "pendidikan",
    "jenis_jabatan",
    "jabatan",
    "unit_kerja",
    "jenis_pegawai",
    "tanggal_lahir",
    "jenis_kelamin",
    "tmt_cpns",
    "tmt_pns",
)
REQUIRED_CSV_COLUMNS = ("nip", "nama", "golongan", "tmt_pangkat", "pendidikan", "jenis_jabatan")

_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y")


def parse_date(value: str) -> date:
    """A date typed as YYYY-MM-DD, DD-MM-YYYY or DD/MM/YYYY."""
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(f"tanggal tidak dikenali: {value!r} (gunakan TTTT-BB-HH)")


class PegawaiInput(BaseModel):
    """One pegawai as typed or imported; PNS facts are derived from the NIP."""

    model_config = ConfigDict(str_strip_whitespace=True)

    nip: str
    nama: str
    golongan: str
    tmt_pangkat: date
    pendidikan: str
    jenis_jabatan: str
    jabatan: str = ""
    unit_kerja: str = ""
    jenis_pegawai: str = "pns"
    tanggal_lahir: date | None = None
    jenis_kelamin: int | None = None
    tmt_cpns: date | None = None
    tmt_pns: date | None = None

    @field_validator("tmt_pangkat", "tanggal_lahir", "tmt_cpns", "tmt_pns", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_date(value) if value.strip() else None
        return value

    @field_validator("jenis_kelamin", mode="before")
    @classmethod
    def _gender(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("nama")
    @classmethod
    def _nama(cls, value: str) -> str:
        if not value:
            raise ValueError("nama kosong")
        return value

    @field_validator("golongan")
    @classmethod
    def _golongan(cls, value: str) -> str:
        return parse_golongan(value).kode

    @field_validator("pendidikan")
    @classmethod
    def _pendidikan(cls, value: str) -> str:
        return parse_pendidikan(value).value

    @field_validator("jenis_jabatan")
    @classmethod
    def _jabatan(cls, value: str) -> str:
        # "JPT pratama", "eselon III", "JF ahli muda": the names people write.
        return parse_jabatan(value).value

    @field_validator("jenis_pegawai")
    @classmethod
    def _jenis(cls, value: str) -> str:
        value = value.lower() or "pns"
        if value not in ("pns", "pppk"):
            raise ValueError("jenis pegawai harus PNS atau PPPK")
        return value

    @model_validator(mode="after")
    def _derive_from_nip(self) -> PegawaiInput:
        if self.jenis_pegawai == "pns":
            nip = parse_nip(self.nip)
            self.nip = nip.digits
            self.tanggal_lahir = self.tanggal_lahir or nip.tanggal_lahir
            self.jenis_kelamin = self.jenis_kelamin or nip.jenis_kelamin
            self.tmt_cpns = self.tmt_cpns or nip.tmt_cpns
        else:
            self.nip = normalise_nip(self.nip)
            if self.tanggal_lahir is None or self.jenis_kelamin is None or self.tmt_cpns is None:
                raise ValueError("PPPK: tanggal_lahir, jenis_kelamin dan tmt_cpns wajib diisi")
        if self.jenis_kelamin not in (1, 2):
            raise ValueError("jenis kelamin harus 1 (laki-laki) atau 2 (perempuan)")
        return self

    def record_values(self) -> dict[str, Any]:
        return {
            "nip": self.nip,
            "nama": self.nama,
            "tanggal_lahir": self.tanggal_lahir,
            "jenis_kelamin": self.jenis_kelamin,
            "jenis_pegawai": self.jenis_pegawai,
            "golongan": self.golongan,
            "tmt_pangkat": self.tmt_pangkat,
            "tmt_cpns": self.tmt_cpns,
            "tmt_pns": self.tmt_pns,
            "pendidikan": self.pendidikan,
            "jabatan": self.jabatan,
            "jabatan_kind": self.jenis_jabatan,
            "unit_kerja": self.unit_kerja,
        }


def upsert_pegawai(session: Session, data: PegawaiInput) -> tuple[Pegawai, bool]:
    """Insert or update the pegawai with this NIP; returns (record, created).

    A changed golongan pushes the previous one onto `riwayat_pangkat`.
    """
    values = data.record_values()
    existing = get_pegawai_by_nip(session, data.nip, include_deleted=True)
    if existing is None:
        record = Pegawai(**values)
        session.add(record)
        return record, True
    if existing.golongan != data.golongan:
        history = list(existing.riwayat_pangkat or [])
        history.append({"golongan": existing.golongan, "tmt": existing.tmt_pangkat.isoformat()})
        existing.riwayat_pangkat = history
    for name, value in values.items():
        if getattr(existing, name) != value:
            setattr(existing, name, value)
    existing.deleted = False
    session.add(existing)
    return existing, False


def get_pegawai_by_nip(
    session: Session, nip: str, *, include_deleted: bool = False
) -> Pegawai | None:
    try:
        digits = normalise_nip(nip)
    except RuleError:
        return None
    query = select(Pegawai).where(Pegawai.nip == digits)
    if not include_deleted:
        query = query.where(col(Pegawai.deleted).is_(False))
    return session.exec(query).first()


_WORD = re.compile(r"\w+", re.UNICODE)


def search_pegawai(session: Session, query: str, *, limit: int = 50) -> list[Pegawai]:
    """Pegawai whose NIP starts with the digits typed, or whose name has words
    starting with each word typed. Runs in the database (indexes and FTS5)."""
    compact = re.sub(r"[\s.\-]", "", query)
    if not compact:
        stmt = (
            select(Pegawai)
            .where(col(Pegawai.deleted).is_(False))
            .order_by(col(Pegawai.nama))
            .limit(limit)
        )
        return list(session.exec(stmt))
    if compact.isdigit():
        # A range scan on the unique NIP index: prefix search without LIKE.
        upper = compact[:-1] + chr(ord(compact[-1]) + 1)
        stmt = (
            select(Pegawai)
            .where(col(Pegawai.nip) >= compact, col(Pegawai.nip) < upper)
            .where(col(Pegawai.deleted).is_(False))
            .order_by(col(Pegawai.nip))
            .limit(limit)
        )
        return list(session.exec(stmt))
    words = _WORD.findall(query.lower())
    if not words:
        return []
    match = " AND ".join(f'"{w}"*' for w in words)
    rowids = [
        row[0]
        for row in session.connection().execute(
            text("SELECT rowid FROM pegawai_fts WHERE pegawai_fts MATCH :m ORDER BY rank LIMIT :n"),
            {"m": match, "n": limit * 2},
        )
    ]
    if not rowids:
        return []
    stmt = (
        select(Pegawai)
        .where(
            text("pegawai.rowid IN (SELECT value FROM json_each(:ids))").bindparams(ids=str(rowids))
        )
        .where(col(Pegawai.deleted).is_(False))
        .order_by(col(Pegawai.nama))
        .limit(limit)
    )
    return list(session.exec(stmt))


# -- CSV import ---------------------------------------------------------------------------


@dataclass
class RowError:
    line: int
    message: str


@dataclass
class CsvParseResult:
    rows: list[tuple[int, PegawaiInput]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def parse_pegawai_csv(content: bytes) -> CsvParseResult:
    """Validate a pegawai CSV (columns in CSV_COLUMNS; `,` or `;`).

    Bad rows are reported with their line number; a file that is not a CSV of
    pegawai at all raises StoreError so that nothing is imported from it.
    """
    if b"\x00" in content[:4096]:
        raise StoreError("Berkas ini bukan CSV (berisi data biner).", "NUL byte in CSV")
    try:
        decoded = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            decoded = content.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise StoreError("Berkas ini bukan teks CSV yang bisa dibaca.", repr(exc)) from exc
    sample = decoded[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(decoded), delimiter=delimiter)
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_CSV_COLUMNS if c not in headers]
    if missing:
        raise StoreError(
            "Berkas ini bukan CSV pegawai: kolom wajib tidak ada: " + ", ".join(missing) + ".",
            f"headers={headers!r}",
        )
    result = CsvParseResult()
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        values = {
            (k or "").strip().lower(): (v or "").strip()
            for k, v in row.items()
            if k and (k or "").strip().lower() in CSV_COLUMNS
        }
        if not any(values.values()):
            continue
        try:
            item = PegawaiInput.model_validate(
                {k: v for k, v in values.items() if v != "" or k == "nama"}
            )
        except ValidationError as exc:
            result.errors.append(RowError(line, _explain(exc)))
            continue
        except RuleError as exc:
            result.errors.append(RowError(line, exc.message))
            continue
        if item.nip in seen:
            result.errors.append(
                RowError(line, f"NIP {item.nip} sudah ada di baris {seen[item.nip]}")
            )
            continue
        seen[item.nip] = line
        result.rows.append((line, item))
    return result


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "baris"
        cause = err.get("ctx", {}).get("error")
        message = cause.message if isinstance(cause, BerkasError) else str(cause or err["msg"])
        if err["type"] == "missing":
            message = "wajib diisi"
        parts.append(f"{where}: {message.removeprefix('Value error, ')}")
    return "; ".join(parts)

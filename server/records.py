"""The generic record store: every wire table in one `record` table, plus the change log.

Field values are kept in wire form (store.database.to_wire of the SQLModel field), so the
merge compares like with like and a pulled record is exactly what a client stores.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Final, get_args

from pydantic import BaseModel, TypeAdapter, ValidationError, create_model
from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from server.models import Base, Record
from store.database import to_wire
from store.models import SYNCED_MODELS, SyncedRecord
from sync.protocol import DB_INT_MAX, ConflictInfo

# The record each table hangs from, by field: checked on write for existence and OPD.
PARENT_FIELD: Final[Mapping[str, tuple[str, str]]] = {
    "usulan": ("pegawai_id", "pegawai"),
    "dokumen": ("usulan_id", "usulan"),
    "usulan_history": ("usulan_id", "usulan"),
}
# A record's natural key inside its OPD (a NIP names one pegawai).
NATURAL_KEY: Final[Mapping[str, str]] = {"pegawai": "nip"}


class InvalidValue(ValueError):
    """A field value does not fit its column; `args[0]` names the field."""


def model_of(table: str) -> type[SyncedRecord]:
    return SYNCED_MODELS[table]


@cache
def data_fields(table: str) -> frozenset[str]:
    return frozenset(model_of(table).data_fields())


@cache
def _adapter(table: str, name: str) -> TypeAdapter[Any]:
    annotation = model_of(table).model_fields[name].annotation
    return TypeAdapter(annotation if annotation is not None else Any)


@cache
def _plain_type(table: str, name: str) -> type | None:
    """`str` or `int` when that is the field's whole type (a value of exactly that type
    needs no validation); None otherwise."""
    annotation = model_of(table).model_fields[name].annotation
    return annotation if annotation in (str, int) else None  # type: ignore[return-value]


@cache
def nullable_fields(table: str) -> frozenset[str]:
    """The data fields that may hold null (their type admits None)."""
    fields = model_of(table).model_fields
    return frozenset(
        name
        for name in data_fields(table)
        if fields[name].annotation is None or type(None) in get_args(fields[name].annotation)
    )


def _fits_database(value: Any) -> bool:
    """An integer column value must fit signed 64 bits (clients keep it in SQLite INTEGER)."""
    return type(value) is not int or -DB_INT_MAX - 1 <= value <= DB_INT_MAX


def normalise_value(table: str, name: str, value: Any) -> Any:
    """`value` of field `name` in wire form; InvalidValue if it does not fit the column."""
    if type(value) is _plain_type(table, name):  # bool is not int here: type(), not isinstance
        if not _fits_database(value):
            raise InvalidValue(name)
        return value
    try:
        wire = to_wire(_adapter(table, name).validate_python(value))
    except ValidationError:
        raise InvalidValue(name) from None
    if not _fits_database(wire):
        raise InvalidValue(name)
    return wire


@cache
def _data_model(table: str) -> type[BaseModel]:
    """A plain pydantic model of a table's data fields (same types and defaults as the
    SQLModel table, without its ORM machinery, which costs more than the validation)."""
    model = model_of(table)
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in model.model_fields.items()
        if name in data_fields(table)
    }
    return create_model(f"{model.__name__}Data", **fields)


def normalise_record(table: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """A full record's data fields validated together and put in wire form."""
    model = _data_model(table)
    try:
        obj = model.model_validate(dict(data))
    except ValidationError as exc:
        names = sorted({str(err["loc"][0]) for err in exc.errors() if err["loc"]})
        raise InvalidValue(", ".join(names) or "data") from None
    # JSON mode: dates as ISO text, enums as their values (as to_wire), in one Rust call.
    wire: dict[str, Any] = model.__pydantic_serializer__.to_python(obj, mode="json")
    too_big = sorted(name for name, value in wire.items() if not _fits_database(value))
    if too_big:
        raise InvalidValue(", ".join(too_big))
    return wire


@dataclass
class StoredRecord:
    """One row of `record`, as plain values (the push path uses Core, not the ORM)."""

    table_name: str
    record_id: str
    opd_id: str
    version: int
    data: dict[str, Any]
    deleted: bool
    updated_at: str
    updated_by: str
    parent_id: str | None = None
    natural_key: str | None = None
    received_at: float = 0.0


_RECORD = Base.metadata.tables["record"]
_RECORD_COLUMNS = [c for c in _RECORD.c]
_CHANGE_LOG = Base.metadata.tables["change_log"]
# Statements built once: building them per call costs more than running them.
_LOAD = select(*_RECORD_COLUMNS).where(
    _RECORD.c.table_name == bindparam("t"), _RECORD.c.record_id == bindparam("r")
)
_LOAD_MANY = select(*_RECORD_COLUMNS).where(
    _RECORD.c.table_name == bindparam("t"),
    _RECORD.c.record_id.in_(bindparam("ids", expanding=True)),
)
_CHILDREN = select(*_RECORD_COLUMNS).where(
    _RECORD.c.table_name == bindparam("t"), _RECORD.c.parent_id == bindparam("p")
)


def record_wire(row: StoredRecord | Record) -> dict[str, Any]:
    """Every column of a record as the client stores it."""
    wire: dict[str, Any] = {
        "id": row.record_id,
        "opd_id": row.opd_id,
        "version": row.version,
        "updated_at": row.updated_at,
        "updated_by": row.updated_by,
        "deleted": row.deleted,
    }
    wire.update(row.data)
    return wire


def load_record(conn: Connection, table: str, record_id: str) -> StoredRecord | None:
    row = conn.execute(_LOAD, {"t": table, "r": record_id}).first()
    return StoredRecord(**row._mapping) if row is not None else None


def _row_values(row: StoredRecord) -> dict[str, Any]:
    return {
        "table_name": row.table_name,
        "record_id": row.record_id,
        "opd_id": row.opd_id,
        "version": row.version,
        "data": row.data,
        "deleted": row.deleted,
        "updated_at": row.updated_at,
        "updated_by": row.updated_by,
        "parent_id": parent_id_of(row.table_name, row.data),
        "natural_key": natural_key_of(row.table_name, row.data),
        "received_at": row.received_at,
    }


_UPDATE = (
    update(_RECORD)
    .where(_RECORD.c.table_name == bindparam("key_table"))
    .where(_RECORD.c.record_id == bindparam("key_id"))
)


def save_records(conn: Connection, new: list[StoredRecord], changed: list[StoredRecord]) -> None:
    """Insert `new` and update `changed` rows, each kind in one executemany."""
    if new:
        conn.execute(insert(_RECORD), [_row_values(r) for r in new])
    if changed:
        conn.execute(
            _UPDATE,
            [{**_row_values(r), "key_table": r.table_name, "key_id": r.record_id} for r in changed],
        )


_NATURAL = (
    select(_RECORD.c.record_id)
    .where(_RECORD.c.opd_id == bindparam("o"))
    .where(_RECORD.c.table_name == bindparam("t"))
    .where(_RECORD.c.natural_key == bindparam("k"))
)


class RecordCache:
    """The records one write transaction reads and writes, keyed by (table, id).

    A push loads every record its ops name in one query per table, keeps what it changes
    here, and writes it all at the end (`flush`) in one statement per kind. Lookups that
    must see those pending changes (natural keys, an usulan's dokumen) ask the cache.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._rows: dict[tuple[str, str], StoredRecord | None] = {}
        self._new: dict[tuple[str, str], StoredRecord] = {}
        self._changed: dict[tuple[str, str], StoredRecord] = {}
        # (table, opd, natural key) -> ids of the rows this transaction has changed.
        self._by_key: dict[tuple[str, str, str], set[str]] = {}
        # (table, opd, natural key) -> ids holding it in the database, where preloaded.
        self._stored_keys: dict[tuple[str, str, str], list[str]] = {}

    def preload(self, keys: list[tuple[str, str]]) -> None:
        wanted = sorted({k for k in keys if k not in self._rows})
        by_table: dict[str, list[str]] = {}
        for table, record_id in wanted:
            by_table.setdefault(table, []).append(record_id)
        for table, ids in by_table.items():
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                for key in chunk:
                    self._rows[(table, key)] = None
                rows = self.conn.execute(_LOAD_MANY, {"t": table, "ids": chunk})
                for row in rows:
                    record = StoredRecord(**row._mapping)
                    self._rows[(table, record.record_id)] = record

    def get(self, table: str, record_id: str) -> StoredRecord | None:
        key = (table, record_id)
        if key not in self._rows:
            self._rows[key] = load_record(self.conn, table, record_id)
        return self._rows[key]

    def save(self, row: StoredRecord, *, new: bool) -> None:
        """Keep `row` as the current state; written to the database by `flush`."""
        key = (row.table_name, row.record_id)
        old = self._rows.get(key)
        old_natural = natural_key_of(row.table_name, old.data) if old is not None else None
        if old is not None and old_natural is not None:
            self._by_key.get((row.table_name, old.opd_id, old_natural), set()).discard(
                row.record_id
            )
        natural = natural_key_of(row.table_name, row.data)
        if natural is not None:
            self._by_key.setdefault((row.table_name, row.opd_id, natural), set()).add(row.record_id)
        self._rows[key] = row
        if new or key in self._new:
            self._new[key] = row
        else:
            self._changed[key] = row

    def flush(self) -> None:
        save_records(self.conn, list(self._new.values()), list(self._changed.values()))
        self._new.clear()
        self._changed.clear()

    def preload_natural_keys(self, table: str, keys: list[tuple[str, str]]) -> None:
        """Look up at once which stored records hold these (opd, natural key) pairs."""
        by_opd: dict[str, list[str]] = {}
        for opd_id, key in keys:
            if (table, opd_id, key) not in self._stored_keys:
                self._stored_keys[(table, opd_id, key)] = []
                by_opd.setdefault(opd_id, []).append(key)
        for opd_id, wanted in by_opd.items():
            for start in range(0, len(wanted), 500):
                rows = self.conn.execute(
                    _NATURAL_MANY, {"o": opd_id, "t": table, "keys": wanted[start : start + 500]}
                )
                for record_id, key in rows:
                    self._stored_keys[(table, opd_id, key)].append(record_id)

    def natural_key_taken(self, table: str, opd_id: str, key: str, record_id: str) -> bool:
        """Whether another record of `opd_id` already has natural key `key`."""
        cached_ids = self._by_key.get((table, opd_id, key), set())
        if any(other != record_id for other in cached_ids):
            return True
        stored = self._stored_keys.get((table, opd_id, key))
        if stored is None:
            stored = list(
                self.conn.execute(_NATURAL, {"o": opd_id, "t": table, "k": key}).scalars()
            )
        for other in stored:
            if other == record_id:
                continue
            cached = self._rows.get((table, other))
            if cached is None or natural_key_of(table, cached.data) == key:
                return True  # not changed by this transaction, or changed and still equal
        return False

    def children(self, table: str, parent_id: str) -> list[StoredRecord]:
        """Records of `table` hanging from `parent_id`, with this transaction's changes."""
        found: dict[str, StoredRecord] = {}
        for row in self.conn.execute(_CHILDREN, {"t": table, "p": parent_id}):
            record = StoredRecord(**row._mapping)
            found[record.record_id] = record
        for (cached_table, cached_id), cached in self._rows.items():
            if cached_table != table:
                continue
            if cached is not None and parent_id_of(table, cached.data) == parent_id:
                found[cached_id] = cached
            elif cached_id in found:
                found.pop(cached_id)  # moved to another parent in this transaction
        return list(found.values())


_NATURAL_MANY = (
    select(_RECORD.c.record_id, _RECORD.c.natural_key)
    .where(_RECORD.c.opd_id == bindparam("o"))
    .where(_RECORD.c.table_name == bindparam("t"))
    .where(_RECORD.c.natural_key.in_(bindparam("keys", expanding=True)))
)


def find_by_natural_key(conn: Connection, table: str, opd_id: str, key: str) -> str | None:
    """The id of the record of `opd_id` whose natural key is `key`, if any."""
    return conn.execute(_NATURAL, {"o": opd_id, "t": table, "k": key}).scalars().first()


def natural_key_of(table: str, data: Mapping[str, Any]) -> str | None:
    name = NATURAL_KEY.get(table)
    value = data.get(name) if name else None
    return str(value) if value is not None else None


def parent_id_of(table: str, data: Mapping[str, Any]) -> str | None:
    parent = PARENT_FIELD.get(table)
    value = data.get(parent[0]) if parent else None
    return str(value) if value is not None else None


class ChangeLogWriter:
    """Hands out change-log sequences inside one serial write transaction.

    Serial writers (Database.write) run one at a time, so the newest sequence read once
    at the start stays the newest: each logged record takes the next number in memory, and
    `flush` moves each record's single change-log row to its newest number with one
    executemany upsert. Sequences never go down (a row only ever moves up), so they commit
    in order.
    """

    def __init__(self, conn: Connection, dialect: str) -> None:
        self.conn = conn
        self._last: int | None = None
        self._pending: dict[tuple[str, str], dict[str, Any]] = {}
        module = sqlite if dialect == "sqlite" else postgresql
        statement = module.insert(_CHANGE_LOG)
        self._upsert = statement.on_conflict_do_update(
            index_elements=[_CHANGE_LOG.c.table_name, _CHANGE_LOG.c.record_id],
            set_={
                "seq": statement.excluded.seq,
                "opd_id": statement.excluded.opd_id,
                "logged_at": statement.excluded.logged_at,
            },
        )

    @property
    def last(self) -> int:
        """The newest sequence in the log (including what this transaction logged)."""
        if self._last is None:
            self._last = current_seq(self.conn)
        return self._last

    def log(self, row: StoredRecord, now: float | None = None) -> int:
        """Give `row` the next sequence (written by `flush`); returns it."""
        seq = self.last + 1
        key = (row.table_name, row.record_id)
        self._pending.pop(key, None)  # keep insertion order = sequence order
        self._pending[key] = {
            "seq": seq,
            "table_name": row.table_name,
            "record_id": row.record_id,
            "opd_id": row.opd_id,
            "logged_at": time.time() if now is None else now,
        }
        self._last = seq
        return seq

    def flush(self) -> None:
        if self._pending:
            self.conn.execute(self._upsert, list(self._pending.values()))
            self._pending.clear()


def current_seq(conn: Connection) -> int:
    return int(conn.execute(select(func.max(_CHANGE_LOG.c.seq))).scalar() or 0)


_OPD_SEQ = select(func.max(_CHANGE_LOG.c.seq)).where(_CHANGE_LOG.c.opd_id == bindparam("o"))


def opd_seq(conn: Connection, opd_id: str) -> int:
    """The newest change-log sequence of one OPD's records."""
    return int(conn.execute(_OPD_SEQ, {"o": opd_id}).scalar() or 0)


_DEVICE = Base.metadata.tables["device"]
_DEVICE_NAMES = select(_DEVICE.c.id, _DEVICE.c.name).where(
    _DEVICE.c.id.in_(bindparam("ids", expanding=True))
)


def device_names(conn: Connection, ids: Iterable[str]) -> dict[str, str]:
    """The enrolled names of these devices (those the register knows)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {str(i): str(n) for i, n in conn.execute(_DEVICE_NAMES, {"ids": wanted})}


def conflict_info(row: Mapping[str, Any], names: Mapping[str, str]) -> ConflictInfo:
    """A `conflict` row (as a mapping of its columns) on the wire; `names` maps device ids
    to the names they enrolled with (device_names)."""
    return ConflictInfo(
        conflict_id=row["id"],
        table=row["table_name"],
        record_id=row["record_id"],
        field=row["field"],
        base=row["base"],
        mine=row["mine"],
        theirs=row["theirs"],
        mine_by=row["mine_by"],
        theirs_by=row["theirs_by"],
        mine_at=row["mine_at"],
        theirs_at=row["theirs_at"],
        resolved=bool(row["resolved"]),
        resolution=row["resolution"],
        mine_device=names.get(row["mine_by"], "")[:100],
        theirs_device=names.get(row["theirs_by"], "")[:100],
    )

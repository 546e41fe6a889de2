"""The tables: synced records (Pegawai, Usulan, Dokumen, UsulanHistory) and the
local bookkeeping beside them (outbox, conflicts, blobs, inbox, meta).

The schema on disk is made by `store.migrations`; a test checks that these
models and the migrated schema agree column for column.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from store.ids import new_id

# Columns every synced record carries; they travel beside the data fields,
# never inside an op's `changes`.
SYNC_COLUMNS = frozenset({"id", "opd_id", "version", "updated_at", "updated_by", "deleted"})


class SyncedRecord(SQLModel):
    """Columns DESIGN.md asks of every synced record."""

    __wire_table__: ClassVar[str] = ""

    id: str = Field(default_factory=new_id, primary_key=True)
    opd_id: str = Field(default="", index=True)
    # Server-assigned; 0 means the server has not accepted this record yet.
    version: int = Field(default=0)
    updated_at: str = Field(default="")  # hybrid logical clock stamp
    updated_by: str = Field(default="")  # device id
    deleted: bool = Field(default=False)

    @classmethod
    def data_fields(cls) -> list[str]:
        """The fields an op may change: every column but the sync columns."""
        return [name for name in cls.model_fields if name not in SYNC_COLUMNS]


class Pegawai(SyncedRecord, table=True):
    __tablename__ = "pegawai"
    __wire_table__: ClassVar[str] = "pegawai"

    nip: str = Field(index=True, unique=True)
    nama: str
    tanggal_lahir: date
    jenis_kelamin: int  # 1 laki-laki, 2 perempuan
    jenis_pegawai: str = Field(default="pns")  # pns | pppk
    golongan: str  # "III/a"
    tmt_pangkat: date
    tmt_cpns: date
    tmt_pns: date | None = None
    pendidikan: str  # rules.Pendidikan value
    jabatan: str = ""
    jabatan_kind: str  # rules.JabatanKind value
    unit_kerja: str = ""
    # Earlier pangkat: [{"golongan": "III/a", "tmt": "2015-04-01"}, ...]
    riwayat_pangkat: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))


class Usulan(SyncedRecord, table=True):
    __tablename__ = "usulan"
    __wire_table__: ClassVar[str] = "usulan"

    pegawai_id: str = Field(foreign_key="pegawai.id", index=True)
    nip: str = Field(index=True)
    layanan: str  # rules.Layanan value
    jenis: str  # kp: reguler/pilihan_*; pensiun: bup/aps/...; pindah: pindah
    periode: date | None = None  # TMT of the KP period or of the pensiun
    status: str = Field(default="draft", index=True)
    catatan: str = ""  # the OPD's own notes
    catatan_verifikator: str = ""  # BTS / TMS notes from the BKD
    # Optional checklist items (the trailing * in DOMAIN.md) that apply here.
    berlaku: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    # Checklist lines the OPD marked "tidak berlaku", kode -> the reason the verifikator reads.
    tidak_berlaku: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON))
    nomor_pertek: str = ""
    tanggal_pertek: date | None = None


class Dokumen(SyncedRecord, table=True):
    __tablename__ = "dokumen"
    __wire_table__: ClassVar[str] = "dokumen"

    usulan_id: str = Field(foreign_key="usulan.id", index=True)
    kode: str  # dokumen kind code, e.g. SK_CPNS
    sha256: str = Field(default="", index=True)  # plaintext content address
    size: int = 0
    pages: int = 0
    nama_file: str = ""  # canonical name <NIP>_<KODE>.pdf
    state: str = "ada"  # ada | terlalu_besar | dikembalikan
    catatan_verifikator: str = ""
    # What intake read on the scan (its name or first page): a NIP and a dokumen kind, ""
    # when it read nothing. The BKD sees at a glance a scan filed for another pegawai.
    # Added after protocol 1: sent only to a server that names the feature
    # `dokumen-terbaca`, and a record without them holds "" (PROTOCOL.md §7.1).
    nip_terbaca: str = ""
    kode_terbaca: str = ""


class UsulanHistory(SyncedRecord, table=True):
    __tablename__ = "usulan_history"
    __wire_table__: ClassVar[str] = "usulan_history"

    usulan_id: str = Field(foreign_key="usulan.id", index=True)
    dari_status: str
    ke_status: str
    oleh_perangkat: str
    oleh_nama: str
    waktu: str  # ISO 8601 UTC
    alasan: str = ""


SYNCED_MODELS: dict[str, type[SyncedRecord]] = {
    m.__wire_table__: m for m in (Pegawai, Usulan, Dokumen, UsulanHistory)
}


class OutboxEntry(SQLModel, table=True):
    """One local change waiting to be pushed, written with the change itself."""

    __tablename__ = "outbox"

    seq: int | None = Field(default=None, primary_key=True)
    op_id: str = Field(default_factory=new_id, unique=True)
    table_name: str
    record_id: str = Field(index=True)
    opd_id: str
    base_version: int
    # {field: {"base": value, "new": value}}, values in wire form (JSON).
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    deleted: bool | None = None
    resolves: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    hlc: str
    attempts: int = 0
    last_error: str = ""


class OutboxHistory(SQLModel, table=True):
    """An op the server acknowledged, kept HISTORY_KEEP_DAYS after it left the outbox: sent
    again when the server turns out to be restored from a backup taken before it."""

    __tablename__ = "outbox_history"

    id: int | None = Field(default=None, primary_key=True)
    op_id: str = Field(unique=True)
    table_name: str
    record_id: str
    opd_id: str
    base_version: int
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    deleted: bool | None = None
    resolves: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    hlc: str
    acked_at: float = Field(index=True)


class Conflict(SQLModel, table=True):
    """A field changed to different values on two sides; waits for a person."""

    __tablename__ = "conflict"

    id: str = Field(primary_key=True)  # the server's conflict id
    table_name: str
    record_id: str = Field(index=True)
    field: str
    base: Any = Field(default=None, sa_column=Column(JSON))
    mine: Any = Field(default=None, sa_column=Column(JSON))
    theirs: Any = Field(default=None, sa_column=Column(JSON))
    mine_by: str = ""
    theirs_by: str = ""
    mine_at: str = ""
    theirs_at: str = ""
    created_at: str = ""
    resolved: bool = False
    resolution: Any = Field(default=None, sa_column=Column(JSON))


class Blob(SQLModel, table=True):
    """A document stored encrypted in the local blob store, and its upload state."""

    __tablename__ = "blob"

    sha256: str = Field(primary_key=True)
    size: int  # plaintext bytes
    cipher_size: int = 0
    pages: int = 0
    created_at: str = ""
    upload_url: str = ""
    upload_offset: int = 0
    uploaded: bool = False
    file_id: str = ""


class InboxItem(SQLModel, table=True):
    """A normalised scan intake could not file by itself; a person finishes it."""

    __tablename__ = "inbox"

    id: str = Field(default_factory=new_id, primary_key=True)
    sha256: str = Field(foreign_key="blob.sha256")
    original_name: str
    nip: str = ""  # recognised NIP, if any
    kode: str = ""  # recognised dokumen kind, if any
    pages: int = 0
    size: int = 0
    terlalu_besar: bool = False
    reason: str = ""  # why it was not filed, in Bahasa Indonesia
    state: str = Field(default="menunggu", index=True)  # menunggu | diproses | dibuang
    created_at: str = ""


class Meta(SQLModel, table=True):
    """Small facts about this store: device, OPD, last pulled sequence, clock."""

    __tablename__ = "meta"

    key: str = Field(primary_key=True)
    value: str

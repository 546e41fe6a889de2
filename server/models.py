"""The server's own tables (SQLAlchemy 2 declarative, portable to SQLite and PostgreSQL).

Synced records are stored generically in `record` (one merge path for every wire table);
`change_log` keeps, per record, the server sequence of its latest accepted change, which is
what `GET /v1/sync/changes` pages through. Machine times are float Unix seconds (comparable
on both databases); times a person reads are ISO 8601 UTC text.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments an INTEGER PRIMARY KEY; BigInteger stays INTEGER there.
SeqInt = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Own metadata: the store's SQLModel tables never end up in the server database."""


class ServerMeta(Base):
    """Small facts about this database (schema version)."""

    __tablename__ = "server_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Opd(Base):
    """An OPD (or the BKD itself, for verifikator devices), keyed by its kode."""

    __tablename__ = "opd"

    kode: Mapped[str] = mapped_column(String(32), primary_key=True)
    nama: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[float] = mapped_column(Double)


class Device(Base):
    """An enrolled device: its public keys, its OPD and role; revoked devices stay listed."""

    __tablename__ = "device"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    opd_kode: Mapped[str] = mapped_column(ForeignKey("opd.kode"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # opd | verifikator
    name: Mapped[str] = mapped_column(String(100))
    signing_key: Mapped[str] = mapped_column(String(64))
    encryption_key: Mapped[str] = mapped_column(String(64))
    enrolled_at: Mapped[float] = mapped_column(Double)
    revoked_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    last_seen_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    # The Berkas version the device last said it runs (its User-Agent), for the admin.
    client_version: Mapped[str | None] = mapped_column(String(32), nullable=True)


class EnrolCode(Base):
    """A one-time enrolment code; only its hash is kept."""

    __tablename__ = "enrol_code"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    opd_kode: Mapped[str] = mapped_column(ForeignKey("opd.kode"))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[float] = mapped_column(Double)
    expires_at: Mapped[float] = mapped_column(Double)
    used_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    used_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Record(Base):
    """The server's current copy of one synced record (any wire table)."""

    __tablename__ = "record"

    table_name: Mapped[str] = mapped_column(String(32), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    opd_id: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[str] = mapped_column(String(200))  # HLC of the last change
    updated_by: Mapped[str] = mapped_column(String(128))  # device id
    # Parent record (usulan of a dokumen or history entry), for checklist queries.
    parent_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    # Natural key within the OPD (a pegawai's NIP), so imports and pushes do not duplicate.
    natural_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    received_at: Mapped[float] = mapped_column(Double)

    __table_args__ = (Index("ix_record_natural", "opd_id", "table_name", "natural_key"),)


class ChangeLog(Base):
    """The sequence of a record's latest change (or conflict news) that devices pull.

    One row per record: a newer change moves the row to the next sequence (assigned by
    server.records.ChangeLogWriter inside a serial write), so a pull (and a restore) sees
    each record once, in sequence order.
    """

    __tablename__ = "change_log"

    seq: Mapped[int] = mapped_column(SeqInt, primary_key=True, autoincrement=True)
    table_name: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(128))
    opd_id: Mapped[str] = mapped_column(String(32))
    logged_at: Mapped[float] = mapped_column(Double)

    __table_args__ = (
        UniqueConstraint("table_name", "record_id", name="uq_change_log_record"),
        Index("ix_change_log_opd_seq", "opd_id", "seq"),
        {"sqlite_autoincrement": True},
    )


class OpLog(Base):
    """The first result of every op, so a retried op_id gets the same answer."""

    __tablename__ = "op_log"

    op_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Double)


class ConflictRow(Base):
    """A field changed to different values on two sides; kept until a person resolves it."""

    __tablename__ = "conflict"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(128))
    opd_id: Mapped[str] = mapped_column(String(32))
    field: Mapped[str] = mapped_column(String(64))
    base: Mapped[Any] = mapped_column(JSON, nullable=True)
    mine: Mapped[Any] = mapped_column(JSON, nullable=True)
    theirs: Mapped[Any] = mapped_column(JSON, nullable=True)
    mine_by: Mapped[str] = mapped_column(String(128))
    theirs_by: Mapped[str] = mapped_column(String(128))
    mine_at: Mapped[str] = mapped_column(String(200))
    theirs_at: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[float] = mapped_column(Double)
    op_id: Mapped[str] = mapped_column(String(64))
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    resolution: Mapped[Any] = mapped_column(JSON, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    resolved_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    # Sequence of the change_log entry that last announced this conflict.
    seq: Mapped[int] = mapped_column(SeqInt, default=0)

    __table_args__ = (Index("ix_conflict_record", "table_name", "record_id"),)


class StatusMove(Base):
    """The server's own record of every usulan status move it accepted (audit trail)."""

    __tablename__ = "status_move"

    id: Mapped[int] = mapped_column(SeqInt, primary_key=True, autoincrement=True)
    usulan_id: Mapped[str] = mapped_column(String(128), index=True)
    opd_id: Mapped[str] = mapped_column(String(32))
    dari_status: Mapped[str] = mapped_column(String(32))
    ke_status: Mapped[str] = mapped_column(String(32))
    device_id: Mapped[str] = mapped_column(String(64))
    person: Mapped[str] = mapped_column(String(200))
    alasan: Mapped[str] = mapped_column(Text)
    observed_at: Mapped[float] = mapped_column(Double)
    op_id: Mapped[str] = mapped_column(String(64))

    __table_args__ = ({"sqlite_autoincrement": True},)


class SeenNonce(Base):
    """Request nonces seen inside the signature window (replay protection)."""

    __tablename__ = "seen_nonce"

    device_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    ts: Mapped[float] = mapped_column(Double, index=True)


class ThrottleCount(Base):
    """Failures of one kind (enrol, auth) from one client address in the current window
    (server.throttle); kept beside the nonces."""

    __tablename__ = "throttle_count"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[float] = mapped_column(Double)
    count: Mapped[int] = mapped_column(Integer)


class OpdKey(Base):
    """An OPD's public encryption key (made by its first device)."""

    __tablename__ = "opd_key"

    opd_kode: Mapped[str] = mapped_column(ForeignKey("opd.kode"), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Double)


class WrappedOpdKey(Base):
    """The OPD private key sealed to one recipient (a device, or the BKD verifier key)."""

    __tablename__ = "wrapped_opd_key"

    opd_kode: Mapped[str] = mapped_column(ForeignKey("opd.kode"), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(128), primary_key=True)
    envelope_b64: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Double)


class KeyRequest(Base):
    """An OPD device asking for a copy of its OPD key (a restore after every machine of the
    OPD was lost): the verifikator's "permintaan kunci". Open while the device is active and
    has no wrapped copy; kept after, as a record of who asked when."""

    __tablename__ = "key_request"

    device_id: Mapped[str] = mapped_column(ForeignKey("device.id"), primary_key=True)
    opd_kode: Mapped[str] = mapped_column(ForeignKey("opd.kode"), index=True)
    requested_at: Mapped[float] = mapped_column(Double)


class Upload(Base):
    """A tus upload: partial until `offset == length`, then linked to a StoredFile."""

    __tablename__ = "upload"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    capability_hash: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[str] = mapped_column(String(64))
    opd_kode: Mapped[str] = mapped_column(String(32))
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64))  # plaintext hash from the metadata
    dokumen_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    filename: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[float] = mapped_column(Double)
    expires_at: Mapped[float] = mapped_column(Double, index=True)
    completed_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    file_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The Upload-Metadata header as the client sent it: tus creation answers HEAD with it.
    upload_metadata: Mapped[str | None] = mapped_column(Text, nullable=True)


class StoredFile(Base):
    """A complete encrypted document of an OPD; the bytes live at blobs/<cipher_sha256>."""

    __tablename__ = "stored_file"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    opd_kode: Mapped[str] = mapped_column(String(32), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # plaintext address
    cipher_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)  # plaintext bytes
    cipher_size: Mapped[int] = mapped_column(BigInteger)
    dokumen_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    device_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Double)

    __table_args__ = (UniqueConstraint("opd_kode", "cipher_sha256", name="uq_stored_file_cipher"),)

"""Versioned schema migrations, run in order when a store opens.

Each step is plain DDL frozen at the version it shipped in: changing a model
later means adding a step here, never editing an old one.
"""

from __future__ import annotations

from collections.abc import Sequence

# Version 1: the base tables of the foundation.
_V1: tuple[str, ...] = (
    """
    CREATE TABLE blob (
        sha256 VARCHAR NOT NULL,
        size INTEGER NOT NULL,
        cipher_size INTEGER NOT NULL,
        pages INTEGER NOT NULL,
        created_at VARCHAR NOT NULL,
        upload_url VARCHAR NOT NULL,
        upload_offset INTEGER NOT NULL,
        uploaded BOOLEAN NOT NULL,
        file_id VARCHAR NOT NULL,
        PRIMARY KEY (sha256)
    )
    """,
    """
    CREATE TABLE "conflict" (
        id VARCHAR NOT NULL,
        table_name VARCHAR NOT NULL,
        record_id VARCHAR NOT NULL,
        field VARCHAR NOT NULL,
        base JSON,
        mine JSON,
        theirs JSON,
        mine_by VARCHAR NOT NULL,
        theirs_by VARCHAR NOT NULL,
        mine_at VARCHAR NOT NULL,
        theirs_at VARCHAR NOT NULL,
        created_at VARCHAR NOT NULL,
        resolved BOOLEAN NOT NULL,
        resolution JSON,
        PRIMARY KEY (id)
    )
    """,
    """
    CREATE INDEX ix_conflict_record_id ON "conflict" (record_id)
    """,
    """
    CREATE TABLE meta (
        "key" VARCHAR NOT NULL,
        value VARCHAR NOT NULL,
        PRIMARY KEY ("key")
    )
    """,
    """
    CREATE TABLE outbox (
        seq INTEGER NOT NULL,
        op_id VARCHAR NOT NULL,
        table_name VARCHAR NOT NULL,
        record_id VARCHAR NOT NULL,
        opd_id VARCHAR NOT NULL,
        base_version INTEGER NOT NULL,
        changes JSON,
        deleted BOOLEAN,
        resolves JSON,
        hlc VARCHAR NOT NULL,
        attempts INTEGER NOT NULL,
        last_error VARCHAR NOT NULL,
        PRIMARY KEY (seq),
        UNIQUE (op_id)
    )
    """,
    """
    CREATE INDEX ix_outbox_record_id ON outbox (record_id)
    """,
    """
    CREATE TABLE pegawai (
        id VARCHAR NOT NULL,
        opd_id VARCHAR NOT NULL,
        version INTEGER NOT NULL,
        updated_at VARCHAR NOT NULL,
        updated_by VARCHAR NOT NULL,
        deleted BOOLEAN NOT NULL,
        nip VARCHAR NOT NULL,
        nama VARCHAR NOT NULL,
        tanggal_lahir DATE NOT NULL,
        jenis_kelamin INTEGER NOT NULL,
        jenis_pegawai VARCHAR NOT NULL,
        golongan VARCHAR NOT NULL,
        tmt_pangkat DATE NOT NULL,
        tmt_cpns DATE NOT NULL,
        tmt_pns DATE,
        pendidikan VARCHAR NOT NULL,
        jabatan VARCHAR NOT NULL,
        jabatan_kind VARCHAR NOT NULL,
        unit_kerja VARCHAR NOT NULL,
        riwayat_pangkat JSON,
        PRIMARY KEY (id)
    )
    """,
    """
    CREATE UNIQUE INDEX ix_pegawai_nip ON pegawai (nip)
    """,
    """
    CREATE INDEX ix_pegawai_opd_id ON pegawai (opd_id)
    """,
    """
    CREATE TABLE inbox (
        id VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL,
        original_name VARCHAR NOT NULL,
        nip VARCHAR NOT NULL,
        kode VARCHAR NOT NULL,
        pages INTEGER NOT NULL,
        size INTEGER NOT NULL,
        terlalu_besar BOOLEAN NOT NULL,
        reason VARCHAR NOT NULL,
        state VARCHAR NOT NULL,
        created_at VARCHAR NOT NULL,
        PRIMARY KEY (id),
        FOREIGN KEY(sha256) REFERENCES blob (sha256)
    )
    """,
    """
    CREATE INDEX ix_inbox_state ON inbox (state)
    """,
    """
    CREATE TABLE usulan (
        id VARCHAR NOT NULL,
        opd_id VARCHAR NOT NULL,
        version INTEGER NOT NULL,
        updated_at VARCHAR NOT NULL,
        updated_by VARCHAR NOT NULL,
        deleted BOOLEAN NOT NULL,
        pegawai_id VARCHAR NOT NULL,
        nip VARCHAR NOT NULL,
        layanan VARCHAR NOT NULL,
        jenis VARCHAR NOT NULL,
        periode DATE,
        status VARCHAR NOT NULL,
        catatan VARCHAR NOT NULL,
        catatan_verifikator VARCHAR NOT NULL,
        berlaku JSON,
        nomor_pertek VARCHAR NOT NULL,
        tanggal_pertek DATE,
        PRIMARY KEY (id),
        FOREIGN KEY(pegawai_id) REFERENCES pegawai (id) DEFERRABLE INITIALLY DEFERRED
    )
    """,
    """
    CREATE INDEX ix_usulan_nip ON usulan (nip)
    """,
    """
    CREATE INDEX ix_usulan_opd_id ON usulan (opd_id)
    """,
    """
    CREATE INDEX ix_usulan_pegawai_id ON usulan (pegawai_id)
    """,
    """
    CREATE INDEX ix_usulan_status ON usulan (status)
    """,
    """
    CREATE TABLE dokumen (
        id VARCHAR NOT NULL,
        opd_id VARCHAR NOT NULL,
        version INTEGER NOT NULL,
        updated_at VARCHAR NOT NULL,
        updated_by VARCHAR NOT NULL,
        deleted BOOLEAN NOT NULL,
        usulan_id VARCHAR NOT NULL,
        kode VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL,
        size INTEGER NOT NULL,
        pages INTEGER NOT NULL,
        nama_file VARCHAR NOT NULL,
        state VARCHAR NOT NULL,
        catatan_verifikator VARCHAR NOT NULL,
        PRIMARY KEY (id),
        FOREIGN KEY(usulan_id) REFERENCES usulan (id) DEFERRABLE INITIALLY DEFERRED
    )
    """,
    """
    CREATE INDEX ix_dokumen_opd_id ON dokumen (opd_id)
    """,
    """
    CREATE INDEX ix_dokumen_sha256 ON dokumen (sha256)
    """,
    """
    CREATE INDEX ix_dokumen_usulan_id ON dokumen (usulan_id)
    """,
    """
    CREATE TABLE usulan_history (
        id VARCHAR NOT NULL,
        opd_id VARCHAR NOT NULL,
        version INTEGER NOT NULL,
        updated_at VARCHAR NOT NULL,
        updated_by VARCHAR NOT NULL,
        deleted BOOLEAN NOT NULL,
        usulan_id VARCHAR NOT NULL,
        dari_status VARCHAR NOT NULL,
        ke_status VARCHAR NOT NULL,
        oleh_perangkat VARCHAR NOT NULL,
        oleh_nama VARCHAR NOT NULL,
        waktu VARCHAR NOT NULL,
        alasan VARCHAR NOT NULL,
        PRIMARY KEY (id),
        FOREIGN KEY(usulan_id) REFERENCES usulan (id) DEFERRABLE INITIALLY DEFERRED
    )
    """,
    """
    CREATE INDEX ix_usulan_history_opd_id ON usulan_history (opd_id)
    """,
    """
    CREATE INDEX ix_usulan_history_usulan_id ON usulan_history (usulan_id)
    """,
)

# Version 2: full-text search over pegawai names (FTS5, external content), kept
# in step by triggers, so name search stays fast at 50,000 pegawai.
_V2: tuple[str, ...] = (
    """
    CREATE VIRTUAL TABLE pegawai_fts USING fts5(
        nama, content='pegawai', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER pegawai_fts_ai AFTER INSERT ON pegawai BEGIN
        INSERT INTO pegawai_fts(rowid, nama) VALUES (new.rowid, new.nama);
    END
    """,
    """
    CREATE TRIGGER pegawai_fts_ad AFTER DELETE ON pegawai BEGIN
        INSERT INTO pegawai_fts(pegawai_fts, rowid, nama) VALUES ('delete', old.rowid, old.nama);
    END
    """,
    """
    CREATE TRIGGER pegawai_fts_au AFTER UPDATE OF nama ON pegawai BEGIN
        INSERT INTO pegawai_fts(pegawai_fts, rowid, nama) VALUES ('delete', old.rowid, old.nama);
        INSERT INTO pegawai_fts(rowid, nama) VALUES (new.rowid, new.nama);
    END
    """,
    "INSERT INTO pegawai_fts(pegawai_fts) VALUES ('rebuild')",
    "CREATE INDEX ix_pegawai_nama ON pegawai (nama COLLATE NOCASE)",
)

# Version 3: ops the server acknowledged, kept for a while after they leave the outbox, so
# a device can send them again to a server restored from an older backup (PROTOCOL.md 9).
_V3: tuple[str, ...] = (
    """
    CREATE TABLE outbox_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        op_id VARCHAR NOT NULL,
        table_name VARCHAR NOT NULL,
        record_id VARCHAR NOT NULL,
        opd_id VARCHAR NOT NULL,
        base_version INTEGER NOT NULL,
        changes JSON,
        deleted BOOLEAN,
        resolves JSON,
        hlc VARCHAR NOT NULL,
        acked_at FLOAT NOT NULL,
        UNIQUE (op_id)
    )
    """,
    "CREATE INDEX ix_outbox_history_acked_at ON outbox_history (acked_at)",
)

# Version 4: what intake read on a filed scan (NIP and kind), synced with the dokumen.
_V4: tuple[str, ...] = (
    "ALTER TABLE dokumen ADD COLUMN nip_terbaca VARCHAR NOT NULL DEFAULT ''",
    "ALTER TABLE dokumen ADD COLUMN kode_terbaca VARCHAR NOT NULL DEFAULT ''",
)
# Version 5: checklist lines the OPD marked "tidak berlaku", with their reasons.
_V5: tuple[str, ...] = ("ALTER TABLE usulan ADD COLUMN tidak_berlaku JSON",)

MIGRATIONS: Sequence[tuple[str, ...]] = (_V1, _V2, _V3, _V4, _V5)
SCHEMA_VERSION = len(MIGRATIONS)

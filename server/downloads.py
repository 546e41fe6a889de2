"""Stored documents for download: listing what a device may fetch, and byte ranges."""

from __future__ import annotations

import re

from sqlalchemy import select

from server.access import can_read
from server.auth import Caller
from server.db import Database
from server.errors import ApiError, not_found
from server.models import StoredFile
from sync.protocol import BlobInfo, FileList

_FILE_ID = re.compile(r"^[0-9a-f]{32}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# At most 18 digits a bound: larger numbers fit no file and no database integer (and
# Python refuses to parse thousands of digits); such a header is ignored as not understood.
_RANGE = re.compile(r"^bytes=(\d{0,18})-(\d{0,18})$")


def blob_info(row: StoredFile) -> BlobInfo:
    return BlobInfo(sha256=row.sha256, size=row.size, cipher_size=row.cipher_size, file_id=row.id)


def list_files(
    db: Database,
    caller: Caller,
    *,
    after: str | None,
    limit: int,
    sha256: str | None,
    opd: str | None,
) -> FileList:
    """The caller's OPD's files (a verifikator: every OPD, or `opd`), by file id."""
    if sha256 is not None and not _SHA256.match(sha256):
        raise ApiError(422, "isian_tidak_sah", "sha256 harus 64 digit heksadesimal.")
    if after is not None and not _FILE_ID.match(after):
        raise ApiError(422, "isian_tidak_sah", "after harus id berkas (32 digit heksadesimal).")
    query = select(StoredFile).order_by(StoredFile.id).limit(limit + 1)
    if caller.is_verifier:
        if opd:
            query = query.where(StoredFile.opd_kode == opd)
    else:
        if opd and opd != caller.opd_kode:
            return FileList(files=[], has_more=False)
        query = query.where(StoredFile.opd_kode == caller.opd_kode)
    if after:
        query = query.where(StoredFile.id > after)
    if sha256:
        query = query.where(StoredFile.sha256 == sha256)
    with db.read() as session:
        rows = list(session.scalars(query))
    return FileList(files=[blob_info(r) for r in rows[:limit]], has_more=len(rows) > limit)


def find_file(db: Database, caller: Caller, file_id: str) -> StoredFile:
    """The stored file, if the caller may read it; the same 404 otherwise."""
    if not _FILE_ID.match(file_id):
        raise not_found("file id")
    with db.read() as session:
        row = session.get(StoredFile, file_id)
    if row is None or not can_read(caller.role, caller.opd_kode, row.opd_kode):
        raise not_found("file")
    return row


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The single byte range asked for, inclusive, or None for the whole file.

    416 when it cannot be satisfied; several ranges, or other units, get the whole file.
    """
    if header is None:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None  # not a single byte range we understand: ignored, as RFC 9110 says
    first, last = match.groups()
    if first == "" and last == "":
        raise _unsatisfiable(size)
    if first == "":
        length = int(last)
        if length == 0 or size == 0:
            raise _unsatisfiable(size)
        return max(0, size - length), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or (last != "" and int(last) < start):
        raise _unsatisfiable(size)
    return start, end


def _unsatisfiable(size: int) -> ApiError:
    return ApiError(
        416,
        "rentang_tidak_sah",
        "Rentang unduhan tidak dapat dipenuhi.",
        headers={"Content-Range": f"bytes */{size}"},
    )

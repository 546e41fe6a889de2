"""Documents: tus 1.0 uploads (core, creation, creation-with-upload, checksum, termination,
expiration) and signed downloads with Range.

POST /v1/files is a signed request like every other; it answers with
`Location: /v1/files/<upload_id>?cap=<capability>`. HEAD, PATCH and DELETE on that URL
need only the capability, so any tus client can drive the transfer. The body is the
encrypted document stream; the server stores ciphertext only.
"""

from __future__ import annotations

import fcntl
import os
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from server.api.docs import sealed_answer
from server.auth import sealed_response
from server.downloads import find_file, list_files, parse_range
from server.errors import ApiError
from server.models import Upload
from server.services import CallerDep, Services, ServicesDep
from server.uploads import (
    CHECKSUM_ALGORITHMS,
    TUS_EXTENSIONS,
    TUS_VERSION,
    http_date,
    parse_checksum,
    parse_metadata,
)
from sync.protocol import ErrorBody, FileList

router = APIRouter(tags=["dokumen"])

OFFSET_MEDIA_TYPE: Final = "application/offset+octet-stream"
FILE_ID_HEADER: Final = "Berkas-File-Id"
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 403, 404, 409, 410, 412, 413, 415, 423, 460)
}


def tus_headers(svc: Services) -> dict[str, str]:
    return {
        "Tus-Resumable": TUS_VERSION,
        "Tus-Version": TUS_VERSION,
        "Tus-Extension": TUS_EXTENSIONS,
        "Tus-Max-Size": str(svc.settings.max_upload_size),
        "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
    }


def _require_tus(request: Request) -> None:
    if request.headers.get("tus-resumable") != TUS_VERSION:
        raise ApiError(
            412,
            "versi_tus_salah",
            "Versi protokol unggah tidak didukung (perlu Tus-Resumable: 1.0.0).",
            headers={"Tus-Version": TUS_VERSION},
        )


def _int_header(request: Request, name: str) -> int:
    value = request.headers.get(name)
    if value is None or not value.isdigit() or len(value) > 18:
        raise ApiError(400, "header_tidak_sah", f"Header {name} wajib berupa bilangan bulat.")
    return int(value)


def _progress_headers(upload: Upload) -> dict[str, str]:
    headers = {
        "Upload-Offset": str(upload.offset),
        "Upload-Length": str(upload.length),
        "Cache-Control": "no-store",
    }
    if upload.completed_at is None:
        headers["Upload-Expires"] = http_date(upload.expires_at)
    if upload.file_id:
        headers[FILE_ID_HEADER] = upload.file_id
    return headers


@router.options("/v1/files", summary="Kemampuan tus server", status_code=204)
@router.options("/v1/files/{upload_id}", summary="Kemampuan tus server", status_code=204)
async def tus_options(svc: ServicesDep) -> Response:
    return Response(status_code=204, headers=tus_headers(svc))


@router.post(
    "/v1/files",
    summary="Buat unggahan tus (bertanda tangan)",
    description="Header: Tus-Resumable, Upload-Length, Upload-Metadata (sha256 wajib, "
    "filename, dokumen_id). Jawaban 201 dengan Location berisi kapabilitas.",
    status_code=201,
    responses=_ERRORS,
)
async def create_upload(
    request: Request,
    caller: CallerDep,
    svc: ServicesDep,
) -> Response:
    _require_tus(request)
    if "upload-defer-length" in request.headers:
        raise ApiError(400, "header_tidak_sah", "Upload-Defer-Length tidak didukung.")
    length = _int_header(request, "upload-length")
    if length > svc.settings.max_upload_size:
        raise ApiError(
            413,
            "terlalu_besar",
            f"Dokumen melebihi batas unggah {svc.settings.max_upload_size} bita.",
            headers={"Tus-Max-Size": str(svc.settings.max_upload_size)},
        )
    first = caller.body  # creation-with-upload: the body is the upload's first bytes
    if first:
        _check_first_chunk(request, first, length)
    meta = parse_metadata(request.headers.get("upload-metadata"))
    upload, capability = await run_in_threadpool(svc.uploads.create, caller, length, meta)
    svc.metrics.upload_sessions.labels("created").inc()
    if first:
        await run_in_threadpool(_write_first_chunk, svc, upload.id, first)
        upload = await run_in_threadpool(svc.uploads.advance, upload, len(first))
        svc.metrics.upload_bytes.inc(len(first))
    headers = {
        "Location": f"/v1/files/{upload.id}?cap={capability}",
        "Upload-Expires": http_date(upload.expires_at),
        "Upload-Offset": str(upload.offset),
    }
    if upload.offset == length:
        stored = await run_in_threadpool(svc.uploads.finish, upload)
        headers[FILE_ID_HEADER] = stored.id
        headers.pop("Upload-Expires")
        svc.metrics.upload_sessions.labels("completed").inc()
    return Response(status_code=201, headers=headers)


def _check_first_chunk(request: Request, first: bytes, length: int) -> None:
    """A creation that carries data (tus creation-with-upload): the same rules as a PATCH
    at offset 0, checked before anything is created."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != OFFSET_MEDIA_TYPE:
        raise ApiError(
            415, "jenis_isi_salah", f"Isi pembuatan unggahan harus berjenis {OFFSET_MEDIA_TYPE}."
        )
    if len(first) > length:
        raise ApiError(413, "melebihi_panjang", "Potongan melebihi Upload-Length unggahan.")
    checksum = parse_checksum(request.headers.get("upload-checksum"))
    if checksum is not None and CHECKSUM_ALGORITHMS[checksum[0]](first).digest() != checksum[1]:
        raise ApiError(
            460,
            "checksum_salah",
            "Checksum potongan unggahan tidak cocok; potongan dibuang, kirim ulang.",
        )


def _write_first_chunk(svc: Services, upload_id: str, data: bytes) -> None:
    # Nobody else holds the capability yet: no lock needed; fsynced before it is recorded.
    fd = os.open(svc.blobs.partial_path(upload_id), os.O_RDWR)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


@router.head("/v1/files/{upload_id}", summary="Offset unggahan (kapabilitas)", responses=_ERRORS)
async def upload_offset(
    upload_id: str,
    request: Request,
    svc: ServicesDep,
    cap: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    _require_tus(request)
    upload = await run_in_threadpool(svc.uploads.open, upload_id, cap)
    headers = _progress_headers(upload)
    if upload.upload_metadata:  # creation extension: HEAD repeats the client's metadata
        headers["Upload-Metadata"] = upload.upload_metadata
    return Response(status_code=200, headers=headers)


@router.patch(
    "/v1/files/{upload_id}",
    summary="Kirim potongan unggahan (kapabilitas)",
    status_code=204,
    responses=_ERRORS,
)
async def upload_chunk(
    upload_id: str,
    request: Request,
    svc: ServicesDep,
    cap: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    _require_tus(request)
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != OFFSET_MEDIA_TYPE:
        raise ApiError(
            415, "jenis_isi_salah", f"Potongan unggahan harus berjenis {OFFSET_MEDIA_TYPE}."
        )
    offset = _int_header(request, "upload-offset")
    checksum = parse_checksum(request.headers.get("upload-checksum"))
    upload = _at_offset(await run_in_threadpool(svc.uploads.open, upload_id, cap), offset)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and offset + int(declared) > upload.length:
        raise ApiError(413, "melebihi_panjang", "Potongan melebihi Upload-Length unggahan.")
    done = await _receive_chunk(svc, request, upload_id, cap, offset, checksum)
    if done is None:  # the client went away; whatever was kept is recorded
        return Response(status_code=400)
    return Response(status_code=204, headers=_progress_headers(done))


def _at_offset(upload: Upload, offset: int) -> Upload:
    if offset != upload.offset:
        raise ApiError(
            409,
            "offset_tidak_cocok",
            "Offset unggahan tidak cocok; tanyakan offset terbaru (HEAD) lalu lanjutkan.",
            f"client {offset}, server {upload.offset}",
            headers={"Upload-Offset": str(upload.offset)},
        )
    return upload


async def _receive_chunk(
    svc: Services,
    request: Request,
    upload_id: str,
    cap: str | None,
    offset: int,
    checksum: tuple[str, bytes] | None,
) -> Upload | None:
    """On PostgreSQL the upload is first held through the database (several hosts may
    share the blob folder, where file locks do not reach every host): 423 when another
    process holds it. The flock below then guards against threads of this host."""
    if svc.db.is_sqlite:
        return await _receive_chunk_locked(svc, request, upload_id, cap, offset, checksum)
    with svc.uploads.hold(upload_id) as held:
        if not held:
            raise ApiError(423, "sedang_dipakai", "Unggahan ini sedang menerima potongan lain.")
        return await _receive_chunk_locked(svc, request, upload_id, cap, offset, checksum)


async def _receive_chunk_locked(
    svc: Services,
    request: Request,
    upload_id: str,
    cap: str | None,
    offset: int,
    checksum: tuple[str, bytes] | None,
) -> Upload | None:
    """Append the body to the partial file at `offset` and record the new offset; returns
    the upload as recorded, or None if the client disconnected (keeping what arrived,
    unless a checksum was sent).

    Everything from reading the recorded offset to recording the new one (and completing
    the upload) happens under the partial file's lock: a PATCH that comes in meanwhile
    gets 423, and one that comes after sees the new offset, so the file can never be cut
    back below, or grow past, what the database records.
    """
    path = svc.blobs.partial_path(upload_id)
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        raise ApiError(404, "tidak_ditemukan", "Unggahan tidak ditemukan.") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ApiError(
                423, "sedang_dipakai", "Unggahan ini sedang menerima potongan lain."
            ) from None
        # The offset read before the lock may be stale: a PATCH that held it has moved on.
        upload = _at_offset(await run_in_threadpool(svc.uploads.open, upload_id, cap), offset)
        start = upload.offset
        # Bytes past the recorded offset (from a cut that was never recorded) are not ours.
        os.ftruncate(fd, start)
        os.lseek(fd, start, os.SEEK_SET)
        hasher: Any = CHECKSUM_ALGORITHMS[checksum[0]]() if checksum else None
        received = 0
        disconnected = False
        limit = upload.length - start
        try:
            async for chunk in request.stream():
                if not chunk:
                    continue
                if received + len(chunk) > limit:
                    os.ftruncate(fd, start)
                    raise ApiError(
                        413, "melebihi_panjang", "Potongan melebihi Upload-Length unggahan."
                    )
                await run_in_threadpool(_write_all, fd, chunk)
                if hasher is not None:
                    hasher.update(chunk)
                received += len(chunk)
        except ClientDisconnect:
            disconnected = True
        if checksum is not None and (disconnected or hasher.digest() != checksum[1]):
            os.ftruncate(fd, start)
            if disconnected:
                return None
            raise ApiError(
                460,
                "checksum_salah",
                "Checksum potongan unggahan tidak cocok; potongan dibuang, kirim ulang.",
            )
        await run_in_threadpool(os.fsync, fd)
        if received:
            upload = await run_in_threadpool(svc.uploads.advance, upload, start + received)
            svc.metrics.upload_bytes.inc(received)
        if disconnected:
            return None
        if upload.offset == upload.length and upload.completed_at is None:
            await run_in_threadpool(svc.uploads.finish, upload)
            svc.metrics.upload_sessions.labels("completed").inc()
        return upload
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


@router.delete(
    "/v1/files/{upload_id}",
    summary="Batalkan unggahan (kapabilitas)",
    status_code=204,
    responses=_ERRORS,
)
async def terminate_upload(
    upload_id: str,
    request: Request,
    svc: ServicesDep,
    cap: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    _require_tus(request)
    upload = await run_in_threadpool(svc.uploads.open, upload_id, cap)
    await run_in_threadpool(svc.uploads.discard, upload.id)
    svc.metrics.upload_sessions.labels("terminated").inc()
    return Response(status_code=204)


@router.get(
    "/v1/files",
    summary="Daftar dokumen yang boleh diunduh perangkat ini",
    responses=sealed_answer(FileList),
)
def get_file_list(
    caller: CallerDep,
    svc: ServicesDep,
    after: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    sha256: Annotated[str | None, Query(max_length=64)] = None,
    opd: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    page = list_files(svc.db, caller, after=after, limit=limit, sha256=sha256, opd=opd)
    return sealed_response(caller, page)


@router.get(
    "/v1/files/{file_id}",
    summary="Unduh dokumen terenkripsi (mendukung Range)",
    responses={206: {"description": "Sebagian isi"}, 416: {"model": ErrorBody}, **_ERRORS},
)
async def download_file(
    file_id: str,
    request: Request,
    caller: CallerDep,
    svc: ServicesDep,
) -> Response:
    stored = await run_in_threadpool(find_file, svc.db, caller, file_id)
    size = stored.cipher_size
    byte_range = parse_range(request.headers.get("range"), size)
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": f'"{stored.cipher_sha256}"',
        "Cache-Control": "private, no-store",
    }
    if byte_range is None:
        start, end, status = 0, size - 1, 200
    else:
        (start, end), status = byte_range, 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(max(0, end - start + 1))
    return StreamingResponse(
        svc.blobs.read_range(stored.cipher_sha256, start, end),
        status_code=status,
        headers=headers,
        media_type="application/octet-stream",
    )

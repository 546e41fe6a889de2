"""Errors as answers: every refusal is an ErrorBody {kode, pesan, detail} with its status.

`kode` is a stable machine code, `pesan` a short Bahasa Indonesia sentence for the person,
`detail` the technical cause (never personal data or key material).
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from collections.abc import Iterator, Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from sync.crypto.signing import WWW_AUTHENTICATE
from sync.protocol import ErrorBody

log = logging.getLogger(__name__)

DISK_FULL_KODE = "ruang_disk_penuh"
_STATUS_DEFAULTS: Mapping[int, tuple[str, str]] = {
    400: ("permintaan_tidak_sah", "Permintaan tidak sah."),
    401: ("tidak_terautentikasi", "Permintaan tidak bertanda tangan yang sah."),
    403: ("dilarang", "Perangkat ini tidak berhak melakukan itu."),
    404: ("tidak_ditemukan", "Data tidak ditemukan."),
    405: ("metode_tidak_didukung", "Metode HTTP ini tidak didukung di alamat ini."),
    409: ("konflik", "Permintaan bertentangan dengan keadaan data di server."),
    410: ("kedaluwarsa", "Data ini sudah kedaluwarsa."),
    412: ("versi_tus_salah", "Versi protokol unggah tidak didukung."),
    413: ("terlalu_besar", "Ukuran permintaan melebihi batas."),
    415: ("jenis_isi_salah", "Jenis isi (Content-Type) permintaan salah."),
    416: ("rentang_tidak_sah", "Rentang unduhan tidak dapat dipenuhi."),
    422: ("isian_tidak_sah", "Isian permintaan tidak sah."),
    423: ("sedang_dipakai", "Unggahan ini sedang dipakai oleh permintaan lain."),
    429: ("terlalu_sering", "Terlalu banyak permintaan. Coba lagi nanti."),
    460: ("checksum_salah", "Checksum potongan unggahan tidak cocok; potongan dibuang."),
    500: ("kesalahan_server", "Terjadi kesalahan di server. Coba lagi nanti."),
    507: (
        DISK_FULL_KODE,
        "Ruang disk server BKD penuh; data belum disimpan. Coba lagi nanti.",
    ),
}
# A full disk needs an admin: clients wait this long before asking again.
DISK_FULL_RETRY_AFTER_SECONDS = 300
_PG_DISK_FULL = "53100"  # PostgreSQL SQLSTATE disk_full


class ApiError(Exception):
    """A refusal the client can act on; rendered as an ErrorBody with `status`."""

    def __init__(
        self,
        status: int,
        kode: str,
        pesan: str,
        detail: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {kode}: {detail or pesan}")
        self.status = status
        self.kode = kode
        self.pesan = pesan
        self.detail = detail
        self.headers = dict(headers or {})


def not_found(detail: str | None = None) -> ApiError:
    """The one 404 used for "absent" and "not yours", so neither can be told apart."""
    return ApiError(404, "tidak_ditemukan", "Data tidak ditemukan.", detail)


def error_response(
    status: int,
    kode: str,
    pesan: str,
    detail: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(kode=kode, pesan=pesan, detail=detail)
    all_headers = dict(headers or {})
    if status == 401:  # every 401 names the scheme that would be accepted (RFC 9110)
        all_headers.setdefault("WWW-Authenticate", WWW_AUTHENTICATE)
    return JSONResponse(body.model_dump(), status_code=status, headers=all_headers)


class RefuseNulInUrl:
    """Refuses (400) a request whose path or query holds a NUL character: no text column
    holds one (PostgreSQL refuses it), so none may reach a query. JSON bodies are checked
    the same way by server.auth.parse_json."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b"")
        ):
            kode, pesan = _STATUS_DEFAULTS[400]
            response = error_response(400, kode, pesan, "NUL character in the URL")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Make every error, ours or the framework's, an ErrorBody."""

    async def on_api_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        if exc.status >= 500:
            log.error("api error: %s", exc)
        else:
            log.info("refused: %s", exc)
        return error_response(exc.status, exc.kode, exc.pesan, exc.detail, exc.headers)

    async def on_http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        kode, pesan = _STATUS_DEFAULTS.get(exc.status_code, ("kesalahan", "Permintaan gagal."))
        detail: str | None = None
        if isinstance(exc.detail, dict):
            kode = str(exc.detail.get("kode", kode))
            pesan = str(exc.detail.get("pesan", pesan))
            detail = exc.detail.get("detail")
        elif isinstance(exc.detail, str) and exc.detail:
            detail = exc.detail
        return error_response(exc.status_code, kode, pesan, detail, exc.headers)

    async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(
            422, "isian_tidak_sah", "Isian permintaan tidak sah.", _short_errors(exc.errors())
        )

    async def on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
        if is_disk_full(exc):
            return disk_full_response(exc)
        log.exception("unexpected error", exc_info=exc)
        kode, pesan = _STATUS_DEFAULTS[500]
        return error_response(500, kode, pesan, type(exc).__name__)

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    # The errors a full disk raises (database writes, blob writes) get handlers of their
    # own: answered inside the app like an ApiError, not re-raised to the server as the
    # catch-all below is (which drops the keep-alive connection).
    for storage_error in (OSError, DBAPIError, sqlite3.Error):
        app.add_exception_handler(storage_error, on_unexpected)
    app.add_exception_handler(Exception, on_unexpected)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, what it was raised from, and a SQLAlchemy error's driver error."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        pending += [
            current.__cause__,
            current.__context__,
            orig if isinstance(orig, BaseException) else None,
        ]


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc` comes from a full disk (or quota): a blob write's ENOSPC, SQLite's
    SQLITE_FULL, PostgreSQL's disk_full."""
    for cause in _causes(exc):
        if isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(cause, sqlite3.Error) and (
            getattr(cause, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
            or "database or disk is full" in str(cause)
        ):
            return True
        if getattr(cause, "sqlstate", None) == _PG_DISK_FULL:
            return True
    return False


def disk_full_response(exc: BaseException) -> JSONResponse:
    """507 Insufficient Storage: nothing of the request was kept; try again later."""
    log.error("ruang disk server penuh; permintaan ditolak dengan 507: %s", type(exc).__name__)
    kode, pesan = _STATUS_DEFAULTS[507]
    return error_response(
        507,
        kode,
        pesan,
        "disk full",
        headers={"Retry-After": str(DISK_FULL_RETRY_AFTER_SECONDS)},
    )


def _short_errors(errors: object) -> str:
    """Validation errors as `where: what; ...`, without the input values."""
    parts: list[str] = []
    if isinstance(errors, list | tuple):
        for err in errors[:5]:
            if isinstance(err, Mapping):
                where = ".".join(str(p) for p in err.get("loc", ()))
                parts.append(f"{where}: {err.get('msg', '')}")
    return "; ".join(parts)[:500]

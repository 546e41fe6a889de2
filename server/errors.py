"""Errors as answers: every refusal is an ErrorBody {kode, pesan, detail} with its status.

`kode` is a stable machine code, `pesan` a short Bahasa Indonesia sentence for the person,
`detail` the technical cause (never personal data or key material).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync.crypto.signing import WWW_AUTHENTICATE
from sync.protocol import ErrorBody

log = logging.getLogger(__name__)

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
    460: ("checksum_salah", "Checksum potongan unggahan tidak cocok; potongan dibuang."),
    500: ("kesalahan_server", "Terjadi kesalahan di server. Coba lagi nanti."),
}


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
        log.exception("unexpected error", exc_info=exc)
        kode, pesan = _STATUS_DEFAULTS[500]
        return error_response(500, kode, pesan, type(exc).__name__)

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_unexpected)


def _short_errors(errors: object) -> str:
    """Validation errors as `where: what; ...`, without the input values."""
    parts: list[str] = []
    if isinstance(errors, list | tuple):
        for err in errors[:5]:
            if isinstance(err, Mapping):
                where = ".".join(str(p) for p in err.get("loc", ()))
                parts.append(f"{where}: {err.get('msg', '')}")
    return "; ".join(parts)[:500]

"""POST /v1/enrol: plain JSON (the device has no server key yet), no signature."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from server.auth import client_address, parse_json, read_body_limited
from server.enrolment import BAD_CODE_KODE, enrol
from server.errors import ApiError
from server.services import ServicesDep
from server.throttle import ENROL
from sync.protocol import EnrolRequest, EnrolResponse, ErrorBody

router = APIRouter(tags=["pendaftaran"])

_MAX_ENROL_BODY = 16 * 1024


@router.post(
    "/v1/enrol",
    summary="Daftarkan perangkat dengan kode sekali pakai",
    response_model=EnrolResponse,
    responses={code: {"model": ErrorBody} for code in (403, 415, 422, 429)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": EnrolRequest.model_json_schema()}},
        }
    },
)
async def enrol_device(request: Request, svc: ServicesDep) -> EnrolResponse:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise ApiError(415, "jenis_isi_salah", "Badan permintaan harus JSON (application/json).")
    client = client_address(request)
    svc.throttle.check(ENROL, client)
    body = await read_body_limited(request, _MAX_ENROL_BODY)
    enrol_request = parse_json(body, EnrolRequest)
    try:
        return await run_in_threadpool(enrol, svc.db, svc.keys, enrol_request)
    except ApiError as exc:
        if exc.kode == BAD_CODE_KODE:  # a guessed or spent code: counts against the address
            await run_in_threadpool(svc.throttle.failed, ENROL, client)
        raise

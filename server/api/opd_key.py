"""The shared OPD key: PUT/GET /v1/opd/key, devices needing it, key requests and
re-wrapping."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from server import opd_keys
from server.api.docs import SEALED_BODY, sealed_answer
from server.auth import open_request, sealed_response
from server.services import CallerDep, ServicesDep
from sync.protocol import (
    DevicesNeedingKey,
    KeyRequests,
    KeyRequestStatus,
    OpdKeyInfo,
    OpdKeyUpload,
    WrappedKey,
)

router = APIRouter(tags=["kunci OPD"])


@router.put(
    "/v1/opd/key",
    summary="Perangkat pertama OPD mendaftarkan kunci OPD",
    description="Badan: OpdKeyUpload tersegel (salinan untuk perangkat ini dan untuk "
    "penerima 'verifier').",
    openapi_extra=SEALED_BODY,
    responses=sealed_answer(OpdKeyInfo),
)
def put_opd_key(caller: CallerDep, svc: ServicesDep) -> Response:
    body = open_request(caller, OpdKeyUpload, svc.keys.encryption)
    return sealed_response(caller, opd_keys.upload_key(svc.db, caller, body))


@router.get(
    "/v1/opd/key",
    summary="Salinan kunci OPD untuk perangkat ini (404 bila belum ada)",
    responses=sealed_answer(OpdKeyInfo),
)
def get_opd_key(
    caller: CallerDep,
    svc: ServicesDep,
    opd: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    return sealed_response(caller, opd_keys.get_key(svc.db, caller, opd))


@router.get(
    "/v1/opd/devices-needing-key",
    summary="Perangkat OPD yang belum menerima salinan kunci OPD",
    responses=sealed_answer(DevicesNeedingKey),
)
def get_devices_needing_key(caller: CallerDep, svc: ServicesDep) -> Response:
    return sealed_response(caller, opd_keys.devices_needing_key(svc.db, caller))


@router.post(
    "/v1/opd/key/wrap",
    summary="Bagikan kunci OPD yang dibungkus untuk perangkat lain",
    description="Badan: WrappedKey tersegel.",
    openapi_extra=SEALED_BODY,
    responses=sealed_answer(OpdKeyInfo),
)
def post_wrapped_key(caller: CallerDep, svc: ServicesDep) -> Response:
    body = open_request(caller, WrappedKey, svc.keys.encryption)
    return sealed_response(caller, opd_keys.wrap_for_device(svc.db, caller, body))


@router.post(
    "/v1/opd/key/request",
    summary="Perangkat OPD meminta salinan kunci OPD (pemulihan setelah kehilangan total)",
    description="Tanpa badan. Permintaan tampil di antrean verifikator sampai salinan kunci "
    "dibagikan; mengulang permintaan tidak membuat yang baru.",
    responses=sealed_answer(KeyRequestStatus),
)
def post_key_request(caller: CallerDep, svc: ServicesDep) -> Response:
    return sealed_response(caller, opd_keys.request_key(svc.db, caller))


@router.get(
    "/v1/opd/key/requests",
    summary="Permintaan kunci OPD yang menunggu (antrean verifikator)",
    responses=sealed_answer(KeyRequests),
)
def get_key_requests(caller: CallerDep, svc: ServicesDep) -> Response:
    return sealed_response(caller, opd_keys.key_requests(svc.db, caller))

"""Record sync: POST /v1/sync/push and GET /v1/sync/changes, signed and sealed."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from server.api.docs import SEALED_BODY, query_parameters, sealed_answer
from server.auth import sealed_json_response, sealed_response
from server.changes import changes_json
from server.errors import ApiError
from server.services import CallerDep, ServicesDep
from sync.protocol import (
    EPOCH_HEADER,
    ChangesPage,
    ChangesQuery,
    PushRequest,
    PushResponse,
    ServerEpoch,
)

router = APIRouter(tags=["sinkronisasi"])

# Answers this small are sealed on the event loop rather than with another thread hop.
_SEAL_INLINE_RESULTS = 50


@router.post(
    "/v1/sync/push",
    summary="Kirim op dari outbox perangkat",
    description="Badan: PushRequest tersegel untuk server. Jawaban: PushResponse tersegel "
    "untuk perangkat. Hasil per op: applied, merged, conflict, duplicate, refused.",
    openapi_extra=SEALED_BODY,
    responses=sealed_answer(PushResponse),
)
async def push_ops(request: Request, svc: ServicesDep) -> Response:
    caller, body = await svc.auth.open(request, PushRequest, svc.keys.encryption)
    known = request.headers.get(EPOCH_HEADER)
    if known is not None and known != svc.epoch:
        # The device last synced with this server before it was restored from a backup:
        # it must first send again what it had acknowledged (PROTOCOL.md 9).
        raise ApiError(
            409,
            "epoch_berubah",
            "Server telah dipulihkan dari cadangan; perangkat mengirim ulang perubahannya.",
        )
    # Pushes are serial writes: they queue for the one writer thread (server.push_queue),
    # in arrival order, instead of parking request threads on the database's write lock.
    result = await svc.pushes.push(caller, body.ops)
    svc.metrics.count_push(result.results)
    if len(result.results) <= _SEAL_INLINE_RESULTS:
        return sealed_response(caller, result)  # a fraction of a millisecond
    return await run_in_threadpool(sealed_response, caller, result)


@router.get(
    "/v1/sync/changes",
    summary="Tarik perubahan sejak nomor urut tertentu",
    description="Halaman ChangesPage tersegel untuk perangkat, urut menurut nomor urut server.",
    openapi_extra=query_parameters(ChangesQuery),
    responses=sealed_answer(ChangesPage),
)
async def pull_changes(
    request: Request,
    caller: CallerDep,
    svc: ServicesDep,
) -> Response:
    params = dict(request.query_params)
    unknown = sorted(set(params) - {"since", "limit"})
    if unknown:
        raise ApiError(422, "isian_tidak_sah", "Parameter tidak dikenal: " + ", ".join(unknown))
    try:
        query = ChangesQuery.model_validate(params)
    except ValidationError as exc:
        raise ApiError(
            422,
            "isian_tidak_sah",
            "Parameter since/limit tidak sah.",
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()),
        ) from None

    def page() -> Response:
        return sealed_json_response(caller, changes_json(svc.db, caller, query.since, query.limit))

    return await run_in_threadpool(page)


@router.get(
    "/v1/sync/epoch",
    summary="Epoch server (berganti setiap pemulihan dari cadangan)",
    description="ServerEpoch tersegel. Perangkat memanggilnya bila tajuk Berkas-Epoch "
    "berubah; epoch baru berarti server dipulihkan dan perangkat mengirim ulang op yang "
    "sudah diakui (PROTOCOL.md 9).",
    responses=sealed_answer(ServerEpoch),
)
async def server_epoch(caller: CallerDep, svc: ServicesDep) -> Response:
    return sealed_response(caller, ServerEpoch(epoch=svc.epoch))

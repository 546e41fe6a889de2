from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from sync.crypto import generate_device_keys, public_key_b64
from sync.protocol import (
    API_PREFIX,
    MAX_PAGE_LIMIT,
    MAX_PUSH_OPS,
    PROTOCOL_VERSION,
    BlobInfo,
    Change,
    ChangesPage,
    ChangesQuery,
    ConflictInfo,
    EnrolRequest,
    EnrolResponse,
    ErrorBody,
    Op,
    OpResult,
    PushRequest,
    PushResponse,
    WrappedKey,
)


def op(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "op_id": str(uuid.uuid4()),
        "table": "usulan",
        "record_id": "0190f3a0-0000-7000-8000-000000000001",
        "opd_id": "opd-1",
        "base_version": 3,
        "changes": {
            "status": {"base": "draft", "new": "diajukan"},
            "catatan": {"base": None, "new": "x"},
        },
        "hlc": "1750000000000.0000.dev-1",
        "device_id": "dev-1",
    }
    data.update(overrides)
    return data


def test_constants() -> None:
    assert API_PREFIX == "/v1" and PROTOCOL_VERSION == 1 and MAX_PUSH_OPS == 500


def test_op_round_trip_through_json() -> None:
    parsed = Op.model_validate(op(resolves=["c-1"], deleted=False))
    again = Op.model_validate_json(parsed.model_dump_json())
    assert again == parsed
    assert again.changes["catatan"].base is None


def test_op_id_is_canonicalised() -> None:
    value = uuid.uuid4()
    assert Op.model_validate(op(op_id=str(value).upper())).op_id == str(value)
    assert Op.model_validate(op(op_id=value.hex)).op_id == str(value)


@pytest.mark.parametrize(
    "bad",
    [
        {"op_id": "not-a-uuid"},
        {"table": "pengguna"},
        {"base_version": -1},
        {"device_id": "dev 1"},
        {"hlc": ""},
        {"changes": {"status": {"new": "x"}}},
        {"changes": {"status": {"base": 1, "new": 2, "extra": 3}}},
        {"surprise": True},
    ],
)
def test_op_refuses_bad_input(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Op.model_validate(op(**bad))


def test_push_is_capped() -> None:
    PushRequest(ops=[Op.model_validate(op()) for _ in range(MAX_PUSH_OPS)])
    with pytest.raises(ValidationError):
        PushRequest.model_validate({"ops": [op() for _ in range(MAX_PUSH_OPS + 1)]})


def conflict() -> dict[str, Any]:
    return {
        "conflict_id": "c-1",
        "table": "pegawai",
        "record_id": "r-1",
        "field": "nama",
        "base": "Budi",
        "mine": "Budi S.",
        "theirs": "Budi Santoso",
        "mine_by": "dev-1",
        "theirs_by": "dev-2",
        "mine_at": "1750000000000.0000.dev-1",
        "theirs_at": "1750000000001.0000.dev-2",
    }


def test_push_response_and_conflicts() -> None:
    response = PushResponse.model_validate(
        {
            "results": [
                {
                    "op_id": str(uuid.uuid4()),
                    "outcome": "conflict",
                    "version": 4,
                    "record": {"nama": "Budi Santoso", "gol": [3, "b"]},
                    "conflicts": [conflict()],
                    "reason": None,
                },
                {
                    "op_id": str(uuid.uuid4()),
                    "outcome": "refused",
                    "reason": "Status tidak dapat berubah dari selesai ke draft.",
                },
            ],
            "server_seq": 99,
        }
    )
    assert response.results[0].conflicts[0].resolved is False
    assert response.results[0].conflicts[0].resolution is None
    assert PushResponse.model_validate_json(response.model_dump_json()) == response
    with pytest.raises(ValidationError):
        OpResult.model_validate({"op_id": str(uuid.uuid4()), "outcome": "maybe"})


def test_pull_models() -> None:
    page = ChangesPage(
        changes=[
            Change(
                seq=1,
                table="dokumen",
                record_id="d-1",
                opd_id="opd-1",
                version=1,
                deleted=False,
                record={"sha256": "0" * 64},
                conflicts=[ConflictInfo.model_validate(conflict())],
            )
        ],
        next_since=1,
        has_more=False,
    )
    assert ChangesPage.model_validate_json(page.model_dump_json()) == page
    assert ChangesQuery().limit == 500
    with pytest.raises(ValidationError):
        ChangesQuery(limit=0)
    with pytest.raises(ValidationError):
        ChangesQuery(limit=MAX_PAGE_LIMIT + 1)  # 10,001 (page-bytes servers)


def test_enrolment_models() -> None:
    keys = generate_device_keys()
    request = EnrolRequest(
        code="ABCD-1234",
        device_name="PC Kepegawaian 1",
        signing_key=public_key_b64(keys["signing"]),
        encryption_key=public_key_b64(keys["encryption"]),
    )
    assert EnrolRequest.model_validate_json(request.model_dump_json()) == request
    with pytest.raises(ValidationError):
        EnrolRequest(code="x", device_name="y", signing_key="short", encryption_key="z" * 43)
    key = public_key_b64(keys["encryption"])
    response = EnrolResponse(
        device_id="dev-1",
        opd_id=None,
        opd_kode="BKD",
        role="verifikator",
        server_signing_key=key,
        server_encryption_key=key,
        verifier_encryption_key=key,
    )
    assert response.wrapped_opd_key is None
    with pytest.raises(ValidationError):
        EnrolResponse.model_validate({**response.model_dump(), "role": "admin"})


def test_blob_wrapped_key_and_error_models() -> None:
    BlobInfo(sha256="a" * 64, size=10, cipher_size=300, file_id="b" * 32)
    with pytest.raises(ValidationError):
        BlobInfo(sha256="A" * 64, size=10, cipher_size=300, file_id="b" * 32)
    with pytest.raises(ValidationError):
        BlobInfo(sha256="a" * 64, size=-1, cipher_size=300, file_id="b" * 32)
    WrappedKey(recipient_device_id="dev-1", envelope_b64="AQE")
    with pytest.raises(ValidationError):
        WrappedKey(recipient_device_id="dev-1", envelope_b64="AQE=")
    error = ErrorBody(kode="stale_timestamp", pesan="Jam komputer berbeda.")
    assert error.model_dump() == {
        "kode": "stale_timestamp",
        "pesan": "Jam komputer berbeda.",
        "detail": None,
    }


def test_the_version_constant_is_the_one_of_pyproject() -> None:
    import tomllib
    from pathlib import Path

    from sync.version import BERKAS_VERSION

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    assert tomllib.loads(pyproject.read_text())["project"]["version"] == BERKAS_VERSION

"""Request-level fuzzing of the server's OpenAPI spec with schemathesis: no 5xx, ever.

Every operation of /openapi.json gets positive examples (fit the spec) and negative ones
(do not), each sent three ways: as generated (the unauthenticated and malformed paths),
signed by an enrolled OPD device, and signed by a verifikator device. For the endpoints
whose body is sealed, the spec this test loads describes the body by its wire model
(sync.protocol) instead of as opaque bytes, and a signed example carries that JSON sealed
for the server: the fuzzing reaches past the signature and the seal into validation, the
push path and the OPD key exchange. The example count is bounded (a few seconds here) and
the generation is derandomized, so a run is repeatable.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from pydantic import BaseModel
from schemathesis import GenerationMode

from store.rules import Role
from sync.crypto import SEALED_MEDIA_TYPE, request_aad, seal_json, sign_request
from sync.protocol import OpdKeyUpload, PushRequest, WrappedKey
from tests.support.device import TestDevice
from tests.support.server import RunningServer, drop_test_database, fresh_database_url, start_server

DB_INT_MAX: Final = 2**63 - 1  # stated here too: the check must not trust the code it checks
EXAMPLES_PER_MODE: Final = 12  # per operation and generation mode
# Bodies the server opens from a seal: (method, path) -> the JSON model inside.
SEALED_MODELS: Final[dict[tuple[str, str], type[BaseModel]]] = {
    ("post", "/v1/sync/push"): PushRequest,
    ("put", "/v1/opd/key"): OpdKeyUpload,
    ("post", "/v1/opd/key/wrap"): WrappedKey,
}


@dataclass
class Tally:
    examples: int = 0
    requests: int = 0
    unsendable: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server of its own: thousands of refused requests must not throttle the shared
    one. Its throttles are set high so the signed examples are not all answered 429."""
    url = fresh_database_url()
    running = start_server(
        tmp_path_factory.mktemp("fuzz"),
        url,
        auth_failures_per_window=100_000,
        enrol_failures_per_window=100_000,
    )
    yield running
    running.stop()
    drop_test_database(url)


def _spec_with_sealed_models(raw: dict[str, Any]) -> dict[str, Any]:
    """The server's spec with each sealed body described by the JSON model inside it."""
    schemas = raw.setdefault("components", {}).setdefault("schemas", {})
    for (method, path), model in SEALED_MODELS.items():
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        raw["paths"][path][method]["requestBody"]["content"] = {
            "application/json": {"schema": schema}
        }
    return raw


def _send(
    client: httpx.Client,
    server: RunningServer,
    kwargs: dict[str, Any],
    signer: TestDevice | None,
    sealed: bool,
) -> httpx.Response:
    method = str(kwargs["method"]).upper()
    headers = {str(k): str(v) for k, v in (kwargs.get("headers") or {}).items()}
    if "json" in kwargs:
        content: bytes | None = json.dumps(kwargs["json"]).encode()
    else:
        data = kwargs.get("data")
        content = data.encode() if isinstance(data, str) else data
    request = client.build_request(
        method, kwargs["url"], params=kwargs.get("params"), headers=headers, content=content
    )
    if signer is not None:
        target = request.url.raw_path.decode("ascii")
        body = content or b""
        if sealed:
            body = seal_json(body, signer.server_key, request_aad(method, target))
            headers["Content-Type"] = SEALED_MEDIA_TYPE
        headers.update(sign_request(signer.keys, signer.device_id, method, target, body))
        request = client.build_request(
            method, server.url + target, headers=headers, content=body or None
        )
    return client.send(request)


def _fuzz(
    operation: Any,
    mode: GenerationMode,
    server: RunningServer,
    client: httpx.Client,
    signers: list[TestDevice | None],
    tally: Tally,
) -> None:
    """Run one operation's examples of one generation mode, each sent by every signer."""
    method_path = f"{operation.method.upper()} {operation.path}"
    sealed = (operation.method.lower(), operation.path) in SEALED_MODELS
    # tus requests without Tus-Resumable stop at 412; send it so examples reach the rest.
    tus = operation.path.startswith("/v1/files") and operation.method.lower() != "get"
    strategy = operation.as_strategy(
        generation_mode=mode, headers={"Tus-Resumable": "1.0.0"} if tus else None
    )

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES_PER_MODE,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        tally.examples += 1
        kwargs = case.as_transport_kwargs(base_url=server.url)
        for signer in signers:
            try:
                response = _send(client, server, kwargs, signer, sealed)
            except (httpx.LocalProtocolError, httpx.InvalidURL, UnicodeError, ValueError):
                tally.unsendable += 1  # httpx will not put it on the wire
                continue
            except httpx.TransportError as exc:  # the server dropped the connection
                response = httpx.Response(599, text=f"connection lost: {exc!r}")
            tally.requests += 1
            tally.statuses[response.status_code] += 1
            if response.status_code >= 500:
                who = "unsigned" if signer is None else signer.enrolment.role
                tally.server_errors.append(
                    f"{method_path} [{mode.value}, {who}] {kwargs.get('params') or ''} -> "
                    f"{response.status_code} {response.text[:200]}"
                )

    try:
        run()
    except Unsatisfiable:  # no negative example exists for an operation without inputs
        tally.skipped.append(f"{method_path} [{mode.value}]")


def test_openapi_fuzz_finds_no_server_error(
    fuzz_server: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server = fuzz_server
    opd = server.add_opd("FUZZ01")
    opd_device = TestDevice.enrol(server.url, server.enrol_code(opd), "Perangkat fuzz")
    verifier = TestDevice.enrol(
        server.url, server.enrol_code("BKD", Role.VERIFIKATOR), "Verifikator fuzz"
    )
    raw = httpx.get(server.url + "/openapi.json").json()
    schema = schemathesis.openapi.from_dict(_spec_with_sealed_models(raw))
    tally = Tally()
    with httpx.Client(timeout=30) as client:
        for result in schema.get_all_operations():
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz(result.ok(), mode, server, client, [None, opd_device, verifier], tally)
    opd_device.close()
    verifier.close()
    with capsys.disabled():
        print(
            f"\nschemathesis: {tally.examples} examples, {tally.requests} requests "
            f"({tally.unsendable} unsendable), 5xx found: {len(tally.server_errors)}, "
            f"statuses {dict(sorted(tally.statuses.items()))}, no negative example for "
            f"{tally.skipped}"
        )
    assert tally.server_errors == []
    assert tally.examples > 0 and tally.statuses[200] > 0


def _integer_schemas(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if node.get("type") == "integer":
            yield where, node
        for key, value in node.items():
            yield from _integer_schemas(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _integer_schemas(value, f"{where}/{index}")


def test_every_integer_in_the_spec_fits_the_database(fuzz_server: RunningServer) -> None:
    """The fuzzing above probes each bound the spec states (negative examples go past it),
    so every integer the spec describes, sealed bodies included, must state one that a
    signed 64-bit database column holds."""
    raw = httpx.get(fuzz_server.url + "/openapi.json").json()
    # FastAPI's own 422 models (an error location's list index); our 422 answers are
    # ErrorBody, which has no integer.
    for fastapi_model in ("ValidationError", "HTTPValidationError"):
        raw.get("components", {}).get("schemas", {}).pop(fastapi_model, None)
    unbounded = [
        where
        for where, schema in _integer_schemas(_spec_with_sealed_models(raw))
        if not (-DB_INT_MAX - 1 <= schema.get("minimum", -(2**64)) <= DB_INT_MAX)
        or not (-DB_INT_MAX - 1 <= schema.get("maximum", 2**64) <= DB_INT_MAX)
    ]
    assert unbounded == []

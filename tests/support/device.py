"""A minimal test device: enrols, signs every request, seals bodies, opens answers.

Not the client sync engine (that lives in sync/); just enough protocol to drive the real
server from tests and benchmarks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from pydantic import BaseModel

from store.hlc import HybridClock
from store.ids import new_id
from sync.crypto import (
    SEALED_MEDIA_TYPE,
    PrivateKeySet,
    generate_device_keys,
    open_json,
    public_key_b64,
    request_aad,
    response_aad,
    seal_json,
    sign_request,
    signature_nonce,
    x25519_public_from_b64,
)
from sync.protocol import (
    ChangesPage,
    EnrolRequest,
    EnrolResponse,
    FieldChange,
    Op,
    PushRequest,
    PushResponse,
)

T = TypeVar("T", bound=BaseModel)


class ServerError(Exception):
    """The server answered with an error status; `.status` and `.body` (ErrorBody dict)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


@dataclass
class SignedCall:
    """A request as sent (for replays and tampering) and the answer."""

    method: str
    target: str
    headers: dict[str, str]
    content: bytes
    response: httpx.Response


@dataclass
class TestDevice:
    base_url: str
    keys: PrivateKeySet
    enrolment: EnrolResponse
    client: httpx.Client = field(repr=False)
    clock: HybridClock = field(repr=False)

    __test__ = False  # not a pytest test class

    @property
    def device_id(self) -> str:
        return self.enrolment.device_id

    @property
    def opd_kode(self) -> str:
        return self.enrolment.opd_kode

    @property
    def server_key(self) -> X25519PublicKey:
        return x25519_public_from_b64(self.enrolment.server_encryption_key)

    @classmethod
    def enrol(cls, base_url: str, code: str, name: str = "Perangkat uji") -> TestDevice:
        keys = generate_device_keys()
        request = EnrolRequest(
            code=code,
            device_name=name,
            signing_key=public_key_b64(keys.ed25519("signing")),
            encryption_key=public_key_b64(keys.x25519("encryption")),
        )
        client = httpx.Client(base_url=base_url, timeout=30)
        resp = client.post("/v1/enrol", json=request.model_dump())
        if resp.status_code != 200:
            client.close()
            raise ServerError(resp.status_code, resp.json())
        enrolment = EnrolResponse.model_validate(resp.json())
        return cls(
            base_url=base_url,
            keys=keys,
            enrolment=enrolment,
            client=client,
            clock=HybridClock(enrolment.device_id),
        )

    def close(self) -> None:
        self.client.close()

    # -- raw signed requests --------------------------------------------------------------

    def send(
        self,
        method: str,
        target: str,
        body: BaseModel | dict[str, Any] | bytes | None = None,
        *,
        sealed: bool = True,
        headers: dict[str, str] | None = None,
    ) -> SignedCall:
        """Sign (and, for a JSON body, seal) one request to `target` (path and query)."""
        method = method.upper()
        target = httpx.URL(target).raw_path.decode("ascii")
        if isinstance(body, BaseModel):
            content = body.model_dump_json().encode()
        elif isinstance(body, dict):
            content = json.dumps(body).encode()
        else:
            content = body or b""
        all_headers = dict(headers or {})
        if body is not None and not isinstance(body, bytes) and sealed:
            content = seal_json(content, self.server_key, request_aad(method, target))
            all_headers.setdefault("Content-Type", SEALED_MEDIA_TYPE)
        all_headers.update(sign_request(self.keys, self.device_id, method, target, content))
        response = self.client.request(method, target, content=content, headers=all_headers)
        return SignedCall(method, target, all_headers, content, response)

    def replay(self, call: SignedCall) -> httpx.Response:
        """Send exactly the same bytes and headers again."""
        return self.client.request(
            call.method, call.target, content=call.content, headers=call.headers
        )

    def open_answer(self, call: SignedCall, model: type[T]) -> T:
        """The sealed answer of a call, or ServerError for an error status."""
        resp = call.response
        if resp.status_code >= 400:
            raise ServerError(resp.status_code, resp.json())
        assert resp.headers["content-type"].startswith(SEALED_MEDIA_TYPE), resp.headers
        aad = response_aad(call.method, call.target, signature_nonce(call.headers))
        plain = open_json(resp.content, self.keys.x25519("encryption"), aad)
        return model.model_validate_json(plain)

    def call(self, method: str, target: str, model: type[T], body: BaseModel | None = None) -> T:
        return self.open_answer(self.send(method, target, body), model)

    # -- sync -----------------------------------------------------------------------------

    def push(self, *ops: Op) -> PushResponse:
        return self.call("POST", "/v1/sync/push", PushResponse, PushRequest(ops=list(ops)))

    def changes(self, since: int = 0, limit: int = 500) -> ChangesPage:
        return self.call("GET", f"/v1/sync/changes?since={since}&limit={limit}", ChangesPage)

    def pull_all(self, since: int = 0, limit: int = 500) -> list[Any]:
        """Every change after `since`, following pages."""
        out: list[Any] = []
        while True:
            page = self.changes(since, limit)
            out.extend(page.changes)
            since = page.next_since
            if not page.has_more:
                return out

    # -- ops ------------------------------------------------------------------------------

    def create(
        self,
        table: str,
        data: dict[str, Any],
        *,
        record_id: str | None = None,
        opd_id: str | None = None,
    ) -> Op:
        """An op creating a record (base_version 0, every field based on None)."""
        return Op(
            op_id=new_id(),
            table=table,  # type: ignore[arg-type]
            record_id=record_id or new_id(),
            opd_id=opd_id or self.opd_kode,
            base_version=0,
            changes={k: FieldChange(base=None, new=v) for k, v in data.items()},
            hlc=self.clock.now(),
            device_id=self.device_id,
        )

    def update(
        self,
        table: str,
        record: dict[str, Any],
        new: dict[str, Any],
        *,
        base: dict[str, Any] | None = None,
        deleted: bool | None = None,
        resolves: list[str] | None = None,
    ) -> Op:
        """An op changing `new` fields of `record` (a wire record as the server sent it);
        each change is based on the record's value unless `base` says otherwise."""
        bases = dict(base or {})
        return Op(
            op_id=new_id(),
            table=table,  # type: ignore[arg-type]
            record_id=record["id"],
            opd_id=record["opd_id"],
            base_version=record["version"],
            changes={
                k: FieldChange(base=bases.get(k, record.get(k)), new=v) for k, v in new.items()
            },
            deleted=deleted,
            resolves=resolves or [],
            hlc=self.clock.now(),
            device_id=self.device_id,
        )

from __future__ import annotations

from typing import Annotated

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient

from sync.crypto import (
    NonceCache,
    PrivateKeySet,
    SignedRequestAuth,
    generate_device_keys,
    sign_request,
)
from sync.crypto.fastapi_auth import signed_device_dependency

DEVICE = "dev-7"


# Module level, as a server declares it: endpoint annotations are resolved from globals.
REGISTRY: dict[str, Ed25519PublicKey] = {}
signed_device = signed_device_dependency(REGISTRY.get, NonceCache())
app = FastAPI()


@app.post("/v1/sync/push")
async def push(
    request: Request, device: Annotated[str, Depends(signed_device)]
) -> dict[str, object]:
    body = await request.body()  # still readable after the dependency read it
    return {"device": device, "size": len(body)}


@app.get("/v1/files/{name}")
async def file(name: str, device: Annotated[str, Depends(signed_device)]) -> dict[str, str]:
    return {"device": device, "name": name}


@pytest.fixture
def keys() -> PrivateKeySet:
    keys = generate_device_keys()
    REGISTRY.clear()
    REGISTRY[DEVICE] = keys.ed25519().public_key()
    return keys


@pytest.fixture
def client() -> TestClient:
    return TestClient(app, base_url="http://testserver")


def test_signed_request_is_accepted(client: TestClient, keys: PrivateKeySet) -> None:
    auth = SignedRequestAuth(keys, DEVICE)
    response = client.post("/v1/sync/push", content=b"x" * 1000, auth=auth)
    assert response.status_code == 200
    assert response.json() == {"device": DEVICE, "size": 1000}


def test_query_and_escaped_path_are_what_was_signed(
    client: TestClient, keys: PrivateKeySet
) -> None:
    auth = SignedRequestAuth(keys, DEVICE)
    response = client.get("/v1/files/surat%20keputusan", params={"v": "2", "q": "a b"}, auth=auth)
    assert response.status_code == 200
    assert response.json()["name"] == "surat keputusan"


def test_unsigned_request_is_401_malformed(client: TestClient) -> None:
    response = client.post("/v1/sync/push", content=b"x")
    assert response.status_code == 401
    detail = response.json()["detail"]
    assert detail["kode"] == "malformed"
    assert detail["pesan"]


def test_body_changed_after_signing_is_401(client: TestClient, keys: PrivateKeySet) -> None:
    headers = sign_request(keys, DEVICE, "POST", "/v1/sync/push", b"asli")
    response = client.post("/v1/sync/push", content=b"palsu", headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"]["kode"] == "bad_signature"


def test_replay_is_401(client: TestClient, keys: PrivateKeySet) -> None:
    headers = sign_request(keys, DEVICE, "POST", "/v1/sync/push", b"isi")
    assert client.post("/v1/sync/push", content=b"isi", headers=headers).status_code == 200
    response = client.post("/v1/sync/push", content=b"isi", headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"]["kode"] == "replayed_nonce"


def test_other_path_is_401(client: TestClient, keys: PrivateKeySet) -> None:
    headers = sign_request(keys, DEVICE, "GET", "/v1/files/a", b"")
    response = client.get("/v1/files/b", headers=headers)
    assert response.json()["detail"]["kode"] == "bad_signature"


def test_stale_and_unknown_are_401(client: TestClient, keys: PrivateKeySet) -> None:
    stale = SignedRequestAuth(keys, DEVICE, clock=lambda: 1_000_000_000.0)
    response = client.post("/v1/sync/push", content=b"", auth=stale)
    assert response.json()["detail"]["kode"] == "stale_timestamp"
    assert "jam" in response.json()["detail"]["pesan"].lower()
    stranger = SignedRequestAuth(generate_device_keys(), "dev-8")
    response = client.post("/v1/sync/push", content=b"", auth=stranger)
    assert response.status_code == 401
    assert response.json()["detail"]["kode"] == "unknown_device"

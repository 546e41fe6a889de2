from __future__ import annotations

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from sync.crypto import (
    SEALED_MEDIA_TYPE,
    EnvelopeError,
    NonceCache,
    SignedRequestAuth,
    generate_device_keys,
    generate_x25519,
    open_json,
    request_aad,
    response_aad,
    seal_json,
    signature_nonce,
    unwrap_opd_key,
    verify_request,
    wrap_opd_key,
)
from sync.protocol import PushRequest, PushResponse


def test_aad_strings() -> None:
    assert request_aad("post", "/v1/sync/push") == b"berkas/v1 request POST /v1/sync/push"
    assert (
        response_aad("GET", "/v1/sync/changes?since=1", "AAAAAAAAAAAAAAAAAAAAAA")
        == b"berkas/v1 response GET /v1/sync/changes?since=1 AAAAAAAAAAAAAAAAAAAAAA"
    )


def test_sealed_body_cannot_move_to_another_endpoint(alice: X25519PrivateKey) -> None:
    body = seal_json(b'{"ops":[]}', alice.public_key(), request_aad("POST", "/v1/sync/push"))
    assert open_json(body, alice, request_aad("POST", "/v1/sync/push")) == b'{"ops":[]}'
    with pytest.raises(EnvelopeError):
        open_json(body, alice, request_aad("POST", "/v1/enrol"))
    with pytest.raises(EnvelopeError):
        open_json(body, alice, response_aad("POST", "/v1/sync/push", "A" * 22))


def test_sealed_exchange_over_signed_requests() -> None:
    """A push as the sync engine and the server will do it, end to end over httpx."""
    device = generate_device_keys()
    server_key = generate_x25519()
    public = device.ed25519().public_key()
    nonces = NonceCache()

    def server(request: httpx.Request) -> httpx.Response:
        target = request.url.raw_path.decode("ascii")
        device_id = verify_request(
            method=request.method,
            path_with_query=target,
            headers=request.headers,
            body=request.content,
            public_key_for=lambda d: public if d == "dev-1" else None,
            nonces=nonces,
        )
        assert request.headers["content-type"] == SEALED_MEDIA_TYPE
        push = PushRequest.model_validate_json(
            open_json(request.content, server_key, request_aad(request.method, target))
        )
        answer = PushResponse(results=[], server_seq=len(push.ops) + 41)
        sealed = seal_json(
            answer.model_dump_json().encode(),
            device.x25519().public_key(),
            response_aad(request.method, target, signature_nonce(request.headers)),
        )
        assert device_id == "dev-1"
        return httpx.Response(200, content=sealed, headers={"content-type": SEALED_MEDIA_TYPE})

    transport = httpx.MockTransport(server)
    with httpx.Client(
        transport=transport, base_url="https://bkd", auth=SignedRequestAuth(device, "dev-1")
    ) as client:
        target = "/v1/sync/push"
        body = seal_json(
            PushRequest(ops=[]).model_dump_json().encode(),
            server_key.public_key(),
            request_aad("POST", target),
        )
        response = client.post(target, content=body, headers={"content-type": SEALED_MEDIA_TYPE})
        aad = response_aad("POST", target, signature_nonce(response.request.headers))
        answer = PushResponse.model_validate_json(open_json(response.content, device.x25519(), aad))
        assert answer.server_seq == 41
        # An answer to an earlier request cannot be passed off as the answer to this one.
        again = client.post(target, content=body, headers={"content-type": SEALED_MEDIA_TYPE})
        with pytest.raises(EnvelopeError):
            open_json(
                response.content,
                device.x25519(),
                response_aad("POST", target, signature_nonce(again.request.headers)),
            )


def raw(key: X25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def test_opd_key_wrapping(alice: X25519PrivateKey, bob: X25519PrivateKey) -> None:
    opd_key = generate_x25519()
    wrapped = wrap_opd_key(opd_key, alice.public_key(), "opd-1")
    assert raw(unwrap_opd_key(wrapped, alice, "opd-1")) == raw(opd_key)
    with pytest.raises(EnvelopeError):
        unwrap_opd_key(wrapped, bob, "opd-1")
    with pytest.raises(EnvelopeError):
        unwrap_opd_key(wrapped, alice, "opd-2")  # bound to its OPD
    with pytest.raises(EnvelopeError):
        unwrap_opd_key(wrapped + "=", alice, "opd-1")
    with pytest.raises(EnvelopeError):
        unwrap_opd_key("!!", alice, "opd-1")

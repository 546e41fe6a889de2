from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sync.crypto import (
    WINDOW_SECONDS,
    KeyFileError,
    NonceCache,
    PrivateKeySet,
    SignatureError,
    SignedRequestAuth,
    generate_device_keys,
    generate_x25519,
    sign_request,
    signature_nonce,
    verify_request,
)

NOW = 1_750_000_000.0
DEVICE = "dev-01"


@pytest.fixture
def keys() -> PrivateKeySet:
    return generate_device_keys()


@pytest.fixture
def lookup(keys: PrivateKeySet) -> Callable[[str], Ed25519PublicKey | None]:
    public = keys.ed25519().public_key()
    return lambda device_id: public if device_id == DEVICE else None


def verify(
    headers: dict[str, str],
    lookup: Callable[[str], Ed25519PublicKey | None],
    nonces: NonceCache | None = None,
    *,
    method: str = "POST",
    target: str = "/v1/sync/push?x=1",
    body: bytes = b"isi",
    now: float = NOW,
) -> str:
    return verify_request(
        method=method,
        path_with_query=target,
        headers=headers,
        body=body,
        public_key_for=lookup,
        nonces=nonces if nonces is not None else NonceCache(),
        now=now,
    )


def signed(keys: PrivateKeySet, **overrides: object) -> dict[str, str]:
    args: dict[str, object] = {
        "method": "POST",
        "path_with_query": "/v1/sync/push?x=1",
        "body": b"isi",
        "now": NOW,
    }
    args.update(overrides)
    return sign_request(keys, DEVICE, **args)  # type: ignore[arg-type]


def reason(call: Callable[[], object]) -> str:
    with pytest.raises(SignatureError) as info:
        call()
    assert info.value.message  # a Bahasa message for every refusal
    return info.value.reason


def test_round_trip(keys: PrivateKeySet, lookup: Callable[[str], Ed25519PublicKey | None]) -> None:
    headers = signed(keys)
    assert set(headers) == {"Content-Digest", "Signature-Input", "Signature"}
    assert verify(headers, lookup) == DEVICE


def test_header_names_are_case_insensitive(
    keys: PrivateKeySet, lookup: Callable[[str], Ed25519PublicKey | None]
) -> None:
    headers = {name.lower(): value for name, value in signed(keys).items()}
    assert verify(headers, lookup) == DEVICE
    assert verify(dict(httpx.Headers(signed(keys))), lookup) == DEVICE


def test_method_is_normalised(
    keys: PrivateKeySet, lookup: Callable[[str], Ed25519PublicKey | None]
) -> None:
    assert verify(signed(keys, method="post"), lookup, method="POST") == DEVICE


@pytest.mark.parametrize(
    "change",
    [
        {"method": "PUT"},
        {"target": "/v1/sync/push"},
        {"target": "/v1/sync/push?x=2"},
        {"target": "/v1/sync/pull?x=1"},
        {"body": b"isi lain"},
        {"body": b""},
    ],
)
def test_any_covered_change_is_a_bad_signature(
    keys: PrivateKeySet,
    lookup: Callable[[str], Ed25519PublicKey | None],
    change: dict[str, object],
) -> None:
    headers = signed(keys)
    assert reason(lambda: verify(headers, lookup, **change)) == "bad_signature"  # type: ignore[arg-type]


def test_signature_by_another_key(lookup: Callable[[str], Ed25519PublicKey | None]) -> None:
    headers = signed(generate_device_keys())
    assert reason(lambda: verify(headers, lookup)) == "bad_signature"


def test_altered_params_are_a_bad_signature(
    keys: PrivateKeySet, lookup: Callable[[str], Ed25519PublicKey | None]
) -> None:
    headers = signed(keys)
    original = headers["Signature-Input"]
    nonce = signature_nonce(headers)
    other_nonce = ("B" if nonce[0] == "A" else "A") + nonce[1:]
    headers["Signature-Input"] = original.replace(nonce, other_nonce)
    assert reason(lambda: verify(headers, lookup)) == "bad_signature"
    headers["Signature-Input"] = original.replace(f"created={int(NOW)}", f"created={int(NOW) + 1}")
    assert reason(lambda: verify(headers, lookup)) == "bad_signature"


def test_flipped_signature_is_a_bad_signature(
    keys: PrivateKeySet, lookup: Callable[[str], Ed25519PublicKey | None]
) -> None:
    headers = signed(keys)
    value = headers["Signature"]
    index = len("berkas=:") + 5
    headers["Signature"] = (
        value[:index] + ("B" if value[index] == "A" else "A") + value[index + 1 :]
    )
    assert reason(lambda: verify(headers, lookup)) == "bad_signature"


def test_unknown_device(keys: PrivateKeySet) -> None:
    headers = signed(keys)
    assert reason(lambda: verify(headers, lambda _: None)) == "unknown_device"


@pytest.mark.parametrize("skew", [-WINDOW_SECONDS, -1, 0, 1, WINDOW_SECONDS])
def test_timestamps_inside_the_window(
    keys: PrivateKeySet, lookup: Callable[[str], Ed25519PublicKey | None], skew: int
) -> None:
    assert verify(signed(keys, now=NOW + skew), lookup) == DEVICE


@pytest.mark.parametrize("skew", [-WINDOW_SECONDS - 1, WINDOW_SECONDS + 1, -86_400, 86_400])
def test_stale_timestamps_are_refused(
    keys: PrivateKeySet, lookup: Callable[[str], Ed25519PublicKey | None], skew: int
) -> None:
    headers = signed(keys, now=NOW + skew)
    assert reason(lambda: verify(headers, lookup)) == "stale_timestamp"


def test_replayed_nonce_is_refused(
    keys: PrivateKeySet, lookup: Callable[[str], Ed25519PublicKey | None]
) -> None:
    nonces = NonceCache()
    headers = signed(keys)
    assert verify(headers, lookup, nonces) == DEVICE
    assert reason(lambda: verify(headers, lookup, nonces)) == "replayed_nonce"
    assert reason(lambda: verify(headers, lookup, nonces, now=NOW + 200)) == "replayed_nonce"
    # Once outside the window the replay is stale instead.
    assert reason(lambda: verify(headers, lookup, nonces, now=NOW + 400)) == "stale_timestamp"


def test_forged_requests_do_not_burn_nonces(
    keys: PrivateKeySet, lookup: Callable[[str], Ed25519PublicKey | None]
) -> None:
    nonces = NonceCache()
    headers = signed(keys)
    assert reason(lambda: verify(headers, lookup, nonces, body=b"palsu")) == "bad_signature"
    assert len(nonces) == 0
    assert verify(headers, lookup, nonces) == DEVICE


def test_nonces_are_per_device() -> None:
    nonces = NonceCache()
    assert nonces.remember("a", "n" * 22, NOW)
    assert nonces.remember("b", "n" * 22, NOW)
    assert not nonces.remember("a", "n" * 22, NOW)


def test_nonce_cache_forgets_after_two_windows() -> None:
    nonces = NonceCache(window=300)
    assert nonces.remember("a", "old-nonce-000000", NOW)
    assert nonces.remember("a", "new-nonce-000000", NOW + 599)
    assert len(nonces) == 2
    assert nonces.remember("a", "newer-nonce-0000", NOW + 601)
    assert len(nonces) == 2  # the first one can no longer pass the timestamp check
    assert nonces.remember("a", "old-nonce-000000", NOW + 601)


def test_nonce_cache_is_thread_safe() -> None:
    nonces = NonceCache()
    results: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(16)

    def worker() -> None:
        barrier.wait()
        for i in range(200):
            outcome = nonces.remember("dev", f"nonce-{i:012d}", NOW)
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 200
    assert len(nonces) == 200


MALFORMED: list[tuple[str, str | None]] = [
    ("Signature", None),
    ("Signature-Input", None),
    ("Content-Digest", None),
    ("Signature", "sig1=:AAAA:"),
    ("Signature", "berkas=:" + "A" * 86 + "==:, other=:AAAA:"),
    ("Signature", "berkas=" + "A" * 88),
    ("Signature-Input", 'berkas=("@method" "@path");created=1;nonce="x";keyid="d";alg="ed25519"'),
    ("Signature-Input", "garbage"),
    ("Signature-Input", ""),
    ("Content-Digest", "sha-512=:" + "A" * 86 + "==:"),
    ("Content-Digest", "sha-256=" + "A" * 44),
]


@pytest.mark.parametrize(("name", "value"), MALFORMED)
def test_malformed_headers(
    keys: PrivateKeySet,
    lookup: Callable[[str], Ed25519PublicKey | None],
    name: str,
    value: str | None,
) -> None:
    headers = signed(keys)
    if value is None:
        del headers[name]
    else:
        headers[name] = value
    assert reason(lambda: verify(headers, lookup)) == "malformed"


@pytest.mark.parametrize(
    "params",
    [
        '("@method" "@request-target" "content-digest");created=1750000000;keyid="dev-01";'
        'nonce="AAAAAAAAAAAAAAAAAAAAAA";alg="ed25519"',  # other order
        '("@method" "@request-target" "content-digest");created=1750000000;'
        'nonce="AAAAAAAAAAAAAAAAAAAAAA";keyid="dev-01";alg="rsa-pss-sha512"',
        '("@method" "@request-target" "content-digest");created=-1;'
        'nonce="AAAAAAAAAAAAAAAAAAAAAA";keyid="dev-01";alg="ed25519"',
        '("@method" "@request-target" "content-digest");created=1750000000;'
        'nonce="short";keyid="dev-01";alg="ed25519"',
        '("@method" "@request-target" "content-digest");created=1750000000;'
        'nonce="AAAAAAAAAAAAAAAAAAAAAA";keyid="dev 01";alg="ed25519"',
    ],
)
def test_other_signature_profiles_are_malformed(
    keys: PrivateKeySet, lookup: Callable[[str], Ed25519PublicKey | None], params: str
) -> None:
    headers = signed(keys)
    headers["Signature-Input"] = "berkas=" + params
    assert reason(lambda: verify(headers, lookup)) == "malformed"


def test_duplicated_signature_header_is_malformed(
    keys: PrivateKeySet, lookup: Callable[[str], Ed25519PublicKey | None]
) -> None:
    headers = signed(keys)
    headers["signature"] = headers["Signature"]
    assert reason(lambda: verify(headers, lookup)) == "malformed"


@pytest.mark.parametrize("target", ["v1/sync", "/v1/a b", "/v1/\n", "/v1/é", ""])
def test_bad_request_targets(
    keys: PrivateKeySet, lookup: Callable[[str], Ed25519PublicKey | None], target: str
) -> None:
    with pytest.raises(ValueError):
        signed(keys, path_with_query=target)
    assert reason(lambda: verify(signed(keys), lookup, target=target)) == "malformed"


def test_signing_needs_a_signing_key() -> None:
    with pytest.raises(KeyFileError):
        sign_request(PrivateKeySet({"opd": generate_x25519()}), DEVICE, "GET", "/", b"")
    with pytest.raises(ValueError):
        sign_request(generate_device_keys(), "bad id", "GET", "/", b"")


# --- httpx --------------------------------------------------------------------------------


def test_httpx_auth_signs_what_is_sent(
    keys: PrivateKeySet, lookup: Callable[[str], Ed25519PublicKey | None]
) -> None:
    nonces = NonceCache()
    seen: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        try:
            device = verify_request(
                method=request.method,
                path_with_query=request.url.raw_path.decode("ascii"),
                headers=request.headers,
                body=request.content,
                public_key_for=lookup,
                nonces=nonces,
                now=NOW,
            )
        except SignatureError as exc:
            return httpx.Response(401, json={"kode": exc.reason})
        seen.append(device)
        return httpx.Response(200, json={"device": device})

    auth = SignedRequestAuth(keys, DEVICE, clock=lambda: NOW)
    with httpx.Client(
        transport=httpx.MockTransport(server), base_url="https://bkd.example", auth=auth
    ) as client:
        assert client.post("/v1/sync/push", content=b"\x00sealed").status_code == 200
        assert client.get("/v1/sync/changes", params={"since": 5, "limit": 10}).status_code == 200
        assert client.get("/v1/files/a%20b", params={"q": "ä ö"}).status_code == 200
        assert client.post("/v1/enrol", json={"a": [1, 2]}).status_code == 200
    assert seen == [DEVICE] * 4


def test_httpx_auth_refuses_a_key_set_without_signing_key() -> None:
    with pytest.raises(KeyFileError):
        SignedRequestAuth(PrivateKeySet({"opd": generate_x25519()}), DEVICE)

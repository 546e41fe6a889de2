"""Known-answer tests: the fixed vectors in tests/sync/vectors/ must keep matching.

Besides the round trip through sync.crypto, a small reference reader written straight from
sync/PROTOCOL.md with raw primitives opens the same bytes, so spec and code agree.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from sync.crypto import (
    NonceCache,
    decrypt_stream,
    ed25519_public_from_b64,
    load_key_file,
    open_sealed,
    verify_request,
)
from tests.sync import vector_cases

VECTORS = {
    name: json.loads((vector_cases.VECTOR_DIR / f"{name}.json").read_text(encoding="utf-8"))
    for name in ("envelope", "stream", "signature", "keyfile")
}


def x25519(hex_key: str) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(bytes.fromhex(hex_key))


def case_ids(name: str) -> list[str]:
    return [case.get("name", case.get("path_with_query", "")) for case in VECTORS[name]]


@pytest.mark.parametrize("name", list(VECTORS))
def test_code_still_produces_the_fixed_vectors(name: str) -> None:
    regenerated = json.loads(json.dumps(vector_cases.build_all()[name]))
    assert regenerated == VECTORS[name], f"format of {name} changed: see vector_cases.py"


# --- reference readers, from PROTOCOL.md only ---------------------------------------------


def hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def ref_unwrap(stanzas: bytes, key: X25519PrivateKey) -> bytes:
    me = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    for i in range(0, len(stanzas), 80):
        eph, body = stanzas[i : i + 32], stanzas[i + 32 : i + 80]
        shared = key.exchange(X25519PublicKey.from_public_bytes(eph))
        wrap = hkdf(shared, eph + me, b"berkas/v1 x25519")
        try:
            return ChaCha20Poly1305(wrap).decrypt(bytes(12), body, None)
        except InvalidTag:
            continue
    raise AssertionError("no stanza")


def ref_open_envelope(envelope: bytes, key: X25519PrivateKey, aad: bytes) -> bytes:
    assert envelope[0] == 0x01
    n = envelope[1]
    header = envelope[: 2 + 80 * n]
    file_key = ref_unwrap(header[2:], key)
    payload_key = hkdf(file_key, b"", b"berkas/v1 envelope payload")
    return ChaCha20Poly1305(payload_key).decrypt(bytes(12), envelope[len(header) :], header + aad)


def ref_decrypt_stream(data: bytes, key: X25519PrivateKey) -> bytes:
    assert data[:4] == b"BKSF" and data[4] == 0x01
    file_id, n = data[5:21], data[21]
    end = 22 + 80 * n
    data_key = ref_unwrap(data[22:end], key)
    mac = hmac.new(hkdf(data_key, b"", b"berkas/v1 stream header"), data[:end], "sha256")
    assert hmac.compare_digest(mac.digest(), data[end : end + 32])
    aead = ChaCha20Poly1305(hkdf(data_key, file_id, b"berkas/v1 stream payload"))
    body = data[end + 32 :]
    segments = [body[i : i + 65536 + 16] for i in range(0, len(body), 65536 + 16)] or [b""]
    out = b""
    for counter, segment in enumerate(segments):
        last = counter == len(segments) - 1
        nonce = counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")
        out += aead.decrypt(nonce, segment, None)
    return out


# --- vectors ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", VECTORS["envelope"], ids=case_ids("envelope"))
def test_envelope_vectors(case: dict[str, Any]) -> None:
    envelope = bytes.fromhex(case["envelope"])
    aad = bytes.fromhex(case["aad"])
    plaintext = bytes.fromhex(case["plaintext"])
    for private in case["recipient_private"]:
        assert open_sealed(envelope, x25519(private), aad) == plaintext
        assert ref_open_envelope(envelope, x25519(private), aad) == plaintext


@pytest.mark.parametrize("case", VECTORS["stream"], ids=case_ids("stream"))
def test_stream_vectors(case: dict[str, Any]) -> None:
    plaintext = vector_cases.pattern(case["plaintext_pattern_length"])
    assert hashlib.sha256(plaintext).hexdigest() == case["plaintext_sha256"]
    if "ciphertext" not in case:
        return  # large cases are covered by the regeneration check above
    cipher = bytes.fromhex(case["ciphertext"])
    assert cipher.startswith(bytes.fromhex(case["header"]))
    for private in case["recipient_private"]:
        out = io.BytesIO()
        decrypt_stream(io.BytesIO(cipher), out, x25519(private))
        assert out.getvalue() == plaintext
        assert ref_decrypt_stream(cipher, x25519(private)) == plaintext


@pytest.mark.parametrize("case", VECTORS["signature"], ids=case_ids("signature"))
def test_signature_vectors(case: dict[str, Any]) -> None:
    public = ed25519_public_from_b64(case["signing_public_b64"])
    body = bytes.fromhex(case["body"])
    device = verify_request(
        method=case["method"],
        path_with_query=case["path_with_query"],
        headers=case["headers"],
        body=body,
        public_key_for=lambda d: public if d == case["device_id"] else None,
        nonces=NonceCache(),
        now=float(case["created"]),
    )
    assert device == case["device_id"]
    # Reference: the signature covers exactly the documented signature base.
    signature = base64.b64decode(case["headers"]["Signature"][len("berkas=:") : -1])
    public.verify(signature, case["signature_base"].encode("ascii"))
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert case["headers"]["Content-Digest"] == f"sha-256=:{digest}:"


@pytest.mark.parametrize("case", VECTORS["keyfile"], ids=case_ids("keyfile"))
def test_key_file_vectors(case: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(case["file"], encoding="ascii")
    os.chmod(path, 0o600)
    keys = load_key_file(path, case["passphrase"])
    for name, expected in case["keys"].items():
        raw = keys[name].private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        assert raw.hex() == expected["private"]
    if case["passphrase"] is not None:
        # Reference: scrypt over the NFC UTF-8 passphrase, ChaCha20-Poly1305, fixed aad.
        doc = json.loads(case["file"])
        params = doc["scrypt"]

        def unb64(text: str) -> bytes:
            return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

        file_key = Scrypt(
            salt=unb64(params["salt"]),
            length=32,
            n=2 ** params["log_n"],
            r=params["r"],
            p=params["p"],
        ).derive(case["passphrase"].encode())
        inner = ChaCha20Poly1305(file_key).decrypt(
            unb64(doc["nonce"]), unb64(doc["ciphertext"]), b"berkas-keys/v1"
        )
        assert sorted(json.loads(inner)) == sorted(case["keys"])

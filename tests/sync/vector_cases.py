"""Known-answer vectors for the sync.crypto formats: fixed inputs, expected bytes.

The JSON files in tests/sync/vectors/ were generated once by
`python -m tests.sync.vector_cases` and are now fixed: test_vectors.py checks that the code
still produces (and opens) exactly these bytes, so any change of format is caught.
Regenerate only for a deliberate new format version, and say so in PROTOCOL.md.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from sync.crypto import envelope, stream
from sync.crypto.encoding import public_key_b64, raw_public_bytes
from sync.crypto.keys import PrivateKeySet, encode_key_file
from sync.crypto.sealed_body import request_aad, response_aad
from sync.crypto.signing import content_digest, sign_request_with, signature_base
from sync.crypto.stanza import STANZA_INFO, hkdf_sha256

VECTOR_DIR = Path(__file__).parent / "vectors"
# Full ciphertext hex is stored only up to this size; larger cases store a SHA-256.
_FULL_HEX_LIMIT = 4096


def seed(label: str) -> bytes:
    """32 deterministic bytes named by `label`."""
    return hashlib.sha256(b"berkas test vector " + label.encode()).digest()


def x25519(label: str) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(seed(label))


def ed25519(label: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed(label))


def pattern(length: int) -> bytes:
    """Deterministic plaintext: byte i is i mod 251 (a prime, so segments differ)."""
    return bytes(i % 251 for i in range(length))


def _priv_hex(key: X25519PrivateKey | Ed25519PrivateKey) -> str:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()


def _stanza_details(ephemeral: X25519PrivateKey, recipient: X25519PrivateKey) -> dict[str, str]:
    shared = ephemeral.exchange(recipient.public_key())
    salt = raw_public_bytes(ephemeral) + raw_public_bytes(recipient)
    return {
        "ephemeral_public": raw_public_bytes(ephemeral).hex(),
        "recipient_public": raw_public_bytes(recipient).hex(),
        "shared_secret": shared.hex(),
        "wrap_key": hkdf_sha256(shared, salt, STANZA_INFO).hex(),
    }


def envelope_cases() -> list[dict[str, Any]]:
    specs = [
        ("one recipient, no aad", ["alice"], b"", b"halo, Berkas"),
        (
            "two recipients, request aad",
            ["alice", "bob"],
            request_aad("POST", "/v1/sync/push"),
            b'{"ops":[]}',
        ),
        (
            "one recipient, response aad, empty plaintext",
            ["bob"],
            response_aad("GET", "/v1/sync/changes?since=0&limit=500", "AAAAAAAAAAAAAAAAAAAAAA"),
            b"",
        ),
    ]
    cases = []
    for index, (name, who, aad, plaintext) in enumerate(specs):
        recipients = [x25519(f"recipient {w}") for w in who]
        ephemerals = [x25519(f"envelope {index} ephemeral {i}") for i in range(len(who))]
        file_key = seed(f"envelope {index} file key")
        sealed = envelope.seal_with(
            plaintext,
            [r.public_key() for r in recipients],
            aad,
            file_key=file_key,
            ephemerals=ephemerals,
        )
        cases.append(
            {
                "name": name,
                "recipient_private": [_priv_hex(r) for r in recipients],
                "ephemeral_private": [_priv_hex(e) for e in ephemerals],
                "file_key": file_key.hex(),
                "aad": aad.hex(),
                "plaintext": plaintext.hex(),
                "intermediate": {
                    "stanzas": [
                        _stanza_details(e, r) for e, r in zip(ephemerals, recipients, strict=True)
                    ],
                    "payload_key": hkdf_sha256(file_key, b"", envelope.PAYLOAD_INFO).hex(),
                },
                "envelope": sealed.hex(),
            }
        )
    return cases


def stream_cases() -> list[dict[str, Any]]:
    seg = stream.SEGMENT_SIZE
    specs = [
        ("empty", ["alice"], 0),
        ("short", ["alice"], 100),
        ("two recipients, short", ["alice", "bob"], 1000),
        ("exactly one segment", ["alice"], seg),
        ("two full segments and a tail", ["alice", "bob"], 2 * seg + 1000),
        ("exactly three segments", ["bob"], 3 * seg),
    ]
    cases = []
    for index, (name, who, length) in enumerate(specs):
        recipients = [x25519(f"recipient {w}") for w in who]
        ephemerals = [x25519(f"stream {index} ephemeral {i}") for i in range(len(who))]
        data_key = seed(f"stream {index} data key")
        file_id = seed(f"stream {index} file id")[:16]
        out = io.BytesIO()
        stream.encrypt_stream_with(
            io.BytesIO(pattern(length)),
            out,
            [r.public_key() for r in recipients],
            data_key=data_key,
            file_id=file_id,
            ephemerals=ephemerals,
        )
        cipher = out.getvalue()
        header_len = 54 + 80 * len(who)
        case: dict[str, Any] = {
            "name": name,
            "recipient_private": [_priv_hex(r) for r in recipients],
            "ephemeral_private": [_priv_hex(e) for e in ephemerals],
            "data_key": data_key.hex(),
            "file_id": file_id.hex(),
            "plaintext_pattern_length": length,
            "plaintext_sha256": hashlib.sha256(pattern(length)).hexdigest(),
            "intermediate": {
                "header_key": hkdf_sha256(data_key, b"", stream.HEADER_INFO).hex(),
                "payload_key": hkdf_sha256(data_key, file_id, stream.PAYLOAD_INFO).hex(),
            },
            "header": cipher[:header_len].hex(),
            "ciphertext_length": len(cipher),
            "ciphertext_sha256": hashlib.sha256(cipher).hexdigest(),
        }
        if len(cipher) <= _FULL_HEX_LIMIT:
            case["ciphertext"] = cipher.hex()
        cases.append(case)
    return cases


def signature_cases() -> list[dict[str, Any]]:
    specs = [
        ("POST", "/v1/sync/push", b'{"ops":[]}', 1_700_000_000, "bm9uY2Utbm9uY2Utbm9uY2U"),
        (
            "GET",
            "/v1/sync/changes?since=42&limit=500",
            b"",
            1_700_000_123,
            "AAAAAAAAAAAAAAAAAAAAAA",
        ),
        ("POST", "/v1/files", b"", 1_700_000_456, "Zm9vYmFyLWJhei1xdXV4LTEyMw"),
    ]
    signer = ed25519("device signing")
    keys = PrivateKeySet({"signing": signer})
    cases = []
    for method, target, body, created, nonce in specs:
        headers = sign_request_with(
            keys, "dev-0001", method, target, body, created=created, nonce=nonce
        )
        params = headers["Signature-Input"].removeprefix("berkas=")
        cases.append(
            {
                "signing_private": _priv_hex(signer),
                "signing_public_b64": public_key_b64(signer),
                "device_id": "dev-0001",
                "method": method,
                "path_with_query": target,
                "body": body.hex(),
                "created": created,
                "nonce": nonce,
                "signature_base": signature_base(
                    method, target, content_digest(body), params
                ).decode("ascii"),
                "headers": headers,
            }
        )
    return cases


def key_file_cases() -> list[dict[str, Any]]:
    device = PrivateKeySet({"signing": ed25519("device signing"), "encryption": x25519("alice")})
    opd = PrivateKeySet({"opd": x25519("opd key")})
    specs: list[tuple[str, PrivateKeySet, str | None]] = [
        ("device, unprotected", device, None),
        ("device, passphrase", device, "kata sandi rahasia"),
        # NFC: "é" as one code point; the decomposed spelling must open it too.
        ("opd key, non-ASCII passphrase", opd, "Sandi Caf\u00e9 2024"),
    ]
    cases = []
    for index, (name, keys, passphrase) in enumerate(specs):
        salt = seed(f"key file {index} salt")[:16]
        nonce = seed(f"key file {index} nonce")[:12]
        data = encode_key_file(keys, passphrase, salt=salt, nonce=nonce, log_n=10)
        cases.append(
            {
                "name": name,
                "keys": {
                    n: {
                        "type": "ed25519" if isinstance(k, Ed25519PrivateKey) else "x25519",
                        "private": _priv_hex(k),
                    }
                    for n, k in keys.items()
                },
                "passphrase": passphrase,
                "salt": salt.hex() if passphrase else None,
                "nonce": nonce.hex() if passphrase else None,
                "log_n": 10 if passphrase else None,
                "file": data.decode("ascii"),
            }
        )
    return cases


def build_all() -> dict[str, list[dict[str, Any]]]:
    return {
        "envelope": envelope_cases(),
        "stream": stream_cases(),
        "signature": signature_cases(),
        "keyfile": key_file_cases(),
    }


def main() -> None:
    VECTOR_DIR.mkdir(exist_ok=True)
    for name, cases in build_all().items():
        path = VECTOR_DIR / f"{name}.json"
        path.write_text(json.dumps(cases, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {path} ({len(cases)} cases)")


if __name__ == "__main__":
    main()

"""Look for a private key anywhere under a folder: the proof that the BKD verifier private
key is not on the server."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey


def key_files_holding(folder: Path, public_b64: str) -> list[Path]:
    """Every file under `folder` that is a Berkas key file (public halves in clear, the
    private halves sealed or not) for the key with this public half."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        try:
            doc = json.loads(path.read_bytes())
        except (ValueError, OSError):
            continue
        public = doc.get("public") if isinstance(doc, dict) else None
        if isinstance(public, dict) and any(
            isinstance(entry, dict) and entry.get("key") == public_b64 for entry in public.values()
        ):
            found.append(path)
    return found


def files_containing_private(folder: Path, key: X25519PrivateKey) -> list[Path]:
    """Every file under `folder` that holds the raw private key (bytes, base64 or hex)."""
    raw = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    needles = [
        raw,
        base64.b64encode(raw),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
        base64.b64encode(raw).rstrip(b"="),
        raw.hex().encode(),
    ]
    return [
        path
        for path in sorted(p for p in folder.rglob("*") if p.is_file())
        if any(needle in path.read_bytes() for needle in needles)
    ]

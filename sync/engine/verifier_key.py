"""The BKD verifier key pair lives on verifikator machines only: made on one of them, copied
(passphrase-protected) to the others, and its public half registered on the server by the
admin. The server never holds the private half.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sync.crypto import (
    CryptoError,
    PrivateKeySet,
    generate_x25519,
    load_key_file,
    public_key_b64,
    save_key_file,
)
from sync.engine.errors import LocalFailure
from sync.engine.keyring import Keyring

VERIFIER_KEY_NAME = "verifier"
_MIN_PASSPHRASE = 8


def _check_home(keyring: Keyring) -> None:
    facts = keyring.facts()
    if facts is not None and facts.role != "verifikator":
        raise LocalFailure(
            "Kunci verifikator hanya untuk komputer verifikator BKD; perangkat ini terdaftar "
            "sebagai perangkat OPD.",
            f"role {facts.role}",
        )
    if keyring.verifier_path.exists():
        raise LocalFailure(
            f"Komputer ini sudah memiliki kunci verifikator ({keyring.verifier_path}); "
            "kunci itu tidak ditimpa.",
            "verifier key exists",
        )


def create_verifier_key(keyring: Keyring, passphrase: str) -> str:
    """Make the verifier key pair here (0600, under `passphrase`); returns the public half
    for the admin to register with `berkas server verifier-key set`."""
    if len(passphrase) < _MIN_PASSPHRASE:
        raise LocalFailure(
            f"Frasa sandi kunci verifikator minimal {_MIN_PASSPHRASE} karakter.", "short"
        )
    _check_home(keyring)
    facts = keyring.facts()
    if facts is not None and facts.verifier_encryption_key:
        raise LocalFailure(
            "Server tempat perangkat ini terdaftar sudah memakai kunci verifikator "
            f"{facts.verifier_encryption_key}. Pasang kunci itu dari komputer verifikator "
            "lain (berkas verifikasi kunci pasang FILE), jangan membuat yang baru.",
            "server already has a verifier key",
        )
    keyring.folder.mkdir(parents=True, exist_ok=True)
    if os.name == "posix":
        os.chmod(keyring.folder, 0o700)
    key = generate_x25519()
    save_key_file(keyring.verifier_path, PrivateKeySet({VERIFIER_KEY_NAME: key}), passphrase)
    return public_key_b64(key)


def install_verifier_key(keyring: Keyring, source: Path, passphrase: str) -> str:
    """Copy a verifier key file (made on another verifikator machine, or moved off an old
    server) into this home after checking the passphrase opens it; returns its public half."""
    _check_home(keyring)
    try:
        key = load_key_file(source, passphrase or None).x25519(VERIFIER_KEY_NAME)
    except CryptoError as exc:
        raise LocalFailure(f"Berkas kunci {source}: {exc.message}", exc.cause) from exc
    except OSError as exc:
        raise LocalFailure(f"Berkas kunci {source} tidak dapat dibaca.", repr(exc)) from exc
    public = public_key_b64(key)
    facts = keyring.facts()
    if facts is not None and facts.verifier_encryption_key not in ("", public):
        raise LocalFailure(
            "Kunci ini bukan kunci verifikator server tempat perangkat ini terdaftar "
            f"(server memakai {facts.verifier_encryption_key}).",
            "verifier key mismatch",
        )
    keyring.folder.mkdir(parents=True, exist_ok=True)
    if os.name == "posix":
        os.chmod(keyring.folder, 0o700)
    tmp = keyring.verifier_path.with_name(".verifier.key.tmp")
    shutil.copyfile(source, tmp)
    os.chmod(tmp, 0o600)
    os.replace(tmp, keyring.verifier_path)
    return public

"""The server's key set and the BKD verifier public key, kept under DIR/keys.

DIR/keys/server.key   the server's Ed25519 "signing" and X25519 "encryption" keys (0600)
DIR/keys/verifier.pub the BKD verifier X25519 public key (text form)
DIR/keys/verifier.key the verifier private key, passphrase-protected, for the admin to hand
                      to verifikator devices; the server itself never reads it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from server.settings import ServerSettings
from sync.crypto import (
    CryptoError,
    PrivateKeySet,
    generate_device_keys,
    generate_x25519,
    load_key_file,
    public_key_b64,
    save_key_file,
    x25519_public_from_b64,
)

VERIFIER_KEY_NAME = "verifier"


class ServerKeyError(RuntimeError):
    """The server's keys are missing or unusable; `message` tells the admin what to do."""

    def __init__(self, message: str, technical: str) -> None:
        super().__init__(technical)
        self.message = message


@dataclass(frozen=True)
class ServerKeys:
    """What the running server needs: its own private keys and the verifier public key."""

    keys: PrivateKeySet
    verifier_public: X25519PublicKey

    @property
    def encryption(self) -> X25519PrivateKey:
        return self.keys.x25519("encryption")

    @property
    def signing_public_b64(self) -> str:
        return public_key_b64(self.keys.ed25519("signing"))

    @property
    def encryption_public_b64(self) -> str:
        return public_key_b64(self.encryption)

    @property
    def verifier_public_b64(self) -> str:
        return public_key_b64(self.verifier_public)


def is_initialised(settings: ServerSettings) -> bool:
    return settings.server_key_path.exists()


def init_keys(settings: ServerSettings, verifier_passphrase: str) -> str:
    """Make the server key set and the verifier key pair; returns the verifier public key.

    Refuses to overwrite an existing key set: devices enrolled against it would be lost.
    """
    if not verifier_passphrase:
        raise ServerKeyError(
            "Frasa sandi kunci verifikator tidak boleh kosong.", "empty passphrase"
        )
    if is_initialised(settings):
        raise ServerKeyError(
            f"Server di {settings.home} sudah diinisialisasi; kunci yang ada tidak ditimpa.",
            f"{settings.server_key_path} exists",
        )
    settings.keys_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.keys_dir, 0o700)
    verifier = generate_x25519()
    save_key_file(
        settings.verifier_key_path,
        PrivateKeySet({VERIFIER_KEY_NAME: verifier}),
        verifier_passphrase,
    )
    verifier_b64 = public_key_b64(verifier)
    settings.verifier_public_path.write_text(verifier_b64 + "\n", encoding="ascii")
    # Written last: its presence is what "initialised" means.
    save_key_file(settings.server_key_path, generate_device_keys())
    return verifier_b64


def load_server_keys(settings: ServerSettings) -> ServerKeys:
    """Read DIR/keys; ServerKeyError with a Bahasa message when something is wrong."""
    if not is_initialised(settings):
        raise ServerKeyError(
            f"Server di {settings.home} belum diinisialisasi. "
            "Jalankan dulu: berkas server init --home " + str(settings.home),
            f"{settings.server_key_path} missing",
        )
    try:
        keys = load_key_file(settings.server_key_path)
        keys.ed25519("signing")
        keys.x25519("encryption")
        verifier = x25519_public_from_b64(
            settings.verifier_public_path.read_text(encoding="ascii").strip()
        )
    except CryptoError as exc:
        raise ServerKeyError(exc.message, exc.cause) from exc
    except OSError as exc:
        raise ServerKeyError(
            f"Kunci publik verifikator ({settings.verifier_public_path}) tidak dapat dibaca.",
            repr(exc),
        ) from exc
    return ServerKeys(keys=keys, verifier_public=verifier)

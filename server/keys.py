"""The server's key set and the BKD verifier public key, kept under DIR/keys.

DIR/keys/server.key   the server's Ed25519 "signing" and X25519 "encryption" keys (0600)
DIR/keys/verifier.pub the BKD verifier X25519 public key (text form)

The verifier private key never lives here (DESIGN.md "Keys and requests"): the verifikator
makes the pair on their own machine (`berkas verifikasi kunci buat`) and the admin registers
the public half (`berkas server verifier-key set KUNCI`). A server initialised by an older
version still has DIR/keys/verifier.key; it refuses to run until the admin moves that file
out (`berkas server verifier-key export --ke FILE`).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from server.settings import ServerSettings
from sync.crypto import (
    CryptoError,
    PrivateKeySet,
    generate_device_keys,
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


def legacy_verifier_key_path(settings: ServerSettings) -> Path:
    """Where `berkas server init` of older versions left the verifier private key."""
    return settings.keys_dir / "verifier.key"


def _legacy_message(settings: ServerSettings) -> str:
    return (
        f"Server ini masih menyimpan kunci privat verifikator BKD "
        f"({legacy_verifier_key_path(settings)}); siapa pun yang menguasai server dapat "
        "membuka semua dokumen. Server tidak dijalankan sampai kunci itu dipindahkan: "
        f"berkas server verifier-key export --home {settings.home} --ke FILE "
        "(FILE di media lepas, mis. flashdisk), lalu di komputer verifikator: "
        "berkas verifikasi kunci pasang FILE. Lihat README, bagian kunci verifikator."
    )


def init_keys(settings: ServerSettings, verifier_public: str | None = None) -> None:
    """Make the server key set; register the verifier public key too when given.

    Refuses to overwrite an existing key set: devices enrolled against it would be lost.
    The verifier key pair is made by the verifikator, never here.
    """
    if is_initialised(settings):
        raise ServerKeyError(
            f"Server di {settings.home} sudah diinisialisasi; kunci yang ada tidak ditimpa.",
            f"{settings.server_key_path} exists",
        )
    if verifier_public is not None:
        _parse_verifier_public(verifier_public)  # refuse a bad key before writing anything
    settings.keys_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.keys_dir, 0o700)
    if verifier_public is not None:
        register_verifier_key(settings, verifier_public)
    # Written last: its presence is what "initialised" means.
    save_key_file(settings.server_key_path, generate_device_keys())


def _parse_verifier_public(text: str) -> X25519PublicKey:
    try:
        return x25519_public_from_b64(text.strip())
    except CryptoError as exc:
        raise ServerKeyError(
            "Kunci publik verifikator tidak sah: salin persis baris yang dicetak oleh "
            "'berkas verifikasi kunci buat' (atau berkas verifier.pub-nya).",
            exc.cause,
        ) from exc


def registered_verifier_key(settings: ServerSettings) -> str | None:
    """The registered verifier public key (text form), None before registration."""
    try:
        return settings.verifier_public_path.read_text(encoding="ascii").strip() or None
    except FileNotFoundError:
        return None


def register_verifier_key(settings: ServerSettings, public_b64: str) -> str:
    """Register the BKD verifier public key; the same key again is accepted.

    A different key is refused: every device enrolled so far wraps documents to the
    registered one, so replacing it would leave them unreadable to the new key.
    """
    key = public_key_b64(_parse_verifier_public(public_b64))
    current = registered_verifier_key(settings)
    if current is not None and current != key:
        raise ServerKeyError(
            "Server ini sudah memakai kunci verifikator lain "
            f"({current}); kunci itu tidak diganti karena perangkat yang terdaftar "
            "membungkus dokumen untuknya.",
            "verifier key already registered",
        )
    if current is None:
        settings.keys_dir.mkdir(parents=True, exist_ok=True)
        settings.verifier_public_path.write_text(key + "\n", encoding="ascii")
    return key


def _key_file_publics(path: Path) -> dict[str, str]:
    """The public halves a key file names (stored in clear, readable without passphrase)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return {name: str(entry["key"]) for name, entry in doc["public"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def export_legacy_verifier_key(settings: ServerSettings, target: Path) -> Path:
    """Move the verifier private key an older `server init` left on the server to `target`
    (for the verifikator's machine) and remove it from the server."""
    source = legacy_verifier_key_path(settings)
    if not source.exists():
        raise ServerKeyError(
            "Server ini tidak menyimpan kunci privat verifikator; tidak ada yang dipindahkan.",
            f"{source} missing",
        )
    target = target.expanduser().resolve()
    if target.is_dir():
        target = target / "verifier.key"
    if target.is_relative_to(settings.home):
        raise ServerKeyError(
            f"Tujuan harus di luar folder server (mis. flashdisk), bukan di {settings.home}.",
            f"{target} inside server home",
        )
    if target.exists():
        raise ServerKeyError(f"{target} sudah ada; pilih nama lain.", f"{target} exists")
    publics = _key_file_publics(source)
    registered = registered_verifier_key(settings)
    if publics.get(VERIFIER_KEY_NAME) is None or (
        registered is not None and publics[VERIFIER_KEY_NAME] != registered
    ):
        raise ServerKeyError(
            f"{source} bukan kunci verifikator server ini; periksa berkasnya secara manual.",
            "legacy verifier key does not match verifier.pub",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, tmp)
    os.chmod(tmp, 0o600)
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    if tmp.read_bytes() != source.read_bytes():  # pragma: no cover - a failing medium
        tmp.unlink(missing_ok=True)
        raise ServerKeyError(f"Salinan ke {target} tidak utuh; coba media lain.", "copy differs")
    os.replace(tmp, target)
    # Overwrite before unlinking: on a plain disk this keeps the bytes out of free space
    # (journaling and copy-on-write filesystems and old backups may still hold them; the
    # README says so).
    size = source.stat().st_size
    with source.open("r+b") as fh:
        fh.write(os.urandom(size))
        fh.flush()
        os.fsync(fh.fileno())
    source.unlink()
    return target


def load_server_keys(settings: ServerSettings) -> ServerKeys:
    """Read DIR/keys; ServerKeyError with a Bahasa message when something is wrong."""
    if not is_initialised(settings):
        raise ServerKeyError(
            f"Server di {settings.home} belum diinisialisasi. "
            "Jalankan dulu: berkas server init --home " + str(settings.home),
            f"{settings.server_key_path} missing",
        )
    if legacy_verifier_key_path(settings).exists():
        raise ServerKeyError(_legacy_message(settings), "verifier private key on the server")
    if registered_verifier_key(settings) is None:
        raise ServerKeyError(
            "Kunci publik verifikator BKD belum didaftarkan. Di komputer verifikator: "
            "berkas verifikasi kunci buat; lalu di server: berkas server verifier-key set "
            f"KUNCI --home {settings.home}.",
            f"{settings.verifier_public_path} missing",
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

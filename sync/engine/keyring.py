"""The keys one installation holds: its device key set, the shared OPD key (once wrapped for
this device) and the server's public keys from enrolment.

Files in the keys folder (client.paths.Paths.keys):
    perangkat.key   device key set {"signing", "encryption"} (0600, optional passphrase)
    opd.key         the OPD X25519 private key {"opd"} once this device holds it (0600)
    server.json     public facts from enrolment: server URL and keys, device, OPD, role
Public keys are not secret; private ones never leave these files unsealed.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from sync.crypto import (
    CryptoError,
    KeyFileError,
    PrivateKeySet,
    create_key_file,
    generate_device_keys,
    generate_x25519,
    load_key_file,
    public_key_b64,
    save_key_file,
    x25519_public_from_b64,
)
from sync.engine.errors import LocalFailure, NotEnrolled

_PASSPHRASE_ENV = "BERKAS_KEY_PASSPHRASE"
VERIFIER_PASSPHRASE_ENV = "BERKAS_VERIFIER_PASSPHRASE"
_NOT_ENROLLED = "Perangkat ini belum terdaftar. Jalankan: berkas enrol --server URL --code KODE"


@dataclass
class ServerFacts:
    """What enrolment taught us; public, kept in server.json."""

    server_url: str
    device_id: str
    opd_id: str
    opd_kode: str
    role: str
    server_signing_key: str
    server_encryption_key: str
    verifier_encryption_key: str
    opd_encryption_key: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Keyring:
    """Loads and saves the key files of one keys folder."""

    def __init__(
        self,
        folder: Path,
        passphrase: str | None = None,
        *,
        verifier_passphrase: str | None = None,
    ) -> None:
        self.folder = folder
        self.passphrase = passphrase if passphrase is not None else os.environ.get(_PASSPHRASE_ENV)
        # The verifikator's TUI asks for it and keeps it in memory only (never the env).
        self.verifier_passphrase = verifier_passphrase
        self._device: PrivateKeySet | None = None
        self._opd: X25519PrivateKey | None = None
        self._facts: ServerFacts | None = None
        self._verifier: X25519PrivateKey | None = None
        self._lock = threading.Lock()

    @property
    def device_path(self) -> Path:
        return self.folder / "perangkat.key"

    @property
    def opd_path(self) -> Path:
        return self.folder / "opd.key"

    @property
    def facts_path(self) -> Path:
        return self.folder / "server.json"

    @property
    def verifier_path(self) -> Path:
        """The BKD verifier private key, copied here by the admin on verifikator machines."""
        return self.folder / "verifier.key"

    # -- device keys ----------------------------------------------------------------------------

    def has_device_keys(self) -> bool:
        return self.device_path.exists()

    def device_keys(self, *, create: bool = False) -> PrivateKeySet:
        """The device key set on disk; made (0600) when missing and `create`.

        Made at most once per home: the file is published with an exclusive create, and
        every caller (thread or process) then loads the one on disk, never the keys it
        generated itself, so no document is ever encrypted to a key that lost the race.
        """
        if self._device is not None:
            return self._device
        with self._lock:
            if self._device is not None:
                return self._device
            if not self.device_path.exists():
                if not create:
                    raise NotEnrolled(_NOT_ENROLLED, f"no key file {self.device_path}")
                self.ensure_folder()
                try:
                    create_key_file(
                        self.device_path, generate_device_keys(), self.passphrase or None
                    )
                except CryptoError as exc:
                    raise LocalFailure(exc.message, exc.cause) from exc
            try:
                self._device = load_key_file(self.device_path, self.passphrase or None)
            except CryptoError as exc:
                raise LocalFailure(exc.message, exc.cause) from exc
            return self._device

    def ensure_folder(self) -> None:
        """The keys folder, 0700."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.name == "posix":
            os.chmod(self.folder, 0o700)

    # -- the OPD key ----------------------------------------------------------------------------

    def opd_key(self) -> X25519PrivateKey | None:
        if self._opd is not None:
            return self._opd
        if not self.opd_path.exists():
            return None
        try:
            self._opd = load_key_file(self.opd_path, self.passphrase or None).x25519("opd")
        except KeyFileError as exc:
            raise LocalFailure(exc.message, exc.cause) from exc
        return self._opd

    def forget_opd_key(self) -> None:
        self.opd_path.unlink(missing_ok=True)
        self._opd = None

    def verifier_key(self) -> X25519PrivateKey | None:
        if self._verifier is not None:
            return self._verifier
        if not self.verifier_path.exists():
            return None
        passphrase = (
            self.verifier_passphrase
            or os.environ.get(VERIFIER_PASSPHRASE_ENV)
            or self.passphrase
            or None
        )
        try:
            self._verifier = load_key_file(self.verifier_path, passphrase).x25519("verifier")
        except KeyFileError as exc:
            raise LocalFailure(exc.message, exc.cause) from exc
        return self._verifier

    def forget_verifier_key(self) -> None:
        """Drop the unlocked verifier key and its passphrase from memory (idle lock)."""
        self._verifier = None
        self.verifier_passphrase = None

    def save_opd_key(self, key: X25519PrivateKey) -> None:
        """Keep the OPD key the server gave us (replaces what was here)."""
        self.ensure_folder()
        save_key_file(self.opd_path, PrivateKeySet({"opd": key}), self.passphrase or None)
        self._opd = key

    def create_opd_key(self) -> X25519PrivateKey:
        """The OPD key on disk, made first (exclusive create) when there is none, so two
        syncs making the first OPD key at once still end with the same one."""
        with self._lock:
            self.ensure_folder()
            try:
                create_key_file(
                    self.opd_path,
                    PrivateKeySet({"opd": generate_x25519()}),
                    self.passphrase or None,
                )
            except CryptoError as exc:
                raise LocalFailure(exc.message, exc.cause) from exc
            self._opd = None
        key = self.opd_key()
        if key is None:  # pragma: no cover - removed between create and load
            raise LocalFailure("Kunci OPD tidak tersimpan.", f"no {self.opd_path} after create")
        return key

    # -- enrolment facts ------------------------------------------------------------------------

    def facts(self) -> ServerFacts | None:
        if self._facts is not None:
            return self._facts
        try:
            data = json.loads(self.facts_path.read_text(encoding="utf-8"))
            self._facts = ServerFacts(**data)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            raise LocalFailure(
                "Berkas keterangan server (kunci/server.json) rusak; daftarkan ulang perangkat.",
                repr(exc),
            ) from exc
        return self._facts

    def require_facts(self) -> ServerFacts:
        facts = self.facts()
        if facts is None:
            raise NotEnrolled(_NOT_ENROLLED, f"no {self.facts_path}")
        return facts

    def save_facts(self, facts: ServerFacts) -> None:
        _write_atomic(self.facts_path, json.dumps(asdict(facts), indent=2, sort_keys=True) + "\n")
        self._facts = facts

    # -- what documents are encrypted to ----------------------------------------------------------

    def recipients(self) -> list[X25519PublicKey]:
        """The device itself (so it can always read back what it stored), then, once
        enrolled, the OPD key (restore after a total loss) and the BKD verifier key."""
        own = self.device_keys(create=True).x25519("encryption").public_key()
        out = [own]
        facts = self.facts()
        if facts is not None:
            if facts.opd_encryption_key:
                out.append(x25519_public_from_b64(facts.opd_encryption_key))
            if facts.verifier_encryption_key:
                out.append(x25519_public_from_b64(facts.verifier_encryption_key))
        return out

    def shared_recipients(self) -> list[X25519PublicKey]:
        """The recipients besides the device: what an upload must add if missing."""
        return self.recipients()[1:]

    def private_keys(self) -> list[X25519PrivateKey]:
        """Every X25519 private key that may open a document here."""
        keys: list[X25519PrivateKey] = []
        if self.has_device_keys():
            keys.append(self.device_keys().x25519("encryption"))
        opd = self.opd_key()
        if opd is not None:
            keys.append(opd)
        verifier = self.verifier_key()
        if verifier is not None:
            keys.append(verifier)
        return keys

    def device_public_b64(self) -> tuple[str, str]:
        keys = self.device_keys(create=True)
        return public_key_b64(keys.ed25519("signing")), public_key_b64(keys.x25519("encryption"))

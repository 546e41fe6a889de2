"""Named private key sets and the key file that holds them (JSON, 0600, optional passphrase).

A device file holds {"signing": Ed25519, "encryption": X25519}; the same format holds the
shared OPD key ({"opd": X25519}) and the BKD verifier key ({"verifier": X25519}).
Format: sync/PROTOCOL.md, "Key file".
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import tempfile
import unicodedata
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from sync.crypto.encoding import PrivateKey, b64url_decode, b64url_encode, public_key_b64
from sync.crypto.errors import (
    InsecureKeyFile,
    KeyFileError,
    PassphraseRequired,
    WrongPassphrase,
)

KEY_FILE_FORMAT: Final = "berkas-keys"
KEY_FILE_VERSION: Final = 1
PROTECTION_NONE: Final = "none"
PROTECTION_SCRYPT: Final = "scrypt-chacha20poly1305"
KEY_FILE_AAD: Final = b"berkas-keys/v1"

# scrypt N = 2**17, r = 8, p = 1: 128 MiB and about half a second, the OWASP floor for scrypt.
# Read at call time so tests can lower it.
SCRYPT_LOG_N = 17
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
# A hostile file must not make us allocate without bound: at most 1 GiB of scrypt memory.
_SCRYPT_MAX_MEMORY: Final = 1 << 30
_MAX_FILE_SIZE: Final = 64 * 1024
_MAX_KEYS: Final = 16
_KEY_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_TYPE_ED25519: Final = "ed25519"
_TYPE_X25519: Final = "x25519"

_MSG_MISSING: Final = "Berkas kunci perangkat tidak ditemukan. Daftarkan perangkat ini dulu."
_MSG_UNREADABLE: Final = "Berkas kunci perangkat tidak dapat dibaca (periksa izin berkasnya)."
_MSG_WRITE: Final = "Berkas kunci tidak dapat disimpan; berkas lama tidak berubah."
_MSG_EMPTY_PASSPHRASE: Final = "Frasa sandi tidak boleh kosong."


def _key_type(key: object) -> str:
    if isinstance(key, Ed25519PrivateKey):
        return _TYPE_ED25519
    if isinstance(key, X25519PrivateKey):
        return _TYPE_X25519
    raise TypeError(f"not an Ed25519 or X25519 private key: {type(key).__name__}")


def _private_raw(key: PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


class PrivateKeySet(Mapping[str, PrivateKey]):
    """An immutable set of named Ed25519/X25519 private keys; its repr shows public halves only."""

    __slots__ = ("_keys",)

    def __init__(self, keys: Mapping[str, PrivateKey]) -> None:
        if not keys:
            raise ValueError("a key set holds at least one key")
        if len(keys) > _MAX_KEYS:
            raise ValueError(f"a key set holds at most {_MAX_KEYS} keys")
        for name, key in keys.items():
            if not isinstance(name, str) or not _KEY_NAME.match(name):
                raise ValueError(f"invalid key name {name!r}")
            _key_type(key)
        self._keys: dict[str, PrivateKey] = dict(sorted(keys.items()))

    def __getitem__(self, name: str) -> PrivateKey:
        return self._keys[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"PrivateKeySet(public={self.public_keys()!r})"

    def ed25519(self, name: str = "signing") -> Ed25519PrivateKey:
        """The Ed25519 key called `name`; KeyFileError if absent or of another type."""
        key = self._keys.get(name)
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileError(
                f"Berkas kunci tidak memuat kunci tanda tangan '{name}'.",
                f"key set has no ed25519 key named {name!r}",
            )
        return key

    def x25519(self, name: str = "encryption") -> X25519PrivateKey:
        """The X25519 key called `name`; KeyFileError if absent or of another type."""
        key = self._keys.get(name)
        if not isinstance(key, X25519PrivateKey):
            raise KeyFileError(
                f"Berkas kunci tidak memuat kunci enkripsi '{name}'.",
                f"key set has no x25519 key named {name!r}",
            )
        return key

    def public_keys(self) -> dict[str, str]:
        """Each key's public half in text form, by name."""
        return {name: public_key_b64(key) for name, key in self._keys.items()}


def generate_x25519() -> X25519PrivateKey:
    """A fresh X25519 key (an OPD key pair or the BKD verifier key)."""
    return X25519PrivateKey.generate()


def generate_device_keys() -> PrivateKeySet:
    """A fresh device identity: Ed25519 "signing" and X25519 "encryption"."""
    return PrivateKeySet(
        {"signing": Ed25519PrivateKey.generate(), "encryption": X25519PrivateKey.generate()}
    )


# --- encoding -----------------------------------------------------------------------------


def _passphrase_bytes(passphrase: str) -> bytes:
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def _check_scrypt_params(log_n: int, r: int, p: int) -> None:
    if not (1 <= log_n <= 30 and 1 <= r <= 32 and 1 <= p <= 16):
        raise KeyFileError(cause=f"scrypt parameters out of range: log_n={log_n} r={r} p={p}")
    if 128 * r * (1 << log_n) * p > _SCRYPT_MAX_MEMORY:
        raise KeyFileError(
            cause=f"scrypt parameters need too much memory: log_n={log_n} r={r} p={p}"
        )


def _derive_file_key(passphrase: str, salt: bytes, log_n: int, r: int, p: int) -> bytes:
    _check_scrypt_params(log_n, r, p)
    kdf = Scrypt(salt=salt, length=32, n=1 << log_n, r=r, p=p)
    return kdf.derive(_passphrase_bytes(passphrase))


def _canonical_json(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def encode_key_file(
    keys: PrivateKeySet,
    passphrase: str | None,
    *,
    salt: bytes,
    nonce: bytes,
    log_n: int,
) -> bytes:
    """The key file bytes, with the randomness injected (test vectors use this directly)."""
    if passphrase == "":
        raise KeyFileError(_MSG_EMPTY_PASSPHRASE, "empty passphrase")
    public = {
        name: {"type": _key_type(key), "key": public_key_b64(key)} for name, key in keys.items()
    }
    private = {name: b64url_encode(_private_raw(key)) for name, key in keys.items()}
    doc: dict[str, Any] = {
        "format": KEY_FILE_FORMAT,
        "version": KEY_FILE_VERSION,
        "public": public,
    }
    if passphrase is None:
        doc["protection"] = PROTECTION_NONE
        doc["private"] = private
    else:
        if len(salt) != 16 or len(nonce) != 12:
            raise ValueError("salt must be 16 bytes and nonce 12 bytes")
        file_key = _derive_file_key(passphrase, salt, log_n, SCRYPT_R, SCRYPT_P)
        sealed = ChaCha20Poly1305(file_key).encrypt(nonce, _canonical_json(private), KEY_FILE_AAD)
        doc["protection"] = PROTECTION_SCRYPT
        doc["scrypt"] = {"salt": b64url_encode(salt), "log_n": log_n, "r": SCRYPT_R, "p": SCRYPT_P}
        doc["nonce"] = b64url_encode(nonce)
        doc["ciphertext"] = b64url_encode(sealed)
    return json.dumps(doc, indent=2, sort_keys=True).encode("ascii") + b"\n"


def _field(doc: Mapping[str, Any], name: str, kind: type[Any]) -> Any:
    value = doc.get(name)
    # bool is an int in Python; a JSON true is never a valid number here.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise KeyFileError(cause=f"key file field {name!r} missing or not a {kind.__name__}")
    return value


def _b64_field(doc: Mapping[str, Any], name: str, size: int | None = None) -> bytes:
    try:
        raw = b64url_decode(_field(doc, name, str))
    except ValueError:
        raise KeyFileError(cause=f"key file field {name!r} is not unpadded base64url") from None
    if size is not None and len(raw) != size:
        raise KeyFileError(cause=f"key file field {name!r} must be {size} bytes, got {len(raw)}")
    return raw


def _private_from_raw(key_type: str, raw: bytes) -> PrivateKey:
    if len(raw) != 32:
        raise KeyFileError(cause=f"private key must be 32 bytes, got {len(raw)}")
    if key_type == _TYPE_ED25519:
        return Ed25519PrivateKey.from_private_bytes(raw)
    return X25519PrivateKey.from_private_bytes(raw)


def decode_key_file(data: bytes, passphrase: str | None) -> PrivateKeySet:
    """Parse and (if protected) decrypt key file bytes; every defect is a KeyFileError."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise KeyFileError(cause="key file is not UTF-8 JSON") from None
    if not isinstance(doc, dict):
        raise KeyFileError(cause="key file is not a JSON object")
    if doc.get("format") != KEY_FILE_FORMAT:
        raise KeyFileError(cause="key file has no 'format': 'berkas-keys'")
    version = _field(doc, "version", int)
    if version != KEY_FILE_VERSION:
        raise KeyFileError(
            "Berkas kunci dibuat oleh versi Berkas yang lebih baru. Perbarui aplikasi ini.",
            f"key file version {version} not supported",
        )

    public = _field(doc, "public", dict)
    if not public or len(public) > _MAX_KEYS:
        raise KeyFileError(cause="key file 'public' must list 1 to 16 keys")
    types: dict[str, str] = {}
    for name, entry in public.items():
        if not _KEY_NAME.match(name) or not isinstance(entry, dict):
            raise KeyFileError(cause=f"key file public entry {name!r} malformed")
        key_type = entry.get("type")
        if key_type not in (_TYPE_ED25519, _TYPE_X25519):
            raise KeyFileError(cause=f"key {name!r} has unknown type {key_type!r}")
        _b64_field(entry, "key", 32)
        types[name] = key_type

    protection = doc.get("protection")
    if protection == PROTECTION_NONE:
        private = _field(doc, "private", dict)
    elif protection == PROTECTION_SCRYPT:
        private = _open_protected(doc, passphrase)
    else:
        raise KeyFileError(cause=f"key file protection {protection!r} not supported")

    if set(private) != set(types):
        raise KeyFileError(cause="key file private and public key names differ")
    keys: dict[str, PrivateKey] = {}
    for name, key_type in types.items():
        key = _private_from_raw(key_type, _b64_field(private, name, 32))
        if public_key_b64(key) != public[name]["key"]:
            raise KeyFileError(cause=f"key {name!r}: public key does not match the private key")
        keys[name] = key
    return PrivateKeySet(keys)


def _open_protected(doc: Mapping[str, Any], passphrase: str | None) -> dict[str, Any]:
    params = _field(doc, "scrypt", dict)
    salt = _b64_field(params, "salt")
    if not 16 <= len(salt) <= 64:
        raise KeyFileError(cause="scrypt salt must be 16 to 64 bytes")
    log_n = _field(params, "log_n", int)
    r = _field(params, "r", int)
    p = _field(params, "p", int)
    _check_scrypt_params(log_n, r, p)
    nonce = _b64_field(doc, "nonce", 12)
    sealed = _b64_field(doc, "ciphertext")
    if passphrase is None:
        raise PassphraseRequired(
            cause="key file is passphrase-protected and no passphrase was given"
        )
    file_key = _derive_file_key(passphrase, salt, log_n, r, p)
    try:
        plain = ChaCha20Poly1305(file_key).decrypt(nonce, sealed, KEY_FILE_AAD)
    except InvalidTag:
        raise WrongPassphrase(
            cause="key file did not decrypt: wrong passphrase or altered"
        ) from None
    try:
        private = json.loads(plain.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise KeyFileError(cause="decrypted key file content is not JSON") from None
    if not isinstance(private, dict):
        raise KeyFileError(cause="decrypted key file content is not a JSON object")
    return private


# --- files --------------------------------------------------------------------------------


def _write_atomically(path: Path, data: bytes, *, exclusive: bool = False) -> bool:
    """Temp file in the same folder, fsync, rename, fsync the folder: all or nothing.

    With `exclusive` the file is published only if `path` does not exist yet (a hard link,
    which fails on an existing name, instead of a rename, which replaces it): several
    processes creating the same key at once end with exactly one, and each reads that one.
    Returns False when `path` already existed and nothing was written.
    """
    folder = path.parent
    tmp_name: str | None = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        try:
            if os.name == "posix":
                os.fchmod(fd, 0o600)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        if exclusive:
            if not _publish_new(tmp_name, path, data):
                return False
        else:
            os.replace(tmp_name, path)
            tmp_name = None
        if os.name == "posix":
            dir_fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        return True
    except OSError as exc:
        raise KeyFileError(_MSG_WRITE, f"cannot write key file {path}: {exc.strerror}") from None
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


def _publish_new(tmp_name: str, path: Path, data: bytes) -> bool:
    """Give the complete temp file the name `path` unless that name exists (False then)."""
    try:
        os.link(tmp_name, path)
        return True
    except FileExistsError:
        return False
    except OSError:
        pass
    # A filesystem without hard links (FAT, some shares; the error differs per system):
    # O_EXCL still makes exactly one winner, and a real failure (a full disk) shows here
    # again. The window in which a reader could see the file half written is tiny.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    except FileExistsError:
        return False
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return True


def _read_private_file(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise KeyFileError(_MSG_MISSING, f"key file {path} not found") from None
    except OSError as exc:
        raise KeyFileError(
            _MSG_UNREADABLE, f"cannot open key file {path}: {exc.strerror}"
        ) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError(cause=f"key file {path} is not a regular file")
        # POSIX only: on Windows the mode bits say nothing; the profile folder's ACL applies.
        if os.name == "posix" and info.st_mode & 0o077:
            raise InsecureKeyFile(
                cause=f"key file {path} has mode {stat.S_IMODE(info.st_mode):o}; "
                "group/other must have no access (0600)"
            )
        if info.st_size > _MAX_FILE_SIZE:
            raise KeyFileError(cause=f"key file {path} is larger than {_MAX_FILE_SIZE} bytes")
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, 8192):
            chunks.append(chunk)
            total += len(chunk)
            if total > _MAX_FILE_SIZE:
                raise KeyFileError(cause=f"key file {path} is larger than {_MAX_FILE_SIZE} bytes")
        return b"".join(chunks)
    except OSError as exc:
        raise KeyFileError(
            _MSG_UNREADABLE, f"cannot read key file {path}: {exc.strerror}"
        ) from None
    finally:
        os.close(fd)


def save_key_file(path: Path, keys: PrivateKeySet, passphrase: str | None = None) -> None:
    """Write `keys` to `path` atomically with mode 0600, under `passphrase` if given."""
    data = encode_key_file(
        keys, passphrase, salt=os.urandom(16), nonce=os.urandom(12), log_n=SCRYPT_LOG_N
    )
    _write_atomically(Path(path), data)


def create_key_file(path: Path, keys: PrivateKeySet, passphrase: str | None = None) -> bool:
    """Write `keys` to `path` (0600) only if no key file is there yet; False if one was.

    Exactly one of several processes creating the same file at once wins; the others
    must load the winner's file rather than use the keys they made.
    """
    data = encode_key_file(
        keys, passphrase, salt=os.urandom(16), nonce=os.urandom(12), log_n=SCRYPT_LOG_N
    )
    return _write_atomically(Path(path), data, exclusive=True)


def load_key_file(path: Path, passphrase: str | None = None) -> PrivateKeySet:
    """Read a key file; refuses files others can access, PassphraseRequired, WrongPassphrase."""
    return decode_key_file(_read_private_file(Path(path)), passphrase)


def change_passphrase(path: Path, old: str | None, new: str | None) -> None:
    """Re-protect a key file under `new` (None removes the passphrase), atomically."""
    save_key_file(path, load_key_file(path, old), new)


def is_protected(path: Path) -> bool:
    """Whether the key file needs a passphrase (reads only the unencrypted part)."""
    try:
        doc = json.loads(_read_private_file(Path(path)).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise KeyFileError(cause="key file is not UTF-8 JSON") from None
    return isinstance(doc, dict) and doc.get("protection") == PROTECTION_SCRYPT

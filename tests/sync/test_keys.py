from __future__ import annotations

import json
import os
import stat
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.crypto import (
    InsecureKeyFile,
    KeyEncodingError,
    KeyFileError,
    PassphraseRequired,
    PrivateKeySet,
    WrongPassphrase,
    change_passphrase,
    ed25519_public_from_b64,
    generate_device_keys,
    generate_x25519,
    is_protected,
    load_key_file,
    public_key_b64,
    save_key_file,
    x25519_public_from_b64,
)
from sync.crypto import keys as keys_module
from sync.crypto.encoding import b64url_encode

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def raw(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def same_keys(a: PrivateKeySet, b: PrivateKeySet) -> bool:
    return list(a) == list(b) and all(raw(a[n]) == raw(b[n]) for n in a)


def write_private(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    path.chmod(0o600)
    return path


# --- key sets -----------------------------------------------------------------------------


def test_device_keys_have_signing_and_encryption() -> None:
    keys = generate_device_keys()
    assert isinstance(keys.ed25519("signing"), Ed25519PrivateKey)
    assert isinstance(keys.x25519("encryption"), X25519PrivateKey)
    assert sorted(keys) == ["encryption", "signing"]


def test_repr_shows_public_halves_only() -> None:
    keys = generate_device_keys()
    text = repr(keys)
    for name in keys:
        assert b64url_encode(raw(keys[name])) not in text
        assert public_key_b64(keys[name]) in text


def test_missing_or_mistyped_named_key_is_a_key_file_error() -> None:
    keys = PrivateKeySet({"opd": generate_x25519()})
    with pytest.raises(KeyFileError) as info:
        keys.ed25519("signing")
    assert "signing" in info.value.message
    with pytest.raises(KeyFileError):
        keys.ed25519("opd")
    assert keys.x25519("opd") is keys["opd"]


@pytest.mark.parametrize("name", ["", "Signing", "1key", "a b", "x" * 33])
def test_invalid_key_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        PrivateKeySet({name: generate_x25519()})


def test_key_set_refuses_non_keys_and_empty() -> None:
    with pytest.raises(TypeError):
        PrivateKeySet({"x": b"\x00" * 32})  # type: ignore[dict-item]
    with pytest.raises(ValueError):
        PrivateKeySet({})


# --- public key text ----------------------------------------------------------------------


def test_public_key_text_round_trip() -> None:
    keys = generate_device_keys()
    ed_text = public_key_b64(keys["signing"])
    x_text = public_key_b64(keys["encryption"].public_key())
    assert len(ed_text) == len(x_text) == 43
    assert public_key_b64(ed25519_public_from_b64(ed_text)) == ed_text
    assert public_key_b64(x25519_public_from_b64(x_text)) == x_text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "A" * 42,
        "A" * 44,
        "A" * 43 + "=",
        "+" * 43,
        "A" * 42 + "B",  # non-canonical: the last character carries non-zero spare bits
        "A" * 40 + " AAA",
        "Ä" * 43,
    ],
)
def test_bad_public_key_text_is_refused(text: str) -> None:
    with pytest.raises(KeyEncodingError) as info:
        x25519_public_from_b64(text)
    assert info.value.message
    with pytest.raises(KeyEncodingError):
        ed25519_public_from_b64(text)


# --- key files ----------------------------------------------------------------------------


def test_round_trip_without_passphrase(tmp_path: Path) -> None:
    keys = generate_device_keys()
    path = tmp_path / "device.key"
    save_key_file(path, keys)
    assert same_keys(load_key_file(path), keys)
    assert not is_protected(path)
    # A passphrase given for an unprotected file is simply not needed.
    assert same_keys(load_key_file(path, "unused"), keys)


def test_round_trip_with_passphrase(tmp_path: Path) -> None:
    keys = generate_device_keys()
    path = tmp_path / "device.key"
    save_key_file(path, keys, "kata sandi")
    text = path.read_text()
    for name in keys:
        assert b64url_encode(raw(keys[name])) not in text
        assert public_key_b64(keys[name]) in text  # the public part stays readable
    assert is_protected(path)
    assert same_keys(load_key_file(path, "kata sandi"), keys)


def test_default_scrypt_cost_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the real default, once
    path = tmp_path / "device.key"
    save_key_file(path, generate_device_keys(), "kata sandi")
    params = json.loads(path.read_text())["scrypt"]
    assert params["log_n"] >= 17 and params["r"] == 8 and params["p"] == 1


def test_other_key_sets_share_the_format(tmp_path: Path) -> None:
    opd = PrivateKeySet({"opd": generate_x25519()})
    verifier = PrivateKeySet({"verifier": generate_x25519()})
    save_key_file(tmp_path / "opd.key", opd, "sandi")
    save_key_file(tmp_path / "verifier.key", verifier)
    assert same_keys(load_key_file(tmp_path / "opd.key", "sandi"), opd)
    assert same_keys(load_key_file(tmp_path / "verifier.key"), verifier)


def test_passphrase_required(tmp_path: Path) -> None:
    path = tmp_path / "device.key"
    save_key_file(path, generate_device_keys(), "kata sandi")
    with pytest.raises(PassphraseRequired) as info:
        load_key_file(path)
    assert "frasa sandi" in info.value.message.lower()


@pytest.mark.parametrize("wrong", ["Kata sandi", "kata sandi ", "", "x"])
def test_wrong_passphrase_is_a_clear_error(tmp_path: Path, wrong: str) -> None:
    path = tmp_path / "device.key"
    save_key_file(path, generate_device_keys(), "kata sandi")
    with pytest.raises(WrongPassphrase) as info:
        load_key_file(path, wrong)
    assert info.value.message == "Frasa sandi salah, atau berkas kunci telah diubah."
    assert "kata sandi" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_passphrase_is_nfc_normalised(tmp_path: Path) -> None:
    composed = "Caf\u00e9"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    path = tmp_path / "device.key"
    keys = generate_device_keys()
    save_key_file(path, keys, composed)
    assert same_keys(load_key_file(path, decomposed), keys)


def test_empty_passphrase_is_refused_on_save(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError):
        save_key_file(tmp_path / "device.key", generate_device_keys(), "")
    assert not (tmp_path / "device.key").exists()


def test_change_passphrase(tmp_path: Path) -> None:
    keys = generate_device_keys()
    path = tmp_path / "device.key"
    save_key_file(path, keys, "lama")
    change_passphrase(path, "lama", "baru")
    with pytest.raises(WrongPassphrase):
        load_key_file(path, "lama")
    assert same_keys(load_key_file(path, "baru"), keys)
    change_passphrase(path, "baru", None)
    assert not is_protected(path)
    change_passphrase(path, None, "lagi")
    assert same_keys(load_key_file(path, "lagi"), keys)


def test_change_passphrase_with_wrong_old_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "device.key"
    save_key_file(path, generate_device_keys(), "lama")
    before = path.read_bytes()
    with pytest.raises(WrongPassphrase):
        change_passphrase(path, "salah", "baru")
    assert path.read_bytes() == before


@posix_only
def test_saved_file_is_0600_even_with_a_permissive_umask(tmp_path: Path, umask_zero: None) -> None:
    path = tmp_path / "device.key"
    path.write_text("old")
    path.chmod(0o644)
    save_key_file(path, generate_device_keys())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@posix_only
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o602, 0o610, 0o601, 0o666])
def test_files_others_can_access_are_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "device.key"
    save_key_file(path, generate_device_keys())
    path.chmod(mode)
    with pytest.raises(InsecureKeyFile) as info:
        load_key_file(path)
    assert "chmod 600" in info.value.message
    assert oct(mode)[2:] in str(info.value)


@posix_only
def test_owner_only_read_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "device.key"
    keys = generate_device_keys()
    save_key_file(path, keys)
    path.chmod(0o400)
    assert same_keys(load_key_file(path), keys)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError) as info:
        load_key_file(tmp_path / "absent.key")
    assert "tidak ditemukan" in info.value.message


def test_directory_is_not_a_key_file(tmp_path: Path) -> None:
    folder = tmp_path / "dir"
    folder.mkdir(mode=0o700)
    with pytest.raises(KeyFileError):
        load_key_file(folder)


def test_save_into_missing_folder_is_a_key_file_error(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError) as info:
        save_key_file(tmp_path / "no" / "such" / "device.key", generate_device_keys())
    assert "tidak berubah" in info.value.message


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_failed_save_leaves_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    path = tmp_path / "device.key"
    keys = generate_device_keys()
    save_key_file(path, keys)
    before = path.read_bytes()

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, boom)
    with pytest.raises(KeyFileError):
        save_key_file(path, generate_device_keys(), "baru")
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["device.key"]


# --- malformed files ----------------------------------------------------------------------


def valid_doc(passphrase: str | None = None) -> dict[str, Any]:
    data = keys_module.encode_key_file(
        generate_device_keys(), passphrase, salt=b"s" * 16, nonce=b"n" * 12, log_n=10
    )
    doc: dict[str, Any] = json.loads(data)
    return doc


def mutate(doc: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    *parents, last = dotted.split(".")
    target = doc
    for part in parents:
        target = target[part]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return doc


_DELETE = object()

MALFORMED_PLAIN: list[tuple[str, Any]] = [
    ("format", "age"),
    ("format", _DELETE),
    ("version", 2),
    ("version", "1"),
    ("version", True),
    ("public", []),
    ("public", {}),
    ("public.signing.type", "rsa"),
    ("public.signing.key", "A" * 43),
    ("public.signing.key", "short"),
    ("public.signing", "string"),
    ("protection", "gpg"),
    ("protection", _DELETE),
    ("private", _DELETE),
    ("private", ["x"]),
    ("private.signing", _DELETE),
    ("private.signing", 12),
    ("private.signing", "A" * 42 + "=="),
    ("private.signing", "AAAA"),
    ("private.extra", "A" * 43),
    ("private.encryption", b64url_encode(b"\x01" * 32)),
]

MALFORMED_PROTECTED: list[tuple[str, Any]] = [
    ("scrypt", _DELETE),
    ("scrypt.log_n", 40),
    ("scrypt.log_n", 0),
    ("scrypt.log_n", 25),  # over the 1 GiB memory cap with r=8
    ("scrypt.r", True),
    ("scrypt.p", -1),
    ("scrypt.salt", "AAAA"),
    ("nonce", "AAAA"),
    ("nonce", _DELETE),
    ("ciphertext", _DELETE),
    ("ciphertext", "not base64!"),
]


@pytest.mark.parametrize(("field", "value"), MALFORMED_PLAIN)
def test_malformed_plain_key_files_are_refused(tmp_path: Path, field: str, value: Any) -> None:
    path = write_private(tmp_path / "k", json.dumps(mutate(valid_doc(), field, value)))
    with pytest.raises(KeyFileError) as info:
        load_key_file(path)
    assert info.value.message


@pytest.mark.parametrize(("field", "value"), MALFORMED_PROTECTED)
def test_malformed_protected_key_files_are_refused(tmp_path: Path, field: str, value: Any) -> None:
    path = write_private(tmp_path / "k", json.dumps(mutate(valid_doc("sandi"), field, value)))
    with pytest.raises(KeyFileError) as info:
        load_key_file(path, "sandi")
    assert info.value.message


def test_newer_version_says_so(tmp_path: Path) -> None:
    path = write_private(tmp_path / "k", json.dumps(mutate(valid_doc(), "version", 2)))
    with pytest.raises(KeyFileError) as info:
        load_key_file(path)
    assert "versi" in info.value.message


def test_altered_ciphertext_reads_as_wrong_passphrase(tmp_path: Path) -> None:
    doc = valid_doc("sandi")
    text = doc["ciphertext"]
    doc["ciphertext"] = ("B" if text[0] == "A" else "A") + text[1:]
    path = write_private(tmp_path / "k", json.dumps(doc))
    with pytest.raises(WrongPassphrase):
        load_key_file(path, "sandi")


def test_swapped_public_key_is_detected_after_decrypting(tmp_path: Path) -> None:
    doc = valid_doc("sandi")
    doc["public"]["encryption"]["key"] = public_key_b64(generate_x25519())
    path = write_private(tmp_path / "k", json.dumps(doc))
    with pytest.raises(KeyFileError, match="does not match"):
        load_key_file(path, "sandi")


@pytest.mark.parametrize(
    "content", [b"", b"\xff\xfe", b"[]", b"null", b"{", b"[" * 50_000, b" " * (65 * 1024)]
)
def test_garbage_key_files_are_refused(tmp_path: Path, content: bytes) -> None:
    path = write_private(tmp_path / "k", content)
    with pytest.raises(KeyFileError):
        load_key_file(path)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0), replacement=st.characters(codec="ascii"))
def test_any_single_character_change_is_refused_or_harmless(
    tmp_path: Path, position: int, replacement: str
) -> None:
    keys = generate_device_keys()
    text = keys_module.encode_key_file(
        keys, "sandi", salt=b"s" * 16, nonce=b"n" * 12, log_n=4
    ).decode()
    position %= len(text)
    changed = text[:position] + replacement + text[position + 1 :]
    path = write_private(tmp_path / "k", changed)
    try:
        loaded = load_key_file(path, "sandi")
    except KeyFileError:
        return
    assert same_keys(loaded, keys)  # e.g. whitespace changed: same keys or nothing

"""The BKD verifier private key never lives on the server: the verifikator makes the pair on
their machine, the admin registers the public half, and a server an older version initialised
(with keys/verifier.key) refuses to run until the admin moves that key out."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from client.cli import app as berkas_app
from server.app import create_app
from server.cli import app as server_app
from server.keys import ServerKeyError, load_server_keys
from server.settings import ServerSettings
from sync.crypto import keys as crypto_keys
from sync.crypto import load_key_file, public_key_b64
from tests.support.keyscan import files_containing_private, key_files_holding
from tests.support.server import TEST_VERIFIER_PASSPHRASE, init_home, start_server

PASSPHRASE = "frasa-sandi-verifikator"


@pytest.fixture(autouse=True)
def _cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crypto_keys, "SCRYPT_LOG_N", 10)
    monkeypatch.delenv("BERKAS_DATABASE_URL", raising=False)
    monkeypatch.setenv("BERKAS_VERIFIER_PASSPHRASE", PASSPHRASE)


def server_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(server_app, list(args))
    return result.exit_code, result.output


def berkas_cli(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(berkas_app, ["--home", str(home), *args])
    return result.exit_code, result.output + (repr(result.exception) if result.exit_code else "")


def test_init_leaves_no_verifier_private_key_on_the_server(tmp_path: Path) -> None:
    # On the verifikator's machine: make the pair, the public half is printed.
    verifikator = tmp_path / "verifikator"
    code, output = berkas_cli(verifikator, "verifikasi", "kunci", "buat")
    assert code == 0, output
    key_file = verifikator / "kunci" / "verifier.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    private = load_key_file(key_file, PASSPHRASE).x25519("verifier")
    public = public_key_b64(private)
    assert public in output
    assert (verifikator / "kunci" / "verifier.pub").read_text().strip() == public
    code, output = berkas_cli(verifikator, "verifikasi", "kunci", "buat")
    assert code != 0 and "tidak ditimpa" in output

    # On the server: init with the public half (the .pub file the verifikator handed over).
    home = tmp_path / "bkd"
    pub_file = tmp_path / "flashdisk" / "verifier.pub"
    pub_file.parent.mkdir()
    shutil.copy(verifikator / "kunci" / "verifier.pub", pub_file)
    code, output = server_cli("init", "--home", str(home), "--verifier-key", str(pub_file))
    assert code == 0, output
    assert load_server_keys(ServerSettings.for_home(home)).verifier_public_b64 == public

    # Scan every file the server holds: no key file for the verifier key, no raw key bytes.
    assert key_files_holding(home, public) == []
    assert files_containing_private(home, private) == []
    assert key_files_holding(verifikator, public) == [key_file]  # the scan does find it


def test_server_needs_a_registered_verifier_key_and_keeps_it(tmp_path: Path) -> None:
    home = tmp_path / "bkd"
    code, output = server_cli("init", "--home", str(home))
    assert code == 0, output
    assert "berkas verifikasi kunci buat" in output
    code, output = server_cli("run", "--home", str(home))
    assert code == 1 and "belum didaftarkan" in output

    first = berkas_cli(tmp_path / "v1", "verifikasi", "kunci", "buat")[1].splitlines()
    second = berkas_cli(tmp_path / "v2", "verifikasi", "kunci", "buat")[1].splitlines()
    key1 = next(line for line in first if len(line) == 43)
    key2 = next(line for line in second if len(line) == 43)
    code, output = server_cli("verifier-key", "set", "bukan-kunci", "--home", str(home))
    assert code == 1 and "tidak sah" in output
    code, output = server_cli("verifier-key", "set", key1, "--home", str(home))
    assert code == 0 and key1 in output
    code, output = server_cli("verifier-key", "set", key1, "--home", str(home))
    assert code == 0  # the same key again is fine
    code, output = server_cli("verifier-key", "set", key2, "--home", str(home))
    assert code == 1 and "kunci verifikator lain" in output
    code, output = server_cli("verifier-key", "show", "--home", str(home))
    assert output.strip() == key1
    create_app(ServerSettings.for_home(home))  # starts now


def test_old_server_with_the_private_key_refuses_to_run_until_it_is_moved_out(
    tmp_path: Path,
) -> None:
    # A server an older version initialised: keys/verifier.key beside verifier.pub.
    home = tmp_path / "bkd"
    settings = init_home(home)
    running = start_server(home)
    running.stop()
    legacy = settings.keys_dir / "verifier.key"
    shutil.copy(running.verifier_key_path, legacy)
    public = settings.verifier_public_path.read_text().strip()
    assert key_files_holding(home, public) == [legacy]

    with pytest.raises(ServerKeyError) as refused:
        create_app(settings)
    assert "masih menyimpan kunci privat verifikator" in refused.value.message
    code, output = server_cli("run", "--home", str(home))
    assert code == 1 and "verifier-key export" in output

    # Not into the server folder itself.
    code, output = server_cli("verifier-key", "export", "--home", str(home), "--ke", str(home))
    assert code == 1 and "di luar folder server" in output
    carried = tmp_path / "flashdisk" / "verifier.key"
    code, output = server_cli("verifier-key", "export", "--home", str(home), "--ke", str(carried))
    assert code == 0, output
    assert not legacy.exists()
    assert key_files_holding(home, public) == []
    private = load_key_file(carried, TEST_VERIFIER_PASSPHRASE).x25519("verifier")
    assert public_key_b64(private) == public
    assert files_containing_private(home, private) == []
    code, output = server_cli("verifier-key", "export", "--home", str(home), "--ke", str(carried))
    assert code == 1 and "tidak menyimpan" in output

    # The server runs again; the verifikator installs the carried key.
    running = start_server(home)
    running.stop()
    verifikator = tmp_path / "verifikator"
    code, output = berkas_cli(verifikator, "verifikasi", "kunci", "pasang", str(carried))
    assert code != 0 and "frasa sandi" in output.lower()  # PASSPHRASE is not this key's
    passphrase_file = tmp_path / "sandi.txt"
    passphrase_file.write_text(TEST_VERIFIER_PASSPHRASE + "\n")
    code, output = berkas_cli(
        verifikator,
        "verifikasi",
        "kunci",
        "pasang",
        str(carried),
        "--passphrase-file",
        str(passphrase_file),
    )
    assert code == 0, output
    assert public in output
    installed = verifikator / "kunci" / "verifier.key"
    assert public_key_b64(
        load_key_file(installed, TEST_VERIFIER_PASSPHRASE).x25519("verifier")
    ) == (public)

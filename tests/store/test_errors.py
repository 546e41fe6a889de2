"""One error root: every family a person may see is a BerkasError(message, cause)."""

from __future__ import annotations

import pytest

from client.errors import ClientError
from client.intake import IntakeError
from store.errors import BerkasError, StoreError
from store.rules.errors import RuleError
from sync.crypto.errors import CryptoError, KeyFileError, SignatureError, StreamError
from sync.engine import Offline, SyncError


@pytest.mark.parametrize(
    "family", [StoreError, RuleError, CryptoError, SyncError, IntakeError, ClientError]
)
def test_every_family_is_caught_as_the_one_root(family: type[BerkasError]) -> None:
    with pytest.raises(BerkasError) as caught:
        raise family("Pesan untuk orang.")
    assert caught.value.message == "Pesan untuk orang."


def test_message_then_cause_in_every_family() -> None:
    # CryptoError took (technical, message) the other way round: the person saw English.
    for error in (
        StoreError("Pesan.", "sebab teknis"),
        KeyFileError("Pesan.", "sebab teknis"),
        Offline("Pesan.", "sebab teknis"),
        IntakeError("Pesan.", "sebab teknis"),
        ClientError("Pesan.", "sebab teknis"),
    ):
        assert (error.message, error.cause) == ("Pesan.", "sebab teknis")
        assert str(error) == "Pesan. (sebab teknis)"


def test_crypto_defaults_and_reasons_keep_the_person_words() -> None:
    missing = KeyFileError(cause="key file x not found")
    assert missing.message == KeyFileError.default_message
    assert missing.cause == "key file x not found"
    refused = SignatureError("replayed_nonce", "nonce seen")
    assert refused.reason == "replayed_nonce"
    assert "sudah pernah diterima" in refused.message
    assert refused.cause == "replayed_nonce: nonce seen"
    cut = StreamError("truncated", "header cut short", message="Dokumen terpotong.")
    assert (cut.message, cut.reason) == ("Dokumen terpotong.", "truncated")


def test_a_rule_error_reads_as_its_message_in_forms() -> None:
    # Pydantic shows str() of a ValueError raised in a validator: the message alone.
    error = RuleError("NIP harus 18 angka.", field="nip", detail="len 17")
    assert str(error) == "NIP harus 18 angka."
    assert isinstance(error, ValueError)
    assert error.cause == "len 17"

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.crypto import CryptoError, EnvelopeError, KeyEncodingError, open_sealed, seal
from sync.crypto.stanza import STANZA_SIZE

# A point of order 8 on Curve25519: exchanging with it gives the all-zero secret.
LOW_ORDER_POINT = bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")


def test_round_trip_one_recipient(alice: X25519PrivateKey) -> None:
    envelope = seal(b"data pegawai", [alice.public_key()], b"konteks")
    assert open_sealed(envelope, alice, b"konteks") == b"data pegawai"


def test_every_recipient_can_open(alice: X25519PrivateKey, bob: X25519PrivateKey) -> None:
    carol = X25519PrivateKey.generate()
    envelope = seal(b"rahasia", [alice.public_key(), bob.public_key(), carol.public_key()])
    for key in (alice, bob, carol):
        assert open_sealed(envelope, key) == b"rahasia"


def test_layout_size(alice: X25519PrivateKey, bob: X25519PrivateKey) -> None:
    envelope = seal(b"x" * 10, [alice.public_key(), bob.public_key()])
    assert envelope[0] == 1 and envelope[1] == 2
    assert len(envelope) == 2 + 2 * STANZA_SIZE + 10 + 16


def test_same_plaintext_seals_differently(alice: X25519PrivateKey) -> None:
    a = seal(b"sama", [alice.public_key()])
    b = seal(b"sama", [alice.public_key()])
    assert a != b


@settings(max_examples=50)
@given(plaintext=st.binary(max_size=3000), aad=st.binary(max_size=100))
def test_round_trip_property(plaintext: bytes, aad: bytes) -> None:
    key = X25519PrivateKey.generate()
    assert open_sealed(seal(plaintext, [key.public_key()], aad), key, aad) == plaintext


def test_wrong_key_is_an_envelope_error(alice: X25519PrivateKey, bob: X25519PrivateKey) -> None:
    envelope = seal(b"untuk alice", [alice.public_key()])
    with pytest.raises(EnvelopeError) as info:
        open_sealed(envelope, bob)
    assert info.value.reason == "not_recipient"
    assert isinstance(info.value, CryptoError) and info.value.message


def test_wrong_aad_is_an_envelope_error(alice: X25519PrivateKey) -> None:
    envelope = seal(b"isi", [alice.public_key()], b"POST /v1/sync/push")
    for aad in (b"", b"POST /v1/sync/pull", b"POST /v1/sync/push "):
        with pytest.raises(EnvelopeError) as info:
            open_sealed(envelope, alice, aad)
        assert info.value.reason == "tampered"


def test_every_byte_flip_is_detected_by_every_recipient(
    alice: X25519PrivateKey, bob: X25519PrivateKey
) -> None:
    # Covers each position class: version, count, ephemeral keys, wrapped keys and their
    # tags, payload body and payload tag, for both recipients.
    envelope = seal(b"isi yang dilindungi", [alice.public_key(), bob.public_key()], b"aad")
    for position in range(len(envelope)):
        for mask in (0x01, 0x80):
            damaged = bytearray(envelope)
            damaged[position] ^= mask
            for key in (alice, bob):
                with pytest.raises(EnvelopeError):
                    open_sealed(bytes(damaged), key, b"aad")


def test_every_truncation_and_extension_is_detected(alice: X25519PrivateKey) -> None:
    envelope = seal(b"isi", [alice.public_key()])
    for length in range(len(envelope)):
        with pytest.raises(EnvelopeError):
            open_sealed(envelope[:length], alice)
    for extra in (b"\x00", b"\x00" * 16, envelope):
        with pytest.raises(EnvelopeError):
            open_sealed(envelope + extra, alice)


def test_unknown_version_is_named(alice: X25519PrivateKey) -> None:
    envelope = bytearray(seal(b"isi", [alice.public_key()]))
    envelope[0] = 2
    with pytest.raises(EnvelopeError) as info:
        open_sealed(bytes(envelope), alice)
    assert info.value.reason == "unsupported_version"
    assert "versi" in info.value.message


def test_zero_recipients_header_is_malformed(alice: X25519PrivateKey) -> None:
    with pytest.raises(EnvelopeError) as info:
        open_sealed(b"\x01\x00" + b"\x00" * 64, alice)
    assert info.value.reason == "malformed"


def test_low_order_ephemeral_is_skipped_not_crashed(alice: X25519PrivateKey) -> None:
    envelope = bytearray(seal(b"isi", [alice.public_key()]))
    envelope[2:34] = LOW_ORDER_POINT
    with pytest.raises(EnvelopeError):
        open_sealed(bytes(envelope), alice)


def test_low_order_recipient_is_refused() -> None:
    with pytest.raises(KeyEncodingError):
        seal(b"isi", [X25519PublicKey.from_public_bytes(LOW_ORDER_POINT)])


def test_recipient_count_limits(alice: X25519PrivateKey) -> None:
    with pytest.raises(ValueError):
        seal(b"isi", [])
    with pytest.raises(ValueError):
        seal(b"isi", [alice.public_key()] * 256)


@settings(max_examples=200)
@given(data=st.binary(max_size=400))
def test_random_bytes_never_crash(data: bytes) -> None:
    key = X25519PrivateKey.generate()
    with pytest.raises(EnvelopeError):
        open_sealed(data, key)

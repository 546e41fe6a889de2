from __future__ import annotations

import hashlib
import io
import random

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from sync.crypto import (
    SEGMENT_SIZE,
    StreamError,
    add_recipients,
    decrypt_stream,
    encrypt_stream,
    read_header,
    stream_ciphertext_size,
)
from sync.crypto import stream as stream_module
from sync.crypto.stanza import STANZA_SIZE, wrap_to_all

SEG_CT = SEGMENT_SIZE + 16


def plaintext(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


def encrypt(data: bytes, *keys: X25519PrivateKey) -> bytes:
    out = io.BytesIO()
    written = encrypt_stream(io.BytesIO(data), out, [k.public_key() for k in keys])
    assert written == len(out.getvalue())
    return out.getvalue()


def decrypt(cipher: bytes, key: X25519PrivateKey) -> bytes:
    out = io.BytesIO()
    written = decrypt_stream(io.BytesIO(cipher), out, key)
    assert written == len(out.getvalue())
    return out.getvalue()


def header_length(recipients: int) -> int:
    return 4 + 1 + 16 + 1 + recipients * STANZA_SIZE + 32


class TrickleReader:
    """A source that hands out at most a few bytes per read, like a slow pipe."""

    def __init__(self, data: bytes, seed: int = 1) -> None:
        self._data = io.BytesIO(data)
        self._rng = random.Random(seed)

    def read(self, n: int = -1) -> bytes:
        return self._data.read(min(n, self._rng.randint(1, 5000)))


class WriteOnlySink:
    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.size += len(data)
        return len(data)


SIZES = [
    0,
    1,
    100,
    SEGMENT_SIZE - 1,
    SEGMENT_SIZE,
    SEGMENT_SIZE + 1,
    2 * SEGMENT_SIZE,
    3 * SEGMENT_SIZE + 17,
]


@pytest.mark.parametrize("size", SIZES)
def test_round_trip(size: int, alice: X25519PrivateKey, bob: X25519PrivateKey) -> None:
    data = plaintext(size)
    cipher = encrypt(data, alice, bob)
    assert len(cipher) == stream_ciphertext_size(size, 2)
    assert decrypt(cipher, alice) == data
    assert decrypt(cipher, bob) == data


@pytest.mark.parametrize("size", SIZES)
def test_segment_count_is_canonical(size: int, alice: X25519PrivateKey) -> None:
    # Each segment is full except the last; an empty last segment only for empty input.
    cipher = encrypt(plaintext(size), alice)
    segments = max(1, -(-size // SEGMENT_SIZE))
    assert len(cipher) - header_length(1) == size + 16 * segments


def test_short_reads_and_write_only_sinks(alice: X25519PrivateKey) -> None:
    data = plaintext(3 * SEGMENT_SIZE + 5)
    out = io.BytesIO()
    encrypt_stream(TrickleReader(data), out, [alice.public_key()])  # type: ignore[arg-type]
    sink = WriteOnlySink()
    decrypt_stream(TrickleReader(out.getvalue(), 2), sink, alice)  # type: ignore[arg-type]
    assert sink.size == len(data) and sink.hash.digest() == hashlib.sha256(data).digest()


def test_same_plaintext_encrypts_differently(alice: X25519PrivateKey) -> None:
    data = plaintext(1000)
    a, b = encrypt(data, alice), encrypt(data, alice)
    assert a != b
    assert read_header(io.BytesIO(a)).file_id != read_header(io.BytesIO(b)).file_id


def test_plaintext_does_not_appear_in_ciphertext(alice: X25519PrivateKey) -> None:
    data = b"NIP 198001012005011001 " * 200
    assert b"198001012005011001" not in encrypt(data, alice)


def test_read_header(alice: X25519PrivateKey, bob: X25519PrivateKey) -> None:
    cipher = encrypt(plaintext(10), alice, bob)
    src = io.BytesIO(cipher)
    header = read_header(src)
    assert header.version == 1
    assert header.recipients == 2
    assert header.header_length == header_length(2) == src.tell()
    assert len(header.file_id_hex) == 32


def test_expected_sha256(alice: X25519PrivateKey) -> None:
    data = plaintext(70_000)
    cipher = encrypt(data, alice)
    good = hashlib.sha256(data).hexdigest()
    assert decrypt_stream(io.BytesIO(cipher), io.BytesIO(), alice, expected_sha256=good) == 70_000
    with pytest.raises(StreamError) as info:
        decrypt_stream(io.BytesIO(cipher), io.BytesIO(), alice, expected_sha256="0" * 64)
    assert info.value.reason == "wrong_content"


def test_wrong_key(alice: X25519PrivateKey, bob: X25519PrivateKey) -> None:
    with pytest.raises(StreamError) as info:
        decrypt(encrypt(b"isi", alice), bob)
    assert info.value.reason == "not_recipient"
    assert info.value.message


def test_recipient_limits(alice: X25519PrivateKey) -> None:
    with pytest.raises(StreamError):
        encrypt_stream(io.BytesIO(b""), io.BytesIO(), [])
    with pytest.raises(StreamError):
        encrypt_stream(io.BytesIO(b""), io.BytesIO(), [alice.public_key()] * 256)


# --- tampering ----------------------------------------------------------------------------

THREE_SEGMENTS = 2 * SEGMENT_SIZE + 1000


@pytest.fixture
def sample(alice: X25519PrivateKey, bob: X25519PrivateKey) -> bytes:
    return encrypt(plaintext(THREE_SEGMENTS), alice, bob)


def refused(cipher: bytes, key: X25519PrivateKey) -> StreamError:
    with pytest.raises(StreamError) as info:
        decrypt(cipher, key)
    return info.value


def flipped(data: bytes, position: int, mask: int = 0x01) -> bytes:
    damaged = bytearray(data)
    damaged[position] ^= mask
    return bytes(damaged)


def test_every_header_byte_flip_is_detected(
    sample: bytes, alice: X25519PrivateKey, bob: X25519PrivateKey
) -> None:
    # magic, version, file id, count, both stanzas (ephemeral, wrapped key, tag), MAC
    for position in range(header_length(2)):
        for key in (alice, bob):
            error = refused(flipped(sample, position), key)
            assert error.reason in {"malformed", "unsupported_version", "not_recipient", "tampered"}


def segment_positions() -> dict[str, int]:
    start = header_length(2)
    positions = {}
    for index in range(3):
        seg_start = start + index * SEG_CT
        seg_len = SEG_CT if index < 2 else 1000 + 16
        positions[f"segment {index} first byte"] = seg_start
        positions[f"segment {index} middle"] = seg_start + seg_len // 2
        positions[f"segment {index} last body byte"] = seg_start + seg_len - 17
        positions[f"segment {index} first tag byte"] = seg_start + seg_len - 16
        positions[f"segment {index} last tag byte"] = seg_start + seg_len - 1
    return positions


@pytest.mark.parametrize(("where", "position"), segment_positions().items())
def test_segment_byte_flips_are_detected(
    sample: bytes, alice: X25519PrivateKey, where: str, position: int
) -> None:
    for mask in (0x01, 0x80):
        assert refused(flipped(sample, position, mask), alice).reason == "tampered", where


def test_nothing_past_a_bad_segment_is_written(sample: bytes, alice: X25519PrivateKey) -> None:
    out = io.BytesIO()
    damaged = flipped(sample, header_length(2) + SEG_CT + 5)
    with pytest.raises(StreamError):
        decrypt_stream(io.BytesIO(damaged), out, alice)
    assert out.getvalue() == plaintext(THREE_SEGMENTS)[:SEGMENT_SIZE]


def test_truncation_at_a_segment_boundary(sample: bytes, alice: X25519PrivateKey) -> None:
    for segments in (1, 2):
        cut = sample[: header_length(2) + segments * SEG_CT]
        assert refused(cut, alice).reason == "truncated"


def test_truncation_anywhere(sample: bytes, alice: X25519PrivateKey) -> None:
    h = header_length(2)
    cuts = [0, 3, 4, 5, 21, 22, 100, h - 1, h, h + 1, h + 15, h + 16, h + SEG_CT - 1]
    cuts += [h + SEG_CT + 1, h + 2 * SEG_CT + 16, len(sample) - 16, len(sample) - 1]
    for length in cuts:
        error = refused(sample[:length], alice)
        assert error.reason in {"truncated", "tampered", "malformed"}, length


def test_empty_stream_cut_to_its_header(alice: X25519PrivateKey) -> None:
    cipher = encrypt(b"", alice)
    assert refused(cipher[: header_length(1)], alice).reason == "truncated"


def test_extension_is_detected(sample: bytes, alice: X25519PrivateKey) -> None:
    h = header_length(2)
    first_segment = sample[h : h + SEG_CT]
    last_segment = sample[h + 2 * SEG_CT :]
    for extra in (b"\x00", b"\x00" * 16, last_segment, first_segment, sample):
        assert refused(sample + extra, alice).reason in {"tampered", "extended"}


def test_extension_of_a_full_final_segment_is_named(alice: X25519PrivateKey) -> None:
    cipher = encrypt(plaintext(2 * SEGMENT_SIZE), alice)
    h = header_length(1)
    assert refused(cipher + cipher[h : h + SEG_CT], alice).reason == "extended"
    assert refused(cipher + b"\x00" * 20, alice).reason == "extended"
    assert refused(cipher + b"\x00", alice).reason == "extended"


def test_reordered_dropped_and_repeated_segments(sample: bytes, alice: X25519PrivateKey) -> None:
    h = header_length(2)
    s0, s1, s2 = (
        sample[h : h + SEG_CT],
        sample[h + SEG_CT : h + 2 * SEG_CT],
        sample[h + 2 * SEG_CT :],
    )
    head = sample[:h]
    for body in (s1 + s0 + s2, s0 + s2, s1 + s2, s0 + s0 + s1 + s2, s0 + s1 + s1 + s2):
        assert refused(head + body, alice).reason == "tampered"


def test_segments_are_bound_to_their_file(alice: X25519PrivateKey) -> None:
    a = encrypt(plaintext(THREE_SEGMENTS, 1), alice)
    b = encrypt(plaintext(THREE_SEGMENTS, 2), alice)
    h = header_length(1)
    assert refused(a[:h] + b[h:], alice).reason == "tampered"


def test_same_data_key_different_file_id_does_not_mix(alice: X25519PrivateKey) -> None:
    key = bytes(32)
    outs = []
    for file_id in (b"\x01" * 16, b"\x02" * 16):
        out = io.BytesIO()
        stream_module.encrypt_stream_with(
            io.BytesIO(plaintext(100)),
            out,
            [alice.public_key()],
            data_key=key,
            file_id=file_id,
            ephemerals=None,
        )
        outs.append(out.getvalue())
    h = header_length(1)
    assert refused(outs[0][:h] + outs[1][h:], alice).reason == "tampered"


def test_empty_final_segment_after_full_one_is_refused(alice: X25519PrivateKey) -> None:
    # A non-canonical stream made with the right key: a full non-final segment, then an
    # empty final one. The format has exactly one encoding per plaintext.
    data_key, file_id = b"\x07" * 32, b"\x09" * 16
    header = stream_module._assemble_header(
        data_key, file_id, wrap_to_all(data_key, [alice.public_key()])
    )
    cipher = stream_module._payload_cipher(data_key, file_id)
    body = cipher.encrypt(stream_module._nonce(0, False), plaintext(SEGMENT_SIZE), None)
    body += cipher.encrypt(stream_module._nonce(1, True), b"", None)
    assert refused(header + body, alice).reason == "malformed"


def test_bad_magic_version_and_count(sample: bytes, alice: X25519PrivateKey) -> None:
    assert refused(b"%PDF-1.7" + sample[8:], alice).reason == "malformed"
    assert refused(sample[:4] + b"\x02" + sample[5:], alice).reason == "unsupported_version"
    zero_count = sample[:21] + b"\x00" + sample[22:]
    assert refused(zero_count, alice).reason == "malformed"
    more_count = sample[:21] + b"\x03" + sample[22:]
    assert refused(more_count, alice).reason in {"tampered", "not_recipient"}


# --- adding recipients --------------------------------------------------------------------


def test_add_recipients_keeps_the_body(
    sample: bytes, alice: X25519PrivateKey, bob: X25519PrivateKey
) -> None:
    carol, dave = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    out = io.BytesIO()
    add_recipients(io.BytesIO(sample), out, bob, [carol.public_key(), dave.public_key()])
    rewrapped = out.getvalue()
    old, new = read_header(io.BytesIO(sample)), read_header(io.BytesIO(rewrapped))
    assert new.recipients == 4 and new.file_id == old.file_id
    assert rewrapped[new.header_length :] == sample[old.header_length :]
    for key in (alice, bob, carol, dave):
        assert decrypt(rewrapped, key) == plaintext(THREE_SEGMENTS)


def test_add_recipients_needs_a_recipient_key(sample: bytes) -> None:
    with pytest.raises(StreamError) as info:
        add_recipients(
            io.BytesIO(sample),
            io.BytesIO(),
            X25519PrivateKey.generate(),
            [X25519PrivateKey.generate().public_key()],
        )
    assert info.value.reason == "not_recipient"


def test_add_recipients_refuses_a_damaged_body(sample: bytes, alice: X25519PrivateKey) -> None:
    damaged = flipped(sample, len(sample) - 3)
    with pytest.raises(StreamError):
        add_recipients(
            io.BytesIO(damaged), io.BytesIO(), alice, [X25519PrivateKey.generate().public_key()]
        )


def test_add_recipients_limit(alice: X25519PrivateKey) -> None:
    cipher = encrypt(b"isi", alice)
    with pytest.raises(StreamError) as info:
        add_recipients(io.BytesIO(cipher), io.BytesIO(), alice, [alice.public_key()] * 255)
    assert info.value.reason == "too_many_recipients"


def test_ciphertext_size_limits() -> None:
    with pytest.raises(ValueError):
        stream_ciphertext_size(-1, 1)
    with pytest.raises(ValueError):
        stream_ciphertext_size(1, 0)
    assert stream_ciphertext_size(0, 1) == header_length(1) + 16

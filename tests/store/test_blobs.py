"""The blob store: content-addressed, atomic, verified on the way out."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import BinaryIO

import pytest

from store.blobs import BlobStore
from store.errors import StoreError


class XorCipher:
    """A stand-in cipher that changes every byte, so plaintext never sits on disk."""

    def encrypt(self, src: BinaryIO, dst: BinaryIO) -> int:
        total = 0
        while chunk := src.read(4096):
            dst.write(bytes(b ^ 0x5A for b in chunk))
            total += len(chunk)
        return total

    decrypt = encrypt


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs", XorCipher())


def test_put_is_content_addressed_and_encrypted(blobs: BlobStore, tmp_path: Path) -> None:
    data = os.urandom(300_000)
    src = tmp_path / "scan.pdf"
    src.write_bytes(data)
    stored = blobs.put(src)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data) and stored.created
    on_disk = blobs.path_for(stored.sha256).read_bytes()
    assert on_disk != data and len(on_disk) == len(data)
    assert src.read_bytes() == data  # the original is untouched


def test_same_content_twice_is_stored_once(blobs: BlobStore, tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(b"sama" * 1000)
    (tmp_path / "b.pdf").write_bytes(b"sama" * 1000)
    first, second = blobs.put(tmp_path / "a.pdf"), blobs.put(tmp_path / "b.pdf")
    assert first.sha256 == second.sha256 and not second.created
    assert list(blobs.stored()) == [first.sha256]
    assert list((blobs.root / "tmp").iterdir()) == []


def test_decrypt_to_verifies_the_hash(blobs: BlobStore, tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(b"isi dokumen" * 500)
    sha = blobs.put(tmp_path / "a.pdf").sha256
    blobs.decrypt_to(sha, tmp_path / "out" / "a.pdf")
    assert (tmp_path / "out" / "a.pdf").read_bytes() == b"isi dokumen" * 500
    assert blobs.verify(sha)
    # Corrupt one byte on disk: verification fails and nothing is written out.
    path = blobs.path_for(sha)
    raw = bytearray(path.read_bytes())
    raw[10] ^= 0xFF
    path.write_bytes(bytes(raw))
    assert not blobs.verify(sha)
    with pytest.raises(StoreError, match="rusak"):
        blobs.decrypt_to(sha, tmp_path / "out" / "b.pdf")
    assert not (tmp_path / "out" / "b.pdf").exists()
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.pdf"]


def test_bad_address_is_refused(blobs: BlobStore) -> None:
    with pytest.raises(StoreError):
        blobs.path_for("../../etc/passwd")


def test_sweep_removes_leftovers_only(blobs: BlobStore, tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(b"a" * 10)
    (tmp_path / "b.pdf").write_bytes(b"b" * 10)
    keep, orphan = blobs.put(tmp_path / "a.pdf").sha256, blobs.put(tmp_path / "b.pdf").sha256
    (blobs.root / "tmp" / "crash.part").write_bytes(b"half")
    assert blobs.sweep([keep]) == [orphan]
    assert list(blobs.stored()) == [keep]
    assert list((blobs.root / "tmp").iterdir()) == []


def test_ciphertext_from_elsewhere_is_adopted_only_if_it_matches(
    blobs: BlobStore, tmp_path: Path
) -> None:
    plain = b"dari server" * 100
    cipher = tmp_path / "dl.part"
    cipher.write_bytes(bytes(b ^ 0x5A for b in plain))
    with pytest.raises(StoreError, match="tidak cocok"):
        blobs.put_ciphertext("00" * 32, cipher)
    sha = hashlib.sha256(plain).hexdigest()
    blobs.put_ciphertext(sha, cipher)
    assert blobs.verify(sha)

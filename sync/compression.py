"""Compressed sealed bodies (PROTOCOL.md §7.1): the JSON inside a sealed envelope may be one
zstd frame, compressed before sealing (ciphertext does not compress).

Negotiated per request with the `Berkas-Features` header: a client that reads compressed
answers sends `Berkas-Features: zstd`; a server that reads compressed request bodies (and
sizes pull pages by bytes) answers `Berkas-Features: zstd, page-bytes`. A peer that does
not name a feature never receives it, so old clients and old servers keep working.

Why zstd (the `zstandard` wheel) rather than the stdlib's gzip: on a 1.8 MB pull page of
3,000 pegawai records, zstd level 3 wrote 38.9 KB in 1.4 ms of CPU, gzip -6 59.3 KB in
11.7 ms and gzip -1 72.5 KB in 4.0 ms (bench/README.md): a third fewer bytes on the wire
for an eighth of the CPU, and the server's CPU is what a regional BKD has least of.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import zstandard

FEATURES_HEADER: Final = "Berkas-Features"
ZSTD: Final = "zstd"
PAGE_BYTES: Final = "page-bytes"
ZSTD_MAGIC: Final = b"\x28\xb5\x2f\xfd"
# Plaintexts shorter than this gain nothing worth a frame header.
MIN_COMPRESS_BYTES: Final = 512
# Level 3 (zstd's default): most of level 19's gain on JSON at ~50x its speed.
LEVEL: Final = 3
_SLICE = 256


class TooLarge(ValueError):
    """A compressed body would decompress past the allowed size (a compression bomb)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"decompressed body exceeds {limit} bytes")
        self.limit = limit


class BadFrame(ValueError):
    """A body that claims to be zstd but does not decompress."""


def features(header: str | None) -> frozenset[str]:
    """The feature tokens of a `Berkas-Features` header value (case-insensitive)."""
    if not header:
        return frozenset()
    return frozenset(t.strip().lower() for t in header.split(",") if t.strip())


def header_features(headers: Mapping[str, str]) -> frozenset[str]:
    value = headers.get(FEATURES_HEADER) or headers.get(FEATURES_HEADER.lower())
    return features(value)


def compress(plain: bytes) -> bytes:
    """`plain` as one zstd frame (content size recorded), or unchanged when it is small."""
    if len(plain) < MIN_COMPRESS_BYTES:
        return plain
    return zstandard.ZstdCompressor(level=LEVEL).compress(plain)


def is_compressed(body: bytes) -> bool:
    # JSON never starts with "(" (0x28), so the frame magic cannot be mistaken for JSON.
    return body[:4] == ZSTD_MAGIC


def decompress(body: bytes, limit: int) -> bytes:
    """The plaintext of `body`: itself when it is not a zstd frame, else the decompressed
    bytes of exactly one complete frame, refused with TooLarge as soon as they pass `limit`
    (whatever the frame header claims: the output is counted while it is produced)."""
    if not is_compressed(body):
        return body
    # Fed in small slices: a zstd block yields at most 128 KiB from at least 4 bytes, so one
    # slice can never produce more than a few MiB past the limit before it is counted.
    dobj = zstandard.ZstdDecompressor().decompressobj()
    out = bytearray()
    view = memoryview(body)
    try:
        for start in range(0, len(body), _SLICE):
            out += dobj.decompress(view[start : start + _SLICE])
            if len(out) > limit:
                raise TooLarge(limit)
            if dobj.eof:
                break
    except zstandard.ZstdError as exc:
        raise BadFrame(str(exc)) from None
    if not dobj.eof:
        raise BadFrame("truncated zstd frame")
    if dobj.unused_data or start + _SLICE < len(body):
        raise BadFrame("data after the zstd frame")
    return bytes(out)

"""Compressed sealed bodies (PROTOCOL.md §7.1) against the real server: zstd answers only
for a client that asks, compressed request bodies accepted, a compression bomb refused with
413, an old client (no Berkas-Features) served plain JSON, and pull pages sized by bytes."""

from __future__ import annotations

import json

import zstandard

from server.changes import PAGE_BYTES
from sync.compression import FEATURES_HEADER, ZSTD_MAGIC
from sync.crypto import (
    SEALED_MEDIA_TYPE,
    open_json,
    request_aad,
    response_aad,
    seal_json,
    signature_nonce,
)
from sync.protocol import ChangesPage, PushRequest, PushResponse
from tests.server.conftest import DeviceFactory, pegawai_data
from tests.support.device import SignedCall, TestDevice


def _plain_answer(device: TestDevice, call: SignedCall) -> bytes:
    """The sealed answer's plaintext exactly as the server sealed it (not decompressed)."""
    assert call.response.status_code == 200, call.response.text
    aad = response_aad(call.method, call.target, signature_nonce(call.headers))
    return open_json(call.response.content, device.keys.x25519("encryption"), aad)


def _push_many(device: TestDevice, count: int, first: int = 10, **fields: object) -> None:
    ops = [device.create("pegawai", pegawai_data(first + n, **fields)) for n in range(count)]
    results = device.push(*ops).results
    assert [r.outcome for r in results] == ["applied"] * count


def _sealed_push(device: TestDevice, plain: bytes) -> SignedCall:
    target = "/v1/sync/push"
    content = seal_json(plain, device.server_key, request_aad("POST", target))
    return device.send(
        "POST",
        target,
        content,
        headers={"Content-Type": SEALED_MEDIA_TYPE, FEATURES_HEADER: "zstd"},
    )


def test_old_client_gets_plain_json(device: TestDevice, enrol: DeviceFactory, opd: str) -> None:
    _push_many(device, 20)
    other = enrol(opd)
    call = other.send("GET", "/v1/sync/changes?since=0&limit=500")
    plain = _plain_answer(other, call)
    assert plain.startswith(b"{")  # JSON, as protocol 1 without features says
    page = ChangesPage.model_validate_json(plain)
    assert len(page.changes) == 20 and not page.has_more
    assert (
        call.response.headers[FEATURES_HEADER]
        == "zstd, page-bytes, dokumen-terbaca, usulan-tidak-berlaku"
    )


def test_answer_compressed_when_the_client_asks(
    device: TestDevice, enrol: DeviceFactory, opd: str
) -> None:
    _push_many(device, 40)
    other = enrol(opd)
    call = other.send(
        "GET", "/v1/sync/changes?since=0&limit=500", headers={FEATURES_HEADER: "zstd"}
    )
    plain = _plain_answer(other, call)
    assert plain[:4] == ZSTD_MAGIC
    raw = zstandard.ZstdDecompressor().decompress(plain)
    page = ChangesPage.model_validate_json(raw)
    assert len(page.changes) == 40
    assert {c.record["nip"] for c in page.changes} == {
        pegawai_data(10 + n)["nip"] for n in range(40)
    }
    # The sealed body on the wire is a fraction of the JSON it carries.
    assert len(call.response.content) * 4 < len(raw)


def test_compressed_push_is_applied(device: TestDevice, enrol: DeviceFactory, opd: str) -> None:
    ops = [device.create("pegawai", pegawai_data(10 + n)) for n in range(30)]
    plain = PushRequest(ops=ops).model_dump_json().encode()
    call = _sealed_push(device, zstandard.ZstdCompressor().compress(plain))
    results = PushResponse.model_validate_json(
        zstandard.ZstdDecompressor().decompress(_plain_answer(device, call))
    ).results
    assert [r.outcome for r in results] == ["applied"] * 30
    # What the server holds: another device pulls every record.
    pulled = enrol(opd).pull_all()
    assert sorted(c.record_id for c in pulled) == sorted(op.record_id for op in ops)


def test_compression_bomb_refused_with_413(
    device: TestDevice, enrol: DeviceFactory, opd: str
) -> None:
    limit = 8 * 1024 * 1024  # the server's max_body_size applies to the JSON too
    # 64 MiB of JSON-looking filler, a few kilobytes compressed; once with the content size
    # in the frame header and once streamed without it (the header is never trusted).
    filler = b'{"ops":[' + b" " * (64 * 1024 * 1024) + b"]}"
    framed = zstandard.ZstdCompressor(level=1).compress(filler)
    streamed = zstandard.ZstdCompressor(level=1, write_content_size=False).compressobj()
    unframed = streamed.compress(filler) + streamed.flush()
    for bomb in (framed, unframed):
        assert len(bomb) < limit // 100
        call = _sealed_push(device, bomb)
        assert call.response.status_code == 413, call.response.text
        assert call.response.json()["kode"] == "terlalu_besar"
    # Nothing was applied, and the server still serves this device.
    assert enrol(opd).pull_all() == []
    assert device.push().results == []


def test_broken_frame_refused_with_400(device: TestDevice) -> None:
    call = _sealed_push(device, ZSTD_MAGIC + b"\x00" * 40)
    assert call.response.status_code == 400
    assert call.response.json()["kode"] == "kompresi_tidak_sah"


def test_pull_pages_are_sized_by_bytes(device: TestDevice, enrol: DeviceFactory, opd: str) -> None:
    # 60 records of ~50 KB each: about 3 MB of JSON, more than one page's byte budget.
    for batch in range(3):
        _push_many(device, 20, first=10 + 20 * batch, unit_kerja="Bagian " + "x" * 50_000)
    other = enrol(opd)
    since, sizes, seen = 0, [], []
    while True:
        call = other.send("GET", f"/v1/sync/changes?since={since}&limit=10000")
        plain = _plain_answer(other, call)
        page = ChangesPage.model_validate_json(plain)
        sizes.append(len(plain))
        seen.extend(c.record_id for c in page.changes)
        since = page.next_since
        if not page.has_more:
            break
    assert len(seen) == len(set(seen)) == 60
    assert len(sizes) >= 2  # a count limit of 10,000 alone would have sent one page
    assert all(size <= PAGE_BYTES for size in sizes)
    assert sizes[0] > PAGE_BYTES * 0.9  # pages are filled, not trickled
    json.loads(plain)  # the hand-assembled page JSON is valid JSON

"""Compressed record sync (PROTOCOL.md §7.1) between the real client engine and the real
server: bytes on the wire shrink, and a client keeps working with a server that predates
compression (it never named the feature, or was rolled back after it did)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlmodel import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from store.models import Pegawai
from sync.compression import FEATURES_HEADER, ZSTD_MAGIC
from sync.crypto import open_json, request_aad
from sync.protocol import LEGACY_PAGE_LIMIT
from tests.support.netproxy import Proxy, start_proxy
from tests.support.server import RunningServer, start_server
from tests.sync.engine.conftest import Device, DeviceFactory, fast_settings


class OldSyncServer:
    """Our server as a server from before compression: it neither reads nor sends
    Berkas-Features, refuses a pull limit above 1000 (422) and, when `old` is set, answers
    a compressed request body as such a server does (its JSON parser fails: 400
    json_tidak_sah). With `old` unset it is the current server. It keeps every sync request
    (target, opened plaintext) that reached it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.old = True
        self.server_key: X25519PrivateKey | None = None
        self.requests: list[tuple[str, bytes]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.old:
            await self.app(scope, receive, send)
            return
        header = FEATURES_HEADER.lower().encode()
        scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != header]}

        async def strip(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() != header]
                message = {**message, "headers": kept}
            await send(message)

        if not scope["path"].startswith("/v1/sync/"):
            await self.app(scope, receive, strip)
            return
        query = scope["query_string"].decode()
        target = scope["path"] + (f"?{query}" if query else "")
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        plain = b""
        if body:
            assert self.server_key is not None
            plain = open_json(body, self.server_key, request_aad(scope["method"], target))
        self.requests.append((target, plain))
        limit = parse_qs(query).get("limit", ["0"])[0]
        if plain.startswith(ZSTD_MAGIC) or int(limit) > LEGACY_PAGE_LIMIT:
            status, kode = (400, "json_tidak_sah") if plain else (422, "isian_tidak_sah")
            payload = json.dumps({"kode": kode, "pesan": "Ditolak.", "detail": None}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": payload})
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, strip)


@pytest.fixture
def old_server(tmp_path: Path) -> Iterator[tuple[RunningServer, OldSyncServer, Proxy]]:
    made: list[OldSyncServer] = []

    def wrap(app: ASGIApp) -> ASGIApp:
        made.append(OldSyncServer(app))
        return made[0]

    running = start_server(tmp_path / "old", wrap=wrap)
    made[0].server_key = running.services.keys.encryption
    with start_proxy("127.0.0.1", running.port) as proxy:
        yield running, made[0], proxy
    running.stop()


def _add_pegawai(device: Device, count: int) -> None:
    with device.store.write() as session:
        for n in range(count):
            session.add(
                Pegawai(
                    nip=f"19800101{n:010d}",
                    nama=f"Pegawai {n}",
                    tanggal_lahir=date(1980, 1, 1),
                    jenis_kelamin=1,
                    golongan="III/a",
                    tmt_pangkat=date(2019, 4, 1),
                    tmt_cpns=date(2005, 1, 1),
                    pendidikan="S1",
                    jabatan_kind="pelaksana",
                )
            )


def _pegawai_count(device: Device) -> int:
    with device.store.read() as session:
        return int(session.exec(select(func.count()).select_from(Pegawai)).one())


def test_a_fresh_pull_travels_compressed(new_device: DeviceFactory, proxy: Proxy) -> None:
    a = new_device("a")
    _add_pegawai(a, 2500)
    assert a.sync().ok
    b = new_device("b")
    proxy.reset_counters()
    report = b.engine.sync_records()
    assert report.ok and report.pull.changes == 2500
    assert _pegawai_count(b) == 2500
    # About 600 bytes of JSON a record as plain JSON; compressed, under a tenth of it.
    assert proxy.bytes_down < 2500 * 60, proxy.bytes_down
    # Pages sized by bytes: the first page (before the server named its features) holds
    # the legacy 1000, the next one all the remaining 1500 small records.
    assert report.pull.pages == 2


def test_an_old_server_is_sent_plain_json_and_small_pages(
    tmp_path: Path, old_server: tuple[RunningServer, OldSyncServer, Proxy]
) -> None:
    server, old, proxy = old_server
    factory = DeviceFactory(tmp_path, server, proxy.url)
    try:
        a, b = factory("a"), factory("b")
        _add_pegawai(a, 1200)
        assert a.sync().ok and a.sync().ok
        report = b.sync()
        assert report.ok, report.error
        assert _pegawai_count(b) == 1200
        pushes = [plain for target, plain in old.requests if target == "/v1/sync/push"]
        assert len(pushes) >= 3 and all(plain.startswith(b"{") for plain in pushes)
        limits = [
            int(parse_qs(t.split("?", 1)[1])["limit"][0])
            for t, _ in old.requests
            if t.startswith("/v1/sync/changes")
        ]
        assert limits and max(limits) <= LEGACY_PAGE_LIMIT
    finally:
        for device in factory.made:
            device.close()


def test_a_server_rolled_back_gets_plain_json_again(
    tmp_path: Path, old_server: tuple[RunningServer, OldSyncServer, Proxy]
) -> None:
    server, old, proxy = old_server
    old.old = False  # the current server first: the client learns it reads zstd
    factory = DeviceFactory(tmp_path, server, proxy.url)
    try:
        a, b = factory("a", settings=fast_settings()), factory("b")
        assert a.sync().ok
        assert "zstd" in a.engine.transport.server_features
        old.old = True  # rolled back to a version without compression
        _add_pegawai(a, 50)
        report = a.sync()
        assert report.ok, report.error
        assert report.push.applied == 50
        pushes = [plain for target, plain in old.requests if target == "/v1/sync/push"]
        assert pushes[0].startswith(ZSTD_MAGIC)  # refused with 400 by the old server...
        assert pushes[-1].startswith(b"{")  # ...and sent again as JSON
        assert b.sync().ok and _pegawai_count(b) == 50
    finally:
        for device in factory.made:
            device.close()

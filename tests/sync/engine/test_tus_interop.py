"""Our tus client against servers that differ from ours, and against cuts of the creation:
it asks the server what it offers (OPTIONS) before relying on an extension, and a cut
creation is retried like every other request of an upload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.support.netproxy import Proxy
from tests.support.server import RunningServer, start_server
from tests.sync.engine.conftest import DeviceFactory, fast_settings, random_bytes
from tests.sync.engine.test_documents import server_copy_hash


class TusVariant:
    """Our server as a tus server that offers other checksum algorithms, or (none given)
    no checksum extension at all, as @tus/server does.

    Like such a server it ignores an Upload-Checksum it does not offer the extension for,
    and answers 400 to an algorithm it does not support (tus checksum extension). It notes
    every Upload-Checksum that reached it.
    """

    def __init__(self, app: ASGIApp, algorithms: tuple[str, ...]) -> None:
        self.app = app
        self.algorithms = algorithms
        self.checksums_seen: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/files"):
            await self.app(scope, receive, send)
            return
        headers = list(scope["headers"])
        checksum = next((v.decode() for k, v in headers if k == b"upload-checksum"), None)
        if checksum is not None:
            self.checksums_seen.append(checksum)
            if not self.algorithms:
                headers = [(k, v) for k, v in headers if k != b"upload-checksum"]
                scope = {**scope, "headers": headers}
            elif checksum.split(" ", 1)[0] not in self.algorithms:
                await send({"type": "http.response.start", "status": 400, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return

        async def offer(message: Message) -> None:
            if message["type"] == "http.response.start" and scope["method"] == "OPTIONS":
                kept = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"tus-extension", b"tus-checksum-algorithm")
                ]
                extensions = "creation,expiration,termination"
                if self.algorithms:
                    extensions += ",checksum"
                    kept.append((b"tus-checksum-algorithm", ",".join(self.algorithms).encode()))
                kept.append((b"tus-extension", extensions.encode()))
                message = {**message, "headers": kept}
            await send(message)

        await self.app(scope, receive, offer)


@pytest.fixture(params=[(), ("sha1", "md5")], ids=["no-checksum", "sha1-only"])
def variant(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[RunningServer, TusVariant]]:
    made: list[TusVariant] = []

    def wrap(app: ASGIApp) -> ASGIApp:
        made.append(TusVariant(app, request.param))
        return made[0]

    running = start_server(tmp_path / "variant", wrap=wrap)
    yield running, made[0]
    running.stop()


def test_checksum_is_sent_only_where_the_server_offers_it(
    tmp_path: Path, variant: tuple[RunningServer, TusVariant]
) -> None:
    running, tus = variant
    factory = DeviceFactory(tmp_path, running, running.url)
    try:
        a = factory("a")
        sha = a.store_scan(random_bytes(700_000, seed=11))
        report = a.sync()
        assert report.ok, report.error
        assert report.uploads.uploaded == 1
        assert server_copy_hash(a, sha) == sha
    finally:
        for device in factory.made:
            device.close()
    if tus.algorithms:
        # The best algorithm both sides know, on every chunk.
        assert tus.checksums_seen
        assert all(value.startswith("sha1 ") for value in tus.checksums_seen)
    else:
        assert tus.checksums_seen == []


def _stored_on_server(server: RunningServer, sha: str) -> bytes:
    from sqlalchemy import select

    from server.models import StoredFile

    with server.db.read() as session:
        stored = session.scalars(select(StoredFile).where(StoredFile.sha256 == sha)).one()
    return (server.settings.blob_dir / stored.cipher_sha256).read_bytes()


def test_a_cut_during_creation_is_retried_and_the_document_arrives(
    new_device: DeviceFactory, proxy: Proxy, server: RunningServer
) -> None:
    # Record sync stays out of the way while documents go (so the cut hits the creation).
    a = new_device("a", settings=fast_settings(record_interval_s=600))
    a.engine.backoff.base_s = 0.05
    shas = [a.store_scan(random_bytes(300_000, seed=20 + n), f"scan{n}.pdf") for n in range(2)]
    proxy.cut_on(b"POST /v1/files ", times=2)
    report = a.sync()
    assert proxy.cuts == 2
    assert report.ok, report.error
    assert report.uploads.uploaded == 2 and report.uploads.failed == 0
    for sha in shas:
        assert server_copy_hash(a, sha) == sha
        assert _stored_on_server(server, sha) == a.blobs.path_for(sha).read_bytes()

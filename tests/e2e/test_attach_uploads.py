"""Issue 15 item 2: one oversized dokumen never blocks sync.

An oversized scan attached by path goes through intake's normalisation and reaches the
server under its kind's limit; replacing a dokumen whose upload had started cancels that
upload on the server (tus DELETE), and only the new file is stored there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from client import sync_service
from client.config import load_config
from client.services import BerkasClient
from server.models import StoredFile, Upload
from store.models import Blob
from store.rules import load_rules_config
from sync.engine import ChunkSizer
from tests.support.netproxy import Proxy
from tests.support.scans import pdf_scan, text_pdf
from tests.support.server import RunningServer, start_server
from tests.sync.engine.conftest import NIPS, Device, fast_settings, make_device


@pytest.fixture
def device(tmp_path: Path, server: RunningServer, proxy: Proxy) -> Iterator[Device]:
    settings = fast_settings(downloads=False, key_check_interval_s=3600)
    made = make_device(tmp_path, "pc", server, proxy.url, settings=settings)
    yield made
    made.close()


def _client(device: Device) -> BerkasClient:
    config = load_config(device.paths.config)
    return BerkasClient(
        device.paths, device.store, config, load_rules_config(None), blobs=device.blobs
    )


def _usulan(device: Device) -> tuple[BerkasClient, str]:
    client = _client(device)
    pid = device.add_pegawai(NIPS[0], nama="Dewi Lestari")
    return client, client.create_usulan(pid, "kp", "reguler").id


def _server_files(server: RunningServer) -> dict[str, int]:
    with server.db.read() as session:
        return {f.sha256: f.size for f in session.scalars(select(StoredFile))}


def _open_uploads(server: RunningServer) -> list[str]:
    with server.db.read() as session:
        return [
            u.sha256 for u in session.scalars(select(Upload).where(Upload.completed_at.is_(None)))
        ]


def test_oversized_scan_attached_by_path_is_normalised_and_uploaded(
    device: Device, server: RunningServer, tmp_path: Path
) -> None:
    client, usulan_id = _usulan(device)
    limit = client.rules.dokumen.size_limit
    scan = pdf_scan(tmp_path / "sk pangkat.pdf", pages=2, dpi=300, quality=95)
    assert scan.stat().st_size > limit  # what the person picked is over the limit

    line = client.attach_file(usulan_id, "SK_PANGKAT", scan)

    assert line.state == "ada" and line.pages == 2
    upload = next(u for u in client.pending_uploads())
    with device.store.read() as session:
        blob = session.get(Blob, upload.sha256)
        assert blob is not None and blob.size <= limit
    report = device.sync()
    assert report.ok, report.error
    assert report.uploads.uploaded == 1
    assert _server_files(server) == {upload.sha256: blob.size}


def test_scan_that_cannot_fit_is_refused_at_once_and_nothing_is_queued(
    device: Device, tmp_path: Path
) -> None:
    client, usulan_id = _usulan(device)
    # A limit no ladder step brings a photo page under.
    tight = client.rules.dokumen.model_copy(
        update={"size_limit": 20_000, "multi_page_size_limit": 20_000}
    )
    rules = client.rules.model_copy(update={"dokumen": tight})
    client = BerkasClient(client.paths, client.store, client.config, rules, blobs=device.blobs)
    scan = pdf_scan(tmp_path / "foto.pdf", pages=1, dpi=300, quality=95)
    with pytest.raises(Exception, match="terlalu besar"):
        client.attach_file(usulan_id, "SK_PANGKAT", scan)
    assert client.pending_uploads() == []
    assert (
        next(
            line for line in client.usulan_detail(usulan_id).checklist if line.kode == "SK_PANGKAT"
        ).state
        == "kurang"
    )


def test_replacing_a_queued_dokumen_cancels_its_upload_on_the_server(
    device: Device, server: RunningServer, proxy: Proxy, tmp_path: Path
) -> None:
    client, usulan_id = _usulan(device)
    old = text_pdf(tmp_path / "lama.pdf", pages=3, text="SK pangkat yang salah")
    client.attach_file(usulan_id, "SK_PANGKAT", old)
    old_sha = client.pending_uploads()[0].sha256
    # The upload is created on the server, then every PATCH is cut: it stays open there.
    # Small chunks, so the creation (which carries the first chunk, tus
    # creation-with-upload) cannot hold this whole document.
    device.engine.sizer = ChunkSizer(initial=512, minimum=512)
    proxy.cut_on(b"PATCH ", times=50)
    assert not device.sync().ok
    assert _open_uploads(server) == [old_sha]
    proxy._call(lambda: proxy._cut_markers.clear())  # no public way to drop them
    device.engine.backoff.reset()

    new = text_pdf(tmp_path / "baru.pdf", pages=2, text="SK pangkat yang benar")
    client.attach_file(usulan_id, "SK_PANGKAT", new)
    new_sha = next(u.sha256 for u in client.pending_uploads())
    assert new_sha != old_sha and len(client.pending_uploads()) == 1

    report = device.sync()
    assert report.ok, report.error
    assert _open_uploads(server) == []  # the old upload was cancelled (tus DELETE)
    assert set(_server_files(server)) == {new_sha}
    with device.store.read() as session:
        stale = session.get(Blob, old_sha)
        assert stale is not None and not stale.uploaded and stale.upload_url == ""


def test_a_refused_file_is_set_aside_and_never_marks_the_link_offline(
    tmp_path: Path,
) -> None:
    """The server refuses one file (over its upload limit): the sync still succeeds, the
    other file is uploaded, the refused one is listed with its usulan and dokumen, and
    dropping it removes the dokumen so nothing waits for it any more."""
    small_server = start_server(tmp_path / "server-kecil", max_upload_size=6_000)
    try:
        settings = fast_settings(downloads=False, key_check_interval_s=3600)
        device = make_device(tmp_path, "pc", small_server, small_server.url, settings=settings)
        try:
            client, usulan_id = _usulan(device)
            client.attach_file(usulan_id, "SK_CPNS", text_pdf(tmp_path / "cpns.pdf"))
            big = text_pdf(tmp_path / "pangkat.pdf", pages=40, text="SK pangkat " * 6)
            client.attach_file(usulan_id, "SK_PANGKAT", big)

            report = device.sync()
            assert report.ok, report.error
            assert report.uploads.uploaded == 1 and report.uploads.refused == 1
            assert sync_service.status_of(device.paths, device.store).state == "online"
            (refused,) = client.refused_uploads()
            assert refused.usulan_id == usulan_id and refused.dokumen == "SK pangkat terakhir"
            assert "batas unggah" in refused.reason
            assert client.pending_uploads() == []

            client.drop_refused_upload(refused.sha256)
            line = next(
                li for li in client.usulan_detail(usulan_id).checklist if li.kode == "SK_PANGKAT"
            )
            assert line.state == "kurang"
            assert client.refused_uploads() == []
            again = device.sync()
            assert again.ok and again.uploads.refused == 0
        finally:
            device.close()
    finally:
        small_server.stop()

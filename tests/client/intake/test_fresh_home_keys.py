"""Issue 13 item 0: a fresh home gets exactly one device key, however many threads and
processes want it at once, and every document intake stores opens with the key on disk."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import time
from pathlib import Path

import pytest
from sqlmodel import select

from client.config import load_config, save_config
from client.intake_wiring import intake_service
from client.paths import Paths, resolve_paths
from client.sync_service import keyring_for, open_blob_store
from store.database import open_store
from store.models import Blob
from sync.crypto import public_key_b64
from sync.engine import Keyring
from tests.client.test_cli import berkas
from tests.support.scans import jpeg_scan

SCANS = 8


def _device_public(folder: str, barrier: multiprocessing.synchronize.Barrier) -> str:
    barrier.wait()
    keys = Keyring(Path(folder)).device_keys(create=True)
    return public_key_b64(keys.x25519("encryption"))


def test_processes_making_the_device_key_at_once_all_use_the_one_on_disk(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "kunci"
    ctx = multiprocessing.get_context("spawn")
    workers = 6
    with ctx.Manager() as manager:
        barrier = manager.Barrier(workers)
        with ctx.Pool(workers) as pool:
            seen = pool.starmap(_device_public, [(str(folder), barrier)] * workers)
    on_disk = public_key_b64(Keyring(folder).device_keys().x25519("encryption"))
    assert set(seen) == {on_disk}
    assert [p.name for p in folder.iterdir()] == ["perangkat.key"]  # no temp file left


def _fill(paths: Paths) -> None:
    paths.scans.mkdir(parents=True, exist_ok=True)
    for i in range(SCANS):
        jpeg_scan(paths.scans / f"pindaian {i}.jpg", dpi=150, seed=i)


def _every_stored_document_opens(paths: Paths) -> None:
    store = open_store(paths.store)
    try:
        with store.read() as session:
            shas = [b.sha256 for b in session.exec(select(Blob))]
    finally:
        store.close()
    assert len(shas) == SCANS
    blobs = open_blob_store(paths, Keyring(paths.keys))  # a new process: the key on disk
    assert [sha for sha in shas if not blobs.verify(sha)] == []


@pytest.mark.parametrize("with_init", [True, False], ids=["berkas-init", "no-init"])
def test_intake_with_several_workers_on_a_fresh_home_keeps_every_document(
    tmp_path: Path, with_init: bool
) -> None:
    # Without init the old race lost a document in about two runs of three; two homes.
    for n in range(1 if with_init else 2):
        home = tmp_path / f"rumah{n}"
        if with_init:
            assert berkas(home, "init", "--opd", "DISDIK").returncode == 0
            assert keyring_for(resolve_paths(home)).device_path.exists()  # made once, here
        paths = resolve_paths(home)
        _fill(paths)
        config = load_config(paths.config)
        config.intake.workers = 3
        config.intake.stable_delay = 0.05
        save_config(paths.config, config)
        time.sleep(0.1)  # the scans are older than the stability delay
        with intake_service(paths) as svc:
            summary = svc.run_folder(paths.scans)
        assert len(summary.results) == SCANS, [r.message for r in summary.results]
        _every_stored_document_opens(paths)

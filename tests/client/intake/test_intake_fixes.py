"""Intake as a user meets it: files still being copied, a second scan for a
filled line, and "name (1).pdf" beside "name.pdf"."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from sqlmodel import col, select
from typer.testing import CliRunner

from client.intake import cli
from client.intake.results import IntakeStatus
from client.intake.service import IntakeService
from store.database import Store
from store.models import Dokumen, InboxItem, Usulan, UsulanHistory
from tests.client.intake.conftest import usulan_of
from tests.support import scans as fixtures
from tests.support.scans import NIP_BUDI


def _jpeg(path: Path, seed: int) -> Path:
    return fixtures.jpeg_scan(path, dpi=100, seed=seed)


def _age(folder: Path) -> None:
    old = time.time() - 60
    for path in folder.rglob("*"):
        os.utime(path, (old, old))


def _live(store: Store, kode: str) -> list[Dokumen]:
    with store.read() as session:
        stmt = select(Dokumen).where(Dokumen.kode == kode).where(col(Dokumen.deleted).is_(False))
        return list(session.exec(stmt))


def _history(store: Store, usulan_id: str) -> list[str]:
    with store.read() as session:
        stmt = select(UsulanHistory).where(UsulanHistory.usulan_id == usulan_id)
        return [h.alasan for h in session.exec(stmt)]


def _app_with(service: IntakeService) -> typer.Typer:
    @contextmanager
    def factory(_home: Path | None) -> Iterator[IntakeService]:
        yield service

    return cli.make_app(factory)


def test_run_waits_for_files_copied_a_moment_ago(service: IntakeService, scans: Path) -> None:
    # Copied just now: mtimes are fresh. Before the fix, run skipped both and took nothing.
    _jpeg(scans / f"{NIP_BUDI}_SK_CPNS.jpg", seed=1)
    _jpeg(scans / "scan0001.jpg", seed=2)
    for path in scans.iterdir():
        os.utime(path)  # just now, however long writing them took
    waits: list[int] = []
    summary = service.run_folder(scans, None, lambda files, _left: waits.append(files))
    assert (summary.taken, summary.skipped) == (2, 0)
    assert (summary.filed, summary.inbox) == (1, 1)
    assert max(waits) >= 1 and waits[-1] == 0  # the wait was reported, then ended
    assert not (scans / "scan0001.jpg").exists()


def test_run_exits_nonzero_when_a_file_never_settles(
    service: IntakeService, scans: Path, tmp_path: Path
) -> None:
    service.settings.settle_timeout = 1.0
    _jpeg(scans / f"{NIP_BUDI}_SK_CPNS.jpg", seed=1)
    growing = scans / "masih-disalin.jpg"
    growing.write_bytes(b"\xff\xd8")
    stop = threading.Event()

    def keep_writing() -> None:
        with growing.open("ab") as fh:
            while not stop.wait(0.05):
                fh.write(b"\0" * 100)
                fh.flush()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        result = CliRunner().invoke(_app_with(service), ["run", str(scans)])
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 1, result.output
    assert "1 berkas masih terus berubah" in result.output
    assert growing.exists()  # left where it was, for the next run
    assert not (scans / f"{NIP_BUDI}_SK_CPNS.jpg").exists()  # the settled one was taken
    assert len(_live(service.store, "SK_CPNS")) == 1


def test_second_different_scan_waits_as_pengganti(
    service: IntakeService, store: Store, scans: Path
) -> None:
    first = service.process_file(_jpeg(scans / f"{NIP_BUDI}_SK_PNS.jpg", seed=1))
    assert first.status is IntakeStatus.FILED
    second = service.process_file(_jpeg(scans / f"{NIP_BUDI}_SK_PNS (2).jpg", seed=2))
    assert second.status is IntakeStatus.INBOX, second.message
    (kept,) = _live(store, "SK_PNS")
    assert kept.sha256 == first.sha256  # not silently replaced
    with store.read() as session:
        (item,) = session.exec(select(InboxItem)).all()
    assert item.reason.startswith("pengganti?")
    assert (item.nip, item.kode) == (NIP_BUDI, "SK_PNS")

    # One key in the Kotak masuk: accept it, and the history says which replaced which.
    service.accept_suggestion(item.id)
    (now,) = _live(store, "SK_PNS")
    assert now.sha256 == second.sha256
    usulan = usulan_of(store, NIP_BUDI)
    (note,) = [h for h in _history(store, usulan.id) if "diganti" in h]
    assert first.sha256[:12] in note and second.sha256[:12] in note


def test_returned_line_is_replaced_with_history(
    service: IntakeService, store: Store, scans: Path
) -> None:
    first = service.process_file(_jpeg(scans / f"{NIP_BUDI}_SK_PNS.jpg", seed=1))
    usulan_id = usulan_of(store, NIP_BUDI).id
    with store.write() as session:  # BTS: the verifikator returned the usulan and this line
        usulan = session.get(Usulan, usulan_id)
        assert usulan is not None
        usulan.status = "dikembalikan"
        session.add(usulan)
        (dok,) = session.exec(select(Dokumen).where(Dokumen.kode == "SK_PNS")).all()
        dok.state = "dikembalikan"
        session.add(dok)
    second = service.process_file(_jpeg(scans / f"{NIP_BUDI}_SK_PNS.jpg", seed=2))
    assert second.status is IntakeStatus.FILED, second.message
    (now,) = _live(store, "SK_PNS")
    assert (now.sha256, now.state) == (second.sha256, "ada")
    (note,) = [h for h in _history(store, usulan_id) if "diganti" in h]
    assert first.sha256[:12] in note and second.sha256[:12] in note


def test_the_copy_is_the_duplicate_whichever_is_read_first(
    service: IntakeService, store: Store, scans: Path
) -> None:
    for folder in ("a", "b", "c"):
        original = _jpeg(scans / folder / "surat.jpg", seed=7 + ord(folder))
        (scans / folder / "surat (1).jpg").write_bytes(original.read_bytes())
    _age(scans)
    summary = service.run_folder(scans)
    by_name = {r.relative_name: r.status for r in summary.results}
    for folder in ("a", "b", "c"):
        assert by_name[f"{folder}/surat.jpg"] is IntakeStatus.INBOX
        assert by_name[f"{folder}/surat (1).jpg"] is IntakeStatus.DUPLICATE
    with store.read() as session:
        names = sorted(i.original_name for i in session.exec(select(InboxItem)))
    assert names == ["a/surat.jpg", "b/surat.jpg", "c/surat.jpg"]

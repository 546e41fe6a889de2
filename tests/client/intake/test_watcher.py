"""The watcher: settled files only, bursts, missed events, bad files, lost shares."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import col, select

from client.intake.events import FileProcessed, FileTaken, IntakeEvent, ObserverRestarted
from client.intake.results import IntakeResult, IntakeStatus
from client.intake.service import IntakeService
from client.intake.stability import StabilityTracker
from client.intake.watcher import Watcher, _Hints
from store.models import Dokumen, InboxItem
from tests.client.intake.conftest import STABLE, usulan_of
from tests.support import documents as docs
from tests.support import scans
from tests.support.scans import NIP_BUDI


class Recorder:
    def __init__(self) -> None:
        self.events: list[IntakeEvent] = []
        self._lock = threading.Lock()

    def __call__(self, event: IntakeEvent) -> None:
        with self._lock:
            self.events.append(event)

    def of(self, kind: type) -> list:  # type: ignore[type-arg]
        with self._lock:
            return [e for e in self.events if isinstance(e, kind)]

    def results(self) -> list[IntakeResult]:
        return [e.result for e in self.of(FileProcessed)]


def wait_for(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.fixture
def watching(service: IntakeService) -> Iterator[tuple[Watcher, Recorder]]:
    recorder = Recorder()
    watcher = Watcher(service, recorder)
    watcher.start()
    wait_for(lambda: watcher.rescans >= 1)
    yield watcher, recorder
    watcher.stop()
    assert not watcher.running


def test_tracker_waits_for_quiet_and_unchanged(tmp_path: Path) -> None:
    now = [0.0]
    tracker = StabilityTracker(1.0, clock=lambda: now[0])
    path = tmp_path / "a.jpg"
    path.write_bytes(b"x" * 10)
    tracker.touch(path, tmp_path)
    now[0] = 0.5
    assert tracker.take_ready() == []
    path.write_bytes(b"x" * 20)  # still growing, no event seen
    now[0] = 1.2
    assert tracker.take_ready() == []  # size changed since the event: wait again
    now[0] = 2.3
    assert tracker.take_ready() == [(path, tmp_path)]
    assert len(tracker) == 0
    tracker.observe(path, tmp_path)
    path.unlink()
    now[0] = 5.0
    assert tracker.take_ready() == [] and len(tracker) == 0  # vanished: dropped


def test_tracker_takes_oldest_first_and_held_files_do_not_block(tmp_path: Path) -> None:
    now = [0.0]
    tracker = StabilityTracker(1.0, clock=lambda: now[0])
    empty, first, second = (tmp_path / n for n in ("kosong.pdf", "a.jpg", "b.jpg"))
    empty.write_bytes(b"")
    first.write_bytes(b"a")
    second.write_bytes(b"b")
    tracker.touch(empty, tmp_path)  # empty: held for several delays
    tracker.touch(first, tmp_path)
    now[0] = 0.5
    tracker.touch(second, tmp_path)
    tracker.touch(first, tmp_path)  # a later event: now the newest
    now[0] = 1.6
    assert tracker.take_ready(1) == [(second, tmp_path)]
    assert tracker.take_ready(1) == [(first, tmp_path)]
    assert tracker.take_ready() == [] and empty in tracker
    now[0] = 6.0
    assert tracker.take_ready(5) == [(empty, tmp_path)]


def test_slowly_written_file_is_taken_once_after_it_stops_changing(
    watching: tuple[Watcher, Recorder], scans_dir: Path
) -> None:
    _watcher, recorder = watching
    data = scans.jpeg_bytes(scans.a4_page(dpi=150), dpi=150)
    target = scans_dir / f"{NIP_BUDI}_SK_CPNS.jpg"
    writer = threading.Thread(
        target=scans.write_in_chunks, args=(target, data), kwargs={"chunks": 8, "pause": STABLE / 2}
    )
    started = time.monotonic()
    writer.start()
    writer.join()
    finished = time.monotonic()
    assert finished - started > 3 * STABLE  # the write took longer than the delay
    wait_for(lambda: len(recorder.results()) == 1)
    time.sleep(3 * STABLE)
    (result,) = recorder.results()
    assert result.status is IntakeStatus.FILED
    assert len(recorder.of(FileTaken)) == 1
    # Taken only after the last write, never a partial file.
    assert result.size_before == len(data)


@pytest.fixture
def scans_dir(service: IntakeService) -> Path:
    return service.scan_roots()[0]


def test_burst_of_200_files_is_all_taken(
    watching: tuple[Watcher, Recorder], scans_dir: Path
) -> None:
    _, recorder = watching
    small = scans.a4_page(dpi=40)
    for i in range(200):
        folder = scans_dir / (NIP_BUDI if i % 2 else "lain")
        scans.jpeg_scan(folder / f"scan {i:03d}.jpg", page=_numbered(small, i), dpi=40)
    wait_for(lambda: len(recorder.results()) == 200, timeout=60)
    results = recorder.results()
    assert len({r.source for r in results}) == 200
    assert all(r.status is IntakeStatus.INBOX for r in results), {r.message for r in results}
    assert not any(p.is_file() for p in scans_dir.glob("*/scan*.jpg"))


def test_a_finished_file_wakes_the_loop_to_dispatch_the_next(
    service: IntakeService, scans_dir: Path
) -> None:
    """The loop sleeps between ticks; a free conversion slot must not wait for one."""
    watcher = Watcher(service)
    src = scans.jpeg_scan(scans_dir / "scan.jpg", page=scans.a4_page(dpi=40), dpi=40)
    assert not watcher._wake.is_set()
    watcher._take(src, scans_dir, time.monotonic())
    assert watcher._wake.is_set() and not src.exists()


def _numbered(page, i: int):  # type: ignore[no-untyped-def]
    from PIL import ImageDraw

    copy = page.copy()
    ImageDraw.Draw(copy).text((10, 10), str(i), fill=(0, 0, 0))
    return copy


def test_missed_events_are_caught_by_the_rescan(
    service: IntakeService, scans_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_Hints, "on_any_event", lambda self, event: None)  # events lost
    service.settings.rescan_interval = 1.0
    recorder = Recorder()
    watcher = Watcher(service, recorder)
    watcher.start()
    try:
        wait_for(lambda: watcher.rescans >= 1)
        scans.jpeg_scan(scans_dir / f"{NIP_BUDI}_SK_PNS.jpg", dpi=100)
        wait_for(lambda: len(recorder.results()) == 1, timeout=15)
        assert recorder.results()[0].status is IntakeStatus.FILED
        assert watcher.rescans >= 2
    finally:
        watcher.stop()


def test_bad_files_go_to_quarantine_and_the_watcher_keeps_running(
    watching: tuple[Watcher, Recorder], scans_dir: Path
) -> None:
    watcher, recorder = watching
    bad = {
        "kosong.pdf": scans.zero_byte_file,
        "terkunci.pdf": scans.encrypted_pdf,
        "terpotong.pdf": scans.truncated_pdf,
        "dokumen.pdf": scans.not_a_scan,
        "bom.png": scans.huge_pixel_png,
        "tebal.pdf": lambda p: scans.many_pages_pdf(p, 201),
    }
    for name, make in bad.items():
        make(scans_dir / name)
    wait_for(lambda: len(recorder.results()) == len(bad), timeout=60)
    assert {r.status for r in recorder.results()} == {IntakeStatus.QUARANTINED}
    for name in bad:
        assert (scans_dir / "karantina" / name).exists()
        assert (scans_dir / "karantina" / f"{name}.alasan.txt").read_text("utf-8").strip()
    # Still watching: a good file after the bad ones is filed.
    scans.jpeg_scan(scans_dir / f"{NIP_BUDI}_SK_CPNS.jpg", dpi=100)
    wait_for(lambda: len(recorder.results()) == len(bad) + 1, timeout=15)
    assert recorder.results()[-1].status is IntakeStatus.FILED
    assert watcher.running


def test_watcher_recovers_when_the_folder_drops_and_returns(
    watching: tuple[Watcher, Recorder], scans_dir: Path, tmp_path: Path
) -> None:
    watcher, recorder = watching
    aside = tmp_path / "terputus"
    shutil.move(scans_dir, aside)  # the share drops
    wait_for(lambda: any(not e.available for e in recorder.of(_folder_status())), timeout=10)
    shutil.move(aside, scans_dir)  # and comes back
    wait_for(lambda: len(recorder.of(ObserverRestarted)) >= 1, timeout=10)
    scans.jpeg_scan(scans_dir / f"{NIP_BUDI}_SK_CPNS.jpg", dpi=100)
    wait_for(lambda: len(recorder.results()) == 1, timeout=15)
    assert recorder.results()[0].status is IntakeStatus.FILED
    assert watcher.running


def _folder_status() -> type:
    from client.intake.events import FolderStatus

    return FolderStatus


def test_sheet_batches_dropped_in_the_folder_are_split_and_filed(
    watching: tuple[Watcher, Recorder], scans_dir: Path, service: IntakeService, tmp_path: Path
) -> None:
    """What the person does: the ADF's PDF and a numbered run of images (each with
    separator sheets in front of its documents) land in the watched folder."""
    _, recorder = watching
    store = service.store
    budi = usulan_of(store, NIP_BUDI).id

    def page(kode: str, seed: int) -> Image.Image:
        return docs.document(kode=kode, people=[("Contoh", NIP_BUDI)], dpi=100, seed=seed)

    # The PDF is written elsewhere and moved in whole, as a scanner's share does.
    pdf = docs.batch_pdf(
        tmp_path / "adf0001.pdf",
        [
            docs.sheet(budi, "SK_PANGKAT", dpi=100),
            page("SK_PANGKAT", 1),
            docs.sheet(budi, "SKP", dpi=100),
            page("SKP", 2),
            page("SKP", 3),
        ],
        dpi=100,
    )
    shutil.move(pdf, scans_dir / pdf.name)
    # The run is written into the folder file by file, as a scanner saving images does.
    run = docs.image_run(
        scans_dir,
        [
            docs.sheet(budi, "IJAZAH", dpi=100),
            page("IJAZAH", 4),
            page("IJAZAH", 5),
            docs.sheet(budi, "TRANSKRIP", dpi=100),
            page("TRANSKRIP", 6),
        ],
        dpi=100,
    )
    wait_for(lambda: len(recorder.results()) == 3, timeout=120)
    parts = {
        r.relative_name: [(p.status, p.kode, p.pages) for p in r.parts] for r in recorder.results()
    }
    assert parts == {
        "adf0001.pdf": [(IntakeStatus.FILED, "SK_PANGKAT", 1), (IntakeStatus.FILED, "SKP", 2)],
        "scan0001.jpg": [(IntakeStatus.FILED, "IJAZAH", 2)],
        "scan0004.jpg": [(IntakeStatus.FILED, "TRANSKRIP", 1)],
    }, [r.message for r in recorder.results()]
    with store.read() as session:
        filed = {
            d.kode: d.pages
            for d in session.exec(
                select(Dokumen)
                .where(Dokumen.usulan_id == budi)
                .where(col(Dokumen.deleted).is_(False))
            )
        }
        waiting = session.exec(select(InboxItem)).all()
    assert filed == {"SK_PANGKAT": 1, "SKP": 2, "IJAZAH": 2, "TRANSKRIP": 1}
    assert waiting == []
    assert not any(p.exists() for p in [*run, scans_dir / pdf.name])


def test_a_numbered_run_already_in_the_folder_is_all_taken(
    service: IntakeService, scans_dir: Path
) -> None:
    """More numbered images than free conversion slots, all there before the watcher
    starts (the TUI opened after the scanner wrote them): each waits only for the one
    before it, never for a settled next one that missed its batch."""
    small = scans.a4_page(dpi=40)
    count = 4 * service.settings.workers * 3  # several batches' worth
    for i in range(1, count + 1):
        scans.jpeg_scan(scans_dir / f"scan{i:04d}.jpg", page=_numbered(small, i), dpi=40)
    recorder = Recorder()
    watcher = Watcher(service, recorder)
    watcher.start()
    try:
        wait_for(lambda: len(recorder.results()) == count, timeout=60)
    finally:
        watcher.stop()
    assert len({r.source for r in recorder.results()}) == count
    assert not any(scans_dir.glob("scan*.jpg"))

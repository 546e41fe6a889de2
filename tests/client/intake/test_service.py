"""One file through intake: filed, Inbox, quarantine, duplicates, crash safety."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlmodel import col, select

from client.intake.errors import IntakeError
from client.intake.results import IntakeStatus
from client.intake.service import IntakeService
from client.intake.settings import ProcessedAction
from store.blobs import BlobStore
from store.database import Store
from store.models import Blob, Dokumen, InboxItem, OutboxEntry
from tests.client.intake.conftest import usulan_of
from tests.support import scans
from tests.support.scans import NIP_BUDI, NIP_SITI, NIP_UNKNOWN, pdf_scan


def dokumen_of(store: Store) -> list[Dokumen]:
    with store.read() as session:
        return list(session.exec(select(Dokumen).where(col(Dokumen.deleted).is_(False))))


def inbox_of(store: Store) -> list[InboxItem]:
    with store.read() as session:
        return list(session.exec(select(InboxItem)))


def test_full_match_is_filed_with_canonical_name(
    service: IntakeService, store: Store, blobs: BlobStore, scans: Path
) -> None:
    src = scans_jpeg(scans / NIP_BUDI / "sk cpns.jpg")
    result = service.process_file(src)
    assert result.status is IntakeStatus.FILED, result.message
    assert result.nama_file == f"{NIP_BUDI}_SK_CPNS.pdf"
    (dok,) = dokumen_of(store)
    assert dok.usulan_id == usulan_of(store, NIP_BUDI).id
    assert (dok.kode, dok.sha256, dok.state) == ("SK_CPNS", result.sha256, "ada")
    # What intake read travels with the dokumen (the BKD is warned of another NIP).
    assert (dok.nip_terbaca, dok.kode_terbaca) == (NIP_BUDI, "SK_CPNS")
    assert blobs.verify(result.sha256)
    # The original moved to diproses/, keeping its subfolder.
    assert not src.exists()
    assert result.moved_to == scans / "diproses" / NIP_BUDI / "sk cpns.jpg"
    assert result.moved_to.exists()
    with store.read() as session:
        assert session.get(Blob, result.sha256) is not None
        tables = {e.table_name for e in session.exec(select(OutboxEntry))}
    assert "dokumen" in tables  # synced through Store.write()


def scans_jpeg(path: Path, seed: int = 0, quality: int = 80) -> Path:
    return scans.jpeg_scan(path, dpi=150, seed=seed, quality=quality)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("scan0001.jpg", "NIP dan jenis dokumen tidak terbaca"),
        ("sk cpns.jpg", "NIP tidak terbaca"),
        (f"{NIP_BUDI}.jpg", "jenis dokumen tidak terbaca"),
        (f"{NIP_UNKNOWN}_SK_CPNS.jpg", f"tidak ada pegawai dengan NIP {NIP_UNKNOWN}"),
        (f"{NIP_SITI}_SK_CPNS.jpg", "belum ada usulan terbuka"),
        (f"{NIP_BUDI}_KTP.jpg", "belum ada usulan terbuka"),  # KTP is not in a KP checklist
    ],
)
def test_partial_or_unknown_goes_to_inbox(
    service: IntakeService, store: Store, scans: Path, name: str, reason: str
) -> None:
    result = service.process_file(scans_jpeg(scans / name))
    assert result.status is IntakeStatus.INBOX
    (item,) = inbox_of(store)
    assert reason in item.reason
    assert item.original_name == name
    assert item.state == "menunggu" and item.sha256 == result.sha256
    assert not dokumen_of(store)


def test_same_content_twice_is_stored_once_and_reported(
    service: IntakeService, store: Store, blobs: BlobStore, scans: Path
) -> None:
    first = service.process_file(scans_jpeg(scans / f"{NIP_BUDI}_SK_PNS.jpg"))
    again = scans_jpeg(scans / "lagi" / f"{NIP_BUDI} sk pns.jpg")
    second = service.process_file(again)
    assert first.status is IntakeStatus.FILED
    assert second.status is IntakeStatus.DUPLICATE and second.duplicate
    assert second.sha256 == first.sha256
    assert "tidak disimpan dua kali" in second.message
    assert len(dokumen_of(store)) == 1
    assert len(list(blobs.stored())) == 1
    assert second.moved_to is not None and second.moved_to.exists()  # not lost

    # The same content twice in the Inbox is one item.
    third = service.process_file(scans_jpeg(scans / "a.jpg", seed=5))
    fourth = service.process_file(scans_jpeg(scans / "b.jpg", seed=5))
    assert (third.status, fourth.status) == (IntakeStatus.INBOX, IntakeStatus.DUPLICATE)
    assert len(inbox_of(store)) == 1


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (scans.zero_byte_file, "kosong"),
        (scans.encrypted_pdf, "kata sandi"),
        (scans.truncated_pdf, "rusak"),
        (scans.not_a_scan, "tidak didukung"),
        (scans.huge_pixel_png, "bom dekompresi"),
        (lambda p: scans.many_pages_pdf(p, 201), "Terlalu banyak halaman"),
    ],
    ids=["kosong", "terenkripsi", "terpotong", "bukan-pindaian", "bom", "201-halaman"],
)
def test_bad_file_goes_to_quarantine_with_reason(
    service: IntakeService,
    store: Store,
    scans: Path,
    make,
    words,  # type: ignore[no-untyped-def]
) -> None:
    src = scans / NIP_BUDI / "sk cpns.pdf"
    src.parent.mkdir()
    make(src)
    result = service.process_file(src)
    assert result.status is IntakeStatus.QUARANTINED
    quarantined = scans / "karantina" / NIP_BUDI / "sk cpns.pdf"
    assert result.moved_to == quarantined and quarantined.exists() and not src.exists()
    note = (scans / "karantina" / NIP_BUDI / "sk cpns.pdf.alasan.txt").read_text(encoding="utf-8")
    assert words in note and f"{NIP_BUDI}/sk cpns.pdf" in note
    assert not dokumen_of(store) and not inbox_of(store)


def test_unreadable_file_is_quarantined(
    service: IntakeService, scans: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = scans_jpeg(scans / "rahasia.jpg")
    src.chmod(0)
    if os.name != "posix" or os.geteuid() == 0:  # root reads anything: refuse it by hand
        real_open = Path.open

        def refuse(self: Path, *args: object, **kw: object):  # type: ignore[no-untyped-def]
            if self == src:
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *args, **kw)  # type: ignore[arg-type]

        monkeypatch.setattr(Path, "open", refuse)
    result = service.process_file(src)
    assert result.status is IntakeStatus.QUARANTINED
    assert "izin akses" in result.message


def test_store_failure_keeps_the_original(
    service: IntakeService, store: Store, scans: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from store.errors import StoreError

    src = scans_jpeg(scans / f"{NIP_BUDI}_SK_CPNS.jpg")

    def broken(*_a: object, **_k: object) -> None:
        raise StoreError("Disk penuh.", "ENOSPC")

    monkeypatch.setattr("client.intake.service.file_stored", broken)
    result = service.process_file(src)
    assert result.status is IntakeStatus.FAILED
    assert src.exists() and not (scans / "diproses").exists()
    monkeypatch.undo()
    assert service.process_file(src).status is IntakeStatus.FILED


def test_original_survives_a_crash_between_normalising_and_committing(
    tmp_path: Path, store: Store, scans: Path
) -> None:
    """A real process dies (os._exit) right after conversion, before the commit."""
    src = scans_jpeg(scans / f"{NIP_BUDI}_SK_CPNS.jpg")
    before = src.read_bytes()
    db = store.path
    store.close()
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from client.intake.normalise import normalise
        from client.intake.service import IntakeService
        from client.intake.settings import IntakeSettings
        from store.blobs import BlobStore
        from store.database import open_store
        from tests.client.intake.conftest import XorCipher

        def crash(self, source):
            os._exit(17)  # power cut after normalising, before the blob commit

        class InlinePool:  # convert in this process: nothing outlives the crash
            def convert(self, job):
                return normalise(job)

        BlobStore.put = crash
        if __name__ == "__main__":
            store = open_store(Path({str(db)!r}))
            blobs = BlobStore(Path({str(tmp_path / "data" / "blobs")!r}), XorCipher())
            settings = IntakeSettings(scan_folders=[Path({str(scans)!r})], workers=1)
            service = IntakeService(store, blobs, settings, pool=InlinePool())
            service.process_file(Path({str(src)!r}))
        """
    )
    (tmp_path / "crash.py").write_text(script)
    repo = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, str(tmp_path / "crash.py")],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
        timeout=60,
        capture_output=True,
    )
    assert done.returncode == 17, done.stderr.decode()[-2000:]
    assert src.read_bytes() == before
    assert not (scans / "diproses").exists()


def test_processed_action_delete(
    store: Store,
    blobs: BlobStore,
    settings,
    pool,
    scans: Path,  # type: ignore[no-untyped-def]
) -> None:
    settings.processed_action = ProcessedAction.DELETE
    with IntakeService(store, blobs, settings, pool=pool) as svc:
        src = scans_jpeg(scans / f"{NIP_BUDI}_SK_CPNS.jpg")
        result = svc.process_file(src)
    assert result.status is IntakeStatus.FILED
    assert not src.exists() and result.moved_to is None and not (scans / "diproses").exists()


def test_assign_inbox_item_files_it_and_reshrinks_to_the_kind_limit(
    service: IntakeService, store: Store, scans: Path
) -> None:
    src = scans / "tanpa nama.pdf"
    pdf_scan(src, pages=3, quality=90)
    result = service.process_file(src)
    assert result.status is IntakeStatus.INBOX and result.size_after <= 1_048_576
    (item,) = inbox_of(store)
    # An inbox copy is kept to the default limit; assigning to a smaller one re-shrinks it.
    dokumen = service.assign_inbox_item(item.id, "19680411 199303 1 009", "SKP")
    assert dokumen.kode == "SKP" and dokumen.nama_file == f"{NIP_BUDI}_SKP.pdf"
    assert (dokumen.nip_terbaca, dokumen.kode_terbaca) == ("", "")  # nothing was read on it
    (after,) = inbox_of(store)
    assert after.state == "diproses"
    with pytest.raises(IntakeError):
        service.assign_inbox_item(item.id, NIP_BUDI, "SKP")


def test_assign_refuses_without_open_usulan(
    service: IntakeService, store: Store, scans: Path
) -> None:
    service.process_file(scans_jpeg(scans / "x.jpg"))
    (item,) = inbox_of(store)
    with pytest.raises(IntakeError, match="usulan terbuka"):
        service.assign_inbox_item(item.id, NIP_SITI, "SK_CPNS")
    with pytest.raises(IntakeError, match="tidak dikenal"):
        service.assign_inbox_item(item.id, NIP_BUDI, "BUKAN_KODE")


def test_discard_inbox_item_writes_it_to_quarantine(
    service: IntakeService, store: Store, blobs: BlobStore, scans: Path
) -> None:
    service.process_file(scans_jpeg(scans / "buram.jpg"))
    (item,) = inbox_of(store)
    copy = service.discard_inbox_item(item.id, "Pindaian buram, ulangi")
    assert copy == scans / "karantina" / "buram.pdf"
    assert copy.read_bytes()[:5] == b"%PDF-"
    assert "Pindaian buram" in (scans / "karantina" / "buram.pdf.alasan.txt").read_text("utf-8")
    (after,) = inbox_of(store)
    assert after.state == "dibuang" and after.reason == "Pindaian buram, ulangi"


def test_run_folder_summary(service: IntakeService, scans: Path) -> None:
    scans_jpeg(scans / NIP_BUDI / "sk cpns.jpg", seed=1)
    scans_jpeg(scans / NIP_BUDI / "sk pns.jpg", seed=2)
    scans_jpeg(scans / "scan0001.jpg", seed=3)
    scans_jpeg(scans / "salinan" / "scan0001.jpg", seed=3)
    (scans / "kosong.pdf").write_bytes(b"")
    (scans / "Thumbs.db").write_bytes(b"x")
    old = time.time() - 60
    for path in scans.rglob("*"):
        os.utime(path, (old, old))
    seen: list[int] = []
    summary = service.run_folder(scans, lambda done, total, _r: seen.append(done))
    assert (summary.taken, summary.filed, summary.inbox) == (5, 2, 1)
    assert (summary.quarantined, summary.duplicates, summary.failed) == (1, 1, 0)
    assert summary.bytes_before > 0 and summary.bytes_after > 0
    assert seen[0] == 0 and seen[-1] == 5
    assert (scans / "Thumbs.db").exists()

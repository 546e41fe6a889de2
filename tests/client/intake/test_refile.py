"""The Kotak masuk tried again: a scan that waited only for an usulan is filed once one
opens; a scan waiting for a person's decision is never filed behind their back."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from client.intake.filing import NO_OPEN_USULAN, NO_PEGAWAI, file_stored
from client.intake.naming import Recognition
from client.intake.results import IntakeStatus
from client.intake.service import IntakeService
from store.blobs import BlobStore
from store.database import Store
from store.models import Dokumen, InboxItem, Pegawai
from store.usulan import create_usulan, live_dokumen
from tests.client.intake.conftest import usulan_of
from tests.support.scans import NIP_BUDI, NIP_SITI, NIP_UNKNOWN, jpeg_scan


def _item(store: Store, item_id: str) -> InboxItem:
    with store.read() as session:
        item = session.get(InboxItem, item_id)
        assert item is not None
        return item


def test_only_scans_waiting_for_an_usulan_are_filed_once_it_opens(
    service: IntakeService, store: Store, blobs: BlobStore, scans: Path
) -> None:
    # Siti has no usulan yet: her SK CPNS (name says all) waits for one.
    waiting = service.process_file(jpeg_scan(scans / f"{NIP_SITI}_SK_CPNS.jpg", dpi=150))
    assert waiting.status is IntakeStatus.INBOX
    assert _item(store, waiting.inbox_id).reason.startswith(NO_OPEN_USULAN)
    # A suggestion read from a page waits for a person even though NIP and kind are known.
    suggested = file_stored(
        store,
        blobs.put(jpeg_scan(scans / "x" / "a.jpg", dpi=150, seed=3)),
        pages=1,
        terlalu_besar=False,
        found=Recognition("scan0007.jpg", NIP_SITI, "SK_PNS"),
        hold="Dikenali dari isi: NIP 19750214 200003 2 001, SK PNS; periksa lalu terima",
    ).inbox
    assert suggested is not None
    # Budi's usulan already holds an SK CPNS: another one waits as "pengganti?".
    filed = service.process_file(jpeg_scan(scans / f"{NIP_BUDI}_SK_CPNS.jpg", dpi=150, seed=1))
    assert filed.status is IntakeStatus.FILED
    again = jpeg_scan(scans / "lagi" / f"{NIP_BUDI}_SK_CPNS.jpg", dpi=150, seed=2)
    pengganti = service.process_file(again)
    assert pengganti.status is IntakeStatus.INBOX
    assert _item(store, pengganti.inbox_id).reason.startswith("pengganti?")

    # Nothing opened yet: nothing moves.
    assert service.refile_waiting() == []

    with store.write() as session:
        siti = session.exec(select(Pegawai).where(Pegawai.nip == NIP_SITI)).one()
        create_usulan(session, siti, "kp", "reguler")
    (refiled,) = service.refile_waiting()
    siti_usulan = usulan_of(store, NIP_SITI)
    assert (refiled.usulan_id, refiled.kode, refiled.replaced) == (siti_usulan.id, "SK_CPNS", "")
    with store.read() as session:
        (dokumen,) = live_dokumen(session, siti_usulan.id)
        assert (dokumen.kode, dokumen.sha256) == ("SK_CPNS", waiting.sha256)
        assert dokumen.nama_file == refiled.nama_file == f"{NIP_SITI}_SK_CPNS.pdf"
    assert _item(store, waiting.inbox_id).state == "diproses"
    # The ones waiting for a decision are left exactly as they were.
    assert _item(store, suggested.id).state == "menunggu"
    assert _item(store, pengganti.inbox_id).state == "menunggu"
    with store.read() as session:
        budi_lines = [d for d in live_dokumen(session, usulan_of(store, NIP_BUDI).id)]
        assert [d.sha256 for d in budi_lines] == [filed.sha256]
        assert session.exec(select(Dokumen).where(Dokumen.sha256 == suggested.sha256)).all() == []
    # A second pass finds nothing to do (idempotent).
    assert service.refile_waiting() == []


def test_a_line_filled_meanwhile_turns_the_wait_into_pengganti(
    service: IntakeService, store: Store, scans: Path
) -> None:
    waiting = service.process_file(jpeg_scan(scans / f"{NIP_SITI}_SKP.jpg", dpi=150, seed=4))
    assert waiting.status is IntakeStatus.INBOX
    with store.write() as session:
        siti = session.exec(select(Pegawai).where(Pegawai.nip == NIP_SITI)).one()
        create_usulan(session, siti, "kp", "reguler")
    # Before the inbox is tried again, another SKP scan is filed on the new usulan.
    other = service.process_file(jpeg_scan(scans / "b" / f"{NIP_SITI}_SKP.jpg", dpi=150, seed=5))
    assert other.status is IntakeStatus.FILED
    assert service.refile_waiting() == []
    item = _item(store, waiting.inbox_id)
    assert item.state == "menunggu" and item.reason.startswith("pengganti? SKP")
    with store.read() as session:
        (dokumen,) = live_dokumen(session, usulan_of(store, NIP_SITI).id)
        assert dokumen.sha256 == other.sha256
    assert service.refile_waiting() == []  # now it waits for a person: not tried again


def test_a_nip_no_pegawai_had_waits_for_the_pegawai_then_for_an_usulan(
    service: IntakeService, store: Store, scans: Path
) -> None:
    from store.pegawai import upsert_pegawai
    from tests.client.intake.conftest import _pegawai

    waiting = service.process_file(jpeg_scan(scans / f"{NIP_UNKNOWN}_SK_CPNS.jpg", dpi=150))
    assert _item(store, waiting.inbox_id).reason.startswith(NO_PEGAWAI)
    with store.write() as session:  # the pegawai arrives (imported, or pulled by a sync)
        upsert_pegawai(session, _pegawai(NIP_UNKNOWN, "Dewi Lestari"))
    assert service.refile_waiting() == []
    item = _item(store, waiting.inbox_id)
    assert item.state == "menunggu" and item.reason.startswith(NO_OPEN_USULAN)
    with store.write() as session:
        dewi = session.exec(select(Pegawai).where(Pegawai.nip == NIP_UNKNOWN)).one()
        create_usulan(session, dewi, "kp", "reguler")
    (refiled,) = service.refile_waiting()
    assert refiled.nama_file == f"{NIP_UNKNOWN}_SK_CPNS.pdf"
    assert _item(store, waiting.inbox_id).state == "diproses"


def test_a_failure_before_the_commit_leaves_the_scan_waiting(
    service: IntakeService, store: Store, scans: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import client.intake.filing as filing
    from store.errors import StoreError

    waiting = service.process_file(jpeg_scan(scans / f"{NIP_SITI}_SK_CPNS.jpg", dpi=150))
    with store.write() as session:
        siti = session.exec(select(Pegawai).where(Pegawai.nip == NIP_SITI)).one()
        create_usulan(session, siti, "kp", "reguler")
    real = filing.attach_dokumen

    def written_then_cut(*args: object, **kwargs: object) -> Dokumen:
        real(*args, **kwargs)  # type: ignore[arg-type]
        raise StoreError("disk hilang", "cut after the dokumen row, before the commit")

    monkeypatch.setattr(filing, "attach_dokumen", written_then_cut)
    with pytest.raises(StoreError):
        service.refile_waiting()
    assert _item(store, waiting.inbox_id).state == "menunggu"
    with store.read() as session:
        assert live_dokumen(session, usulan_of(store, NIP_SITI).id) == []
    monkeypatch.setattr(filing, "attach_dokumen", real)
    (refiled,) = service.refile_waiting()
    assert refiled.kode == "SK_CPNS"
    assert _item(store, waiting.inbox_id).state == "diproses"

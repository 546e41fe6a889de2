"""What the TUI added to BerkasClient: inbox, conflicts, uploads, choices."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pikepdf
import pytest
from sqlmodel import col, select

from client.config import load_config, save_config
from client.errors import BerkasError
from client.services import BerkasClient
from store.models import Blob, Conflict, InboxItem, OutboxEntry, Pegawai
from tests.tui.support import Facts, make_pdf
from tui.sync_port import NOT_REGISTERED, OFFLINE, EngineSyncPort, OfflineSyncPort


def test_attach_file_refuses_a_broken_scan_with_the_reason(
    client: BerkasClient, facts: Facts, tmp_path: Path
) -> None:
    """A picture is converted as intake would; a broken one is refused at once."""
    picture = tmp_path / "sk.jpg"
    picture.write_bytes(b"\xff\xd8\xff\xe0not really a jpeg")
    with pytest.raises(BerkasError, match="JPEG rusak"):
        client.attach_file(facts.kp_usulan_id, "SK_JABATAN", picture)


def test_attach_file_stores_encrypted_with_the_device_keys(
    client: BerkasClient, facts: Facts, tmp_path: Path
) -> None:
    """Without a blob store handed in, the client opens the real one (sync's cipher)."""
    client = BerkasClient(client.paths, client.store, client.config, client.rules)
    line = client.attach_file(
        facts.kp_usulan_id, "SK_JABATAN", make_pdf(tmp_path / "a.pdf", ("SK JABATAN",))
    )
    assert (line.state, line.pages) == ("ada", 2)
    upload = client.pending_uploads()[-1]
    assert upload.name == f"{facts.kp_pegawai_nip}_SK_JABATAN.pdf"
    on_disk = client.paths.blobs / upload.sha256[:2] / f"{upload.sha256}.blob"
    assert b"%PDF" not in on_disk.read_bytes()  # encrypted at rest
    detail = client.usulan_detail(facts.kp_usulan_id)
    assert next(x for x in detail.checklist if x.kode == "SK_JABATAN").state == "ada"


def test_attach_file_brings_a_file_over_the_limit_under_it(
    client: BerkasClient, facts: Facts, tmp_path: Path
) -> None:
    """Attaching by path normalises as intake does (issue 15 item 2): nothing over its
    kind's limit is stored or queued for a server that would refuse it."""
    big = tmp_path / "besar.pdf"
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.Root.Padding = pdf.make_stream(b"\0" * 1_200_000)  # over SK_JABATAN's 1 MB
    pdf.save(big, compress_streams=False)
    line = client.attach_file(facts.kp_usulan_id, "SK_JABATAN", big)
    assert (line.state, line.pages) == ("ada", 1)
    upload = client.pending_uploads()[-1]
    assert upload.name == f"{facts.kp_pegawai_nip}_SK_JABATAN.pdf"
    with client.store.read() as session:
        stored = session.get(Blob, upload.sha256)
        assert stored is not None and stored.pages == 1 and not stored.uploaded
        assert stored.size <= 1_048_576 < big.stat().st_size


def test_inbox_preview_without_text_or_blob_store(
    client: BerkasClient, facts: Facts, tmp_path: Path
) -> None:
    scan = tmp_path / "scan.pdf"
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(scan)
    stored = client.blobs.put(scan)
    with client.store.write() as session:
        session.add(Blob(sha256=stored.sha256, size=stored.size, cipher_size=stored.cipher_size))
        item = InboxItem(sha256=stored.sha256, original_name="scan.pdf", pages=1, size=stored.size)
        session.add(item)
    preview = client.inbox_preview(item.id)
    assert (preview.pages, preview.text_lines) == (1, [])
    assert "tidak memiliki lapisan teks" in preview.note
    # The fixture's blob was stored in plain text: the real cipher cannot open it.
    client = BerkasClient(client.paths, client.store, client.config, client.rules)
    assert "tidak dapat dibuka" in client.inbox_preview(facts.inbox_text_item_id).note


def test_inbox_assign_and_discard_refuse_what_cannot_be_done(
    client: BerkasClient, facts: Facts
) -> None:
    nobody = next(p for p in client.search_pegawai("", limit=50) if p.nip != facts.kp_pegawai_nip)
    # Intake's own checks and words (client.intake.IntakeService), as ClientErrors.
    with pytest.raises(BerkasError, match="Belum ada usulan terbuka"):
        client.assign_inbox_item(facts.inbox_kp_item_id, nobody.nip, "SK_PANGKAT")
    with pytest.raises(BerkasError, match="Tidak ada pegawai dengan NIP"):
        client.assign_inbox_item(facts.inbox_kp_item_id, "199001012020011001", "SK_PANGKAT")
    with pytest.raises(BerkasError, match="tidak dikenal"):
        client.assign_inbox_item(facts.inbox_kp_item_id, facts.kp_pegawai_nip, "BUKAN_KODE")
    # Its scan is not in the blob store (the fixture made only the record): intake
    # cannot put a copy into quarantine, so it refuses and the item keeps waiting.
    with pytest.raises(BerkasError, match="tidak ditemukan di penyimpanan lokal"):
        client.discard_inbox_item(facts.inbox_kp_item_id, "duplikat")
    assert facts.inbox_kp_item_id in [i.id for i in client.list_inbox()]
    copy = client.discard_inbox_item(facts.inbox_text_item_id, "duplikat")
    assert copy is not None and copy.read_bytes().startswith(b"%PDF")
    with pytest.raises(BerkasError, match="sudah dibuang"):
        client.discard_inbox_item(facts.inbox_text_item_id, "lagi")
    with pytest.raises(BerkasError, match="sudah dibuang"):
        client.assign_inbox_item(facts.inbox_text_item_id, facts.kp_pegawai_nip, "SK_PANGKAT")
    assert [i.id for i in client.list_inbox(state="dibuang")] == [facts.inbox_text_item_id]


def test_dokumen_choices_put_missing_first(client: BerkasClient, facts: Facts) -> None:
    choices = client.dokumen_choices(facts.kp_pegawai_nip)
    states = [c.state for c in choices]
    assert states == sorted(states, key=["kurang", "dikembalikan", "terlalu_besar", "ada"].index)
    assert {c.kode for c in choices if c.state == "ada"} == {"SKP", "IJAZAH"}
    pensiun = client.usulan_detail(facts.bts_usulan_id).usulan.periode
    assert pensiun is not None and date(2026, 2, 1) < pensiun <= date(2027, 4, 1)
    assert client.usulan_periods() == [pensiun, date(2026, 2, 1)]  # newest first


def test_resolving_with_an_edited_date_and_refusals(client: BerkasClient, facts: Facts) -> None:
    with client.store.apply_remote() as session:
        session.add(
            Conflict(
                id="k-tmt",
                table_name="pegawai",
                record_id=facts.conflict_pegawai_id,
                field="tmt_pangkat",
                base="2020-04-01",
                mine="2022-04-01",
                theirs="2022-10-01",
            )
        )
    with pytest.raises(BerkasError, match="tidak sesuai"):
        client.resolve_conflict("k-tmt", "edit", "1 April 2022")
    with pytest.raises(BerkasError, match="Pilihan tidak dikenal"):
        client.resolve_conflict("k-tmt", "keduanya")
    with pytest.raises(BerkasError, match="data yang sama"):
        client.resolve_conflicts({"k-tmt": ("mine", None), "k-003": ("mine", None)})
    client.resolve_conflict("k-tmt", "edit", "2022-06-01")
    with client.store.read() as session:
        pegawai = session.get(Pegawai, facts.conflict_pegawai_id)
        assert pegawai is not None and pegawai.tmt_pangkat == date(2022, 6, 1)
        entry = session.exec(
            select(OutboxEntry)
            .where(OutboxEntry.record_id == facts.conflict_pegawai_id)
            .order_by(col(OutboxEntry.seq).desc())
        ).first()
        assert entry is not None and entry.resolves == ["k-tmt"]
        assert entry.changes["tmt_pangkat"]["new"] == "2022-06-01"
    with pytest.raises(BerkasError, match="sudah diselesaikan"):
        client.resolve_conflict("k-tmt", "mine")
    assert client.count_conflicts() == 3


def test_offline_port_reports_from_the_store(client: BerkasClient, facts: Facts) -> None:
    port = OfflineSyncPort(client)
    status = port.state()
    assert (status.online, status.state_label) == (None, NOT_REGISTERED)
    assert status.pending_ops == client.pending_ops() > 0
    assert status.upload_total > status.upload_sent > 0
    assert not port.sync_now().ok
    with client.store.apply_remote() as session:
        entry = session.exec(select(OutboxEntry).limit(1)).one()
        entry.last_error = "Server BKD tidak menjawab; dicoba lagi nanti."
        entry.attempts = 3
        session.add(entry)
    config = load_config(client.paths.config)
    config.server_url = "https://bkd.example.go.id"
    save_config(client.paths.config, config)
    client.config = config
    status = port.state()
    assert (status.online, status.state_label) == (False, OFFLINE)
    assert status.recent_errors == ["Server BKD tidak menjawab; dicoba lagi nanti. (dicoba 3 kali)"]


def test_engine_port_reads_the_link_state_the_engine_left(
    client: BerkasClient, facts: Facts
) -> None:
    port = EngineSyncPort(client)
    status = port.state()
    assert (status.online, status.state_label) == (None, NOT_REGISTERED)
    assert "belum terdaftar" in port.sync_now().message
    # Enrolled (the engine's server facts are saved), last attempt failed offline.
    from sync.engine import Keyring, ServerFacts

    saved = dict.fromkeys(ServerFacts.__dataclass_fields__, "x")
    Keyring(client.paths.keys).save_facts(ServerFacts(**{**saved, "extra": {}}))
    client.store.set_meta("state", "offline")
    client.store.set_meta("last_sync", "2026-01-05T02:00:00+00:00")
    client.store.set_meta("last_error", "Server BKD tidak terjangkau; dicoba lagi nanti.")
    status = port.state()
    assert status.online is False
    assert status.state_label == "Luring (server tidak terjangkau)"
    assert status.last_sync is not None and status.last_sync.hour == 2
    assert status.recent_errors[0] == "Server BKD tidak terjangkau; dicoba lagi nanti."


def test_enrolled_means_the_same_to_the_tui_and_to_berkas_status(client: BerkasClient) -> None:
    """One definition of "enrolled": the server facts `berkas enrol` saved can be read.
    (The TUI used to look for the file alone, so a damaged one read as enrolled.)"""
    from client import sync_service

    assert not client.sync_status().enrolled
    assert not sync_service.status(client.paths).enrolled
    client.paths.keys.mkdir(parents=True, exist_ok=True)
    (client.paths.keys / "server.json").write_text("{rusak", encoding="utf-8")
    assert not client.sync_status().enrolled
    assert not sync_service.status(client.paths).enrolled
    assert client.sync_status().state == sync_service.status(client.paths).state
    assert client.sync_status().state == "belum_terdaftar"


def test_scan_of_another_pegawai_needs_confirmation_recorded_in_history(
    client: BerkasClient, facts: Facts
) -> None:
    """Issue 15 item 5: a scan whose NIP is the KP pegawai's, attached to another
    pegawai's usulan, is refused until confirmed; the confirmation is in the history."""
    from client.kotak_masuk import NeedsConfirmation

    usulan_id = facts.bts_usulan_id  # another pegawai's usulan (pensiun, taken back)
    kode = next(li.kode for li in client.usulan_detail(usulan_id).checklist if not li.dokumen_id)
    with pytest.raises(NeedsConfirmation, match="bukan NIP pegawai usulan ini"):
        client.attach_inbox_item(facts.inbox_kp_item_id, usulan_id, kode)
    assert (
        next(li for li in client.usulan_detail(usulan_id).checklist if li.kode == kode).dokumen_id
        is None
    )

    client.attach_inbox_item(facts.inbox_kp_item_id, usulan_id, kode, confirmed=True)
    detail = client.usulan_detail(usulan_id)
    assert next(li for li in detail.checklist if li.kode == kode).dokumen_id is not None
    assert any("atas konfirmasi" in h.alasan for h in detail.history)


def test_conflict_title_prints_the_nip_as_on_an_sk(client: BerkasClient, facts: Facts) -> None:
    """The Konflik screen and `konflik daftar` name a pegawai with the NIP spaced as
    everywhere else ("19680411 199303 1 009"), not as 18 digits in a row."""
    with client.store.read() as session:
        pegawai = session.get(Pegawai, facts.conflict_pegawai_id)
        assert pegawai is not None
    digits = pegawai.nip
    spaced = f"{digits[:8]} {digits[8:14]} {digits[14]} {digits[15:]}"
    titles = [r.title for r in client.list_conflicts() if r.record_id == pegawai.id]
    assert titles == [f"Pegawai {pegawai.nama} ({spaced})"]


def test_summary_names_statuses_in_words(
    client: BerkasClient, facts: Facts, capsys: pytest.CaptureFixture[str]
) -> None:
    """`berkas ringkasan` and `make demo` print the statuses as the TUI names them."""
    from client.cli import print_summary

    print_summary(client, date(2026, 12, 6))
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("Usulan per"))
    assert "Draf" in line and "draft" not in line

"""A real Berkas home for TUI tests: sample pegawai, usulan in every dokumen state,
scans waiting in the inbox (one a real PDF with a text layer), unfinished uploads
and conflicts, all with fixed times so snapshots stay stable."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

import pikepdf
from sqlmodel import select
from textual.pilot import Pilot
from textual.screen import ModalScreen
from textual.worker import WorkerCancelled, WorkerFailed

from client.cli_support import save_default_config
from client.paths import Paths, resolve_paths
from client.sample_data import SamplePegawai, generate_pegawai
from client.services import BerkasClient
from store import usulan as wf
from store.blobs import BlobStore
from store.database import remember_device_names
from store.models import Blob, Conflict, InboxItem, Pegawai, Usulan, UsulanHistory
from store.pegawai import PegawaiInput, upsert_pegawai
from store.rules import KpJenis, kp_eligibility, next_kp_period, pensiun_due

TODAY = date(2026, 1, 5)  # inside the 15 Dec - 15 Jan window of KP TMT 1 Feb 2026
PEGAWAI_COUNT = 150
PDF_TEXT = ("SURAT KEPUTUSAN BUPATI", "Nomor: 823.3/045/BKPSDM/2024", "Kenaikan Pangkat")


class PlainCipher:
    """The blob store's cipher seam, without encryption (tests only)."""

    def encrypt(self, src: BinaryIO, dst: BinaryIO) -> int:
        return _copy(src, dst)

    def decrypt(self, src: BinaryIO, dst: BinaryIO) -> int:
        return _copy(src, dst)


def _copy(src: BinaryIO, dst: BinaryIO) -> int:
    total = 0
    while chunk := src.read(1 << 16):
        dst.write(chunk)
        total += len(chunk)
    return total


@dataclass(frozen=True)
class Facts:
    """What the fixture made, for tests to find it again."""

    kp_pegawai_nip: str  # has usulan KP (draft, some dokumen)
    kp_pegawai_nama: str
    kp_usulan_id: str
    bts_usulan_id: str  # pensiun, returned by the BKD with notes
    conflict_pegawai_id: str
    inbox_kp_item_id: str  # recognised: the KP pegawai's SK_PANGKAT
    inbox_text_item_id: str  # a real PDF with a text layer, nothing recognised
    search_name: str  # a surname that finds a few pegawai


def make_pdf(path: Path, lines: tuple[str, ...] = PDF_TEXT, pages: int = 2) -> Path:
    """A small real PDF whose first page has a text layer."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    body = (
        b"BT /F1 14 Tf 72 760 Td "
        + b" 0 -22 Td ".join(b"(" + line.encode("latin-1") + b") Tj" for line in lines)
        + b" ET"
    )
    for index in range(pages):
        page = pikepdf.Dictionary(
            Type=pikepdf.Name.Page,
            MediaBox=[0, 0, 595, 842],
            Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
            Contents=pdf.make_stream(body if index == 0 else b""),
        )
        pdf.pages.append(pikepdf.Page(page))
    pdf.save(path)
    return path


def _sha(n: int) -> str:
    return f"{n:064x}"


def build_home(root: Path) -> tuple[Paths, Facts]:
    """Build the test home under `root` (takes a second or two; copy it per test)."""
    paths = resolve_paths(root)
    save_default_config(paths, "DISDIK", "Ani")
    client = BerkasClient.open(paths)
    try:
        return paths, _fill(client, paths)
    finally:
        client.close()


def _cast(people: list[SamplePegawai]) -> tuple[PegawaiInput, PegawaiInput, PegawaiInput]:
    """Who plays which part: the KP usulan for someone due for KP, the pensiun usulan for
    someone the BUP reaches within 15 months (as an OPD would make them)."""
    period = next_kp_period(TODAY)
    data = [person.data for person in people]
    kp = next(
        p
        for p in data
        if kp_eligibility(
            golongan=p.golongan,
            tmt_pangkat=p.tmt_pangkat,
            pendidikan=p.pendidikan,
            period_tmt=period.tmt,
            jenis=KpJenis.REGULER,
        ).eligible
    )
    pensiun = next(
        p
        for p in data
        if p.tanggal_lahir is not None and pensiun_due(p.tanggal_lahir, p.jenis_jabatan, TODAY)
    )
    other = next(p for p in data if p not in (kp, pensiun))
    return kp, pensiun, other


def _fill(client: BerkasClient, paths: Paths) -> Facts:
    people = generate_pegawai(PEGAWAI_COUNT, today=TODAY, opds=("DISDIK",))
    with client.store.write() as session:
        for person in people:
            upsert_pegawai(session, person.data)
    p_kp, p_bts, p_conflict = _cast(people)
    kp_pegawai = client.pegawai_by_nip(p_kp.nip)
    bts_pegawai = client.pegawai_by_nip(p_bts.nip)
    conflict_pegawai = client.pegawai_by_nip(p_conflict.nip)
    assert kp_pegawai and bts_pegawai and conflict_pegawai

    kp = client.create_usulan(kp_pegawai.id, "kp", "reguler", today=TODAY)
    client.attach_stored(kp.id, "SKP", sha256=_sha(1), size=820_000, pages=4, terlalu_besar=False)
    client.attach_stored(
        kp.id, "IJAZAH", sha256=_sha(2), size=310_000, pages=1, terlalu_besar=False
    )
    bts = client.create_usulan(bts_pegawai.id, "pensiun", "bup", today=TODAY)
    client.attach_stored(bts.id, "DPCP", sha256=_sha(3), size=640_000, pages=3, terlalu_besar=False)
    client.attach_stored(bts.id, "KP4", sha256=_sha(4), size=150_000, pages=1, terlalu_besar=False)
    client.attach_stored(
        bts.id, "SK_CPNS", sha256=_sha(5), size=1_700_000, pages=2, terlalu_besar=True
    )

    blobs = BlobStore(paths.blobs, PlainCipher())
    text_pdf = make_pdf(paths.data / "contoh.pdf")
    stored = blobs.put(text_pdf)
    text_pdf.unlink()
    with client.store.write() as session:
        # SKP is on the server already; IJAZAH is part-way; DPCP not started.
        for n, size, offset in ((1, 820_000, 820_300), (2, 310_000, 120_000), (3, 640_000, 0)):
            cipher = size + 300
            session.add(
                Blob(
                    sha256=_sha(n),
                    size=size,
                    cipher_size=cipher,
                    pages=1,
                    created_at=f"2026-01-0{n}T01:00:00+00:00",
                    upload_offset=offset,
                    uploaded=offset == cipher,
                )
            )
        session.add(
            Blob(sha256=_sha(10), size=450_000, cipher_size=450_300, created_at="2026-01-04")
        )
        session.add(
            Blob(sha256=_sha(11), size=2_600_000, cipher_size=2_600_300, created_at="2026-01-04")
        )
        session.add(
            Blob(
                sha256=stored.sha256,
                size=stored.size,
                cipher_size=stored.cipher_size,
                pages=2,
                created_at="2026-01-04",
            )
        )
        text_item = InboxItem(
            sha256=stored.sha256,
            original_name="IMG_20260104_0931.pdf",
            pages=2,
            size=stored.size,
            reason="NIP dan jenis dokumen tidak dikenali dari nama berkas",
            created_at="2026-01-04T02:31:00+00:00",
        )
        kp_item = InboxItem(
            sha256=_sha(10),
            original_name=f"{p_kp.nip} sk pangkat.pdf",
            nip=p_kp.nip,
            kode="SK_PANGKAT",
            pages=2,
            size=450_000,
            reason="Dikenali, tetapi belum dipastikan masuk usulan yang mana",
            created_at="2026-01-04T02:35:00+00:00",
        )
        session.add_all(
            [
                text_item,
                kp_item,
                InboxItem(
                    sha256=_sha(11),
                    original_name="ijazah_s1_rina.pdf",
                    kode="IJAZAH",
                    pages=6,
                    size=2_600_000,
                    terlalu_besar=True,
                    reason="NIP tidak dikenali; ukuran melebihi batas 2 MB",
                    created_at="2026-01-04T02:40:00+00:00",
                ),
            ]
        )

    # The BKD returned the pensiun usulan (as a pull from the server would bring it).
    with client.store.apply_remote() as session:
        u = session.get(Usulan, bts.id)
        assert u is not None
        u.status = "diajukan"
        session.add(u)
        wf.kembalikan(
            session,
            u,
            "KP4 tidak terbaca; SK CPNS terlalu besar, pindai ulang 150 dpi.",
            {"KP4": "Pindaian buram, ulangi dengan resolusi lebih tinggi."},
        )
    # Fixed times, so every screen renders the same each run.
    with client.store.apply_remote() as session:
        rows = list(session.exec(select(UsulanHistory)))
        # Local moves in the order they were made; the BKD's return (applied as a
        # remote change, so unstamped) last.
        rows.sort(key=lambda h: (h.updated_at == "", h.updated_at))
        for minute, row in enumerate(rows):
            row.waktu = f"2026-01-02T0{1 + minute // 60}:{minute % 60:02d}:00+00:00"
            if row.ke_status == "dikembalikan":
                row.oleh_nama = "Rudi (verifikator BKD)"
                row.oleh_perangkat = "verifikator-bkd-01"
            session.add(row)
        conflict_record = session.get(Pegawai, conflict_pegawai.id)
        assert conflict_record is not None
        conflict_record.jabatan = "Analis Kepegawaian"
        session.add(conflict_record)
        device = client.store.context.device_id
        mine_at = "1767580200000.0000.perangkat"  # 5 Jan 2026 02:30 UTC
        theirs_at = "1767583800000.0000.laptop-kasubag"  # 5 Jan 2026 03:30 UTC
        for cid, table, record, field, base, mine, theirs in (
            (
                "k-001",
                "pegawai",
                conflict_pegawai.id,
                "golongan",
                "III/c",
                conflict_record.golongan,
                "IV/a",
            ),
            (
                "k-002",
                "pegawai",
                conflict_pegawai.id,
                "jabatan",
                "Pengadministrasi Umum",
                "Analis Kepegawaian",
                "Analis SDM Aparatur",
            ),
            ("k-003", "usulan", bts.id, "catatan", "", "Menunggu KP4 asli", "KP4 sudah dikirim"),
        ):
            session.add(
                Conflict(
                    id=cid,
                    table_name=table,
                    record_id=record,
                    field=field,
                    base=base,
                    mine=mine,
                    theirs=theirs,
                    mine_by=device,
                    theirs_by="laptop-kasubag-02",
                    mine_at=mine_at,
                    theirs_at=theirs_at,
                    created_at="2026-01-05T03:31:00+00:00",
                )
            )
        remember_device_names(
            session, {device: "PC Kepegawaian (Ani)", "laptop-kasubag-02": "Laptop Kasubag (Rina)"}
        )
        usulan_bts = session.get(Usulan, bts.id)
        assert usulan_bts is not None
        usulan_bts.catatan = "Menunggu KP4 asli"
        session.add(usulan_bts)
    return Facts(
        kp_pegawai_nip=kp_pegawai.nip,
        kp_pegawai_nama=kp_pegawai.nama,
        kp_usulan_id=kp.id,
        bts_usulan_id=bts.id,
        conflict_pegawai_id=conflict_pegawai.id,
        inbox_kp_item_id=kp_item.id,
        inbox_text_item_id=text_item.id,
        search_name=kp_pegawai.nama.split()[-1],
    )


def copy_home(base: Path, target: Path) -> Paths:
    shutil.copytree(base, target)
    paths = resolve_paths(target)
    # The config names the scan folder by its absolute path: point it at the copy's.
    save_default_config(paths, "DISDIK", "Ani")
    return paths


def open_client(paths: Paths) -> BerkasClient:
    return BerkasClient.open(paths, blobs=BlobStore(paths.blobs, PlainCipher()))


async def settle(pilot: Pilot[object], rounds: int = 3) -> None:
    """Wait until every worker (loads, searches, previews) is done and the screen
    painted, and re-raise the first failure: a worker that raised fails the test
    (the App records each one it showed the person, in `failures`).

    Workers of the "dialog-" groups wait for a person while their dialog is open;
    they are waited for only once no dialog is showing."""
    app = pilot.app
    for _ in range(rounds):
        dialog_open = isinstance(app.screen, ModalScreen)
        for worker in list(app.workers):
            if dialog_open and worker.group.startswith("dialog"):
                continue
            try:
                await worker.wait()
            except WorkerFailed as failed:
                raise failed.error from failed
            except WorkerCancelled:
                pass  # replaced by a newer one (exclusive groups)
        await pilot.pause()
    raise_worker_failures(app)


def raise_worker_failures(app: object) -> None:
    """Re-raise the first worker failure the App recorded (finished workers leave
    `app.workers`, so waiting alone misses those that failed early)."""
    failures = getattr(app, "failures", [])
    if failures:
        raise failures[0].error

"""The verifikator's workstation: the queue at 2,500 submitted usulan across 40 OPDs,
the first page of a 300 dpi A4 scan shown in the viewer, and the paket BKN of 100 usulan.

Targets (issue 16): queue open and filter <= 300 ms; first page shown <= 500 ms; the
paket reports MB/s. Prints figures; asserts nothing. Data is built in a temporary folder
(the store directly, dokumen encrypted to a verifier key made here).

- Queue: `VerifikasiService.antrian` as the Antrian screen's worker calls it: open (the
  default filter), by OPD, by layanan and period, and a NIP/name search.
- First page: the real VerifikasiApp headless at 120x36 on the Pemeriksaan screen, from
  Enter on the dokumen to the page being drawn (decrypting, pypdfium2, half-blocks).
- Paket: `VerifikasiService.paket` for 100 usulan x 6 dokumen (decrypt, write 0600,
  re-hash every file, manifests).

    .venv/bin/python bench/verifier.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from client.paths import Paths, resolve_paths  # noqa: E402
from client.sample_data import generate_pegawai  # noqa: E402
from client.verifikasi_service import VerifikasiService  # noqa: E402
from client.verifikasi_views import AntrianFilter  # noqa: E402
from store.blobs import BlobStore  # noqa: E402
from store.ids import new_id  # noqa: E402
from store.models import Blob, Dokumen, Pegawai, Usulan, UsulanHistory  # noqa: E402
from sync.crypto import (  # noqa: E402
    PrivateKeySet,
    encrypt_stream,
    generate_x25519,
    save_key_file,
)
from sync.crypto import keys as crypto_keys  # noqa: E402
from sync.engine import Keyring  # noqa: E402
from tests.support.scans import pdf_scan  # noqa: E402
from tests.tui.support import make_pdf  # noqa: E402

USULAN = 2_500
OPDS = 40
PAKET_USULAN = 100
PAKET_DOKUMEN_BYTES = 150_000
KODES = ("SK_PANGKAT", "SKP", "SK_JABATAN", "PELANTIKAN_SPMT", "IJAZAH", "TRANSKRIP")
TODAY = date(2026, 11, 23)
PASSPHRASE = "bench-verifikator"
QUEUE_TARGET_MS = 300.0
PAGE_TARGET_MS = 500.0


def _encrypt(blobs: BlobStore, data: bytes, recipient: Any) -> str:
    sha = hashlib.sha256(data).hexdigest()
    path = blobs.path_for(sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        encrypt_stream(io.BytesIO(data), out, [recipient])
    return sha


def build(root: Path) -> tuple[Paths, str, str, list[str]]:
    """A verifikator home: 2,500 usulan diajukan across 40 OPDs, one with a 300 dpi scan,
    100 diteruskan with six small real PDFs each. Returns (paths, scan usulan, its SKP
    dokumen id, the paket usulan ids)."""
    paths = resolve_paths(root / "verifikator")
    key = generate_x25519()
    paths.keys.mkdir(parents=True, exist_ok=True)
    saved = crypto_keys.SCRYPT_LOG_N
    crypto_keys.SCRYPT_LOG_N = 12  # a quick unlock: the bench is not about scrypt
    try:
        save_key_file(paths.keys / "verifier.key", PrivateKeySet({"verifier": key}), PASSPHRASE)
    finally:
        crypto_keys.SCRYPT_LOG_N = saved
    service = VerifikasiService(paths, Keyring(paths.keys))
    public = key.public_key()
    opds = [f"OPD{n:02d}" for n in range(OPDS)]
    people = generate_pegawai(USULAN, today=TODAY)
    stamp = service.store.context.clock.now()
    common = {"version": 1, "updated_at": stamp, "updated_by": "bench", "deleted": False}
    pegawai_rows: list[dict[str, Any]] = []
    usulan_rows: list[dict[str, Any]] = []
    history_rows: list[dict[str, Any]] = []
    dokumen_rows: list[dict[str, Any]] = []
    blob_rows: list[dict[str, Any]] = []
    small = [make_pdf(root / f"{k}.pdf", (k, "bench"), pages=2).read_bytes() for k in KODES]
    paket_ids: list[str] = []
    scan_usulan = scan_dokumen = ""
    base = datetime(2026, 10, 1, 8, tzinfo=UTC)
    for index, p in enumerate(people[:USULAN]):
        opd = opds[index % OPDS]
        values = p.data.record_values()
        values.update(id=new_id(), opd_id=opd, riwayat_pangkat=[], **common)
        pegawai_rows.append(values)
        usulan_id = new_id()
        forwarded = index < PAKET_USULAN
        usulan_rows.append(
            {
                **common,
                "id": usulan_id,
                "opd_id": opd,
                "pegawai_id": values["id"],
                "nip": values["nip"],
                "layanan": "kp",
                "jenis": "reguler",
                "periode": date(2027, 2 if index % 2 else 4, 1),
                "status": "diteruskan" if forwarded else "diajukan",
                "catatan": "",
                "catatan_verifikator": "",
                "berlaku": [],
                "nomor_pertek": "",
                "tanggal_pertek": None,
            }
        )
        when = base + timedelta(minutes=17 * index)
        history_rows.append(
            {
                **common,
                "id": new_id(),
                "opd_id": opd,
                "usulan_id": usulan_id,
                "dari_status": "draft",
                "ke_status": "diajukan",
                "oleh_perangkat": "bench",
                "oleh_nama": "Operator",
                "waktu": when.isoformat(),
                "alasan": "",
            }
        )
        if forwarded:
            paket_ids.append(usulan_id)
        if forwarded or index == PAKET_USULAN:
            for n, kode in enumerate(KODES):
                # One blob per dokumen, about the size of a scanned page (incompressible).
                data = small[n] + b"%" + os.urandom(PAKET_DOKUMEN_BYTES) + b"\n"
                if index == PAKET_USULAN and kode == "SKP":
                    data = pdf_scan(root / "scan.pdf", pages=2, dpi=300).read_bytes()
                sha = _encrypt(service.blobs, data, public)
                blob_rows.append({"sha256": sha, "size": len(data), "pages": 2})
                dokumen_id = new_id()
                dokumen_rows.append(
                    {
                        **common,
                        "id": dokumen_id,
                        "opd_id": opd,
                        "usulan_id": usulan_id,
                        "kode": kode,
                        "sha256": sha,
                        "size": len(data),
                        "pages": 2,
                        "nama_file": f"{values['nip']}_{kode}.pdf",
                        "state": "ada",
                        "catatan_verifikator": "",
                    }
                )
                if index == PAKET_USULAN and kode == "SKP":
                    scan_usulan, scan_dokumen = usulan_id, dokumen_id
    with service.store.apply_remote() as session:
        session.execute(insert(Pegawai), pegawai_rows)
        session.execute(insert(Usulan), usulan_rows)
        session.execute(insert(UsulanHistory), history_rows)
        session.execute(insert(Dokumen), dokumen_rows)
        session.execute(insert(Blob), blob_rows)
    service.close()
    return paths, scan_usulan, scan_dokumen, paket_ids


def _ms(fn: Any, runs: int) -> tuple[float, Any]:
    times = []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def bench_queue(paths: Paths, runs: int) -> None:
    service = VerifikasiService(paths, Keyring(paths.keys))
    try:
        cases = {
            "buka antrian (diajukan, semua OPD)": AntrianFilter(),
            "saring OPD": AntrianFilter(opd="OPD07"),
            "saring layanan + periode": AntrianFilter(layanan="kp", periode=date(2027, 4, 1)),
            "cari NIP": AntrianFilter(cari="1985"),
            "cari nama": AntrianFilter(cari="sari"),
        }
        for label, filt in cases.items():
            ms, antrian = _ms(lambda f=filt: service.antrian(f, today=TODAY), runs)
            verdict = "OK" if ms <= QUEUE_TARGET_MS else "LEWAT"
            print(
                f"  {label:<36} {ms:7.1f} ms  ({len(antrian.items):>4} usulan)  "
                f"target <= {QUEUE_TARGET_MS:.0f} ms: {verdict}"
            )
    finally:
        service.close()


def bench_first_page(paths: Paths, usulan_id: str, runs: int) -> None:
    from tui.screens.verifikasi_periksa import PemeriksaanScreen
    from tui.verifikasi_app import VerifikasiApp
    from tui.widgets.viewer import DokumenViewer

    async def one() -> float:
        service = VerifikasiService(paths, Keyring(paths.keys))
        service.unlock(PASSPHRASE)
        app = VerifikasiApp(service, today=TODAY, viewer_mode="halfcell", sync_on_unlock=False)
        shown = asyncio.Event()
        async with app.run_test(size=(120, 36)) as pilot:
            screen = PemeriksaanScreen(usulan_id)
            await app.push_screen(screen)
            while screen.review is None:
                await pilot.pause(0.01)
            review = screen.review
            row = next(n for n, d in enumerate(review.dokumen) if d.kode == "SKP")
            from textual.widgets import DataTable

            screen.query_one("#checklist", DataTable).move_cursor(row=row)
            await pilot.pause()
            viewer = screen.query_one(DokumenViewer)
            viewer.on_shown = lambda _page: shown.set()
            started = time.perf_counter()
            await pilot.press("enter")
            try:
                await asyncio.wait_for(shown.wait(), 30)
            except TimeoutError:
                status = viewer.query_one("#viewer-status").render()
                raise SystemExit(f"page not shown: {status} {app.focused} {app.failures}") from None
            elapsed = (time.perf_counter() - started) * 1000
        service.close()
        return elapsed

    times = [asyncio.run(one()) for _ in range(runs)]
    ms = statistics.median(times)
    verdict = "OK" if ms <= PAGE_TARGET_MS else "LEWAT"
    print(
        f"  halaman pertama pindaian A4 300 dpi   {ms:7.1f} ms  (median {runs} kali, "
        f"terlama {max(times):.0f} ms)  target <= {PAGE_TARGET_MS:.0f} ms: {verdict}"
    )


def bench_pixels(paths: Paths, dokumen_id: str, runs: int) -> None:
    """The same page for a terminal with an image protocol: rendered at its cell size
    (10x20 pixels a cell, a VT340's) for the viewer's 58x30-cell box at 120x36. Only the
    decrypt and render; what the terminal does with the sixel or kitty data is not timed."""
    from tui.widgets.viewer import PageRenderer

    service = VerifikasiService(paths, Keyring(paths.keys))
    service.unlock(PASSPHRASE)
    try:

        def one() -> Any:
            renderer = PageRenderer(service.dokumen_pdf(dokumen_id))
            try:
                return renderer.render(0, 58, 30, 1.0, 0, (10, 20))
            finally:
                renderer.close()

        ms, image = _ms(one, runs)
    finally:
        service.close()
    print(
        f"  halaman pertama, piksel asli (sel 10x20) {ms:7.1f} ms  ({image.width}x{image.height} "
        f"piksel; dekripsi + pypdfium2, tanpa terminal)"
    )


def bench_paket(paths: Paths, ids: list[str], root: Path) -> None:
    service = VerifikasiService(paths, Keyring(paths.keys))
    service.unlock(PASSPHRASE)
    target = root / "paket"
    try:
        started = time.perf_counter()
        report = service.paket(ids, target)
        elapsed = time.perf_counter() - started
    finally:
        service.close()
    mb = report.total_bytes / 1e6
    print(
        f"  paket BKN {report.usulan} usulan, {len(report.files)} dokumen, {mb:.1f} MB: "
        f"{elapsed:.2f} s = {mb / elapsed:.1f} MB/s ({len(report.files) / elapsed:.0f} dokumen/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="berkas-bench-verifier-"))
    try:
        started = time.perf_counter()
        paths, scan_usulan, scan_dokumen, paket_ids = build(root)
        print(
            f"data: {USULAN:,} usulan diajukan/diteruskan di {OPDS} OPD, dibangun dalam "
            f"{time.perf_counter() - started:.1f} s"
        )
        print("Antrian (VerifikasiService.antrian, median):")
        bench_queue(paths, args.runs)
        print("Penampil dokumen (aplikasi headless 120x36, setengah blok):")
        bench_first_page(paths, scan_usulan, args.runs)
        bench_pixels(paths, scan_dokumen, args.runs)
        print("Paket BKN:")
        bench_paket(paths, paket_ids, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

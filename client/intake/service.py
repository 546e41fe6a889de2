"""Scan intake as a service: one file, a folder, and the Kotak masuk actions.

The order of work is what keeps scans safe: convert into a staging file,
commit it to the encrypted blob store, write its records, and only then move
(or delete) the original. A crash anywhere before the commit leaves the
original where it was, to be taken again.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path, PurePath
from types import TracebackType

from sqlmodel import col, select

from client.intake import originals
from client.intake import rejection as rj
from client.intake.batches import group_runs, process_batch, run_after, run_key
from client.intake.converted import ConversionJob
from client.intake.errors import IntakeError
from client.intake.filing import (
    NO_OPEN_USULAN,
    Filed,
    NotFiled,
    Refiled,
    file_stored,
    now_iso,
    open_usulan_for,
    refile_waiting,
    replacement_note,
)
from client.intake.ignore import is_ignored
from client.intake.naming import Recognition, copies_last, copy_of, recognise, redact_nik
from client.intake.page_reading import ReadJob, ReadOutcome, ocr_available, read_scan, sheet_on
from client.intake.pool import ConversionPool
from client.intake.recognition import Verdict, judge, read_page
from client.intake.rejection import Rejection
from client.intake.results import IntakeResult, IntakeStatus, IntakeSummary
from client.intake.settings import IntakeSettings, ProcessedAction
from client.intake.stability import StabilityTracker
from store.blobs import BlobStore
from store.database import Store
from store.errors import StoreError, disk_full_message, is_disk_full
from store.models import Blob, Dokumen, InboxItem
from store.pegawai import get_pegawai_by_nip
from store.rules import RulesConfig, default_config, dokumen_kinds
from store.usulan import attach_dokumen, live_dokumen, note_history

log = logging.getLogger(__name__)

Progress = Callable[[int, int, IntakeResult | None], None]
_RUN_BUSY = "run still being written"
# Windows: another program (the scanner) still has the file open.
_SHARING_VIOLATIONS = (32, 33)


class IntakeService:
    """Normalises, stores and files scans for one Berkas store."""

    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        settings: IntakeSettings,
        rules: RulesConfig | None = None,
        *,
        pool: ConversionPool | None = None,
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.settings = settings
        self.rules = rules
        self._kinds = dokumen_kinds(rules)
        self._default_limit = (rules or default_config()).dokumen.size_limit
        self._staging = blobs.root / "tmp"  # BlobStore.sweep clears *.part left by a crash
        # Filing transactions from our own threads queue here rather than in
        # SQLite's busy handler, which polls in sleeps of up to 100 ms.
        self._filing = threading.Lock()
        # A pool handed in (shared, e.g. by tests) is its owner's to close.
        self._ocr_ready: bool | None = None
        self._owns_pool = pool is None
        self.pool = pool or ConversionPool(
            settings.workers, settings.file_time_limit, settings.worker_memory_mb
        )

    # -- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:
        if self._owns_pool:
            self.pool.close()

    def __enter__(self) -> IntakeService:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- folders ------------------------------------------------------------------------

    def scan_roots(self) -> list[Path]:
        return [Path(os.path.abspath(p)) for p in self.settings.scan_folders]

    def root_of(self, path: Path) -> Path:
        """The configured scan folder holding `path` (the deepest), else its folder."""
        holders = [r for r in self.scan_roots() if path.is_relative_to(r)]
        return max(holders, key=lambda r: len(r.parts)) if holders else path.parent

    def reserved(self, root: Path) -> list[Path]:
        """Folders under `root` intake writes to and so never reads from."""
        return [self.settings.processed_root(root), self.settings.quarantine_root(root)]

    def files_in(self, root: Path) -> Iterator[Path]:
        """Every candidate scan under `root` (recursively when configured)."""
        reserved = self.reserved(root)
        stack = [root]
        while stack:
            folder = stack.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError as exc:
                log.warning("folder pindai tidak dapat dibaca: %s (%s)", folder, exc.strerror)
                continue
            for entry in entries:
                path = Path(entry.path)
                if is_ignored(path, root, reserved):
                    continue
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if self.settings.recursive:
                            stack.append(path)
                    elif entry.is_file(follow_symlinks=False):
                        yield path
                except OSError:
                    continue

    # -- one file -----------------------------------------------------------------------

    def size_limit(self, kode: str | None) -> int:
        kind = self._kinds.get(kode) if kode else None
        return kind.size_limit if kind is not None else self._default_limit

    def process_file(
        self, path: Path, root: Path | None = None, *, stable_at: float | None = None
    ) -> IntakeResult:
        """Take one scan all the way: convert, store, file, then release the original.

        Never raises for a bad or vanished file; a failure of the store itself
        gives status FAILED and leaves the original untouched.
        """
        path = Path(os.path.abspath(path))
        root = Path(os.path.abspath(root)) if root is not None else self.root_of(path)
        started = stable_at if stable_at is not None else time.monotonic()
        found = recognise(path, root, self.rules)
        relative = PurePath(found.relative_name)
        converting = [0.0]  # seconds the conversion process spent, once known

        def result(status: IntakeStatus, message: str, **kw: object) -> IntakeResult:
            res = IntakeResult(
                source=path,
                relative_name=found.relative_name,
                status=status,
                message=message,
                nip=found.nip,
                kode=found.kode,
                seconds=time.monotonic() - started,
                convert_seconds=converting[0],
                **kw,  # type: ignore[arg-type]
            )
            log.info("%s: %s (%s)", res.status.value, redact_nik(found.relative_name), res.message)
            return res

        try:
            info = path.stat()
        except FileNotFoundError:
            return result(IntakeStatus.FAILED, "Berkas sudah tidak ada saat akan diproses.")
        except PermissionError as exc:
            return self._quarantine(path, root, relative, rj.unreadable(repr(exc)), result)
        if not stat.S_ISREG(info.st_mode):
            return result(IntakeStatus.FAILED, "Bukan berkas biasa; dilewati.")
        try:
            with path.open("rb"):
                pass
        except PermissionError as exc:
            if getattr(exc, "winerror", None) in _SHARING_VIOLATIONS:
                return result(IntakeStatus.FAILED, "Berkas masih dibuka program lain.")
            return self._quarantine(path, root, relative, rj.unreadable(repr(exc)), result)
        except FileNotFoundError:
            return result(IntakeStatus.FAILED, "Berkas sudah tidak ada saat akan diproses.")

        hold = note = ""
        reading = self._read(path, found)
        if reading is not None and reading.error == _RUN_BUSY:
            return result(
                IntakeStatus.FAILED, "Kumpulan pindaian masih ditulis; diambil lagi nanti."
            )
        if reading is not None and reading.sheets:
            try:
                return self._batch(path, root, relative, reading, info, result)
            finally:
                self._drop_parts(reading)
        if reading is not None and reading.text:
            verdict = self._judge(found, reading.text)
            found, hold, note = verdict.found, verdict.hold, verdict.note

        try:
            filed = self.convert_and_file(path, found, what="Dokumen", hold=hold, note=note)
        except NotFiled as stop:
            converting[0] = stop.seconds
            if stop.rejection is not None:
                return self._quarantine(
                    path, root, relative, stop.rejection, result, size_before=info.st_size
                )
            return result(IntakeStatus.FAILED, f"{stop.message} Berkas asli tetap di tempatnya.")
        converting[0] = filed.seconds
        return self._commit(path, root, relative, filed, info, result, hold=hold, note=note)

    def convert_and_file(
        self,
        source: Path,
        found: Recognition,
        *,
        what: str,
        usulan_id: str | None = None,
        hold: str = "",
        note: str = "",
    ) -> Filed:
        """Normalise `source` to a PDF within its kind's limit, store it encrypted and file
        it (to `usulan_id`, or where `found` says): the one way a scan, or a part of a
        batch, gets in. Raises NotFiled, which names the original's fate: a rejection
        (the scan itself is bad) or the machine's failure (it stays for a later pass).
        `what` names the thing in messages ("Dokumen", "Bagian ini")."""
        try:
            self._staging.mkdir(parents=True, exist_ok=True)
            fd, staged_name = tempfile.mkstemp(
                dir=self._staging, prefix="intake-", suffix=".pdf.part"
            )
            os.close(fd)
        except OSError as exc:  # the machine, not the scan: it stays for a later pass
            log.error("folder kerja intake tidak dapat ditulis: %r", exc)
            raise NotFiled(
                disk_full_message("Hasil konversi")
                if is_disk_full(exc)
                else "Folder kerja Berkas tidak dapat ditulis."
            ) from exc
        staged = Path(staged_name)
        try:
            outcome = self.pool.convert(
                ConversionJob(
                    source=source,
                    target=staged,
                    size_limit=self.size_limit(found.kode),
                    max_pages=self.settings.max_pages,
                    max_pixels=self.settings.max_pixels,
                )
            )
            if outcome.environment is not None:
                # The machine failed (disk, memory, a killed worker), not the scan.
                log.warning("konversi tertunda: %s", outcome.environment.cause)
                raise NotFiled(outcome.environment.message, seconds=outcome.seconds)
            if outcome.rejection is not None or outcome.converted is None:
                rejection = outcome.rejection or rj.unreadable("no conversion result")
                raise NotFiled(rejection.message, rejection=rejection, seconds=outcome.seconds)
            converted = outcome.converted
            try:
                stored = self.blobs.put(staged)
                with self._filing:
                    filing = file_stored(
                        self.store,
                        stored,
                        pages=converted.pages,
                        terlalu_besar=converted.terlalu_besar,
                        found=found,
                        rules=self.rules,
                        usulan_id=usulan_id,
                        hold=hold,
                        note=note,
                    )
            except StoreError as exc:
                log.error("penyimpanan gagal: %s", exc.cause)
                raise NotFiled(exc.message, seconds=outcome.seconds) from exc
            except OSError as exc:
                log.error("penyimpanan gagal: %r", exc)
                raise NotFiled(
                    disk_full_message(what)
                    if is_disk_full(exc)
                    else f"{what} tidak dapat disimpan.",
                    seconds=outcome.seconds,
                ) from exc
            return Filed(stored, converted, filing, outcome.seconds)
        finally:
            staged.unlink(missing_ok=True)

    def release_original(self, source: Path, root: Path, relative: PurePath) -> Path | None:
        """Let a filed scan's original go, as the settings say: moved under the processed
        folder (returns where), or deleted. Raises OSError; the scan is filed anyway."""
        action = self.settings.processed_action
        processed = self.settings.processed_root(root) if action is ProcessedAction.MOVE else None
        return originals.release(source, processed, relative)

    def _quarantine(
        self,
        path: Path,
        root: Path,
        relative: PurePath,
        rejection: Rejection,
        result: Callable[..., IntakeResult],
        size_before: int = 0,
    ) -> IntakeResult:
        try:
            moved = originals.quarantine(
                path, self.settings.quarantine_root(root), relative, rejection
            )
        except OSError as exc:
            return result(
                IntakeStatus.FAILED,
                f"{rejection.message} Berkas juga tidak dapat dipindah ke karantina "
                f"({exc.strerror}).",
                rejection=rejection.kind,
                size_before=size_before,
            )
        return result(
            IntakeStatus.QUARANTINED,
            rejection.message,
            rejection=rejection.kind,
            moved_to=moved,
            size_before=size_before,
        )

    def _commit(
        self,
        path: Path,
        root: Path,
        relative: PurePath,
        filed: Filed,
        info: os.stat_result,
        result: Callable[..., IntakeResult],
        *,
        hold: str = "",
        note: str = "",
    ) -> IntakeResult:
        """The scan is stored and filed: release the original and say where it went."""
        converted, filing = filed.converted, filed.filing
        common = {
            **filed.facts(),
            "size_before": info.st_size,
            "step": converted.step,
            "min_dpi": converted.min_dpi,
        }
        # Committed: now, and only now, the original may go.
        moved: Path | None = None
        release_note = ""
        try:
            moved = self.release_original(path, root, relative)
        except OSError as exc:
            release_note = f" Berkas asli tidak dapat dipindahkan ({exc.strerror})."
        too_big = " Ukuran masih melebihi batas (terlalu besar)." if converted.terlalu_besar else ""
        if note and not hold:
            release_note = f" ({note[:1].upper()}{note[1:]}.){release_note}"
        if filing.duplicate_of:
            return result(
                IntakeStatus.DUPLICATE,
                f"Isi sama dengan yang sudah tersimpan ({filing.duplicate_of}); "
                f"tidak disimpan dua kali.{release_note}",
                moved_to=moved,
                dokumen_id=filing.dokumen.id if filing.dokumen else "",
                inbox_id=filing.inbox.id if filing.inbox else "",
                **common,
            )
        if filing.dokumen is not None:
            return result(
                IntakeStatus.FILED,
                f"Diarsipkan sebagai {filing.dokumen.nama_file}.{too_big}{release_note}",
                moved_to=moved,
                dokumen_id=filing.dokumen.id,
                nama_file=filing.dokumen.nama_file,
                **common,
            )
        assert filing.inbox is not None
        return result(
            IntakeStatus.INBOX,
            f"Masuk kotak masuk: {filing.reason}.{too_big}{release_note}",
            moved_to=moved,
            inbox_id=filing.inbox.id,
            **common,
        )

    # -- reading the page ---------------------------------------------------------------

    def ocr_ready(self) -> bool:
        """OCR is configured and its engine imports here (it needs no system package,
        but OpenCV, which it uses, can miss a system library on a bare machine)."""
        if self._ocr_ready is None:
            self._ocr_ready = self.settings.ocr and ocr_available()
            if self.settings.ocr and not self._ocr_ready:
                log.warning("OCR tidak tersedia; pindaian hanya dikenali dari namanya")
        return self._ocr_ready

    def _read(self, path: Path, found: Recognition) -> ReadOutcome | None:
        """Read the pages of a scan whose name does not say it all (or that is a
        copy named after another scan): separator sheets, else the first page's
        text. None when not read or the reading failed (the name alone decides)."""
        if not self.settings.read_pages or (found.complete and copy_of(path) is None):
            return None
        parts_dir = self._staging / f"bagian-{uuid.uuid4().hex}"
        job = ReadJob(
            sources=(path,),
            parts_dir=parts_dir,
            ocr=self.ocr_ready(),
            ocr_region=self.settings.ocr_region,
            titles=tuple((k, kind.judul) for k, kind in self._kinds.items() if kind.judul),
            max_pages=self.settings.max_pages,
            max_pixels=self.settings.max_pixels,
        )
        reading = self.pool.call(read_scan, job)
        if reading is None or reading.error:
            shutil.rmtree(parts_dir, ignore_errors=True)
            return None
        if reading.sheets and reading.pages == 1 and run_key(path) is not None:
            # One image that is a sheet: its document is the images numbered after it.
            following, settled = run_after(path, self.settings.stable_delay)
            if not settled:
                return ReadOutcome(error=_RUN_BUSY)
            reading = self.pool.call(
                read_scan, replace(job, sources=(path, *following), ocr=False, run=True)
            )
            if reading is None or reading.error:
                shutil.rmtree(parts_dir, ignore_errors=True)
                return None
        return reading

    def _drop_parts(self, reading: ReadOutcome) -> None:
        if reading.parts_dir is not None:
            shutil.rmtree(reading.parts_dir, ignore_errors=True)

    def _judge(self, found: Recognition, text: str) -> Verdict:
        with self.store.read() as session:
            page = read_page(session, text, self._kinds, self.rules)
        return judge(found, page, self._kinds)

    def _batch(
        self,
        path: Path,
        root: Path,
        relative: PurePath,
        reading: ReadOutcome,
        info: os.stat_result,
        result: Callable[..., IntakeResult],
    ) -> IntakeResult:
        return process_batch(self, path, root, relative, reading, info.st_size, result)

    # -- a folder ---------------------------------------------------------------------

    def run_folder(
        self,
        folder: Path,
        progress: Progress | None = None,
        settling: Callable[[int, float], None] | None = None,
    ) -> IntakeSummary:
        """One pass over `folder`: every scan in it, `workers` at a time.

        Files still being written are waited for until they settle (up to
        `settle_timeout`); `settling(files, seconds_left)` reports the wait.
        Those still changing after it are left and counted in `skipped`.
        `progress(done, total, result)` is called once with (0, total, None),
        then after each file, from worker threads. A copy named "x (1).pdf"
        beside "x.pdf" is taken after it, so the copy is the duplicate.
        """
        started = time.monotonic()
        root = Path(os.path.abspath(folder))
        if not root.is_dir():
            raise IntakeError(f"Folder {folder} tidak ditemukan.", str(folder))
        summary = IntakeSummary()
        candidates = self._settled(root, summary, settling)
        total = len(candidates)
        if progress:
            progress(0, total, None)
        done = 0
        first, copies = copies_last(candidates)

        def task(paths: list[Path]) -> list[IntakeResult]:
            # A numbered run, in order: a sheet takes the pages behind it, which
            # are then gone (and are not results of their own).
            if len(paths) == 1:
                return [self.process_file(paths[0], root)]
            return [self.process_file(p, root) for p in paths if p.exists()]

        with ThreadPoolExecutor(self.settings.workers * 3, thread_name_prefix="intake") as ex:
            numbered = [p for p in first if run_key(p) is not None]
            sheets: set[Path] = set()
            if self.settings.read_pages and numbered:
                found = ex.map(lambda p: bool(self.pool.call(sheet_on, p)), numbered)
                sheets = {p for p, is_sheet in zip(numbered, found, strict=True) if is_sheet}
            for wave in (group_runs(first, sheets.__contains__), [[c] for c in copies]):
                for results in ex.map(task, wave):
                    for res in results:
                        summary.results.append(res)
                        done += 1
                        if progress:
                            progress(done, total, res)

        if progress and done < total:  # pages a sheet took are not results of their own
            progress(total, total, None)
        summary.elapsed = time.monotonic() - started
        return summary

    def _settled(
        self,
        root: Path,
        summary: IntakeSummary,
        settling: Callable[[int, float], None] | None,
    ) -> list[Path]:
        """Every scan under `root` once it has stopped changing; waits for fresh ones."""
        delay = self.settings.stable_delay
        tracker = StabilityTracker(delay)
        ready: list[Path] = []
        cutoff = time.time() - delay
        for path in self.files_in(root):
            try:
                fresh = path.stat().st_mtime > cutoff
            except OSError:
                continue
            if fresh:
                tracker.observe(path, root)
            else:
                ready.append(path)
        deadline = time.monotonic() + self.settings.settle_timeout
        while len(tracker):
            ready.extend(path for path, _root in tracker.take_ready())
            left = deadline - time.monotonic()
            if not len(tracker):
                break
            if left <= 0:
                summary.skipped = len(tracker)
                break
            if settling:
                settling(len(tracker), left)
            time.sleep(min(0.2, delay / 3, max(left, 0.01)))
        if settling:
            settling(0, 0.0)
        return ready

    # -- Kotak masuk --------------------------------------------------------------------

    def refile_waiting(self) -> list[Refiled]:
        """File the Kotak masuk scans whose usulan line has opened since they came
        (filing.refile_waiting), queued with this service's own filing."""
        with self._filing:
            return refile_waiting(self.store, self.rules)

    def inbox_waiting(self) -> list[InboxItem]:
        with self.store.read() as session:
            stmt = (
                select(InboxItem)
                .where(InboxItem.state == "menunggu")
                .order_by(col(InboxItem.created_at), col(InboxItem.id))
            )
            return list(session.exec(stmt))

    def _waiting_item(self, item_id: str) -> InboxItem:
        with self.store.read() as session:
            item = session.get(InboxItem, item_id)
        if item is None:
            raise IntakeError("Item kotak masuk tidak ditemukan.", item_id)
        if item.state != "menunggu":
            raise IntakeError(
                f"Item kotak masuk ini sudah {item.state}.", f"{item_id} state {item.state}"
            )
        return item

    def assign_inbox_item(self, item_id: str, pegawai_nip: str, kode: str) -> Dokumen:
        """File an Inbox scan as `kode` of the pegawai's open usulan; re-shrinks it
        first when that kind's size limit is smaller than the copy."""
        item = self._waiting_item(item_id)
        if kode not in self._kinds:
            raise IntakeError(f"Jenis dokumen {kode} tidak dikenal.", kode)
        with self.store.read() as session:
            pegawai = get_pegawai_by_nip(session, pegawai_nip)
            if pegawai is None:
                raise IntakeError(f"Tidak ada pegawai dengan NIP {pegawai_nip}.", pegawai_nip)
            if open_usulan_for(session, pegawai, kode, self.rules) is None:
                raise IntakeError(
                    f"{NO_OPEN_USULAN.capitalize()} untuk pegawai ini yang memerlukan {kode}.",
                    f"{pegawai.nip}/{kode}",
                )
        sha, size, pages, too_big = item.sha256, item.size, item.pages, item.terlalu_besar
        limit = self.size_limit(kode)
        if size > limit:
            sha, size, pages, too_big = self._reshrink(item, limit)
        else:
            too_big = False
        with self.store.write() as session:
            pegawai = get_pegawai_by_nip(session, pegawai_nip)
            usulan = open_usulan_for(session, pegawai, kode, self.rules) if pegawai else None
            fresh = session.get(InboxItem, item_id)
            if usulan is None or fresh is None or fresh.state != "menunggu":
                raise IntakeError("Kotak masuk atau usulan berubah; coba lagi.", item_id)
            if session.get(Blob, sha) is None:
                session.add(
                    Blob(
                        sha256=sha,
                        size=size,
                        pages=pages,
                        cipher_size=self._cipher_size(sha),
                        created_at=now_iso(),
                    )
                )
            old = next((d for d in live_dokumen(session, usulan.id) if d.kode == kode), None)
            dokumen = attach_dokumen(
                session,
                usulan,
                kode,
                sha256=sha,
                size=size,
                pages=pages,
                terlalu_besar=too_big,
                nip_terbaca=fresh.nip,  # what the scan said, before the person's choice
                kode_terbaca=fresh.kode,
            )
            if old is not None and old.sha256 != sha:
                note_history(session, usulan, replacement_note(kode, old, sha, fresh.original_name))
            fresh.state = "diproses"
            fresh.nip = usulan.nip
            fresh.kode = kode
            session.add(fresh)
        return dokumen

    def accept_suggestion(self, item_id: str) -> Dokumen:
        """File an Inbox scan where its suggestion (NIP and kode shown with it) says:
        the one key of the Kotak masuk."""
        item = self._waiting_item(item_id)
        if not item.nip or not item.kode:
            raise IntakeError(
                "Item ini tidak membawa saran NIP dan jenis dokumen; pilih sendiri.", item_id
            )
        return self.assign_inbox_item(item_id, item.nip, item.kode)

    def _cipher_size(self, sha: str) -> int:
        try:
            return self.blobs.path_for(sha).stat().st_size
        except OSError:
            return 0

    def _reshrink(self, item: InboxItem, limit: int) -> tuple[str, int, int, bool]:
        self._staging.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self._staging, suffix=".part") as work:
            plain = Path(work) / "asli.pdf"
            self.blobs.decrypt_to(item.sha256, plain)
            target = Path(work) / "kecil.pdf"
            outcome = self.pool.convert(
                ConversionJob(
                    plain, target, limit, self.settings.max_pages, self.settings.max_pixels
                )
            )
            if outcome.converted is None:
                reason = outcome.rejection.message if outcome.rejection else "?"
                raise IntakeError(f"Dokumen tidak dapat diperkecil: {reason}", item.id)
            stored = self.blobs.put(target)
            return (
                stored.sha256,
                stored.size,
                outcome.converted.pages,
                outcome.converted.terlalu_besar,
            )

    def discard_inbox_item(self, item_id: str, reason: str) -> Path | None:
        """Take an Inbox scan out of the queue, into quarantine with `reason`.

        The normalised copy is written to the first scan folder's karantina/
        (the original has long gone to diproses/) beside its `.alasan.txt`;
        returns that path, or None when no scan folder is configured.
        """
        item = self._waiting_item(item_id)
        reason = reason.strip() or "dibuang dari kotak masuk"
        copy: Path | None = None
        roots = self.scan_roots()
        if roots:
            name = PurePath(item.original_name)
            relative = name.with_suffix(".pdf") if name.suffix.lower() != ".pdf" else name
            target = originals.free_name(self.settings.quarantine_root(roots[0]) / relative)
            self.blobs.decrypt_to(item.sha256, target)
            originals.write_reason(target, item.original_name, reason, "dibuang dari kotak masuk")
            copy = target
        with self.store.write() as session:
            fresh = session.get(InboxItem, item_id)
            if fresh is not None:
                fresh.state = "dibuang"
                fresh.reason = reason
                session.add(fresh)
        return copy

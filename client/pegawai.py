"""Pegawai: search, detail with KP eligibility, the CSV import and single edits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlmodel import col, func, select

from client._core import ClientCore
from client.errors import ClientError
from client.views import ImportReport, PegawaiDetail, PegawaiView
from store import usulan as wf
from store.models import Pegawai
from store.pegawai import (
    PegawaiInput,
    get_pegawai_by_nip,
    parse_pegawai_csv,
    search_pegawai,
    upsert_pegawai,
)
from store.rules import KpJenis, Pendidikan, kp_eligibility, next_kp_period, parse_golongan

IMPORT_PROGRESS_EVERY = 200  # rows stored between two progress calls


class PegawaiService(ClientCore):
    """The pegawai of this OPD."""

    def search_pegawai(self, query: str, limit: int = 100) -> list[PegawaiView]:
        with self.store.read() as session:
            return [self._pegawai_view(p) for p in search_pegawai(session, query, limit=limit)]

    def count_pegawai(self) -> int:
        with self.store.read() as session:
            stmt = select(func.count()).select_from(Pegawai).where(col(Pegawai.deleted).is_(False))
            return int(session.exec(stmt).one())

    def pegawai_detail(self, pegawai_id: str, today: date | None = None) -> PegawaiDetail:
        today = today or date.today()
        with self.store.read() as session:
            p = session.get(Pegawai, pegawai_id)
            if p is None or p.deleted:
                raise ClientError("Pegawai tidak ditemukan.", pegawai_id)
            riwayat = []
            for entry in p.riwayat_pangkat or []:
                gol = parse_golongan(str(entry.get("golongan", "")))
                riwayat.append((gol.kode, gol.pangkat, date.fromisoformat(str(entry["tmt"]))))
            gol = parse_golongan(p.golongan)
            riwayat.append((gol.kode, gol.pangkat, p.tmt_pangkat))
            period = next_kp_period(today, self.rules)
            elig = kp_eligibility(
                golongan=gol,
                tmt_pangkat=p.tmt_pangkat,
                pendidikan=Pendidikan(p.pendidikan),
                period_tmt=period.tmt,
                jenis=KpJenis.REGULER,
                config=self.rules,
            )
            usulan = [
                self._usulan_view(session, u, p.nama) for u in wf.usulan_of_pegawai(session, p.id)
            ]
            return PegawaiDetail(
                pegawai=self._pegawai_view(p),
                riwayat_pangkat=riwayat,
                usulan=usulan,
                kp_eligible=elig.eligible,
                kp_reasons=elig.reasons,
            )

    def import_pegawai_csv(
        self, path: Path, progress: Callable[[int, int], None] | None = None
    ) -> ImportReport:
        """Import valid rows in one transaction; bad rows are reported, not imported.

        `progress(done, total)` is called as rows are read and stored (total counts the
        file's rows twice: once read, once stored), from the calling thread."""
        path = Path(path).expanduser()
        if path.is_dir():
            raise ClientError(f"{path} adalah folder; pilih berkas CSV pegawai.")
        try:
            content = path.read_bytes()
        except FileNotFoundError as exc:
            raise ClientError(f"Berkas {path} tidak ditemukan.", repr(exc)) from exc
        except OSError as exc:
            raise ClientError(f"Berkas {path} tidak dapat dibaca.", repr(exc)) from exc
        parsed = parse_pegawai_csv(content)
        rows = len(parsed.rows) + len(parsed.errors)
        total = rows + len(parsed.rows)
        if progress is not None:
            progress(rows, total)
        created = updated = 0
        with self.store.write() as session:
            for done, (_line, row) in enumerate(parsed.rows, start=1):
                _, was_created = upsert_pegawai(session, row)
                created += was_created
                updated += not was_created
                if progress is not None and (done % IMPORT_PROGRESS_EVERY == 0):
                    progress(rows + done, total)
        if progress is not None:
            progress(total, total)
        return ImportReport(created=created, updated=updated, errors=parsed.errors)

    def add_pegawai(self, data: PegawaiInput) -> PegawaiView:
        with self.store.write() as session:
            record, _ = upsert_pegawai(session, data)
            return self._pegawai_view(record)

    def pegawai_by_nip(self, nip: str) -> PegawaiView | None:
        with self.store.read() as session:
            p = get_pegawai_by_nip(session, nip)
            return self._pegawai_view(p) if p else None

"""The usulan workflow offline: checklist, attach, submit, history."""

from __future__ import annotations

import json
import sqlite3
from datetime import date

import pytest
from sqlmodel import select

from store import usulan as wf
from store.database import Store
from store.errors import StoreError
from store.models import Pegawai, Usulan, UsulanHistory
from store.pegawai import upsert_pegawai
from store.rules import Layanan, Role, UsulanStatus, checklist
from tests.store.conftest import pegawai_input

SHA = "ab" * 32


@pytest.fixture
def draft(store: Store) -> str:
    with store.write() as session:
        pegawai, _ = upsert_pegawai(session, pegawai_input())
        usulan = wf.create_usulan(session, pegawai, "kp", "reguler")
        return usulan.id


def _fill(store: Store, usulan_id: str, skip: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    with store.write() as session:
        u = session.get(Usulan, usulan_id)
        assert u is not None
        for kode in wf.required_kodes(u.layanan, u.jenis, u.berlaku):
            if kode not in skip:
                wf.attach_dokumen(session, u, kode, sha256=SHA, size=1000, pages=1)


def test_new_usulan_is_draft_with_history_and_everything_missing(store: Store, draft: str) -> None:
    with store.read() as session:
        u = session.get(Usulan, draft)
        assert u is not None and u.status == "draft"
        required = [i.kode for i in checklist(Layanan.KP, "reguler") if not i.optional]
        assert wf.missing_for(session, u) == required
        history = wf.history_of(session, draft)
    assert [(h.dari_status, h.ke_status, h.oleh_nama) for h in history] == [("", "draft", "Ani")]


def test_optional_items_count_only_when_marked(store: Store, draft: str) -> None:
    optional = [i.kode for i in checklist(Layanan.KP, "reguler") if i.optional]
    assert optional, "KP reguler has items marked * in DOMAIN.md"
    with store.write() as session:
        u = session.get(Usulan, draft)
        assert u is not None
        u.berlaku = [optional[0]]
        session.add(u)
    with store.read() as session:
        u = session.get(Usulan, draft)
        assert u is not None
        assert optional[0] in wf.missing_for(session, u)


def test_submit_refused_while_incomplete_then_accepted(store: Store, draft: str) -> None:
    _fill(store, draft, skip={"SKP"})
    with pytest.raises(StoreError, match="SKP"), store.write() as session:
        u = session.get(Usulan, draft)
        assert u is not None
        wf.ajukan(session, u)
    with store.read() as session:
        assert session.get(Usulan, draft).status == "draft"  # type: ignore[union-attr]
    _fill(store, draft)
    with store.write() as session:
        u = session.get(Usulan, draft)
        assert u is not None
        wf.ajukan(session, u)
    with store.read() as session:
        assert session.get(Usulan, draft).status == "diajukan"  # type: ignore[union-attr]
        moves = [(h.dari_status, h.ke_status) for h in wf.history_of(session, draft)]
    assert moves == [("", "draft"), ("draft", "diajukan")]


def test_replace_tombstones_the_old_dokumen_and_both_are_ops(store: Store, draft: str) -> None:
    with store.write() as session:
        u = session.get(Usulan, draft)
        assert u is not None
        first = wf.attach_dokumen(session, u, "SKP", sha256=SHA, size=10, pages=2)
    with store.write() as session:
        u = session.get(Usulan, draft)
        assert u is not None
        second = wf.attach_dokumen(session, u, "SKP", sha256="cd" * 32, size=20, pages=3)
    with store.read() as session:
        live = [d.id for d in wf.live_dokumen(session, draft)]
    assert live == [second.id]
    conn = sqlite3.connect(store.path)
    ops = conn.execute(
        "SELECT record_id, deleted, changes FROM outbox WHERE table_name = 'dokumen' ORDER BY seq"
    ).fetchall()
    conn.close()
    assert [(r, d) for r, d, _ in ops] == [(first.id, None), (first.id, 1), (second.id, None)]
    assert json.loads(ops[2][2])["nama_file"]["new"] == "196804111993031009_SKP.pdf"


def test_dokumen_outside_the_checklist_is_refused(store: Store, draft: str) -> None:
    with pytest.raises(StoreError, match="DPCP"), store.write() as session:
        u = session.get(Usulan, draft)
        assert u is not None
        wf.attach_dokumen(session, u, "DPCP", sha256=SHA, size=10, pages=1)


def test_opd_cannot_verify_and_submitted_usulan_is_locked(store: Store, draft: str) -> None:
    _fill(store, draft)
    with store.write() as session:
        u = session.get(Usulan, draft)
        assert u is not None
        wf.ajukan(session, u)
    with pytest.raises(StoreError), store.write() as session:
        u = session.get(Usulan, draft)
        assert u is not None
        wf.move_status(session, u, UsulanStatus.DIVERIFIKASI, Role.OPD)
    with pytest.raises(StoreError, match="tidak dapat diubah"), store.write() as session:
        u = session.get(Usulan, draft)
        assert u is not None
        wf.attach_dokumen(session, u, "SKP", sha256=SHA, size=1, pages=1)


def test_bts_round_trip_with_notes_per_dokumen(store: Store, draft: str) -> None:
    _fill(store, draft)
    with store.write() as session:
        u = session.get(Usulan, draft)
        assert u is not None
        wf.ajukan(session, u)
    with store.write() as session:
        u = session.get(Usulan, draft)
        assert u is not None
        wf.kembalikan(session, u, "SKP tidak terbaca", {"SKP": "Halaman 2 buram"})
    with store.read() as session:
        u = session.get(Usulan, draft)
        assert u is not None and u.status == "dikembalikan"
        assert wf.missing_for(session, u) == ["SKP"]
        lines = {line.item.kode: line for line in wf.checklist_lines(session, u)}
        assert lines["SKP"].state == "dikembalikan"
        assert lines["SKP"].dokumen is not None
        assert lines["SKP"].dokumen.catatan_verifikator == "Halaman 2 buram"
    with store.write() as session:
        u = session.get(Usulan, draft)
        assert u is not None
        wf.attach_dokumen(session, u, "SKP", sha256="ef" * 32, size=5, pages=2)
        wf.ajukan(session, u, alasan="SKP diganti")
    with store.read() as session:
        history = session.exec(select(UsulanHistory).where(UsulanHistory.usulan_id == draft)).all()
    assert [h.ke_status for h in sorted(history, key=lambda h: h.updated_at)] == [
        "draft",
        "diajukan",
        "dikembalikan",
        "diajukan",
    ]


def test_usulan_belongs_to_the_pegawai_opd(store: Store, draft: str) -> None:
    with store.read() as session:
        u = session.get(Usulan, draft)
        p = session.exec(select(Pegawai)).one()
    assert u is not None and u.opd_id == p.opd_id == "DISDIK"


def test_second_usulan_for_the_same_period_is_refused_pointing_to_the_first(
    store: Store,
) -> None:
    """Issue 15 item 6: a second usulan in progress for the same pegawai, layanan and
    period is refused; its cause names the existing one."""
    with store.write() as session:
        p, _ = upsert_pegawai(session, pegawai_input())
        first = wf.create_usulan(session, p, "kp", "reguler", periode=date(2027, 4, 1))
        first_id = first.id
    with store.write() as session, pytest.raises(wf.DuplicateUsulan) as refused:
        p2 = session.get(Pegawai, p.id)
        assert p2 is not None
        wf.create_usulan(session, p2, "kp", "reguler", periode=date(2027, 4, 1))
    assert refused.value.cause == first_id
    assert "sudah punya usulan" in refused.value.message
    with store.write() as session:  # another period is another usulan
        p3 = session.get(Pegawai, p.id)
        assert p3 is not None
        wf.create_usulan(session, p3, "kp", "reguler", periode=date(2027, 10, 1))


# -- "tidak berlaku" (issue 15 item 8) ------------------------------------------------------

FAMILY = ("SURAT_NIKAH", "AKTA_ANAK", "KARIS_KARSU")


@pytest.fixture
def pensiun(store: Store) -> str:
    with store.write() as session:
        pegawai, _ = upsert_pegawai(session, pegawai_input())
        return wf.create_usulan(session, pegawai, "pensiun", "bup").id


def _usulan(session, usulan_id: str) -> Usulan:  # type: ignore[no-untyped-def]
    u = session.get(Usulan, usulan_id)
    assert u is not None
    return u


def test_family_lines_of_a_pensiun_are_needed_until_marked_tidak_berlaku(
    store: Store, pensiun: str
) -> None:
    items = {i.kode: i for i in checklist(Layanan.PENSIUN, "bup")}
    assert all(items[k].boleh_tidak_berlaku and not items[k].optional for k in FAMILY)
    assert not items["DPCP"].boleh_tidak_berlaku
    _fill(store, pensiun, skip=set(FAMILY))
    with pytest.raises(StoreError, match="SURAT_NIKAH"), store.write() as session:
        wf.ajukan(session, _usulan(session, pensiun))
    with store.write() as session:
        u = _usulan(session, pensiun)
        wf.tandai_tidak_berlaku(session, u, "SURAT_NIKAH", "  belum pernah   menikah ")
        wf.tandai_tidak_berlaku(session, u, "AKTA_ANAK", "tidak punya anak")
        wf.tandai_tidak_berlaku(session, u, "KARIS_KARSU", "tidak punya pasangan")
    with store.write() as session:
        u = _usulan(session, pensiun)
        assert u.tidak_berlaku["SURAT_NIKAH"] == "belum pernah menikah"
        lines = {line.item.kode: line for line in wf.checklist_lines(session, u)}
        nikah = lines["SURAT_NIKAH"]
        assert (nikah.state, nikah.required, nikah.alasan_tidak_berlaku) == (
            "tidak_berlaku",
            False,
            "belum pernah menikah",
        )
        wf.ajukan(session, u)
        assert u.status == "diajukan"
        history = [h.alasan for h in wf.history_of(session, pensiun)]
    assert (
        "Surat nikah (atau akta cerai/kematian) ditandai tidak berlaku: belum pernah menikah"
        in history
    )


def test_tidak_berlaku_needs_a_reason_an_allowing_line_and_an_editable_usulan(
    store: Store, pensiun: str
) -> None:
    with store.write() as session:
        u = _usulan(session, pensiun)
        with pytest.raises(StoreError, match="alasan"):
            wf.tandai_tidak_berlaku(session, u, "SURAT_NIKAH", "   ")
        with pytest.raises(StoreError, match="wajib"):
            wf.tandai_tidak_berlaku(session, u, "DPCP", "tidak perlu")
        wf.attach_dokumen(session, u, "AKTA_ANAK", sha256=SHA, size=10, pages=1)
        with pytest.raises(StoreError, match="sudah dilampirkan"):
            wf.tandai_tidak_berlaku(session, u, "AKTA_ANAK", "tidak punya anak")
        assert not u.tidak_berlaku
    # A mark the checklist does not allow (sent by a broken device) counts for nothing.
    assert "DPCP" in wf.missing_kodes("pensiun", "bup", [], [], tidak_berlaku={"DPCP": "x"})
    assert "SURAT_NIKAH" in wf.missing_kodes(
        "pensiun", "bup", [], [], tidak_berlaku={"SURAT_NIKAH": " "}
    )


def test_tidak_berlaku_undone_by_cabut_or_by_attaching_a_file(store: Store, pensiun: str) -> None:
    with store.write() as session:
        u = _usulan(session, pensiun)
        wf.tandai_tidak_berlaku(session, u, "SURAT_NIKAH", "belum menikah")
        wf.tandai_tidak_berlaku(session, u, "AKTA_ANAK", "tidak punya anak")
        wf.cabut_tidak_berlaku(session, u, "SURAT_NIKAH")
        wf.attach_dokumen(session, u, "AKTA_ANAK", sha256=SHA, size=10, pages=1)
        assert u.tidak_berlaku == {}
        assert {"SURAT_NIKAH"} <= set(wf.missing_for(session, u))
        history = [h.alasan for h in wf.history_of(session, pensiun)]
        with pytest.raises(StoreError, match="tidak sedang"):
            wf.cabut_tidak_berlaku(session, u, "SURAT_NIKAH")
    assert "Tanda tidak berlaku Surat nikah (atau akta cerai/kematian) dicabut" in history
    assert (
        "Tanda tidak berlaku Akta kelahiran anak di bawah 25 tahun dicabut: dokumen dilampirkan"
        in history
    )
    # Once with the BKD the marks cannot change.
    _fill(store, pensiun, skip={"SURAT_NIKAH", "KARIS_KARSU"})
    with store.write() as session:
        u = _usulan(session, pensiun)
        wf.tandai_tidak_berlaku(session, u, "SURAT_NIKAH", "belum menikah")
        wf.tandai_tidak_berlaku(session, u, "KARIS_KARSU", "tidak punya pasangan")
        wf.ajukan(session, u)
        with pytest.raises(StoreError, match="tidak dapat diubah"):
            wf.cabut_tidak_berlaku(session, u, "SURAT_NIKAH")

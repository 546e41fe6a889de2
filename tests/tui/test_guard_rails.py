"""Issue 15 items 6, 8 and 9 in the TUI, against a real store: checklist lines marked
"tidak berlaku" with a reason (and unmarked), an ineligible usulan that needs a
confirmation, the layanan the new-usulan dialog proposes, and typing that never fires a
list's single-letter keys."""

from __future__ import annotations

from sqlmodel import col, select
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static

from client.services import BerkasClient
from store.models import OutboxEntry, Pegawai, Usulan
from store.rules import JabatanKind, pensiun_due
from store.usulan import history_of
from tests.tui.support import TODAY, Facts, settle
from tests.tui.test_flows import cursor_to, drive, notes, open_usulan
from tui.app import BerkasApp
from tui.messages import NewUsulan
from tui.screens.isian import IsianDialog
from tui.screens.konfirmasi import KonfirmasiDialog
from tui.screens.pegawai import PegawaiScreen
from tui.screens.usulan_baru import UsulanBaruDialog
from tui.screens.usulan_editor import UsulanEditorScreen


async def _type(pilot: Pilot[None], text: str) -> None:
    for ch in text:
        await pilot.press(ch if ch != " " else "space")


def _pensiun_draft(client: BerkasClient) -> str:
    taken = {u.nip for u in client.list_usulan()}
    person = next(p for p in client.search_pegawai("", limit=50) if p.nip not in taken)
    return client.create_usulan(person.id, "pensiun", "bup", today=TODAY).id


# -- item 8: tidak berlaku -----------------------------------------------------------------


def test_line_marked_tidak_berlaku_with_a_reason_then_unmarked(client: BerkasClient) -> None:
    usulan_id = _pensiun_draft(client)

    async def scenario(app: BerkasApp, pilot: Pilot[None]) -> None:
        await open_usulan(app, pilot, usulan_id)
        editor = app.screen
        assert isinstance(editor, UsulanEditorScreen)
        await cursor_to(app, "#daftar-periksa", "DPCP")
        await pilot.press("t")  # DPCP is needed by every pensiun: no dialog
        await settle(pilot)
        assert app.screen is editor
        assert "tidak dapat ditandai tidak berlaku" in notes(app)[-1]

        await cursor_to(app, "#daftar-periksa", "SURAT_NIKAH")
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, IsianDialog)
        await pilot.press("enter")  # an empty reason is refused, nothing is marked
        await settle(pilot)
        assert "Tuliskan alasan" in notes(app)[-1]
        assert client.usulan_detail(usulan_id).usulan is not None
        await pilot.press("t")
        await settle(pilot)
        await _type(pilot, "belum pernah menikah")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is editor
        line = next(x for x in editor.detail.checklist if x.kode == "SURAT_NIKAH")  # type: ignore[union-attr]
        assert (line.state, line.alasan_tidak_berlaku) == ("tidak_berlaku", "belum pernah menikah")
        table = editor.query_one("#daftar-periksa", DataTable)
        assert table.get_row("SURAT_NIKAH")[2].plain == "Tidak berlaku: belum pernah menikah"
        explained = str(editor.query_one("#rincian-dokumen", Static).render())
        assert "Tekan t untuk mencabut" in explained
        # The history names the mark a note: the status did not move ("Draf → Draf").
        riwayat = editor.query_one("#riwayat-status", DataTable)
        assert str(riwayat.get_row_at(0)[1]) == "Catatan"
        # Its reason is longer than the column: the row wraps it whole, never cut.
        assert riwayat.ordered_rows[0].height > 1

        await pilot.press("t")  # the same key takes the mark back, after a question
        await settle(pilot)
        assert isinstance(app.screen, KonfirmasiDialog)
        await pilot.press("y")
        await settle(pilot)
        line = next(x for x in editor.detail.checklist if x.kode == "SURAT_NIKAH")  # type: ignore[union-attr]
        assert (line.state, line.alasan_tidak_berlaku) == ("kurang", "")

    drive(client, scenario)
    with client.store.read() as session:
        u = session.get(Usulan, usulan_id)
        assert u is not None and u.tidak_berlaku == {}
        history = [h.alasan for h in history_of(session, usulan_id)]
        # Both the mark and its undoing wait in the outbox for the server.
        sent = [
            e.changes["tidak_berlaku"]["new"]
            for e in session.exec(select(OutboxEntry).where(OutboxEntry.record_id == usulan_id))
            if "tidak_berlaku" in e.changes
        ]
    assert history[-2:] == [
        "Surat nikah (atau akta cerai/kematian) ditandai tidak berlaku: belum pernah menikah",
        "Tanda tidak berlaku Surat nikah (atau akta cerai/kematian) dicabut",
    ]
    assert {"SURAT_NIKAH": "belum pernah menikah"} in sent and {} in sent


def test_tidak_berlaku_lines_let_a_pensiun_be_submitted(client: BerkasClient) -> None:
    usulan_id = _pensiun_draft(client)
    family = {"SURAT_NIKAH", "AKTA_ANAK", "KARIS_KARSU"}
    for line in client.usulan_detail(usulan_id).checklist:
        if line.required and line.kode not in family:
            client.attach_stored(
                usulan_id, line.kode, sha256="cd" * 32, size=1000, pages=1, terlalu_besar=False
            )
    for kode in sorted(family):
        client.tandai_tidak_berlaku(usulan_id, kode, "tidak menikah, tidak punya anak")

    async def scenario(app: BerkasApp, pilot: Pilot[None]) -> None:
        await open_usulan(app, pilot, usulan_id)
        info = str(app.screen.query_one("#keterangan-usulan", Static).render())
        assert "siap diajukan" in info
        await pilot.press("j")
        await settle(pilot)
        assert isinstance(app.screen, KonfirmasiDialog)
        await pilot.press("y")
        await settle(pilot)
        shown = {k.description for k in app.screen.query("FooterKey")}  # type: ignore[attr-defined]
        assert "Tidak berlaku" not in shown  # with the BKD now: the marks stay as they are

    drive(client, scenario)
    assert client.usulan_detail(usulan_id).usulan.status == "diajukan"


# -- item 6: ineligible usulan, proposed layanan --------------------------------------------


def _ineligible_for_kp(client: BerkasClient) -> Pegawai:
    taken = {u.nip for u in client.list_usulan()}
    with client.store.read() as session:
        for p in session.exec(select(Pegawai).order_by(col(Pegawai.nip))):
            if p.nip in taken:
                continue
            if client.kelayakan(p.id, "kp", "reguler", today=TODAY) and not pensiun_due(
                p.tanggal_lahir, JabatanKind(p.jabatan_kind), TODAY
            ):
                return p
    raise AssertionError("the sample data has pegawai not yet eligible for KP")


async def _new_kp_for(app: BerkasApp, pilot: Pilot[None], pegawai_id: str) -> None:
    view = app.client.pegawai_by_nip(
        next(p.nip for p in app.client.search_pegawai("", limit=200) if p.id == pegawai_id)
    )
    app.post_message(NewUsulan(view, "kp"))
    await settle(pilot)
    assert isinstance(app.screen, UsulanBaruDialog)
    await pilot.click("#buat")
    await settle(pilot)


def test_ineligible_kp_needs_a_confirmation_and_keeps_the_reason(client: BerkasClient) -> None:
    person = _ineligible_for_kp(client)
    reasons = client.kelayakan(person.id, "kp", "reguler", today=TODAY)

    async def scenario(app: BerkasApp, pilot: Pilot[None]) -> None:
        await _new_kp_for(app, pilot, person.id)
        assert isinstance(app.screen, KonfirmasiDialog)
        assert "belum layak" in str(app.screen.query_one("#pesan", Static).render())
        await pilot.press("escape")  # not sure: nothing is made
        await settle(pilot)
        assert not [u for u in app.client.list_usulan() if u.nip == person.nip]

        await _new_kp_for(app, pilot, person.id)
        assert isinstance(app.screen, KonfirmasiDialog)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, UsulanEditorScreen)

    drive(client, scenario)
    made = [u for u in client.list_usulan() if u.nip == person.nip]
    assert len(made) == 1 and made[0].layanan == "kp"
    history = [h.alasan for h in client.usulan_detail(made[0].id).history]
    assert history[-1].startswith("Dibuat meski menurut aturan belum layak (dikonfirmasi): ")
    assert reasons[0].rstrip(".") in history[-1]
    # Confirmed once: submitting it does not ask again.
    for line in client.usulan_detail(made[0].id).checklist:
        if line.required:
            client.attach_stored(
                made[0].id, line.kode, sha256="ab" * 32, size=1000, pages=1, terlalu_besar=False
            )
    assert client.ajukan(made[0].id, tetap=False).status == "diajukan"


def test_new_usulan_dialog_proposes_the_layanan_that_fits(
    client: BerkasClient, facts: Facts
) -> None:
    due = client.dashboard(TODAY).pensiun_due_without_usulan
    assert due, "the sample data has pegawai due for pensiun"
    eligible = [
        p for p in client.dashboard(TODAY).kp_due_without_usulan if p.id not in {d.id for d in due}
    ]
    assert eligible
    ineligible = _ineligible_for_kp(client)

    async def proposal(app: BerkasApp, pilot: Pilot[None], pegawai_id: str) -> tuple[str, str]:
        view = next(p for p in app.client.search_pegawai("", limit=200) if p.id == pegawai_id)
        app.post_message(NewUsulan(view, None))
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, UsulanBaruDialog)
        chosen = dialog.query_one("#layanan", Select).value
        hint = (
            str(dialog.query_one("#saran", Static).render())
            if dialog.query_one("#saran", Static).display
            else ""
        )
        await pilot.press("escape")
        await settle(pilot)
        return str(chosen), hint

    async def scenario(app: BerkasApp, pilot: Pilot[None]) -> None:
        assert await proposal(app, pilot, due[0].id) == (
            "pensiun",
            "Disarankan: pensiun (TMT pensiunnya sudah dekat).",
        )
        layanan, hint = await proposal(app, pilot, eligible[0].id)
        assert layanan == "kp" and hint.startswith("Disarankan: kenaikan pangkat")
        assert await proposal(app, pilot, ineligible.id) == ("kp", "")  # the default, no claim

    drive(client, scenario)


# -- item 9: typing never fires a list's keys ---------------------------------------------


def test_typing_on_a_beranda_pegawai_list_searches_and_fires_no_key(
    client: BerkasClient, facts: Facts
) -> None:
    """The Beranda's "layak KP" line opens the Pegawai list with the words "ketik untuk
    mencari": what is typed there goes to the search box, and n (Buat usulan) does not
    open the new-usulan dialog while it is typed into a name."""

    async def scenario(app: BerkasApp, pilot: Pilot[None]) -> None:
        perlu = app.screen.query_one("#perlu")
        perlu.focus()
        perlu.highlighted = next(  # type: ignore[attr-defined]
            i
            for i, o in enumerate(perlu._options)
            if o.id == "kp-due"  # type: ignore[attr-defined]
        )
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PegawaiScreen)
        await _type(pilot, "nur n")
        await settle(pilot)
        assert app.screen is screen and len(app.screen_stack) == 1
        assert screen.query_one("#cari", Input).value == "nur n"
        # Every single-letter key of every screen with a search box, typed into it.
        for fkey in ("f3",):
            await pilot.press(fkey)
            await settle(pilot)
            field = app.screen.query_one("#cari", Input)
            field.value = ""
            field.focus()
            letters = [
                b.key
                for b in app.screen.BINDINGS
                if hasattr(b, "key") and len(b.key) == 1  # type: ignore[union-attr]
            ]
            await _type(pilot, "".join(letters))
            await settle(pilot)
            assert not isinstance(app.screen, UsulanBaruDialog)
            assert field.value == "".join(letters)
        assert app.failures == []

    drive(client, scenario)
    # Nothing was made by a stray key.
    assert len(client.list_usulan()) == 2


def test_submitting_an_ineligible_kp_asks_once_and_keeps_the_reason(
    client: BerkasClient,
) -> None:
    """An usulan made without the question (sample data, an older version) is asked about
    when submitted; one already confirmed at creation is not asked again."""
    person = _ineligible_for_kp(client)
    usulan_id = client.create_usulan(person.id, "kp", "reguler", today=TODAY).id
    for line in client.usulan_detail(usulan_id).checklist:
        if line.required:
            client.attach_stored(
                usulan_id, line.kode, sha256="ef" * 32, size=1000, pages=1, terlalu_besar=False
            )

    async def scenario(app: BerkasApp, pilot: Pilot[None]) -> None:
        await open_usulan(app, pilot, usulan_id)
        await pilot.press("j")
        await settle(pilot)
        await pilot.press("y")  # "Ajukan usulan ke BKD?"
        await settle(pilot)
        assert isinstance(app.screen, KonfirmasiDialog)
        assert "belum layak" in str(app.screen.query_one("#pesan", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        assert app.client.usulan_detail(usulan_id).usulan.status == "draft"
        await pilot.press("j")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("y")  # "Tetap ajukan"
        await settle(pilot)

    drive(client, scenario)
    detail = client.usulan_detail(usulan_id)
    assert detail.usulan.status == "diajukan"
    asked = [h.alasan for h in detail.history if "belum layak" in h.alasan]
    assert len(asked) == 1 and asked[0].startswith(
        "Diajukan meski menurut aturan belum layak (dikonfirmasi): "
    )

"""The main flows of every screen, driven with Textual's Pilot against a real store."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from rich.console import Console
from sqlmodel import col, select
from textual.pilot import Pilot
from textual.widgets import DataTable, Footer, Input, Select, Static
from textual.widgets._footer import FooterKey

from client.config import load_config, save_config
from client.intake_wiring import BackgroundIntake
from client.paths import Paths
from client.services import BerkasClient
from store.database import set_meta
from store.models import Conflict, Dokumen, InboxItem, OutboxEntry, Pegawai, Usulan
from store.usulan import REFUSED_UPLOADS
from tests.tui.support import TODAY, Facts, make_pdf, settle
from tui.app import BerkasApp
from tui.screens.konfirmasi import KonfirmasiDialog
from tui.screens.konflik import KonflikScreen
from tui.screens.kotak_masuk import KotakMasukScreen
from tui.screens.lampirkan import LampirkanDialog
from tui.screens.pegawai import PegawaiScreen
from tui.screens.pegawai_detail import PegawaiDetailScreen
from tui.screens.tetapkan import TetapkanDialog
from tui.screens.usulan import UsulanScreen
from tui.screens.usulan_baru import UsulanBaruDialog
from tui.screens.usulan_editor import UsulanEditorScreen
from tui.widgets.app_header import AppHeader
from tui.widgets.nav_bar import NavBar
from tui.widgets.pegawai_search import PegawaiSearch

Scenario = Callable[[BerkasApp, Pilot[None]], Awaitable[None]]


def drive(client: BerkasClient, scenario: Scenario, size: tuple[int, int] = (120, 36)) -> BerkasApp:
    async def main() -> BerkasApp:
        app = BerkasApp(client, today=TODAY)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await scenario(app, pilot)
        return app

    return asyncio.run(main())


def table_keys(app: BerkasApp, selector: str) -> list[str]:
    table = app.screen.query_one(selector, DataTable)
    return [str(row.key.value) for row in table.ordered_rows]


def notes(app: BerkasApp) -> list[str]:
    return [n.message for n in app._notifications]


async def open_usulan(app: BerkasApp, pilot: Pilot[None], usulan_id: str) -> None:
    app.open_usulan(usulan_id)
    await settle(pilot)
    assert isinstance(app.screen, UsulanEditorScreen)


async def cursor_to(app: BerkasApp, selector: str, key: str) -> None:
    table = app.screen.query_one(selector, DataTable)
    table.move_cursor(row=table.get_row_index(key))


# -- Pegawai ------------------------------------------------------------------------------


def test_search_finds_pegawai_by_name_and_nip(client: BerkasClient, facts: Facts) -> None:
    async def scenario(app: BerkasApp, pilot: Pilot[None]) -> None:
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, PegawaiScreen)
        await pilot.press(*facts.search_name.lower())
        await settle(pilot)
        found = app.screen.query_one(PegawaiSearch)
        assert found.last_query == facts.search_name.lower()
        names = [row[1].plain for row in _rows(app, "#hasil")]
        assert facts.kp_pegawai_nama in names
        assert all(facts.search_name in n for n in names)
        # A NIP written the way it is printed, with spaces, finds exactly one.
        app.screen.query_one(
            "#cari", Input
        ).value = f"{facts.kp_pegawai_nip[:8]} {facts.kp_pegawai_nip[8:14]}"
        await settle(pilot)
        assert [row[1].plain for row in _rows(app, "#hasil")] == [facts.kp_pegawai_nama]
        # Enter on the only result opens the pegawai.
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PegawaiDetailScreen)
        assert app.screen.detail is not None
        assert app.screen.detail.pegawai.nip == facts.kp_pegawai_nip

    drive(client, scenario)


def _rows(app: BerkasApp, selector: str) -> list[list[object]]:
    table = app.screen.query_one(selector, DataTable)
    return [table.get_row(row.key) for row in table.ordered_rows]


# -- Usulan ------------------------------------------------------------------------------


def test_usulan_is_created_for_a_pegawai(client: BerkasClient, facts: Facts) -> None:
    taken = {u.nip for u in client.list_usulan()}
    target = next(p for p in client.search_pegawai("Lubis", limit=10) if p.nip not in taken)

    async def scenario(app: BerkasApp, pilot: Pilot[None]) -> None:
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, UsulanBaruDialog)
        app.screen.query_one("#cari", Input).value = target.nip
        await settle(pilot)
        await pilot.press("down", "enter")  # choose the pegawai
        await settle(pilot)
        app.screen.query_one("#layanan", Select).value = "pensiun"
        await settle(pilot)
        assert app.screen.query_one("#jenis", Select).value == "bup"
        await pilot.click("#buat")
        await settle(pilot)
        assert isinstance(app.screen, UsulanEditorScreen)
        assert app.screen.detail is not None
        assert app.screen.detail.usulan.nip == target.nip

    drive(client, scenario)
    made = [u for u in client.list_usulan(layanan="pensiun") if u.nip == target.nip]
    assert len(made) == 1
    assert made[0].status == "draft" and made[0].jenis == "bup"


def test_beranda_line_leads_to_the_filtered_list(client: BerkasClient, facts: Facts) -> None:
    async def scenario(app: BerkasApp, pilot: Pilot[None]) -> None:
        perlu = app.screen.query_one("#perlu")
        perlu.focus()
        index = next(i for i, o in enumerate(perlu._options) if o.id == "bts")  # type: ignore[attr-defined]
        perlu.highlighted = index  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, UsulanScreen)
        assert app.screen.query_one("#status", Select).value == "dikembalikan"
        assert table_keys(app, "#daftar-usulan") == [facts.bts_usulan_id]
        await pilot.press("c")  # every usulan again
        await settle(pilot)
        assert set(table_keys(app, "#daftar-usulan")) == {
            facts.bts_usulan_id,
            facts.kp_usulan_id,
        }

    drive(client, scenario)


def test_dokumen_attached_from_the_inbox(client: BerkasClient, facts: Facts) -> None:
    async def scenario(app: BerkasApp, pilot: Pilot[None]) -> None:
        await open_usulan(app, pilot, facts.kp_usulan_id)
        await cursor_to(app, "#daftar-periksa", "SK_PANGKAT")
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, LampirkanDialog)
        # The scan recognised for this pegawai and kind is offered first.
        assert table_keys(app, "#pindaian")[0] == facts.inbox_kp_item_id
        offered = app.screen.query_one("#pindaian", DataTable).get_row(facts.inbox_kp_item_id)
        assert str(offered[1]).endswith("SK pangkat terakhir")  # its name, not SK_PANGKAT
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, UsulanEditorScreen)
        line = next(x for x in app.screen.detail.checklist if x.kode == "SK_PANGKAT")  # type: ignore[union-attr]
        assert line.state == "ada"

    drive(client, scenario)
    with client.store.read() as session:
        item = session.get(InboxItem, facts.inbox_kp_item_id)
        assert item is not None and item.state == "diproses"
    assert client.inbox_waiting() == 2


def test_dokumen_attached_from_a_file_path_replaced_and_removed(
    client: BerkasClient, facts: Facts, tmp_path: Path
) -> None:
    first = make_pdf(tmp_path / "sk jabatan.pdf", ("SK JABATAN",), pages=3)
    better = make_pdf(tmp_path / "sk jabatan baru.pdf", ("SK JABATAN (ulang)",), pages=1)

    async def from_file(app: BerkasApp, pilot: Pilot[None], key: str, path: Path) -> None:
        await pilot.press(key)
        await settle(pilot)
        assert isinstance(app.screen, LampirkanDialog)
        field = app.screen.query_one("#alamat", Input)
        field.value = str(path)
        field.focus()
        await pilot.press("enter")
        await settle(pilot)

    async def scenario(app: BerkasApp, pilot: Pilot[None]) -> None:
        await open_usulan(app, pilot, facts.kp_usulan_id)
        editor = app.screen
        assert isinstance(editor, UsulanEditorScreen)

        def line(kode: str) -> tuple[str, int]:
            assert editor.detail is not None
            found = next(x for x in editor.detail.checklist if x.kode == kode)
            return found.state, found.pages

        await cursor_to(app, "#daftar-periksa", "SK_JABATAN")
        await from_file(app, pilot, "a", first)
        assert line("SK_JABATAN") == ("ada", 3)
        await from_file(app, pilot, "g", better)  # replace
        assert line("SK_JABATAN") == ("ada", 1)
        await cursor_to(app, "#daftar-periksa", "IJAZAH")
        await pilot.press("x")  # remove, after a confirmation
        await settle(pilot)
        assert isinstance(app.screen, KonfirmasiDialog)
        await pilot.press("y")
        await settle(pilot)
        assert line("IJAZAH") == ("kurang", 0)

    drive(client, scenario)


def test_submit_refused_while_incomplete_then_accepted(client: BerkasClient, facts: Facts) -> None:
    async def first(app: BerkasApp, pilot: Pilot[None]) -> None:
        await open_usulan(app, pilot, facts.kp_usulan_id)
        await pilot.press("j")
        await settle(pilot)
        assert isinstance(app.screen, UsulanEditorScreen)  # no confirmation offered
        assert any("Belum bisa diajukan" in n for n in notes(app))

    drive(client, first)
    assert client.usulan_detail(facts.kp_usulan_id).usulan.status == "draft"
    for kode in client.usulan_detail(facts.kp_usulan_id).missing:
        client.attach_stored(
            facts.kp_usulan_id, kode, sha256="ab" * 32, size=1000, pages=1, terlalu_besar=False
        )

    async def second(app: BerkasApp, pilot: Pilot[None]) -> None:
        await open_usulan(app, pilot, facts.kp_usulan_id)
        await pilot.press("j")
        await settle(pilot)
        assert isinstance(app.screen, KonfirmasiDialog)
        await pilot.press("y")
        await settle(pilot)
        # The fixture's KP pegawai is due for KP: no question about eligibility (that one
        # is tests/tui/test_guard_rails.py's).
        assert isinstance(app.screen, UsulanEditorScreen)
        assert app.screen.detail is not None
        assert app.screen.detail.usulan.status == "diajukan"
        assert [h.ke for h in app.screen.detail.history][-1] == "diajukan"

    drive(client, second)


# -- Kotak masuk -----------------------------------------------------------------------------


def test_inbox_preview_assign_and_discard(client: BerkasClient, facts: Facts) -> None:
    async def scenario(app: BerkasApp, pilot: Pilot[None]) -> None:
        await pilot.press("f5")
        await settle(pilot)
        assert isinstance(app.screen, KotakMasukScreen)
        preview = app.screen.preview
        assert preview is not None and preview.item.id == facts.inbox_text_item_id
        assert preview.pages == 2
        assert preview.text_lines[0] == "SURAT KEPUTUSAN BUPATI"
        await cursor_to(app, "#pindaian-masuk", facts.inbox_kp_item_id)
        await settle(pilot)
        # The recognised kind reads as the checklist names it, not its code.
        row = app.screen.query_one("#pindaian-masuk", DataTable).get_row(facts.inbox_kp_item_id)
        assert str(row[1]).endswith("SK pangkat terakhir")
        await pilot.press("t")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, TetapkanDialog)
        assert dialog.query_one("#kode", Select).value == "SK_PANGKAT"  # recognised
        await pilot.click("#tetapkan")
        await settle(pilot)
        assert notes(app)[-1].endswith("sebagai SK pangkat terakhir.")
        assert facts.inbox_kp_item_id not in table_keys(app, "#pindaian-masuk")
        await cursor_to(app, "#pindaian-masuk", facts.inbox_text_item_id)
        await pilot.press("b")
        await settle(pilot)
        app.screen.query_one("#isian", Input).value = "Bukan berkas pegawai DISDIK"
        await pilot.press("enter")
        await settle(pilot)
        assert table_keys(app, "#pindaian-masuk") == [
            k for k in table_keys(app, "#pindaian-masuk") if k != facts.inbox_text_item_id
        ]
        assert len(table_keys(app, "#pindaian-masuk")) == 1

    drive(client, scenario)
    detail = client.usulan_detail(facts.kp_usulan_id)
    assert next(x for x in detail.checklist if x.kode == "SK_PANGKAT").state == "ada"
    with client.store.read() as session:
        discarded = session.get(InboxItem, facts.inbox_text_item_id)
        assert discarded is not None
        assert (discarded.state, discarded.reason) == ("dibuang", "Bukan berkas pegawai DISDIK")
    # Intake put a copy into quarantine beside its reason; the filed scan is a Dokumen.
    karantina = client.config.intake.quarantine_root(client.paths.scans)
    copy = karantina / "IMG_20260104_0931.pdf"
    assert copy.read_bytes().startswith(b"%PDF")
    reasons = [p.read_text(encoding="utf-8") for p in karantina.glob("*alasan*")]
    assert any("Bukan berkas pegawai DISDIK" in r for r in reasons)
    with client.store.read() as session:
        filed = session.get(InboxItem, facts.inbox_kp_item_id)
        assert filed is not None and (filed.state, filed.kode) == ("diproses", "SK_PANGKAT")


def test_inbox_suggestion_accepted_with_one_key(client: BerkasClient, facts: Facts) -> None:
    async def scenario(app: BerkasApp, pilot: Pilot[None]) -> None:
        await pilot.press("f5")
        await settle(pilot)
        # A scan without a suggestion: the key says so and files nothing.
        await cursor_to(app, "#pindaian-masuk", facts.inbox_text_item_id)
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert "tidak membawa saran" in notes(app)[-1]
        # The recognised one shows its suggestion and files with "s".
        await cursor_to(app, "#pindaian-masuk", facts.inbox_kp_item_id)
        await settle(pilot)
        console = Console(width=200, file=io.StringIO(), record=True)
        console.print(app.screen.query_one("#isi-pratinjau", Static).content)
        shown = console.export_text()
        assert f"Saran    {facts.kp_pegawai_nama} · SK pangkat terakhir" in shown, shown
        assert "tekan s untuk menerima" in shown
        await pilot.press("s")
        await settle(pilot)
        assert facts.inbox_kp_item_id not in table_keys(app, "#pindaian-masuk")
        assert "diberkaskan ke usulan" in notes(app)[-1]

    drive(client, scenario)
    detail = client.usulan_detail(facts.kp_usulan_id)
    assert next(x for x in detail.checklist if x.kode == "SK_PANGKAT").state == "ada"
    with client.store.read() as session:
        filed = session.get(InboxItem, facts.inbox_kp_item_id)
        assert filed is not None and (filed.state, filed.kode) == ("diproses", "SK_PANGKAT")
        untouched = session.get(InboxItem, facts.inbox_text_item_id)
        assert untouched is not None and untouched.state == "menunggu"


# -- Konflik ------------------------------------------------------------------------------------


def test_conflict_resolved_per_field_and_outbox_holds_the_resolution(
    client: BerkasClient, facts: Facts
) -> None:
    async def scenario(app: BerkasApp, pilot: Pilot[None]) -> None:
        await pilot.press("f7")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, KonflikScreen) and screen.detail is not None
        assert screen.detail.record_id == facts.conflict_pegawai_id
        await pilot.press("s")  # nothing chosen yet: refused
        await settle(pilot)
        assert any("Pilih dahulu" in n for n in notes(app))
        await pilot.press("t")  # golongan: theirs, cursor moves to jabatan
        await pilot.press("e")  # jabatan: typed
        await settle(pilot)
        app.screen.query_one("#isian", Input).value = "Analis SDM Aparatur Ahli Pertama"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        # The pegawai's conflicts are gone; the usulan's one is shown next.
        assert screen.detail is not None
        assert screen.detail.table_name == "usulan"

    drive(client, scenario)
    with client.store.read() as session:
        pegawai = session.get(Pegawai, facts.conflict_pegawai_id)
        assert pegawai is not None
        assert (pegawai.golongan, pegawai.jabatan) == ("IV/a", "Analis SDM Aparatur Ahli Pertama")
        for cid in ("k-001", "k-002"):
            c = session.get(Conflict, cid)
            assert c is not None and c.resolved
        entry = session.exec(
            select(OutboxEntry)
            .where(OutboxEntry.record_id == facts.conflict_pegawai_id)
            .order_by(col(OutboxEntry.seq).desc())
        ).first()
        assert entry is not None
        assert sorted(entry.resolves) == ["k-001", "k-002"]
        assert entry.changes["golongan"]["new"] == "IV/a"
        assert entry.changes["jabatan"]["new"] == "Analis SDM Aparatur Ahli Pertama"


def test_choosing_mine_still_sends_an_op_naming_the_conflict(
    client: BerkasClient, facts: Facts
) -> None:
    """Keeping the local value changes nothing locally, yet the server must hear it."""
    client.resolve_conflict("k-003", "mine")
    with client.store.read() as session:
        usulan = session.get(Usulan, facts.bts_usulan_id)
        assert usulan is not None and usulan.catatan == "Menunggu KP4 asli"
        entry = session.exec(
            select(OutboxEntry)
            .where(OutboxEntry.record_id == facts.bts_usulan_id)
            .order_by(col(OutboxEntry.seq).desc())
        ).first()
        assert entry is not None
        assert entry.resolves == ["k-003"]
        assert entry.changes == {
            "catatan": {"base": "Menunggu KP4 asli", "new": "Menunggu KP4 asli"}
        }
        conflict = session.get(Conflict, "k-003")
        assert conflict is not None
        assert (conflict.resolved, conflict.resolution) == (True, "Menunggu KP4 asli")


# -- Sinkronisasi, bantuan, palette -----------------------------------------------------------


def test_sync_screen_and_header_show_state_and_sync_now_explains(
    client: BerkasClient, facts: Facts
) -> None:
    async def scenario(app: BerkasApp, pilot: Pilot[None]) -> None:
        await pilot.press("f6")
        await settle(pilot)
        status = app.sync_status
        assert status is not None
        assert status.online is None and status.pending_ops == client.pending_ops()
        assert [u.name for u in status.uploads][:1] == [f"{facts.kp_pegawai_nip}_IJAZAH.pdf"]
        assert status.conflicts == 3
        header = str(app.screen.query_one("SyncIndicator").render())
        assert "Belum terdaftar" in header and "3 konflik" in header
        await pilot.press("s")
        await settle(pilot)
        assert any("belum terdaftar ke server BKD" in n for n in notes(app))

    drive(client, scenario)


def test_help_and_command_palette_cover_every_screen_action(client: BerkasClient) -> None:
    async def scenario(app: BerkasApp, pilot: Pilot[None]) -> None:
        await pilot.press("f1")
        await settle(pilot)
        assert type(app.screen).__name__ == "BantuanScreen"
        await pilot.press("escape")
        await pilot.press("f4")
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for wanted in ("Buka Pegawai", "Buka Konflik", "Buat usulan baru", "Sinkronkan sekarang"):
            assert wanted in titles
        assert "Usulan: Saring" in titles and "Usulan: Muat ulang" in titles
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"konflik")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, KonflikScreen)

    drive(client, scenario)


def assert_fits(app: BerkasApp, width: int, height: int) -> None:
    """The screen fits the terminal: it does not scroll itself, nothing is cut off at
    the right edge, the header, the row of screens and the footer are all on screen,
    and each table shows rows (a table may scroll its own columns sideways, the
    footer its keys)."""
    screen = app.screen
    name = type(screen).__name__
    assert screen.virtual_size.width <= width, f"{name} scrolls sideways"
    assert screen.virtual_size.height <= height, f"{name} scrolls down"
    for widget in screen.walk_children(with_self=False):
        # The footer scrolls its keys (all are in the command palette too).
        in_footer = any(isinstance(node, Footer) for node in widget.ancestors)
        if widget.display and widget.visible and not in_footer:
            assert widget.region.right <= width, f"{name}: {widget!r} cut off at the right"
    for kind in (AppHeader, NavBar, Footer):
        for bar in screen.query(kind):
            region = bar.region
            assert region.height >= 1, f"{name}: {kind.__name__} has no room"
            assert region.bottom <= height and region.right <= width, f"{name}: {kind.__name__}"
    for table in screen.query(DataTable):
        if table.display:
            assert table.region.height >= 3, f"{name}: {table!r} has no room for rows"


def test_screens_fit_80x24_without_errors(client: BerkasClient, facts: Facts) -> None:
    """Every main screen and the usulan editor at 80x24: each loads without a failed
    worker (settle re-raises one) or an error shown, and fits."""

    async def scenario(app: BerkasApp, pilot: Pilot[None]) -> None:
        for key in ("f3", "f4", "f5", "f6", "f7", "f2"):
            await pilot.press(key)
            await settle(pilot)
            assert_fits(app, 80, 24)
        await open_usulan(app, pilot, facts.bts_usulan_id)
        line = app.screen.query_one("#daftar-periksa", DataTable)
        assert line.row_count > 10
        assert_fits(app, 80, 24)
        assert not [n for n in app._notifications if n.severity == "error"]

    drive(client, scenario, size=(80, 24))


def test_beranda_soon_list_opens_the_pegawai_ready_for_an_usulan(
    client: BerkasClient, facts: Facts
) -> None:
    async def scenario(app: BerkasApp, pilot: Pilot[None]) -> None:
        soon = app.screen.query_one("#segera", DataTable)
        # Rows are keyed "<layanan>:<pegawai id>": one person may be due for both.
        layanan, _, first = str(soon.ordered_rows[0].key.value).partition(":")
        assert layanan == "pensiun"
        soon.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PegawaiDetailScreen)
        assert app.screen.pegawai_id == first
        await pilot.press("n")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, UsulanBaruDialog)
        # The nearest pensiun comes first, so the new usulan defaults to pensiun BUP.
        assert dialog.query_one("#layanan", Select).value == "pensiun"
        assert dialog.query_one("#jenis", Select).value == "bup"

    drive(client, scenario)


def test_records_a_sync_brings_show_on_the_screen_in_view(
    client: BerkasClient, facts: Facts
) -> None:
    """The App tells the screen in view that data changed (DataChanged): it reloads at
    once, not only when shown again."""

    async def scenario(app: BerkasApp, pilot: Pilot[None]) -> None:
        await pilot.press("f4")
        await settle(pilot)
        before = set(table_keys(app, "#daftar-usulan"))
        pegawai = client.search_pegawai(facts.search_name)[0]
        arrived = client.create_usulan(pegawai.id, "kp", "reguler", today=TODAY)  # as a pull
        app.data_changed()  # what the App does when background sync reports records
        await settle(pilot)
        assert set(table_keys(app, "#daftar-usulan")) == before | {arrived.id}

    drive(client, scenario)


# -- Sinkronisasi: a file the server refused ----------------------------------------------------


def test_refused_upload_is_listed_with_its_usulan_and_can_be_dropped(
    client: BerkasClient, facts: Facts
) -> None:
    """Issue 15 item 2: F6 lists the refused file with its usulan and dokumen; b drops the
    dokumen (the checklist shows it missing), and the list empties."""
    line = next(li for li in client.usulan_detail(facts.kp_usulan_id).checklist if li.dokumen_id)
    with client.store.apply_remote() as session:
        dokumen = session.get(Dokumen, line.dokumen_id)
        assert dokumen is not None
        refuse = {dokumen.sha256: "Dokumen melebihi batas unggah 64 MB."}
        set_meta(session, REFUSED_UPLOADS, json.dumps(refuse))

    async def scenario(app: BerkasApp, pilot: Pilot[None]) -> None:
        await pilot.press("f6")
        await settle(pilot)
        assert table_keys(app, "#ditolak") == [dokumen.sha256]
        table = app.screen.query_one("#ditolak", DataTable)
        row = [str(c) for c in table.get_row(dokumen.sha256)]
        assert facts.kp_pegawai_nama in row[0] and "batas unggah" in row[2]
        await pilot.press("b")
        await settle(pilot)
        assert table_keys(app, "#ditolak") == []

    drive(client, scenario)
    assert client.refused_uploads() == []
    after = client.usulan_detail(facts.kp_usulan_id).checklist
    assert next(li for li in after if li.kode == line.kode).state == "kurang"


# -- the scan watcher beside the TUI ------------------------------------------------------------


def test_tui_watches_the_scan_folder_and_beranda_says_what_it_took(
    client: BerkasClient, facts: Facts, home: Paths
) -> None:
    """Issue 15 item 3: with the TUI open a scan dropped into pindai/ is taken (no
    `berkas intake run` elsewhere), Beranda shows that it watches and what it took, and
    a second watcher on the same home is refused (one per home)."""
    config = load_config(home.config)
    config.intake = config.intake.model_copy(update={"stable_delay": 0.3})
    save_config(home.config, config)
    before = len(client.list_inbox())

    async def scenario(app: BerkasApp, pilot: Pilot[None]) -> None:
        for _ in range(100):
            await pilot.pause(0.05)
            if app.watch_state is not None and app.watch_state.watching:
                break
        assert app.watch_state is not None and app.watch_state.watching
        second = BackgroundIntake(home)
        assert not second.start().watching
        assert "sudah dipantau" in second.state.held_by
        await pilot.press("f5")  # the scan arrives while another section is in view
        await settle(pilot)
        make_pdf(home.scans / "scan_0042.pdf", ("SURAT KETERANGAN",))
        for _ in range(300):
            await pilot.pause(0.05)
            if app.watch_state.taken:
                break
        await pilot.press("f2")
        await settle(pilot)
        line = str(app.screen.query_one("#pemantau", Static).render())
        assert "Memantau folder pindai/" in line and "scan_0042.pdf" in line

    async def main() -> None:
        app = BerkasApp(client, today=TODAY, background_intake=True)
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await scenario(app, pilot)

    asyncio.run(main())
    assert len(client.list_inbox()) == before + 1
    assert not (home.scans / "scan_0042.pdf").exists()


def test_f_key_goes_to_the_root_of_its_section(client: BerkasClient, facts: Facts) -> None:
    """Issue 15 item 9: F3 from a pegawai detail opened in the Pegawai section shows the
    Pegawai list itself, so keys typed there go to its search, not to the detail."""

    async def scenario(app: BerkasApp, pilot: Pilot[None]) -> None:
        await pilot.press("f3")
        await settle(pilot)
        pegawai = client.pegawai_by_nip(facts.kp_pegawai_nip)
        assert pegawai is not None
        app.open_pegawai(pegawai.id, None)
        await settle(pilot)
        assert isinstance(app.screen, PegawaiDetailScreen)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, PegawaiScreen)
        assert len(app.screen_stack) == 1

    drive(client, scenario)


def test_submitted_usulan_hides_the_editing_keys(client: BerkasClient, facts: Facts) -> None:
    """Issue 15 item 9: once submitted, a/g/x/j/spasi do nothing, so the footer hides them."""
    with client.store.apply_remote() as session:
        usulan = session.get(Usulan, facts.kp_usulan_id)
        assert usulan is not None
        usulan.status = "diajukan"
        session.add(usulan)

    async def scenario(app: BerkasApp, pilot: Pilot[None]) -> None:
        await open_usulan(app, pilot, facts.kp_usulan_id)
        shown = {k.description for k in app.screen.query(FooterKey)}
        assert "Kembali" in shown
        assert not shown & {"Lampirkan", "Ajukan", "Ganti", "Hapus", "Berlaku?"}, shown

    drive(client, scenario)


def test_the_bkd_note_shows_while_returned_and_not_after_resubmission(
    client: BerkasClient, facts: Facts
) -> None:
    async def returned(app: BerkasApp, pilot: Pilot[None]) -> None:
        await open_usulan(app, pilot, facts.bts_usulan_id)
        note = app.screen.query_one("#catatan-bts", Static)
        assert note.display and "KP4 tidak terbaca" in str(note.render())

    drive(client, returned)
    # Resubmitted (as the OPD's ajukan leaves it: the BKD's note stays on the record).
    with client.store.apply_remote() as session:
        u = session.get(Usulan, facts.bts_usulan_id)
        assert u is not None and u.catatan_verifikator
        u.status = "diajukan"
        session.add(u)

    async def resubmitted(app: BerkasApp, pilot: Pilot[None]) -> None:
        await open_usulan(app, pilot, facts.bts_usulan_id)
        assert not app.screen.query_one("#catatan-bts", Static).display

    drive(client, resubmitted)

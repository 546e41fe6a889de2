"""The usulan state machine on push: who moves what, the checklist, BTS notes, pertek,
and the history of every move."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from server.models import StatusMove
from tests.server.conftest import (
    KP_REGULER_REQUIRED,
    applied_record,
    complete_checklist,
    dokumen_data,
    history_data,
    pegawai_data,
    usulan_data,
)
from tests.support.device import TestDevice
from tests.support.server import RunningServer


def _move(
    device: TestDevice, usulan: dict[str, Any], status: str, **fields: Any
) -> tuple[Any, Any]:
    """Push a status move the way store.usulan.move_status writes it: the history entry
    first, then the usulan change. Returns (history result, usulan result)."""
    history = device.create(
        "usulan_history",
        history_data(usulan["id"], usulan["status"], status, device.device_id, "alasan uji"),
        opd_id=usulan["opd_id"],
    )
    move = device.update("usulan", usulan, {"status": status, **fields})
    results = device.push(history, move).results
    return results[0], results[1]


def test_incomplete_usulan_cannot_be_submitted(
    device: TestDevice, usulan_ready: dict[str, Any]
) -> None:
    _, result = _move(device, usulan_ready, "diajukan")
    assert result.outcome == "refused"
    assert "belum lengkap" in (result.reason or "")
    for kode in KP_REGULER_REQUIRED:
        assert kode in (result.reason or "")


def test_complete_usulan_submitted_with_history(
    server: RunningServer, device: TestDevice, usulan_ready: dict[str, Any]
) -> None:
    complete_checklist(device, usulan_ready)
    history, result = _move(device, usulan_ready, "diajukan")
    assert result.outcome == "applied", result
    assert result.record and result.record["status"] == "diajukan"
    assert history.outcome == "applied"
    assert history.record and history.record["oleh_perangkat"] == device.device_id
    with server.db.read() as session:
        [move] = session.scalars(
            select(StatusMove).where(StatusMove.usulan_id == usulan_ready["id"])
        ).all()
    assert (move.dari_status, move.ke_status) == ("draft", "diajukan")
    assert move.device_id == device.device_id and move.person == "Ani"
    assert move.alasan == "alasan uji" and move.observed_at > 0


def test_dokumen_earlier_in_the_same_batch_count(device: TestDevice) -> None:
    pegawai = applied_record(device, "pegawai", pegawai_data())
    usulan_op = device.create("usulan", usulan_data(pegawai["id"]))
    dokumen_ops = [
        device.create("dokumen", dokumen_data(usulan_op.record_id, k)) for k in KP_REGULER_REQUIRED
    ]
    usulan = {
        **usulan_data(pegawai["id"]),
        "id": usulan_op.record_id,
        "opd_id": device.opd_kode,
        "version": 1,
    }
    submit = device.update("usulan", usulan, {"status": "diajukan"})
    results = device.push(usulan_op, *dokumen_ops, submit).results
    assert [r.outcome for r in results] == ["applied"] * len(results)


def test_dokumen_not_ada_or_deleted_do_not_count(
    device: TestDevice, usulan_ready: dict[str, Any]
) -> None:
    docs = complete_checklist(device, usulan_ready)
    device.push(device.update("dokumen", docs[0], {"state": "terlalu_besar"}))
    device.push(device.update("dokumen", docs[1], {}, deleted=True))
    _, result = _move(device, usulan_ready, "diajukan")
    assert result.outcome == "refused"
    assert KP_REGULER_REQUIRED[0] in (result.reason or "")
    assert KP_REGULER_REQUIRED[1] in (result.reason or "")


def test_optional_items_that_apply_are_required(device: TestDevice) -> None:
    pegawai = applied_record(device, "pegawai", pegawai_data())
    usulan = applied_record(device, "usulan", usulan_data(pegawai["id"], berlaku=["STLUD"]))
    complete_checklist(device, usulan)
    _, result = _move(device, usulan, "diajukan")
    assert result.outcome == "refused" and "STLUD" in (result.reason or "")


def test_only_opd_submits(
    device: TestDevice, verifier: TestDevice, usulan_ready: dict[str, Any]
) -> None:
    complete_checklist(device, usulan_ready)
    _, result = _move(verifier, usulan_ready, "diajukan")
    assert result.outcome == "refused"


def _submitted(
    device: TestDevice, usulan: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    docs = complete_checklist(device, usulan)
    _, result = _move(device, usulan, "diajukan")
    assert result.outcome == "applied", result
    return dict(result.record or {}), docs


def test_only_verifikator_moves_out_of_diajukan(
    device: TestDevice, verifier: TestDevice, usulan_ready: dict[str, Any]
) -> None:
    usulan, _ = _submitted(device, usulan_ready)
    for target in ("diverifikasi", "ditolak"):
        _, result = _move(device, usulan, target)
        assert result.outcome == "refused" and "verifikator" in (result.reason or "")
    _, result = _move(verifier, usulan, "diverifikasi")
    assert result.outcome == "applied", result


def test_bts_with_notes_per_dokumen_then_fix_and_resubmit(
    device: TestDevice, verifier: TestDevice, usulan_ready: dict[str, Any]
) -> None:
    usulan, docs = _submitted(device, usulan_ready)
    _, no_notes = _move(verifier, usulan, "dikembalikan")
    assert no_notes.outcome == "refused" and "catatan" in (no_notes.reason or "")

    skp = next(d for d in docs if d["kode"] == "SKP")
    history = verifier.create(
        "usulan_history",
        history_data(usulan["id"], "diajukan", "dikembalikan", verifier.device_id, "SKP buram"),
        opd_id=usulan["opd_id"],
    )
    bts = verifier.update(
        "usulan", usulan, {"status": "dikembalikan", "catatan_verifikator": "Perbaiki SKP"}
    )
    note = verifier.update(
        "dokumen", skp, {"state": "dikembalikan", "catatan_verifikator": "SKP buram"}
    )
    results = verifier.push(history, bts, note).results
    assert [r.outcome for r in results] == ["applied"] * 3, results
    usulan = dict(results[1].record or {})

    # The OPD sees the notes, replaces the dokumen and submits again.
    pulled = {c.record_id: c for c in device.pull_all()}
    assert pulled[skp["id"]].record["catatan_verifikator"] == "SKP buram"
    assert pulled[usulan["id"]].record["status"] == "dikembalikan"
    assert pulled[history.record_id].record["oleh_perangkat"] == verifier.device_id
    replace = [
        device.update("dokumen", dict(pulled[skp["id"]].record), {}, deleted=True),
        device.create("dokumen", dokumen_data(usulan["id"], "SKP")),
    ]
    assert [r.outcome for r in device.push(*replace).results] == ["applied", "applied"]
    _, again = _move(device, usulan, "diajukan")
    assert again.outcome == "applied", again


def test_ms_forward_and_finish_with_pertek(
    device: TestDevice, verifier: TestDevice, usulan_ready: dict[str, Any]
) -> None:
    usulan, _ = _submitted(device, usulan_ready)
    _, ms = _move(verifier, usulan, "diverifikasi")
    _, fwd = _move(verifier, dict(ms.record or {}), "diteruskan")
    assert fwd.outcome == "applied"
    usulan = dict(fwd.record or {})
    _, missing = _move(verifier, usulan, "selesai")
    assert missing.outcome == "refused" and "pertek" in (missing.reason or "")
    _, done = _move(
        verifier,
        usulan,
        "selesai",
        nomor_pertek="PERTEK-123/BKN/2025",
        tanggal_pertek="2025-03-01",
    )
    assert done.outcome == "applied", done
    assert done.record and done.record["tanggal_pertek"] == "2025-03-01"
    _, after = _move(verifier, dict(done.record), "diteruskan")
    assert after.outcome == "refused" and "final" in (after.reason or "")


def test_tms_is_final(
    device: TestDevice, verifier: TestDevice, usulan_ready: dict[str, Any]
) -> None:
    usulan, _ = _submitted(device, usulan_ready)
    _, tms = _move(verifier, usulan, "ditolak", catatan_verifikator="Tidak memenuhi syarat")
    assert tms.outcome == "applied"
    _, again = _move(device, dict(tms.record or {}), "diajukan")
    assert again.outcome == "refused"


def test_skipping_states_refused(
    device: TestDevice, verifier: TestDevice, usulan_ready: dict[str, Any]
) -> None:
    _, result = _move(
        verifier, usulan_ready, "selesai", nomor_pertek="X", tanggal_pertek="2025-01-01"
    )
    assert result.outcome == "refused"


def test_new_usulan_must_be_draft_and_known(device: TestDevice) -> None:
    pegawai = applied_record(device, "pegawai", pegawai_data())
    bad = [
        device.create("usulan", usulan_data(pegawai["id"], status="diajukan")),
        device.create("usulan", usulan_data(pegawai["id"], layanan="mutasi")),
        device.create("usulan", usulan_data(pegawai["id"], jenis="istimewa")),
    ]
    assert [r.outcome for r in device.push(*bad).results] == ["refused"] * 3


def test_opd_cannot_touch_dokumen_of_submitted_usulan(
    device: TestDevice, usulan_ready: dict[str, Any]
) -> None:
    usulan, docs = _submitted(device, usulan_ready)
    results = device.push(
        device.update("dokumen", docs[0], {"pages": 3}),
        device.create("dokumen", dokumen_data(usulan["id"], "STLUD")),
    ).results
    assert [r.outcome for r in results] == ["refused", "refused"]


def test_history_entries_are_immutable(device: TestDevice, usulan_ready: dict[str, Any]) -> None:
    entry = applied_record(
        device,
        "usulan_history",
        history_data(usulan_ready["id"], "", "draft", device.device_id),
    )
    result = device.push(device.update("usulan_history", entry, {"alasan": "ubah"})).results[0]
    assert result.outcome == "refused"

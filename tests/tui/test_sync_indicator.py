"""The header's sync indicator says only what is true of this device."""

from __future__ import annotations

from client.views import SyncStatus
from tui.widgets.sync_indicator import describe


def _status(*, online: bool | None, pending: int = 0) -> SyncStatus:
    return SyncStatus(
        enrolled=online is not None,
        server_url="",
        state="",
        state_label="",
        last_sync=None,
        last_error="",
        pending_ops=pending,
        pending_uploads=0,
        conflicts=0,
        online=online,
    )


def test_a_device_not_enrolled_never_reads_as_all_sent() -> None:
    assert describe(_status(online=None)).plain == "○ Belum terdaftar"
    assert describe(_status(online=None), short=True).plain == "○ Lokal"
    # What waits for the enrolment is still counted.
    assert describe(_status(online=None, pending=3)).plain == "○ Belum terdaftar · 3 belum terkirim"
    assert describe(_status(online=True)).plain == "● Daring · semua terkirim"

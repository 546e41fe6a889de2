"""Concurrent pushes and pulls: versions stay consistent and a device that pulls while
others push never misses a change (sequence numbers commit in order)."""

from __future__ import annotations

import threading
from typing import Any

from server.auth import Caller
from sync.crypto import sign_request
from tests.server.conftest import DeviceFactory, applied_record, pegawai_data
from tests.support.device import TestDevice
from tests.support.server import RunningServer


def test_concurrent_pushes_and_a_puller_agree(enrol: DeviceFactory, opd: str) -> None:
    devices = [enrol(opd) for _ in range(5)]
    watcher = enrol(opd)
    shared = applied_record(devices[0], "pegawai", pegawai_data(1))
    stop = threading.Event()
    seen: dict[str, int] = {}
    cursor = {"since": 0}
    errors: list[BaseException] = []

    def pull_page() -> bool:
        page = watcher.changes(cursor["since"], 50)
        for change in page.changes:
            seen[change.record_id] = change.version
        cursor["since"] = page.next_since
        return page.has_more

    def pull_forever() -> None:
        try:
            while not stop.is_set():
                pull_page()
        except BaseException as exc:  # reported below
            errors.append(exc)

    outcomes: list[str] = []
    lock = threading.Lock()

    def work(index: int, device: TestDevice) -> None:
        try:
            own = applied_record(device, "pegawai", pegawai_data(10 + index))
            for step in range(8):
                result = device.push(
                    device.update("pegawai", own, {"jabatan": f"Langkah {step}"}),
                    device.update("pegawai", shared, {"unit_kerja": f"Unit {index}-{step}"}),
                ).results
                own = dict(result[0].record or {})
                with lock:
                    outcomes.extend(r.outcome for r in result)
        except BaseException as exc:
            errors.append(exc)

    puller = threading.Thread(target=pull_forever)
    puller.start()
    workers = [threading.Thread(target=work, args=(i, d)) for i, d in enumerate(devices)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    stop.set()
    puller.join()
    assert not errors, errors

    # Catch up incrementally, as a client does: the result must equal a pull from scratch,
    # so no change committed while the watcher was paging was skipped.
    while pull_page():
        pass
    final: dict[str, Any] = {c.record_id: c for c in watcher.pull_all(0)}
    assert seen == {record_id: change.version for record_id, change in final.items()}
    assert set(outcomes) <= {"applied", "merged", "conflict"}
    # Every device's own record took every step, in order.
    for change in final.values():
        if change.record_id != shared["id"]:
            assert change.version == 9 and change.record["jabatan"] == "Langkah 7"


def test_group_commit_keeps_each_push_separate(
    server: RunningServer, enrol: DeviceFactory, opd: str, other_opd: str
) -> None:
    """Pushes applied in one transaction answer exactly as if applied one by one."""
    from server.push import push_many

    a, b = enrol(opd), enrol(other_opd)
    record = applied_record(a, "pegawai", pegawai_data(1))
    first = a.update("pegawai", record, {"nama": "Satu"})
    stale = a.update("pegawai", record, {"nama": "Dua"})  # same base: conflicts after first
    theirs = b.create("pegawai", pegawai_data(2))
    caller_a = _caller(server, a)
    caller_b = _caller(server, b)
    ra, rb, retry = push_many(
        server.db, [(caller_a, [first, stale]), (caller_b, [theirs]), (caller_a, [first])]
    )
    assert [r.outcome for r in ra.results] == ["applied", "conflict"]
    assert rb.results[0].outcome == "applied"
    assert retry.results[0] == ra.results[0]  # a retry in the same group: the first result
    assert rb.server_seq != ra.server_seq  # each device hears of its own OPD only


def _caller(server: RunningServer, device: TestDevice) -> Caller:
    """The Caller the server makes of a signed request by `device` (without sending it)."""
    headers = sign_request(device.keys, device.device_id, "GET", "/v1/sync/changes", b"")
    return server.services.auth.verify("GET", "/v1/sync/changes", headers, b"")

"""The demo: a fresh home with an OPD, realistic sample pegawai and usulan."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from client.cli_support import save_default_config
from client.paths import Paths
from client.sample_data import generate_pegawai
from client.services import BerkasClient
from store.pegawai import upsert_pegawai

DEMO_OPD = "DISDIK"
DEMO_OPERATOR = "Ani Pengelola"
DEMO_PEGAWAI = 400
DEMO_MARKER = ".berkas-demo"


def run_demo(paths: Paths, *, today: date, echo: Callable[[str], None]) -> BerkasClient:
    """Build the demo home and return the open client on it."""
    save_default_config(paths, DEMO_OPD, DEMO_OPERATOR)
    paths.scans.mkdir(parents=True, exist_ok=True)
    client = BerkasClient.open(paths)
    people = [p for p in generate_pegawai(DEMO_PEGAWAI * 3, today=today) if p.opd_kode == DEMO_OPD]
    with client.store.write() as session:
        for person in people:
            upsert_pegawai(session, person.data)
    echo(f"Data contoh: {len(people)} pegawai {DEMO_OPD} dimuat ke {paths.data}")
    dashboard = client.dashboard(today)
    for view in dashboard.kp_due_without_usulan[:5]:
        client.create_usulan(view.id, "kp", "reguler", today=today)
    for view in dashboard.pensiun_due_without_usulan[:3]:
        client.create_usulan(view.id, "pensiun", "bup", today=today)
    return client

"""/metrics counts what a scripted sync did; the JSON access log carries request ids and
route templates, never capabilities; `berkas server devices` shows last sync and version."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import select
from typer.testing import CliRunner

from server.cli import app as server_cli
from server.metrics import METRICS_TOKEN_ENV, JsonFormatter
from store import usulan as wf
from store.models import Blob, Pegawai, Usulan
from sync.version import BERKAS_VERSION
from tests.server.test_backup import attach_scan
from tests.support.server import start_server
from tests.sync.engine.conftest import NIPS, make_device, random_bytes

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str, **headers: str) -> Samples:
    answer = httpx.get(f"{url}/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    out: Samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_a_scripted_sync(
    tmp_path: Path, own_database_url: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    server = start_server(tmp_path / "server", own_database_url)
    a = make_device(tmp_path, "a", server, server.url)
    b = make_device(tmp_path, "b", server, server.url)
    try:
        before = scrape(server.url)
        caplog.set_level(logging.INFO, logger="berkas.server.access")
        pid = a.add_pegawai(NIPS[0])
        sha = attach_scan(a, pid, random_bytes(300_000, seed=5), "s.pdf")
        kodes = wf.required_kodes("pindah", "pindah", [])[1:]
        extras = [a.store_scan(random_bytes(1_000, seed=n), f"{n}.pdf") for n in range(len(kodes))]
        with a.store.write() as session:
            [usulan] = session.exec(select(Usulan)).all()
            for kode, extra in zip(kodes, extras, strict=True):
                wf.attach_dokumen(session, usulan, kode, sha256=extra, size=1, pages=1)
            wf.ajukan(session, usulan)
        first = a.sync()
        assert first.ok
        assert b.sync().ok
        # The same field changed on both devices from the same base: one conflict.
        a.edit(Pegawai, pid, nama="Nama Dari A")
        b.edit(Pegawai, pid, nama="Nama Dari B")
        second_a, second_b = a.sync(), b.sync()
        assert second_a.ok and second_b.ok and second_b.push.conflicts == 1
        server.services.auth.flush_last_seen()
        after = scrape(server.url)

        def grew(name: str, **labels: str) -> float:
            return value(after, name, **labels) - value(before, name, **labels)

        pushed = first.push.pushed + second_a.push.pushed + second_b.push.pushed
        applied = first.push.applied + second_a.push.applied + second_b.push.applied
        assert grew("berkas_push_ops_total", outcome="applied") == applied
        assert grew("berkas_push_ops_total", outcome="conflict") == 1
        assert (
            sum(
                grew("berkas_push_ops_total", outcome=o)
                for o in ("applied", "merged", "conflict", "duplicate", "refused")
            )
            == pushed
        )
        assert grew("berkas_conflicts_created_total") == 1
        push_requests = first.push.requests + second_a.push.requests + second_b.push.requests
        assert (
            grew("berkas_http_requests_total", route="/v1/sync/push", method="POST", status="200")
            == push_requests
        )
        with a.store.read() as session:
            blobs = list(session.exec(select(Blob)))
        assert all(blob.uploaded for blob in blobs) and any(b.sha256 == sha for b in blobs)
        assert grew("berkas_upload_bytes_total") == sum(blob.cipher_size for blob in blobs)
        assert grew("berkas_upload_sessions_total", event="created") == len(blobs)
        assert grew("berkas_upload_sessions_total", event="completed") == len(blobs)
        assert value(after, "berkas_usulan_diajukan", opd="DISDIK") == 1
        version = BERKAS_VERSION
        lags = [
            dict(labels) for (name, labels) in after if name == "berkas_device_sync_lag_seconds"
        ]
        assert {lag["device"] for lag in lags} == {
            a.engine.facts.device_id,
            b.engine.facts.device_id,
        }
        assert {lag["version"] for lag in lags} == {version}

        # The access log: one JSON line per request, route template, request id, no cap.
        lines = [JsonFormatter().format(r) for r in caplog.records if r.name.endswith("access")]
        parsed = [json.loads(line) for line in lines]
        assert {"/v1/files/{upload_id}", "/v1/sync/push"} <= {p["route"] for p in parsed}
        assert all(p["request_id"] != "-" for p in parsed)
        assert not any("cap=" in line or "?" in line for line in lines)
        answer = httpx.get(f"{server.url}/healthz", headers={"X-Request-Id": "uji-123"})
        assert answer.headers["x-request-id"] == "uji-123"

        devices = CliRunner().invoke(
            server_cli,
            ["devices", "--home", str(server.home)]
            + (["--database-url", own_database_url] if own_database_url else []),
        )
        assert devices.exit_code == 0, devices.output
        assert devices.output.count(f" {version} ") == 2
        assert "SINKRON TERAKHIR" in devices.output
    finally:
        a.close()
        b.close()
        server.stop()


def test_metrics_are_closed_to_proxied_and_untokened_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_server(tmp_path / "server")
    try:
        forwarded = httpx.get(f"{server.url}/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert forwarded.status_code == 403
        monkeypatch.setenv(METRICS_TOKEN_ENV, "rahasia-metrik")
        assert httpx.get(f"{server.url}/metrics").status_code == 403
        assert scrape(server.url, Authorization="Bearer rahasia-metrik")
    finally:
        server.stop()

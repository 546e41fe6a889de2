"""Several server processes on one home and database: a process that starts (and runs its
upload recovery) while another is writing an upload's chunk leaves that upload alone, and
does not take a partial file being created for an orphan."""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from server.app import build_services
from tests.server.conftest import encrypt_document, make_opd_key, upload_url
from tests.support.device import TestDevice
from tests.support.server import REPO_ROOT, init_home, start_server

CHUNK = 64 * 1024


def test_a_starting_process_leaves_uploads_of_another_process_alone(
    tmp_path: Path, own_database_url: str | None
) -> None:
    running = start_server(tmp_path / "server", own_database_url)
    device = TestDevice.enrol(running.url, running.enrol_code("DISDIK"))
    try:
        opd_key = make_opd_key(device)
        plaintext = b"%PDF-1.7\n" + bytes(range(256)) * 800
        ciphertext = encrypt_document(plaintext, device, opd_key)
        url = upload_url(device, ciphertext, plaintext)
        upload_id = urlsplit(url).path.rsplit("/", 1)[1]
        partial = running.services.blobs.partial_path(upload_id)
        body = ciphertext[:CHUNK]
        parts = urlsplit(url)
        head = (
            f"PATCH {parts.path}?{parts.query} HTTP/1.1\r\n"
            f"Host: {parts.hostname}:{parts.port}\r\n"
            "Tus-Resumable: 1.0.0\r\n"
            "Upload-Offset: 0\r\n"
            "Content-Type: application/offset+octet-stream\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        # An upload being created by the other process: its file exists, its row not yet.
        creating = secrets.token_hex(16)
        running.services.blobs.create_partial(creating)
        with socket.create_connection((parts.hostname, parts.port)) as sock:
            sock.sendall(head + body[: CHUNK // 2])
            deadline = time.monotonic() + 10
            while partial.stat().st_size < CHUNK // 2:  # the server wrote what arrived
                assert time.monotonic() < deadline
                time.sleep(0.01)
            # A second process starts on the same home and database meanwhile.
            other = build_services(running.settings)
            try:
                assert partial.stat().st_size == CHUNK // 2
                assert running.services.blobs.partial_path(creating).exists()
            finally:
                other.pushes.close()
                other.db.dispose()
                other.nonces.dispose()
            sock.sendall(body[CHUNK // 2 :])
            answer = sock.recv(4096).decode("latin-1")
        assert answer.startswith("HTTP/1.1 204"), answer
        assert hashlib.sha256(partial.read_bytes()).digest() == hashlib.sha256(body).digest()
    finally:
        device.close()
        running.stop()


def test_run_with_two_workers_serves_and_sums_their_metrics(tmp_path: Path) -> None:
    home = tmp_path / "server"
    init_home(home)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "BERKAS_DATABASE_URL"}
    command = [sys.executable, "-m", "server.cli", "run", "--home", str(home)]
    command += ["--port", str(port), "--workers", "2", "--log-level", "warning"]
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        answered = 0
        # Fresh connections land on either worker (unsigned: each answers 401).
        while answered < 40:
            assert time.monotonic() < deadline, "the workers did not answer"
            try:
                httpx.get(f"{url}/v1/sync/epoch", headers={"Connection": "close"})
            except httpx.HTTPError:
                time.sleep(0.2)
                continue
            answered += 1
        metrics = httpx.get(f"{url}/metrics").text
        line = next(
            line
            for line in metrics.splitlines()
            if line.startswith("berkas_http_requests_total") and 'route="/v1/sync/epoch"' in line
        )
        assert float(line.rsplit(" ", 1)[1]) == answered
        assert len(list((home / "metrics").glob("*.db"))) >= 2  # both workers counted
    finally:
        process.terminate()
        process.wait(timeout=30)

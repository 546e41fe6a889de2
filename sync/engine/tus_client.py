"""A tus 1.0 client on httpx: creation, HEAD offset, PATCH chunks with a SHA-256 checksum.

After a cut it asks the server for the offset and sends only what is missing, so a cut
costs at most the chunk that was in flight. The chunk size follows the measured link
(`ChunkSizer`, starting at 256 KiB) and the caller saves (url, offset) after every chunk,
so a restarted program resumes where it stopped.

Before relying on an extension it asks the server what it offers (OPTIONS, once per
client): creation is required; `Upload-Checksum` goes only with the checksum extension and
an algorithm the server lists (sha256, else sha1), so against a server without it (e.g.
@tus/server) chunks go unchecked instead of with a header the server ignores; DELETE only
with termination. With `creation-with-upload` the creation itself carries the first chunk
(up to CREATION_CHUNK_MAX), so a small document goes up in one round trip.

Status handling: 409 (offset mismatch) -> HEAD again and continue; 460 (checksum mismatch)
-> resend that chunk; 423 (upload busy with a previous, cut request) -> wait, HEAD again;
404/410 -> the upload is gone (expired), the caller creates a new one.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

import httpx

from sync.engine.errors import Offline, ServerRefused, SyncError
from sync.engine.timetable import Throttle
from sync.engine.transport import Transport, classify_exception, error_from_response

log = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
_KIB = 1024
MIB = 1024 * _KIB
_SLICE = 16 * _KIB
_CHECKSUM_RETRIES = 3
# The most a creation carries (creation-with-upload): well under the server's cap on a
# signed request body (8 MiB), since the whole body is read before the signature is checked.
_CREATION_CHUNK_MAX = 4 * MIB


class UploadGone(ServerRefused):
    """The upload URL is no longer valid (expired or removed): start a new upload."""


class UploadHeld(SyncError):
    """The upload window holds large uploads right now; they continue when it opens."""


class ChunkSizer:
    """Chunk size from the measured per-stream throughput: about `target_s` of sending.

    Large enough that the round trip between chunks costs little, small enough that a cut
    wastes little. Thread-safe; one sizer is shared by the uploads of one link.
    """

    def __init__(
        self,
        initial: int = 256 * _KIB,
        *,
        minimum: int = 64 * _KIB,
        maximum: int = 8 * MIB,
        target_s: float = 2.0,
    ) -> None:
        self.minimum = minimum
        self.maximum = maximum
        self.target_s = target_s
        self._size = initial
        self._rate: float | None = None
        self._lock = threading.Lock()

    @property
    def rate(self) -> float | None:
        """Measured bytes per second of one stream (None before the first chunk)."""
        return self._rate

    def size(self) -> int:
        with self._lock:
            return self._size

    def observe(self, nbytes: int, seconds: float) -> None:
        if nbytes <= 0 or seconds <= 0:
            return
        sample = nbytes / seconds
        with self._lock:
            self._rate = sample if self._rate is None else 0.5 * self._rate + 0.5 * sample
            # Only a chunk close to the current size says much about the link.
            if nbytes < self._size // 2 and sample * self.target_s > self._size:
                return
            wanted = int(self._rate * self.target_s)
            wanted = min(wanted, self._size * 2)  # grow gently, shrink at once
            wanted = max(self.minimum, min(self.maximum, wanted))
            self._size = max(self.minimum, wanted - wanted % _SLICE)


# Checksum algorithms this client can send, best first (tus checksum extension).
CHECKSUM_ALGORITHMS: dict[str, Callable[[bytes], Any]] = {
    "sha256": hashlib.sha256,
    "sha1": hashlib.sha1,
}


def checksum_header(data: bytes, algorithm: str = "sha256") -> str:
    digest = CHECKSUM_ALGORITHMS[algorithm](data).digest()
    return f"{algorithm} " + base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class ServerTus:
    """What a tus server offers (its OPTIONS answer)."""

    extensions: frozenset[str]
    checksum_algorithms: frozenset[str]

    @property
    def checksum(self) -> str | None:
        """The algorithm to send Upload-Checksum with, or None to send none."""
        if "checksum" not in self.extensions:
            return None
        for name in CHECKSUM_ALGORITHMS:
            if name in self.checksum_algorithms:
                return name
        return None

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> ServerTus:
        def names(header: str) -> frozenset[str]:
            return frozenset(
                part.strip().lower() for part in headers.get(header, "").split(",") if part.strip()
            )

        return cls(names("tus-extension"), names("tus-checksum-algorithm"))


def encode_metadata(metadata: Mapping[str, str]) -> str:
    """tus Upload-Metadata: `key base64(value)` pairs separated by commas."""
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode('ascii')}" if value else key
        for key, value in metadata.items()
    )


class TusClient:
    """Drives tus uploads through a Transport; every wait respects its shared Backoff."""

    def __init__(
        self,
        transport: Transport,
        *,
        create_path: str = "/v1/files",
        sizer: ChunkSizer | None = None,
        stop: threading.Event | None = None,
        max_failures: int = 6,
    ) -> None:
        self.transport = transport
        self.create_path = create_path
        self.sizer = sizer or ChunkSizer()
        self.stop = stop or threading.Event()
        self.max_failures = max_failures
        self.bytes_sent = 0  # PATCH body bytes handed to the network (for figures)
        self._sent_lock = threading.Lock()
        self._server: ServerTus | None = None

    @property
    def http(self) -> httpx.Client:
        return self.transport.http

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {"Tus-Resumable": TUS_VERSION}
        if extra:
            headers.update(extra)
        return headers

    # -- the three requests ---------------------------------------------------------------------

    def server(self) -> ServerTus:
        """OPTIONS (once per client): the extensions and checksum algorithms offered."""
        if self._server is None:
            try:
                response = self.http.request(
                    "OPTIONS", self.create_path, headers=self._headers(), auth=None
                )
            except httpx.HTTPError as exc:
                raise classify_exception(exc) from exc
            if response.status_code not in (200, 204):
                raise error_from_response(response)
            self._server = ServerTus.from_headers(response.headers)
        return self._server

    def create(
        self, length: int, metadata: Mapping[str, str], first: bytes = b""
    ) -> tuple[str, int]:
        """POST (signed): a new upload of `length` bytes; returns its absolute URL and the
        offset the server holds. `first` (the upload's first bytes) rides along where the
        server offers creation-with-upload; elsewhere it is not sent (offset 0).

        A cut retries like every other request of an upload (shared backoff, up to
        `max_failures` in a row): a second creation for the same dokumen is harmless, the
        upload a lost answer left behind expires on the server.
        """
        backoff = self.transport.backoff
        failures = 0
        while True:
            if self.stop.is_set() or not backoff.wait(self.stop):
                raise Offline("Unggahan dihentikan.", "stop requested")
            try:
                created = self._create_once(length, metadata, first)
            except Offline as exc:
                failures += 1
                delay = backoff.failure()
                log.info(
                    "tus: creation failed: %s (failure %d, next try in %.1fs)",
                    exc.cause,
                    failures,
                    delay,
                )
                if failures >= self.max_failures:
                    raise
                continue
            backoff.success()
            return created

    def _create_once(
        self, length: int, metadata: Mapping[str, str], first: bytes
    ) -> tuple[str, int]:
        server = self.server()
        if "creation" not in server.extensions:
            raise ServerRefused(
                "Server tidak mendukung pembuatan unggahan (tus creation).",
                "Tus-Extension without creation",
            )
        headers = self._headers(
            {"Upload-Length": str(length), "Upload-Metadata": encode_metadata(metadata)}
        )
        body = first[: min(length, _CREATION_CHUNK_MAX)]
        if "creation-with-upload" not in server.extensions:
            body = b""
        if body:
            headers["Content-Type"] = "application/offset+octet-stream"
            if server.checksum is not None:
                headers["Upload-Checksum"] = checksum_header(body, server.checksum)
            self._count_sent(len(body))
        started = time.monotonic()
        response = self.transport.send(
            "POST", self.create_path, content=body, headers=headers, ok=(201,)
        )
        location = response.headers.get("location")
        if not location:
            raise ServerRefused(
                "Server tidak memberi alamat unggahan.", "tus creation without Location"
            )
        offset = _offset_header(response) if body else 0
        if body:
            self.sizer.observe(len(body), time.monotonic() - started)
        return str(response.url.join(location)), offset

    def offset(self, url: str) -> int:
        """HEAD: how many bytes of the upload the server holds."""
        try:
            response = self.http.request("HEAD", url, headers=self._headers(), auth=None)
        except httpx.HTTPError as exc:
            raise classify_exception(exc) from exc
        if response.status_code in (404, 410):
            raise UploadGone(
                "Unggahan sudah kedaluwarsa di server.", f"HEAD {response.status_code}"
            )
        if response.status_code not in (200, 204):
            raise error_from_response(response)
        return _offset_header(response)

    def terminate(self, url: str) -> None:
        """DELETE (termination extension); an already gone upload is fine. A server
        without termination lets the upload expire."""
        if "termination" not in self.server().extensions:
            return
        try:
            response = self.http.request("DELETE", url, headers=self._headers(), auth=None)
        except httpx.HTTPError as exc:
            raise classify_exception(exc) from exc
        if response.status_code not in (204, 404, 410):
            raise error_from_response(response)

    def _patch(self, url: str, offset: int, chunk: bytes, throttle: Throttle | None) -> int:
        headers = self._headers(
            {
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
                "Content-Length": str(len(chunk)),
            }
        )
        algorithm = self.server().checksum
        if algorithm is not None:
            headers["Upload-Checksum"] = checksum_header(chunk, algorithm)
        content: bytes | Iterator[bytes] = chunk
        if throttle is not None and throttle.rate:
            content = self._throttled(chunk, throttle)
        else:
            self._count_sent(len(chunk))
        response = self.http.request("PATCH", url, content=content, headers=headers, auth=None)
        if response.status_code == 204:
            return _offset_header(response)
        if response.status_code in (404, 410):
            raise UploadGone(
                "Unggahan sudah kedaluwarsa di server.", f"PATCH {response.status_code}"
            )
        raise _StatusError(response)

    def _throttled(self, chunk: bytes, throttle: Throttle) -> Iterator[bytes]:
        view = memoryview(chunk)
        for start in range(0, len(chunk), _SLICE):
            piece = bytes(view[start : start + _SLICE])
            wait = throttle.take(len(piece))
            if wait > 0:
                time.sleep(wait)
            self._count_sent(len(piece))
            yield piece

    def _count_sent(self, n: int) -> None:
        with self._sent_lock:
            self.bytes_sent += n

    # -- the loop -------------------------------------------------------------------------------

    def upload(
        self,
        source: BinaryIO,
        length: int,
        url: str,
        offset: int | None = None,
        *,
        on_progress: Callable[[int], None] | None = None,
        throttle: Throttle | None = None,
        hold: Callable[[], bool] | None = None,
    ) -> None:
        """Send bytes [offset, length) of `source` to `url`, resuming after cuts.

        `offset=None` asks the server first. `on_progress(offset)` runs after every chunk
        the server confirmed (save it: a restart resumes there). `hold()` true between
        chunks stops with UploadHeld (the upload window closed).
        Raises Offline after `max_failures` network failures in a row, UploadGone when
        the server forgot the upload.
        """
        backoff = self.transport.backoff
        failures = 0
        checksum_failures = 0
        known: int | None = offset
        while True:
            if self.stop.is_set():
                raise Offline("Unggahan dihentikan.", "stop requested")
            try:
                if known is None:
                    if not backoff.wait(self.stop):
                        raise Offline("Unggahan dihentikan.", "stop requested")
                    known = self.offset(url)
                    if on_progress is not None:
                        on_progress(known)
                if known >= length:
                    return
                if hold is not None and hold():
                    raise UploadHeld(
                        "Unggahan dokumen besar ditahan sampai jendela unggah dibuka.",
                        "upload window closed",
                    )
                size = self.sizer.size()
                source.seek(known)
                chunk = source.read(min(size, length - known))
                if not chunk:
                    raise SyncError(
                        "Dokumen lokal lebih pendek dari yang diunggah.",
                        f"short read at {known} of {length}",
                    )
                started = time.monotonic()
                new_offset = self._patch(url, known, chunk, throttle)
                elapsed = time.monotonic() - started
                if new_offset != known + len(chunk):
                    log.info("tus: server reports offset %d after PATCH", new_offset)
                self.sizer.observe(len(chunk), elapsed)
                known = new_offset
                failures = 0
                checksum_failures = 0
                backoff.success()
                if on_progress is not None:
                    on_progress(known)
            except _StatusError as exc:
                status = exc.response.status_code
                if status == 409:
                    log.info("tus: offset conflict at %s; asking the server again", known)
                    known = None
                elif status == 460:
                    checksum_failures += 1
                    log.warning("tus: checksum mismatch at offset %s; resending", known)
                    if checksum_failures > _CHECKSUM_RETRIES:
                        raise ServerRefused(
                            "Potongan unggahan terus ditolak (checksum tidak cocok).",
                            f"460 x{checksum_failures}",
                        ) from None
                elif status == 423:
                    time.sleep(0.25)
                    known = None
                else:
                    raise error_from_response(exc.response) from None
            except (httpx.HTTPError, OSError) as exc:
                error = classify_exception(exc)
                failures += 1
                delay = backoff.failure()
                log.info(
                    "tus: %s at offset %s (failure %d, next try in %.1fs)",
                    error.cause,
                    known,
                    failures,
                    delay,
                )
                if failures >= self.max_failures:
                    raise error from exc
                known = None
            except Offline:
                failures += 1
                backoff.failure()
                if failures >= self.max_failures:
                    raise
                known = None


class _StatusError(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def _offset_header(response: httpx.Response) -> int:
    value = response.headers.get("upload-offset", "")
    if not value.isdigit():
        raise ServerRefused(
            "Jawaban server unggahan tidak dapat dibaca.", f"bad Upload-Offset {value!r}"
        )
    return int(value)

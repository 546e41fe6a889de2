"""The HTTP side of the engine: httpx tuned for 2G/3G, signed and sealed calls, and the
translation of every failure into a link state (offline, server refusing, key revoked).

One `Transport` per engine; its httpx client is shared by record sync, uploads and
downloads (httpx's pool is thread-safe), and so is its `Backoff`.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from pydantic import BaseModel, ValidationError

from store.errors import is_disk_full
from sync.compression import (
    FEATURES_HEADER,
    ZSTD,
    BadFrame,
    TooLarge,
    compress,
    decompress,
    header_features,
)
from sync.crypto import (
    SEALED_MEDIA_TYPE,
    CryptoError,
    PrivateKeySet,
    SignedRequestAuth,
    open_json,
    request_aad,
    response_aad,
    seal_json,
    signature_nonce,
)
from sync.engine.backoff import Backoff
from sync.engine.errors import (
    DeviceRevoked,
    Offline,
    ServerDiskFull,
    ServerRefused,
    SyncError,
    local_failure,
)
from sync.protocol import EPOCH_HEADER
from sync.redact import install_log_redaction
from sync.version import BERKAS_VERSION

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

# Slow links: a 2G/3G connect can take many seconds, a busy cell can go quiet for tens of
# seconds without the link being gone; past these we call the server unreachable.
LINK_TIMEOUTS = httpx.Timeout(connect=20.0, read=60.0, write=60.0, pool=120.0)


# The Berkas version lets the BKD admin see who runs what (`berkas server devices`).
_USER_AGENT = f"berkas-sync/1 berkas/{BERKAS_VERSION}"
# The largest decompressed answer accepted (a pull page is about 2 MiB of JSON).
_MAX_ANSWER_PLAIN = 64 * 1024 * 1024


def _root_cause(exc: BaseException) -> BaseException:
    seen: set[int] = set()
    current: BaseException = exc
    while id(current) not in seen:
        seen.add(id(current))
        nxt = current.__cause__ or current.__context__
        if nxt is None:
            break
        current = nxt
    return current


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in out:
        out.append(current)
        current = current.__cause__ or current.__context__
    return out


def classify_exception(exc: Exception) -> SyncError:
    """A network failure as a SyncError with the right state and a message to act on."""
    if isinstance(exc, SyncError):
        return exc
    if is_disk_full(exc):
        # Writing what arrived failed on this machine: a full disk is not a network cut.
        return local_failure(exc, "")
    chain = _chain(exc)
    if any(isinstance(e, ssl.SSLError | ssl.CertificateError) for e in chain) or (
        "CERTIFICATE_VERIFY_FAILED" in str(exc) or "SSL" in type(_root_cause(exc)).__name__
    ):
        return ServerRefused(
            "Sambungan aman (TLS) ke server gagal: sertifikat server tidak sah atau jam "
            "komputer salah. Hubungi admin BKD.",
            f"tls: {exc!r}",
        )
    if any(isinstance(e, socket.gaierror) for e in chain) or "Name or service not known" in str(
        exc
    ):
        return Offline(
            "Nama server tidak dapat ditemukan (DNS). Periksa sambungan internet.",
            f"dns: {exc!r}",
        )
    if isinstance(exc, httpx.TimeoutException):
        return Offline("Server tidak menjawab tepat waktu; jaringan lambat atau putus.", repr(exc))
    if isinstance(exc, httpx.TransportError | OSError):
        return Offline("Server tidak dapat dihubungi; jaringan putus.", repr(exc))
    return ServerRefused("Terjadi kesalahan saat menghubungi server.", repr(exc))


def error_from_response(response: httpx.Response) -> SyncError:
    """A refusal (4xx/5xx) as a SyncError: revoked keys, clock skew, server trouble."""
    kode, pesan, detail = "", "", ""
    try:
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("detail"), dict):
            body = body["detail"]
        if isinstance(body, dict):
            kode = str(body.get("kode", ""))
            pesan = str(body.get("pesan", ""))
            detail = str(body.get("detail") or "")
    except (ValueError, UnicodeDecodeError):
        pass
    status = response.status_code
    error = _refusal(status, kode, pesan, f"HTTP {status} {kode} {detail}".strip())
    error.status = status
    error.kode = kode
    error.retry_after = _retry_after(response.headers.get("retry-after"))
    return error


def _retry_after(value: str | None) -> float:
    """Retry-After in seconds (only the delta-seconds form; dates are ignored), capped."""
    if value is None or not value.strip().isdigit():
        return 0.0
    return float(min(int(value.strip()), 3600))


def _refusal(status: int, kode: str, pesan: str, cause: str) -> SyncError:
    if (status == 403 and kode == "perangkat_dicabut") or (
        status == 401 and kode == "unknown_device"
    ):
        return DeviceRevoked(
            pesan or "Kunci perangkat ini sudah dicabut; daftarkan ulang perangkat ini.", cause
        )
    if status == 401 and kode == "stale_timestamp":
        return ServerRefused(
            pesan or "Jam komputer ini berbeda lebih dari 5 menit dari server.", cause
        )
    if status == 507 or kode == "ruang_disk_penuh":
        # Not a network cut, and nothing this device can fix: say whose disk it is.
        return ServerDiskFull(
            "Ruang disk server BKD penuh; data belum terkirim tetapi aman di perangkat ini. "
            "Sinkronisasi dicoba lagi nanti; beri tahu admin BKD bila berlanjut.",
            cause,
        )
    if status == 429:
        return ServerRefused(
            pesan or "Server BKD menerima terlalu banyak permintaan; dicoba lagi nanti.", cause
        )
    if status >= 500:
        return ServerRefused(
            pesan or "Server sedang bermasalah. Sinkronisasi dicoba lagi nanti.", cause
        )
    return ServerRefused(pesan or f"Server menolak permintaan (HTTP {status}).", cause)


class Transport:
    """httpx with our timeouts, request signing, sealed bodies and a request counter."""

    def __init__(
        self,
        base_url: str,
        *,
        keys: PrivateKeySet | None = None,
        device_id: str = "",
        server_encryption_key: X25519PublicKey | None = None,
        backoff: Backoff | None = None,
        timeout: httpx.Timeout = LINK_TIMEOUTS,
        http_transport: httpx.BaseTransport | None = None,
        max_connections: int = 8,
        verify: bool | str = True,
    ) -> None:
        install_log_redaction()  # httpx logs request URLs; upload URLs hold capabilities
        self.base_url = base_url.rstrip("/")
        self.keys = keys
        self.device_id = device_id
        self.server_key = server_encryption_key
        self.backoff = backoff or Backoff()
        self.requests = 0
        self._count_lock = threading.Lock()
        # Corrects a skewed device clock after a "stale_timestamp" refusal.
        self.clock_offset = 0.0
        # What the server said it offers (Berkas-Features on its sealed answers); until it
        # has said anything, nothing beyond protocol 1 is sent (PROTOCOL.md §7.1).
        self.server_features: frozenset[str] = frozenset()
        # True once any sealed answer came: server_features then says what the server offers
        # (empty for an old server) rather than that it has not been asked yet.
        self.features_heard = False
        # False: ask for nothing beyond protocol 1 (bench/sync_records.py --plain).
        self.features = True
        # The Berkas-Epoch header of the newest answer, and when it came (time.monotonic):
        # a change means the server may have been restored (sync.engine.server_restore).
        self.epoch_seen: str | None = None
        self.epoch_seen_at = 0.0
        # Sent with signed requests: a server restored since refuses a push (409).
        self.known_epoch: str | None = None
        self.signer = (
            SignedRequestAuth(keys, device_id, clock=lambda: time.time() + self.clock_offset)
            if keys is not None and device_id
            else None
        )
        self.http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=http_transport,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            headers={"User-Agent": _USER_AGENT},
            event_hooks={"request": [self._count]},
            verify=verify,
            follow_redirects=False,
        )

    def _count(self, _request: httpx.Request) -> None:
        with self._count_lock:
            self.requests += 1

    def close(self) -> None:
        self.http.close()

    @property
    def encryption_key(self) -> X25519PrivateKey:
        if self.keys is None:
            raise SyncError("Perangkat belum terdaftar.", "no device keys")
        return self.keys.x25519("encryption")

    # -- plain and signed requests --------------------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        *,
        signed: bool = True,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str | int] | None = None,
        ok: tuple[int, ...] = (200, 201, 204),
    ) -> httpx.Response:
        """One request; network failures and refusals raise SyncError (never httpx's)."""
        auth = self.signer if signed else None
        if signed and auth is None:
            raise SyncError("Perangkat belum terdaftar.", "signed request without keys")
        if signed and self.known_epoch:
            headers = {**(headers or {}), EPOCH_HEADER: self.known_epoch}
        try:
            response = self.http.request(
                method, path, content=content, headers=headers, params=params, auth=auth
            )
        except httpx.HTTPError as exc:
            raise classify_exception(exc) from exc
        except OSError as exc:
            raise classify_exception(exc) from exc
        epoch = response.headers.get(EPOCH_HEADER)
        if epoch:
            self.epoch_seen, self.epoch_seen_at = epoch, time.monotonic()
        if response.status_code not in ok:
            error = error_from_response(response)
            if signed and error.kode == "stale_timestamp" and self._fix_clock(response):
                return self.send(
                    method,
                    path,
                    signed=signed,
                    content=content,
                    headers=headers,
                    params=params,
                    ok=ok,
                )
            raise error
        return response

    def _fix_clock(self, response: httpx.Response) -> bool:
        date = response.headers.get("date")
        if not date:
            return False
        try:
            server_now = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return False
        offset = server_now - time.time()
        if abs(offset - self.clock_offset) < 60:
            return False  # already corrected: the skew is not ours to fix
        log.warning("jam perangkat berbeda %.0f detik dari server; dikoreksi", offset)
        self.clock_offset = offset
        return True

    def plain_json(self, method: str, path: str, body: BaseModel, model: type[M]) -> M:
        """An unsigned JSON call (enrolment, before the device has keys on the server)."""
        response = self.send(
            method,
            path,
            signed=False,
            content=body.model_dump_json().encode(),
            headers={"Content-Type": "application/json"},
        )
        return _parse_model(response.content, model)

    def sealed(
        self,
        method: str,
        path: str,
        body: BaseModel | bytes | None,
        model: type[M],
        *,
        params: Mapping[str, str | int] | None = None,
    ) -> M:
        """A signed call whose body and answer are sealed (sync.crypto.sealed_body); a
        `bytes` body is JSON the caller made to the wire model itself."""
        if self.server_key is None:
            raise SyncError("Perangkat belum terdaftar.", "no server key")
        target = str(self.http.build_request(method, path, params=params).url.raw_path, "ascii")
        headers: dict[str, str] = {"Accept": SEALED_MEDIA_TYPE}
        if self.features:
            headers[FEATURES_HEADER] = ZSTD
        plain = None
        if body is not None:
            plain = body if isinstance(body, bytes) else body.model_dump_json().encode()
            headers["Content-Type"] = SEALED_MEDIA_TYPE
        packed = self.features and ZSTD in self.server_features
        try:
            response = self._send_sealed(method, path, target, plain, packed, headers, params)
        except SyncError as exc:
            # A server rolled back to a version without compression refuses the JSON it
            # cannot read: forget the feature and send this body once more as plain JSON.
            if not (packed and exc.status == 400 and exc.kode == "json_tidak_sah"):
                raise
            log.warning("server tidak lagi membaca isi terkompresi; dikirim tanpa kompresi")
            self.server_features = self.server_features - {ZSTD}
            response = self._send_sealed(method, path, target, plain, False, headers, params)
        if self.features:
            self.server_features = header_features(response.headers)
            self.features_heard = True
        return _parse_model(self.open_answer(response, method, target), model)

    def _send_sealed(
        self,
        method: str,
        path: str,
        target: str,
        plain: bytes | None,
        packed: bool,
        headers: dict[str, str],
        params: Mapping[str, str | int] | None,
    ) -> httpx.Response:
        content: bytes | None = None
        if plain is not None:
            assert self.server_key is not None
            content = seal_json(
                compress(plain) if packed else plain, self.server_key, request_aad(method, target)
            )
        return self.send(method, path, content=content, headers=headers, params=params)

    def open_answer(self, response: httpx.Response, method: str, target: str) -> bytes:
        media = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media != SEALED_MEDIA_TYPE:
            raise ServerRefused(
                "Jawaban server tidak tersegel; sambungan mungkin disadap atau server salah.",
                f"answer content-type {media!r}",
            )
        try:
            nonce = signature_nonce(response.request.headers)
            plain = open_json(
                response.content, self.encryption_key, response_aad(method, target, nonce)
            )
        except CryptoError as exc:
            raise ServerRefused(
                "Jawaban server tidak dapat dibuka (rusak atau bukan untuk perangkat ini).",
                exc.cause,
            ) from exc
        try:
            return decompress(plain, _MAX_ANSWER_PLAIN)
        except (TooLarge, BadFrame) as exc:
            raise ServerRefused(
                "Jawaban server terkompresi rusak atau terlalu besar.", str(exc)
            ) from exc


def _parse_model(raw: bytes, model: type[M]) -> M:
    """Server JSON as a wire model; garbage becomes a ServerRefused, never a crash."""
    try:
        return model.model_validate_json(raw)
    except (ValueError, UnicodeDecodeError, ValidationError) as exc:
        raise ServerRefused(
            "Jawaban server tidak dapat dibaca (bukan format yang diharapkan).",
            f"{model.__name__}: {str(exc)[:300]}",
        ) from exc

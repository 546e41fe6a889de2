"""Who is calling: signed-request verification, replay protection in the database, and
sealed request/response bodies.

Built on sync.crypto's `verify_request` and `request_target` rather than its ready-made
`signed_device_dependency`, for three reasons: the body is read with a size cap before
anything else (413, not an unbounded read), the device row is loaded once and reused
(role, OPD, encryption key for the sealed answer), and a revoked device whose signature is
valid gets a clear 403 instead of the generic "unknown device" 401.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from fastapi import Request, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from server.db import Database
from server.errors import ApiError
from server.models import Base, Device, SeenNonce
from server.throttle import AUTH, FailureThrottle
from store.rules import Role
from sync.compression import (
    FEATURES_HEADER,
    PAGE_BYTES,
    ZSTD,
    BadFrame,
    TooLarge,
    compress,
    decompress,
    header_features,
)
from sync.crypto import (
    SEALED_MEDIA_TYPE,
    WINDOW_SECONDS,
    CryptoError,
    SignatureError,
    ed25519_public_from_b64,
    open_json,
    request_aad,
    response_aad,
    seal_json,
    signature_nonce,
    verify_request,
    x25519_public_from_b64,
)
from sync.crypto.fastapi_auth import request_target
from sync.protocol import DOKUMEN_TERBACA, USULAN_TIDAK_BERLAKU

log = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)

_DEVICE = Base.metadata.tables["device"]
_CLIENT_VERSION = re.compile(r"\bberkas/([0-9A-Za-z.+-]{1,32})")


def client_version(user_agent: str) -> str | None:
    """The Berkas version in a device's User-Agent (`berkas-sync/1 berkas/0.1.0`)."""
    found = _CLIENT_VERSION.search(user_agent)
    return found[1] if found else None


_PRUNE_EVERY = 2000
# Sealed bodies up to this size are opened on the event loop (well under a millisecond).
_OPEN_INLINE_BYTES = 16 * 1024
# What this server offers beyond protocol 1 (PROTOCOL.md §7.1), on every sealed answer.
SERVER_FEATURES = f"{ZSTD}, {PAGE_BYTES}, {DOKUMEN_TERBACA}, {USULAN_TIDAK_BERLAKU}"
# The decompressed size of a request body when no Authenticator set one (its max_body_size).
DEFAULT_PLAIN_LIMIT = 8 * 1024 * 1024


class _ThreadLocalSqlite:
    """A plain sqlite3 connection per thread, in autocommit mode, to one database file.

    For the two statements every request runs (the device lookup and the nonce insert),
    SQLAlchemy's per-statement machinery costs several times the statement itself.
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._local = threading.local()

    def connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._path, isolation_level=None, timeout=30)
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL mode is set by the engine
            self._local.conn = conn
        return conn


def _fast_path(db: Database) -> _ThreadLocalSqlite | None:
    path = db.engine.url.database
    return _ThreadLocalSqlite(path) if db.is_sqlite and path and path != ":memory:" else None


class DatabaseNonceStore:
    """A NonceStore in a database: survives restarts and is shared by every worker.

    On SQLite it lives in its own file (DIR/nonces.db), so recording the nonce of every
    request never queues behind a push holding the main database's write lock.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._fast = _fast_path(db)
        self._count = 0
        self._lock = threading.Lock()
        dialect = sqlite if db.is_sqlite else postgresql
        self._insert = (
            dialect.insert(SeenNonce)
            .on_conflict_do_nothing(index_elements=["device_id", "nonce"])
            .returning(SeenNonce.nonce)
        )

    def remember(self, device_id: str, nonce: str, timestamp: float) -> bool:
        if self._fast is not None:
            cursor = self._fast.connection().execute(
                "INSERT INTO seen_nonce (device_id, nonce, ts) VALUES (?, ?, ?) "
                "ON CONFLICT (device_id, nonce) DO NOTHING",
                (device_id, nonce, timestamp),
            )
            fresh = cursor.rowcount == 1
        else:
            with self._db.write(serial=False) as session:
                # RETURNING tells reliably (rowcount does not, for psycopg) whether a row
                # went in.
                inserted = session.connection().execute(
                    self._insert, {"device_id": device_id, "nonce": nonce, "ts": timestamp}
                )
                fresh = inserted.first() is not None
        with self._lock:
            self._count += 1
            due = self._count % _PRUNE_EVERY == 0
        if due:
            self.prune()
        return fresh

    @property
    def is_sqlite(self) -> bool:
        return self._db.is_sqlite

    def dispose(self) -> None:
        self._db.dispose()

    def prune(self, now: float | None = None) -> int:
        """Forget nonces too old to be replayed (their timestamps fail the window check)."""
        horizon = (time.time() if now is None else now) - 2 * WINDOW_SECONDS
        with self._db.write(serial=False) as session:
            result = session.connection().execute(delete(SeenNonce).where(SeenNonce.ts < horizon))
            return max(0, result.rowcount)


@dataclass(frozen=True)
class _DeviceRow:
    id: str
    opd_kode: str
    role: str
    signing_key: str
    encryption_key: str
    revoked_at: float | None


@dataclass(frozen=True)
class Caller:
    """A verified request: the device, its OPD and role, and what it signed."""

    device_id: str
    opd_kode: str
    role: Role
    encryption_key: X25519PublicKey
    method: str
    target: str
    nonce: str
    body: bytes
    content_type: str
    # Features the client named in Berkas-Features (PROTOCOL.md §7.1), e.g. "zstd".
    features: frozenset[str] = frozenset()
    # A compressed request body may not decompress past this (the body cap applies to the
    # JSON, not to its compressed form): 413 beyond.
    plain_limit: int = DEFAULT_PLAIN_LIMIT

    @property
    def is_verifier(self) -> bool:
        return self.role is Role.VERIFIKATOR


async def read_body_limited(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 past `limit` bytes (checked while streaming)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ApiError(400, "panjang_tidak_sah", "Header Content-Length tidak sah.")
        if int(declared) > limit:
            raise ApiError(
                413,
                "terlalu_besar",
                f"Ukuran permintaan melebihi batas {limit} bita.",
                f"content-length {declared} > {limit}",
            )
    chunks: list[bytes] = []
    total = 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > limit:
                raise ApiError(
                    413, "terlalu_besar", f"Ukuran permintaan melebihi batas {limit} bita."
                )
            chunks.append(chunk)
    except ClientDisconnect:
        # A cut link mid-request: everyday on the networks we serve, not a server fault
        # (it would otherwise be logged as an unexpected error with a traceback).
        raise ApiError(
            400,
            "sambungan_terputus",
            "Sambungan terputus sebelum permintaan selesai dikirim.",
            f"after {total} bytes",
        ) from None
    return b"".join(chunks)


class Authenticator:
    """Verifies signed requests against the device table and the nonce store."""

    def __init__(
        self,
        db: Database,
        nonces: DatabaseNonceStore,
        max_body_size: int,
        throttle: FailureThrottle | None = None,
    ) -> None:
        self._db = db
        self._nonces = nonces
        self._throttle = throttle
        self._inline = db.is_sqlite and nonces.is_sqlite
        self._fast = _fast_path(db)
        self._max_body_size = max_body_size
        self._last_seen: dict[str, tuple[float, str | None]] = {}
        # Read on every request (revocation takes effect at once): plain Core, no ORM.
        self._device_query = select(
            Device.id,
            Device.opd_kode,
            Device.role,
            Device.signing_key,
            Device.encryption_key,
            Device.revoked_at,
        ).where(Device.id == bindparam("device_id"))

    def _device(self, device_id: str) -> _DeviceRow | None:
        if self._fast is not None:
            found = (
                self._fast.connection()
                .execute(
                    "SELECT id, opd_kode, role, signing_key, encryption_key, revoked_at "
                    "FROM device WHERE id = ?",
                    (device_id,),
                )
                .fetchone()
            )
            return _DeviceRow(*found) if found is not None else None
        with self._db.engine.connect() as conn:
            row = conn.execute(self._device_query, {"device_id": device_id}).first()
        return _DeviceRow(*row) if row is not None else None

    def _note_seen(self, device_id: str, user_agent: str) -> None:
        """Remember when a device was last heard from, and its Berkas version (from the
        User-Agent `berkas-sync/1 berkas/X.Y.Z`); written by `flush_last_seen`."""
        self._last_seen[device_id] = (time.time(), client_version(user_agent))

    def flush_last_seen(self) -> None:
        """Store the `last_seen_at` of `berkas server devices` (run now and then, off the
        event loop: it waits for the main database's write lock)."""
        pending, self._last_seen = self._last_seen, {}
        if not pending:
            return
        with self._db.write(serial=False) as session:
            session.connection().execute(
                update(_DEVICE)
                .where(_DEVICE.c.id == bindparam("device"))
                .values(
                    last_seen_at=bindparam("seen"),
                    client_version=func.coalesce(bindparam("version"), _DEVICE.c.client_version),
                ),
                [{"device": d, "seen": t, "version": v} for d, (t, v) in pending.items()],
            )

    async def __call__(self, request: Request) -> Caller:
        body = await read_body_limited(request, self._max_body_size)
        target = request_target(request)
        headers = dict(request.headers)
        return await self._verify(request.method, target, headers, body, client_address(request))

    async def _verify(
        self, method: str, target: str, headers: dict[str, str], body: bytes, client: str
    ) -> Caller:
        # On SQLite, verification runs on the event loop: about a millisecond (a primary-key
        # read and a one-row insert into the nonce file, which only this thread writes),
        # where a worker-thread hop would cost half of that again in CPU, the server's
        # scarcest resource. A networked database's round trips must not block the loop.
        if self._inline:
            return self.verify(method, target, headers, body, client)
        return await run_in_threadpool(self.verify, method, target, headers, body, client)

    async def open(
        self, request: Request, model: type[ModelT], server_key: X25519PrivateKey
    ) -> tuple[Caller, ModelT]:
        """Verify the request and open its sealed body as `model` (large bodies are opened
        on a worker thread)."""
        body = await read_body_limited(request, self._max_body_size)
        target = request_target(request)
        headers = dict(request.headers)

        caller = await self._verify(request.method, target, headers, body, client_address(request))
        if len(body) <= _OPEN_INLINE_BYTES:
            return caller, open_request(caller, model, server_key)
        return caller, await run_in_threadpool(open_request, caller, model, server_key)

    def verify(
        self, method: str, target: str, headers: dict[str, str], body: bytes, client: str = ""
    ) -> Caller:
        """The Caller, or ApiError 401 (bad/stale/replayed/unknown) or 403 (revoked); 429
        when the client address has failed too often lately (server.throttle)."""
        if self._throttle is not None:
            self._throttle.check(AUTH, client)
        seen: dict[str, _DeviceRow] = {}

        def public_key_for(device_id: str) -> Ed25519PublicKey | None:
            device = self._device(device_id)
            if device is None:
                return None
            seen["device"] = device
            try:
                return ed25519_public_from_b64(device.signing_key)
            except CryptoError:
                return None

        try:
            device_id = verify_request(
                method=method,
                path_with_query=target,
                headers=headers,
                body=body,
                public_key_for=public_key_for,
                nonces=self._nonces,
            )
            nonce = signature_nonce(headers)
        except SignatureError as exc:
            log.info("signed request refused: %s", exc)
            if self._throttle is not None:
                self._throttle.failed(AUTH, client)
            raise ApiError(401, exc.reason, exc.message, exc.reason) from None
        device = seen["device"]
        if device.id != device_id:  # pragma: no cover - verify_request asked for this id
            raise ApiError(401, "unknown_device", "Perangkat tidak dikenal.")
        if device.revoked_at is not None:
            raise ApiError(
                403,
                "perangkat_dicabut",
                "Perangkat ini sudah dicabut oleh admin BKD dan tidak dapat dipakai lagi.",
            )
        self._note_seen(device.id, headers.get("user-agent", ""))
        return Caller(
            device_id=device.id,
            opd_kode=device.opd_kode,
            role=Role(device.role),
            encryption_key=x25519_public_from_b64(device.encryption_key),
            method=method.upper(),
            target=target,
            nonce=nonce,
            body=body,
            content_type=headers.get("content-type", ""),
            features=header_features(headers),
            plain_limit=self._max_body_size,
        )


def client_address(request: Request) -> str:
    """The address a request came from, as the throttles count it (behind a reverse proxy,
    run uvicorn with --proxy-headers and --forwarded-allow-ips so this is the client's)."""
    return request.client.host if request.client is not None else ""


def open_request(caller: Caller, model: type[ModelT], server_key: X25519PrivateKey) -> ModelT:
    """The sealed JSON body of `caller`'s request as `model` (400/415/422 when it is not)."""
    media_type = caller.content_type.split(";", 1)[0].strip().lower()
    if media_type != SEALED_MEDIA_TYPE:
        raise ApiError(
            415,
            "jenis_isi_salah",
            f"Badan permintaan harus tersegel ({SEALED_MEDIA_TYPE}).",
            f"content-type {media_type or '(none)'}",
        )
    try:
        plain = open_json(caller.body, server_key, request_aad(caller.method, caller.target))
    except CryptoError as exc:
        raise ApiError(
            400,
            "segel_tidak_sah",
            "Badan permintaan tersegel tidak dapat dibuka (rusak atau bukan untuk server ini).",
            str(exc),
        ) from None
    try:
        plain = decompress(plain, caller.plain_limit)
    except TooLarge as exc:
        raise ApiError(
            413,
            "terlalu_besar",
            f"Isi permintaan setelah diurai melebihi batas {exc.limit} bita.",
            str(exc),
        ) from None
    except BadFrame as exc:
        raise ApiError(
            400, "kompresi_tidak_sah", "Isi permintaan terkompresi rusak.", str(exc)[:200]
        ) from None
    return parse_json(plain, model)


# A NUL character escaped in a JSON string (\u0000 after an even run of backslashes).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def parse_json(raw: bytes, model: type[ModelT]) -> ModelT:
    """`raw` JSON as `model`: 400 for broken JSON, 422 for wrong or unknown fields.
    pydantic reads the JSON itself (in Rust): no Python dicts made first, then checked."""
    if _JSON_NUL.search(raw):
        # No text column holds NUL (PostgreSQL refuses it): refused here, for every string
        # of every JSON body, before any of them reaches a query.
        raise ApiError(
            422, "isian_tidak_sah", "Isian permintaan tidak sah.", "NUL character in a string"
        )
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        if any(err["type"] == "json_invalid" for err in exc.errors(include_input=False)):
            raise ApiError(400, "json_tidak_sah", "Badan permintaan bukan JSON yang sah.") from None
        raise ApiError(
            422, "isian_tidak_sah", "Isian permintaan tidak sah.", _validation_summary(exc)
        ) from None


def _validation_summary(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_input=False)[:5]:
        where = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)[:500]


def sealed_response(caller: Caller, model: BaseModel, status: int = 200) -> Response:
    """`model` as JSON sealed to the calling device, bound to its request."""
    return sealed_json_response(caller, model.model_dump_json().encode("utf-8"), status)


def sealed_json_response(caller: Caller, payload: bytes, status: int = 200) -> Response:
    """JSON bytes sealed to the calling device, zstd-compressed first when the device reads
    compressed answers (it said so in Berkas-Features)."""
    if ZSTD in caller.features:
        payload = compress(payload)
    aad = response_aad(caller.method, caller.target, caller.nonce)
    return Response(
        content=seal_json(payload, caller.encryption_key, aad),
        status_code=status,
        media_type=SEALED_MEDIA_TYPE,
        headers={FEATURES_HEADER: SERVER_FEATURES},
    )

"""The running server's parts, built once at start and shared by every endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from server.auth import Authenticator, Caller, DatabaseNonceStore
from server.blobstore import BlobStore
from server.db import Database
from server.keys import ServerKeys
from server.metrics import ServerMetrics
from server.push_queue import PushQueue
from server.settings import ServerSettings
from server.throttle import FailureThrottle
from server.uploads import Uploads


@dataclass
class Services:
    settings: ServerSettings
    db: Database
    keys: ServerKeys
    nonces: DatabaseNonceStore
    auth: Authenticator
    blobs: BlobStore
    uploads: Uploads
    pushes: PushQueue
    throttle: FailureThrottle
    metrics: ServerMetrics
    # Replaced only by `berkas server pulihkan`, which runs on a stopped server.
    epoch: str = ""


def services(request: Request) -> Services:
    """FastAPI dependency: the app's Services."""
    found = request.app.state.services
    assert isinstance(found, Services)
    return found


async def signed_caller(request: Request) -> Caller:
    """FastAPI dependency: the verified device behind a signed request."""
    return await services(request).auth(request)


ServicesDep = Annotated[Services, Depends(services)]
CallerDep = Annotated[Caller, Depends(signed_caller)]

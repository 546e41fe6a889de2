from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from sync.crypto import keys


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt at N=2**10 keeps tests quick; test_keys checks the real default once."""
    monkeypatch.setattr(keys, "SCRYPT_LOG_N", 10)


@pytest.fixture
def umask_zero() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def alice() -> X25519PrivateKey:
    return X25519PrivateKey.generate()


@pytest.fixture
def bob() -> X25519PrivateKey:
    return X25519PrivateKey.generate()

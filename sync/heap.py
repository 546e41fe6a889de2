"""Keep the garbage collector off the long-lived objects of a running process.

A sync moves thousands of records, and every record is a few dozen small objects
(models, dicts, strings). Each of those allocations counts towards CPython's collection
thresholds, and every so often a full collection walks the whole heap, including the
hundreds of thousands of objects the imports made (FastAPI, SQLAlchemy, pydantic's
schemas), which never become garbage. `gc.freeze()` moves everything alive now into a
permanent generation that collections skip: measured on a 10,000-op push, it cuts the
server's request parsing by about half. Called once, after start-up, by the server and by
the sync engine; later garbage is collected as usual.
"""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()
_done = False


def settle_heap() -> None:
    """Freeze the objects alive now (once per process): collections skip them after."""
    global _done
    with _lock:
        if _done:
            return
        gc.collect()  # what is garbage now is not frozen with the rest
        gc.freeze()
        _done = True

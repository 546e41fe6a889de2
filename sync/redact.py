"""Secrets never reach a log line or an error message.

An upload URL carries its capability in the query (`/v1/files/<id>?cap=<secret>`): whoever
reads it can append to or delete that upload. `redact` masks the value of every query
parameter except the few known to be harmless (so a secret added later is masked too), and
a bare `cap=` anywhere. `install_log_redaction` applies it to every log record this process
makes, whatever logger made it (ours, uvicorn's access log, httpx's request lines) and
whatever handler writes it; `sync.engine.errors.SyncError` applies it to the messages a
person reads.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any, Final

MASK: Final = "***"
# Query parameters of the /v1 API that hold no secret (sync/PROTOCOL.md §10).
PUBLIC_QUERY_NAMES: Final = frozenset({"since", "limit", "after", "sha256", "opd"})

_QUERY_PARAM = re.compile(r"(?P<lead>[?&])(?P<name>[^=&?#\s\"'<>]+)=(?P<value>[^&#\s\"'<>]*)")
_BARE_CAPABILITY = re.compile(r"\b(?P<name>cap)=(?P<value>[^&#\s\"'<>]+)")


def _mask_param(match: re.Match[str]) -> str:
    if match["name"].lower() in PUBLIC_QUERY_NAMES or not match["value"]:
        return match[0]
    return f"{match['lead']}{match['name']}={MASK}"


def redact(text: str) -> str:
    """`text` with every query secret masked (cheap when there is no `=` in it)."""
    if "=" not in text:
        return text
    text = _QUERY_PARAM.sub(_mask_param, text)
    return _BARE_CAPABILITY.sub(
        lambda m: m[0] if m["value"] == MASK else f"{m['name']}={MASK}", text
    )


def _redact_arg(arg: Any) -> Any:
    if arg is None or isinstance(arg, int | float):
        return arg
    if isinstance(arg, str):
        return redact(arg)
    return arg  # other objects are checked on the formatted message below


def redact_record(record: logging.LogRecord) -> None:
    """Mask secrets in a record's message, arguments, traceback and stack, in place."""
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_redact_arg(arg) for arg in record.args)
    elif isinstance(record.args, dict):
        record.args = {key: _redact_arg(value) for key, value in record.args.items()}
    if record.args:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: logging reports it later, as usual
            message = ""
        masked = redact(message)
        if masked != message:  # an object argument (a URL, an exception) held a secret
            record.msg, record.args = masked, None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class RedactSecrets(logging.Filter):
    """The same masking as a filter, for a handler configured apart from this process."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


_install_lock = threading.Lock()
_installed = False


def install_log_redaction() -> None:
    """Mask secrets in every log record made in this process from now on (idempotent).

    A record factory rather than a filter on some loggers: filters on a logger do not see
    records of its children, and handlers (uvicorn's, a test's, a rotating file) come and
    go; every record is made by the factory.
    """
    global _installed
    with _install_lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            redact_record(record)
            return record

        logging.setLogRecordFactory(make_record)
        _installed = True

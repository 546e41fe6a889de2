"""The one error type of the domain rules: a message a person can act on."""

from __future__ import annotations

from store.errors import BerkasError


class RuleError(BerkasError, ValueError):
    """A value broke a domain rule.

    `message` is Bahasa Indonesia text for the person at the keyboard; `field`
    names the part that is wrong (``"nip"``, ``"tmt_cpns"``, ...) so a form can
    point at it; `detail` carries the technical cause for the log, never
    personal data.
    """

    def __init__(self, message: str, *, field: str | None = None, detail: str = "") -> None:
        super().__init__(message, detail)
        self.field = field
        self.detail = detail

    def __str__(self) -> str:
        # Pydantic shows str() of a ValueError raised in a validator to the person:
        # the message alone, the detail stays in `.cause` for the log.
        return self.message

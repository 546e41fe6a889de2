"""The one error type of the domain rules: a message a person can act on."""

from __future__ import annotations


class RuleError(ValueError):
    """A value broke a domain rule.

    `message` is Bahasa Indonesia text for the person at the keyboard; `field`
    names the part that is wrong (``"nip"``, ``"tmt_cpns"``, ...) so a form can
    point at it; `detail` carries the technical cause for the log, never
    personal data.
    """

    def __init__(self, message: str, *, field: str | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.detail = detail

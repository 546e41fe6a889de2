"""The one error type of the domain rules: a message a person can act on."""

from __future__ import annotations

from collections.abc import Sequence

from store.errors import BerkasError


class RuleError(BerkasError, ValueError):
    """A value broke a domain rule.

    `message` is Bahasa Indonesia text for the person at the keyboard; `field`
    names the part that is wrong (``"nip"``, ``"tmt_cpns"``, ...) so a form can
    point at it; `detail` carries the technical cause for the log, never
    personal data. `problems` lists every (field, message) found in the value,
    in order; `message` and `field` are the whole list and its first field.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        detail: str = "",
        problems: Sequence[tuple[str | None, str]] = (),
    ) -> None:
        super().__init__(message, detail)
        self.field = field
        self.detail = detail
        self.problems: tuple[tuple[str | None, str], ...] = tuple(problems) or ((field, message),)

    def __str__(self) -> str:
        # Pydantic shows str() of a ValueError raised in a validator to the person:
        # the message alone, the detail stays in `.cause` for the log.
        return self.message

    @classmethod
    def of_problems(cls, problems: Sequence[tuple[str, str]]) -> RuleError:
        """One error listing every problem: the messages joined by "; ", the first field."""
        return cls(
            "; ".join(message for _, message in problems),
            field=problems[0][0],
            problems=problems,
        )

"""The answer a rule gives to "may this pegawai ...?": yes, or no with reasons."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Eligibility:
    """`eligible`, and when not, every reason why (Bahasa Indonesia, for the person).

    Truthy exactly when eligible, so ``if aps_eligible(...):`` reads right.
    """

    eligible: bool
    reasons: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.eligible

    @classmethod
    def from_reasons(cls, reasons: list[str]) -> Eligibility:
        """Eligible when there is no reason against."""
        return cls(eligible=not reasons, reasons=tuple(reasons))

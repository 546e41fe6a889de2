"""The usulan state machine of DOMAIN.md: which status may follow which, and by whom."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from store.rules._inputs import as_enum
from store.rules.errors import RuleError


class UsulanStatus(StrEnum):
    """Where an usulan stands."""

    DRAFT = "draft"
    DIAJUKAN = "diajukan"
    DIVERIFIKASI = "diverifikasi"
    DIKEMBALIKAN = "dikembalikan"
    DITOLAK = "ditolak"
    DITERUSKAN = "diteruskan"
    SELESAI = "selesai"

    @property
    def label(self) -> str:
        """The name a person reads, with the BKD's bucket (MS, BTS, TMS)."""
        return STATUS_LABELS[self]


class Role(StrEnum):
    """Who moves an usulan: the OPD's pengelola kepegawaian or a BKD verifikator."""

    OPD = "opd"
    VERIFIKATOR = "verifikator"


TRANSITIONS: Mapping[UsulanStatus, Mapping[UsulanStatus, Role]] = MappingProxyType(
    {
        UsulanStatus.DRAFT: MappingProxyType({UsulanStatus.DIAJUKAN: Role.OPD}),
        # BTS: the OPD fixes the dokumen and submits again.
        UsulanStatus.DIKEMBALIKAN: MappingProxyType({UsulanStatus.DIAJUKAN: Role.OPD}),
        UsulanStatus.DIAJUKAN: MappingProxyType(
            {
                UsulanStatus.DIVERIFIKASI: Role.VERIFIKATOR,
                UsulanStatus.DIKEMBALIKAN: Role.VERIFIKATOR,
                UsulanStatus.DITOLAK: Role.VERIFIKATOR,
            }
        ),
        UsulanStatus.DIVERIFIKASI: MappingProxyType({UsulanStatus.DITERUSKAN: Role.VERIFIKATOR}),
        UsulanStatus.DITERUSKAN: MappingProxyType({UsulanStatus.SELESAI: Role.VERIFIKATOR}),
        UsulanStatus.DITOLAK: MappingProxyType({}),
        UsulanStatus.SELESAI: MappingProxyType({}),
    }
)

STATUS_LABELS: Mapping[UsulanStatus, str] = MappingProxyType(
    {
        UsulanStatus.DRAFT: "Draf",
        UsulanStatus.DIAJUKAN: "Diajukan",
        UsulanStatus.DIVERIFIKASI: "Memenuhi Syarat (MS)",
        UsulanStatus.DIKEMBALIKAN: "Dikembalikan (BTS)",
        UsulanStatus.DITOLAK: "Ditolak (TMS)",
        UsulanStatus.DITERUSKAN: "Diteruskan ke BKN",
        UsulanStatus.SELESAI: "Selesai",
    }
)

# The OPD may still change these usulan and their dokumen.
OPEN_STATUSES: frozenset[UsulanStatus] = frozenset({UsulanStatus.DRAFT, UsulanStatus.DIKEMBALIKAN})
# Nothing follows these.
FINAL_STATUSES: frozenset[UsulanStatus] = frozenset(
    status for status, targets in TRANSITIONS.items() if not targets
)

_ROLE_NAMES: Mapping[Role, str] = MappingProxyType(
    {Role.OPD: "pengelola kepegawaian OPD", Role.VERIFIKATOR: "verifikator BKD"}
)


class TransitionError(RuleError):
    """A status move the state machine refuses; `message` says why, in Bahasa."""

    def __init__(
        self, message: str, *, current: UsulanStatus, target: UsulanStatus, role: Role
    ) -> None:
        super().__init__(
            message,
            field="status",
            detail=f"transition {current.value} -> {target.value} by {role.value} refused",
        )
        self.current = current
        self.target = target
        self.role = role


def next_statuses(current: UsulanStatus, role: Role) -> list[UsulanStatus]:
    """The statuses `role` may move an usulan in `current` to (for menus and buttons)."""
    current, role = _status(current), _role(role)
    return [target for target, who in TRANSITIONS[current].items() if who == role]


def _status(value: object, field: str = "status") -> UsulanStatus:
    return as_enum(value, UsulanStatus, field, "Status usulan")


def _role(value: object) -> Role:
    return as_enum(value, Role, "role", "Peran")


def check_transition(current: UsulanStatus, target: UsulanStatus, role: Role) -> None:
    """Raise TransitionError unless `role` may move an usulan from `current` to `target`."""
    current, target, role = _status(current), _status(target), _role(role)
    allowed = TRANSITIONS[current]
    if target not in allowed:
        if current == target:
            message = f"Usulan sudah berstatus '{current.value}'"
        elif current in FINAL_STATUSES:
            message = f"Usulan berstatus '{current.value}' sudah final dan tidak dapat diubah lagi"
        else:
            message = (
                f"Usulan berstatus '{current.value}' tidak dapat langsung menjadi '{target.value}'"
            )
        raise TransitionError(message, current=current, target=target, role=role)
    needed = allowed[target]
    if needed != role:
        raise TransitionError(
            f"Hanya {_ROLE_NAMES[needed]} yang dapat mengubah usulan berstatus "
            f"'{current.value}' menjadi '{target.value}'",
            current=current,
            target=target,
            role=role,
        )

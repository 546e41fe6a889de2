"""The usulan state machine: allowed and refused moves, per role."""

from __future__ import annotations

import pytest

from store.rules import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    STATUS_LABELS,
    TRANSITIONS,
    Role,
    RuleError,
    TransitionError,
    UsulanStatus,
    check_transition,
    next_statuses,
)

S = UsulanStatus

ALLOWED = [
    (S.DRAFT, S.DIAJUKAN, Role.OPD),
    (S.DIKEMBALIKAN, S.DIAJUKAN, Role.OPD),
    (S.DIAJUKAN, S.DIVERIFIKASI, Role.VERIFIKATOR),
    (S.DIAJUKAN, S.DIKEMBALIKAN, Role.VERIFIKATOR),
    (S.DIAJUKAN, S.DITOLAK, Role.VERIFIKATOR),
    (S.DIVERIFIKASI, S.DITERUSKAN, Role.VERIFIKATOR),
    (S.DITERUSKAN, S.SELESAI, Role.VERIFIKATOR),
]


@pytest.mark.parametrize(("current", "target", "role"), ALLOWED)
def test_allowed(current: UsulanStatus, target: UsulanStatus, role: Role) -> None:
    check_transition(current, target, role)  # no exception
    assert TRANSITIONS[current][target] is role


def test_transition_table_is_exactly_domain_md() -> None:
    table = {
        (current, target, role)
        for current, targets in TRANSITIONS.items()
        for target, role in targets.items()
    }
    assert table == set(ALLOWED)
    assert set(TRANSITIONS) == set(UsulanStatus)


@pytest.mark.parametrize(
    ("current", "target", "role"),
    [(current, target, role) for current in S for target in S for role in Role],
)
def test_every_other_move_is_refused(
    current: UsulanStatus, target: UsulanStatus, role: Role
) -> None:
    if (current, target, role) in ALLOWED:
        return
    with pytest.raises(TransitionError) as caught:
        check_transition(current, target, role)
    assert isinstance(caught.value, RuleError)
    assert caught.value.field == "status"
    assert (caught.value.current, caught.value.target, caught.value.role) == (
        current,
        target,
        role,
    )


ONLY_VERIFIKATOR = "Hanya verifikator BKD yang dapat mengubah usulan berstatus "
ONLY_OPD = "Hanya pengelola kepegawaian OPD yang dapat mengubah usulan berstatus "
FINAL = "sudah final dan tidak dapat diubah lagi"


@pytest.mark.parametrize(
    ("current", "target", "role", "message"),
    [
        (
            S.DRAFT,
            S.SELESAI,
            Role.VERIFIKATOR,
            "Usulan berstatus 'draft' tidak dapat langsung menjadi 'selesai'",
        ),
        (
            S.DRAFT,
            S.DIVERIFIKASI,
            Role.OPD,
            "Usulan berstatus 'draft' tidak dapat langsung menjadi 'diverifikasi'",
        ),
        (
            S.DIAJUKAN,
            S.DRAFT,
            Role.OPD,
            "Usulan berstatus 'diajukan' tidak dapat langsung menjadi 'draft'",
        ),
        (
            S.DIAJUKAN,
            S.DIVERIFIKASI,
            Role.OPD,
            ONLY_VERIFIKATOR + "'diajukan' menjadi 'diverifikasi'",
        ),
        (
            S.DIAJUKAN,
            S.DIKEMBALIKAN,
            Role.OPD,
            ONLY_VERIFIKATOR + "'diajukan' menjadi 'dikembalikan'",
        ),
        (S.DRAFT, S.DIAJUKAN, Role.VERIFIKATOR, ONLY_OPD + "'draft' menjadi 'diajukan'"),
        (
            S.DIKEMBALIKAN,
            S.DIAJUKAN,
            Role.VERIFIKATOR,
            ONLY_OPD + "'dikembalikan' menjadi 'diajukan'",
        ),
        (S.DITOLAK, S.DIAJUKAN, Role.OPD, f"Usulan berstatus 'ditolak' {FINAL}"),
        (S.SELESAI, S.DRAFT, Role.VERIFIKATOR, f"Usulan berstatus 'selesai' {FINAL}"),
        (S.DIAJUKAN, S.DIAJUKAN, Role.VERIFIKATOR, "Usulan sudah berstatus 'diajukan'"),
    ],
)
def test_refusal_messages(
    current: UsulanStatus, target: UsulanStatus, role: Role, message: str
) -> None:
    with pytest.raises(TransitionError) as caught:
        check_transition(current, target, role)
    assert caught.value.message == message


def test_plain_strings_from_the_database_work() -> None:
    check_transition("draft", "diajukan", "opd")  # type: ignore[arg-type]
    with pytest.raises(TransitionError):
        check_transition("draft", "selesai", "opd")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("current", "role", "targets"),
    [
        (S.DRAFT, Role.OPD, [S.DIAJUKAN]),
        (S.DRAFT, Role.VERIFIKATOR, []),
        (S.DIAJUKAN, Role.VERIFIKATOR, [S.DIVERIFIKASI, S.DIKEMBALIKAN, S.DITOLAK]),
        (S.DIAJUKAN, Role.OPD, []),
        (S.DITERUSKAN, Role.VERIFIKATOR, [S.SELESAI]),
        (S.SELESAI, Role.VERIFIKATOR, []),
    ],
)
def test_next_statuses(current: UsulanStatus, role: Role, targets: list[UsulanStatus]) -> None:
    assert next_statuses(current, role) == targets


def test_labels_and_sets() -> None:
    assert dict(STATUS_LABELS) == {
        S.DRAFT: "Draf",
        S.DIAJUKAN: "Diajukan",
        S.DIVERIFIKASI: "Memenuhi Syarat (MS)",
        S.DIKEMBALIKAN: "Dikembalikan (BTS)",
        S.DITOLAK: "Ditolak (TMS)",
        S.DITERUSKAN: "Diteruskan ke BKN",
        S.SELESAI: "Selesai",
    }
    assert S.DIVERIFIKASI.label == "Memenuhi Syarat (MS)"
    assert {S.DRAFT, S.DIKEMBALIKAN} == OPEN_STATUSES
    assert {S.DITOLAK, S.SELESAI} == FINAL_STATUSES
    assert [s.value for s in S] == [
        "draft", "diajukan", "diverifikasi", "dikembalikan", "ditolak", "diteruskan", "selesai",
    ]  # fmt: skip


def test_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        TRANSITIONS[S.DRAFT] = {}  # type: ignore[index]
    with pytest.raises(TypeError):
        TRANSITIONS[S.DRAFT][S.SELESAI] = Role.OPD  # type: ignore[index]

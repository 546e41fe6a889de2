"""The field-level three-way merge of an op against the server's current record. Pure.

For each changed field, against the value the client based its change on:
- the op was made on the current version (fast-forward): take the new value;
- the server still holds the base value: take the new value;
- the server already holds the new value: nothing to do;
- otherwise both sides changed it differently: a conflict. The server keeps its value and
  the conflict keeps both, until a person resolves it.
Fields named by a resolution op (`forced`) take the new value whatever the server holds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def same_value(a: Any, b: Any) -> bool:
    """JSON equality that keeps 1, 1.0 and true apart and ignores key order."""
    if a is b:
        return True
    if type(a) is type(b) and isinstance(a, str | int | float):
        return bool(a == b)  # scalars of one type: plain equality is JSON equality
    if a is None or b is None:
        return False
    return _canonical(a) == _canonical(b)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class FieldConflict:
    field: str
    base: Any
    mine: Any  # the op's new value
    theirs: Any  # the server's current value


@dataclass(frozen=True)
class MergeResult:
    applied: dict[str, Any] = field(default_factory=dict)
    conflicts: list[FieldConflict] = field(default_factory=list)


def merge_fields(
    current: Mapping[str, Any],
    changes: Mapping[str, tuple[Any, Any]],
    *,
    fast_forward: bool,
    forced: Mapping[str, tuple[Any, Any]] | None = None,
) -> MergeResult:
    """Decide, per field, what an op with `changes` {field: (base, new)} does to `current`.

    `forced` names the fields a conflict resolution decides, with the two values the
    person chose between (mine, theirs). The decision wins only while the server still
    holds one of them: a change made since, by a device the resolver had not heard
    from, is not overwritten silently but becomes a new conflict.

    `applied` holds only values that differ from the current ones.
    """
    forced = forced or {}
    result = MergeResult()
    for name, (base, new) in changes.items():
        theirs = current.get(name)
        if same_value(theirs, new):
            continue
        decided = name in forced and any(same_value(theirs, v) for v in forced[name])
        if fast_forward or decided or same_value(theirs, base):
            result.applied[name] = new
        else:
            result.conflicts.append(FieldConflict(name, base, new, theirs))
    return result

"""Writing flag changes (raises, clear dates, withdrawals) for one case or a sweep batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, delete, insert, update

from adapters.db.tables import case_flags
from engine.model import Case

_CROSSING = (
    case_flags.c.case_id == bindparam("b_case"),
    case_flags.c.name == bindparam("b_name"),
    case_flags.c.anchor_on == bindparam("b_anchor"),
)

# Built once: the parameters carry the values (see repository.py on the cost of building).
_INSERT = insert(case_flags).inline()  # no implicit RETURNING id: it may be pipelined
_CLEAR = update(case_flags).where(*_CROSSING).values(cleared_on=bindparam("b_cleared"))
_WITHDRAW = delete(case_flags).where(*_CROSSING)


class FlagChangeRows(NamedTuple):
    """A batch's flag changes as rows named by ``case_flags``' columns."""

    raises: list[dict[str, Any]]
    clears: list[dict[str, Any]]  # case_id, name, anchor_on, cleared_on
    withdrawals: list[dict[str, Any]]  # case_id, name, anchor_on


def flag_rows(case: Case) -> list[dict[str, Any]]:
    """Rows for the case's newly raised flags."""
    return [
        {
            "case_id": case.id,
            "name": f.name,
            "kind": f.kind,
            "level": f.level,
            "clock": f.clock,
            "anchor_on": f.anchor_on,
            "raised_on": f.raised_on,
            "cleared_on": f.cleared_on,
        }
        for f in case.pending_flags
    ]


def take_flag_changes(batch: Sequence[Case]) -> FlagChangeRows:
    """Every case's pending flag changes as rows, in the order they apply (raises, then clears,
    then withdrawals); the cases' pending lists are emptied."""
    changes = FlagChangeRows([], [], [])
    for case in batch:
        changes.raises.extend(flag_rows(case))
        changes.clears.extend(
            {"case_id": case.id, "name": name, "anchor_on": anchor, "cleared_on": cleared}
            for (name, anchor), cleared in case.pending_clears
        )
        changes.withdrawals.extend(
            {"case_id": case.id, "name": name, "anchor_on": anchor}
            for name, anchor in case.pending_withdrawals
        )
        case.pending_flags.clear()
        case.pending_clears.clear()
        case.pending_withdrawals.clear()
    return changes


def folded(changes: FlagChangeRows) -> FlagChangeRows:
    """The same end state with at most one write per flag row, for writes sent as one
    statement (where an update cannot see a row inserted beside it, and two changes to one
    row would race): a clear of a flag raised in the same batch becomes its cleared date, a
    withdrawal drops the raise and the clears of its flag."""

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        return row["case_id"], row["name"], row["anchor_on"]

    gone = {key(row) for row in changes.withdrawals}
    raises = {key(row): dict(row) for row in changes.raises if key(row) not in gone}
    clears = []
    for row in changes.clears:
        if key(row) in gone:
            continue
        raised = raises.get(key(row))
        if raised is not None:
            raised["cleared_on"] = row["cleared_on"]
        else:
            clears.append(row)
    return FlagChangeRows(list(raises.values()), clears, changes.withdrawals)


def write_flag_changes(conn: Connection, batch: Sequence[Case]) -> None:
    """Apply every case's pending flag changes with at most three statements."""
    raises, clears, withdrawals = take_flag_changes(batch)
    if raises:
        conn.execute(_INSERT, raises)
    if clears:
        conn.execute(_CLEAR, [_crossing(row, b_cleared=row["cleared_on"]) for row in clears])
    if withdrawals:
        conn.execute(_WITHDRAW, [_crossing(row) for row in withdrawals])


def _crossing(row: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"b_case": row["case_id"], "b_name": row["name"], "b_anchor": row["anchor_on"], **extra}

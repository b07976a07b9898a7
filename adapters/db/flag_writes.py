"""Writing flag changes (raises, clear dates, withdrawals) for one case or a sweep batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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


def write_flag_changes(conn: Connection, batch: Sequence[Case]) -> None:
    """Apply every case's pending flag changes with at most three statements."""
    raises: list[dict[str, Any]] = []
    clears: list[dict[str, Any]] = []
    withdrawals: list[dict[str, Any]] = []
    for case in batch:
        raises.extend(flag_rows(case))
        clears.extend(
            {"b_case": case.id, "b_name": name, "b_anchor": anchor, "b_cleared": cleared}
            for (name, anchor), cleared in case.pending_clears
        )
        withdrawals.extend(
            {"b_case": case.id, "b_name": name, "b_anchor": anchor}
            for name, anchor in case.pending_withdrawals
        )
        case.pending_flags.clear()
        case.pending_clears.clear()
        case.pending_withdrawals.clear()
    if raises:
        conn.execute(_INSERT, raises)
    if clears:
        conn.execute(_CLEAR, clears)
    if withdrawals:
        conn.execute(_WITHDRAW, withdrawals)

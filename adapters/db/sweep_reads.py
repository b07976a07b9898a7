"""The sweep's batch reads: claim the due cases of a batch, with their clocks and flags.

The repository's readers take a list of ids as ``IN (...)``: a thousand placeholders per
statement, which psycopg re-parses on every call (measured: a tenth of the sweep's own time on
PostgreSQL). Here PostgreSQL gets one array parameter (``= ANY(:ids)``); SQLite keeps ``IN``.
The rows become the same objects the repository builds (``case_from_row``, ``ClockState``,
``Flag``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, Connection, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY

from adapters.db.repository import case_from_row, clock_from_row
from adapters.db.tables import case_clocks, case_flags, cases
from engine.model import Case
from sla.deadlines import ClockState
from sla.flags import Flag

_IDS = bindparam("ids", type_=ARRAY(BigInteger()))


def _among(column: Any, ids: Sequence[int], dialect: str) -> Any:
    return column == any_(_IDS) if dialect == "postgresql" else column.in_(ids)


def claim_due(
    conn: Connection, as_of: date, ids: Sequence[int]
) -> tuple[list[Case], dict[int, int]]:
    """The cases among ``ids`` still open and due on ``as_of``, with their clocks and flags, and
    each one's stored event count; on PostgreSQL their rows are locked for the transaction
    (``FOR UPDATE SKIP LOCKED``: a case a command holds right now is left to that command)."""
    dialect = conn.dialect.name
    params = {"ids": list(ids)} if dialect == "postgresql" else {}
    stmt = (
        select(cases)
        .where(
            cases.c.is_open.is_(True),
            cases.c.next_flag_on <= as_of,
            _among(cases.c.id, ids, dialect),
        )
        .order_by(cases.c.id)
    )
    if dialect == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=cases)
    rows = conn.execute(stmt, params).all()
    batch = [case_from_row(row) for row in rows]
    counts = {row.id: row.event_count for row in rows}
    if not batch:
        return batch, counts
    claimed = list(counts)
    params = {"ids": claimed} if dialect == "postgresql" else {}
    clocks: dict[int, dict[str, ClockState]] = {case_id: {} for case_id in claimed}
    for r in conn.execute(
        select(case_clocks)
        .where(_among(case_clocks.c.case_id, claimed, dialect))
        .order_by(case_clocks.c.case_id, case_clocks.c.started_on),
        params,
    ):
        clocks[r.case_id][r.clock] = clock_from_row(r)
    flags: dict[int, list[Flag]] = {case_id: [] for case_id in claimed}
    for r in conn.execute(
        select(case_flags)
        .where(_among(case_flags.c.case_id, claimed, dialect))
        .order_by(case_flags.c.id),
        params,
    ):
        flags[r.case_id].append(
            Flag(r.name, r.kind, r.level, r.clock, r.anchor_on, r.raised_on, r.cleared_on)
        )
    for case in batch:
        assert case.id is not None
        case.flags = flags[case.id]
        case.clocks = clocks[case.id]
    return batch, counts

"""Loading a case's clocks, flags and open work items in one round trip.

A command reads all three before it writes; one ``UNION ALL`` instead of three ``SELECT``\\ s
saves two round trips on every command (``bench/lifecycle.py`` measures the difference). The
statement is built once at import, with the case id as a bound parameter: building it per call
(a union of three selects, a subquery and its column proxies) cost more CPU than the rest of the
command's SQL together, and a prebuilt statement also hits SQLAlchemy's compiled cache at once.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Integer,
    Select,
    String,
    bindparam,
    cast,
    literal,
    null,
    select,
    union_all,
)

from adapters.db.tables import case_clocks, case_flags, work_items
from engine.model import Case
from sla.deadlines import ClockState
from sla.flags import Flag


def _none(kind: Any) -> Any:
    return cast(null(), kind)


def _parts_query() -> Select[Any]:
    case_id = bindparam("b_case", type_=case_clocks.c.case_id.type)
    clocks = select(
        literal("c").label("src"),
        literal(0).label("o"),
        case_clocks.c.clock.label("s1"),
        case_clocks.c.label.label("s2"),
        case_clocks.c.stop_reason.label("s3"),
        _none(String()).label("s4"),
        case_clocks.c.started_on.label("d1"),
        case_clocks.c.due_on.label("d2"),
        case_clocks.c.stopped_on.label("d3"),
        case_clocks.c.base_days.label("i1"),
        case_clocks.c.extended_days.label("i2"),
        _none(Integer()).label("i3"),
        _none(Integer()).label("i4"),
    ).where(case_clocks.c.case_id == case_id)
    flags = select(
        literal("f"),
        case_flags.c.id,
        case_flags.c.name,
        case_flags.c.kind,
        case_flags.c.level,
        case_flags.c.clock,
        case_flags.c.anchor_on,
        case_flags.c.raised_on,
        case_flags.c.cleared_on,
        _none(Integer()),
        _none(Integer()),
        _none(Integer()),
        _none(Integer()),
    ).where(case_flags.c.case_id == case_id)
    items = select(
        literal("w"),
        work_items.c.id,
        work_items.c.kind,
        work_items.c.status,
        work_items.c.team,
        work_items.c.reason,
        work_items.c.due_on,
        _none(Date()),
        _none(Date()),
        work_items.c.id,
        work_items.c.p_deadline,
        work_items.c.p_contact,
        work_items.c.p_care,
    ).where(work_items.c.case_id == case_id, work_items.c.status.in_(("open", "claimed")))
    union = union_all(clocks, flags, items).subquery()
    return select(union).order_by(union.c.src, union.c.o, union.c.d1)


PARTS = _parts_query()
"""Clocks, flags and open items of the case ``b_case``, clocks first, flags in id order."""


def load_parts(conn: Connection, case: Case) -> None:
    """Fill ``case.clocks``, ``case.flags`` and ``case.open_items`` from the database."""
    assert case.id is not None
    clocks: dict[str, ClockState] = {}
    flags: list[Flag] = []
    items: dict[str, Any] = {}
    for r in conn.execute(PARTS, {"b_case": case.id}):
        if r.src == "c":
            clocks[r.s1] = ClockState(
                name=r.s1,
                label=r.s2,
                started_on=r.d1,
                base_days=r.i1,
                due_on=r.d2,
                extended_days=r.i2,
                stopped_on=r.d3,
                stop_reason=r.s3,
            )
        elif r.src == "f":
            flags.append(Flag(r.s1, r.s2, r.s3, r.s4, r.d1, r.d2, r.d3))
        else:
            items[r.s1] = SimpleNamespace(
                id=r.i1,
                case_id=case.id,
                kind=r.s1,
                status=r.s2,
                team=r.s3,
                reason=r.s4,
                due_on=r.d1,
                p_deadline=r.i2,
                p_contact=r.i3,
                p_care=r.i4,
            )
    case.clocks, case.flags, case.open_items = clocks, flags, items

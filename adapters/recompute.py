"""Recompute deadlines when a calendar changes (a bank holiday proclaimed, a closure added).

Each open case stores the fingerprint of the calendar its deadlines were computed with. When the
current calendar's fingerprint differs, the running clocks' due dates are recomputed on the new
calendar; every move is an event on the case's timeline ("deadline_moved", with the old and new
dates), and the case's flags and ``next_flag_on`` are brought up to date in the same transaction.
Stopped clocks are history and keep the dates they were judged by. Batched by id, one
transaction per batch, each case saved with its version checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

import structlog
from sqlalchemy import Connection, Engine, select

from adapters.db.repository import SqlCaseRepository
from adapters.db.tables import cases
from engine.events import Event
from engine.flagging import SYSTEM_ACTOR, sync_flags
from engine.model import Case
from sla.calendar import WorkingCalendar
from sla.deadlines import recompute_due
from sla.policy import PolicyRegistry

log = structlog.get_logger()


@dataclass
class RecomputeSummary:
    cases_checked: int = 0
    cases_moved: int = 0
    deadlines_moved: int = 0
    calendars: tuple[str, ...] = ()


def stale_calendars(
    db_engine: Engine, calendars: Callable[[str], WorkingCalendar]
) -> dict[str, str]:
    """Calendars whose open cases were computed with another fingerprint: name -> current."""
    with db_engine.connect() as conn:
        rows = conn.execute(
            select(cases.c.calendar, cases.c.calendar_fingerprint)
            .where(cases.c.is_open.is_(True))
            .distinct()
        ).all()
    stale: dict[str, str] = {}
    for name, fingerprint in rows:
        current = calendars(name).fingerprint
        if fingerprint != current:
            stale[name] = current
    return stale


def recompute(
    db_engine: Engine,
    *,
    policies: PolicyRegistry,
    calendars: Callable[[str], WorkingCalendar],
    now: datetime,
    as_of: date,
    only: dict[str, str] | None = None,
    force: bool = False,
    batch_size: int = 500,
) -> RecomputeSummary:
    """Recompute open cases: of the stale calendars, of ``only`` (name -> fingerprint), or with
    ``force`` every open case of every calendar in use, whatever its fingerprint."""
    if force:
        targets = {name: calendars(name).fingerprint for name in calendars_in_use(db_engine)}
    else:
        targets = stale_calendars(db_engine, calendars) if only is None else only
    summary = RecomputeSummary(calendars=tuple(sorted(targets)))
    for name, fingerprint in sorted(targets.items()):
        calendar = calendars(name)
        after_id = 0
        while True:
            with db_engine.begin() as conn:
                batch = _claim(conn, name, None if force else fingerprint, after_id, batch_size)
                if not batch:
                    break
                repo = SqlCaseRepository(conn)
                for case in batch:
                    _recompute_case(case, calendar, policies, now, as_of, summary)
                    repo.save(case)
            after_id = max(c.id for c in batch if c.id is not None)
            summary.cases_checked += len(batch)
    log.info(
        "deadlines_recomputed",
        calendars=list(summary.calendars),
        cases_checked=summary.cases_checked,
        cases_moved=summary.cases_moved,
        deadlines_moved=summary.deadlines_moved,
    )
    return summary


def calendars_in_use(db_engine: Engine) -> list[str]:
    with db_engine.connect() as conn:
        stmt = select(cases.c.calendar).where(cases.c.is_open.is_(True)).distinct()
        return sorted(conn.execute(stmt).scalars())


def _claim(
    conn: Connection, calendar: str, fingerprint: str | None, after_id: int, limit: int
) -> list[Case]:
    stmt = (
        select(cases.c.reference)
        .where(cases.c.is_open.is_(True), cases.c.calendar == calendar, cases.c.id > after_id)
        .order_by(cases.c.id)
        .limit(limit)
    )
    if fingerprint is not None:
        stmt = stmt.where(cases.c.calendar_fingerprint != fingerprint)
    repo = SqlCaseRepository(conn)
    return [repo.get(reference, lock=True) for reference in conn.execute(stmt).scalars()]


def _recompute_case(
    case: Case,
    calendar: WorkingCalendar,
    policies: PolicyRegistry,
    now: datetime,
    as_of: date,
    summary: RecomputeSummary,
) -> None:
    moves = []
    for name, clock in list(case.clocks.items()):
        if not clock.running:
            continue
        moved = recompute_due(clock, calendar)
        if moved.due_on != clock.due_on:
            case.clocks[name] = moved
            moves.append(
                {"clock": name, "from": clock.due_on.isoformat(), "to": moved.due_on.isoformat()}
            )
    old_fingerprint = case.calendar_fingerprint
    case.calendar_fingerprint = calendar.fingerprint
    if moves:
        summary.cases_moved += 1
        summary.deadlines_moved += len(moves)
        case.pending_events.append(
            Event(
                kind="deadline_moved",
                occurred_at=now,
                recorded_at=now,
                actor=SYSTEM_ACTOR,
                data={"reason": "calendar changed", "moves": moves},
                before={"calendar_fingerprint": old_fingerprint},
                after={"calendar_fingerprint": calendar.fingerprint},
            )
        )
    policy = policies.get(case.policy_id)
    sync_flags(case, policy, calendar, as_of=as_of, clear_on=as_of, now=now)
    if not case.pending_events:
        # Nothing moved: still record that the case was checked against the new calendar.
        case.pending_events.append(
            replace(
                Event("calendar_checked", now, now, SYSTEM_ACTOR),
                data={"calendar": calendar.name},
                before={"calendar_fingerprint": old_fingerprint},
                after={"calendar_fingerprint": calendar.fingerprint},
            )
        )

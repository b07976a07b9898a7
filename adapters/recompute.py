"""Recompute deadlines when a calendar changes (a bank holiday proclaimed, a closure added) or a
policy's version does (a landlord lengthens a clock).

Set-based, in the database: the calendar is stored as a table of days with their cumulative
working-day index (``calendar_days``), so the n-th working day after a clock's start is a join,
and one transaction per calendar:

1. finds the running clocks of open cases whose due date differs on the new calendar,
2. moves them (``case_clocks`` is the one source of due dates),
3. appends one ``deadline_moved`` event per moved clock (old and new dates) to each case's
   timeline, numbered after the case's existing events,
4. marks those cases due for the next sweep (``next_flag_on``), which re-evaluates their flags,
5. records the new fingerprint for the calendar in ``calendar_states``: every open case of the
   calendar is now on it, moved or not, so the unmoved cases are not rewritten (a restamp of
   every case row cost as much as the plain ``UPDATE`` of the whole table). A case's own
   ``calendar_fingerprint`` is the calendar it was opened (or last moved) on.

A case opened on an old calendar after a recompute (a process that had not reloaded the
calendar yet) still makes the calendar stale: :func:`stale_calendars` looks for open cases of an
old fingerprint opened since shortly before the last recompute, and the recompute restamps those
few, so the check settles.

Policies (:func:`stale_policies`): an open case whose ``policy_version`` is not the loaded
version of its policy moves to it, one transaction per policy. Its running clocks whose rule has
other working days now take the rule's ``base_days`` and a due date recomputed on the case's own
calendar (the same ``calendar_days`` join), each with a ``deadline_moved`` event whose data names
the policy and both versions; every such case takes the new version and is marked due for the
next sweep even when no deadline moved (the contact thresholds may have changed). The rules go to
the database as a ``VALUES`` list of parameters. Cases under a policy the registry does not know
are left alone, with a warning. Calendars are recomputed first, so a policy's new dates are on the
new calendar.

Stopped clocks are history and keep the dates they were judged by. Nothing is read into Python
per case, so the cost is a couple of set-based statements however many cases there are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

import structlog
from sqlalchemy import (
    Connection,
    Date,
    Engine,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)

from adapters.db.tables import calendar_days, calendar_states, cases
from adapters.db.types import UtcDateTime
from sla.calendar import WorkingCalendar
from sla.policy import Policy, PolicyRegistry

log = structlog.get_logger()


@dataclass
class RecomputeSummary:
    """What a recompute did. The first four are the calendar part; the ``policy_`` ones the
    policy-version part (``policies``: the ``id@version`` each policy's cases moved to)."""

    cases_moved: int = 0
    deadlines_moved: int = 0
    cases_restamped: int = 0
    calendars: list[str] = field(default_factory=list)
    policies: list[str] = field(default_factory=list)
    policy_cases: int = 0  # open cases moved to the loaded version of their policy
    policy_cases_moved: int = 0  # of those, the cases with a deadline moved
    policy_deadlines_moved: int = 0
    unknown_policies: list[str] = field(default_factory=list)  # ids the registry does not know

    @property
    def all_deadlines_moved(self) -> int:
        """Deadlines moved for either cause."""
        return self.deadlines_moved + self.policy_deadlines_moved


def calendars_in_use(db_engine: Engine) -> list[str]:
    with db_engine.connect() as conn:
        stmt = select(cases.c.calendar).where(cases.c.is_open.is_(True)).distinct()
        return sorted(conn.execute(stmt).scalars())


# How long before a recompute a case opened on an old calendar may have committed after it (its
# transaction began before the recompute's and ended after): such cases still count as stale.
RACE_MARGIN = timedelta(minutes=10)


def stale_calendars(
    db_engine: Engine, calendars: Callable[[str], WorkingCalendar]
) -> dict[str, str]:
    """Calendars whose open cases were computed with another fingerprint: name -> current.

    A calendar is stale when its last recompute (``calendar_states``) was to another fingerprint
    or it never had one and an open case is on another fingerprint, or when a case on another
    fingerprint was opened since shortly before that recompute.
    """
    with db_engine.connect() as conn:
        states = {
            row.calendar: row
            for row in conn.execute(
                select(calendar_states.c.calendar, calendar_states.c.fingerprint,
                       calendar_states.c.recomputed_at)
            )
        }  # fmt: skip
        rows = conn.execute(
            select(cases.c.calendar, cases.c.calendar_fingerprint)
            .where(cases.c.is_open.is_(True))
            .distinct()
        ).all()
        stale: dict[str, str] = {}
        for name, fingerprint in rows:
            current = calendars(name).fingerprint
            if fingerprint == current or name in stale:
                continue
            state = states.get(name)
            if state is None or state.fingerprint != current:
                stale[name] = current
                continue
            since = state.recomputed_at - RACE_MARGIN
            late = conn.execute(
                select(cases.c.id)
                .where(*_behind(name, current), cases.c.created_at >= since)
                .limit(1)
            ).first()
            if late is not None:
                stale[name] = current
    return stale


def _behind(name: str, fingerprint: str) -> tuple[Any, ...]:
    return (
        cases.c.calendar == name,
        cases.c.is_open.is_(True),
        cases.c.calendar_fingerprint != fingerprint,
    )


def recompute(
    db_engine: Engine,
    *,
    calendars: Callable[[str], WorkingCalendar],
    now: datetime,
    as_of: date,
    force: bool = False,
    policies: PolicyRegistry | None = None,
) -> RecomputeSummary:
    """Recompute the running deadlines of open cases on every stale calendar (every calendar in
    use with ``force``), one transaction per calendar; then, given ``policies``, move the open
    cases of every policy whose version changed to its loaded version, one transaction per
    policy (``force`` makes no difference there: a case on its policy's version has nothing to
    move)."""
    names = calendars_in_use(db_engine) if force else sorted(stale_calendars(db_engine, calendars))
    summary = RecomputeSummary(calendars=names)
    for name in names:
        calendar = calendars(name)
        with db_engine.begin() as conn:
            store_calendar(conn, calendar)
            moved, clocks, restamped = _recompute_calendar(conn, calendar, now, as_of)
        summary.cases_moved += moved
        summary.deadlines_moved += clocks
        summary.cases_restamped += restamped
    if policies is not None:
        _recompute_policies(db_engine, policies, calendars, now, as_of, summary)
    log.info(
        "deadlines_recomputed",
        calendars=names,
        cases_moved=summary.cases_moved,
        deadlines_moved=summary.deadlines_moved,
        policies=summary.policies,
        policy_cases=summary.policy_cases,
        policy_cases_moved=summary.policy_cases_moved,
        policy_deadlines_moved=summary.policy_deadlines_moved,
    )
    return summary


def store_calendar(conn: Connection, calendar: WorkingCalendar) -> None:
    """(Re)write the calendar's days with their cumulative working-day index."""
    conn.execute(delete(calendar_days).where(calendar_days.c.calendar == calendar.name))
    rows = []
    day = calendar.first_day
    one = timedelta(days=1)
    previous = 0
    while day <= calendar.last_day:
        cum = calendar.working_day_index(day)
        rows.append({"calendar": calendar.name, "day": day, "cum": cum, "working": cum > previous})
        previous = cum
        day += one
    conn.execute(insert(calendar_days), rows)


_MOVED = """
CREATE TEMPORARY TABLE recompute_moved AS
SELECT cc.case_id AS case_id, cc.clock AS clock, cc.due_on AS old_due, w2.day AS new_due
FROM case_clocks cc
JOIN cases c ON c.id = cc.case_id
JOIN calendar_days w1 ON w1.calendar = :cal AND w1.day = cc.started_on
JOIN calendar_days w2
  ON w2.calendar = :cal AND w2.working AND w2.cum = w1.cum + cc.base_days + cc.extended_days
WHERE c.calendar = :cal AND c.is_open AND cc.stopped_on IS NULL AND cc.due_on <> w2.day
"""

# The conditions on the clock's own columns are checked again, on PostgreSQL, against a row a
# command changed and committed while this statement waited for it: a clock stopped or moved
# meanwhile is left as the command wrote it (``_KEEP_APPLIED`` then drops it from the set).
_MOVE_CLOCKS = """
UPDATE case_clocks SET due_on = m.new_due
FROM recompute_moved m
WHERE case_clocks.case_id = m.case_id AND case_clocks.clock = m.clock
  AND case_clocks.stopped_on IS NULL AND case_clocks.due_on = m.old_due
"""

# Keep in a moved-deadlines table ({moved}) only the clocks the move was applied to, so the
# events and the case counters below describe what happened.
_KEEP_APPLIED = """
DELETE FROM {moved}
WHERE NOT EXISTS (
    SELECT 1 FROM case_clocks cc
    WHERE cc.case_id = {moved}.case_id AND cc.clock = {moved}.clock
      AND cc.stopped_on IS NULL AND cc.due_on = {moved}.new_due
)
"""

# One ``deadline_moved`` event per row of a moved-deadlines table ({moved}), numbered after the
# case's stored events (calendar and policy recomputes alike).
_EVENTS = """
INSERT INTO case_events (case_id, seq, kind, occurred_at, recorded_at, actor, data, before, after)
SELECT m.case_id,
       c.event_count + ROW_NUMBER() OVER (PARTITION BY m.case_id ORDER BY m.clock),
       'deadline_moved', :now, :now, 'system',
       {data}, {before}, {after}
FROM {moved} m JOIN cases c ON c.id = m.case_id
"""

_JSON = {
    "postgresql": (
        "jsonb_build_object('reason', 'calendar changed', 'calendar', c.calendar, "
        "'clock', m.clock, 'from', m.old_due::text, 'to', m.new_due::text)",
        "jsonb_build_object('deadlines', jsonb_build_object(m.clock, m.old_due::text))",
        "jsonb_build_object('deadlines', jsonb_build_object(m.clock, m.new_due::text))",
    ),
    "sqlite": (
        "json_object('reason', 'calendar changed', 'calendar', c.calendar, "
        "'clock', m.clock, 'from', m.old_due, 'to', m.new_due)",
        "json_object('deadlines', json_object(m.clock, m.old_due))",
        "json_object('deadlines', json_object(m.clock, m.new_due))",
    ),
}

_COUNT_AND_MARK = """
UPDATE cases SET event_count = cases.event_count + per_case.moved,
                 next_flag_on = :today,
                 calendar_fingerprint = :fingerprint
FROM (SELECT case_id, COUNT(*) AS moved FROM recompute_moved GROUP BY case_id) per_case
WHERE cases.id = per_case.case_id
"""


def _apply_moves(
    conn: Connection,
    moved: str,
    move_clocks: str,
    shapes: Mapping[str, tuple[str, str, str]],
    now: datetime,
) -> tuple[int, int]:
    """Move the clocks listed in the table ``moved`` (``move_clocks``), keep in it only the
    moves applied, and give each a ``deadline_moved`` event (data, before, after in the
    dialect's ``shapes``). Returns (clocks moved, cases with a clock moved)."""
    conn.execute(text(move_clocks))
    conn.execute(text(_KEEP_APPLIED.format(moved=moved)))
    clocks = int(conn.execute(text(f"SELECT COUNT(*) FROM {moved}")).scalar_one())
    cases_moved = int(
        conn.execute(text(f"SELECT COUNT(DISTINCT case_id) FROM {moved}")).scalar_one()
    )
    if clocks:
        data, before, after = shapes[conn.dialect.name]
        sql = _EVENTS.format(moved=moved, data=data, before=before, after=after)
        events = text(sql).bindparams(bindparam("now", type_=UtcDateTime()))
        conn.execute(events, {"now": now})
    return clocks, cases_moved


def _recompute_calendar(
    conn: Connection, calendar: WorkingCalendar, now: datetime, as_of: date
) -> tuple[int, int, int]:
    params = {"cal": calendar.name}
    conn.execute(text("DROP TABLE IF EXISTS recompute_moved"))
    conn.execute(text(_MOVED), params)
    if conn.dialect.name == "sqlite":
        # SQLite's UPDATE ... FROM otherwise scans the moved set for every clock row it updates.
        conn.execute(text("CREATE INDEX recompute_moved_key ON recompute_moved (case_id, clock)"))
    else:
        # A temporary table has no statistics until analysed: without them PostgreSQL guesses
        # its size and may plan the three set-based writes below with nested loops.
        conn.execute(text("ANALYZE recompute_moved"))
    clocks, moved_cases = _apply_moves(conn, "recompute_moved", _MOVE_CLOCKS, _JSON, now)
    if clocks:
        mark = text(_COUNT_AND_MARK).bindparams(bindparam("today", type_=Date()))
        # Moved cases take the new fingerprint here, so the restamp below touches each case
        # row at most once.
        conn.execute(mark, {"today": as_of, "fingerprint": calendar.fingerprint})
    # The few unmoved cases opened on an old calendar since shortly before the last recompute
    # (see ``stale_calendars``) take the new fingerprint, so the check settles; the others are
    # covered by the calendar's state.
    previous = conn.execute(
        select(calendar_states.c.recomputed_at).where(calendar_states.c.calendar == calendar.name)
    ).scalar()
    restamped = 0
    if previous is not None:
        restamped = conn.execute(
            update(cases)
            .where(
                *_behind(calendar.name, calendar.fingerprint),
                cases.c.created_at >= previous - RACE_MARGIN,
            )
            .values(calendar_fingerprint=calendar.fingerprint)
        ).rowcount
    _record_state(conn, calendar, now)
    conn.execute(text("DROP TABLE recompute_moved"))
    return int(moved_cases), int(clocks), int(restamped) + (int(moved_cases) if clocks else 0)


def _record_state(conn: Connection, calendar: WorkingCalendar, now: datetime) -> None:
    """Record that every open case of the calendar is on its current fingerprint."""
    values = {"fingerprint": calendar.fingerprint, "recomputed_at": now}
    done = conn.execute(
        update(calendar_states).where(calendar_states.c.calendar == calendar.name).values(**values)
    ).rowcount
    if not done:
        conn.execute(insert(calendar_states).values(calendar=calendar.name, **values))


# -- policy versions ---------------------------------------------------------------------------


def _open_policy_versions(conn: Connection) -> list[tuple[str, int, int]]:
    """(policy id, version, open cases) for every version open cases are on."""
    stmt = (
        select(cases.c.policy_id, cases.c.policy_version, func.count())
        .where(cases.c.is_open.is_(True))
        .group_by(cases.c.policy_id, cases.c.policy_version)
    )
    return [(row[0], int(row[1]), int(row[2])) for row in conn.execute(stmt)]


def _policy_check(
    conn: Connection, policies: PolicyRegistry
) -> tuple[dict[str, Policy], dict[str, int]]:
    """Policies with open cases on another version than the loaded one (id -> policy), and the
    ids the registry does not know (id -> open cases)."""
    known = set(policies.ids())
    stale: dict[str, Policy] = {}
    unknown: dict[str, int] = {}
    for policy_id, version, count in _open_policy_versions(conn):
        if policy_id not in known:
            unknown[policy_id] = unknown.get(policy_id, 0) + count
            continue
        policy = policies.get(policy_id)
        if version != policy.version:
            stale[policy_id] = policy
    return stale, unknown


def _warn_unknown(unknown: dict[str, int]) -> None:
    if unknown:
        log.warning(
            "recompute_unknown_policies",
            policies=sorted(unknown),
            open_cases=sum(unknown.values()),
            hint="these cases are left on their version; is a policy file missing?",
        )


def stale_policies(db_engine: Engine, policies: PolicyRegistry) -> dict[str, int]:
    """Policies whose open cases are (some of them) on another version: id -> loaded version.

    Policies the registry does not know are left out, with a warning.
    """
    with db_engine.connect() as conn:
        stale, unknown = _policy_check(conn, policies)
    _warn_unknown(unknown)
    return {policy_id: policy.version for policy_id, policy in sorted(stale.items())}


def _recompute_policies(
    db_engine: Engine,
    policies: PolicyRegistry,
    calendars: Callable[[str], WorkingCalendar],
    now: datetime,
    as_of: date,
    summary: RecomputeSummary,
) -> None:
    with db_engine.connect() as conn:
        stale, unknown = _policy_check(conn, policies)
    _warn_unknown(unknown)
    summary.unknown_policies = sorted(unknown)
    for policy_id in sorted(stale):
        policy = stale[policy_id]
        with db_engine.begin() as conn:
            updated, moved, clocks = _recompute_policy(conn, policy, calendars, now, as_of)
        summary.policies.append(policy.key)
        summary.policy_cases += updated
        summary.policy_cases_moved += moved
        summary.policy_deadlines_moved += clocks


# The open cases of the policy on another version: the set every later statement works on, so a
# case opened meanwhile is left for the next run rather than half done.
_POLICY_CASES = """
CREATE TEMPORARY TABLE recompute_policy_cases AS
SELECT id AS case_id, calendar AS calendar, policy_version AS old_version
FROM cases
WHERE policy_id = :pid AND is_open AND policy_version <> :ver
"""

# Running clocks whose rule now has other working days, with their new due date on the case's
# own calendar. ``{rules}`` is a VALUES list of (clock, days) parameters.
_POLICY_MOVED = """
CREATE TEMPORARY TABLE recompute_policy_moved AS
WITH rules (clock, days) AS (VALUES {rules})
SELECT p.case_id AS case_id, cc.clock AS clock,
       p.old_version AS old_version, CAST(:ver AS INTEGER) AS new_version,
       cc.base_days AS old_days, r.days AS new_days,
       cc.due_on AS old_due, w2.day AS new_due
FROM recompute_policy_cases p
JOIN case_clocks cc ON cc.case_id = p.case_id
JOIN rules r ON r.clock = cc.clock
JOIN calendar_days w1 ON w1.calendar = p.calendar AND w1.day = cc.started_on
JOIN calendar_days w2
  ON w2.calendar = p.calendar AND w2.working AND w2.cum = w1.cum + r.days + cc.extended_days
WHERE cc.stopped_on IS NULL AND cc.base_days <> r.days
"""

_POLICY_MOVE_CLOCKS = """
UPDATE case_clocks SET base_days = m.new_days, due_on = m.new_due
FROM recompute_policy_moved m
WHERE case_clocks.case_id = m.case_id AND case_clocks.clock = m.clock
  AND case_clocks.stopped_on IS NULL AND case_clocks.due_on = m.old_due
  AND case_clocks.base_days = m.old_days
"""

_POLICY_JSON = {
    "postgresql": (
        "jsonb_build_object('reason', 'policy changed', 'cause', 'policy_version', "
        "'policy', c.policy_id, 'from_version', m.old_version, 'to_version', m.new_version, "
        "'clock', m.clock, 'from', m.old_due::text, 'to', m.new_due::text, "
        "'from_days', m.old_days, 'to_days', m.new_days)",
        "jsonb_build_object('deadlines', jsonb_build_object(m.clock, m.old_due::text))",
        "jsonb_build_object('deadlines', jsonb_build_object(m.clock, m.new_due::text))",
    ),
    "sqlite": (
        "json_object('reason', 'policy changed', 'cause', 'policy_version', "
        "'policy', c.policy_id, 'from_version', m.old_version, 'to_version', m.new_version, "
        "'clock', m.clock, 'from', m.old_due, 'to', m.new_due, "
        "'from_days', m.old_days, 'to_days', m.new_days)",
        "json_object('deadlines', json_object(m.clock, m.old_due))",
        "json_object('deadlines', json_object(m.clock, m.new_due))",
    ),
}

# Every case of the set takes the loaded version and is due for the next sweep (its contact
# thresholds or due-soon days may have changed even when no deadline moved); the event counter
# counts the events appended above.
_POLICY_MARK = """
UPDATE cases SET policy_version = :ver,
                 next_flag_on = :today,
                 event_count = cases.event_count
                     + (SELECT COUNT(*) FROM recompute_policy_moved m WHERE m.case_id = cases.id)
WHERE cases.id IN (SELECT case_id FROM recompute_policy_cases)
"""


def _recompute_policy(
    conn: Connection,
    policy: Policy,
    calendars: Callable[[str], WorkingCalendar],
    now: datetime,
    as_of: date,
) -> tuple[int, int, int]:
    """Move the policy's open cases on another version to ``policy``: (cases updated, cases
    with a deadline moved, deadlines moved)."""
    params: dict[str, Any] = {"pid": policy.id, "ver": policy.version}
    conn.execute(text("DROP TABLE IF EXISTS recompute_policy_moved"))
    conn.execute(text("DROP TABLE IF EXISTS recompute_policy_cases"))
    conn.execute(text(_POLICY_CASES), params)
    names = conn.execute(text("SELECT DISTINCT calendar FROM recompute_policy_cases")).scalars()
    for name in sorted(names):
        _ensure_days(conn, calendars(name))
    rules = []
    for i, rule in enumerate(policy.clocks):
        rules.append(f"(CAST(:rc{i} AS VARCHAR(32)), CAST(:rd{i} AS INTEGER))")
        params[f"rc{i}"], params[f"rd{i}"] = rule.name, rule.days
    conn.execute(text(_POLICY_MOVED.format(rules=", ".join(rules))), params)
    if conn.dialect.name == "sqlite":
        conn.execute(
            text(
                "CREATE INDEX recompute_policy_moved_key ON recompute_policy_moved (case_id, clock)"
            )
        )
    else:
        # No statistics on a fresh temporary table (see ``_recompute_calendar``).
        conn.execute(text("ANALYZE recompute_policy_cases"))
        conn.execute(text("ANALYZE recompute_policy_moved"))
    updated = conn.execute(text("SELECT COUNT(*) FROM recompute_policy_cases")).scalar_one()
    clocks, moved_cases = _apply_moves(
        conn, "recompute_policy_moved", _POLICY_MOVE_CLOCKS, _POLICY_JSON, now
    )
    if updated:
        mark = text(_POLICY_MARK).bindparams(bindparam("today", type_=Date()))
        conn.execute(mark, {"today": as_of, "ver": policy.version})
    conn.execute(text("DROP TABLE recompute_policy_moved"))
    conn.execute(text("DROP TABLE recompute_policy_cases"))
    return int(updated), int(moved_cases), int(clocks)


@cache
def stored_signature(calendar: WorkingCalendar) -> tuple[int, int, int]:
    """What ``calendar_days`` holds for ``calendar`` when it is current: rows, the last index,
    their sum (a changed calendar changes the index, and so the sum)."""
    day, one = calendar.first_day, timedelta(days=1)
    rows = total = last = 0
    while day <= calendar.last_day:
        last = calendar.working_day_index(day)
        total += last
        rows += 1
        day += one
    return rows, last, total


def _ensure_days(conn: Connection, calendar: WorkingCalendar) -> None:
    """Store the calendar's days unless ``calendar_days`` already holds them: a calendar that
    never needed a recompute may never have been stored."""
    row = conn.execute(
        select(func.count(), func.max(calendar_days.c.cum), func.sum(calendar_days.c.cum)).where(
            calendar_days.c.calendar == calendar.name
        )
    ).one()
    if (int(row[0]), int(row[1] or 0), int(row[2] or 0)) == stored_signature(calendar):
        return
    store_calendar(conn, calendar)
    if conn.dialect.name == "postgresql":
        conn.execute(text("ANALYZE calendar_days"))

"""Timeliness for a period: working days taken, clocks against their targets, breaches and
extensions. Every query returns a handful of grouped rows (a histogram of days, counts per
clock); averages and medians are taken from the histograms by ``engine.reporting``, which gives
exact medians on both databases without loading a row per case.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Integer,
    String,
    and_,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)

from adapters.db.tables import calendar_days, case_clocks, case_events, case_milestones, cases
from adapters.reports.queries import (
    AnySelect,
    between,
    complaint_cases,
    day_bounds,
    json_flag,
    json_text,
    london_day,
    of_a_complaint,
)

CLOCKS = ("acknowledge", "respond", "stage2_acknowledge", "stage2_respond")
CLOCK_STAGE = {"acknowledge": 1, "respond": 1, "stage2_acknowledge": 2, "stage2_respond": 2}
MET_BY = {
    "acknowledge": "acknowledged",
    "respond": "responded",
    "stage2_acknowledge": "stage2_acknowledged",
    "stage2_respond": "stage2_responded",
}
DURATIONS = (
    ("acknowledge", "Stage 1: received to acknowledged", "received", "acknowledged"),
    ("stage1_response", "Stage 1: received to responded", "received", "responded"),
    (
        "stage2_acknowledge",
        "Stage 2: escalation requested to acknowledged",
        "escalation_requested",
        "stage2_acknowledged",
    ),
    (
        "stage2_response",
        "Stage 2: escalation requested to responded",
        "escalation_requested",
        "stage2_responded",
    ),
)
CLOSE = ("close", "Received to closed", "received", "closed")  # key, label, from, to (event)
Histogram = dict[int, int]


@dataclass(frozen=True, slots=True)
class ClockTimeliness:
    """Clocks of one kind met (stopped by their own milestone) in the period."""

    taken: Histogram = field(default_factory=dict)
    allowed: Histogram = field(default_factory=dict)
    within: int = 0


@dataclass(frozen=True, slots=True)
class Breaches:
    late: int = 0
    open: int = 0


@dataclass(frozen=True, slots=True)
class ExtensionUse:
    extensions: int = 0
    days: int = 0
    cases: int = 0
    beyond_cap: int = 0
    notified_late: int = 0


@dataclass(frozen=True, slots=True)
class Timeliness:
    durations: dict[str, Histogram]
    clocks: dict[str, ClockTimeliness]
    breaches: dict[str, Breaches]
    extensions: dict[str, ExtensionUse]


def timeliness(conn: Connection, start: date, end: date, as_of: date) -> Timeliness:
    durations, clocks = _spans(conn, start, end)
    return Timeliness(
        durations=durations,
        clocks=clocks,
        breaches=_breaches(conn, start, end, as_of),
        extensions=_extensions(conn, start, end),
    )


def _spans(
    conn: Connection, start: date, end: date
) -> tuple[dict[str, Histogram], dict[str, ClockTimeliness]]:
    """Working days taken by every step done in the period and by every clock met in it, from
    one query: histograms of days per measure."""
    key_of = {last: key for key, _, _, last in DURATIONS} | {CLOSE[3]: CLOSE[0]}
    durations: dict[str, Histogram] = {key: {} for key in key_of.values()}
    taken: dict[str, Histogram] = defaultdict(lambda: defaultdict(int))
    allowed: dict[str, Histogram] = defaultdict(lambda: defaultdict(int))
    within: dict[str, int] = defaultdict(int)
    for row in conn.execute(_span_query(start, end)):
        measure, days, n = str(row.measure), int(row.days), int(row.n)
        if measure in key_of:
            durations[key_of[measure]][days] = durations[key_of[measure]].get(days, 0) + n
            continue
        clock = measure.removeprefix("clock:")
        taken[clock][days] += n
        allowed[clock][int(row.allowed)] += n
        within[clock] += int(row.within)
    clocks = {
        clock: ClockTimeliness(dict(taken[clock]), dict(allowed[clock]), within[clock])
        for clock in taken
    }
    return durations, clocks


def _span_query(start: date, end: date) -> AnySelect:
    """``(measure, days, allowed, n, within)`` counts of every span of the period:

    * each step of ``DURATIONS`` done in the period, from the case's ``received_on`` (on the
      case row joined anyway) or, at Stage 2, from the escalation request;
    * each case closed in the period, from ``received_on``;
    * each clock met in the period (stopped by its own milestone), from its start, with the
      working days it allowed and whether it stopped by its due date.

    The three kinds are one UNION joined to ``cases`` once: on a large database that join (a
    hash of every case) is the main cost, so it is paid once rather than once per kind. The
    query groups by few keys, so PostgreSQL runs the join and a partial aggregation in parallel
    workers (measured in bench/reports.py: faster on a loaded two-core machine than counting
    per calendar day first, which the planner runs in one process).
    """
    facts = union_all(
        _step_spans(start, end), _close_spans(start, end), _clock_spans(start, end)
    ).subquery("spans")
    a, b = calendar_days.alias("wd_from"), calendar_days.alias("wd_to")
    first_day = func.coalesce(facts.c.from_day, cases.c.received_on)
    joined = (
        facts.join(cases, cases.c.id == facts.c.case_id)
        .join(a, and_(a.c.calendar == cases.c.calendar, a.c.day == first_day))
        .join(b, and_(b.c.calendar == cases.c.calendar, b.c.day == facts.c.to_day))
    )
    days = b.c.cum - a.c.cum
    return (
        select(
            facts.c.measure,
            days.label("days"),
            facts.c.allowed,
            func.count().label("n"),
            func.sum(facts.c.within).label("within"),
        )
        .select_from(joined)
        .where(complaint_cases())
        .group_by(facts.c.measure, days, facts.c.allowed)
    )


def _span(
    case_id: Any, measure: Any, from_day: Any, to_day: Any, allowed: Any = None, within: Any = None
) -> tuple[Any, ...]:
    # type_coerce, not CAST, for dates: SQLite's CAST('2025-06-04' AS DATE) is 2025. A bare NULL
    # is cast, or PostgreSQL types the first two branches' NULLs as text.
    return (
        case_id.label("case_id"),
        type_coerce(measure, String).label("measure"),
        (cast(null(), Date) if from_day is None else type_coerce(from_day, Date)).label("from_day"),
        type_coerce(to_day, Date).label("to_day"),
        (cast(null(), Integer) if allowed is None else allowed).label("allowed"),
        type_coerce(literal_column("0") if within is None else within, Integer).label("within"),
    )


def _step_spans(start: date, end: date) -> AnySelect:
    e, esc = case_milestones.alias("m_to"), case_milestones.alias("m_esc")
    stage2 = [last for _, _, first, last in DURATIONS if first == "escalation_requested"]
    joined = e.outerjoin(
        esc,
        and_(
            esc.c.case_id == e.c.case_id,
            esc.c.name == "escalation_requested",
            e.c.name.in_(stage2),
        ),
    )
    return (
        select(*_span(e.c.case_id, e.c.name, esc.c.business_date, e.c.business_date))
        .select_from(joined)
        .where(
            e.c.name.in_([last for _, _, _, last in DURATIONS]),
            between(e.c.business_date, start, end),
        )
    )


def _close_spans(start: date, end: date) -> AnySelect:
    e = case_events
    first, after = day_bounds(start, end)
    return select(
        *_span(e.c.case_id, literal_column(f"'{CLOSE[3]}'"), None, london_day(e.c.occurred_at))
    ).where(e.c.kind == "closed", e.c.occurred_at >= first, e.c.occurred_at < after)


def _clock_spans(start: date, end: date) -> AnySelect:
    cc = case_clocks
    met = or_(*(and_(cc.c.clock == c, cc.c.stop_reason == m) for c, m in MET_BY.items()))
    return select(
        *_span(
            cc.c.case_id,
            literal_column("'clock:'") + cc.c.clock,
            cc.c.started_on,
            cc.c.stopped_on,
            cc.c.base_days + cc.c.extended_days,
            case((cc.c.stopped_on <= cc.c.due_on, 1), else_=0),
        )
    ).where(met, between(cc.c.stopped_on, start, end))


def _breaches(conn: Connection, start: date, end: date, as_of: date) -> dict[str, Breaches]:
    """Clocks whose deadline fell in the period and was missed: stopped after it (``late``), or
    still running after it on ``as_of`` (``open``)."""
    cc = case_clocks
    late = and_(cc.c.stopped_on.is_not(None), cc.c.stopped_on > cc.c.due_on)
    still_open = and_(cc.c.stopped_on.is_(None), cc.c.due_on < as_of)
    stmt = (
        select(
            cc.c.clock,
            func.sum(case((late, 1), else_=0)).label("late"),
            func.sum(case((still_open, 1), else_=0)).label("open"),
        )
        .where(
            between(cc.c.due_on, start, end), or_(late, still_open), of_a_complaint(cc.c.case_id)
        )
        .group_by(cc.c.clock)
    )
    return {row.clock: Breaches(int(row.late), int(row.open)) for row in conn.execute(stmt)}


def _extensions(conn: Connection, start: date, end: date) -> dict[str, ExtensionUse]:
    e = case_events
    first, after = day_bounds(start, end)
    clock = json_text("clock")
    stmt = (
        select(
            clock.label("clock"),
            func.count().label("n"),
            func.sum(e.c.data["days"].as_integer()).label("days"),
            func.count(e.c.case_id.distinct()).label("cases"),
            func.sum(case((json_flag("beyond_cap").is_(True), 1), else_=0)).label("beyond"),
            func.sum(case((json_flag("notified_before_due").is_(False), 1), else_=0)).label("late"),
        )
        .where(
            e.c.kind == "extended",
            e.c.occurred_at >= first,
            e.c.occurred_at < after,
            of_a_complaint(e.c.case_id),
        )
        .group_by(clock)
    )
    return {
        row.clock: ExtensionUse(
            int(row.n), int(row.days or 0), int(row.cases), int(row.beyond), int(row.late)
        )
        for row in conn.execute(stmt)
    }

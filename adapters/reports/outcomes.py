"""Outcomes and volumes for a period, by category, area, channel and month.

One query gathers every measure as rows of ``(case, day, kind)`` (a UNION ALL over responses,
accepted complaints, referrals and milestones), joins them to ``cases`` once, and counts them by
category, by area, by channel and by month: a few hundred rows come back. Each measure is dated
by its own event:

* decisions, avoidable failures and compensation: by the response date (either stage);
* escalation rate: complaints received in the period and accepted at Stage 1 (acknowledged), and
  of those, how many have asked for Stage 2 so far;
* Ombudsman referrals: by the date of the referral;
* volumes: Stage 1 complaints received and Stage 2 requests (counted as CH01 counts them) and
  responses at each stage, by month.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.sql import FromClause

from adapters.db.tables import case_events, case_milestones, case_responses, cases
from adapters.reports.queries import (
    AnySelect,
    between,
    complaint_cases,
    day_bounds,
    declined_milestones,
    london_day,
    month_of,
)

DIMENSIONS = ("category", "area", "channel", "month")
DECISIONS = ("upheld", "partially-upheld", "not-upheld")
VOLUME_MILESTONES = ("received", "escalation_requested", "responded", "stage2_responded")


FIELDS = (
    "s1_upheld",
    "s1_partially_upheld",
    "s1_not_upheld",
    "s2_upheld",
    "s2_partially_upheld",
    "s2_not_upheld",
    "avoidable",
    "compensation_pence",
    "accepted",
    "escalated",
    "referrals",
)
_AT = {name: i for i, name in enumerate(FIELDS)}


@dataclass(frozen=True, slots=True)
class OutcomeCounts:
    s1_upheld: int = 0
    s1_partially_upheld: int = 0
    s1_not_upheld: int = 0
    s2_upheld: int = 0
    s2_partially_upheld: int = 0
    s2_not_upheld: int = 0
    avoidable: int = 0
    compensation_pence: int = 0
    accepted: int = 0
    escalated: int = 0
    referrals: int = 0


@dataclass(frozen=True, slots=True)
class Outcomes:
    """The counts per value of each dimension, and the volumes by month."""

    dimensions: dict[str, dict[str, OutcomeCounts]]
    volumes: dict[str, dict[str, int]]  # month -> milestone -> count

    def by(self, dimension: str) -> dict[str, OutcomeCounts]:
        """One dimension's rows, in key order."""
        return dict(sorted(self.dimensions.get(dimension, {}).items()))

    def total(self) -> OutcomeCounts:
        """Every fact has a month, so the months add up to the total."""
        sums = [0] * len(FIELDS)
        for counts in self.dimensions.get("month", {}).values():
            for i, name in enumerate(FIELDS):
                sums[i] += getattr(counts, name)
        return OutcomeCounts(*sums)


def outcomes(conn: Connection, start: date, end: date) -> Outcomes:
    tallies: dict[str, dict[str, list[int]]] = {d: {} for d in DIMENSIONS}
    volumes: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(VOLUME_MILESTONES, 0))
    for row in conn.execute(_rollups(start, end, conn.dialect.name)):
        dimension, kind, n = str(row.dim), str(row.kind), int(row.n)
        key = _month_key(row.key) if dimension == "month" else str(row.key)
        if dimension == "month":
            volume = _VOLUME_OF.get(kind[:3] if kind[:1] == "s" else kind)
            if volume is not None:
                volumes[key][volume] += n
        if kind == "escalation":
            continue
        counts = tallies[dimension].setdefault(key, [0] * len(FIELDS))
        if kind == "received":
            counts[_AT["accepted"]] += int(row.a or 0)
            counts[_AT["escalated"]] += int(row.b or 0)
        elif kind == "referral":
            counts[_AT["referrals"]] += n
        else:  # a response: "s<stage>_<decision>"
            counts[_AT[kind]] += n
            counts[_AT["avoidable"]] += int(row.a or 0)
            counts[_AT["compensation_pence"]] += int(row.b or 0)
    dimensions = {
        d: {k: OutcomeCounts(*v) for k, v in rows.items() if any(v)} for d, rows in tallies.items()
    }
    return Outcomes(dimensions, dict(volumes))


_VOLUME_OF = {
    "received": "received",
    "escalation": "escalation_requested",
    "s1_": "responded",
    "s2_": "stage2_responded",
}


def _month_key(value: Any) -> str:
    """``YYYY-MM`` from the first of the month (a date on PostgreSQL, ISO text on SQLite)."""
    return str(value)[:7]


def _rollups(start: date, end: date, dialect: str = "postgresql") -> AnySelect:
    """Every measure as ``(case_id, day, kind, a, b)`` rows, joined to ``cases`` once, then
    counted per kind by category, by area, by channel and by month. The volumes come from the
    same rows (receipts, escalation requests, responses by stage), counted by month.

    PostgreSQL does the four counts in one pass with GROUPING SETS (after a parallel join);
    SQLite, which has no grouping sets, runs four GROUP BYs over the same rows."""
    facts = union_all(
        _responses(start, end), _received(start, end), _escalations(start, end),
        _referrals(start, end),
    ).subquery("facts")  # fmt: skip
    month = month_of(facts.c.day)
    columns = {
        "category": cases.c.category,
        "area": cases.c.area,
        "channel": cases.c.channel,
        "month": month,
    }
    joined = facts.join(cases, cases.c.id == facts.c.case_id)
    counts = (
        func.count().label("n"),
        func.sum(facts.c.a).label("a"),
        func.sum(facts.c.b).label("b"),
    )
    if dialect == "postgresql":
        grouped = [c for c in columns.values() if c is not month]
        dim = case(
            *(
                (func.grouping(c) == 0, literal(name))
                for name, c in columns.items()
                if c is not month
            ),
            else_=literal("month"),
        )
        key = case(*((func.grouping(c) == 0, c) for c in grouped), else_=cast(month, String))
        sets = func.grouping_sets(*(tuple_(c, facts.c.kind) for c in columns.values()))
        return (
            select(dim.label("dim"), key.label("key"), facts.c.kind, *counts)
            .select_from(joined)
            .where(complaint_cases())
            .group_by(sets)
        )
    parts = [
        select(literal(name).label("dim"), cast(column, String).label("key"), facts.c.kind, *counts)
        .select_from(joined)
        .where(complaint_cases())
        .group_by(column, facts.c.kind)
        for name, column in columns.items()
    ]
    return union_all(*parts)  # type: ignore[return-value]


def _fact(case_id: Any, day: Any, kind: Any, a: Any = 0, b: Any = 0) -> tuple[Any, ...]:
    return (
        case_id.label("case_id"),
        day.label("day"),
        kind.label("kind"),
        cast(a, BigInteger).label("a"),
        cast(b, BigInteger).label("b"),
    )


def _responses(start: date, end: date) -> AnySelect:
    """Decisions, avoidable failures and compensation, dated by the response."""
    r = case_responses
    kind = case(
        *(
            (and_(r.c.stage == s, r.c.decision == d), literal(f"s{s}_{d.replace('-', '_')}"))
            for s in (1, 2)
            for d in DECISIONS
        ),
        else_=literal("other"),
    )
    avoidable = case((r.c.avoidable.is_(True), 1), else_=0)
    return select(
        *_fact(r.c.case_id, r.c.responded_on, kind, avoidable, r.c.compensation_pence)
    ).where(between(r.c.responded_on, start, end))


def _received(start: date, end: date) -> AnySelect:
    """Complaints received in the period (not declined at receipt): one row each, with
    ``a`` = acknowledged at Stage 1 (accepted) and ``b`` = accepted and asked for Stage 2 since.
    """
    received = case_milestones.alias("cohort_received")
    ack = case_milestones.alias("cohort_ack")
    esc = case_milestones.alias("cohort_esc")
    declined = declined_milestones()
    # A later step cannot be dated more than a few days before the receipt's business date (a
    # cut-off can move a receipt past a weekend or a closure), so bounding the later steps'
    # dates lets the database read only recent ones instead of every acknowledgement ever.
    floor = start - timedelta(days=31)
    joined: FromClause = (
        received.outerjoin(
            ack,
            and_(
                ack.c.case_id == received.c.case_id,
                ack.c.name == "acknowledged",
                ack.c.business_date >= floor,
            ),
        )
        .outerjoin(
            esc,
            and_(
                esc.c.case_id == received.c.case_id,
                esc.c.name == "escalation_requested",
                esc.c.business_date >= floor,
            ),
        )
        .outerjoin(
            declined,
            and_(declined.c.case_id == received.c.case_id, declined.c.milestone == "received"),
        )
    )
    accepted = case((ack.c.case_id.is_(None), 0), else_=1)
    escalated = case((and_(ack.c.case_id.is_not(None), esc.c.case_id.is_not(None)), 1), else_=0)
    return (
        select(
            *_fact(
                received.c.case_id,
                received.c.business_date,
                literal("received"),
                accepted,
                escalated,
            )
        )
        .select_from(joined)
        .where(
            received.c.name == "received",
            between(received.c.business_date, start, end),
            declined.c.case_id.is_(None),
        )
    )


def _escalations(start: date, end: date) -> AnySelect:
    """Stage 2 requests in the period, refused ones left out (as CH01 counts them)."""
    m, declined = case_milestones, declined_milestones()
    joined = m.outerjoin(
        declined,
        and_(declined.c.case_id == m.c.case_id, declined.c.milestone == "escalation_requested"),
    )
    return (
        select(*_fact(m.c.case_id, m.c.business_date, literal("escalation")))
        .select_from(joined)
        .where(
            m.c.name == "escalation_requested",
            between(m.c.business_date, start, end),
            declined.c.case_id.is_(None),
        )
    )


def _referrals(start: date, end: date) -> AnySelect:
    e = case_events
    first, after = day_bounds(start, end)
    return select(*_fact(e.c.case_id, london_day(e.c.occurred_at), literal("referral"))).where(
        e.c.kind == "referred_to_ombudsman", e.c.occurred_at >= first, e.c.occurred_at < after
    )


def decision_total(counts: OutcomeCounts, decision: str) -> int:
    key = decision.replace("-", "_")
    return int(getattr(counts, f"s1_{key}")) + int(getattr(counts, f"s2_{key}"))

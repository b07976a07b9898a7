"""Hotspots: category x area combinations with unusually many complaints against their own past.

One grouped query counts complaints received (as CH01 counts them) per category, area and
period, for the period and the 12 same-length periods before it. The test, per combination
(``engine.reporting.hotspot_test``): X ~ Poisson(lambda), lambda = the mean of the 12 previous
periods floored at 0.5; flagged when P(X >= observed) < 0.01 and observed >= 3. The standard
deviation of the history is shown for context but not used by the test (counts of rare events are
Poisson-like; a z-score on a sample of 12 small counts misleads).

The cases behind each hotspot are listed by reference, except restricted cases the viewer may
not see (``visibility``): those are counted in the hotspot and shown only as a number.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Engine, and_, case, func, literal, select, tuple_
from sqlalchemy.sql import ColumnElement, FromClause

from adapters.db.tables import cases
from adapters.reports.document import (
    Cell,
    Chart,
    ReportDocument,
    Series,
    Table,
    number_columns,
    text_columns,
)
from adapters.reports.queries import AnySelect, between, complaint_cases, declined_milestones
from adapters.reports.visibility import if_listable, not_listed_note
from engine.access import Actor
from engine.reporting import (
    HOTSPOT_ALPHA,
    HOTSPOT_HISTORY,
    HOTSPOT_MIN_COUNT,
    HOTSPOT_RATE_FLOOR,
    HotspotTest,
    history_windows,
    hotspot_test,
)

TEST_TEXT = (
    f"Poisson test per category x area: lambda = mean count of the {HOTSPOT_HISTORY} previous "
    f"same-length periods (at least {HOTSPOT_RATE_FLOOR}); flagged when "
    f"P(X >= observed | lambda) < {HOTSPOT_ALPHA} and observed >= {HOTSPOT_MIN_COUNT}"
)


@dataclass(frozen=True, slots=True)
class Hotspot:
    category: str
    area: str
    test: HotspotTest
    references: tuple[tuple[str, date], ...] = ()
    not_listed: int = 0  # restricted cases behind it that the viewer may not see listed


@dataclass(frozen=True, slots=True)
class HotspotFigures:
    start: date
    end: date
    windows: tuple[tuple[date, date], ...]
    tested: int
    hotspots: tuple[Hotspot, ...]


def hotspot_figures(
    db_engine: Engine, start: date, end: date, viewer: Actor | None = None
) -> HotspotFigures:
    windows = (*history_windows(start, end), (start, end))
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * len(windows))
    with db_engine.connect() as conn:
        for row in conn.execute(_counts(windows)):
            if row.window is not None:
                counts[(row.category, row.area)][int(row.window)] += int(row.n)
        flagged = []
        for (category, area), series in sorted(counts.items()):
            test = hotspot_test(series[-1], series[:-1])
            if test.flagged:
                flagged.append((category, area, test))
        behind: dict[tuple[str, str], list[tuple[str, date]]] = defaultdict(list)
        hidden: dict[tuple[str, str], int] = defaultdict(int)
        if flagged:
            pairs = [(c, a) for c, a, _ in flagged]
            for row in conn.execute(_cases_behind(pairs, start, end, viewer)):
                if row.reference is None:
                    hidden[(row.category, row.area)] += 1
                else:
                    behind[(row.category, row.area)].append((row.reference, row.received_on))
    hotspots = tuple(
        Hotspot(c, a, t, tuple(behind[(c, a)]), hidden[(c, a)])
        for c, a, t in sorted(flagged, key=lambda item: (item[2].p_value, item[0], item[1]))
    )
    return HotspotFigures(start, end, windows[:-1], len(counts), hotspots)


def _not_declined() -> tuple[FromClause, ColumnElement[bool]]:
    declined = declined_milestones()
    joined = cases.outerjoin(
        declined, and_(declined.c.case_id == cases.c.id, declined.c.milestone == "received")
    )
    return joined, declined.c.case_id.is_(None)


def _counts(windows: tuple[tuple[date, date], ...]) -> AnySelect:
    window = case(
        *((between(cases.c.received_on, s, e), literal(i)) for i, (s, e) in enumerate(windows)),
        else_=None,
    )
    joined, kept = _not_declined()
    return (
        select(cases.c.category, cases.c.area, window.label("window"), func.count().label("n"))
        .select_from(joined)
        .where(
            complaint_cases(),
            kept,
            between(cases.c.received_on, windows[0][0], windows[-1][1]),
        )
        .group_by(cases.c.category, cases.c.area, window)
    )


def _cases_behind(
    pairs: list[tuple[str, str]], start: date, end: date, viewer: Actor | None
) -> AnySelect:
    """The cases behind the hotspots; a case the viewer may not see comes back as a row of
    NULLs (counted, never named or dated)."""
    joined, kept = _not_declined()
    return (
        select(
            cases.c.category,
            cases.c.area,
            if_listable(viewer, cases.c.reference, "reference"),
            if_listable(viewer, cases.c.received_on, "received_on"),
        )
        .select_from(joined)
        .where(
            complaint_cases(),
            kept,
            between(cases.c.received_on, start, end),
            tuple_(cases.c.category, cases.c.area).in_(pairs),
        )
        .order_by(cases.c.category, cases.c.area, cases.c.received_on, cases.c.reference)
    )


# -- the document --------------------------------------------------------------------------------


def p_value_cell(p: float) -> Decimal:
    """A p-value to 3 significant figures (exact enough to compare with the 0.01 threshold)."""
    return Decimal(f"{p:.3g}")


def hotspot_document(figures: HotspotFigures) -> ReportDocument:
    first, last = figures.windows[0][0], figures.windows[-1][1]
    rows: list[dict[str, Cell]] = []
    case_rows: list[dict[str, Cell]] = []
    for spot in figures.hotspots:
        rows.append(
            {
                "category": spot.category,
                "area": spot.area,
                "observed": spot.test.observed,
                "mean": spot.test.mean,
                "sd": spot.test.sd,
                "rate": spot.test.rate,
                "p_value": p_value_cell(spot.test.p_value),
                "history": " ".join(str(h) for h in spot.test.history),
                "listed": len(spot.references),
                "not_listed": spot.not_listed,
            }
        )
        case_rows.extend(
            {
                "category": spot.category,
                "area": spot.area,
                "reference": reference,
                "received": received.isoformat(),
            }
            for reference, received in spot.references
        )
    labels = tuple(f"{s.category} / {s.area}" for s in figures.hotspots)
    return ReportDocument(
        report="hotspots",
        title=f"Complaint hotspots, {figures.start} to {figures.end}",
        parameters=(
            ("period", f"{figures.start} to {figures.end}"),
            ("history", f"{len(figures.windows)} periods, {first} to {last}"),
            ("test", TEST_TEXT),
            ("combinations tested", str(figures.tested)),
        ),
        tables=(
            Table(
                "hotspots",
                "Category x area combinations flagged",
                (
                    *text_columns(("category", "Category"), ("area", "Area")),
                    *number_columns(
                        ("observed", "Complaints in period"),
                        ("mean", "Historical mean"),
                        ("sd", "Historical SD"),
                        ("rate", "Lambda used"),
                        ("p_value", "P(X >= observed)"),
                    ),
                    *text_columns(("history", "Previous periods, oldest first")),
                    *number_columns(
                        ("listed", "Cases listed"), ("not_listed", "Restricted, not listed")
                    ),
                ),
                tuple(rows),
            ),
            Table(
                "hotspot_cases",
                "The complaints behind each hotspot",
                text_columns(
                    ("category", "Category"),
                    ("area", "Area"),
                    ("reference", "Reference"),
                    ("received", "Received"),
                ),
                tuple(case_rows),
                notes=not_listed_note(
                    sum(s.not_listed for s in figures.hotspots),
                    "restricted complaint",
                    "restricted complaints",
                ),
            ),
        ),
        charts=(
            Chart(
                "hotspots",
                "Hotspots: complaints in the period against the historical mean",
                labels,
                (
                    Series("In the period", tuple(s.test.observed for s in figures.hotspots)),
                    Series("Historical mean", tuple(s.test.mean for s in figures.hotspots)),
                ),
                unit="complaints",
            ),
        ),
        notes=(
            "Complaints are counted as CH01 counts them (declined complaints left out), by "
            "received date.",
        ),
    )

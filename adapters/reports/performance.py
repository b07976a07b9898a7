"""The performance report for a period: volumes, timeliness, outcomes and contact.

``performance_figures`` runs the grouped queries (``timeliness``, ``outcomes``, ``contact``) side
by side over one snapshot (``sections.run_sections``); ``performance_document`` lays the figures
out as tables and the four charts of the HTML page (monthly volumes by stage, timeliness against
target, outcomes by category, the contact countdown distribution).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import cast

from sqlalchemy import Engine

from adapters.reports.contact import Contact, contact
from adapters.reports.document import Chart, ReportDocument, Series
from adapters.reports.outcomes import DECISIONS, Outcomes, decision_total, outcomes
from adapters.reports.performance_tables import (
    CLOCK_LABEL,
    DECISION_LABEL,
    contact_tables,
    countdown_bins,
    in_bin,
    outcome_tables,
    timeliness_tables,
    volume_table,
)
from adapters.reports.queries import ensure_calendar_days
from adapters.reports.sections import run_sections
from adapters.reports.timeliness import CLOCKS, ClockTimeliness, Timeliness, timeliness
from engine.reporting import median_of, month_keys
from sla.calendar import WorkingCalendar
from sla.policy import ContactLevel


@dataclass(frozen=True, slots=True)
class PerformanceFigures:
    start: date
    end: date
    as_of: date
    levels: tuple[ContactLevel, ...]
    timeliness: Timeliness
    outcomes: Outcomes
    contact: Contact


def performance_figures(
    db_engine: Engine,
    calendars: Callable[[str], WorkingCalendar],
    start: date,
    end: date,
    as_of: date,
    levels: Sequence[ContactLevel],
) -> PerformanceFigures:
    ensure_calendar_days(db_engine, calendars)
    found = run_sections(
        db_engine,
        {
            "timeliness": lambda conn: timeliness(conn, start, end, as_of),
            "outcomes": lambda conn: outcomes(conn, start, end),
            "contact": lambda conn: contact(conn, start, end, as_of),
        },
    )
    return PerformanceFigures(
        start=start,
        end=end,
        as_of=as_of,
        levels=tuple(levels),
        timeliness=cast(Timeliness, found["timeliness"]),
        outcomes=cast(Outcomes, found["outcomes"]),
        contact=cast(Contact, found["contact"]),
    )


def performance_document(figures: PerformanceFigures) -> ReportDocument:
    months = month_keys(figures.start, figures.end)
    tables = (
        volume_table(figures.outcomes, months),
        *timeliness_tables(figures.timeliness),
        *outcome_tables(figures.outcomes),
        *contact_tables(figures.contact, figures.levels),
    )
    return ReportDocument(
        report="performance",
        title=f"Complaints performance, {figures.start} to {figures.end}",
        parameters=(
            ("period", f"{figures.start} to {figures.end}"),
            ("open cases as of", str(figures.as_of)),
            ("working days", "counted on each case's own calendar; the day of receipt is day 0"),
        ),
        tables=tables,
        charts=(
            _volume_chart(figures.outcomes, months),
            _timeliness_chart(figures.timeliness.clocks),
            _outcome_chart(figures.outcomes),
            _countdown_chart(figures.contact, figures.levels),
        ),
        notes=(
            "Complaints only: dissatisfactions (service requests) are not complaints (Code 1.4).",
        ),
    )


# -- charts --------------------------------------------------------------------------------------


def _volume_chart(data: Outcomes, months: list[str]) -> Chart:
    def values(name: str) -> tuple[int | Decimal | None, ...]:
        return tuple(data.volumes.get(m, {}).get(name, 0) for m in months)

    return Chart(
        "monthly_volumes",
        "Complaints received each month, by stage",
        tuple(months),
        (
            Series("Stage 1 received", values("received")),
            Series("Stage 2 requested", values("escalation_requested")),
        ),
        unit="complaints",
    )


def _timeliness_chart(clocks: dict[str, ClockTimeliness]) -> Chart:
    empty = ClockTimeliness()
    return Chart(
        "timeliness",
        "Median working days taken against the working days allowed",
        tuple(CLOCK_LABEL[c] for c in CLOCKS),
        (
            Series(
                "Median working days taken",
                tuple(median_of(clocks.get(c, empty).taken) for c in CLOCKS),
            ),
        ),
        unit="working days",
        targets=tuple(median_of(clocks.get(c, empty).allowed) for c in CLOCKS),
        target_label="Working days allowed (target)",
    )


def _outcome_chart(data: Outcomes) -> Chart:
    by_category = data.by("category")
    names = tuple(by_category)
    return Chart(
        "outcomes_by_category",
        "Decisions by category (Stage 1 and Stage 2 responses)",
        names,
        tuple(
            Series(DECISION_LABEL[d], tuple(decision_total(by_category[n], d) for n in names))
            for d in DECISIONS
        ),
        kind="stacked",
        unit="responses",
    )


def _countdown_chart(data: Contact, levels: Sequence[ContactLevel]) -> Chart:
    bins = countdown_bins(levels)
    labels = tuple(str(lo) if hi is not None else f"{lo}+" for lo, hi in bins)
    values = tuple(in_bin(data.since_contact, lo, hi) for lo, hi in bins)
    return Chart(
        "countdown",
        "Open complaints by working days since the last contact",
        labels,
        (Series("Open complaints", values),),
        unit="open complaints",
    )

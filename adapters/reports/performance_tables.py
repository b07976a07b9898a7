"""The performance report's tables: the figures laid out with their counts shown, so every
average, median and rate can be checked against the numbers it was computed from."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from adapters.reports.contact import Contact
from adapters.reports.document import Cell, Column, Table, number_columns, text_columns
from adapters.reports.outcomes import OutcomeCounts, Outcomes
from adapters.reports.timeliness import (
    CLOCK_STAGE,
    CLOCKS,
    CLOSE,
    DURATIONS,
    Breaches,
    ClockTimeliness,
    ExtensionUse,
    Timeliness,
)
from engine.reporting import count_of, mean_of, median_of, percentage
from sla.policy import ContactLevel

CLOCK_LABEL = {
    "acknowledge": "Stage 1 acknowledgement",
    "respond": "Stage 1 response",
    "stage2_acknowledge": "Stage 2 acknowledgement",
    "stage2_respond": "Stage 2 response",
}
DECISION_LABEL = {
    "upheld": "Upheld",
    "partially-upheld": "Partially upheld",
    "not-upheld": "Not upheld",
}
DIMENSION_TITLES = {
    "category": "Category",
    "area": "Area",
    "channel": "Channel",
    "month": "Month",
}
TOTAL = "Total"


# -- volumes -------------------------------------------------------------------------------------


def volume_table(data: Outcomes, months: Sequence[str]) -> Table:
    names = ("received", "escalation_requested", "responded", "stage2_responded")
    rows: list[dict[str, Cell]] = []
    totals = dict.fromkeys(names, 0)
    for month in months:
        counts = data.volumes.get(month, {})
        row: dict[str, Cell] = {"month": month}
        for name in names:
            row[name] = counts.get(name, 0)
            totals[name] += counts.get(name, 0)
        rows.append(row)
    rows.append({"month": TOTAL, **totals})
    return Table(
        "volumes",
        "Volumes by month",
        (
            *text_columns(("month", "Month")),
            *number_columns(
                ("received", "Stage 1 received"),
                ("escalation_requested", "Stage 2 requested"),
                ("responded", "Stage 1 responses"),
                ("stage2_responded", "Stage 2 responses"),
            ),
        ),
        tuple(rows),
        notes=(
            "Received and requested are counted as CH01 counts them (declined complaints and "
            "refused escalations left out).",
        ),
    )


# -- timeliness ----------------------------------------------------------------------------------


def stats_cells(histogram: dict[int, int]) -> dict[str, Cell]:
    return {
        "cases": count_of(histogram),
        "mean": mean_of(histogram),
        "median": median_of(histogram),
    }


def timeliness_tables(data: Timeliness) -> tuple[Table, ...]:
    durations = tuple(
        {"measure": label, **stats_cells(data.durations.get(key, {}))}
        for key, label, _, _ in (*DURATIONS, CLOSE)
    )
    return (
        Table(
            "durations",
            "Working days taken (for steps done in the period)",
            (
                *text_columns(("measure", "Measure")),
                *number_columns(("cases", "Cases"), ("mean", "Average"), ("median", "Median")),
            ),
            durations,
            notes=(
                "Each step is counted in the period it was done, from the day the resident "
                "asked (receipt or escalation request, day 0); 'closed' is the close step.",
            ),
        ),
        Table(
            "clock_targets",
            "Clocks against their targets (clocks met in the period)",
            (
                *text_columns(("clock", "Clock")),
                *number_columns(
                    ("stage", "Stage"),
                    ("met", "Met"),
                    ("within", "Within timescale"),
                    ("percent", "%"),
                    ("mean", "Average days"),
                    ("median", "Median days"),
                    ("allowed", "Median days allowed"),
                ),
            ),
            tuple(_clock_row(c, data.clocks.get(c, ClockTimeliness())) for c in CLOCKS),
            notes=(
                "A clock is within timescale when it stopped on or before its due date, "
                "extensions included (CH02 in the TSM report applies the stricter extension "
                "rule). Days allowed are the policy's days plus extensions.",
            ),
        ),
        Table(
            "breaches",
            "Breaches by stage (deadlines in the period that were missed)",
            (
                *text_columns(("clock", "Clock")),
                *number_columns(
                    ("stage", "Stage"),
                    ("late", "Done late"),
                    ("open", "Still not done"),
                    ("total", "Breaches"),
                ),
            ),
            tuple(_breach_row(c, data.breaches.get(c, Breaches())) for c in CLOCKS),
        ),
        Table(
            "extensions",
            "Extensions used (given in the period)",
            (
                *text_columns(("clock", "Clock")),
                *number_columns(
                    ("extensions", "Extensions"),
                    ("days", "Working days added"),
                    ("cases", "Cases"),
                    ("beyond_cap", "Beyond the cap"),
                    ("notified_late", "Notified late"),
                ),
            ),
            tuple(
                _extension_row(c, data.extensions[c])
                for c in (*CLOCKS, *sorted(set(data.extensions) - set(CLOCKS)))
                if c in data.extensions
            ),
        ),
    )


def _clock_row(clock: str, timing: ClockTimeliness) -> dict[str, Cell]:
    met = count_of(timing.taken)
    return {
        "clock": CLOCK_LABEL[clock],
        "stage": CLOCK_STAGE[clock],
        "met": met,
        "within": timing.within,
        "percent": percentage(timing.within, met),
        "mean": mean_of(timing.taken),
        "median": median_of(timing.taken),
        "allowed": median_of(timing.allowed),
    }


def _breach_row(clock: str, breaches: Breaches) -> dict[str, Cell]:
    return {
        "clock": CLOCK_LABEL[clock],
        "stage": CLOCK_STAGE[clock],
        "late": breaches.late,
        "open": breaches.open,
        "total": breaches.late + breaches.open,
    }


def _extension_row(clock: str, use: ExtensionUse) -> dict[str, Cell]:
    return {
        "clock": CLOCK_LABEL.get(clock, clock),
        "extensions": use.extensions,
        "days": use.days,
        "cases": use.cases,
        "beyond_cap": use.beyond_cap,
        "notified_late": use.notified_late,
    }


# -- outcomes ------------------------------------------------------------------------------------

OUTCOME_COLUMNS: tuple[Column, ...] = number_columns(
    ("s1_upheld", "S1 upheld"),
    ("s1_partially_upheld", "S1 partially upheld"),
    ("s1_not_upheld", "S1 not upheld"),
    ("s2_upheld", "S2 upheld"),
    ("s2_partially_upheld", "S2 partially upheld"),
    ("s2_not_upheld", "S2 not upheld"),
    ("avoidable", "Avoidable"),
    ("compensation", "Compensation (£)"),
    ("accepted", "Accepted at S1"),
    ("escalated", "Escalated"),
    ("escalation_rate", "Escalation rate %"),
    ("referrals", "Ombudsman referrals"),
)
_OUTCOME_NOTES = (
    "Decisions, avoidable failures and compensation are dated by the response; the escalation "
    "rate is of complaints received in the period and accepted at Stage 1 (escalations to date, "
    "so recent months can still rise); referrals are dated by the referral to the Ombudsman.",
)


def outcome_row(key: str, counts: OutcomeCounts) -> dict[str, Cell]:
    return {
        "key": key,
        "s1_upheld": counts.s1_upheld,
        "s1_partially_upheld": counts.s1_partially_upheld,
        "s1_not_upheld": counts.s1_not_upheld,
        "s2_upheld": counts.s2_upheld,
        "s2_partially_upheld": counts.s2_partially_upheld,
        "s2_not_upheld": counts.s2_not_upheld,
        "avoidable": counts.avoidable,
        "compensation": Decimal(counts.compensation_pence).scaleb(-2),
        "accepted": counts.accepted,
        "escalated": counts.escalated,
        "escalation_rate": percentage(counts.escalated, counts.accepted),
        "referrals": counts.referrals,
    }


def outcome_tables(data: Outcomes) -> tuple[Table, ...]:
    total = outcome_row(TOTAL, data.total())
    return tuple(
        Table(
            f"outcomes_by_{dimension}",
            f"Outcomes by {dimension}",
            (*text_columns(("key", DIMENSION_TITLES[dimension])), *OUTCOME_COLUMNS),
            (*(outcome_row(k, c) for k, c in data.by(dimension).items()), total),
            notes=_OUTCOME_NOTES,
        )
        for dimension in DIMENSION_TITLES
    )


# -- contact -------------------------------------------------------------------------------------


def countdown_bins(levels: Sequence[ContactLevel]) -> list[tuple[int, int | None]]:
    """One bin per working day below the last level, then "last level or more"."""
    last = levels[-1].days if levels else 20
    return [(d, d) for d in range(last)] + [(last, None)]


def in_bin(histogram: dict[int, int], low: int, high: int | None) -> int:
    return sum(n for d, n in histogram.items() if d >= low and (high is None or d <= high))


def contact_tables(data: Contact, levels: Sequence[ContactLevel]) -> tuple[Table, ...]:
    bands: list[tuple[str, int, int | None]] = []
    lower, name = 0, "before the first level"
    for level in levels:
        bands.append((name, lower, level.days - 1))
        lower, name = level.days, level.level
    bands.append((name, lower, None))
    distribution: tuple[dict[str, Cell], ...] = tuple(
        {
            "band": name,
            "days": f"{low}+" if high is None else f"{low}-{high}",
            "cases": in_bin(data.since_contact, low, high),
        }
        for name, low, high in bands
        if high is None or high >= low
    )
    crossings: tuple[dict[str, Cell], ...] = tuple(
        {
            "level": level.level,
            "threshold": level.days,
            "cases": data.crossings.get(level.level, (0, 0))[0],
            "crossings": data.crossings.get(level.level, (0, 0))[1],
        }
        for level in levels
    )
    return (
        Table(
            "contact_distribution",
            "Open complaints by working days since the last contact",
            (
                *text_columns(("band", "Countdown level"), ("days", "Working days")),
                *number_columns(("cases", "Open complaints")),
            ),
            distribution,
            notes=(
                "Bands follow the default policy's countdown levels; a case with an agreed "
                "update interval is flagged on its own thresholds.",
            ),
        ),
        Table(
            "contact_crossings",
            "Countdown levels crossed in the period",
            (
                *text_columns(("level", "Level")),
                *number_columns(
                    ("threshold", "Default working days"),
                    ("cases", "Cases"),
                    ("crossings", "Crossings"),
                ),
            ),
            crossings,
        ),
    )

"""The TSM report's tables and charts: CH01 and CH02 with their workings, and the extensions
that did not count (figures from ``adapters.reports.tsm``)."""

from __future__ import annotations

from decimal import Decimal

from adapters.reports.config import Homes
from adapters.reports.document import (
    Cell,
    Chart,
    ReportDocument,
    Series,
    Table,
    number_columns,
    text_columns,
)
from adapters.reports.tsm import RULE_TEXT, STAGES, TENURES, Ch02Counts, TsmFigures
from adapters.reports.visibility import not_listed_note
from engine.reporting import per_thousand, percentage

# -- the document --------------------------------------------------------------------------------

_LABEL = {"lcra": "LCRA", "lcho": "LCHO", "all": "All tenures"}


def tsm_document(figures: TsmFigures, homes: Homes) -> ReportDocument:
    year = f"{figures.year}/{(figures.year + 1) % 100:02d}"
    ch01_rows: list[dict[str, Cell]] = []
    ch02_rows: list[dict[str, Cell]] = []
    for tenure in (*TENURES, "all"):
        for stage in STAGES:
            count = _received(figures, tenure, stage)
            homes_of = homes.of(tenure)
            ch01_rows.append(
                {
                    "tenure": _LABEL[tenure],
                    "stage": f"Stage {stage}",
                    "received": count,
                    "homes": homes_of,
                    "per_1000": per_thousand(count, homes_of),
                }
            )
            counts = _ch02(figures, tenure, stage)
            within = counts.within(figures.rule)
            ch02_rows.append(
                {
                    "tenure": _LABEL[tenure],
                    "stage": f"Stage {stage}",
                    "within": within,
                    "responded": counts.responded,
                    "percent": percentage(within, counts.responded),
                    "ack_late": counts.acknowledged_late,
                    "response_late": counts.responded_late,
                    "without_extensions": counts.judged_without_extensions,
                }
            )
    tables = (
        Table(
            "ch01",
            "CH01: complaints received per 1,000 homes",
            (
                *text_columns(("tenure", "Tenure"), ("stage", "Stage")),
                *number_columns(
                    ("received", "Received (numerator)"),
                    ("homes", "Homes (denominator)"),
                    ("per_1000", "Per 1,000 homes"),
                ),
            ),
            tuple(ch01_rows),
            notes=_CH01_NOTES,
        ),
        Table(
            "ch02",
            "CH02: complaints responded to within the Code's timescales",
            (
                *text_columns(("tenure", "Tenure"), ("stage", "Stage")),
                *number_columns(
                    ("within", "Within timescale (numerator)"),
                    ("responded", "Responded to (denominator)"),
                    ("percent", "%"),
                    ("ack_late", "Acknowledged late"),
                    ("response_late", "Responded late"),
                    ("without_extensions", "Judged without extensions"),
                ),
            ),
            tuple(ch02_rows),
            notes=(f"Rule: {RULE_TEXT[figures.rule]}.", *_CH02_NOTES),
        ),
        _issues_table(figures),
    )
    return ReportDocument(
        report="tsm",
        title=f"Tenant Satisfaction Measures CH01 and CH02, {year}",
        parameters=(
            ("reporting year", f"{year}: {figures.start} to {figures.end}"),
            ("CH02 rule", figures.rule),
            ("homes (LCRA)", _text(homes.lcra)),
            ("homes (LCHO)", _text(homes.lcho)),
            ("homes (all)", _text(homes.of("all"))),
        ),
        tables=tables,
        charts=_charts(ch01_rows, ch02_rows),
    )


def _received(figures: TsmFigures, tenure: str, stage: int) -> int:
    tenures = TENURES if tenure == "all" else (tenure,)
    return sum(figures.received.get((t, stage), 0) for t in tenures)


def _ch02(figures: TsmFigures, tenure: str, stage: int) -> Ch02Counts:
    tenures = TENURES if tenure == "all" else (tenure,)
    total = Ch02Counts()
    for t in tenures:
        total = total + figures.ch02.get((t, stage), Ch02Counts())
    return total


def _issues_table(figures: TsmFigures) -> Table:
    rows: tuple[dict[str, Cell], ...] = tuple(
        {
            "reference": issue.reference,
            "tenure": _LABEL[issue.tenure],
            "stage": f"Stage {issue.stage}",
            "clock": issue.clock,
            "days": issue.days,
            "why": ", ".join(
                reason
                for reason, applies in (
                    ("beyond the policy's cap", issue.beyond_cap),
                    ("notified after the deadline", issue.notified_late),
                )
                if applies
            ),
        }
        for issue in figures.extension_issues
    )
    return Table(
        "ch02_extensions",
        "Extensions not counted for CH02 (the clock is judged without its extensions)",
        (
            *text_columns(
                ("reference", "Reference"),
                ("tenure", "Tenure"),
                ("stage", "Stage"),
                ("clock", "Clock"),
            ),
            *number_columns(("days", "Working days")),
            *text_columns(("why", "Why")),
        ),
        rows,
        notes=not_listed_note(
            figures.issues_not_listed,
            "extension of a restricted case",
            "extensions of restricted cases",
        ),
    )


def _charts(ch01: list[dict[str, Cell]], ch02: list[dict[str, Cell]]) -> tuple[Chart, ...]:
    groups = tuple(_LABEL[t] for t in (*TENURES, "all"))

    def series(rows: list[dict[str, Cell]], key: str, stage: int) -> Series:
        values = tuple(_number(row[key]) for row in rows if row["stage"] == f"Stage {stage}")
        return Series(f"Stage {stage}", values)

    return (
        Chart(
            "ch01",
            "CH01: complaints per 1,000 homes",
            groups,
            tuple(series(ch01, "per_1000", s) for s in STAGES),
            unit="per 1,000 homes",
        ),
        Chart(
            "ch02",
            "CH02: % responded to within timescale",
            groups,
            tuple(series(ch02, "percent", s) for s in STAGES),
            unit="%",
        ),
    )


def _number(cell: Cell) -> int | Decimal | None:
    return None if isinstance(cell, str) else cell


def _text(value: int | None) -> str:
    return "not given" if value is None else str(value)


_CH01_NOTES = (
    "Stage 1: complaints whose received date (day 0, after the calendar's cut-off) falls in the "
    "year; complaints declined at receipt under a policy exclusion were never accepted and are "
    "not counted. Withdrawn complaints are counted.",
    "Stage 2: escalation requests made in the year; refused escalations are not counted.",
    "Per 1,000 homes of the tenure, rounded half up to 2 decimal places; blank when the number "
    "of homes was not given (--homes-lcra/--homes-lcho, or [reports] in settings.toml).",
)
_CH02_NOTES = (
    "Denominator: complaints whose Stage 1 (or Stage 2) response was sent in the year, whenever "
    "they were received.",
    "A deadline includes extensions only if every extension of that clock stayed within the "
    "policy's cap and was notified before the deadline then in force; otherwise the clock is "
    "judged against its deadline without extensions and the extensions are listed below.",
    "Percentages are rounded half up to 1 decimal place.",
)

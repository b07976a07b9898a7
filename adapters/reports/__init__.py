"""Complaint reports computed in the database: TSM CH01/CH02, performance, hotspots.

Each report is two steps: the figures (grouped SQL queries; never a row per case into Python)
and a ``ReportDocument`` of tables and charts, printed by ``render`` as text, CSV or JSON or by
``render_html`` as a self-contained page. The functions here are what the CLI and an embedding
service call; logs carry the report's name, period and timings only, never case data.

Every figure counts every case. Where a report lists cases one by one (the cases behind a
hotspot, the extensions CH02 does not count), a restricted case is listed only for a ``viewer``
who may see it (``visibility``); without a viewer, none is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import date

import structlog
from sqlalchemy import Engine

from adapters.reports.config import Homes, ReportSettings, check_rule, load_report_settings
from adapters.reports.document import ReportDocument
from adapters.reports.hotspots import hotspot_document, hotspot_figures
from adapters.reports.html import render_html
from adapters.reports.performance import performance_document, performance_figures
from adapters.reports.render import render_csv, render_json, render_text
from adapters.reports.tsm import tsm_figures
from adapters.reports.tsm_tables import tsm_document
from engine.access import Actor
from engine.errors import ValidationError
from sla.calendar import WorkingCalendar
from sla.policy import ContactLevel

__all__ = [
    "FORMATS",
    "Homes",
    "ReportDocument",
    "ReportSettings",
    "hotspots_report",
    "load_report_settings",
    "performance_report",
    "render",
    "tsm_report",
]

FORMATS = ("table", "csv", "json", "html")
log = structlog.get_logger()
Calendars = Callable[[str], WorkingCalendar]


def tsm_report(
    db_engine: Engine,
    calendars: Calendars,
    *,
    year: int,
    homes: Homes,
    rule: str,
    viewer: Actor | None = None,
) -> ReportDocument:
    """TSM CH01 and CH02 for the reporting year starting 1 April ``year``."""
    started = time.perf_counter()
    figures = tsm_figures(db_engine, calendars, year, check_rule(rule), viewer)
    log.info("report_done", report="tsm", year=year, rule=rule, seconds=_since(started))
    return tsm_document(figures, homes)


def performance_report(
    db_engine: Engine,
    calendars: Calendars,
    *,
    start: date,
    end: date,
    as_of: date,
    levels: Sequence[ContactLevel],
) -> ReportDocument:
    """Volumes, timeliness, outcomes and contact for ``[start, end]``."""
    _check_period(start, end)
    started = time.perf_counter()
    figures = performance_figures(db_engine, calendars, start, end, as_of, levels)
    log.info(
        "report_done",
        report="performance",
        start=str(start),
        end=str(end),
        seconds=_since(started),
    )
    return performance_document(figures)


def hotspots_report(
    db_engine: Engine, *, start: date, end: date, viewer: Actor | None = None
) -> ReportDocument:
    """Category x area combinations unusually busy in ``[start, end]``, with the cases behind
    them (restricted ones only if ``viewer`` may see them)."""
    _check_period(start, end)
    started = time.perf_counter()
    figures = hotspot_figures(db_engine, start, end, viewer)
    log.info(
        "report_done",
        report="hotspots",
        start=str(start),
        end=str(end),
        flagged=len(figures.hotspots),
        seconds=_since(started),
    )
    return hotspot_document(figures)


def render(document: ReportDocument, fmt: str, table: str | None = None) -> str:
    """The document in ``fmt``: ``table`` (terminal), ``csv``, ``json`` or ``html``."""
    if fmt == "csv":
        return render_csv(document, table)
    if fmt == "json":
        return render_json(document, table)
    if fmt == "html":
        return render_html(document)
    return render_text(document, table)


def _check_period(start: date, end: date) -> None:
    if end < start:
        raise ValidationError(f"the period ends ({end}) before it starts ({start})")


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 3)

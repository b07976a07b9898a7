"""``complaints report``: TSM CH01/CH02, performance and hotspot reports.

A terminal table by default; ``--format csv|json`` for other tools; ``--format html`` for a
self-contained page with charts (``--out FILE``). Reports only read the database.

Each report runs as an actor (``--as``, else ``$COMPLAINTS_ACTOR``, else the login name) who needs
the ``read`` permission. Restricted cases are counted in every figure whoever asks, but listed
(by reference) only for actors who may see them: the complaints team, and a case's named manager.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from adapters.cli.context import AppContext, pass_app
from adapters.cli.options import resolve_actor
from adapters.reports import (
    FORMATS,
    ReportDocument,
    hotspots_report,
    load_report_settings,
    performance_report,
    render,
    tsm_report,
)
from adapters.reports.config import CH02_RULES
from engine.access import READ, Actor
from engine.errors import ValidationError
from engine.reporting import previous_month
from engine.service import require_permission
from sla.calendar import FIRST_YEAR, LAST_YEAR
from sla.timezone import london_date, parse_date

F = TypeVar("F", bound=Callable[..., Any])


def output_options(func: F) -> F:
    func = click.option(
        "--as",
        "actor",
        metavar="NAME",
        default=None,
        help="Who is asking (restricted cases are listed only for those who may see them; "
        "default: $COMPLAINTS_ACTOR, else your login name).",
    )(func)
    func = click.option(
        "--table",
        "table_name",
        metavar="NAME",
        default=None,
        help="Only this table (with csv: one wide table).",
    )(func)
    func = click.option(
        "--out", "out", metavar="FILE", default=None, help="Write to FILE instead of the terminal."
    )(func)
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="table (terminal), csv, json, or html (a page with charts).",
    )(func)


@click.group("report")
def report_group() -> None:
    """Reports: TSM complaint measures, performance, hotspots."""


@report_group.command("tsm")
@click.option(
    "--year",
    type=click.IntRange(FIRST_YEAR, LAST_YEAR - 1),
    default=None,
    help="Reporting year starting 1 April YEAR (default: the year in progress).",
)
@click.option("--homes", type=click.IntRange(min=1), default=None, help="Homes owned, all tenures.")
@click.option(
    "--homes-lcra", type=click.IntRange(min=1), default=None, help="Low-cost rental homes."
)
@click.option(
    "--homes-lcho", type=click.IntRange(min=1), default=None, help="Low-cost home ownership homes."
)
@click.option(
    "--rule",
    type=click.Choice(CH02_RULES),
    default=None,
    help="CH02 'within timescale' rule (default: [reports] ch02_rule, else "
    "acknowledged-and-responded).",
)
@output_options
@pass_app
def tsm_command(
    app: AppContext,
    year: int | None,
    homes: int | None,
    homes_lcra: int | None,
    homes_lcho: int | None,
    rule: str | None,
    fmt: str,
    out: str | None,
    table_name: str | None,
    actor: str | None,
) -> None:
    """TSM CH01 (complaints per 1,000 homes) and CH02 (% within timescale), LCRA and LCHO."""
    configured = load_report_settings(app.settings.config_dir)
    today = _today()
    chosen = year if year is not None else (today.year if today.month >= 4 else today.year - 1)
    if not 2000 <= chosen <= 2074:
        raise ValidationError(f"reporting year out of range: {chosen}")
    viewer = _viewer(app, actor, "report tsm")
    document = tsm_report(
        app.db_engine,
        app.settings.calendar,
        year=chosen,
        homes=configured.homes.overridden(lcra=homes_lcra, lcho=homes_lcho, total=homes),
        rule=rule or configured.ch02_rule,
        viewer=viewer,
    )
    _emit(document, fmt, out, table_name)


@report_group.command("performance")
@click.option(
    "--from",
    "from_",
    metavar="DATE",
    default=None,
    help="First day (default: 1 April of the reporting year in progress).",
)
@click.option("--to", metavar="DATE", default=None, help="Last day (default: today).")
@click.option(
    "--as-of",
    "as_of",
    metavar="DATE",
    default=None,
    help="Day the open cases' contact countdown is measured on (default: today).",
)
@output_options
@pass_app
def performance_command(
    app: AppContext,
    from_: str | None,
    to: str | None,
    as_of: str | None,
    fmt: str,
    out: str | None,
    table_name: str | None,
    actor: str | None,
) -> None:
    """Timeliness, outcomes, volumes and contact for a period."""
    today = _today()
    end = _report_date(to, "--to") if to else today
    start = (
        _report_date(from_, "--from")
        if from_
        else date(end.year if end.month >= 4 else end.year - 1, 4, 1)
    )
    measured = _report_date(as_of, "--as-of") if as_of else today
    levels = app.settings.policies.resolve(app.settings.default_policy, measured).contact_levels
    _viewer(app, actor, "report performance")  # counts only: no case is listed
    document = performance_report(
        app.db_engine,
        app.settings.calendar,
        start=start,
        end=end,
        as_of=measured,
        levels=levels,
    )
    _emit(document, fmt, out, table_name)


@report_group.command("hotspots")
@click.option(
    "--from",
    "from_",
    metavar="DATE",
    default=None,
    help="First day (default: the first of last month).",
)
@click.option(
    "--to",
    metavar="DATE",
    default=None,
    help="Last day (default: end of last month; with --from, today).",
)
@output_options
@pass_app
def hotspots_command(
    app: AppContext,
    from_: str | None,
    to: str | None,
    fmt: str,
    out: str | None,
    table_name: str | None,
    actor: str | None,
) -> None:
    """Category x area combinations with unusually many complaints, and the cases behind them."""
    default_start, default_end = previous_month(_today())
    start = _report_date(from_, "--from") if from_ else default_start
    end = _report_date(to, "--to") if to else (default_end if not from_ else _today())
    viewer = _viewer(app, actor, "report hotspots")
    document = hotspots_report(app.db_engine, start=start, end=end, viewer=viewer)
    _emit(document, fmt, out, table_name)


# -- helpers -------------------------------------------------------------------------------------


def _today() -> date:
    return london_date(datetime.now(UTC))


def _report_date(text: str, option: str) -> date:
    """A report's date: within the years the working-day calendars cover (else the measures
    would be silently empty or overflow)."""
    day = parse_date(text)
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValidationError(f"{option} {day} is outside {FIRST_YEAR}-{LAST_YEAR}")
    return day


def _viewer(app: AppContext, name: str | None, command: str) -> Actor:
    """The actor the report runs as (roles from settings, as for every command); refused
    without ``read``, logged as a security event without personal data. Opening the service
    also checks the schema (an SQLite file is migrated first)."""
    who = app.service.actor(resolve_actor(name))
    require_permission(who, READ, command)
    return who


def _emit(document: ReportDocument, fmt: str, out: str | None, table_name: str | None) -> None:
    if table_name is not None:
        try:
            document.table(table_name)
        except LookupError as exc:
            raise ValidationError(str(exc).strip("'\"")) from None
    text = render(document, fmt, table_name)
    if out is None:
        click.echo(text, nl=False)
        return
    path = Path(out)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"{document.report} report written to {path}")

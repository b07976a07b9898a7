"""``complaints sla``: working-day arithmetic on a division's or a landlord's calendar."""

from __future__ import annotations

import json

import click

from adapters.cli.context import AppContext, pass_app
from sla.errors import InvalidDateError
from sla.timezone import parse_date

CALENDAR_HELP = "A division (england-and-wales, scotland, northern-ireland) or a landlord calendar."


@click.group()
def sla() -> None:
    """Working-day calendar: add days, count days, list holidays."""


@sla.command("add", context_settings={"ignore_unknown_options": True})
@click.argument("start")
@click.argument("days")
@click.option("--calendar", "calendar_name", default=None, help=CALENDAR_HELP)
@pass_app
def add_command(app: AppContext, start: str, days: str, calendar_name: str | None) -> None:
    """Print the DAYS-th working day strictly after START."""
    calendar = app.settings.calendar(calendar_name or app.settings.default_calendar)
    click.echo(calendar.add_working_days(parse_date(start), _parse_int(days)).isoformat())


@sla.command("between")
@click.argument("start")
@click.argument("end")
@click.option("--calendar", "calendar_name", default=None, help=CALENDAR_HELP)
@pass_app
def between_command(app: AppContext, start: str, end: str, calendar_name: str | None) -> None:
    """Print the number of working days in (START, END]."""
    calendar = app.settings.calendar(calendar_name or app.settings.default_calendar)
    click.echo(str(calendar.working_days_between(parse_date(start), parse_date(end))))


@sla.command("holidays")
@click.argument("year")
@click.option("--calendar", "calendar_name", default=None, help=CALENDAR_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def holidays_command(app: AppContext, year: str, calendar_name: str | None, as_json: bool) -> None:
    """List a year's non-working weekdays (bank holidays and closures) with their names."""
    calendar = app.settings.calendar(calendar_name or app.settings.default_calendar)
    days = calendar.non_working_days(_parse_int(year))
    if as_json:
        rows = [{"date": d.day.isoformat(), "name": d.reason, "source": d.source} for d in days]
        click.echo(json.dumps({"calendar": calendar.name, "days": rows}, indent=2))
        return
    for day in days:
        suffix = "  [landlord closure]" if day.source == "closure" else ""
        click.echo(f"{day.day.isoformat()}  {day.day:%a}  {day.reason}{suffix}")


@sla.command("calendars")
@pass_app
def calendars_command(app: AppContext) -> None:
    """List the calendars available, with their fingerprints."""
    for name in app.settings.calendar_names():
        calendar = app.settings.calendar(name)
        click.echo(f"{name:<20} {calendar.division:<18} {calendar.fingerprint}")


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidDateError(f"not a whole number: {text!r}") from None

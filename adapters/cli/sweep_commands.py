"""``complaints sweep`` and ``complaints scheduler``: the SLA sweep by hand and on a schedule."""

from __future__ import annotations

import sys
from datetime import date

import click

from adapters.bootstrap import build_sweep_runner, utc_now
from adapters.cli.context import AppContext, pass_app
from adapters.recompute import RecomputeSummary, recompute
from adapters.scheduler import build_scheduler, nightly_fire_times, parse_time_of_day
from adapters.sweep import SweepSummary
from engine.errors import ValidationError
from sla.timezone import london_date, parse_date


@click.command("sweep")
@click.option(
    "--as-of",
    "as_of",
    metavar="DATE",
    help="Business date to sweep to (default today; not after today in Europe/London).",
)
@click.option(
    "--recompute",
    "full",
    is_flag=True,
    help="Recompute every open case's deadlines (calendars and policy versions).",
)
@click.option(
    "--batch",
    "batch_size",
    default=1000,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Cases per commit.",
)
@pass_app
def sweep_command(app: AppContext, as_of: str | None, full: bool, batch_size: int) -> None:
    """Raise and clear SLA flags on every case that is due.

    Prints a summary of the flags raised and cleared by level.
    """
    day = _business_date(as_of)
    runner = build_sweep_runner(app.settings, batch_size=batch_size)
    if day is None:
        day = london_date(runner.now())
    if full:
        moved = recompute(
            runner.engine,
            calendars=app.settings.calendar,
            policies=app.settings.policies,
            now=runner.now(),
            as_of=day,
            force=True,
        )
        click.echo(_render_recompute(moved))
    due = runner.due_count(day)
    if sys.stderr.isatty() and due:
        with click.progressbar(length=due, label=f"sweeping to {day}", file=sys.stderr) as bar:
            summary = runner.sweep(day, progress=bar.update)
    else:
        summary = runner.sweep(day)
    if summary is None:
        click.echo("another sweep is running; nothing done", err=True)
        sys.exit(1)
    click.echo(_render(summary))


def _business_date(as_of: str | None) -> date | None:
    """``--as-of``, refused when after today's Europe/London date: flags raised ahead of time
    would end up in the evidence pack. ``None``: today, by the runner's clock."""
    if as_of is None:
        return None
    day = parse_date(as_of)
    today = london_date(utc_now())
    if day > today:
        raise ValidationError(
            f"--as-of {day.isoformat()} is after today ({today.isoformat()}, Europe/London): "
            "a sweep cannot raise flags in the future"
        )
    return day


def _render_recompute(moved: RecomputeSummary) -> str:
    lines = [
        f"recomputed deadlines on {', '.join(moved.calendars) or 'no calendars'}: "
        f"{moved.deadlines_moved} moved on {moved.cases_moved} cases",
        f"recomputed policy versions on {', '.join(moved.policies) or 'no policies'}: "
        f"{moved.policy_deadlines_moved} moved on {moved.policy_cases_moved} cases, "
        f"{moved.policy_cases} cases now on the new version",
    ]
    if moved.unknown_policies:
        lines.append(
            f"left the open cases of unknown policies {', '.join(moved.unknown_policies)} "
            "on their version"
        )
    return "\n".join(lines)


def _render(summary: SweepSummary) -> str:
    lines = [
        f"sweep to {summary.as_of}: {summary.cases_checked} cases checked, "
        f"{summary.cases_changed} changed, {summary.batches} batches, {summary.seconds:.2f}s"
    ]
    levels = sorted(set(summary.raised) | set(summary.cleared))
    if levels:
        lines.append(f"  {'flag':<18}{'raised':>8}{'cleared':>9}")
        for level in levels:
            lines.append(f"  {level:<18}{summary.raised[level]:>8}{summary.cleared[level]:>9}")
    else:
        lines.append("  no flags changed")
    return "\n".join(lines)


@click.command("scheduler")
@click.option("--dry-run", is_flag=True, help="Print the next nightly run times and exit.")
@pass_app
def scheduler_command(app: AppContext, dry_run: bool) -> None:
    """Run the nightly sweep and intraday refresh on a schedule.

    Times are Europe/London; the nightly run is caught up after downtime.
    """
    nightly_at = parse_time_of_day(app.settings.nightly_sweep_at)
    runner = build_sweep_runner(app.settings)
    if dry_run:
        for when in nightly_fire_times(nightly_at, runner.now(), 5):
            click.echo(when.isoformat())
        return
    app.log_as_a_service()
    scheduler = build_scheduler(
        runner, nightly_at=nightly_at, refresh_minutes=app.settings.refresh_minutes
    )
    click.echo(
        f"scheduler: nightly sweep at {nightly_at:%H:%M} Europe/London, "
        f"refresh every {app.settings.refresh_minutes} min; Ctrl-C to stop",
        err=True,
    )
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)

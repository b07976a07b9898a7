"""``complaints worker``, ``serve``, ``jobs`` and ``survey``: the background side of the product.

``serve`` is what production runs: the nightly sweep's scheduler in a background thread and the
job worker in the foreground, in one process that stops cleanly on Ctrl-C or SIGTERM (between
jobs, never halfway through sending one).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import click
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from adapters.bootstrap import build_sweep_runner, build_worker, ensure_schema, utc_now
from adapters.cli.context import AppContext, first_line, pass_app
from adapters.cli.options import change_options, json_option, parse_when, resolve_actor
from adapters.cli.render import confirmation, dump_json, london_time, table
from adapters.db.connection import create_db_engine
from adapters.db.repository import DatabaseError
from adapters.jobs import STATUSES, Job, JobStore
from adapters.scheduler import build_scheduler, parse_time_of_day
from engine.access import WRITE
from engine.service import require_permission
from sla.timezone import LONDON

POLL_HELP = "Seconds between looks for new jobs when idle (default: [worker] poll_seconds, 2)."


@contextmanager
def _database(app: AppContext) -> Iterator[Engine]:
    """The configured database, at the current schema (as the other commands open it)."""
    db_engine = create_db_engine(app.settings.database_url)
    try:
        try:
            ensure_schema(db_engine, auto_upgrade=db_engine.dialect.name == "sqlite")
        except SQLAlchemyError as exc:
            url = db_engine.url.render_as_string(hide_password=True)
            raise DatabaseError(f"cannot open the database {url}: {first_line(exc)}") from exc
        yield db_engine
    finally:
        db_engine.dispose()


def _stop_on_signals() -> threading.Event:
    """An event set by SIGTERM (a service manager stopping us); Ctrl-C raises as usual."""
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    return stop


@click.command("worker")
@click.option("--once", is_flag=True, help="Run the jobs that are ready now, then exit.")
@click.option("--poll", type=click.FloatRange(min=0.1), default=None, help=POLL_HELP)
@pass_app
def worker_command(app: AppContext, once: bool, poll: float | None) -> None:
    """Run background jobs (messages to residents).

    Failed jobs are retried with a growing wait; one that keeps failing is dead after 5
    attempts: see `complaints jobs --status dead`.
    """
    with _database(app) as db_engine:
        worker = build_worker(app.settings, db_engine=db_engine)
        if once:
            click.echo(str(worker.run_once()))
            return
        app.log_as_a_service()
        click.echo("worker: running background jobs; Ctrl-C to stop", err=True)
        with suppress(KeyboardInterrupt):
            worker.run_forever(_stop_on_signals(), poll or app.settings.notify.poll_seconds)


@click.command("serve")
@click.option("--poll", type=click.FloatRange(min=0.1), default=None, help=POLL_HELP)
@pass_app
def serve_command(app: AppContext, poll: float | None) -> None:
    """Run the sweep scheduler and the job worker together.

    The one long-running process a deployment needs (times are Europe/London).
    """
    nightly_at = parse_time_of_day(app.settings.nightly_sweep_at)
    with _database(app) as db_engine:
        runner = build_sweep_runner(app.settings, db_engine=db_engine)
        worker = build_worker(app.settings, db_engine=db_engine)
        app.log_as_a_service()
        scheduler: Any = build_scheduler(
            runner,
            nightly_at=nightly_at,
            refresh_minutes=app.settings.refresh_minutes,
            scheduler=BackgroundScheduler(timezone=LONDON),
        )
        click.echo(
            f"serve: nightly sweep at {nightly_at:%H:%M} Europe/London, refresh every "
            f"{app.settings.refresh_minutes} min, and the job worker; Ctrl-C to stop",
            err=True,
        )
        scheduler.start()
        try:
            worker.run_forever(_stop_on_signals(), poll or app.settings.notify.poll_seconds)
        except KeyboardInterrupt:
            pass
        finally:
            scheduler.shutdown(wait=True)


@click.group("jobs", invoke_without_command=True)
@click.option("--status", type=click.Choice(STATUSES), default=None, help="Only jobs in it.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@json_option
@click.pass_context
def jobs_group(ctx: click.Context, status: str | None, limit: int, as_json: bool) -> None:
    """List background jobs; retry a dead one.

    Newest first, with counts by status; a dead job shows its last error. Retry it with
    `complaints jobs retry ID` once the cause is fixed.
    """
    if ctx.invoked_subcommand is not None:
        return
    app = ctx.find_object(AppContext)
    assert app is not None
    with _database(app) as db_engine:
        store = JobStore(db_engine)
        found = store.list(status, limit)
        counts = store.counts()
    if as_json:
        click.echo(dump_json([_job_view(job) for job in found]))
        return
    click.echo(", ".join(f"{n} {s}" for s, n in counts.items()))
    if found:
        click.echo(table(_HEADERS, [_job_row(job) for job in found]))


@jobs_group.command("retry")
@click.argument("job_id", metavar="ID", type=int)
@click.option(
    "--as", "actor", metavar="NAME", default=None, help="Who asks (needs the write permission)."
)
@pass_app
def jobs_retry_command(app: AppContext, job_id: int, actor: str | None) -> None:
    """Queue a dead job again, with a fresh set of attempts (it messages a resident)."""
    require_permission(app.service.actor(resolve_actor(actor)), WRITE, "jobs retry")
    with _database(app) as db_engine:
        job = JobStore(db_engine).retry(job_id, utc_now())
    click.echo(f"job {job.id} queued again ({job.kind} {job.reference or ''})".rstrip())


_HEADERS = ("id", "status", "message", "channel", "reference", "tries", "when", "last error")


def _job_row(job: Job) -> list[str]:
    when = job.finished_at if job.status in ("done", "dead") else job.run_after
    return [
        str(job.id),
        job.status,
        str(job.payload.get("message", job.kind)),
        str(job.payload.get("channel", "-")),
        job.reference or "-",
        f"{job.attempts}/{job.max_attempts}",
        london_time(when) if when else "-",
        job.last_error or "-",
    ]


def _job_view(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "reference": job.reference,
        "message": job.payload.get("message"),
        "channel": job.payload.get("channel"),
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "run_after": job.run_after.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "last_error": job.last_error,
    }


@click.command("survey")
@click.argument("reference", metavar="REF")
@click.option("--score", required=True, type=int, help="1 (very unhappy) to 5 (very happy).")
@click.option("--comment", default=None, help="Anything else the resident said.")
@change_options
@pass_app
def survey_command(
    app: AppContext,
    reference: str,
    score: int,
    comment: str | None,
    at: str | None,
    actor: str | None,
) -> None:
    """Record a closed complaint's survey score (1-5)."""
    case = app.service.run(
        reference,
        "record_survey",
        {"score": score, "comment": comment},
        actor=resolve_actor(actor),
        at=parse_when(at),
    )
    click.echo(confirmation(case, f"survey score {score} recorded"))


COMMANDS = (survey_command, worker_command, serve_command, jobs_group)

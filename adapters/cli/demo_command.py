"""``complaints demo``: build a sample database and say what is in it.

The demo never touches the configured database: it has its own ``--db`` (an SQLite file, deleted
and rebuilt), so trying the product cannot damage real cases.
"""

from __future__ import annotations

import sys
import time

import click
import structlog

from adapters.bootstrap import build_service
from adapters.cli.context import AppContext, pass_app
from adapters.cli.queue_commands import flag_label
from adapters.cli.render import table
from adapters.demo import (
    DEMO_URL,
    DemoSummary,
    MorningView,
    build_demo,
    prepare_database,
    summarise,
    sweep_and_queue,
)
from sla.timezone import london_date

log = structlog.get_logger()


@click.command("demo")
@click.option(
    "--db",
    "url",
    default=DEMO_URL,
    show_default=True,
    metavar="URL",
    help="SQLite file to (re)create; never the configured database.",
)
@click.option("--cases", default=300, show_default=True, type=click.IntRange(1, 5000))
@click.option("--seed", default=1, show_default=True, type=int, help="Same seed, same sample.")
@pass_app
def demo_command(app: AppContext, url: str, cases: int, seed: int) -> None:
    """Build a sample database of back-dated cases to explore.

    A few hundred cases over the last four months in every state, deterministic for a seed.
    """
    db_engine = prepare_database(url)
    started = time.perf_counter()
    try:
        service = build_service(app.settings, db_engine=db_engine)
        references = build_demo(service, cases=cases, seed=seed)
        if sys.stdout.isatty():
            with click.progressbar(references, length=cases, label="Building cases") as bar:
                for _ in bar:
                    pass
        else:
            for _ in references:
                pass
        summary = summarise(service, london_date(service.now()))
        morning = sweep_and_queue(service, app.settings, db_engine)
    finally:
        db_engine.dispose()
    log.info("demo_built", cases=summary.total, seconds=round(time.perf_counter() - started, 1))
    click.echo(render_summary(summary, url))
    click.echo(render_morning(morning, url))


def render_summary(summary: DemoSummary, url: str) -> str:
    """The counts, then commands worth trying on the new database."""
    lines = [f"Built {summary.total} cases in {url}", "", "By state:"]
    for (workflow, state), count in sorted(summary.by_state.items()):
        lines.append(f"  {workflow:<16} {state:<24} {count:>5}")
    lines += ["", "By category:"]
    for category, count in summary.by_category.most_common():
        lines.append(f"  {category:<24} {count:>5}")
    lines += ["", f"Open cases past a deadline: {summary.past_deadline}", "", "Try next:"]
    prefix = f"complaints --db {url}"
    lines.append(f"  {prefix} list")
    lines.append(f"  {prefix} list --area Exeter --state stage1")
    example = summary.examples.get("overdue") or summary.examples.get("stage1")
    if example:
        lines.append(f"  {prefix} show {example}")
        lines.append(f"  {prefix} history {example}")
    return "\n".join(lines)


def render_morning(morning: MorningView, url: str) -> str:
    """What the sweep raised, the top of the work queue and the messages waiting to go."""
    lines = [""]
    if morning.sweep is not None:
        raised = sum(morning.sweep.raised.values())
        note = (
            " (each case's flags were brought up to date as it was built; the nightly sweep"
            " finds work only when a countdown or deadline moves on overnight)"
            if morning.sweep.cases_checked == 0
            else ""
        )
        lines.append(
            f"Sweep to {morning.sweep.as_of}: {morning.sweep.cases_checked} cases checked, "
            f"{raised} flags raised{note}"
        )
    lines += ["", f"Work queue (top {len(morning.queue)}, most urgent first):"]
    headers = ("reference", "kind", "flag", "area", "reason")
    rows = [
        [item.reference, item.kind, flag_label(item), item.area, item.reason]
        for item in morning.queue
    ]
    lines += ["  " + line for line in table(headers, rows).splitlines()]
    lines += [
        f"  complaints --db {url} queue                       (the whole queue)",
        f"  complaints --db {url} queue claim --as jo         (take the top item)",
        "",
        f"Messages queued for residents: {morning.messages_queued}",
        f"  complaints --db {url} jobs",
        f"  complaints --db {url} worker --once   (writes them to the outbox)",
    ]
    return "\n".join(lines)

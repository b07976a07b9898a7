"""Entry point: the ``complaints`` group, global options and one-line error reporting."""

from __future__ import annotations

import os
import sys
from typing import Any

import click
import structlog

from adapters.cli import cases, queries, steps, worker_commands
from adapters.cli.context import AppContext
from adapters.cli.db_commands import db_group
from adapters.cli.demo_command import demo_command
from adapters.cli.privacy_commands import COMMANDS as PRIVACY_COMMANDS
from adapters.cli.queue_commands import queue_group
from adapters.cli.render import error_text
from adapters.cli.report_commands import report_group
from adapters.cli.sla_commands import sla
from adapters.cli.sweep_commands import scheduler_command, sweep_command
from adapters.logging import configure_logging
from sla.errors import ComplaintsError

log = structlog.get_logger()


class ComplaintsGroup(click.Group):
    """Turns every expected error into one line on stderr and exit code 2.

    Commands are listed in the order they are registered (the life of a case), not A to Z.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ComplaintsError as exc:
            log.info("command_refused", error=type(exc).__name__)
            click.echo(f"error: {error_text(exc)}", err=True)
            sys.exit(2)


@click.group(cls=ComplaintsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_dir",
    metavar="DIR",
    help="Config folder (default: $COMPLAINTS_CONFIG, else ./config).",
)
@click.option(
    "--db", "database_url", metavar="URL", help="Database URL (default: $COMPLAINTS_DATABASE_URL)."
)
@click.option("--log-json/--log-console", default=None, help="Log format (default: by terminal).")
@click.option(
    "--log-level",
    default=None,
    metavar="LEVEL",
    help="debug, info, warning (default: $COMPLAINTS_LOG_LEVEL, else warning).",
)
@click.pass_context
def cli(
    ctx: click.Context,
    config_dir: str | None,
    database_url: str | None,
    log_json: bool | None,
    log_level: str | None,
) -> None:
    """Complaints workflow engine for UK social housing landlords."""
    level = log_level or os.environ.get("COMPLAINTS_LOG_LEVEL")
    configure_logging(json=log_json, level=level or "warning")
    app = AppContext(
        config_dir=config_dir, database_url=database_url, log_json=log_json, log_level=level
    )
    ctx.obj = app
    ctx.call_on_close(app.close)


for command in (
    *cases.COMMANDS,
    *steps.COMMANDS,
    queries.show_command,
    queries.list_command,
    queries.history_command,
    queue_group,
    sweep_command,
    scheduler_command,
    *worker_commands.COMMANDS,
    db_group,
    demo_command,
    sla,
):
    cli.add_command(command)
cli.add_command(report_group)
for command in PRIVACY_COMMANDS:
    cli.add_command(command)


def main() -> None:
    cli(prog_name="complaints")


if __name__ == "__main__":
    main()

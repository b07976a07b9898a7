"""Entry point: the ``complaints`` group, global options and one-line error reporting."""

from __future__ import annotations

import os
import sys
from typing import Any

import click
import structlog

from adapters.cli.context import AppContext
from adapters.cli.sla_commands import sla
from adapters.logging import configure_logging
from sla.errors import ComplaintsError

log = structlog.get_logger()


class ComplaintsGroup(click.Group):
    """Turns every expected error into one line on stderr and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ComplaintsError as exc:
            log.info("command_refused", error=type(exc).__name__)
            click.echo(f"error: {exc}", err=True)
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
    configure_logging(
        json=log_json, level=log_level or os.environ.get("COMPLAINTS_LOG_LEVEL", "warning")
    )
    ctx.obj = AppContext(config_dir=config_dir, database_url=database_url)


cli.add_command(sla)


def main() -> None:
    cli(prog_name="complaints")


if __name__ == "__main__":
    main()

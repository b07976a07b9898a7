"""Data protection commands: ``export-resident`` (subject access) and ``retention apply``."""

from __future__ import annotations

from pathlib import Path

import click

from adapters.cli.context import AppContext, pass_app
from adapters.cli.options import json_option, resolve_actor
from adapters.cli.render import dump_json
from adapters.privacy import apply_retention, export_resident, retention_summary
from engine.errors import ValidationError


@click.command("export-resident")
@click.argument("resident_ref", metavar="RESIDENT_REF")
@click.option("--out", "out", metavar="FILE", default=None, help="Write the JSON to FILE.")
@click.option("--as", "actor", metavar="NAME", default=None, help="Who asks (needs export).")
@pass_app
def export_resident_command(
    app: AppContext, resident_ref: str, out: str | None, actor: str | None
) -> None:
    """Everything held about one resident, as JSON.

    For a subject access request: every case with its file, clocks, flags, events, contacts and
    the messages queued to the resident. Needs the export permission.
    """
    service = app.service
    data = export_resident(service, resident_ref, resolve_actor(actor), db_engine=app.db_engine)
    text = dump_json(data)
    if out is None:
        click.echo(text)
        return
    try:
        Path(out).write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(f"{len(data['cases'])} case(s) written to {out}", err=True)


@click.group("retention")
def retention_group() -> None:
    """Anonymise closed cases past retention.

    Personal data in cases closed longer ago than the retention period is blanked.
    """


@retention_group.command("apply")
@click.option(
    "--older-than-years",
    "years",
    type=click.IntRange(0, 200),
    default=None,
    help="Closed more than this many years ago (default: [retention] years, else 6).",
)
@click.option(
    "--dry-run/--apply",
    "dry_run",
    default=True,
    help="List what would be anonymised (the default) or anonymise it.",
)
@click.option("--as", "actor", metavar="NAME", default=None, help="Who runs it (needs retention).")
@json_option
@pass_app
def retention_apply_command(
    app: AppContext, years: int | None, dry_run: bool, actor: str | None, as_json: bool
) -> None:
    """Anonymise closed cases past retention: dry run unless --apply.

    Keeps dates, states, categories, decisions and compensation, so reports are unchanged.
    """
    service = app.service
    who = service.actor(resolve_actor(actor))
    run = apply_retention(
        app.db_engine,
        actor=who,
        now=service.now(),
        years=app.settings.retention_years if years is None else years,
        apply=not dry_run,
    )
    if as_json:
        click.echo(dump_json(run.as_dict()))
    else:
        click.echo("\n".join(retention_summary(run)))


COMMANDS = (export_resident_command, retention_group)

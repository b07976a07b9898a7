"""Commands that work on a case without moving its stage: extend, assign, actions, contact, updates.

These are the day-to-day record keeping the Code asks for (extensions with reasons, remedy
actions to completion, every contact with the resident), each one an audited event.
"""

from __future__ import annotations

import click

from adapters.cli.context import AppContext, pass_app
from adapters.cli.options import change_options, parse_when, resolve_actor
from adapters.cli.render import confirmation
from engine.common import DIRECTIONS
from engine.model import CHANNELS
from sla.timezone import parse_date

REFERENCE = click.argument("reference", metavar="REF")


@click.command("extend")
@REFERENCE
@click.option("--days", required=True, type=int, help="Working days to add to the deadline.")
@click.option("--reason", required=True, help="The reason, as explained to the resident.")
@click.option("--stage", type=int, default=None, help="1 or 2 (default: the running stage).")
@click.option(
    "--good-reason",
    metavar="TEXT",
    default=None,
    help="A complaints manager's good reason to go beyond the cap (recorded on the timeline).",
)
@change_options
@pass_app
def extend_command(
    app: AppContext,
    reference: str,
    days: int,
    reason: str,
    stage: int | None,
    good_reason: str | None,
    at: str | None,
    actor: str | None,
) -> None:
    """Extend a stage's response deadline, with a reason."""
    case = app.service.extend(
        reference,
        actor=resolve_actor(actor),
        at=parse_when(at),
        days=days,
        reason=reason,
        stage=stage,
        good_reason=good_reason,
    )
    click.echo(confirmation(case, f"extended by {days} working days"))


@click.command("assign")
@REFERENCE
@click.option("--owner", required=True, help="The new owner.")
@change_options
@pass_app
def assign_command(
    app: AppContext, reference: str, owner: str, at: str | None, actor: str | None
) -> None:
    """Give the case to one owner."""
    case = app.service.assign(reference, actor=resolve_actor(actor), at=parse_when(at), owner=owner)
    click.echo(confirmation(case, f"owner {case.owner}"))


@click.group("action")
def action_group() -> None:
    """Remedy actions: add one, mark one done."""


@action_group.command("add")
@REFERENCE
@click.option("--description", required=True, help="What will be done.")
@click.option("--owner", required=True, help="Who will do it.")
@click.option("--due", required=True, metavar="YYYY-MM-DD", help="When it is due.")
@change_options
@pass_app
def action_add_command(
    app: AppContext,
    reference: str,
    description: str,
    owner: str,
    due: str,
    at: str | None,
    actor: str | None,
) -> None:
    """Add a remedy action with an owner and a due date."""
    case = app.service.add_action(
        reference,
        actor=resolve_actor(actor),
        at=parse_when(at),
        description=description,
        owner=owner,
        due_on=parse_date(due),
    )
    click.echo(confirmation(case, f"action {case.actions[-1].number} added"))


@action_group.command("done")
@REFERENCE
@click.argument("number", type=int)
@change_options
@pass_app
def action_done_command(
    app: AppContext, reference: str, number: int, at: str | None, actor: str | None
) -> None:
    """Mark remedy action NUMBER done."""
    case = app.service.complete_action(
        reference, actor=resolve_actor(actor), at=parse_when(at), number=number
    )
    left = len(case.outstanding_actions)
    click.echo(confirmation(case, f"action {number} done, {left} outstanding"))


@click.command("contact")
@REFERENCE
@click.option("--direction", required=True, help=f"{' or '.join(DIRECTIONS)}.")
@click.option("--channel", required=True, help=f"{', '.join(CHANNELS)}.")
@click.option("--summary", default="", help="What was said.")
@click.option("--no-answer", is_flag=True, help="An attempt that did not reach the resident.")
@change_options
@pass_app
def contact_command(
    app: AppContext,
    reference: str,
    direction: str,
    channel: str,
    summary: str,
    no_answer: bool,
    at: str | None,
    actor: str | None,
) -> None:
    """Record a contact with the resident, or a failed attempt.

    A contact that reached the resident restarts the contact countdown.
    """
    case = app.service.record_contact(
        reference,
        actor=resolve_actor(actor),
        at=parse_when(at),
        direction=direction,
        channel=channel,
        summary=summary,
        made=not no_answer,
    )
    click.echo(confirmation(case, "attempt recorded" if no_answer else "contact recorded"))


@click.command("agree-updates")
@REFERENCE
@click.option("--every", required=True, type=int, help="Working days between updates.")
@click.option("--note", default=None, help="What was agreed, and how.")
@change_options
@pass_app
def agree_updates_command(
    app: AppContext, reference: str, every: int, note: str | None, at: str | None, actor: str | None
) -> None:
    """Record how often the resident agreed to hear from us."""
    case = app.service.agree_updates(
        reference, actor=resolve_actor(actor), at=parse_when(at), every=every, note=note
    )
    click.echo(confirmation(case, f"updates every {case.contact_interval_days} working days"))


COMMANDS = (
    extend_command,
    assign_command,
    action_group,
    contact_command,
    agree_updates_command,
)

"""Commands that open a case and move it through its stages.

Each command is a thin translation from options to one ``ComplaintsService`` call; the rules (which
state allows what, what a response must contain, who may handle Stage 2) live in the workflows, and
their refusals come back as one-line errors.
"""

from __future__ import annotations

import click

from adapters.cli.context import AppContext, pass_app
from adapters.cli.options import (
    change_options,
    json_option,
    parse_action,
    parse_pounds,
    parse_when,
    resolve_actor,
)
from adapters.cli.render import confirmation, dump_json
from engine.model import CHANNELS, CONTACT_METHODS, TENURES
from engine.views import case_view

REFERENCE = click.argument("reference", metavar="REF")


@click.command("open")
@click.option(
    "--received",
    "--at",
    "received",
    metavar="WHEN",
    help="When the resident first expressed dissatisfaction (YYYY-MM-DD[THH:MM]); default now.",
)
@click.option("--as", "actor", metavar="NAME", help="Who logs it (default: $COMPLAINTS_ACTOR).")
@click.option(
    "--workflow", default="complaint", show_default=True, help="complaint or dissatisfaction."
)
@click.option("--category", required=True, help="One of the configured categories (e.g. repairs).")
@click.option("--channel", required=True, help=f"How it came in: {', '.join(CHANNELS)}.")
@click.option("--area", required=True, help="Area or patch (e.g. Exeter).")
@click.option("--summary", default="", help="What the resident said, in brief.")
@click.option("--calendar", default=None, help="Working-day calendar (default from settings).")
@click.option("--policy", default=None, help="Policy id or family (default from settings).")
@click.option("--tenure", default="lcra", show_default=True, help=f"{' or '.join(TENURES)}.")
@click.option("--resident", default=None, help="Resident reference in the housing system.")
@click.option("--property", "property_ref", default=None, help="Property reference.")
@click.option("--contact-method", default=None, help=f"Preferred: {', '.join(CONTACT_METHODS)}.")
@click.option("--email", default=None, help="The resident's e-mail address (for their messages).")
@click.option("--phone", default=None, help="The resident's mobile number (for text messages).")
@click.option("--name", "resident_name", default=None, help="How to address the resident.")
@click.option("--vulnerability", multiple=True, help="A recorded vulnerability (repeatable).")
@click.option("--health-and-safety", is_flag=True, help="A health-and-safety issue (priority).")
@click.option("--restricted", is_flag=True, help="Restrict who may see the case.")
@click.option("--owner", default=None, help="Who owns the case from the start.")
@click.option("--understanding", default=None, help="The landlord's understanding of it.")
@click.option("--outcome", default=None, help="The outcome the resident wants.")
@json_option
@pass_app
def open_command(
    app: AppContext,
    received: str | None,
    actor: str | None,
    workflow: str,
    category: str,
    channel: str,
    area: str,
    summary: str,
    calendar: str | None,
    policy: str | None,
    tenure: str,
    resident: str | None,
    property_ref: str | None,
    contact_method: str | None,
    email: str | None,
    phone: str | None,
    resident_name: str | None,
    vulnerability: tuple[str, ...],
    health_and_safety: bool,
    restricted: bool,
    owner: str | None,
    understanding: str | None,
    outcome: str | None,
    as_json: bool,
) -> None:
    """Log a complaint or dissatisfaction; print its reference."""
    case = app.service.open(
        actor=resolve_actor(actor),
        received_at=parse_when(received),
        workflow=workflow,
        category=category,
        channel=channel,
        area=area,
        summary=summary,
        calendar=calendar,
        policy=policy,
        tenure=tenure,
        resident_ref=resident,
        property_ref=property_ref,
        preferred_contact=contact_method,
        vulnerabilities=vulnerability,
        health_and_safety=health_and_safety,
        restricted=restricted,
        owner=owner,
        understanding=understanding,
        desired_outcome=outcome,
        resident_email=email,
        resident_phone=phone,
        resident_name=resident_name,
    )
    if as_json:
        view = case_view(
            case,
            app.service.calendar_for(case),
            app.today(),
            allowed_commands=app.service.allowed_commands(case),
        )
        click.echo(dump_json(view))
    else:
        click.echo(case.reference)


@click.command("acknowledge")
@REFERENCE
@click.option(
    "--understanding", default=None, help="The landlord's understanding of the complaint."
)
@click.option("--outcome", default=None, help="The outcome the resident wants.")
@click.option("--handler", default=None, help="Who handles this stage (default: the actor).")
@change_options
@pass_app
def acknowledge_command(
    app: AppContext,
    reference: str,
    understanding: str | None,
    outcome: str | None,
    handler: str | None,
    at: str | None,
    actor: str | None,
) -> None:
    """Acknowledge at Stage 1, or at Stage 2 after escalation."""
    case = app.service.acknowledge(
        reference,
        actor=resolve_actor(actor),
        at=parse_when(at),
        understanding=understanding,
        desired_outcome=outcome,
        handler=handler,
    )
    click.echo(confirmation(case))


@click.command("respond")
@REFERENCE
@click.option("--decision", required=True, help="upheld, partially-upheld or not-upheld.")
@click.option("--reasons", required=True, help="The reasons for the decision.")
@click.option("--compensation", default=None, metavar="POUNDS", help="Compensation, e.g. 150.00.")
@click.option(
    "--action",
    "actions",
    multiple=True,
    metavar="'DESCRIPTION|OWNER|YYYY-MM-DD'",
    help="A remedy action to complete before closing (repeatable).",
)
@click.option("--avoidable/--not-avoidable", default=None, help="Was the failure avoidable?")
@click.option("--learning", default=None, help="What the landlord learned.")
@click.option("--definition", default=None, help="The complaint definition (default: as logged).")
@click.option("--route", default=None, help="Escalation route text (default: the standard one).")
@change_options
@pass_app
def respond_command(
    app: AppContext,
    reference: str,
    decision: str,
    reasons: str,
    compensation: str | None,
    actions: tuple[str, ...],
    avoidable: bool | None,
    learning: str | None,
    definition: str | None,
    route: str | None,
    at: str | None,
    actor: str | None,
) -> None:
    """Send the response at the current stage (its clock stops)."""
    case = app.service.respond(
        reference,
        actor=resolve_actor(actor),
        at=parse_when(at),
        decision=decision,
        reasons=reasons,
        compensation_pence=parse_pounds(compensation),
        actions=[parse_action(a) for a in actions],
        avoidable=avoidable,
        learning=learning,
        complaint_definition=definition,
        escalation_route=route,
    )
    click.echo(confirmation(case))


@click.command("escalate")
@REFERENCE
@click.option("--note", default=None, help="Anything the resident said (never required).")
@change_options
@pass_app
def escalate_command(
    app: AppContext, reference: str, note: str | None, at: str | None, actor: str | None
) -> None:
    """The resident asks for Stage 2, or for a complaint."""
    case = app.service.escalate(reference, actor=resolve_actor(actor), at=parse_when(at), note=note)
    done = f"opened {case.linked_reference}" if case.workflow == "dissatisfaction" else None
    click.echo(confirmation(case, done))


@click.command("close")
@REFERENCE
@click.option("--note", default=None, help="A closing note.")
@change_options
@pass_app
def close_command(
    app: AppContext, reference: str, note: str | None, at: str | None, actor: str | None
) -> None:
    """Close a responded case once every remedy action is done."""
    case = app.service.close(reference, actor=resolve_actor(actor), at=parse_when(at), note=note)
    click.echo(confirmation(case))


@click.command("withdraw")
@REFERENCE
@click.option("--reason", default=None, help="Why the resident withdrew, if they said.")
@change_options
@pass_app
def withdraw_command(
    app: AppContext, reference: str, reason: str | None, at: str | None, actor: str | None
) -> None:
    """The resident withdraws the complaint."""
    case = app.service.withdraw(
        reference, actor=resolve_actor(actor), at=parse_when(at), reason=reason
    )
    click.echo(confirmation(case))


@click.command("decline")
@REFERENCE
@click.option("--exclusion", required=True, metavar="ID", help="An exclusion of the case's policy.")
@click.option("--reason", required=True, help="The explanation given to the resident.")
@change_options
@pass_app
def decline_command(
    app: AppContext,
    reference: str,
    exclusion: str,
    reason: str,
    at: str | None,
    actor: str | None,
) -> None:
    """Refuse a complaint or escalation on a policy exclusion."""
    case = app.service.decline(
        reference, actor=resolve_actor(actor), at=parse_when(at), exclusion=exclusion, reason=reason
    )
    click.echo(confirmation(case))


@click.command("refer")
@REFERENCE
@click.option("--ombudsman-ref", default=None, help="The Ombudsman's case reference.")
@change_options
@pass_app
def refer_command(
    app: AppContext, reference: str, ombudsman_ref: str | None, at: str | None, actor: str | None
) -> None:
    """Record that the case has gone to the Housing Ombudsman."""
    case = app.service.refer(
        reference, actor=resolve_actor(actor), at=parse_when(at), ombudsman_reference=ombudsman_ref
    )
    click.echo(confirmation(case))


@click.command("resolve")
@REFERENCE
@click.option("--outcome", required=True, help="The outcome agreed with the resident.")
@click.option(
    "--told-how-to-complain",
    is_flag=True,
    help="The resident was told how to make a complaint (required to resolve).",
)
@change_options
@pass_app
def resolve_command(
    app: AppContext,
    reference: str,
    outcome: str,
    told_how_to_complain: bool,
    at: str | None,
    actor: str | None,
) -> None:
    """Resolve a dissatisfaction with the agreed outcome."""
    case = app.service.resolve(
        reference,
        actor=resolve_actor(actor),
        at=parse_when(at),
        agreed_outcome=outcome,
        told_how_to_complain=told_how_to_complain,
    )
    click.echo(confirmation(case))


COMMANDS = (
    open_command,
    acknowledge_command,
    respond_command,
    escalate_command,
    close_command,
    withdraw_command,
    decline_command,
    refer_command,
    resolve_command,
)

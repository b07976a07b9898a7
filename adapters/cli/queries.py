"""Read-only commands: ``show`` one case, ``list`` cases, a case's ``history``.

They never write, so they are safe to run against production; ``--json`` prints the same views
(``engine.views``) an embedding service would get.
"""

from __future__ import annotations

from typing import Any

import click

from adapters.cli.context import AppContext, pass_app
from adapters.cli.options import json_option, resolve_actor
from adapters.cli.render import case_card, dump_json, table, timeline_line
from engine.model import Case
from engine.ports import CaseFilter
from engine.validation import one_of
from engine.views import case_view, event_view
from sla.flags import DEADLINE_LEVELS, deadline_flag_name

LIST_HEADERS = (
    "reference",
    "workflow",
    "state",
    "category",
    "area",
    "received",
    "next deadline",
    "wd since contact",
    "flags",
)


def view_of(app: AppContext, case: Case) -> dict[str, Any]:
    service = app.service
    return case_view(
        case,
        service.calendar_for(case),
        app.today(),
        allowed_commands=service.allowed_commands(case),
    )


AS_OPTION = click.option(
    "--as",
    "actor",
    metavar="NAME",
    default=None,
    help="Whose view (restricted cases need permission; default: $COMPLAINTS_ACTOR).",
)


@click.command("show")
@click.argument("reference", metavar="REF")
@AS_OPTION
@json_option
@pass_app
def show_command(app: AppContext, reference: str, actor: str | None, as_json: bool) -> None:
    """Show one case: state, deadlines, clocks, actions."""
    view = view_of(app, app.service.get(reference, actor=resolve_actor(actor)))
    click.echo(dump_json(view) if as_json else case_card(view))


@click.command("list")
@click.option("--state", default=None, help="Only cases in this state.")
@click.option("--category", default=None, help="Only this category.")
@click.option("--area", default=None, help="Only this area.")
@click.option("--owner", default=None, help="Only cases this person owns.")
@click.option("--workflow", default=None, help="complaint or dissatisfaction.")
@click.option(
    "--flag",
    default=None,
    metavar="NAME",
    help="Cases with this flag raised: a level (breached) or a name (respond:breached).",
)
@click.option(
    "--open/--all",
    "open_only",
    default=None,
    help="Open cases only (the default, unless --state is given) or every case.",
)
@click.option(
    "--limit",
    default=100,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Show at most this many cases.",
)
@AS_OPTION
@json_option
@pass_app
def list_command(
    app: AppContext,
    state: str | None,
    category: str | None,
    area: str | None,
    owner: str | None,
    workflow: str | None,
    flag: str | None,
    open_only: bool | None,
    limit: int,
    actor: str | None,
    as_json: bool,
) -> None:
    """List cases, newest first (open ones unless --all)."""
    query = CaseFilter(
        workflow=_known(workflow, "workflow", tuple(app.service.workflows)),
        state=_known(state, "state", _all_states(app)),
        category=_known(category, "category", app.service.categories),
        area=area,
        owner=owner,
        is_open=_is_open(open_only, state),
        flag=_known(flag, "flag", _all_flags(app)),
        limit=limit,
    )
    views = [view_of(app, case) for case in app.service.find(query, actor=resolve_actor(actor))]
    if as_json:
        click.echo(dump_json(views))
    elif not views:
        click.echo("no cases match", err=True)
    else:
        click.echo(table(LIST_HEADERS, [_row(v) for v in views]))


@click.command("history")
@click.argument("reference", metavar="REF")
@AS_OPTION
@json_option
@pass_app
def history_command(app: AppContext, reference: str, actor: str | None, as_json: bool) -> None:
    """Print a case's timeline (the evidence pack).

    Every event: when (London time), who, what it was and what it changed, free text included.
    """
    events = app.service.history(reference, actor=resolve_actor(actor))
    if as_json:
        click.echo(dump_json([event_view(e) for e in events]))
        return
    for event in events:
        click.echo(timeline_line(event))


def _is_open(open_only: bool | None, state: str | None) -> bool | None:
    """``--open`` → open only; ``--all`` → any; neither → open, unless a state was asked for."""
    if open_only is None:
        return True if state is None else None
    return True if open_only else None


def _known(value: str | None, field: str, allowed: tuple[str, ...]) -> str | None:
    """A filter naming something that cannot exist is a typo, not an empty result."""
    return None if value is None else one_of(value, field, allowed)


def _all_flags(app: AppContext) -> tuple[str, ...]:
    """Every flag a case can carry: the deadline levels and each clock's (``respond:breached``),
    and the contact-countdown levels of every policy."""
    policies = [app.service.policies.get(p) for p in app.service.policies.ids()]
    names = list(DEADLINE_LEVELS)
    names += [level.level for policy in policies for level in policy.contact_levels]
    names += [
        deadline_flag_name(rule.name, level)
        for policy in policies
        for rule in policy.clocks
        for level in DEADLINE_LEVELS
    ]
    return tuple(dict.fromkeys(names))


def _all_states(app: AppContext) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s for d in app.service.workflows.values() for s in d.states))


def _row(view: dict[str, Any]) -> list[str]:
    upcoming = view["next_deadline"]
    return [
        view["reference"],
        view["workflow"],
        view["state"],
        view["category"],
        view["area"],
        view["received_on"] or view["received_at"][:10],
        upcoming["due_on"] if upcoming else "-",
        str(view["working_days_since_contact"]),
        ", ".join(flag["name"] for flag in view["flags"]) or "-",
    ]

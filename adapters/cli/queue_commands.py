"""``complaints queue``: the coordinators' work queue.

``complaints queue`` lists the open work items, most urgent first (breached, due today, due soon,
then the higher contact-countdown level, then health and safety or a vulnerable resident, then the
oldest case), as a table to read at a glance. ``claim`` leases the top item to one coordinator for
the configured time (``[queue] lease_minutes``); ``done`` finishes it together with what was done
(a contact, or any workflow command) in one transaction; ``release`` gives it back. A lease that
runs out returns the item to the queue by itself. Items on restricted cases are only listed for,
and handed to, the people in ``[queue] restricted_viewers``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

import click

from adapters.cli.context import AppContext, pass_app
from adapters.cli.options import json_option, resolve_actor
from adapters.cli.render import COMMAND_NAMES, confirmation, dump_json, london_time, table
from engine.common import DIRECTIONS
from engine.errors import ValidationError
from engine.model import CHANNELS
from engine.queue import DEADLINE_RANK, QueueFilter, WorkItem
from engine.validation import one_of
from sla.calendar import WorkingCalendar
from sla.timezone import london_date, parse_date

F = TypeVar("F", bound=Callable[..., Any])

HEADERS = (
    "item",
    "reference",
    "kind",
    "category",
    "area",
    "flag",
    "reason",
    "wd since contact",
    "due",
    "owner",
    "claimed by",
)
_NONE = "-"
_ITEM = re.compile(r"#?([0-9]{1,18})")
_WHOLE = re.compile(r"[0-9]{1,18}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_GIVEN = "complaints.queue.given"
_ENGINE_NAMES = {cli: engine for engine, cli in COMMAND_NAMES.items()}

ITEM = click.argument("item", metavar="ITEM")


def actor_option(help_text: str) -> Callable[[F], F]:
    """``--as NAME`` (who acts; resolved like every other command's ``--as``)."""
    return click.option("--as", "actor", metavar="NAME", default=None, help=help_text)


def filter_options(func: F) -> F:
    """``--team``, ``--category`` and ``--area``: narrow the queue (for listing and claiming)."""
    func = click.option("--area", default=None, help="Only work on cases in this area.")(func)
    func = click.option("--category", default=None, help="Only work on this category.")(func)
    return click.option(
        "--team", default=None, help="Only this team's work (teams come from settings)."
    )(func)


@click.group(
    "queue", invoke_without_command=True, short_help="List, claim, finish or release work items."
)
@filter_options
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Show at most this many items.",
)
@actor_option("Whose view (restricted cases need permission; default: $COMPLAINTS_ACTOR).")
@json_option
@click.pass_context
def queue_group(
    ctx: click.Context,
    team: str | None,
    category: str | None,
    area: str | None,
    limit: int,
    actor: str | None,
    as_json: bool,
) -> None:
    """The work queue, most urgent first; claim, finish or release items.

    Order: breached before due today before due soon; then the higher contact-countdown level
    (the resident left longest without contact); then health and safety or a vulnerable
    resident; then the oldest case. FLAG says which rule put the item where it is; DUE is the
    deadline, or for a contact item the day contact fell due.

    Without a subcommand, list the open and claimed items ACTOR may see. Options given before
    a subcommand (``queue --as rita claim``) apply to it unless it is given its own.
    """
    if ctx.invoked_subcommand is not None:
        given = {"team": team, "category": category, "area": area, "actor": actor}
        ctx.meta[_GIVEN] = {k: v for k, v in given.items() if v is not None}
        ctx.meta[_GIVEN]["as_json"] = as_json
        return
    app = ctx.find_object(AppContext)
    assert app is not None
    query = _query(app, team, category, area, limit)
    items = app.service.queue(resolve_actor(actor), query)
    today = app.today()
    now = app.service.now()
    if as_json:
        click.echo(dump_json([item_view(app, item, today, now) for item in items]))
    elif not items:
        click.echo("queue is empty", err=True)
    else:
        click.echo(table(HEADERS, [_row(app, item, today, now) for item in items]))


@queue_group.command("claim")
@filter_options
@actor_option("Who takes the item (default: $COMPLAINTS_ACTOR, else your login name).")
@json_option
@pass_app
def claim_command(
    app: AppContext,
    team: str | None,
    category: str | None,
    area: str | None,
    actor: str | None,
    as_json: bool,
) -> None:
    """Lease the most urgent item to yourself.

    Prints the item, why it is urgent, and when the lease runs out (London time); "queue is
    empty" when there is nothing for you.
    """
    query = _query(app, _given("team", team), _given("category", category), _given("area", area))
    item = app.service.claim(resolve_actor(_given("actor", actor)), query)
    as_json = as_json or bool(_given("as_json", None))
    if as_json:
        view = None if item is None else item_view(app, item, app.today(), app.service.now())
        click.echo(dump_json(view))
    elif item is None:
        click.echo("queue is empty")
    else:
        click.echo(claimed_text(app, item))


@queue_group.command("done")
@ITEM
@actor_option("Who finished it (default: $COMPLAINTS_ACTOR, else your login name).")
@click.option(
    "--contact", "channel", default=None, help=f"Record a contact made: {', '.join(CHANNELS)}."
)
@click.option(
    "--direction",
    default=None,
    help=f"With --contact: {' or '.join(DIRECTIONS)} (default outbound).",
)
@click.option("--summary", default=None, help="With --contact: what was said.")
@click.option(
    "--do",
    "command",
    metavar="COMMAND",
    default=None,
    help="Run this workflow command on the case (e.g. acknowledge, close, extend).",
)
@click.option(
    "--set",
    "pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="With --do: a field of the command (repeatable); true/false and whole numbers are "
    "typed, and YYYY-MM-DD for a key ending in _on is a date.",
)
@click.option("--note", default=None, help="What was done (kept with the item).")
@pass_app
def done_command(
    app: AppContext,
    item: str,
    actor: str | None,
    channel: str | None,
    direction: str | None,
    summary: str | None,
    command: str | None,
    pairs: tuple[str, ...],
    note: str | None,
) -> None:
    """Finish claimed item ITEM, with what was done.

    The contact or command and the item are saved in one transaction. If what was done is
    refused (the case cannot be closed yet, say), nothing is saved and the item stays claimed.
    """
    item_id = parse_item(item)
    name, payload = _action(channel, direction, summary, command, pairs)
    who = resolve_actor(_given("actor", actor))
    finished = app.service.complete(item_id, actor=who, command=name, payload=payload, outcome=note)
    line = f"item {item_id} done ({finished.reference} {finished.kind})"
    if name is not None:  # as the same actor: a restricted case is theirs to see
        line += f"; {confirmation(app.service.get(finished.reference, actor=who))}"
    click.echo(line)


@queue_group.command("release")
@ITEM
@actor_option("Who holds it (default: $COMPLAINTS_ACTOR, else your login name).")
@pass_app
def release_command(app: AppContext, item: str, actor: str | None) -> None:
    """Give claimed item ITEM back to the queue."""
    item_id = parse_item(item)
    app.service.release(item_id, actor=resolve_actor(_given("actor", actor)))
    click.echo(f"item {item_id} released")


# -- parsing -----------------------------------------------------------------------------------


def _given(name: str, value: Any) -> Any:
    """A subcommand's option, else the same option given to ``queue`` before it."""
    if value is not None:
        return value
    return click.get_current_context().meta.get(_GIVEN, {}).get(name)


def parse_item(text: str) -> int:
    """``ITEM``: a work item number (as the queue shows it, ``#`` optional)."""
    match = _ITEM.fullmatch(text.strip())
    if match is None:
        raise ValidationError(f"ITEM must be a work item number, got {text!r}")
    return int(match.group(1))


def parse_pairs(pairs: Sequence[str]) -> dict[str, Any]:
    """``--set key=value`` pairs as a command payload.

    ``true``/``false`` become booleans and whole numbers integers; a ``YYYY-MM-DD`` value of a key
    ending in ``_on`` (``due_on``) becomes a date; anything else stays text.
    """
    payload: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValidationError(f"--set must be KEY=VALUE, got {pair!r}")
        if key in payload:
            raise ValidationError(f"--set {key} is given twice")
        payload[key] = _typed(key, raw)
    return payload


def _typed(key: str, raw: str) -> Any:
    value = raw.strip()
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    if _WHOLE.fullmatch(value):
        return int(value)
    if key.endswith("_on") and _DAY.fullmatch(value):
        return parse_date(value)
    return raw


def engine_command(name: str) -> str:
    """A command as the CLI spells it (``agree-updates``, ``action done``) → the engine's name."""
    spelled = " ".join(name.split())
    return _ENGINE_NAMES.get(spelled, spelled.replace("-", "_"))


def _action(
    channel: str | None,
    direction: str | None,
    summary: str | None,
    command: str | None,
    pairs: Sequence[str],
) -> tuple[str | None, dict[str, Any] | None]:
    """The command and payload ``done`` runs with the item (``(None, None)``: just done)."""
    if channel is not None and command is not None:
        raise ValidationError("give --contact or --do, not both")
    if channel is None and (direction is not None or summary is not None):
        raise ValidationError("--direction and --summary go with --contact")
    if command is None and pairs:
        raise ValidationError("--set goes with --do")
    if channel is not None:
        contact = {
            "direction": one_of(direction or "outbound", "direction", DIRECTIONS),
            "channel": one_of(channel, "channel", CHANNELS),
            "summary": summary or "",
            "made": True,
        }
        return "contact", contact
    if command is not None:
        if not command.strip():
            raise ValidationError("--do needs a command name")
        return engine_command(command), parse_pairs(pairs)
    return None, None


def _query(
    app: AppContext, team: str | None, category: str | None, area: str | None, limit: int = 1
) -> QueueFilter:
    """A filter naming a team or category that cannot exist is a typo, not an empty queue."""
    teams = ("complaints", *app.settings.teams)
    return QueueFilter(
        team=None if team is None else one_of(team, "team", tuple(dict.fromkeys(teams))),
        category=None
        if category is None
        else one_of(category, "category", app.settings.categories),
        area=area,
        limit=limit,
    )


# -- rendering ---------------------------------------------------------------------------------


def working_days_since_contact(calendar: WorkingCalendar, item: WorkItem, today: date) -> int:
    """Working days from the London date of the last contact (else of receipt) to ``today``."""
    since = item.last_contact_at or item.received_at
    return max(0, calendar.working_days_between(london_date(since), today))


def _since_contact(app: AppContext, item: WorkItem, today: date) -> int:
    return working_days_since_contact(app.service.calendars(item.calendar), item, today)


def holder(item: WorkItem, now: datetime) -> str:
    """Who holds the item: a name, the name and ``(lease expired)``, or ``-``."""
    if item.status != "claimed" or item.claimed_by is None:
        return _NONE
    if item.lease_until is None or item.lease_until < now:
        return f"{item.claimed_by} (lease expired)"
    return item.claimed_by


def _row(app: AppContext, item: WorkItem, today: date, now: datetime) -> list[str]:
    return [
        str(item.id),
        item.reference,
        item.kind,
        item.category,
        item.area,
        flag_label(item),
        item.reason,
        str(_since_contact(app, item, today)),
        item.due_on.isoformat() if item.due_on else _NONE,
        item.owner or _NONE,
        holder(item, now),
    ]


_DEADLINE_FLAGS = {rank: level for level, rank in DEADLINE_RANK.items()}


def flag_label(item: WorkItem) -> str:
    """What makes the item urgent, in the queue's order: a deadline level (breached, due-today,
    due-soon), else the contact countdown's level number (``countdown 2``: the second)."""
    if item.p_deadline in _DEADLINE_FLAGS:
        return _DEADLINE_FLAGS[item.p_deadline]
    return f"countdown {item.p_contact}" if item.p_contact else _NONE


def item_view(app: AppContext, item: WorkItem, today: date, now: datetime) -> dict[str, Any]:
    """An item as JSON-ready data (``--json``)."""
    return {
        "id": item.id,
        "reference": item.reference,
        "kind": item.kind,
        "status": item.status,
        "team": item.team,
        "reason": item.reason,
        "due_on": item.due_on.isoformat() if item.due_on else None,
        "priority": {
            "deadline": item.p_deadline,
            "contact": item.p_contact,
            "care": item.p_care,
        },
        "category": item.category,
        "area": item.area,
        "owner": item.owner,
        "restricted": item.restricted,
        "working_days_since_contact": _since_contact(app, item, today),
        "claimed_by": item.claimed_by if item.status == "claimed" else None,
        "lease_until": item.lease_until.isoformat() if item.lease_until else None,
        "lease_expired": item.status == "claimed"
        and (item.lease_until is None or item.lease_until < now),
    }


def claimed_text(app: AppContext, item: WorkItem) -> str:
    """What ``claim`` prints: the item, the case, why it is urgent, and the lease."""
    assert item.lease_until is not None
    since = _since_contact(app, item, app.today())
    due = item.due_on.isoformat() if item.due_on else _NONE
    return "\n".join(
        [
            f"item {item.id}: {item.reference} {item.kind}",
            f"  reason    {item.reason}",
            f"  case      {item.category}  area {item.area}  owner {item.owner or _NONE}",
            f"  deadline  {due}  ({since} working days since contact)",
            f"  lease     {item.claimed_by} until {london_time(item.lease_until)} (London)",
            f"  finish    complaints queue done {item.id} [--contact CHANNEL | --do COMMAND]",
        ]
    )

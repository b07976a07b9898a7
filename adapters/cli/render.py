"""Plain-text rendering for the terminal: confirmations, a case card, tables and the timeline.

Pure functions from views (``engine.views``) and events to strings, so tests can check them
without a database and the commands stay a few lines each.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from engine.errors import InvalidTransitionError, RefusedError
from engine.events import Event
from engine.model import Case
from engine.views import next_deadline
from sla.timezone import LONDON

_NONE = "-"
COMMAND_NAMES = {
    "add_action": "action add",
    "complete_action": "action done",
    "agree_updates": "agree-updates",
    "record_survey": "survey",
}
"""Engine command names that the CLI spells differently (the rest are the same)."""


def cli_name(command: str) -> str:
    return COMMAND_NAMES.get(command, command)


def error_text(exc: Exception) -> str:
    """The one-line message for an error, naming commands as the person types them."""
    if isinstance(exc, InvalidTransitionError):
        allowed = ", ".join(cli_name(c) for c in exc.allowed) or "none (the case is finished)"
        return f"{exc.reference} is {exc.state}: cannot {cli_name(exc.command)}; allowed: {allowed}"
    if isinstance(exc, RefusedError):
        where = f"{exc.reference} is {exc.state}" if exc.state else exc.reference
        allowed = ", ".join(cli_name(c) for c in exc.allowed)
        options = f"; allowed: {allowed}" if allowed else ""
        return f"{where}: cannot {cli_name(exc.command)}: {exc.reason}{options}"
    return str(exc)


def dump_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def confirmation(case: Case, done: str | None = None) -> str:
    """One line after a command: the reference, the state now, what happened, what is due next."""
    parts = [f"{case.reference}: {case.state}"]
    if done:
        parts.append(done)
    upcoming = next_deadline(case)
    if upcoming is not None:
        parts.append(f"next deadline {upcoming.due_on.isoformat()} ({upcoming.label})")
    elif case.is_open:
        parts.append("no SLA clock running")
    return "; ".join(parts)


def london_time(value: datetime) -> str:
    return value.astimezone(LONDON).strftime("%Y-%m-%d %H:%M")


def _london(iso: str | None) -> str:
    """An ISO instant from a view, as London wall-clock time for people to read."""
    return _NONE if iso is None else f"{london_time(datetime.fromisoformat(iso))} (London)"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns two spaces apart; the header underlined with dashes."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = [headers, ["-" * w for w in widths], *rows]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def text(value: Any) -> str:
    """A value in a description: identifiers bare, free text quoted (newlines stay visible)."""
    if value is None or value == "":
        return _NONE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and (len(value) > 40 or any(c.isspace() for c in value)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def case_card(view: Mapping[str, Any]) -> str:
    """``show`` without ``--json``: the case file a caseworker reads before phoning."""
    lines = [
        f"{view['reference']}  {view['workflow']}  {view['state']}"
        + ("" if view["is_open"] else "  (finished)"),
        f"  received     {_london(view['received_at'])}  via {view['channel']}",
        f"  category     {view['category']}  area {view['area']}  tenure {view['tenure']}",
        f"  owner        {text(view['owner'])}  priority {view['priority']}",
        f"  policy       {view['policy']}  calendar {view['calendar']}",
        f"  last contact {_london(view['last_contact_at'])}  "
        f"({view['working_days_since_contact']} working days ago)",
    ]
    if view["linked_reference"]:
        lines.append(f"  linked       {view['linked_reference']}")
    summary = view["records"].get("summary")
    if summary:
        lines.append(f"  summary      {text(summary)}")
    lines.append("  clocks")
    for clock in view["clocks"].values():
        status = f"stopped {clock['stopped_on']}" if clock["stopped_on"] else "running"
        breach = "  BREACHED" if clock["breached"] else ""
        extra = f" (extended {clock['extended_days']} days)" if clock["extended_days"] else ""
        lines.append(f"    {clock['label']:<26} due {clock['due_on']}{extra}  {status}{breach}")
    for action in view["actions"]:
        done = f"done {action['done_at'][:10]}" if action["done_at"] else "outstanding"
        lines.append(
            f"  action {action['number']}     {text(action['description'])}  "
            f"{action['owner']}  due {action['due_on']}  {done}"
        )
    for response in view["responses"]:
        pounds = response.get("compensation_pence", 0) / 100
        lines.append(
            f"  stage {response['stage']} response  {response['decision']}  "
            f"compensation £{pounds:.2f}"
        )
    for flag in view["flags"]:
        lines.append(f"  flag         {flag['name']}  since {flag['raised_on']}")
    allowed = ", ".join(cli_name(c) for c in view["allowed_commands"])
    lines.append(f"  next         {allowed or _NONE}")
    return "\n".join(lines)


def describe_event(event: Event) -> str:
    """A short readable account of what an event changed, then what it recorded."""
    before, after = event.before, event.after
    parts: list[str] = []
    for key in ("state", "owner"):
        if key in before:
            parts.append(f"{key} {text(before[key])} → {text(after.get(key))}")
        elif after.get(key) is not None:
            parts.append(f"{key} {text(after[key])}")
    parts.extend(_deadline_changes(before.get("deadlines", {}), after.get("deadlines", {})))
    old_stops, new_stops = before.get("stopped", {}), after.get("stopped", {})
    for clock, day in new_stops.items():
        if old_stops.get(clock) != day:
            parts.append(f"{clock} stopped {day}")
    if after.get("contact_interval_days") is not None:
        parts.append(f"updates every {after['contact_interval_days']} working days")
    if "outstanding_actions" in after and event.seq > 1:
        parts.append(
            f"outstanding actions {before.get('outstanding_actions', 0)} → "
            f"{after['outstanding_actions']}"
        )
    parts.extend(_data_items(event.data))
    return "; ".join(parts)


def _deadline_changes(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    changes = []
    for clock, due in after.items():
        old = before.get(clock)
        if old is None:
            changes.append(f"{clock} due {due}")
        elif old != due:
            changes.append(f"{clock} due {old} → {due}")
    return changes


def _data_items(data: Mapping[str, Any]) -> list[str]:
    items = []
    for key, value in data.items():
        if value is None or value == "" or value == []:
            continue
        if key == "compensation_pence":
            items.append(f"compensation £{int(value) / 100:.2f}")
        elif key == "actions" and isinstance(value, list):
            items.extend(_action_text(a) for a in value if isinstance(a, Mapping))
        elif key == "action" and isinstance(value, Mapping):
            items.append(_action_text(value))
        elif isinstance(value, Mapping):
            items.append(f"{key}: {json.dumps(value, ensure_ascii=False, default=str)}")
        else:
            items.append(f"{key}: {text(value)}")
    return items


def _action_text(action: Mapping[str, Any]) -> str:
    return (
        f"action {action.get('number', '?')}: {text(action.get('description'))} "
        f"(owner {action.get('owner')}, due {action.get('due_on')})"
    )


def timeline_line(event: Event) -> str:
    """One ``history`` line: seq, London time, actor, kind, then the description."""
    return (
        f"{event.seq:>3}  {london_time(event.occurred_at)}  {event.actor:<14}  "
        f"{event.kind:<22}  {describe_event(event)}"
    )

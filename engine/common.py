"""Steps every kind of case has: contact, assign, extend, actions, agreed update interval.

A workflow includes them with :func:`common_steps`, choosing the states they run in and adding
guards of its own (the complaint workflow keeps the Stage 1 handler off Stage 2, for example).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from engine.definition import Effect, Guard, Step, StepContext
from engine.model import CHANNELS, Action
from sla.deadlines import extend_clock
from sla.timezone import london_date

DIRECTIONS = ("inbound", "outbound")


def _text(ctx: StepContext, key: str) -> str:
    value = ctx.payload.get(key)
    return value.strip() if isinstance(value, str) else ""


# -- contact -----------------------------------------------------------------------------------


def _contact_effect(ctx: StepContext) -> dict[str, Any]:
    made = bool(ctx.payload.get("made", True))
    case = ctx.case
    if made and (case.last_contact_at is None or ctx.at > case.last_contact_at):
        case.last_contact_at = ctx.at
    return {
        "direction": ctx.payload["direction"],
        "channel": ctx.payload["channel"],
        "made": made,
        "summary": _text(ctx, "summary"),
    }


def _contact_valid(ctx: StepContext) -> str | None:
    if ctx.payload.get("direction") not in DIRECTIONS:
        return f"direction must be one of {', '.join(DIRECTIONS)}"
    if ctx.payload.get("channel") not in CHANNELS:
        return f"channel must be one of {', '.join(CHANNELS)}"
    return None


# -- assign ------------------------------------------------------------------------------------


def _assign_valid(ctx: StepContext) -> str | None:
    return None if _text(ctx, "owner") else "an owner is required"


def _assign_effect(ctx: StepContext) -> dict[str, Any]:
    ctx.case.owner = _text(ctx, "owner")
    return {"owner": ctx.case.owner}


# -- extend ------------------------------------------------------------------------------------


def _extend_valid(ctx: StepContext) -> str | None:
    name = ctx.payload.get("clock")
    clock = ctx.case.clocks.get(name) if isinstance(name, str) else None
    if clock is None or not clock.running:
        running = ", ".join(n for n, c in ctx.case.clocks.items() if c.running) or "none"
        if name is None:
            return f"say which clock to extend (clock=...; running: {running})"
        return f"no running clock {name!r} to extend (running: {running})"
    rule = ctx.policy.clock(clock.name)
    days = ctx.payload.get("days")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        return "an extension is a whole number of working days, at least 1"
    on = london_date(ctx.at)
    if on < clock.started_on:
        return f"an extension cannot be dated before its clock started ({clock.started_on})"
    if not _text(ctx, "reason"):
        return "an extension needs a reason, explained to the resident"
    good_reason = ctx.payload.get("good_reason")
    if good_reason not in (None, False) and not isinstance(good_reason, str):
        return "a good reason is the manager's reason in words (--good-reason TEXT)"
    cap = rule.extension_cap if rule is not None else 0
    total = clock.extended_days + days
    if cap is not None and total > cap and not _text(ctx, "good_reason"):
        return (
            f"{clock.label} extensions would total {total} working days, over the policy's cap "
            f"of {cap}; record a good reason (complaints manager) to go beyond it"
        )
    new_due = extend_clock(clock, days, ctx.calendar).due_on
    if new_due < on:
        return (
            f"the new deadline {new_due} would already be past on {on}: the resident must be "
            "given a date still to come; extend by more days"
        )
    return None


def _extend_effect(ctx: StepContext) -> dict[str, Any]:
    name = ctx.payload["clock"]
    clock = ctx.case.clocks[name]
    rule = ctx.policy.clock(name)
    cap = rule.extension_cap if rule is not None else 0
    extended = extend_clock(clock, int(ctx.payload["days"]), ctx.calendar)
    ctx.case.clocks[name] = extended
    beyond_cap = cap is not None and extended.extended_days > cap
    record = {
        "clock": name,
        "days": int(ctx.payload["days"]),
        "reason": _text(ctx, "reason"),
        "previous_due_on": clock.due_on.isoformat(),
        "new_due_on": extended.due_on.isoformat(),
        "beyond_cap": beyond_cap,
        "notified_before_due": london_date(ctx.at) <= clock.due_on,
    }
    if beyond_cap:
        record["good_reason"] = _text(ctx, "good_reason")
    ctx.case.records.setdefault("extensions", []).append({**record, "at": ctx.at.isoformat()})
    return record


# -- actions -----------------------------------------------------------------------------------


def _action_valid(ctx: StepContext) -> str | None:
    if not _text(ctx, "description"):
        return "an action needs a description"
    if not _text(ctx, "owner"):
        return "an action needs an owner"
    return action_due_problem(ctx, ctx.payload.get("due_on"), "an action")


def action_due_problem(ctx: StepContext, due_on: Any, what: str) -> str | None:
    """Why ``due_on`` cannot be an action's due date: not a date, before the complaint was
    received, or beyond the working-day calendar (which the queue counts days on)."""
    if type(due_on) is not date:
        return f"{what} needs a due date"
    received = london_date(ctx.case.received_at)
    if due_on < received:
        return f"{what} cannot be due ({due_on}) before the complaint was received ({received})"
    if due_on > ctx.calendar.last_day:
        return f"{what} due on {due_on} is beyond the calendar (to {ctx.calendar.last_day})"
    return None


def _add_action_effect(ctx: StepContext) -> dict[str, Any]:
    action = add_action(ctx, ctx.payload)
    return {"action": action.to_data()}


def add_action(ctx: StepContext, spec: Any) -> Action:
    """Append an action described by ``spec`` (description, owner, due_on) to the case."""
    action = Action(
        number=len(ctx.case.actions) + 1,
        description=str(spec["description"]).strip(),
        owner=str(spec["owner"]).strip(),
        due_on=spec["due_on"],
    )
    ctx.case.actions.append(action)
    return action


def _complete_valid(ctx: StepContext) -> str | None:
    number = ctx.payload.get("number")
    for action in ctx.case.actions:
        if action.number == number:
            return None if action.outstanding else f"action {number} is already done"
    return f"no action {number!r} on this case"


def _complete_effect(ctx: StepContext) -> dict[str, Any]:
    action = next(a for a in ctx.case.actions if a.number == ctx.payload["number"])
    action.done_at = ctx.at
    action.done_by = ctx.actor
    return {"number": action.number, "outstanding": len(ctx.case.outstanding_actions)}


# -- agreed update interval ---------------------------------------------------------------------


def _interval_valid(ctx: StepContext) -> str | None:
    days = ctx.payload.get("every")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 60:
        return "the agreed update interval is a whole number of working days from 1 to 60"
    return None


def _interval_effect(ctx: StepContext) -> dict[str, Any]:
    ctx.case.contact_interval_days = int(ctx.payload["every"])
    return {"every": ctx.case.contact_interval_days, "note": _text(ctx, "note")}


def common_steps(
    states: Iterable[str],
    *,
    assign_guards: tuple[Guard, ...] = (),
    after_assign: Effect | None = None,
) -> tuple[Step, ...]:
    """The shared steps, runnable in ``states``; a workflow adds its own rules about owners
    (``assign_guards``) and what an assignment means to it (``after_assign``, whose data joins
    the event's)."""
    sources = tuple(states)
    assign_effect = _assign_effect
    if after_assign is not None:
        extra = after_assign

        def assign_effect(ctx: StepContext) -> dict[str, Any]:
            return {**_assign_effect(ctx), **extra(ctx)}

    return (
        Step(
            "contact",
            sources,
            None,
            "contact_recorded",
            "Record a contact with the resident (or a failed attempt).",
            guards=(_contact_valid,),
            effect=_contact_effect,
            takes=("direction", "channel", "summary", "made"),
        ),
        Step(
            "assign",
            sources,
            None,
            "assigned",
            "Give the case to one owner.",
            guards=(_assign_valid, *assign_guards),
            effect=assign_effect,
            takes=("owner",),
        ),
        Step(
            "extend",
            sources,
            None,
            "extended",
            "Extend a running clock, with a reason, within the policy's cap.",
            guards=(_extend_valid,),
            effect=_extend_effect,
            contacts_resident=True,
            takes=("clock", "days", "reason", "good_reason"),
        ),
        Step(
            "add_action",
            sources,
            None,
            "action_added",
            "Add a remedy action with an owner and a due date.",
            guards=(_action_valid,),
            effect=_add_action_effect,
            takes=("description", "owner", "due_on"),
        ),
        Step(
            "complete_action",
            sources,
            None,
            "action_completed",
            "Mark a remedy action done.",
            guards=(_complete_valid,),
            effect=_complete_effect,
            takes=("number",),
        ),
        Step(
            "agree_updates",
            sources,
            None,
            "update_interval_agreed",
            "Record the update interval agreed with the resident (drives the contact countdown).",
            guards=(_interval_valid,),
            effect=_interval_effect,
            contacts_resident=True,  # agreeing it is itself a conversation with the resident
            takes=("every", "note"),
        ),
    )

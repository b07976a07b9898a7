"""Running a step on a case: guards, state, milestones, clocks, contact, and the audit event.

Pure: no I/O. The caller (the service) loads the case, calls :func:`apply_step` inside a
transaction, and saves the case with its new event; if anything raises, the transaction rolls
back and the half-changed ``Case`` object is thrown away.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from engine.definition import ALL_CLOCKS, StepContext, WorkflowDefinition
from engine.errors import ValidationError
from engine.events import Event
from engine.machine import WorkflowMachine
from engine.model import Case
from sla.calendar import WorkingCalendar
from sla.deadlines import advance_clocks, end_running_clocks, rules_for
from sla.policy import Policy
from sla.timezone import london_date, to_utc

FUTURE_TOLERANCE = timedelta(minutes=5)


def business_date(
    definition: WorkflowDefinition, calendar: WorkingCalendar, milestone: str, at: datetime
) -> date:
    """Day 0 of a milestone: receipts honour the calendar's cut-off, other steps do not."""
    if milestone in definition.receipt_milestones:
        return calendar.received_on(at)
    return london_date(at)


def check_time(at: datetime, now: datetime, not_before: datetime | None, what: str) -> datetime:
    """Validate a step's (possibly back-dated) time; returns it in UTC."""
    at = to_utc(at)
    if at > now + FUTURE_TOLERANCE:
        raise ValidationError(f"{what} time {at.isoformat()} is in the future")
    if not_before is not None and at < not_before:
        raise ValidationError(
            f"{what} time {at.isoformat()} is before the case was received "
            f"({not_before.isoformat()})"
        )
    return at


def _check_order(case: Case, trigger: str, at: datetime) -> None:
    """A step that moves the case on (a milestone, or any change of state: closing,
    withdrawing, referring...) cannot be dated before the last milestone (an acknowledgement,
    a response...). A closure is not one: a resident may ask to escalate a resolved
    dissatisfaction, or go to the Ombudsman, at a time before it was recorded."""
    if not case.milestones:
        return
    name, latest = max(case.milestones.items(), key=lambda item: item[1])
    if at < latest:
        raise ValidationError(
            f"{case.reference}: {trigger} time {at.isoformat()} is before the {name} step "
            f"({latest.isoformat()})"
        )


def snapshot(case: Case) -> dict[str, Any]:
    """The fields an event's before/after shows (JSON-ready)."""
    return {
        "state": case.state,
        "owner": case.owner,
        "is_open": case.is_open,
        "last_contact_at": case.last_contact_at.isoformat() if case.last_contact_at else None,
        "contact_interval_days": case.contact_interval_days,
        "deadlines": {name: c.due_on.isoformat() for name, c in case.clocks.items()},
        "stopped": {
            name: c.stopped_on.isoformat() for name, c in case.clocks.items() if c.stopped_on
        },
        "outstanding_actions": len(case.outstanding_actions),
    }


def diff(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def refresh_clocks(
    case: Case, definition: WorkflowDefinition, policy: Policy, calendar: WorkingCalendar
) -> None:
    case.clocks = advance_clocks(
        rules_for(policy, definition.clocks), calendar, case.milestone_dates, case.clocks
    )


def record_milestone(
    case: Case,
    definition: WorkflowDefinition,
    calendar: WorkingCalendar,
    milestone: str,
    at: datetime,
) -> None:
    case.milestones[milestone] = at
    case.milestone_dates[milestone] = business_date(definition, calendar, milestone, at)


def apply_step(
    machine: WorkflowMachine,
    case: Case,
    trigger: str,
    payload: Mapping[str, Any],
    *,
    actor: str,
    at: datetime,
    now: datetime,
    policy: Policy,
    calendar: WorkingCalendar,
) -> Event:
    """Run one command on ``case`` and append its event to ``case.pending_events``."""
    definition = machine.definition
    at = check_time(at, now, case.received_at, trigger)
    before = snapshot(case)
    planned = definition.step(trigger, case.state)
    if planned is not None and (planned.milestone is not None or planned.dest is not None):
        _check_order(case, trigger, at)
    ctx = StepContext(
        case=case,
        source=case.state,
        payload=payload,
        actor=actor,
        at=at,
        policy=policy,
        calendar=calendar,
    )
    step = machine.fire(case, trigger, ctx)
    if step.milestone is not None:
        record_milestone(case, definition, calendar, step.milestone, at)
    data = step.effect(ctx) if step.effect is not None else {}
    refresh_clocks(case, definition, policy, calendar)
    if step.ends_clocks:
        names = None if step.ends_clocks == ALL_CLOCKS else step.ends_clocks
        case.clocks = end_running_clocks(case.clocks, names, london_date(at), step.event)
    if step.contacts_resident and (case.last_contact_at is None or at > case.last_contact_at):
        case.last_contact_at = at
    if case.state in definition.final_states and case.is_open:
        case.is_open = False
        case.closed_at = at
    old, new = diff(before, snapshot(case))
    event = Event(
        kind=step.event,
        occurred_at=at,
        recorded_at=now,
        actor=actor,
        data=data,
        before=old,
        after=new,
    )
    case.pending_events.append(event)
    return event


def open_case(
    definition: WorkflowDefinition,
    case: Case,
    *,
    actor: str,
    now: datetime,
    policy: Policy,
    calendar: WorkingCalendar,
    data: Mapping[str, Any],
) -> Event:
    """Start a new case in the workflow's initial state, received at ``case.received_at``."""
    case.received_at = check_time(case.received_at, now, None, "received")
    case.state = definition.initial
    record_milestone(case, definition, calendar, definition.initial_milestone, case.received_at)
    refresh_clocks(case, definition, policy, calendar)
    event = Event(
        kind="opened",
        occurred_at=case.received_at,
        recorded_at=now,
        actor=actor,
        data=dict(data),
        before={},
        after=snapshot(case),
    )
    case.pending_events.append(event)
    return event

"""JSON-ready views of a case and its events: what ``show --json`` and ``history --json`` print.

Pure: ``today`` (a Europe/London date) is an argument, so a view is the same whoever builds it and
whenever a test runs. The field names are the public vocabulary of the JSON output; embedding
services can call these functions to get exactly what the CLI prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from engine.events import Event
from engine.model import Case
from sla.calendar import WorkingCalendar
from sla.deadlines import ClockState
from sla.flags import Flag
from sla.timezone import london_date, to_utc

DEADLINE_CLOCKS = {
    "acknowledge_by": "acknowledge",
    "respond_by": "respond",
    "stage2_acknowledge_by": "stage2_acknowledge",
    "stage2_respond_by": "stage2_respond",
}
"""The ``deadlines`` object's keys and the clock each one reads."""

RECORD_KEYS = (
    "summary",
    "stage1",
    "stage2",
    "extensions",
    "declined",
    "resolution",
    "ombudsman",
)
"""The parts of ``case.records`` a view shows (the case file, minus engine bookkeeping)."""


def iso_instant(value: datetime | None) -> str | None:
    """An instant as ISO 8601 in UTC, or ``None``."""
    return to_utc(value).isoformat() if value is not None else None


def iso_day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def next_deadline(case: Case) -> ClockState | None:
    """The running clock due soonest (ties: the workflow's clock order), or ``None``.

    A finished case has no next deadline even if a clock was somehow left running.
    """
    if not case.is_open:
        return None
    running = [clock for clock in case.clocks.values() if clock.running]
    return min(running, key=lambda clock: clock.due_on, default=None)


def working_days_since_contact(case: Case, calendar: WorkingCalendar, today: date) -> int:
    """Working days from the London date of the last contact (else of receipt) to ``today``.

    Never negative: a contact recorded a few minutes ahead of the clock counts as today.
    """
    since = case.last_contact_at or case.received_at
    return max(0, calendar.working_days_between(london_date(since), today))


def clock_view(clock: ClockState, today: date) -> dict[str, Any]:
    """One SLA clock, with whether it is breached as of ``today``."""
    return {
        "name": clock.name,
        "label": clock.label,
        "started_on": iso_day(clock.started_on),
        "base_days": clock.base_days,
        "extended_days": clock.extended_days,
        "due_on": iso_day(clock.due_on),
        "stopped_on": iso_day(clock.stopped_on),
        "stop_reason": clock.stop_reason,
        "running": clock.running,
        "breached": clock.breached(today),
    }


def case_view(
    case: Case,
    calendar: WorkingCalendar,
    today: date,
    *,
    allowed_commands: Sequence[str] = (),
) -> dict[str, Any]:
    """Everything a caseworker sees about one case, as JSON-ready data.

    ``calendar`` is the case's own calendar (working days since contact are counted on it) and
    ``allowed_commands`` what the workflow accepts next (the service knows; pass it through).
    """
    upcoming = next_deadline(case)
    records = case.records
    responses = records.get("responses", {})
    return {
        "reference": case.reference,
        "workflow": case.workflow,
        "state": case.state,
        "is_open": case.is_open,
        "policy": f"{case.policy_id}@{case.policy_version}",
        "policy_id": case.policy_id,
        "policy_version": case.policy_version,
        "calendar": case.calendar,
        "received_at": iso_instant(case.received_at),
        "received_on": iso_day(case.milestone_dates.get("received")),
        "last_contact_at": iso_instant(case.last_contact_at),
        "working_days_since_contact": working_days_since_contact(case, calendar, today),
        "contact_interval_days": case.contact_interval_days,
        "closed_at": iso_instant(case.closed_at),
        "deadlines": {key: iso_day(case.due_on(clock)) for key, clock in DEADLINE_CLOCKS.items()},
        "next_deadline": None
        if upcoming is None
        else {"clock": upcoming.name, "label": upcoming.label, "due_on": iso_day(upcoming.due_on)},
        "clocks": {name: clock_view(clock, today) for name, clock in case.clocks.items()},
        "milestones": {name: iso_instant(at) for name, at in case.milestones.items()},
        "owner": case.owner,
        "category": case.category,
        "channel": case.channel,
        "area": case.area,
        "tenure": case.tenure,
        "priority": case.priority,
        "resident_ref": case.resident_ref,
        "property_ref": case.property_ref,
        "preferred_contact": case.preferred_contact,
        "vulnerabilities": list(case.vulnerabilities),
        "health_and_safety": case.health_and_safety,
        "restricted": case.restricted,
        "linked_reference": case.linked_reference,
        "version": case.version,
        "allowed_commands": list(allowed_commands),
        "actions": [
            {**action.to_data(), "outstanding": action.outstanding} for action in case.actions
        ],
        "responses": [responses[stage] for stage in sorted(responses, key=int)],
        "records": {key: records[key] for key in RECORD_KEYS if key in records},
        "flags": [flag_view(flag) for flag in case.raised_flags],
        "as_of": today.isoformat(),
    }


def flag_view(flag: Flag) -> dict[str, Any]:
    """A raised flag: what crossed, since when, and for which clock (deadline flags)."""
    return {
        "name": flag.name,
        "level": flag.level,
        "kind": flag.kind,
        "clock": flag.clock,
        "raised_on": flag.raised_on.isoformat(),
        "anchor_on": flag.anchor_on.isoformat(),
    }


def event_view(event: Event) -> dict[str, Any]:
    """One audit event in full (the evidence pack keeps every field, free text included)."""
    return {
        "seq": event.seq,
        "kind": event.kind,
        "occurred_at": iso_instant(event.occurred_at),
        "recorded_at": iso_instant(event.recorded_at),
        "actor": event.actor,
        "data": event.data,
        "before": event.before,
        "after": event.after,
    }

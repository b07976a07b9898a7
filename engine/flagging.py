"""Bringing a case's flags up to date: the rules of ``sla.flags`` applied to a ``Case``.

Used by every command (before the step, as of the step's date, so crossings that happened since
the last sweep are on record before a contact clears them; and after it, as of today) and by the
nightly sweep. Each raise and clear becomes an event on the case's timeline.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time

from engine.events import Event
from engine.model import Case
from sla.calendar import WorkingCalendar
from sla.flags import Flag, FlagChanges, FlagInputs, diff_flags, evaluate
from sla.policy import Policy
from sla.timezone import LONDON, london_date, to_utc

SYSTEM_ACTOR = "system"


def flag_inputs(case: Case, policy: Policy) -> FlagInputs:
    anchor_at = case.last_contact_at or case.received_at
    countdown_from = london_date(anchor_at)
    received_on = case.milestone_dates.get("received")
    if case.last_contact_at is None and received_on is not None:
        countdown_from = received_on
    return FlagInputs(
        is_open=case.is_open,
        countdown_from=countdown_from,
        contact_levels=policy.contact_levels,
        agreed_interval_days=case.contact_interval_days,
        clocks=case.clocks.values(),
        due_soon_days=policy.due_soon_days,
    )


def day_start(day: date) -> datetime:
    """Midnight in London on ``day``, as UTC: when a flag computed for that date happened."""
    return to_utc(datetime.combine(day, time(0, 0), tzinfo=LONDON))


def sync_flags(
    case: Case,
    policy: Policy,
    calendar: WorkingCalendar,
    *,
    as_of: date,
    clear_on: date,
    now: datetime,
    clear: bool = True,
) -> int:
    """Raise and clear the case's flags as of ``as_of``; returns the number of changes.

    With ``clear=False`` only missing crossings are raised (a catch-up before a back-dated step,
    which must not clear flags that today's evaluation still wants).

    New rows go to ``case.pending_flags`` and clears to ``case.pending_clears`` for the
    repository to write, with one event each in ``case.pending_events``.
    """
    wanted, next_on = evaluate(flag_inputs(case, policy), as_of, calendar)
    changes = diff_flags(case.flags, wanted, clear_on)
    if not clear:
        changes = FlagChanges(changes.raise_, [], [])
    else:
        case.next_flag_on = next_on
    for flag in changes.raise_:
        case.flags.append(flag)
        case.pending_flags.append(flag)
        case.pending_events.append(_event("flag_raised", flag, flag.raised_on, now))
        if flag.cleared_on is not None:
            case.pending_events.append(_event("flag_cleared", flag, flag.cleared_on, now))
    by_key = {flag.key: i for i, flag in enumerate(case.flags)}
    for key, cleared_on in changes.clear:
        index = by_key[key]
        flag = replace(case.flags[index], cleared_on=cleared_on)
        case.flags[index] = flag
        case.pending_clears.append((key, cleared_on))
        case.pending_events.append(_event("flag_cleared", flag, cleared_on, now))
    for key in changes.withdraw:
        index = by_key[key]
        flag = case.flags[index]
        case.pending_withdrawals.append(key)
        case.pending_events.append(_event("flag_withdrawn", flag, flag.raised_on, now))
    if changes.withdraw:
        gone = set(changes.withdraw)
        case.flags = [f for f in case.flags if f.key not in gone]
    return len(changes.raise_) + len(changes.clear) + len(changes.withdraw)


def refresh_flags(
    case: Case, policy: Policy, calendar: WorkingCalendar, *, at: datetime, now: datetime
) -> int:
    """After a command: flags as of today, clearing what the command ended on its own date."""
    return sync_flags(
        case, policy, calendar, as_of=london_date(now), clear_on=london_date(at), now=now
    )


def catch_up_flags(
    case: Case, policy: Policy, calendar: WorkingCalendar, *, at: datetime, now: datetime
) -> int:
    """Before a command: record crossings up to the command's date that no sweep wrote yet."""
    day = london_date(at)
    return sync_flags(case, policy, calendar, as_of=day, clear_on=day, now=now, clear=False)


def _event(kind: str, flag: Flag, on: date, now: datetime) -> Event:
    return Event(
        kind=kind,
        occurred_at=min(day_start(on), now),
        recorded_at=now,
        actor=SYSTEM_ACTOR,
        data={
            "flag": flag.name,
            "level": flag.level,
            "clock": flag.clock,
            "anchor_on": flag.anchor_on.isoformat(),
            "raised_on": flag.raised_on.isoformat(),
            "cleared_on": flag.cleared_on.isoformat() if flag.cleared_on else None,
        },
    )

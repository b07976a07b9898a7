"""Flag rules: which flags a case has on a given date, and when that next changes.

Pure and deterministic. Every flag has a *crossing* (its ``anchor_on``: the start of the contact
countdown, or the due date of a deadline) and a ``raised_on`` date computed from the rules, never
from when a sweep happened to run, so a case's flags are the same whether the sweep ran every
night or once after a week of downtime.

* Contact countdown: ``days`` working days after the last contact with the resident (or receipt)
  each level of the policy is raised; all stay raised until the next contact starts a new
  countdown. An update interval agreed with the resident replaces the first threshold and shifts
  the later ones by the same amount (the escalation gaps are kept).
* Deadlines, per running clock: ``due-soon`` from ``due_soon_days`` working days before the due
  date, ``due-today`` on it, ``breached`` from the day after. A clock that stopped late keeps its
  ``breached`` flag on record (raised, then cleared on the day the step was done).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sla.calendar import WorkingCalendar
from sla.deadlines import ClockState
from sla.policy import ContactLevel

DUE_SOON = "due-soon"
DUE_TODAY = "due-today"
BREACHED = "breached"
DEADLINE_LEVELS = (DUE_SOON, DUE_TODAY, BREACHED)
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Flag:
    """One flag crossing. ``cleared_on`` is set when the flag is no longer raised."""

    name: str
    kind: str  # "contact" or "deadline"
    level: str
    clock: str | None
    anchor_on: date
    raised_on: date
    cleared_on: date | None = None

    @property
    def key(self) -> tuple[str, date]:
        """Identifies the crossing: the same flag is never raised twice for it."""
        return (self.name, self.anchor_on)


@dataclass(frozen=True, slots=True)
class FlagInputs:
    """What the rules read from a case."""

    is_open: bool
    countdown_from: date  # London date of the last contact, or of receipt
    contact_levels: Sequence[ContactLevel]
    agreed_interval_days: int | None
    clocks: Iterable[ClockState]
    due_soon_days: int


def deadline_flag_name(clock: str, level: str) -> str:
    return f"{clock}:{level}"


def effective_levels(
    levels: Sequence[ContactLevel], agreed_interval_days: int | None
) -> list[ContactLevel]:
    """The policy's thresholds, or the agreed interval's (later levels keep their gaps)."""
    if not agreed_interval_days or not levels:
        return list(levels)
    shift = agreed_interval_days - levels[0].days
    return [ContactLevel(lv.days + shift, lv.level, lv.action) for lv in levels]


def evaluate(
    inputs: FlagInputs, as_of: date, calendar: WorkingCalendar
) -> tuple[list[Flag], date | None]:
    """Flags raised on ``as_of`` (plus breaches on record), and the next date that changes them.

    Returns ``(flags, next_change_on)``; flags include cleared breaches of stopped clocks so the
    record is complete. ``next_change_on`` is ``None`` when nothing will change without a command.
    """
    flags: list[Flag] = []
    upcoming: list[date] = []
    for clock in inputs.clocks:
        _deadline_flags(clock, as_of, calendar, inputs, flags, upcoming)
    if inputs.is_open:
        _contact_flags(inputs, as_of, calendar, flags, upcoming)
    future = [d for d in upcoming if d > as_of]
    return flags, min(future) if future else None


def _contact_flags(
    inputs: FlagInputs,
    as_of: date,
    calendar: WorkingCalendar,
    flags: list[Flag],
    upcoming: list[date],
) -> None:
    anchor = inputs.countdown_from
    for level in effective_levels(inputs.contact_levels, inputs.agreed_interval_days):
        raise_on = calendar.add_working_days(anchor, level.days)
        if raise_on <= as_of:
            flags.append(Flag(level.level, "contact", level.level, None, anchor, raise_on))
        else:
            upcoming.append(raise_on)


def _deadline_flags(
    clock: ClockState,
    as_of: date,
    calendar: WorkingCalendar,
    inputs: FlagInputs,
    flags: list[Flag],
    upcoming: list[date],
) -> None:
    """The clock's whole flag history up to ``as_of``: each level is raised on its date and
    cleared when the next level takes over or the clock stops."""
    due = clock.due_on
    breach_on = due + ONE_DAY
    stop = clock.stopped_on
    end = stop if stop is not None else as_of
    soon = None
    if inputs.due_soon_days > 0:
        soon = max(
            calendar.subtract_working_days(due, inputs.due_soon_days), clock.started_on + ONE_DAY
        )
    phases = [(DUE_SOON, soon, due), (DUE_TODAY, due, breach_on), (BREACHED, breach_on, None)]
    for level, raised_on, superseded_on in phases:
        if raised_on is None or (level == DUE_SOON and raised_on >= due):
            continue
        if raised_on > end:
            if stop is None and inputs.is_open:
                upcoming.append(raised_on)
            continue
        candidates = [d for d in (superseded_on, stop) if d is not None]
        cleared_on = min(candidates) if candidates else None
        if cleared_on is not None and cleared_on > as_of:
            upcoming.append(cleared_on)
            cleared_on = None
        flags.append(_deadline(clock, level, raised_on, cleared_on))


def _deadline(
    clock: ClockState, level: str, raised_on: date, cleared_on: date | None = None
) -> Flag:
    return Flag(
        name=deadline_flag_name(clock.name, level),
        kind="deadline",
        level=level,
        clock=clock.name,
        anchor_on=clock.due_on,
        raised_on=raised_on,
        cleared_on=cleared_on,
    )


@dataclass(frozen=True, slots=True)
class FlagChanges:
    """What to write: crossings to raise (possibly already cleared), clear dates to set, and
    crossings to withdraw (raised on facts a back-dated step has since overturned)."""

    raise_: list[Flag]
    clear: list[tuple[tuple[str, date], date]]
    withdraw: list[tuple[str, date]] = field(default_factory=list)


def diff_flags(stored: Iterable[Flag], wanted: Iterable[Flag], clear_on: date) -> FlagChanges:
    """Reconcile stored flags with the rules' answer, given facts dated ``clear_on``.

    * A wanted crossing not stored yet is raised with its computed dates.
    * A stored crossing whose computed clear date differs takes the rules' date.
    * A stored crossing the rules no longer want is withdrawn if it was raised after
      ``clear_on`` (it would never have been raised had the back-dated step been recorded on
      time), cleared on ``clear_on`` if still raised, and otherwise left alone as history.

    The result is the same whether the sweep ran every night or once, and re-running it
    changes nothing.
    """
    stored_by_key = {f.key: f for f in stored}
    wanted_by_key = {f.key: f for f in wanted}
    to_raise = [f for k, f in wanted_by_key.items() if k not in stored_by_key]
    to_clear: list[tuple[tuple[str, date], date]] = []
    to_withdraw: list[tuple[str, date]] = []
    for key, flag in stored_by_key.items():
        target = wanted_by_key.get(key)
        if target is None:
            if flag.raised_on > clear_on:
                to_withdraw.append(key)
            elif flag.cleared_on is None:
                to_clear.append((key, clear_on))
        elif target.cleared_on is not None and target.cleared_on != flag.cleared_on:
            to_clear.append((key, target.cleared_on))
    return FlagChanges(to_raise, to_clear, to_withdraw)

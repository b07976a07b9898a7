"""SLA clocks: when each started, when it is due, when it stopped.

A clock starts on the business date of its start milestone and is due ``days`` (+ extensions)
working days after it; it stops on the business date of its stop milestone, or is ended early
("superseded") when the case moves on without reaching it (a resident escalating before the Stage 1
response, a withdrawal). A clock stopped after its due date was breached, and stays so on record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sla.calendar import WorkingCalendar
from sla.policy import ClockRule, Policy


@dataclass(frozen=True, slots=True)
class ClockState:
    """One clock of one case."""

    name: str
    label: str
    started_on: date
    base_days: int
    due_on: date
    extended_days: int = 0
    stopped_on: date | None = None
    stop_reason: str | None = None

    @property
    def running(self) -> bool:
        return self.stopped_on is None

    def breached(self, as_of: date) -> bool:
        """True once the clock ran past its due date (stopped late, or still running after it)."""
        end = self.stopped_on if self.stopped_on is not None else as_of
        return end > self.due_on

    def to_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "started_on": self.started_on.isoformat(),
            "base_days": self.base_days,
            "due_on": self.due_on.isoformat(),
            "extended_days": self.extended_days,
            "stopped_on": self.stopped_on.isoformat() if self.stopped_on else None,
            "stop_reason": self.stop_reason,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ClockState:
        stopped = data.get("stopped_on")
        return cls(
            name=data["name"],
            label=data["label"],
            started_on=date.fromisoformat(data["started_on"]),
            base_days=int(data["base_days"]),
            due_on=date.fromisoformat(data["due_on"]),
            extended_days=int(data.get("extended_days", 0)),
            stopped_on=date.fromisoformat(stopped) if stopped else None,
            stop_reason=data.get("stop_reason"),
        )


def advance_clocks(
    rules: Iterable[ClockRule],
    calendar: WorkingCalendar,
    milestones: Mapping[str, date],
    clocks: Mapping[str, ClockState],
) -> dict[str, ClockState]:
    """Start every clock whose start milestone is reached and stop those whose stop one is.

    Pure and idempotent: calling it again with the same milestones changes nothing.
    """
    result = dict(clocks)
    for rule in rules:
        clock = result.get(rule.name)
        start = milestones.get(rule.starts_at)
        if clock is None and start is not None:
            clock = ClockState(
                name=rule.name,
                label=rule.label,
                started_on=start,
                base_days=rule.days,
                due_on=calendar.add_working_days(start, rule.days),
            )
        if clock is None:
            continue
        stop = milestones.get(rule.stops_at)
        if clock.running and stop is not None:
            clock = replace(clock, stopped_on=stop, stop_reason=rule.stops_at)
        result[rule.name] = clock
    return result


def end_running_clocks(
    clocks: Mapping[str, ClockState], names: Iterable[str] | None, on: date, reason: str
) -> dict[str, ClockState]:
    """Stop the named running clocks (all when ``names`` is None) without meeting them."""
    wanted = None if names is None else set(names)
    return {
        name: (
            replace(clock, stopped_on=on, stop_reason=reason)
            if clock.running and (wanted is None or name in wanted)
            else clock
        )
        for name, clock in clocks.items()
    }


def extend_clock(clock: ClockState, days: int, calendar: WorkingCalendar) -> ClockState:
    """The clock with ``days`` more working days; the due date is recomputed on the calendar."""
    extended = clock.extended_days + days
    return replace(
        clock,
        extended_days=extended,
        due_on=calendar.add_working_days(clock.started_on, clock.base_days + extended),
    )


def recompute_due(clock: ClockState, calendar: WorkingCalendar) -> ClockState:
    """The clock's due date on ``calendar`` (after a bank holiday is proclaimed, say)."""
    due = calendar.add_working_days(clock.started_on, clock.base_days + clock.extended_days)
    return clock if due == clock.due_on else replace(clock, due_on=due)


def rules_for(policy: Policy, names: Iterable[str]) -> list[ClockRule]:
    """The policy's rules for the clocks a workflow uses, in the policy's order."""
    wanted = set(names)
    return [rule for rule in policy.clocks if rule.name in wanted]

"""The case aggregate: everything the engine knows about one complaint or dissatisfaction.

A ``Case`` is mutated only by the engine's command handling, inside a unit of work; the events it
collects in ``pending_events`` are written in the same transaction as the case itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from engine.events import Event
from sla.deadlines import ClockState
from sla.flags import Flag

CHANNELS = (
    "phone",
    "email",
    "web-form",
    "letter",
    "in-person",
    "social-media",
    "ombudsman-referral",
)
TENURES = ("lcra", "lcho")
CONTACT_METHODS = ("phone", "email", "letter", "sms", "in-person")
DECISIONS = ("upheld", "partially-upheld", "not-upheld")
PRIORITIES = ("normal", "high")


@dataclass(slots=True)
class Action:
    """A remedy action promised to the resident: the case stays open until all are done."""

    number: int
    description: str
    owner: str
    due_on: date
    done_at: datetime | None = None
    done_by: str | None = None

    @property
    def outstanding(self) -> bool:
        return self.done_at is None

    def to_data(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "description": self.description,
            "owner": self.owner,
            "due_on": self.due_on.isoformat(),
            "done_at": self.done_at.isoformat() if self.done_at else None,
            "done_by": self.done_by,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Action:
        done = data.get("done_at")
        return cls(
            number=int(data["number"]),
            description=data["description"],
            owner=data["owner"],
            due_on=date.fromisoformat(data["due_on"]),
            done_at=datetime.fromisoformat(done) if done else None,
            done_by=data.get("done_by"),
        )


@dataclass(slots=True)
class Case:
    """One case. Field names are the vocabulary of the CLI's JSON and the database columns."""

    reference: str
    workflow: str
    state: str
    policy_id: str
    policy_version: int
    calendar: str
    calendar_fingerprint: str
    received_at: datetime
    channel: str
    category: str
    area: str
    tenure: str = "lcra"
    resident_ref: str | None = None
    property_ref: str | None = None
    preferred_contact: str | None = None
    contact_interval_days: int | None = None
    vulnerabilities: tuple[str, ...] = ()
    health_and_safety: bool = False
    restricted: bool = False
    owner: str | None = None
    last_contact_at: datetime | None = None
    is_open: bool = True
    closed_at: datetime | None = None
    linked_reference: str | None = None
    next_flag_on: date | None = None
    work_signature: str | None = None
    version: int = 0
    id: int | None = None
    milestones: dict[str, datetime] = field(default_factory=dict)
    milestone_dates: dict[str, date] = field(default_factory=dict)
    clocks: dict[str, ClockState] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)
    records: dict[str, Any] = field(default_factory=dict)
    flags: list[Flag] = field(default_factory=list)
    pending_events: list[Event] = field(default_factory=list)
    pending_flags: list[Flag] = field(default_factory=list)
    pending_clears: list[tuple[tuple[str, date], date]] = field(default_factory=list)
    pending_withdrawals: list[tuple[str, date]] = field(default_factory=list)
    pending_items: dict[str, Any] | None = None
    open_items: dict[str, Any] | None = None  # as loaded (adapter's rows), None when not loaded

    @property
    def raised_flags(self) -> list[Flag]:
        """Flags currently raised (history rows excluded)."""
        return [flag for flag in self.flags if flag.cleared_on is None]

    @property
    def priority(self) -> str:
        """Health-and-safety cases and residents with a recorded vulnerability come first."""
        return "high" if self.health_and_safety or self.vulnerabilities else "normal"

    @property
    def outstanding_actions(self) -> list[Action]:
        return [action for action in self.actions if action.outstanding]

    def due_on(self, clock: str) -> date | None:
        state = self.clocks.get(clock)
        return state.due_on if state else None

    def records_data(self) -> dict[str, Any]:
        """The nested parts of the case as JSON-ready data (stored in one column).

        Clocks are not here: they have a table of their own, the one source of their dates, so
        a recompute can move deadlines in SQL."""
        return {
            "milestones": {k: v.isoformat() for k, v in self.milestones.items()},
            "milestone_dates": {k: v.isoformat() for k, v in self.milestone_dates.items()},
            "actions": [a.to_data() for a in self.actions],
            "records": self.records,
        }

    def load_records(self, data: Mapping[str, Any]) -> None:
        """Inverse of :meth:`records_data`."""
        self.milestones = {
            k: datetime.fromisoformat(v) for k, v in data.get("milestones", {}).items()
        }
        self.milestone_dates = {
            k: date.fromisoformat(v) for k, v in data.get("milestone_dates", {}).items()
        }
        self.actions = [Action.from_data(a) for a in data.get("actions", [])]
        self.records = dict(data.get("records", {}))

"""Helpers for the in-memory workflow tests: build cases, run steps, walk a case to any state.

No database: a ``Case`` is built in memory, opened with ``open_case`` and moved with
``apply_step`` exactly as the service does inside its unit of work. Every step's ``now`` defaults
to its ``at`` (the step is recorded the moment it happens) unless a test says otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from engine.commands import apply_step, open_case
from engine.definition import WorkflowDefinition
from engine.events import Event
from engine.machine import WorkflowMachine
from engine.model import Case
from sla.calendar import WorkingCalendar
from sla.deadlines import ClockState
from sla.policy import Policy, PolicyRegistry, builtin_policies
from sla.timezone import LONDON
from workflows.complaint import COMPLAINT

POLICIES = PolicyRegistry(builtin_policies())
HOC_2024 = POLICIES.get("hoc-2024")
HOC_2022 = POLICIES.get("hoc-2022")
SPSO = POLICIES.get("spso-model")

ENGLAND = WorkingCalendar.uk("england-and-wales")
SCOTLAND = WorkingCalendar.uk("scotland")

STAGE1_HANDLER = "alice"
STAGE2_HANDLER = "carol"

# Monday 2 March 2026, 10:00 in London (GMT): no bank holiday for weeks either side.
RECEIVED_AT = datetime(2026, 3, 2, 10, 0, tzinfo=LONDON)

ACK = {
    "understanding": "The kitchen tap has leaked since January and two repair visits failed.",
    "desired_outcome": "A working tap and an apology.",
}
STAGE2_ACK = {
    "understanding": "The resident disputes the Stage 1 finding about the missed visits.",
    "desired_outcome": "Compensation for the missed visits.",
    "handler": STAGE2_HANDLER,
}
NOT_UPHELD = {"decision": "not-upheld", "reasons": "Both visits were attended; records attached."}
UPHELD = {
    "decision": "upheld",
    "reasons": "Two visits were missed without notice.",
    "avoidable": True,
    "compensation_pence": 5_000,
}
DECLINE = {
    "exclusion": "legal-proceedings",
    "reason": "A claim about the same disrepair was filed at court on 1 February.",
}
CONTACT = {"direction": "outbound", "channel": "phone", "made": True, "summary": "Update call."}


def london(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """An aware instant at a London wall-clock time."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def action(
    description: str = "Replace the kitchen tap", due_on: date | None = None
) -> dict[str, Any]:
    """A valid remedy action spec (as a response or ``add_action`` takes it)."""
    return {
        "description": description,
        "owner": "repairs-team",
        "due_on": due_on or date(2026, 4, 30),
    }


def cutoff_calendar(cutoff: time = time(17, 0)) -> WorkingCalendar:
    """England and Wales with a daily cut-off (a short range keeps it cheap to build)."""
    return WorkingCalendar(
        "england-and-wales", name="cutoff", cutoff=cutoff, first_year=2020, last_year=2032
    )


_MACHINES: dict[int, tuple[WorkflowDefinition, WorkflowMachine]] = {}


def machine_for(definition: WorkflowDefinition) -> WorkflowMachine:
    """One ``WorkflowMachine`` per definition, shared by every case (as the service does)."""
    entry = _MACHINES.get(id(definition))
    if entry is None or entry[0] is not definition:
        entry = (definition, WorkflowMachine(definition))
        _MACHINES[id(definition)] = entry
    return entry[1]


def new_case(
    definition: WorkflowDefinition,
    received_at: datetime,
    policy: Policy,
    calendar: WorkingCalendar,
    *,
    reference: str = "CMP-TEST-0001",
    **fields: Any,
) -> Case:
    """An unopened ``Case`` as the service builds it (state is set by ``open_case``)."""
    values: dict[str, Any] = {
        "reference": reference,
        "workflow": definition.name,
        "state": "",
        "policy_id": policy.id,
        "policy_version": policy.version,
        "calendar": calendar.name,
        "calendar_fingerprint": calendar.fingerprint,
        "received_at": received_at,
        "channel": "email",
        "category": "repairs",
        "area": "north",
    }
    values.update(fields)
    return Case(**values)


@dataclass
class Journey:
    """One case and the context every command on it shares (workflow, policy, calendar)."""

    case: Case
    definition: WorkflowDefinition
    policy: Policy
    calendar: WorkingCalendar
    last_at: datetime
    opened: Event
    events: list[Event] = field(default_factory=list)

    @classmethod
    def open(
        cls,
        definition: WorkflowDefinition = COMPLAINT,
        *,
        received_at: datetime = RECEIVED_AT,
        now: datetime | None = None,
        policy: Policy = HOC_2024,
        calendar: WorkingCalendar = ENGLAND,
        actor: str = "intake",
        **fields: Any,
    ) -> Journey:
        case = new_case(definition, received_at, policy, calendar, **fields)
        event = open_case(
            definition,
            case,
            actor=actor,
            now=now or received_at,
            policy=policy,
            calendar=calendar,
            data={},
        )
        return cls(case, definition, policy, calendar, received_at, event)

    @property
    def state(self) -> str:
        return self.case.state

    @property
    def clocks(self) -> dict[str, ClockState]:
        return self.case.clocks

    def due(self, clock: str) -> date:
        return self.case.clocks[clock].due_on

    def run(
        self,
        trigger: str,
        payload: Mapping[str, Any] | None = None,
        *,
        at: datetime | None = None,
        actor: str = STAGE1_HANDLER,
        now: datetime | None = None,
    ) -> Event:
        """Run one command; ``at`` defaults to a day after the previous step."""
        when = at or self.last_at + timedelta(days=1)
        event = apply_step(
            machine_for(self.definition),
            self.case,
            trigger,
            dict(payload or {}),
            actor=actor,
            at=when,
            now=now or when,
            policy=self.policy,
            calendar=self.calendar,
        )
        self.last_at = when
        self.events.append(event)
        return event

    def to(self, state: str) -> Journey:
        """Walk a fresh complaint to ``state`` along the usual path (one step a day)."""
        for trigger, payload, actor in COMPLAINT_PATHS[state]:
            self.run(trigger, payload, actor=actor)
        assert self.state == state
        return self


Path = tuple[tuple[str, Mapping[str, Any], str], ...]

_TO_STAGE1: Path = (("acknowledge", ACK, STAGE1_HANDLER),)
_TO_STAGE1_RESPONDED: Path = (*_TO_STAGE1, ("respond", NOT_UPHELD, STAGE1_HANDLER))
_TO_ESCALATION: Path = (*_TO_STAGE1_RESPONDED, ("escalate", {}, "intake"))
_TO_STAGE2: Path = (*_TO_ESCALATION, ("acknowledge", STAGE2_ACK, STAGE2_HANDLER))
_TO_STAGE2_RESPONDED: Path = (*_TO_STAGE2, ("respond", NOT_UPHELD, STAGE2_HANDLER))

COMPLAINT_PATHS: dict[str, Path] = {
    "received": (),
    "stage1": _TO_STAGE1,
    "stage1_responded": _TO_STAGE1_RESPONDED,
    "escalation_requested": _TO_ESCALATION,
    "stage2": _TO_STAGE2,
    "stage2_responded": _TO_STAGE2_RESPONDED,
    "closed": (*_TO_STAGE2_RESPONDED, ("close", {}, STAGE2_HANDLER)),
    "withdrawn": (("withdraw", {"reason": "Resolved informally."}, "intake"),),
    "declined": (("decline", DECLINE, STAGE1_HANDLER),),
    "referred_to_ombudsman": (
        *_TO_STAGE2_RESPONDED,
        ("refer", {"ombudsman_reference": "HOS-123"}, "intake"),
    ),
}


def complaint_in(state: str, **kwargs: Any) -> Journey:
    """A complaint (hoc-2024, England and Wales unless told otherwise) walked to ``state``."""
    return Journey.open(**kwargs).to(state)

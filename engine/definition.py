"""What a workflow declares: states, steps (commands), guards, milestones and clocks.

Every command on a case is a ``Step``: a change of state (``acknowledge``) or an internal step
that leaves the state alone (``contact``, ``assign``). The engine runs steps generically; a new
kind of case (repairs, damp and mould) is a new ``WorkflowDefinition`` and needs no engine change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.model import Case
    from sla.calendar import WorkingCalendar
    from sla.policy import Policy


@dataclass(frozen=True, slots=True)
class StepContext:
    """What a guard or an effect may look at: the case, the state it was in before the step
    (``source``: effects run after the machine moved the case), the command's input, who, when."""

    case: Case
    source: str
    payload: Mapping[str, Any]
    actor: str
    at: datetime
    policy: Policy
    calendar: WorkingCalendar


Guard = Callable[[StepContext], str | None]
"""Returns ``None`` to allow the step, or a one-line reason to refuse it."""

Effect = Callable[[StepContext], dict[str, Any]]
"""Applies the step's changes to ``ctx.case`` and returns the event's data (no personal data in
keys the logs use; free text is kept in the event for the evidence pack)."""

ALL_CLOCKS = ("*",)


@dataclass(frozen=True, slots=True)
class Step:
    """One command a workflow accepts, and what happens when it runs.

    ``dest=None`` is an internal step: guards and effects run but the state does not change.
    ``milestone`` is recorded at the step's time and starts or stops SLA clocks by the policy.
    ``ends_clocks`` stops running clocks without meeting them (``ALL_CLOCKS`` for every one).
    ``contacts_resident`` moves ``last_contact_at`` (an acknowledgement or a response is a
    communication with the resident). ``spawns`` names a workflow whose new case is opened, linked,
    and received at this step's time.
    """

    trigger: str
    sources: tuple[str, ...]
    dest: str | None
    event: str
    description: str
    milestone: str | None = None
    guards: tuple[Guard, ...] = ()
    effect: Effect | None = None
    ends_clocks: tuple[str, ...] = ()
    contacts_resident: bool = False
    spawns: str | None = None
    takes: tuple[str, ...] = ()
    """The fields of the command's input; any other field is refused (not silently dropped)."""


@dataclass(frozen=True, slots=True)
class WorkflowDefinition:
    """A kind of case: its states, its steps and the SLA clocks it runs.

    ``final_states`` are states in which a case is no longer open (no clocks, no countdown).
    ``receipt_milestones`` are moments the resident starts something (a complaint, an escalation
    request): their business date honours the calendar's cut-off time. ``work_now_clocks`` put a
    work item in the queue as soon as they start (acknowledging is due now); other clocks only
    once they are flagged due soon.
    """

    name: str
    reference_prefix: str
    states: tuple[str, ...]
    initial: str
    initial_milestone: str
    final_states: frozenset[str]
    steps: tuple[Step, ...]
    clocks: tuple[str, ...] = ()
    receipt_milestones: frozenset[str] = frozenset({"received"})
    extension_clocks: Mapping[str, str] = field(default_factory=dict)
    work_now_clocks: frozenset[str] = frozenset()
    description: str = ""

    def __post_init__(self) -> None:
        seen: set[tuple[str, str]] = set()
        for step in self.steps:
            for source in step.sources:
                if source not in self.states:
                    raise ValueError(
                        f"{self.name}: step {step.trigger} from unknown state {source}"
                    )
                if (step.trigger, source) in seen:
                    raise ValueError(f"{self.name}: two {step.trigger} steps from {source}")
                seen.add((step.trigger, source))
            if step.dest is not None and step.dest not in self.states:
                raise ValueError(f"{self.name}: step {step.trigger} to unknown state {step.dest}")
        unknown_final = sorted(self.final_states - set(self.states))
        if unknown_final:
            raise ValueError(f"{self.name}: unknown final states {unknown_final}")
        if self.initial not in self.states:
            raise ValueError(f"{self.name}: unknown initial state {self.initial}")

    @property
    def open_states(self) -> tuple[str, ...]:
        return tuple(s for s in self.states if s not in self.final_states)

    def step(self, trigger: str, state: str) -> Step | None:
        """The step ``trigger`` runs from ``state``, if any."""
        for step in self.steps:
            if step.trigger == trigger and state in step.sources:
                return step
        return None

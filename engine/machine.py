"""The only user of ``transitions``: one ``Machine`` per workflow definition, never per case.

The machine holds no models (``model=None``); a case loaded from the database is passed to
``events[trigger].trigger(case, ...)`` directly, so binding a case costs nothing and no case is kept
alive by the machine. Guards run as the machine's conditions and raise ``RefusedError`` with the
guard's reason, so the machine itself refuses and the caller learns why.
"""

from __future__ import annotations

from typing import Any

from transitions import Machine, MachineError

from engine.definition import Guard, Step, StepContext, WorkflowDefinition
from engine.errors import InvalidTransitionError, RefusedError, ValidationError
from engine.model import Case


class WorkflowMachine:
    """A workflow definition compiled into a ``transitions.Machine``."""

    def __init__(self, definition: WorkflowDefinition) -> None:
        self.definition = definition
        self._machine = Machine(
            model=None,
            states=list(definition.states),
            transitions=[_transition(step) for step in definition.steps],
            initial=definition.initial,
            auto_transitions=False,
            send_event=True,
            model_attribute="state",
        )

    def allowed(self, state: str) -> list[str]:
        """The commands a case in ``state`` accepts, in definition order."""
        triggers = set(self._machine.get_triggers(state))
        ordered = dict.fromkeys(s.trigger for s in self.definition.steps if s.trigger in triggers)
        return list(ordered)

    def fire(self, case: Case, trigger: str, ctx: StepContext) -> Step:
        """Run ``trigger`` on ``case``: checks guards, then moves the state. Returns the step."""
        step = self.definition.step(trigger, case.state)
        if step is None:
            raise InvalidTransitionError(
                case.reference, case.state, trigger, self.allowed(case.state)
            )
        unknown = sorted(set(ctx.payload) - set(step.takes))
        if unknown:
            takes = ", ".join(sorted(step.takes)) or "nothing"
            raise ValidationError(
                f"{case.reference}: {trigger} takes no {', '.join(map(repr, unknown))}"
                f" (it takes: {takes})"
            )
        try:
            self._machine.events[trigger].trigger(case, ctx=ctx)
        except RefusedError as refused:  # a guard's reason, with where the case stands
            raise RefusedError(
                case.reference,
                trigger,
                refused.reason,
                state=case.state,
                allowed=self.allowed(case.state),
            ) from None
        except MachineError:
            raise InvalidTransitionError(
                case.reference, case.state, trigger, self.allowed(case.state)
            ) from None
        return step

    def mermaid(self) -> str:
        """A Mermaid state diagram of the workflow, generated from the definition."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.definition.initial}"]
        for step in self.definition.steps:
            if step.dest is None:
                continue
            for source in step.sources:
                lines.append(f"    {source} --> {step.dest}: {step.trigger}")
        for state in sorted(self.definition.final_states):
            lines.append(f"    {state} --> [*]")
        return "\n".join(lines)


def _transition(step: Step) -> dict[str, Any]:
    return {
        "trigger": step.trigger,
        "source": list(step.sources),
        "dest": step.dest,
        "conditions": [_condition(step.trigger, guard) for guard in step.guards],
    }


def _condition(trigger: str, guard: Guard) -> Any:
    def check(event: Any) -> bool:
        ctx: StepContext = event.kwargs["ctx"]
        reason = guard(ctx)
        if reason is not None:
            raise RefusedError(ctx.case.reference, trigger, reason)
        return True

    check.__name__ = getattr(guard, "__name__", "guard")
    return check

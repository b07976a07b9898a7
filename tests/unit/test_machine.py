"""``WorkflowMachine`` and ``WorkflowDefinition``: generic over workflows, one machine for each."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from workflow_support import ACK, ENGLAND, HOC_2024, Journey, london, new_case

from engine.commands import apply_step, open_case
from engine.common import common_steps
from engine.definition import Step, StepContext, WorkflowDefinition
from engine.errors import InvalidTransitionError, RefusedError
from engine.machine import WorkflowMachine
from sla.policy import parse_policy_text
from workflows.complaint import COMPLAINT
from workflows.dissatisfaction import DISSATISFACTION

COMMON = ["contact", "assign", "extend", "add_action", "complete_action", "agree_updates"]

ALLOWED = {
    "received": ["acknowledge", "decline", "withdraw", *COMMON],
    "stage1": ["respond", "escalate", "withdraw", *COMMON],
    "stage1_responded": ["escalate", "close", "withdraw", "refer", *COMMON],
    "escalation_requested": ["acknowledge", "decline", "withdraw", "refer", *COMMON],
    "stage2": ["respond", "withdraw", "refer", *COMMON],
    "stage2_responded": ["close", "withdraw", "refer", *COMMON],
    "closed": ["refer", "record_survey"],
    "withdrawn": [],
    "declined": ["refer"],
    "referred_to_ombudsman": [],
}


def _step(trigger: str, sources: tuple[str, ...], dest: str | None) -> Step:
    return Step(trigger, sources, dest, trigger, f"{trigger} it")


def _definition(**overrides: Any) -> WorkflowDefinition:
    values: dict[str, Any] = {
        "name": "tiny",
        "reference_prefix": "TNY",
        "states": ("a", "b"),
        "initial": "a",
        "initial_milestone": "received",
        "final_states": frozenset({"b"}),
        "steps": (_step("go", ("a",), "b"),),
    }
    values.update(overrides)
    return WorkflowDefinition(**values)


# -- allowed commands, invalid triggers, refusals -------------------------------------------------


def test_allowed_lists_the_commands_of_each_complaint_state_in_definition_order() -> None:
    machine = WorkflowMachine(COMPLAINT)

    assert {state: machine.allowed(state) for state in COMPLAINT.states} == ALLOWED


def test_allowed_lists_the_commands_of_each_dissatisfaction_state() -> None:
    machine = WorkflowMachine(DISSATISFACTION)

    assert machine.allowed("open") == ["resolve", "escalate", *COMMON]
    assert machine.allowed("resolved") == ["escalate"]
    assert machine.allowed("escalated") == []


@pytest.mark.parametrize(("state", "trigger"), [("received", "respond"), ("stage2", "fly")])
def test_an_invalid_trigger_raises_invalid_transition_with_reference_state_and_allowed(
    state: str, trigger: str
) -> None:
    machine = WorkflowMachine(COMPLAINT)
    case = new_case(COMPLAINT, london(2026, 3, 2), HOC_2024, ENGLAND, reference="CMP-2026-0042")
    case.state = state
    ctx = StepContext(case, case.state, {}, "alice", london(2026, 3, 3), HOC_2024, ENGLAND)

    with pytest.raises(InvalidTransitionError) as info:
        machine.fire(case, trigger, ctx)

    error = info.value
    assert error.reference == "CMP-2026-0042"
    assert error.state == state
    assert error.command == trigger
    assert error.allowed == tuple(ALLOWED[state])
    assert str(error) == (
        f"CMP-2026-0042 is {state}: cannot {trigger}; allowed: {', '.join(ALLOWED[state])}"
    )
    assert case.state == state


def test_a_guard_refusal_raises_with_the_guards_reason_and_leaves_the_state_unchanged() -> None:
    machine = WorkflowMachine(COMPLAINT)
    case = new_case(COMPLAINT, london(2026, 3, 2), HOC_2024, ENGLAND)
    case.state = "received"
    ctx = StepContext(
        case, case.state, {"desired_outcome": "x"}, "alice", london(2026, 3, 3), HOC_2024, ENGLAND
    )

    with pytest.raises(RefusedError) as info:
        machine.fire(case, "acknowledge", ctx)

    assert info.value.command == "acknowledge"
    assert "understanding" in info.value.reason
    assert case.state == "received"
    assert case.records == {}
    # one line: the case, its state, why, and what the state accepts
    allowed = tuple(machine.allowed("received"))
    assert (info.value.state, info.value.allowed) == ("received", allowed)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{case.reference} is received: cannot acknowledge: ")
    assert message.endswith("; allowed: " + ", ".join(machine.allowed("received")))


def test_fire_moves_the_state_and_returns_the_step_it_ran() -> None:
    machine = WorkflowMachine(COMPLAINT)
    case = new_case(COMPLAINT, london(2026, 3, 2), HOC_2024, ENGLAND)
    case.state = "received"
    ctx = StepContext(case, case.state, ACK, "alice", london(2026, 3, 3), HOC_2024, ENGLAND)

    step = machine.fire(case, "acknowledge", ctx)

    assert step is COMPLAINT.step("acknowledge", "received")
    assert case.state == "stage1"


# -- one machine per workflow ---------------------------------------------------------------------


def test_the_machine_holds_no_cases_after_firing_so_one_machine_serves_every_case() -> None:
    machine = WorkflowMachine(COMPLAINT)
    first = Journey.open()
    second = Journey.open(reference="CMP-TEST-0002")

    for journey in (first, second):
        apply_step(
            machine,
            journey.case,
            "acknowledge",
            ACK,
            actor="alice",
            at=london(2026, 3, 3),
            now=london(2026, 3, 3),
            policy=HOC_2024,
            calendar=ENGLAND,
        )
    apply_step(
        machine,
        second.case,
        "escalate",
        {},
        actor="intake",
        at=london(2026, 3, 4),
        now=london(2026, 3, 4),
        policy=HOC_2024,
        calendar=ENGLAND,
    )

    assert machine._machine.models == []
    assert first.case.state == "stage1"
    assert second.case.state == "escalation_requested"


# -- definition validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"steps": (_step("go", ("a",), "b"), _step("go", ("a",), None))},
            "tiny: two go steps from a",
        ),
        ({"steps": (_step("go", ("a", "c"), "b"),)}, "tiny: step go from unknown state c"),
        ({"steps": (_step("go", ("a",), "z"),)}, "tiny: step go to unknown state z"),
        ({"initial": "start"}, "tiny: unknown initial state start"),
    ],
    ids=["duplicate-trigger-and-source", "unknown-source", "unknown-dest", "unknown-initial"],
)
def test_a_definition_with_duplicate_steps_or_unknown_states_is_rejected(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _definition(**overrides)


def test_a_definition_with_an_unknown_final_state_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown"):
        _definition(final_states=frozenset({"b", "finished"}))


def test_the_same_trigger_from_different_states_is_allowed() -> None:
    definition = _definition(
        states=("a", "b", "c"),
        steps=(_step("go", ("a",), "b"), _step("go", ("b",), "c")),
        final_states=frozenset({"c"}),
    )

    assert definition.step("go", "b") is definition.steps[1]
    assert definition.open_states == ("a", "b")


# -- mermaid --------------------------------------------------------------------------------------


@pytest.mark.parametrize("definition", [COMPLAINT, DISSATISFACTION], ids=lambda d: d.name)
def test_the_mermaid_diagram_shows_every_state_changing_transition_and_no_internal_step(
    definition: WorkflowDefinition,
) -> None:
    diagram = WorkflowMachine(definition).mermaid()
    lines = diagram.splitlines()

    assert lines[0] == "stateDiagram-v2"
    assert f"    [*] --> {definition.initial}" in lines
    for step in definition.steps:
        for source in step.sources:
            line = f"    {source} --> {step.dest}: {step.trigger}"
            assert (line in lines) is (step.dest is not None)
    for state in definition.final_states:
        assert f"    {state} --> [*]" in lines
    assert "contact" not in diagram


# -- a third workflow, no engine change -----------------------------------------------------------

REPAIRS_POLICY = parse_policy_text(
    """
id = "repairs-test"
version = 1
name = "Repairs test policy"

[clocks.fix]
days = 3
starts_at = "reported"
stops_at = "fixed"
extension_cap = 5

[[contact_levels]]
days = 3
level = "contact-due"
action = "Call the resident."
""",
    "repairs-test.toml",
)


def _what_recorded(ctx: StepContext) -> str | None:
    return None if str(ctx.payload.get("what", "")).strip() else "say what was fixed"


def _record_fix(ctx: StepContext) -> dict[str, Any]:
    ctx.case.records["fix"] = ctx.payload["what"]
    return {"what": ctx.payload["what"]}


REPAIRS = WorkflowDefinition(
    name="repairs",
    reference_prefix="REP",
    states=("reported", "fixed"),
    initial="reported",
    initial_milestone="reported",
    final_states=frozenset({"fixed"}),
    steps=(
        Step(
            "fix",
            ("reported",),
            "fixed",
            "fixed",
            "The repair is done.",
            milestone="fixed",
            guards=(_what_recorded,),
            effect=_record_fix,
            contacts_resident=True,
            takes=("what",),
        ),
        *common_steps(("reported",)),
    ),
    clocks=("fix",),
    receipt_milestones=frozenset({"reported"}),
)


def test_a_third_workflow_runs_through_apply_step_without_touching_engine_code() -> None:
    machine = WorkflowMachine(REPAIRS)
    case = new_case(REPAIRS, london(2026, 3, 2), REPAIRS_POLICY, ENGLAND, reference="REP-1")

    def run(trigger: str, payload: dict[str, Any], day: int) -> Any:
        at = london(2026, 3, day)
        return apply_step(
            machine,
            case,
            trigger,
            payload,
            actor="fixer",
            at=at,
            now=at,
            policy=REPAIRS_POLICY,
            calendar=ENGLAND,
        )

    open_case(
        REPAIRS,
        case,
        actor="intake",
        now=london(2026, 3, 2),
        policy=REPAIRS_POLICY,
        calendar=ENGLAND,
        data={},
    )
    # Reported Mon 2 March: Tue 3, Wed 4, Thu 5 -> fix due Thursday 5 March.
    assert case.state == "reported"
    assert case.due_on("fix") == date(2026, 3, 5)
    assert machine.allowed("reported") == ["fix", *COMMON]

    run("contact", {"direction": "outbound", "channel": "phone"}, 3)
    run("extend", {"clock": "fix", "days": 2, "reason": "Part on order."}, 3)
    # Two more working days: Fri 6 (4), Mon 9 (5).
    assert case.due_on("fix") == date(2026, 3, 9)
    with pytest.raises(RefusedError, match="say what was fixed"):
        run("fix", {}, 4)
    event = run("fix", {"what": "New washer fitted."}, 6)

    assert case.state == "fixed"
    assert not case.is_open
    assert case.clocks["fix"].stopped_on == date(2026, 3, 6)
    assert case.clocks["fix"].stop_reason == "fixed"
    assert not case.clocks["fix"].breached(date(2026, 3, 31))
    assert case.records["fix"] == "New washer fitted."
    assert event.kind == "fixed"
    assert [e.kind for e in case.pending_events] == [
        "opened",
        "contact_recorded",
        "extended",
        "fixed",
    ]
    assert machine.allowed("fixed") == []
    assert machine._machine.models == []

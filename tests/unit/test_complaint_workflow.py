"""The complaint workflow in memory: every transition, every refusal, hand-computed deadlines.

Dates in comments count working days as the product does: the start date is day 0 and a deadline
of N working days is the N-th working day strictly after it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from workflow_support import (
    ACK,
    CONTACT,
    DECLINE,
    ENGLAND,
    HOC_2022,
    HOC_2024,
    NOT_UPHELD,
    SCOTLAND,
    SPSO,
    STAGE1_HANDLER,
    STAGE2_ACK,
    STAGE2_HANDLER,
    UPHELD,
    Journey,
    action,
    complaint_in,
    cutoff_calendar,
    london,
    machine_for,
)

from engine.errors import InvalidTransitionError, RefusedError, ValidationError
from sla.errors import InvalidDateError
from workflows.complaint import COMPLAINT, FINAL, OPEN

MACHINE = machine_for(COMPLAINT)
ALL_TRIGGERS = tuple(dict.fromkeys(step.trigger for step in COMPLAINT.steps))
INTERNAL_TRIGGERS = tuple(
    dict.fromkeys(s.trigger for s in COMPLAINT.steps if s.dest is None and "stage1" in s.sources)
)

REFER = {"ombudsman_reference": "HOS-2026-0001"}
WITHDRAW = {"reason": "The resident says the repair is now done."}

# (source, trigger, payload, actor, destination): every state-changing step of the workflow.
TRANSITIONS: list[tuple[str, str, dict[str, Any], str, str]] = [
    ("received", "acknowledge", ACK, STAGE1_HANDLER, "stage1"),
    ("escalation_requested", "acknowledge", STAGE2_ACK, STAGE2_HANDLER, "stage2"),
    ("stage1", "respond", UPHELD, STAGE1_HANDLER, "stage1_responded"),
    ("stage2", "respond", UPHELD, STAGE2_HANDLER, "stage2_responded"),
    ("stage1", "escalate", {}, "intake", "escalation_requested"),
    ("stage1_responded", "escalate", {}, "intake", "escalation_requested"),
    ("stage1_responded", "close", {}, STAGE1_HANDLER, "closed"),
    ("stage2_responded", "close", {}, STAGE2_HANDLER, "closed"),
    ("received", "decline", DECLINE, STAGE1_HANDLER, "declined"),
    ("escalation_requested", "decline", DECLINE, STAGE2_HANDLER, "declined"),
    *[(state, "withdraw", WITHDRAW, "intake", "withdrawn") for state in OPEN],
    *[
        (state, "refer", REFER, "intake", "referred_to_ombudsman")
        for state in (
            "stage1_responded",
            "escalation_requested",
            "stage2",
            "stage2_responded",
            "closed",
            "declined",
        )
    ],
]


def _refused(journey: Journey, trigger: str, payload: dict[str, Any], **kwargs: Any) -> str:
    """Run a command that must be refused; check nothing changed; return the reason."""
    state, events = journey.state, len(journey.case.pending_events)
    milestones = dict(journey.case.milestones)
    with pytest.raises(RefusedError) as info:
        journey.run(trigger, payload, **kwargs)
    assert info.value.command == trigger
    assert info.value.reference == journey.case.reference
    assert journey.state == state
    assert len(journey.case.pending_events) == events
    assert journey.case.milestones == milestones
    return info.value.reason


# -- every transition -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "trigger", "payload", "actor", "dest"),
    TRANSITIONS,
    ids=[f"{t[1]}-from-{t[0]}" for t in TRANSITIONS],
)
def test_every_state_changing_step_moves_the_case_to_its_destination(
    source: str, trigger: str, payload: dict[str, Any], actor: str, dest: str
) -> None:
    journey = complaint_in(source)

    event = journey.run(trigger, payload, actor=actor)

    step = COMPLAINT.step(trigger, source)
    assert step is not None
    assert journey.state == dest
    assert event.kind == step.event
    assert journey.case.pending_events[-1] is event
    assert event.before["state"] == source
    assert event.after["state"] == dest
    assert journey.case.is_open is (dest not in FINAL)


def test_the_transition_table_covers_every_state_changing_step_of_the_definition() -> None:
    declared = {
        (source, step.trigger, step.dest)
        for step in COMPLAINT.steps
        if step.dest is not None
        for source in step.sources
    }

    assert {(t[0], t[1], t[4]) for t in TRANSITIONS} == declared


@pytest.mark.parametrize("state", OPEN)
def test_the_shared_steps_run_in_every_open_state_without_changing_it(state: str) -> None:
    journey = complaint_in(state)
    owner = "dave"  # never a Stage 1 handler, so allowed at Stage 2 too

    journey.run("contact", CONTACT)
    journey.run("assign", {"owner": owner})
    journey.run("add_action", action())
    journey.run("complete_action", {"number": 1})
    journey.run("agree_updates", {"every": 5})

    assert journey.state == state
    assert journey.case.owner == owner
    assert journey.case.contact_interval_days == 5
    assert journey.case.actions[0].done_by == STAGE1_HANDLER
    assert [e.kind for e in journey.events[-5:]] == [
        "contact_recorded",
        "assigned",
        "action_added",
        "action_completed",
        "update_interval_agreed",
    ]


@pytest.mark.parametrize("state", COMPLAINT.states)
def test_every_command_a_state_does_not_accept_is_an_invalid_transition(state: str) -> None:
    journey = complaint_in(state)
    allowed = MACHINE.allowed(state)

    for trigger in ALL_TRIGGERS:
        if trigger in allowed:
            continue
        with pytest.raises(InvalidTransitionError) as info:
            journey.run(trigger, {})
        assert info.value.state == state
        assert info.value.command == trigger
        assert info.value.allowed == tuple(allowed)
        assert journey.state == state


def test_allowed_commands_follow_the_code_stage_by_stage() -> None:
    assert MACHINE.allowed("received")[:3] == ["acknowledge", "decline", "withdraw"]
    assert "escalate" not in MACHINE.allowed("received")
    assert MACHINE.allowed("stage1")[:2] == ["respond", "escalate"]
    assert MACHINE.allowed("closed") == ["refer", "record_survey"]
    assert MACHINE.allowed("declined") == ["refer"]
    assert MACHINE.allowed("withdrawn") == []
    assert MACHINE.allowed("referred_to_ombudsman") == []
    for state in OPEN:
        assert set(INTERNAL_TRIGGERS) <= set(MACHINE.allowed(state))


def test_a_finished_case_says_no_command_is_allowed() -> None:
    journey = complaint_in("withdrawn")

    with pytest.raises(InvalidTransitionError, match=r"none \(the case is finished\)"):
        journey.run("contact", CONTACT)


# -- acknowledge (Stage 1) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({}, "understanding"),
        ({"desired_outcome": "A new tap."}, "understanding"),
        ({"understanding": "   ", "desired_outcome": "A new tap."}, "understanding"),
        ({"understanding": "The tap leaks."}, "outcome"),
        ({"understanding": "The tap leaks.", "desired_outcome": ""}, "outcome"),
    ],
)
def test_acknowledge_without_understanding_or_outcome_is_refused_naming_what_is_missing(
    payload: dict[str, Any], fragment: str
) -> None:
    journey = Journey.open()

    reason = _refused(journey, "acknowledge", payload)

    assert fragment in reason
    assert journey.clocks["acknowledge"].running


def test_acknowledge_accepts_the_understanding_recorded_when_the_case_was_opened() -> None:
    journey = Journey.open(records={"stage1": dict(ACK)})

    journey.run("acknowledge", {})

    assert journey.state == "stage1"


def test_stage_1_acknowledgement_stops_its_clock_starts_the_response_clock_names_handler() -> None:
    journey = Journey.open()  # received Monday 2 March 2026
    at = london(2026, 3, 3, 11)

    event = journey.run("acknowledge", ACK, at=at)

    case = journey.case
    assert journey.state == "stage1"
    assert case.milestones["acknowledged"] == at
    # Acknowledge: Mon 2 Mar is day 0; 5 WD -> Tue 3, Wed 4, Thu 5, Fri 6, Mon 9 -> 9 March.
    assert journey.clocks["acknowledge"].due_on == date(2026, 3, 9)
    assert journey.clocks["acknowledge"].stopped_on == date(2026, 3, 3)
    assert journey.clocks["acknowledge"].stop_reason == "acknowledged"
    # Respond (2024 Code 6.3: from the actual acknowledgement): Tue 3 Mar is day 0;
    # Wed 4 (1), Thu 5 (2), Fri 6 (3), Mon 9 (4), Tue 10 (5), Wed 11 (6), Thu 12 (7), Fri 13 (8),
    # Mon 16 (9), Tue 17 (10) -> 17 March.
    assert journey.clocks["respond"].started_on == date(2026, 3, 3)
    assert journey.clocks["respond"].due_on == date(2026, 3, 17)
    assert journey.clocks["respond"].running
    assert case.records["stage1"] == ACK
    assert case.records["stage1_handlers"] == [STAGE1_HANDLER]
    assert case.owner == STAGE1_HANDLER
    assert case.last_contact_at == at
    assert event.data["handler"] == STAGE1_HANDLER
    assert event.after["deadlines"]["respond"] == "2026-03-17"


def test_acknowledge_names_the_handler_given_rather_than_the_actor() -> None:
    journey = Journey.open()

    journey.run("acknowledge", {**ACK, "handler": "bob"}, actor="coordinator")

    assert journey.case.records["stage1_handlers"] == ["bob"]
    assert journey.case.owner == "bob"


# -- respond --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"reasons": "Because."}, "decision must be one of"),
        ({"decision": "maybe", "reasons": "Because."}, "decision must be one of"),
        ({"decision": "not-upheld"}, "reasons"),
        ({"decision": "not-upheld", "reasons": "  "}, "reasons"),
        ({"decision": "upheld", "reasons": "Missed visits."}, "avoidable"),
        ({"decision": "partially-upheld", "reasons": "One visit missed."}, "avoidable"),
        ({"decision": "upheld", "reasons": "Missed.", "avoidable": "yes"}, "avoidable"),
        ({**NOT_UPHELD, "compensation_pence": -1}, "compensation"),
        ({**NOT_UPHELD, "compensation_pence": "50"}, "compensation"),
        ({**NOT_UPHELD, "compensation_pence": True}, "compensation"),
        ({**NOT_UPHELD, "actions": ["fix the tap"]}, "action 1 is malformed"),
        ({**NOT_UPHELD, "actions": [{**action(), "owner": ""}]}, "description and an owner"),
        ({**NOT_UPHELD, "actions": [{**action(), "description": " "}]}, "description and an owner"),
        ({**NOT_UPHELD, "actions": [action(), {**action(), "due_on": "2026-04-30"}]}, "action 2"),
    ],
)
def test_respond_is_refused_without_a_decision_reasons_avoidability_or_valid_actions(
    payload: dict[str, Any], fragment: str
) -> None:
    journey = complaint_in("stage1")

    reason = _refused(journey, "respond", payload)

    assert fragment in reason
    assert journey.clocks["respond"].running
    assert journey.case.actions == []


def test_a_not_upheld_response_needs_no_avoidability() -> None:
    journey = complaint_in("stage1")

    journey.run("respond", NOT_UPHELD)

    assert journey.state == "stage1_responded"


def test_a_stage_1_response_records_the_decision_adds_its_actions_and_stops_the_clock() -> None:
    journey = complaint_in("stage1")  # acknowledged Tue 3 March: respond due 17 March
    at = london(2026, 3, 10, 15)
    actions = [action("Replace the tap"), action("Apologise in writing", date(2026, 3, 20))]

    event = journey.run("respond", {**UPHELD, "actions": actions}, at=at)

    case = journey.case
    assert journey.state == "stage1_responded"
    assert journey.clocks["respond"].stopped_on == date(2026, 3, 10)
    assert journey.clocks["respond"].stop_reason == "responded"
    assert not journey.clocks["respond"].breached(date(2026, 12, 31))
    assert [(a.number, a.description, a.owner) for a in case.actions] == [
        (1, "Replace the tap", "repairs-team"),
        (2, "Apologise in writing", "repairs-team"),
    ]
    response = case.records["responses"]["1"]
    assert response["decision"] == "upheld"
    assert response["avoidable"] is True
    assert response["compensation_pence"] == 5_000
    assert response["complaint_definition"] == ACK["understanding"]
    assert "Stage 2" in response["escalation_route"]
    assert event.data == response
    assert case.last_contact_at == at
    assert case.is_open


# -- escalate -------------------------------------------------------------------------------------


def test_escalation_during_stage_1_work_ends_the_stage_1_clock_and_starts_stage_2() -> None:
    journey = complaint_in("stage1")  # acknowledged Tue 3 March: respond due 17 March

    # Wednesday 4 March; no reason is asked for (Code 6.12).
    journey.run("escalate", {}, actor="intake", at=london(2026, 3, 4))

    respond = journey.clocks["respond"]
    assert journey.state == "escalation_requested"
    assert journey.case.milestone_dates["escalation_requested"] == date(2026, 3, 4)
    assert respond.stopped_on == date(2026, 3, 4)
    assert respond.stop_reason == "escalation_requested"
    assert respond.due_on == date(2026, 3, 17)
    # Stage 2 acknowledgement: Wed 4 Mar is day 0; Thu 5, Fri 6, Mon 9, Tue 10, Wed 11 -> 11 March.
    stage2 = journey.clocks["stage2_acknowledge"]
    assert stage2.started_on == date(2026, 3, 4)
    assert stage2.due_on == date(2026, 3, 11)
    assert stage2.running
    assert "stage2_respond" not in journey.clocks  # hoc-2024: starts at the Stage 2 acknowledgement
    assert [name for name, c in journey.clocks.items() if c.running] == ["stage2_acknowledge"]


def test_escalation_after_the_stage_1_response_keeps_the_response_on_record() -> None:
    journey = complaint_in("stage1_responded")

    journey.run("escalate", {"note": "Resident phoned."}, actor="intake")

    assert journey.state == "escalation_requested"
    assert journey.clocks["respond"].stop_reason == "responded"
    assert journey.clocks["stage2_acknowledge"].running


def test_escalating_from_received_is_invalid_naming_the_state_and_allowed_commands() -> None:
    journey = Journey.open()

    with pytest.raises(InvalidTransitionError) as info:
        journey.run("escalate", {})

    error = info.value
    assert error.reference == journey.case.reference
    assert error.state == "received"
    assert error.command == "escalate"
    assert error.allowed == tuple(MACHINE.allowed("received"))
    message = str(error)
    assert "received" in message
    assert "escalate" in message
    for command in ("acknowledge", "decline", "withdraw", "contact", "extend"):
        assert command in message
    assert journey.state == "received"


@pytest.mark.parametrize("source", ["stage1", "stage1_responded"])
def test_the_escalation_event_records_the_state_the_resident_escalated_from(source: str) -> None:
    journey = complaint_in(source)

    event = journey.run("escalate", {}, actor="intake")

    assert event.data["from_state"] == source


# -- acknowledge (Stage 2) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"desired_outcome": "Compensation.", "handler": STAGE2_HANDLER}, "understanding"),
        ({"understanding": "Disputes.", "handler": STAGE2_HANDLER}, "outcome"),
        (
            {"understanding": " ", "desired_outcome": " ", "handler": STAGE2_HANDLER},
            "understanding",
        ),
    ],
)
def test_stage_2_acknowledge_requires_its_own_understanding_and_outcome(
    payload: dict[str, Any], fragment: str
) -> None:
    journey = complaint_in("escalation_requested")

    reason = _refused(journey, "acknowledge", payload, actor=STAGE2_HANDLER)

    assert fragment in reason
    assert "Stage 2" in reason


@pytest.mark.parametrize(
    ("payload", "actor"),
    [
        ({**STAGE2_ACK, "handler": STAGE1_HANDLER}, STAGE2_HANDLER),
        ({k: v for k, v in STAGE2_ACK.items() if k != "handler"}, STAGE1_HANDLER),
    ],
    ids=["named-handler", "acting-handler"],
)
def test_stage_2_acknowledge_refuses_the_stage_1_handler(
    payload: dict[str, Any], actor: str
) -> None:
    journey = complaint_in("escalation_requested")

    reason = _refused(journey, "acknowledge", payload, actor=actor)

    assert STAGE1_HANDLER in reason
    assert "6.13" in reason
    assert journey.clocks["stage2_acknowledge"].running


def test_stage_2_acknowledge_refuses_whoever_sent_the_stage_1_response() -> None:
    journey = Journey.open()
    journey.run("acknowledge", ACK, actor=STAGE1_HANDLER)
    journey.run("respond", NOT_UPHELD, actor="bob")
    journey.run("escalate", {}, actor="intake")

    reason = _refused(journey, "acknowledge", {**STAGE2_ACK, "handler": "bob"})

    assert "6.13" in reason
    assert journey.case.records["stage1_handlers"] == [STAGE1_HANDLER, "bob"]


def test_the_stage_2_response_refuses_the_stage_1_handler() -> None:
    journey = complaint_in("stage2")

    reason = _refused(journey, "respond", NOT_UPHELD, actor=STAGE1_HANDLER)

    assert STAGE1_HANDLER in reason
    assert "6.13" in reason
    assert journey.state == "stage2"
    assert journey.clocks["stage2_respond"].running
    journey.run("respond", NOT_UPHELD, actor=STAGE2_HANDLER)
    assert journey.state == "stage2_responded"


@pytest.mark.parametrize("during", ["stage1", "stage1_responded"])
def test_whoever_owned_the_case_during_stage_1_cannot_handle_stage_2(during: str) -> None:
    journey = complaint_in(during)
    journey.run("assign", {"owner": "erin"})
    journey.run("assign", {"owner": "frank"})
    journey.run("escalate", {}, actor="intake")

    for owner in ("erin", "frank"):
        reason = _refused(journey, "acknowledge", {**STAGE2_ACK, "handler": owner})
        assert owner in reason and "6.13" in reason
    assert {"erin", "frank"} <= set(journey.case.records["stage1_handlers"])


def test_the_owner_kept_through_stage_1_is_a_stage_1_handler_too() -> None:
    journey = Journey.open()
    journey.run("assign", {"owner": "erin"})
    journey.run("acknowledge", {**ACK, "handler": STAGE1_HANDLER}, actor=STAGE1_HANDLER)

    assert journey.case.records["stage1_handlers"] == [STAGE1_HANDLER, "erin"]
    journey.run("escalate", {}, actor="intake")
    reason = _refused(journey, "acknowledge", {**STAGE2_ACK, "handler": "erin"})
    assert "erin handled Stage 1" in reason


def test_stage_2_acknowledge_by_someone_independent_starts_the_stage_2_response_clock() -> None:
    journey = complaint_in("escalation_requested")  # escalation requested Thu 5 March

    event = journey.run("acknowledge", STAGE2_ACK, actor="coordinator", at=london(2026, 3, 6))

    case = journey.case
    assert journey.state == "stage2"
    assert case.owner == STAGE2_HANDLER
    assert case.records["stage2_handler"] == STAGE2_HANDLER
    assert event.data["stage"] == 2
    assert journey.clocks["stage2_acknowledge"].stop_reason == "stage2_acknowledged"
    # Stage 2 response (6.14, 20 WD from the acknowledgement): Fri 6 Mar is day 0; 9-13 Mar (1-5),
    # 16-20 (6-10), 23-27 (11-15), Mon 30 Mar-Thu 2 Apr (16-19), [Good Friday 3, Easter Monday 6],
    # Tue 7 April (20).
    assert journey.clocks["stage2_respond"].due_on == date(2026, 4, 7)
    assert case.last_contact_at == london(2026, 3, 6)


@pytest.mark.parametrize("state", ["escalation_requested", "stage2", "stage2_responded"])
def test_a_stage_2_case_cannot_be_assigned_to_the_stage_1_handler(state: str) -> None:
    journey = complaint_in(state)

    reason = _refused(journey, "assign", {"owner": STAGE1_HANDLER})

    assert "6.13" in reason
    journey.run("assign", {"owner": "dave"})
    assert journey.case.owner == "dave"


def test_a_stage_1_case_may_be_reassigned_to_the_stage_1_handler() -> None:
    journey = complaint_in("stage1")

    journey.run("assign", {"owner": "bob"})
    journey.run("assign", {"owner": STAGE1_HANDLER})

    assert journey.case.owner == STAGE1_HANDLER


def test_assign_needs_an_owner() -> None:
    journey = complaint_in("stage1")

    assert "owner" in _refused(journey, "assign", {"owner": "  "})


# -- close, actions -------------------------------------------------------------------------------


def test_close_is_refused_while_actions_are_outstanding_and_allowed_once_they_are_done() -> None:
    journey = complaint_in("stage1")
    journey.run("respond", {**UPHELD, "actions": [action(), action("Apologise")]})

    reason = _refused(journey, "close", {})
    assert "2 action(s) still outstanding (1, 2)" in reason

    journey.run("complete_action", {"number": 1})
    assert "1 action(s) still outstanding (2)" in _refused(journey, "close", {})

    done_at = london(2026, 3, 20)
    journey.run("complete_action", {"number": 2}, actor="bob", at=done_at)
    closed_at = london(2026, 3, 23)
    event = journey.run("close", {"note": "All done."}, at=closed_at)

    assert journey.state == "closed"
    assert not journey.case.is_open
    assert journey.case.closed_at == closed_at
    assert journey.case.actions[1].done_at == done_at
    assert journey.case.actions[1].done_by == "bob"
    assert event.data == {"note": "All done."}
    assert not any(c.running for c in journey.clocks.values())


def test_complete_action_is_refused_for_an_unknown_or_finished_action() -> None:
    journey = complaint_in("stage1")
    journey.run("add_action", action())

    assert "no action 7" in _refused(journey, "complete_action", {"number": 7})
    journey.run("complete_action", {"number": 1})
    assert "already done" in _refused(journey, "complete_action", {"number": 1})


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({**action(), "description": ""}, "description"),
        ({**action(), "owner": None}, "owner"),
        ({**action(), "due_on": "2026-04-30"}, "due date"),
        ({**action(), "due_on": datetime(2026, 4, 30, tzinfo=UTC)}, "due date"),
    ],
)
def test_add_action_needs_a_description_an_owner_and_a_due_date(
    payload: dict[str, Any], fragment: str
) -> None:
    journey = complaint_in("stage1")

    assert fragment in _refused(journey, "add_action", payload)


# -- decline --------------------------------------------------------------------------------------


def test_decline_on_a_configured_exclusion_with_a_reason_records_the_ombudsman_right() -> None:
    journey = Journey.open()
    at = london(2026, 3, 4)

    event = journey.run("decline", DECLINE, at=at)

    record = journey.case.records["declined"]
    assert journey.state == "declined"
    assert not journey.case.is_open
    assert record["exclusion"] == "legal-proceedings"
    assert record["exclusion_description"] == HOC_2024.exclusion("legal-proceedings").description
    assert record["reason"] == DECLINE["reason"]
    assert record["ombudsman_right_explained"] is True
    assert record["refused"] == "complaint"
    assert event.data == record
    assert journey.clocks["acknowledge"].stopped_on == date(2026, 3, 4)
    assert journey.clocks["acknowledge"].stop_reason == "declined"
    assert journey.case.last_contact_at == at


@pytest.mark.parametrize(
    "exclusion", ["older-than-6-months", "Legal-Proceedings", "", None, 3], ids=repr
)
def test_decline_on_an_exclusion_the_policy_does_not_configure_is_refused_listing_them(
    exclusion: Any,
) -> None:
    journey = Journey.open()

    reason = _refused(journey, "decline", {"exclusion": exclusion, "reason": "Too old."})

    assert "older-than-12-months, legal-proceedings, previously-considered" in reason
    assert repr(exclusion) in reason


def test_the_2022_policy_configures_its_own_six_month_exclusion() -> None:
    journey = Journey.open(policy=HOC_2022, received_at=london(2023, 6, 1))

    journey.run("decline", {"exclusion": "older-than-6-months", "reason": "Issue from 2022."})

    assert journey.case.records["declined"]["exclusion"] == "older-than-6-months"


def test_decline_without_a_reason_for_the_resident_is_refused() -> None:
    journey = Journey.open()

    reason = _refused(journey, "decline", {"exclusion": "legal-proceedings", "reason": " "})

    assert "explain the refusal" in reason


def test_an_escalation_request_can_be_declined_on_a_configured_exclusion() -> None:
    journey = complaint_in("escalation_requested")

    journey.run("decline", {**DECLINE, "exclusion": "previously-considered"}, actor=STAGE2_HANDLER)

    assert journey.state == "declined"
    assert journey.case.records["declined"]["ombudsman_right_explained"] is True
    assert journey.clocks["stage2_acknowledge"].stop_reason == "declined"
    assert not any(c.running for c in journey.clocks.values())


def test_declining_an_escalation_request_records_that_the_escalation_was_refused() -> None:
    journey = complaint_in("escalation_requested")

    event = journey.run("decline", DECLINE, actor=STAGE2_HANDLER)

    assert event.data["refused"] == "escalation"


# -- withdraw, refer ------------------------------------------------------------------------------


@pytest.mark.parametrize("state", OPEN)
def test_withdraw_from_each_open_state_ends_every_clock(state: str) -> None:
    journey = complaint_in(state)
    running = {name for name, c in journey.clocks.items() if c.running}
    at = journey.last_at + timedelta(days=1)

    journey.run("withdraw", WITHDRAW, actor="intake", at=at)

    assert journey.state == "withdrawn"
    assert not journey.case.is_open
    assert journey.case.closed_at == at
    assert not any(c.running for c in journey.clocks.values())
    for name in running:
        assert journey.clocks[name].stopped_on == at.date()
        assert journey.clocks[name].stop_reason == "withdrawn"


@pytest.mark.parametrize("source", ["stage2_responded", "closed"])
def test_refer_to_the_ombudsman_after_the_final_response_or_after_closure(source: str) -> None:
    journey = complaint_in(source)
    closed_at = journey.case.closed_at

    journey.run("refer", REFER, actor="intake")

    assert journey.state == "referred_to_ombudsman"
    assert journey.case.records["ombudsman"] == REFER
    assert not journey.case.is_open
    if source == "closed":
        assert journey.case.closed_at == closed_at  # closing date stays the original one


# -- extensions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "base_due", "extended_due"),
    [
        # England and Wales: Mon 23 Mar is day 0; Tue 24 (1), Wed 25 (2), Thu 26 (3), Fri 27 (4),
        # Mon 30 (5), Tue 31 (6), Wed 1 Apr (7), Thu 2 (8), [Good Friday 3, Easter Monday 6],
        # Tue 7 (9), Wed 8 (10); +5: Thu 9 (11), Fri 10 (12), Mon 13 (13), Tue 14 (14), Wed 15 (15).
        (ENGLAND, date(2026, 4, 8), date(2026, 4, 15)),
        # Scotland: Easter Monday is a working day; Thu 2 (8), [Good Friday 3], Mon 6 (9),
        # Tue 7 (10); +5: Wed 8, Thu 9, Fri 10, Mon 13, Tue 14 (15).
        (SCOTLAND, date(2026, 4, 7), date(2026, 4, 14)),
    ],
    ids=["england-and-wales", "scotland"],
)
def test_an_extension_within_the_cap_recomputes_the_due_date_on_the_working_day_calendar(
    calendar: Any, base_due: date, extended_due: date
) -> None:
    journey = Journey.open(received_at=london(2026, 3, 20), calendar=calendar)
    journey.run("acknowledge", ACK, at=london(2026, 3, 23))
    assert journey.due("respond") == base_due
    at = london(2026, 3, 26)

    event = journey.run(
        "extend", {"clock": "respond", "days": 5, "reason": "Awaiting a surveyor."}, at=at
    )

    assert journey.due("respond") == extended_due
    assert journey.clocks["respond"].extended_days == 5
    assert journey.clocks["respond"].base_days == 10
    assert event.data["previous_due_on"] == base_due.isoformat()
    assert event.data["new_due_on"] == extended_due.isoformat()
    assert event.data["beyond_cap"] is False
    assert event.data["notified_before_due"] is True
    assert journey.case.last_contact_at == at  # the resident is told of the extension
    assert journey.case.records["extensions"][0]["clock"] == "respond"


def test_several_extensions_are_allowed_up_to_the_cap_and_beyond_only_with_good_reason() -> None:
    journey = complaint_in("stage1")  # acknowledged Tue 3 March 2026; respond due Tue 17 March
    reason = "Specialist contractor needed."

    # 4 more: day 14 after Tue 3 Mar -> Wed 18 (11), Thu 19 (12), Fri 20 (13), Mon 23 (14).
    journey.run("extend", {"clock": "respond", "days": 4, "reason": reason})
    assert journey.due("respond") == date(2026, 3, 23)
    # 6 more, 10 in all (the cap): Tue 24 (15), Wed 25, Thu 26, Fri 27, Mon 30 (19), Tue 31 (20).
    journey.run("extend", {"clock": "respond", "days": 6, "reason": reason})
    assert journey.due("respond") == date(2026, 3, 31)

    refusal = _refused(journey, "extend", {"clock": "respond", "days": 1, "reason": reason})
    assert "total 11 working days" in refusal
    assert "cap of 10" in refusal
    assert "good reason" in refusal
    assert journey.due("respond") == date(2026, 3, 31)

    refusal = _refused(
        journey, "extend", {"clock": "respond", "days": 1, "reason": reason, "good_reason": True}
    )
    assert "in words" in refusal  # a flag is not a reason
    good = "The resident asked us to wait for their solicitor's report."
    event = journey.run(
        "extend", {"clock": "respond", "days": 1, "reason": reason, "good_reason": good}
    )
    # Day 21: Wed 1 April.
    assert journey.due("respond") == date(2026, 4, 1)
    assert event.data["beyond_cap"] is True
    assert event.data["good_reason"] == good
    assert [e["beyond_cap"] for e in journey.case.records["extensions"]] == [False, False, True]
    assert journey.clocks["respond"].extended_days == 11


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"clock": "respond", "days": 0, "reason": "x"}, "at least 1"),
        ({"clock": "respond", "days": -2, "reason": "x"}, "at least 1"),
        ({"clock": "respond", "days": True, "reason": "x"}, "at least 1"),
        ({"clock": "respond", "days": "5", "reason": "x"}, "at least 1"),
        ({"clock": "respond", "days": 2.5, "reason": "x"}, "at least 1"),
        ({"clock": "respond", "days": 5}, "needs a reason"),
        ({"clock": "respond", "days": 5, "reason": "  "}, "needs a reason"),
        ({"clock": "acknowledge", "days": 1, "reason": "x"}, "no running clock 'acknowledge'"),
        ({"clock": "stage2_respond", "days": 1, "reason": "x"}, "(running: respond)"),
        ({"days": 1, "reason": "x"}, "say which clock to extend"),
    ],
)
def test_extend_is_refused_without_a_running_clock_a_positive_whole_number_or_a_reason(
    payload: dict[str, Any], fragment: str
) -> None:
    journey = complaint_in("stage1")

    assert fragment in _refused(journey, "extend", payload)


def test_a_clock_the_policy_gives_no_extension_cap_cannot_be_extended_without_good_reason() -> None:
    journey = Journey.open()  # hoc-2024 acknowledge clock: extension_cap 0

    refusal = _refused(journey, "extend", {"clock": "acknowledge", "days": 1, "reason": "x"})

    assert "cap of 0" in refusal


def test_a_clock_with_no_cap_in_the_policy_extends_without_a_good_reason() -> None:
    journey = complaint_in("stage1", policy=SPSO)
    journey.run("escalate", {}, actor="intake")

    event = journey.run("extend", {"clock": "stage2_respond", "days": 30, "reason": "Complex."})

    assert event.data["beyond_cap"] is False
    assert journey.clocks["stage2_respond"].extended_days == 30


# -- contact and the countdown --------------------------------------------------------------------


def test_a_failed_contact_attempt_does_not_move_last_contact_but_a_made_one_does() -> None:
    journey = Journey.open()
    assert journey.case.last_contact_at is None

    event = journey.run("contact", {**CONTACT, "made": False}, at=london(2026, 3, 3))
    assert journey.case.last_contact_at is None
    assert event.data["made"] is False

    journey.run("contact", CONTACT, at=london(2026, 3, 4))
    assert journey.case.last_contact_at == london(2026, 3, 4)

    journey.run("contact", {**CONTACT, "made": False}, at=london(2026, 3, 5))
    assert journey.case.last_contact_at == london(2026, 3, 4)


def test_a_back_dated_contact_does_not_move_last_contact_backwards() -> None:
    journey = Journey.open()
    journey.run("contact", CONTACT, at=london(2026, 3, 4))

    journey.run("contact", CONTACT, at=london(2026, 3, 3), now=london(2026, 3, 5))

    assert journey.case.last_contact_at == london(2026, 3, 4)


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({**CONTACT, "direction": "sideways"}, "direction"),
        ({**CONTACT, "direction": None}, "direction"),
        ({**CONTACT, "channel": "carrier-pigeon"}, "channel"),
    ],
)
def test_contact_needs_a_known_direction_and_channel(
    payload: dict[str, Any], fragment: str
) -> None:
    journey = Journey.open()

    assert fragment in _refused(journey, "contact", payload)


def test_acknowledgements_and_responses_move_last_contact() -> None:
    journey = Journey.open()
    times = [london(2026, 3, d) for d in (3, 4, 5, 6, 9)]

    steps = [
        ("acknowledge", ACK, STAGE1_HANDLER),
        ("respond", NOT_UPHELD, STAGE1_HANDLER),
        ("escalate", {}, "intake"),
        ("acknowledge", STAGE2_ACK, STAGE2_HANDLER),
        ("respond", NOT_UPHELD, STAGE2_HANDLER),
    ]
    for (trigger, payload, actor), at in zip(steps, times, strict=True):
        journey.run(trigger, payload, actor=actor, at=at)
        if trigger != "escalate":
            assert journey.case.last_contact_at == at


@pytest.mark.parametrize("every", [1, 10, 60])
def test_agree_updates_records_an_interval_from_1_to_60_working_days(every: int) -> None:
    journey = complaint_in("stage1")

    event = journey.run("agree_updates", {"every": every, "note": "Fortnightly calls."})

    assert journey.case.contact_interval_days == every
    assert event.data == {"every": every, "note": "Fortnightly calls."}


@pytest.mark.parametrize("every", [0, 61, -1, True, "5", 2.5, None], ids=repr)
def test_agree_updates_refuses_an_interval_outside_1_to_60(every: Any) -> None:
    journey = complaint_in("stage1")

    assert "1 to 60" in _refused(journey, "agree_updates", {"every": every})
    assert journey.case.contact_interval_days is None


# -- receipt dates, cut-off, time checks ----------------------------------------------------------


def test_a_case_opened_today_but_received_three_weeks_ago_gets_deadlines_from_receipt() -> None:
    now = london(2026, 3, 25, 9)  # Wednesday 25 March 2026
    received = now - timedelta(weeks=3)  # Wednesday 4 March 2026

    journey = Journey.open(received_at=received, now=now)

    assert journey.opened.occurred_at == received
    assert journey.opened.recorded_at == now
    assert journey.case.milestone_dates["received"] == date(2026, 3, 4)
    # Wed 4 Mar is day 0: Thu 5, Fri 6, Mon 9, Tue 10, Wed 11 -> 11 March, long gone.
    acknowledge = journey.clocks["acknowledge"]
    assert acknowledge.started_on == date(2026, 3, 4)
    assert acknowledge.due_on == date(2026, 3, 11)
    assert acknowledge.breached(now.date())

    journey.run("acknowledge", ACK, at=now)

    assert journey.clocks["acknowledge"].breached(now.date())  # stays breached on record
    # The response clock runs from the actual (late) acknowledgement: Wed 25 Mar is day 0;
    # Thu 26 (1), Fri 27 (2), Mon 30 (3), Tue 31 (4), Wed 1 Apr (5), Thu 2 (6),
    # [Good Friday 3, Easter Monday 6], Tue 7 (7), Wed 8 (8), Thu 9 (9), Fri 10 (10).
    assert journey.due("respond") == date(2026, 4, 10)


@pytest.mark.parametrize(
    ("hour", "minute", "day0", "due"),
    [
        # Fri 5 June 2026 18:00 BST (17:00 UTC) is after the 17:00 London cut-off: day 0 is Mon 8
        # June; Tue 9 (1), Wed 10 (2), Thu 11 (3), Fri 12 (4), Mon 15 (5).
        (18, 0, date(2026, 6, 8), date(2026, 6, 15)),
        (17, 1, date(2026, 6, 8), date(2026, 6, 15)),
        # At or before the cut-off the Friday itself is day 0: Mon 8 .. Fri 12 (5).
        (17, 0, date(2026, 6, 5), date(2026, 6, 12)),
        (16, 59, date(2026, 6, 5), date(2026, 6, 12)),
    ],
)
def test_a_complaint_received_after_the_cut_off_counts_from_the_next_working_day(
    hour: int, minute: int, day0: date, due: date
) -> None:
    received = london(2026, 6, 5, hour, minute)

    journey = Journey.open(received_at=received, calendar=cutoff_calendar())

    assert journey.case.milestone_dates["received"] == day0
    assert journey.case.milestones["received"] == received
    assert journey.clocks["acknowledge"].started_on == day0
    assert journey.due("acknowledge") == due


def test_an_escalation_request_after_the_cut_off_also_counts_from_the_next_working_day() -> None:
    journey = Journey.open(received_at=london(2026, 5, 26), calendar=cutoff_calendar())
    journey.to("stage1_responded")

    journey.run("escalate", {}, actor="intake", at=london(2026, 6, 5, 18))

    # Day 0 is Mon 8 June; Stage 2 acknowledgement due five working days later, Mon 15 June.
    assert journey.case.milestone_dates["escalation_requested"] == date(2026, 6, 8)
    assert journey.clocks["stage2_acknowledge"].started_on == date(2026, 6, 8)
    assert journey.due("stage2_acknowledge") == date(2026, 6, 15)


def test_a_step_dated_in_the_future_is_a_validation_error() -> None:
    journey = complaint_in("stage1")
    now = london(2026, 3, 10, 12)

    with pytest.raises(ValidationError, match="in the future"):
        journey.run("respond", NOT_UPHELD, at=now + timedelta(hours=1), now=now)
    assert journey.state == "stage1"
    assert "responded" not in journey.case.milestones

    journey.run("respond", NOT_UPHELD, at=now + timedelta(minutes=4), now=now)  # clock skew
    assert journey.state == "stage1_responded"


def test_a_step_dated_before_the_case_was_received_is_a_validation_error() -> None:
    journey = Journey.open()

    with pytest.raises(ValidationError, match="before the case was received"):
        journey.run("acknowledge", ACK, at=journey.case.received_at - timedelta(minutes=1))
    assert journey.state == "received"


@pytest.mark.parametrize(
    ("state", "trigger", "payload"),
    [
        ("stage1_responded", "close", {}),  # dated before the response it closes
        ("stage1", "withdraw", {"reason": "Resolved informally."}),  # before the acknowledgement
        ("stage1_responded", "escalate", {}),
    ],
)
def test_a_change_of_state_cannot_be_dated_before_the_step_it_follows(
    state: str, trigger: str, payload: dict[str, Any]
) -> None:
    journey = complaint_in(state)
    latest = max(journey.case.milestones.values())
    with pytest.raises(ValidationError, match="is before the"):
        journey.run(trigger, payload, at=latest - timedelta(hours=1))
    assert journey.state == state
    journey.run(trigger, payload, at=latest + timedelta(hours=1))  # after it: accepted


def test_an_internal_step_may_be_back_dated_before_the_last_state_change() -> None:
    """A call made yesterday is recorded after today's acknowledgement: that is fine."""
    journey = complaint_in("stage1")
    acknowledged = journey.case.milestones["acknowledged"]
    journey.run("contact", CONTACT, at=acknowledged - timedelta(hours=2))
    assert journey.state == "stage1"


def test_an_extension_cannot_predate_its_clock_or_promise_a_date_already_past() -> None:
    journey = complaint_in("stage1")  # acknowledged Tue 3 March 2026; respond due Tue 17 March
    reason = "Waiting for a survey."
    before_clock = london(2026, 3, 2, 16)  # the day before the response clock started
    refusal = _refused(
        journey, "extend", {"clock": "respond", "days": 2, "reason": reason}, at=before_clock
    )
    assert "before its clock started (2026-03-03)" in refusal
    # On Fri 27 March, 2 more days (Thu 19 March) would already be past.
    late = london(2026, 3, 27, 10)
    refusal = _refused(
        journey, "extend", {"clock": "respond", "days": 2, "reason": reason}, at=late
    )
    assert "2026-03-19 would already be past on 2026-03-27" in refusal
    journey.run("extend", {"clock": "respond", "days": 10, "reason": reason}, at=late)
    assert journey.due("respond") == date(2026, 3, 31)


def test_a_case_cannot_be_received_in_the_future() -> None:
    now = london(2026, 3, 2, 9)

    with pytest.raises(ValidationError, match="in the future"):
        Journey.open(received_at=now + timedelta(days=1), now=now)


def test_a_step_time_without_a_timezone_is_refused() -> None:
    journey = Journey.open()

    with pytest.raises(InvalidDateError, match="no timezone"):
        journey.run("acknowledge", ACK, at=datetime(2026, 3, 3, 10), now=london(2026, 3, 3, 11))


# -- deadlines across Christmas and New Year ------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "expected"),
    [
        (
            ENGLAND,
            {
                # Received Fri 19 Dec 2025 (day 0). Bank holidays: Thu 25, Fri 26 Dec, Thu 1 Jan.
                # Acknowledge 5 WD: Mon 22 (1), Tue 23 (2), Wed 24 (3), [25, 26, weekend],
                # Mon 29 (4), Tue 30 (5).
                "acknowledge": date(2025, 12, 30),
                # Respond 10 WD from the acknowledgement on Mon 22 Dec: Tue 23 (1), Wed 24 (2),
                # Mon 29 (3), Tue 30 (4), Wed 31 (5), [Thu 1 Jan], Fri 2 (6), Mon 5 (7), Tue 6 (8),
                # Wed 7 (9), Thu 8 (10).
                "respond": date(2026, 1, 8),
                # Stage 2 acknowledge 5 WD from the escalation request on Tue 23 Dec: Wed 24 (1),
                # Mon 29 (2), Tue 30 (3), Wed 31 (4), [Thu 1 Jan], Fri 2 Jan (5).
                "stage2_acknowledge": date(2026, 1, 2),
                # Stage 2 respond 20 WD from the Stage 2 acknowledgement on Wed 24 Dec: Mon 29 (1),
                # Tue 30 (2), Wed 31 (3), Fri 2 (4), 5-9 Jan (5-9), 12-16 (10-14), 19-23 (15-19),
                # Mon 26 Jan (20).
                "stage2_respond": date(2026, 1, 26),
            },
        ),
        (
            SCOTLAND,
            {
                # Scotland also closes Fri 2 Jan 2026. Acknowledge: as England, Tue 30 Dec.
                "acknowledge": date(2025, 12, 30),
                # Respond from Mon 22 Dec: Tue 23 (1), Wed 24 (2), Mon 29 (3), Tue 30 (4),
                # Wed 31 (5), [Thu 1, Fri 2 Jan], Mon 5 (6), Tue 6 (7), Wed 7 (8), Thu 8 (9),
                # Fri 9 (10).
                "respond": date(2026, 1, 9),
                # Stage 2 acknowledge from Tue 23 Dec: Wed 24 (1), Mon 29 (2), Tue 30 (3),
                # Wed 31 (4), [Thu 1, Fri 2 Jan], Mon 5 Jan (5).
                "stage2_acknowledge": date(2026, 1, 5),
                # Stage 2 respond from Wed 24 Dec: Mon 29 (1), Tue 30 (2), Wed 31 (3),
                # 5-9 Jan (4-8), 12-16 (9-13), 19-23 (14-18), Mon 26 (19), Tue 27 Jan (20).
                "stage2_respond": date(2026, 1, 27),
            },
        ),
    ],
    ids=["england-and-wales", "scotland"],
)
def test_hoc_2024_deadlines_across_christmas_and_new_year(
    calendar: Any, expected: dict[str, date]
) -> None:
    journey = Journey.open(received_at=london(2025, 12, 19, 14), calendar=calendar)
    journey.run("acknowledge", ACK, at=london(2025, 12, 22, 9))
    journey.run("escalate", {}, actor="intake", at=london(2025, 12, 23, 16))
    journey.run("acknowledge", STAGE2_ACK, actor=STAGE2_HANDLER, at=london(2025, 12, 24, 11))

    assert {name: clock.due_on for name, clock in journey.clocks.items()} == expected
    assert journey.clocks["respond"].stopped_on == date(2025, 12, 23)
    assert journey.clocks["respond"].stop_reason == "escalation_requested"
    assert journey.clocks["stage2_acknowledge"].stopped_on == date(2025, 12, 24)
    assert journey.clocks["stage2_respond"].running


@pytest.mark.parametrize(
    ("calendar", "expected"),
    [
        (
            ENGLAND,
            {
                # Received Fri 22 Dec 2023 (day 0). Bank holidays: Mon 25, Tue 26 Dec, Mon 1 Jan.
                # Acknowledge 5 WD: Wed 27 (1), Thu 28 (2), Fri 29 (3), [Mon 1 Jan], Tue 2 (4),
                # Wed 3 Jan (5).
                "acknowledge": date(2024, 1, 3),
                # Respond 10 WD from receipt (2022 Code): Wed 27 (1), Thu 28 (2), Fri 29 (3),
                # Tue 2 (4), Wed 3 (5), Thu 4 (6), Fri 5 (7), Mon 8 (8), Tue 9 (9), Wed 10 Jan (10).
                "respond": date(2024, 1, 10),
                # Stage 2 respond 20 WD from the escalation request on Fri 29 Dec: [Mon 1 Jan],
                # Tue 2-Fri 5 (1-4), 8-12 (5-9), 15-19 (10-14), 22-26 (15-19), Mon 29 Jan (20).
                "stage2_respond": date(2024, 1, 29),
            },
        ),
        (
            SCOTLAND,
            {
                # Scotland also closes Tue 2 Jan 2024. Acknowledge: Wed 27 (1), Thu 28 (2),
                # Fri 29 (3), [Mon 1, Tue 2 Jan], Wed 3 (4), Thu 4 Jan (5).
                "acknowledge": date(2024, 1, 4),
                # Respond from receipt: Wed 27 (1), Thu 28 (2), Fri 29 (3), Wed 3 (4), Thu 4 (5),
                # Fri 5 (6), Mon 8 (7), Tue 9 (8), Wed 10 (9), Thu 11 Jan (10).
                "respond": date(2024, 1, 11),
                # Stage 2 respond from Fri 29 Dec: [Mon 1, Tue 2 Jan], Wed 3-Fri 5 (1-3),
                # 8-12 (4-8), 15-19 (9-13), 22-26 (14-18), Mon 29 (19), Tue 30 Jan (20).
                "stage2_respond": date(2024, 1, 30),
            },
        ),
    ],
    ids=["england-and-wales", "scotland"],
)
def test_hoc_2022_deadlines_across_christmas_and_new_year(
    calendar: Any, expected: dict[str, date]
) -> None:
    journey = Journey.open(received_at=london(2023, 12, 22, 11), calendar=calendar, policy=HOC_2022)
    journey.run("acknowledge", ACK, at=london(2023, 12, 27, 10))
    # Under the 2022 Code the response clock ran from receipt: the acknowledgement does not move it.
    assert journey.due("respond") == expected["respond"]
    journey.run("respond", NOT_UPHELD, at=london(2023, 12, 28, 15))
    journey.run("escalate", {}, actor="intake", at=london(2023, 12, 29, 9))
    journey.run("acknowledge", STAGE2_ACK, actor=STAGE2_HANDLER, at=london(2024, 1, 2, 12))

    assert {name: clock.due_on for name, clock in journey.clocks.items()} == expected
    # The 2022 Code sets no Stage 2 acknowledgement deadline: no such clock ever starts.
    assert "stage2_acknowledge" not in journey.clocks
    assert journey.clocks["stage2_respond"].started_on == date(2023, 12, 29)
    assert journey.clocks["stage2_respond"].running


@pytest.mark.parametrize(
    ("calendar", "due"),
    [
        # Received Thu 2 April 2026. England and Wales: [Good Friday 3, Easter Monday 6],
        # Tue 7 (1), Wed 8 (2), Thu 9 (3), Fri 10 (4), Mon 13 (5).
        (ENGLAND, date(2026, 4, 13)),
        # Scotland keeps Good Friday but works Easter Monday: Mon 6 (1), Tue 7 (2), Wed 8 (3),
        # Thu 9 (4), Fri 10 (5).
        (SCOTLAND, date(2026, 4, 10)),
    ],
    ids=["england-and-wales", "scotland"],
)
def test_easter_monday_is_a_working_day_in_scotland_only(calendar: Any, due: date) -> None:
    journey = Journey.open(received_at=london(2026, 4, 2, 15), calendar=calendar)

    assert journey.due("acknowledge") == due


@pytest.mark.parametrize("state", OPEN)
def test_a_field_the_command_does_not_take_is_refused_not_dropped(state: str) -> None:
    journey = complaint_in(state)
    version, events = journey.case.version, len(journey.events)
    for trigger in MACHINE.allowed(state):
        step = COMPLAINT.step(trigger, state)
        assert step is not None
        with pytest.raises(ValidationError) as info:
            journey.run(trigger, {"nte": "a typo of note"})
        message = str(info.value)
        assert f"{trigger} takes no 'nte'" in message
        assert message.endswith(f"(it takes: {', '.join(sorted(step.takes)) or 'nothing'})")
    assert journey.state == state
    assert (journey.case.version, len(journey.events)) == (version, events)

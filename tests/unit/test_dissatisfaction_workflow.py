"""The dissatisfaction workflow (Code 1.4-1.5): resolved with the resident, or turned into a
complaint at the resident's request at any time (never blocked, not a "stage 0")."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from workflow_support import CONTACT, Journey, london, machine_for

from engine.errors import InvalidTransitionError, RefusedError
from workflows.complaint import COMPLAINT
from workflows.dissatisfaction import DISSATISFACTION

RESOLVE = {
    "agreed_outcome": "Bin collection rescheduled to Tuesdays.",
    "told_how_to_complain": True,
}


def _open() -> Journey:
    return Journey.open(DISSATISFACTION, reference="DIS-TEST-0001")


def test_a_dissatisfaction_opens_with_no_sla_clocks() -> None:
    journey = _open()

    assert journey.state == "open"
    assert journey.case.is_open
    assert journey.clocks == {}
    assert journey.case.milestone_dates["received"] == journey.case.received_at.date()


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({}, "outcome"),
        ({"agreed_outcome": "  ", "told_how_to_complain": True}, "outcome"),
        ({"agreed_outcome": "Rescheduled."}, "how to make a complaint"),
        ({"agreed_outcome": "Rescheduled.", "told_how_to_complain": False}, "how to make"),
        ({"agreed_outcome": "Rescheduled.", "told_how_to_complain": "yes"}, "how to make"),
        ({"agreed_outcome": "Rescheduled.", "told_how_to_complain": 1}, "how to make"),
    ],
)
def test_resolve_requires_an_agreed_outcome_and_that_the_resident_was_told_how_to_complain(
    payload: dict[str, Any], fragment: str
) -> None:
    journey = _open()

    with pytest.raises(RefusedError) as info:
        journey.run("resolve", payload)

    assert fragment in info.value.reason
    assert journey.state == "open"
    assert "resolution" not in journey.case.records


def test_resolve_records_the_resolution_and_finishes_the_case() -> None:
    journey = _open()
    at = london(2026, 3, 3)

    event = journey.run("resolve", RESOLVE, at=at)

    assert journey.state == "resolved"
    assert not journey.case.is_open
    assert journey.case.closed_at == at
    assert journey.case.records["resolution"] == RESOLVE
    assert event.kind == "resolved"
    assert journey.case.last_contact_at == at


@pytest.mark.parametrize("source", ["open", "resolved"])
def test_escalation_to_a_complaint_is_allowed_from_open_and_from_resolved(source: str) -> None:
    journey = _open()
    if source == "resolved":
        journey.run("resolve", RESOLVE)
    at = journey.last_at + timedelta(days=1)

    event = journey.run("escalate", {}, at=at)  # no guard: never blocked, no reason asked

    assert journey.state == "escalated"
    assert event.kind == "escalated_to_complaint"
    assert journey.case.milestones["escalated"] == at
    assert not journey.case.is_open


def test_the_resident_asked_to_escalate_before_the_resolution_was_recorded() -> None:
    """The request is dated when the resident asked, even if that was before the resolution
    was recorded: escalation is never blocked."""
    journey = _open()  # received Mon 2 March 2026
    journey.run("resolve", RESOLVE, at=london(2026, 3, 2, 15))
    asked = london(2026, 3, 2, 11)

    journey.run("escalate", {}, at=asked)

    assert journey.state == "escalated"
    assert journey.case.milestones["escalated"] == asked


@pytest.mark.parametrize("source", ["open", "resolved"])
def test_the_escalation_event_records_the_state_it_came_from(source: str) -> None:
    journey = _open()
    if source == "resolved":
        journey.run("resolve", RESOLVE)

    event = journey.run("escalate", {})

    assert event.data["from_state"] == source


def test_the_escalate_step_declares_that_it_spawns_a_complaint() -> None:
    for source in ("open", "resolved"):
        step = DISSATISFACTION.step("escalate", source)
        assert step is not None
        assert step.spawns == COMPLAINT.name == "complaint"
        assert step.milestone == "escalated"
    assert all(s.spawns is None for s in DISSATISFACTION.steps if s.trigger != "escalate")


def test_an_escalated_dissatisfaction_accepts_no_further_command() -> None:
    journey = _open()
    journey.run("escalate", {})

    assert machine_for(DISSATISFACTION).allowed("escalated") == []
    with pytest.raises(InvalidTransitionError) as info:
        journey.run("escalate", {})
    assert info.value.state == "escalated"
    assert info.value.allowed == ()


def test_the_shared_steps_run_while_the_dissatisfaction_is_open() -> None:
    journey = _open()

    journey.run("contact", CONTACT)
    journey.run("assign", {"owner": "bob"})

    assert journey.state == "open"
    assert journey.case.owner == "bob"
    assert machine_for(DISSATISFACTION).allowed("open") == [
        "resolve",
        "escalate",
        "contact",
        "assign",
        "extend",
        "add_action",
        "complete_action",
        "agree_updates",
    ]
    assert machine_for(DISSATISFACTION).allowed("resolved") == ["escalate"]


def test_a_note_given_with_the_escalation_is_kept_on_its_event() -> None:
    journey = _open()
    event = journey.run("escalate", {"note": "Rang back, wants it looked into properly"})
    assert event.data["note"] == "Rang back, wants it looked into properly"

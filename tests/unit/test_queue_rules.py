"""The pure work-item rules (``engine.queue``): which items a case needs, how urgent, and why.

No database: cases are walked through their steps in memory (``workflow_support``) and their flags
brought up to date with ``refresh_flags`` as of a chosen day, exactly as a command or the sweep
does, then ``desired_items`` / ``plan_work`` are asked what the queue should hold.

Dates (England and Wales, hoc-2024, no bank holidays in March 2026): received Mon 2 March, so the
Stage 1 acknowledgement is due Mon 9 March (due soon from Thu 5, due today Mon 9, breached Tue 10);
acknowledged Tue 3 March, so the Stage 1 response is due Tue 17 March (due soon from Fri 13).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from workflow_support import (
    ACK,
    CONTACT,
    ENGLAND,
    HOC_2024,
    NOT_UPHELD,
    STAGE2_ACK,
    UPHELD,
    Journey,
    action,
    complaint_in,
    london,
)

from engine.flagging import refresh_flags
from engine.queue import (
    ACTION_WARNING_DAYS,
    NO_DEADLINE,
    ItemSpec,
    desired_items,
    plan_work,
    signature,
)
from workflows.complaint import COMPLAINT
from workflows.dissatisfaction import DISSATISFACTION

LEVELS = HOC_2024.contact_levels
ACK_DUE = date(2026, 3, 9)
RESPOND_DUE = date(2026, 3, 17)


def items_on(journey: Journey, day: date, team: str = "complaints") -> dict[str, ItemSpec]:
    """The items the case wants on ``day``, its flags first brought up to that day (10:00)."""
    when = london(day.year, day.month, day.day, 10)
    refresh_flags(journey.case, journey.policy, journey.calendar, at=when, now=when)
    return desired_items(journey.case, journey.definition, LEVELS, day, team)


def acknowledged() -> Journey:
    """A complaint acknowledged on Tue 3 March (Stage 1 response due Tue 17 March)."""
    journey = Journey.open()
    journey.run("acknowledge", ACK, at=london(2026, 3, 3))
    return journey


def ranks(items: dict[str, ItemSpec]) -> dict[str, tuple[int, int, int]]:
    return {kind: (s.p_deadline, s.p_contact, s.p_care) for kind, s in items.items()}


# -- each kind appears with its need and goes with it -------------------------------------------


def test_a_new_complaint_needs_acknowledging_at_once_before_any_flag() -> None:
    journey = Journey.open()
    items = items_on(journey, date(2026, 3, 2))
    assert list(items) == ["acknowledge"]
    spec = items["acknowledge"]
    assert (spec.p_deadline, spec.p_contact, spec.p_care) == (NO_DEADLINE, 0, 0)
    assert spec.due_on == ACK_DUE
    assert spec.reason == "Stage 1 acknowledgement: due 2026-03-09"
    assert spec.team == "complaints"


@pytest.mark.parametrize(
    ("day", "rank", "reason"),
    [
        (date(2026, 3, 4), 3, "Stage 1 acknowledgement: due 2026-03-09"),
        (date(2026, 3, 5), 2, "Stage 1 acknowledgement: due-soon (due 2026-03-09)"),
        (ACK_DUE, 1, "Stage 1 acknowledgement: due-today (due 2026-03-09)"),
        (date(2026, 3, 10), 0, "Stage 1 acknowledgement: breached (due 2026-03-09)"),
        (date(2026, 3, 20), 0, "Stage 1 acknowledgement: breached (due 2026-03-09)"),
    ],
)
def test_the_acknowledge_item_rises_with_its_deadline(day: date, rank: int, reason: str) -> None:
    spec = items_on(Journey.open(), day)["acknowledge"]
    assert (spec.p_deadline, spec.reason) == (rank, reason)


def test_acknowledging_ends_the_acknowledge_item_and_asks_for_nothing_else_yet() -> None:
    journey = Journey.open()
    assert "acknowledge" in items_on(journey, date(2026, 3, 2))
    journey.run("acknowledge", ACK, at=london(2026, 3, 3))
    assert items_on(journey, date(2026, 3, 3)) == {}


@pytest.mark.parametrize(
    ("day", "rank", "status"),
    [
        (date(2026, 3, 13), 2, "due-soon"),
        (date(2026, 3, 16), 2, "due-soon"),
        (RESPOND_DUE, 1, "due-today"),
        (date(2026, 3, 18), 0, "breached"),
    ],
)
def test_the_respond_item_appears_only_once_the_response_is_due_soon(
    day: date, rank: int, status: str
) -> None:
    journey = acknowledged()
    assert "respond" not in items_on(journey, date(2026, 3, 12))
    spec = items_on(journey, day)["respond"]
    assert (spec.p_deadline, spec.due_on) == (rank, RESPOND_DUE)
    assert spec.reason == f"Stage 1 response: {status} (due 2026-03-17)"


def test_responding_ends_the_respond_item() -> None:
    journey = acknowledged()
    assert "respond" in items_on(journey, date(2026, 3, 18))
    journey.run("respond", NOT_UPHELD, at=london(2026, 3, 18, 11))
    assert "respond" not in items_on(journey, date(2026, 3, 18))


def test_an_escalation_needs_a_stage2_acknowledgement_at_once_and_it_goes_with_it() -> None:
    journey = complaint_in("escalation_requested")  # escalated Thu 5 March
    items = items_on(journey, date(2026, 3, 5))
    assert list(items) == ["stage2-acknowledge"]
    spec = items["stage2-acknowledge"]
    assert (spec.p_deadline, spec.due_on) == (NO_DEADLINE, date(2026, 3, 12))
    assert spec.reason == "Stage 2 acknowledgement: due 2026-03-12"
    journey.run("acknowledge", STAGE2_ACK, at=london(2026, 3, 6))
    assert "stage2-acknowledge" not in items_on(journey, date(2026, 3, 6))


def test_a_contact_countdown_flag_asks_for_contact_and_a_contact_ends_it() -> None:
    journey = acknowledged()  # the acknowledgement on Tue 3 March reached the resident
    assert "contact" not in items_on(journey, date(2026, 3, 5))
    due = items_on(journey, date(2026, 3, 6))["contact"]  # 3 working days: contact-due
    assert (due.p_deadline, due.p_contact, due.p_care) == (NO_DEADLINE, 1, 0)
    assert due.reason == "contact-due since 2026-03-06: contact the resident"
    assert due.due_on == date(2026, 3, 6)

    overdue = items_on(journey, date(2026, 3, 17))["contact"]  # 10 working days
    assert overdue.p_contact == 2
    assert overdue.reason == "contact-overdue since 2026-03-17: contact the resident"

    journey.run("contact", CONTACT, at=london(2026, 3, 17, 11))
    assert "contact" not in items_on(journey, date(2026, 3, 17))


def test_a_failed_contact_attempt_leaves_the_contact_item() -> None:
    journey = acknowledged()
    assert "contact" in items_on(journey, date(2026, 3, 6))
    journey.run("contact", {**CONTACT, "made": False}, at=london(2026, 3, 6, 11))
    assert "contact" in items_on(journey, date(2026, 3, 6))


def test_the_contact_item_ranks_by_the_highest_countdown_level_raised() -> None:
    journey = acknowledged()
    levels = {
        day: items_on(journey, day)["contact"].p_contact
        for day in (date(2026, 3, 6), date(2026, 3, 17), date(2026, 3, 24), date(2026, 3, 31))
    }
    assert levels == {
        date(2026, 3, 6): 1,  # contact-due (3 working days)
        date(2026, 3, 17): 2,  # contact-overdue (10)
        date(2026, 3, 24): 3,  # manager-alert (15)
        date(2026, 3, 31): 4,  # critical (20)
    }


def test_every_item_of_a_case_carries_its_countdown_level() -> None:
    """Between two breached responses, the resident left longer without contact comes first."""
    quiet = acknowledged()  # nobody in touch since Tue 3 March
    kept_informed = acknowledged()
    kept_informed.run("contact", CONTACT, at=london(2026, 3, 17, 9))
    day = date(2026, 3, 18)  # the response was due Tue 17 March: breached for both
    left_alone, informed = items_on(quiet, day)["respond"], items_on(kept_informed, day)["respond"]
    assert left_alone.p_deadline == informed.p_deadline == 0
    assert (left_alone.p_contact, informed.p_contact) == (2, 0)  # contact-overdue, none
    assert sorted([informed, left_alone], key=ItemSpec.sort_key) == [left_alone, informed]


def remedy_due(due_on: date) -> Journey:
    """A complaint responded on Wed 4 March with one outstanding action due on ``due_on``."""
    journey = acknowledged()
    payload = {**UPHELD, "actions": [action(due_on=due_on)]}
    journey.run("respond", payload, at=london(2026, 3, 4))
    return journey


@pytest.mark.parametrize(
    ("day", "rank", "status"),
    [
        (date(2026, 3, 25), 2, "due 2026-03-30"),  # exactly ACTION_WARNING_DAYS before
        (date(2026, 3, 27), 2, "due 2026-03-30"),
        (date(2026, 3, 30), 1, "due today"),
        (date(2026, 3, 31), 0, "overdue since 2026-03-30"),
    ],
)
def test_an_action_needs_work_only_within_five_days_of_its_due_date(
    day: date, rank: int, status: str
) -> None:
    journey = remedy_due(date(2026, 3, 30))
    assert ACTION_WARNING_DAYS == 5
    assert "action" not in items_on(journey, date(2026, 3, 24))
    spec = items_on(journey, day)["action"]
    assert (spec.p_deadline, spec.due_on) == (rank, date(2026, 3, 30))
    assert spec.reason == f"action 1 (repairs-team) {status}"


def test_completing_the_action_ends_the_action_item() -> None:
    journey = remedy_due(date(2026, 3, 30))
    assert "action" in items_on(journey, date(2026, 3, 31))
    journey.run("complete_action", {"number": 1}, at=london(2026, 3, 31, 11))
    assert "action" not in items_on(journey, date(2026, 3, 31))


def test_the_action_item_is_about_the_soonest_outstanding_action() -> None:
    journey = remedy_due(date(2026, 3, 30))
    journey.run(
        "add_action",
        {"description": "Apologise in writing", "owner": "manager", "due_on": date(2026, 3, 27)},
        at=london(2026, 3, 5),
    )
    spec = items_on(journey, date(2026, 3, 27))["action"]
    assert (spec.p_deadline, spec.reason) == (1, "action 2 (manager) due today")
    journey.run("complete_action", {"number": 2}, at=london(2026, 3, 27, 11))
    spec = items_on(journey, date(2026, 3, 27))["action"]
    assert (spec.p_deadline, spec.reason) == (2, "action 1 (repairs-team) due 2026-03-30")


@pytest.mark.parametrize("state", ["closed", "withdrawn", "declined", "referred_to_ombudsman"])
def test_a_finished_case_needs_nothing(state: str) -> None:
    journey = complaint_in(state)
    assert not journey.case.is_open
    assert items_on(journey, date(2026, 6, 1)) == {}


def test_a_finished_case_needs_nothing_even_with_flags_and_actions_on_record() -> None:
    journey = remedy_due(date(2026, 3, 30))
    items_on(journey, date(2026, 3, 31))  # contact and action items would be wanted
    journey.case.is_open = False
    assert desired_items(journey.case, COMPLAINT, LEVELS, date(2026, 3, 31)) == {}


def test_a_dissatisfaction_has_no_deadline_items_but_does_get_contact_items() -> None:
    journey = Journey.open(DISSATISFACTION, reference="DIS-TEST-0001")
    assert items_on(journey, date(2026, 3, 2)) == {}
    assert list(items_on(journey, date(2026, 3, 5))) == ["contact"]


# -- priority ---------------------------------------------------------------------------------


def spec(kind: str, p_deadline: int, p_contact: int = 0, p_care: int = 0) -> ItemSpec:
    return ItemSpec(kind, p_deadline, p_contact, p_care, reason=kind)


def test_priority_is_deadline_then_countdown_level_then_care() -> None:
    shuffled = [
        spec("none-care", 3, p_care=1),
        spec("none", 3),
        spec("soon", 2),
        spec("contact-1", 3, p_contact=1),
        spec("breached", 0),
        spec("contact-4", 3, p_contact=4),
        spec("today", 1),
        spec("breached-care", 0, p_care=1),
        spec("contact-1-care", 3, p_contact=1, p_care=1),
    ]
    ordered = [s.kind for s in sorted(shuffled, key=ItemSpec.sort_key)]
    assert ordered == [
        "breached-care",
        "breached",
        "today",
        "soon",
        "contact-4",
        "contact-1-care",
        "contact-1",
        "none-care",
        "none",
    ]


@pytest.mark.parametrize(
    ("fields", "note"),
    [
        ({"health_and_safety": True}, "; health and safety"),
        ({"vulnerabilities": ("hearing",)}, "; vulnerable resident"),
        (
            {"health_and_safety": True, "vulnerabilities": ("hearing",)},
            "; health and safety, vulnerable resident",
        ),
    ],
)
def test_health_and_safety_and_vulnerability_raise_care_and_say_so(
    fields: dict[str, object], note: str
) -> None:
    journey = Journey.open(**fields)
    spec = items_on(journey, date(2026, 3, 5))["acknowledge"]
    assert spec.p_care == 1
    assert spec.reason == f"Stage 1 acknowledgement: due-soon (due 2026-03-09){note}"
    assert items_on(journey, date(2026, 3, 5))["contact"].reason.endswith(note)
    plain = items_on(Journey.open(), date(2026, 3, 5))["acknowledge"]
    assert plain.p_care == 0
    assert spec.sort_key() < plain.sort_key()


def test_items_go_to_the_team_asked_for() -> None:
    items = items_on(Journey.open(), date(2026, 3, 5), team="repairs-desk")
    assert {s.team for s in items.values()} == {"repairs-desk"}


# -- plan_work and the signature ----------------------------------------------------------------


def test_plan_work_writes_items_only_when_the_wanted_set_changes() -> None:
    journey = Journey.open()
    case = journey.case
    when = london(2026, 3, 2, 10)
    refresh_flags(case, journey.policy, journey.calendar, at=when, now=when)
    plan_work(case, COMPLAINT, LEVELS, date(2026, 3, 2), "complaints")
    assert case.pending_items is not None and list(case.pending_items) == ["acknowledge"]
    first = case.work_signature
    case.pending_items = None  # written

    plan_work(case, COMPLAINT, LEVELS, date(2026, 3, 2), "complaints")
    assert case.pending_items is None  # nothing changed: nothing to write
    assert case.work_signature == first

    plan_work(case, COMPLAINT, LEVELS, date(2026, 3, 2), "another-team")
    assert case.pending_items is not None  # the same items, re-routed
    case.pending_items = None

    due_soon = london(2026, 3, 5, 10)
    refresh_flags(case, journey.policy, journey.calendar, at=due_soon, now=due_soon)
    plan_work(case, COMPLAINT, LEVELS, date(2026, 3, 5), "another-team")
    assert case.pending_items is not None
    assert set(case.pending_items) == {"acknowledge", "contact"}
    assert case.work_signature not in (first, None)


def test_plan_work_on_a_finished_case_empties_its_items_once() -> None:
    journey = Journey.open()
    case = journey.case
    plan_work(case, COMPLAINT, LEVELS, date(2026, 3, 2), "complaints")
    case.pending_items = None
    journey.run("withdraw", {"reason": "sorted"}, at=london(2026, 3, 3))
    plan_work(case, COMPLAINT, LEVELS, date(2026, 3, 3), "complaints")
    assert case.pending_items == {}
    case.pending_items = None
    plan_work(case, COMPLAINT, LEVELS, date(2026, 3, 4), "complaints")
    assert case.pending_items is None


def test_the_signature_ignores_order_and_notices_every_field() -> None:
    a, b = spec("acknowledge", 2), spec("contact", 3, p_contact=1)
    assert signature({"acknowledge": a, "contact": b}) == signature(
        {"contact": b, "acknowledge": a}
    )
    assert len(signature({})) == 16
    base = signature({"acknowledge": a})
    changed = [
        replace(a, p_deadline=1),
        replace(a, p_contact=1),
        replace(a, p_care=1),
        replace(a, reason="other"),
        replace(a, due_on=date(2026, 3, 9)),
        replace(a, team="elsewhere"),
    ]
    assert all(signature({"acknowledge": c}) != base for c in changed)


def test_plan_work_brings_next_flag_on_forward_to_the_next_action_change() -> None:
    due = date(2026, 4, 20)
    case = remedy_due(due).case
    late = date(2026, 5, 1)  # what the flag rules alone would set (the next countdown level)

    def next_day_on(as_of: date) -> date | None:
        case.next_flag_on = late  # sync_flags sets it before plan_work, as a command does
        plan_work(case, COMPLAINT, LEVELS, as_of, "complaints")
        return case.next_flag_on

    assert next_day_on(date(2026, 4, 1)) == due - timedelta(days=ACTION_WARNING_DAYS)
    assert next_day_on(date(2026, 4, 15)) == due  # the item appears; next, it is due today
    assert next_day_on(due) == due + timedelta(days=1)  # next, it is overdue
    assert next_day_on(due + timedelta(days=1)) == late  # nothing more about the action

    case.next_flag_on = date(2026, 4, 10)
    plan_work(case, COMPLAINT, LEVELS, date(2026, 4, 1), "complaints")
    assert case.next_flag_on == date(2026, 4, 10)  # an earlier flag day stays


def test_plan_work_sets_a_next_flag_day_for_an_action_when_there_was_none() -> None:
    journey = remedy_due(date(2026, 4, 20))
    journey.case.next_flag_on = None
    plan_work(journey.case, COMPLAINT, LEVELS, date(2026, 4, 1), "complaints")
    assert journey.case.next_flag_on == date(2026, 4, 15)


def test_plan_work_leaves_next_flag_on_alone_without_actions_or_once_finished() -> None:
    journey = acknowledged()
    journey.case.next_flag_on = date(2026, 3, 5)
    plan_work(journey.case, COMPLAINT, LEVELS, date(2026, 3, 3), "complaints")
    assert journey.case.next_flag_on == date(2026, 3, 5)

    finished = remedy_due(date(2026, 4, 20))
    finished.case.is_open = False
    finished.case.next_flag_on = None
    plan_work(finished.case, COMPLAINT, LEVELS, date(2026, 4, 1), "complaints")
    assert finished.case.next_flag_on is None


def test_calendar_used_by_these_tests_has_no_holidays_in_march_2026() -> None:
    march = [date(2026, 3, d) for d in range(1, 32)]
    assert all(ENGLAND.is_working_day(d) == (d.weekday() < 5) for d in march)

"""``engine.views``: the JSON the CLI prints, built from a case, its calendar and today's date.

Cases are built by hand here (no workflow, no database) so each test states exactly the case it
is about; dates are worked out by hand in the comments.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.events import Event
from engine.model import Action, Case
from engine.views import case_view, event_view, next_deadline, working_days_since_contact
from sla.calendar import WorkingCalendar
from sla.deadlines import ClockState

ENGLAND = WorkingCalendar.uk("england-and-wales")
LONDON = ZoneInfo("Europe/London")


def acknowledge_clock(**changes: object) -> ClockState:
    fields: dict[str, object] = {
        "name": "acknowledge",
        "label": "Stage 1 acknowledgement",
        "started_on": date(2025, 12, 19),
        "base_days": 5,
        "due_on": date(2025, 12, 30),
    }
    fields.update(changes)
    return ClockState(**fields)  # type: ignore[arg-type]


def respond_clock(**changes: object) -> ClockState:
    fields: dict[str, object] = {
        "name": "respond",
        "label": "Stage 1 response",
        "started_on": date(2025, 12, 22),
        "base_days": 10,
        "due_on": date(2026, 1, 8),
    }
    fields.update(changes)
    return ClockState(**fields)  # type: ignore[arg-type]


def make_case(**changes: object) -> Case:
    """A Stage 1 complaint received Fri 19 Dec 2025, acknowledged Mon 22 Dec."""
    case = Case(
        reference="CMP-2025-000001",
        workflow="complaint",
        state="stage1",
        policy_id="hoc-2024",
        policy_version=1,
        calendar="england-and-wales",
        calendar_fingerprint="x",
        received_at=datetime(2025, 12, 19, 10, 0, tzinfo=UTC),
        channel="phone",
        category="repairs",
        area="Exeter",
        owner="alice",
        version=2,
    )
    case.milestone_dates = {"received": date(2025, 12, 19), "acknowledged": date(2025, 12, 22)}
    case.clocks = {
        "acknowledge": acknowledge_clock(stopped_on=date(2025, 12, 22), stop_reason="acknowledged"),
        "respond": respond_clock(),
    }
    for name, value in changes.items():
        setattr(case, name, value)
    return case


def test_deadlines_come_from_the_clocks_and_are_null_when_a_clock_has_not_started() -> None:
    view = case_view(make_case(), ENGLAND, date(2026, 1, 5))
    assert view["deadlines"] == {
        "acknowledge_by": "2025-12-30",
        "respond_by": "2026-01-08",
        "stage2_acknowledge_by": None,
        "stage2_respond_by": None,
    }


def test_a_running_clock_is_breached_only_after_its_due_date() -> None:
    on_the_day = case_view(make_case(), ENGLAND, date(2026, 1, 8))
    day_after = case_view(make_case(), ENGLAND, date(2026, 1, 9))
    assert on_the_day["clocks"]["respond"]["breached"] is False
    assert day_after["clocks"]["respond"]["breached"] is True
    assert day_after["clocks"]["acknowledge"]["breached"] is False  # stopped on time
    assert day_after["clocks"]["acknowledge"]["running"] is False


def test_a_clock_stopped_late_stays_breached() -> None:
    late = acknowledge_clock(stopped_on=date(2025, 12, 31), stop_reason="acknowledged")
    case = make_case(clocks={"acknowledge": late})
    assert case_view(case, ENGLAND, date(2026, 6, 1))["clocks"]["acknowledge"]["breached"] is True


def test_working_days_since_contact_count_from_the_last_contact_on_the_case_calendar() -> None:
    case = make_case(last_contact_at=datetime(2025, 12, 22, 10, 0, tzinfo=UTC))
    # (Mon 22 Dec, Fri 9 Jan]: 23, 24, 29, 30, 31 Dec, 2, 5, 6, 7, 8, 9 Jan = 11 (25, 26 Dec
    # and 1 Jan are bank holidays).
    assert working_days_since_contact(case, ENGLAND, date(2026, 1, 9)) == 11
    scotland = WorkingCalendar.uk("scotland")
    assert working_days_since_contact(case, scotland, date(2026, 1, 9)) == 10  # 2 Jan too


def test_working_days_since_contact_count_from_receipt_when_nobody_has_been_in_touch() -> None:
    case = make_case(last_contact_at=None)
    # (Fri 19 Dec, Tue 23 Dec]: Mon 22, Tue 23.
    view = case_view(case, ENGLAND, date(2025, 12, 23))
    assert view["working_days_since_contact"] == 2
    assert view["last_contact_at"] is None


def test_the_countdown_uses_the_london_date_of_the_contact() -> None:
    # 23:30 UTC on Mon 1 June 2026 is 00:30 on Tue 2 June in London (BST).
    case = make_case(last_contact_at=datetime(2026, 6, 1, 23, 30, tzinfo=UTC))
    assert working_days_since_contact(case, ENGLAND, date(2026, 6, 3)) == 1


def test_a_contact_recorded_just_ahead_of_today_counts_as_zero_days_not_negative() -> None:
    case = make_case(last_contact_at=datetime(2026, 1, 10, 9, 0, tzinfo=UTC))
    assert working_days_since_contact(case, ENGLAND, date(2026, 1, 9)) == 0


def test_the_policy_is_shown_as_its_key_and_its_id() -> None:
    view = case_view(make_case(), ENGLAND, date(2026, 1, 5))
    assert (view["policy"], view["policy_id"], view["policy_version"]) == (
        "hoc-2024@1",
        "hoc-2024",
        1,
    )


def test_instants_are_iso_8601_in_utc_whatever_zone_they_were_given_in() -> None:
    received = datetime(2026, 6, 1, 9, 15, tzinfo=LONDON)
    view = case_view(make_case(received_at=received), ENGLAND, date(2026, 6, 2))
    assert view["received_at"] == "2026-06-01T08:15:00+00:00"


def test_the_next_deadline_is_the_running_clock_due_soonest() -> None:
    case = make_case()
    assert next_deadline(case) == case.clocks["respond"]
    view = case_view(case, ENGLAND, date(2026, 1, 5))
    assert view["next_deadline"] == {
        "clock": "respond",
        "label": "Stage 1 response",
        "due_on": "2026-01-08",
    }


def test_a_finished_case_has_no_next_deadline() -> None:
    case = make_case(state="closed", is_open=False)
    assert next_deadline(case) is None
    assert case_view(case, ENGLAND, date(2026, 1, 5))["next_deadline"] is None


def test_actions_show_whether_they_are_outstanding_and_responses_come_in_stage_order() -> None:
    done = Action(1, "Replace tap", "repairs-team", date(2026, 1, 20))
    done.done_at, done.done_by = datetime(2026, 1, 19, 10, tzinfo=UTC), "bob"
    open_action = Action(2, "Apologise", "alice", date(2026, 1, 21))
    records = {
        "summary": "Tap leaking",
        "responses": {"2": {"stage": 2, "decision": "upheld"}, "1": {"stage": 1}},
        "stage1_handlers": ["alice"],
    }
    view = case_view(
        make_case(actions=[done, open_action], records=records), ENGLAND, date(2026, 1, 25)
    )
    assert [(a["number"], a["outstanding"]) for a in view["actions"]] == [(1, False), (2, True)]
    assert view["actions"][0]["done_by"] == "bob"
    assert [r["stage"] for r in view["responses"]] == [1, 2]
    assert view["records"] == {"summary": "Tap leaking"}  # engine bookkeeping is left out


def test_the_view_passes_through_allowed_commands_and_has_empty_flags() -> None:
    view = case_view(
        make_case(), ENGLAND, date(2026, 1, 5), allowed_commands=["respond", "escalate"]
    )
    assert view["allowed_commands"] == ["respond", "escalate"]
    assert view["flags"] == []
    assert view["as_of"] == "2026-01-05"


def test_the_view_is_plain_json() -> None:
    view = case_view(make_case(), ENGLAND, date(2026, 1, 5))
    assert json.loads(json.dumps(view)) == view  # no dates or other objects left inside


@pytest.mark.parametrize(
    "field",
    ["reference", "workflow", "state", "owner", "category", "channel", "area", "tenure", "version"],
)
def test_case_fields_are_copied_as_they_are(field: str) -> None:
    case = make_case()
    assert case_view(case, ENGLAND, date(2026, 1, 5))[field] == getattr(case, field)


def test_an_event_view_has_every_field_with_utc_times() -> None:
    event = Event(
        kind="acknowledged",
        occurred_at=datetime(2026, 6, 1, 9, 0, tzinfo=LONDON),
        recorded_at=datetime(2026, 6, 2, 8, 0, tzinfo=UTC),
        actor="alice",
        data={"understanding": "Tap leak"},
        before={"state": "received"},
        after={"state": "stage1"},
        seq=2,
    )
    assert event_view(event) == {
        "seq": 2,
        "kind": "acknowledged",
        "occurred_at": "2026-06-01T08:00:00+00:00",
        "recorded_at": "2026-06-02T08:00:00+00:00",
        "actor": "alice",
        "data": {"understanding": "Tap leak"},
        "before": {"state": "received"},
        "after": {"state": "stage1"},
    }

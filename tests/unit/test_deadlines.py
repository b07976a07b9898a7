"""SLA clocks: starting, stopping, ending early, extending and recomputing, with hand-counted dates.

The start date is day 0; a deadline of N working days is the N-th working day strictly after it.
England and Wales bank holidays used below: Thu 25 and Fri 26 December 2025, Thu 1 January 2026.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.calendar import DayOverride, WorkingCalendar
from sla.deadlines import (
    ClockState,
    advance_clocks,
    end_running_clocks,
    extend_clock,
    recompute_due,
    rules_for,
)
from sla.policy import ClockRule, PolicyRegistry, builtin_policies
from workflows.complaint import COMPLAINT

ENGLAND = WorkingCalendar.uk("england-and-wales")
SCOTLAND = WorkingCalendar.uk("scotland")
HOC_2024 = PolicyRegistry(builtin_policies()).get("hoc-2024")

ACKNOWLEDGE = ClockRule("acknowledge", "Stage 1 acknowledgement", 5, "received", "acknowledged")
RESPOND = ClockRule("respond", "Stage 1 response", 10, "acknowledged", "responded", 10)
RULES = [ACKNOWLEDGE, RESPOND]

RECEIVED = date(2025, 12, 19)  # Friday
ACKNOWLEDGED = date(2025, 12, 22)  # Monday

# Acknowledge from Fri 19 Dec: Mon 22 (1), Tue 23 (2), Wed 24 (3), [25, 26, weekend], Mon 29 (4),
# Tue 30 (5).
ACK_DUE = date(2025, 12, 30)
# Respond from Mon 22 Dec: Tue 23 (1), Wed 24 (2), Mon 29 (3), Tue 30 (4), Wed 31 (5), [Thu 1 Jan],
# Fri 2 (6), Mon 5 (7), Tue 6 (8), Wed 7 (9), Thu 8 January 2026 (10).
RESPOND_DUE = date(2026, 1, 8)


def _respond_clock(**changes: object) -> ClockState:
    clock = ClockState("respond", "Stage 1 response", ACKNOWLEDGED, 10, RESPOND_DUE)
    return replace(clock, **changes)  # type: ignore[arg-type]


# -- advance_clocks -------------------------------------------------------------------------------


def test_a_clock_starts_when_its_start_milestone_is_reached() -> None:
    clocks = advance_clocks(RULES, ENGLAND, {"received": RECEIVED}, {})

    assert clocks == {
        "acknowledge": ClockState(
            name="acknowledge",
            label="Stage 1 acknowledgement",
            started_on=RECEIVED,
            base_days=5,
            due_on=ACK_DUE,
        )
    }
    assert clocks["acknowledge"].running


def test_a_milestone_stops_one_clock_and_starts_the_next() -> None:
    started = advance_clocks(RULES, ENGLAND, {"received": RECEIVED}, {})
    milestones = {"received": RECEIVED, "acknowledged": ACKNOWLEDGED}

    clocks = advance_clocks(RULES, ENGLAND, milestones, started)

    assert clocks["acknowledge"].stopped_on == ACKNOWLEDGED
    assert clocks["acknowledge"].stop_reason == "acknowledged"
    assert clocks["acknowledge"].due_on == ACK_DUE
    assert clocks["respond"] == _respond_clock()
    assert started["acknowledge"].running  # the input mapping is not changed


def test_a_stop_milestone_without_its_start_starts_nothing() -> None:
    clocks = advance_clocks(RULES, ENGLAND, {"responded": date(2026, 1, 5)}, {})

    assert clocks == {}


def test_advance_clocks_is_idempotent() -> None:
    milestones = {"received": RECEIVED, "acknowledged": ACKNOWLEDGED}

    once = advance_clocks(RULES, ENGLAND, milestones, {})
    twice = advance_clocks(RULES, ENGLAND, milestones, once)

    assert twice == once
    assert advance_clocks(RULES, ENGLAND, milestones, twice) == once


def test_advance_clocks_never_moves_an_existing_clock_or_restarts_a_stopped_one() -> None:
    ended = end_running_clocks(
        {"respond": _respond_clock()}, None, date(2025, 12, 23), "escalation_requested"
    )
    # A later "responded" milestone (and a different calendar) change nothing already recorded.
    milestones = {"acknowledged": ACKNOWLEDGED, "responded": date(2026, 1, 5)}

    clocks = advance_clocks([RESPOND], SCOTLAND, milestones, ended)

    assert clocks == ended
    assert clocks["respond"].stop_reason == "escalation_requested"
    assert clocks["respond"].due_on == RESPOND_DUE  # Scotland would say Fri 9 January


def test_rules_for_keeps_the_policys_order_and_only_the_workflows_clocks() -> None:
    repair = ClockRule("repair", "Repair", 3, "reported", "fixed")
    policy = replace(HOC_2024, clocks=(repair, RESPOND, ACKNOWLEDGE))

    assert rules_for(policy, COMPLAINT.clocks) == [RESPOND, ACKNOWLEDGE]
    assert rules_for(policy, ["repair"]) == [repair]


# -- end_running_clocks ---------------------------------------------------------------------------


def test_end_running_clocks_stops_only_the_named_running_clocks() -> None:
    acknowledged = ClockState(
        "acknowledge", "Ack", RECEIVED, 5, ACK_DUE, stopped_on=ACKNOWLEDGED, stop_reason="done"
    )
    other = ClockState("other", "Other", RECEIVED, 3, date(2025, 12, 24))
    clocks = {"acknowledge": acknowledged, "respond": _respond_clock(), "other": other}

    ended = end_running_clocks(
        clocks, ["acknowledge", "respond"], date(2025, 12, 23), "escalation_requested"
    )

    assert ended["acknowledge"] is acknowledged  # already stopped: keeps its own stop
    assert ended["respond"] == _respond_clock(
        stopped_on=date(2025, 12, 23), stop_reason="escalation_requested"
    )
    assert ended["other"] is other
    assert clocks["respond"].running


def test_end_running_clocks_with_no_names_stops_every_running_clock() -> None:
    other = ClockState("other", "Other", RECEIVED, 3, date(2025, 12, 24))
    clocks = {"respond": _respond_clock(), "other": other}

    ended = end_running_clocks(clocks, None, date(2025, 12, 24), "withdrawn")

    assert {name: (c.stopped_on, c.stop_reason) for name, c in ended.items()} == {
        "respond": (date(2025, 12, 24), "withdrawn"),
        "other": (date(2025, 12, 24), "withdrawn"),
    }


# -- extend_clock, recompute_due ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "due"),
    [
        # Day 10 is Thu 8 Jan; Fri 9 (11), Mon 12 (12), Tue 13 (13), Wed 14 (14), Thu 15 (15).
        (ENGLAND, date(2026, 1, 15)),
        # Scotland also closes Fri 2 Jan: day 10 is Fri 9 Jan; Mon 12 (11) .. Fri 16 (15).
        (SCOTLAND, date(2026, 1, 16)),
    ],
    ids=["england-and-wales", "scotland"],
)
def test_extend_clock_adds_working_days_counted_from_the_start(
    calendar: WorkingCalendar, due: date
) -> None:
    extended = extend_clock(_respond_clock(), 5, calendar)

    assert extended.extended_days == 5
    assert extended.base_days == 10
    assert extended.started_on == ACKNOWLEDGED
    assert extended.due_on == due


def test_extending_twice_adds_up() -> None:
    once = extend_clock(_respond_clock(), 3, ENGLAND)
    twice = extend_clock(once, 2, ENGLAND)

    # Day 13 is Tue 13 Jan; day 15 is Thu 15 Jan.
    assert once.due_on == date(2026, 1, 13)
    assert twice.due_on == date(2026, 1, 15)
    assert twice.extended_days == 5


def test_recompute_due_moves_the_due_date_when_the_calendar_gains_a_closure() -> None:
    flooded = WorkingCalendar(
        "england-and-wales",
        name="flooded",
        overrides=[DayOverride(date(2026, 1, 6), "Office flooded")],
        first_year=2020,
        last_year=2030,
    )
    clock = _respond_clock()

    moved = recompute_due(clock, flooded)

    # From Mon 22 Dec: ... Fri 2 (6), Mon 5 (7), [Tue 6 closed], Wed 7 (8), Thu 8 (9), Fri 9 (10).
    assert moved.due_on == date(2026, 1, 9)
    assert replace(moved, due_on=clock.due_on) == clock
    # With 5 days of extension: Mon 12 (11), Tue 13, Wed 14, Thu 15, Fri 16 January (15).
    assert recompute_due(extend_clock(clock, 5, ENGLAND), flooded).due_on == date(2026, 1, 16)


def test_recompute_due_returns_the_same_clock_when_nothing_moves() -> None:
    clock = _respond_clock()

    assert recompute_due(clock, ENGLAND) is clock


# -- breached -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stopped_on", "as_of", "breached"),
    [
        (None, date(2025, 12, 30), False),  # running, on the due date
        (None, date(2025, 12, 31), True),  # running, a day late
        (date(2025, 12, 30), date(2026, 6, 1), False),  # stopped on the due date
        (date(2025, 12, 22), date(2026, 6, 1), False),  # stopped early, stays met
        (date(2025, 12, 31), date(2025, 12, 20), True),  # stopped late: breached whenever asked
    ],
)
def test_a_clock_is_breached_once_it_runs_past_its_due_date(
    stopped_on: date | None, as_of: date, breached: bool
) -> None:
    clock = ClockState("acknowledge", "Ack", RECEIVED, 5, ACK_DUE, stopped_on=stopped_on)

    assert clock.breached(as_of) is breached


# -- serialisation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "clock",
    [
        _respond_clock(),
        _respond_clock(extended_days=5, due_on=date(2026, 1, 15)),
        _respond_clock(stopped_on=date(2025, 12, 23), stop_reason="escalation_requested"),
    ],
    ids=["running", "extended", "stopped"],
)
def test_a_clock_round_trips_through_json_data(clock: ClockState) -> None:
    data = json.loads(json.dumps(clock.to_data()))

    assert ClockState.from_data(data) == clock


def test_clock_data_is_plain_iso_dates() -> None:
    data = _respond_clock(
        stopped_on=date(2025, 12, 23), stop_reason="escalation_requested"
    ).to_data()

    assert data == {
        "name": "respond",
        "label": "Stage 1 response",
        "started_on": "2025-12-22",
        "base_days": 10,
        "due_on": "2026-01-08",
        "extended_days": 0,
        "stopped_on": "2025-12-23",
        "stop_reason": "escalation_requested",
    }


def test_clock_data_without_extension_fields_reads_as_unextended_and_running() -> None:
    data = {
        "name": "respond",
        "label": "Stage 1 response",
        "started_on": "2025-12-22",
        "base_days": 10,
        "due_on": "2026-01-08",
    }

    assert ClockState.from_data(data) == _respond_clock()


# -- properties -----------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    started_on=st.dates(min_value=date(2001, 1, 1), max_value=date(2070, 12, 31)),
    base_days=st.integers(min_value=1, max_value=30),
    first=st.integers(min_value=0, max_value=40),
    second=st.integers(min_value=0, max_value=40),
    calendar=st.sampled_from([ENGLAND, SCOTLAND]),
)
def test_two_extensions_equal_one_extension_of_their_sum(
    started_on: date, base_days: int, first: int, second: int, calendar: WorkingCalendar
) -> None:
    clock = ClockState(
        "respond",
        "Stage 1 response",
        started_on,
        base_days,
        calendar.add_working_days(started_on, base_days),
    )

    twice = extend_clock(extend_clock(clock, first, calendar), second, calendar)

    assert twice == extend_clock(clock, first + second, calendar)
    assert calendar.working_days_between(started_on, twice.due_on) == base_days + first + second

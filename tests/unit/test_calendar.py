"""``WorkingCalendar``: the UK divisions' non-working days and the working-day contract.

The expected bank holidays are typed by hand from GOV.UK's lists (see shared/domain.md 5.2), never
computed from the ``holidays`` package, so a change in the package shows up here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pytest

from sla.calendar import DayOverride, NonWorkingDay, WorkingCalendar
from sla.errors import (
    CalendarError,
    ComplaintsError,
    DateOutOfRangeError,
    InvalidDateError,
    NegativeDaysError,
    UnknownDivisionError,
)
from sla.timezone import LONDON

ENGLAND = "england-and-wales"
SCOTLAND = "scotland"
NORTHERN_IRELAND = "northern-ireland"
DIVISIONS = (ENGLAND, SCOTLAND, NORTHERN_IRELAND)

# Weekday non-working days (month-day) of each division, 2022-2027, from GOV.UK.
EXPECTED_BANK_HOLIDAYS: dict[str, dict[int, list[str]]] = {
    ENGLAND: {
        2022: [
            "01-03", "04-15", "04-18", "05-02", "06-02", "06-03", "08-29", "09-19", "12-26",
            "12-27",
        ],
        2023: ["01-02", "04-07", "04-10", "05-01", "05-08", "05-29", "08-28", "12-25", "12-26"],
        2024: ["01-01", "03-29", "04-01", "05-06", "05-27", "08-26", "12-25", "12-26"],
        2025: ["01-01", "04-18", "04-21", "05-05", "05-26", "08-25", "12-25", "12-26"],
        2026: ["01-01", "04-03", "04-06", "05-04", "05-25", "08-31", "12-25", "12-28"],
        2027: ["01-01", "03-26", "03-29", "05-03", "05-31", "08-30", "12-27", "12-28"],
    },
    SCOTLAND: {
        2022: [
            "01-03", "01-04", "04-15", "05-02", "06-02", "06-03", "08-01", "09-19", "11-30",
            "12-26", "12-27",
        ],
        2023: [
            "01-02", "01-03", "04-07", "05-01", "05-08", "05-29", "08-07", "11-30", "12-25",
            "12-26",
        ],
        2024: ["01-01", "01-02", "03-29", "05-06", "05-27", "08-05", "12-02", "12-25", "12-26"],
        2025: ["01-01", "01-02", "04-18", "05-05", "05-26", "08-04", "12-01", "12-25", "12-26"],
        2026: [
            "01-01", "01-02", "04-03", "05-04", "05-25", "06-15", "08-03", "11-30", "12-25",
            "12-28",
        ],
        2027: ["01-01", "01-04", "03-26", "05-03", "05-31", "08-02", "11-30", "12-27", "12-28"],
    },
    NORTHERN_IRELAND: {
        2022: [
            "01-03", "03-17", "04-15", "04-18", "05-02", "06-02", "06-03", "07-12", "08-29",
            "09-19", "12-26", "12-27",
        ],
        2023: [
            "01-02", "03-17", "04-07", "04-10", "05-01", "05-08", "05-29", "07-12", "08-28",
            "12-25", "12-26",
        ],
        2024: [
            "01-01", "03-18", "03-29", "04-01", "05-06", "05-27", "07-12", "08-26", "12-25",
            "12-26",
        ],
        2025: [
            "01-01", "03-17", "04-18", "04-21", "05-05", "05-26", "07-14", "08-25", "12-25",
            "12-26",
        ],
        2026: [
            "01-01", "03-17", "04-03", "04-06", "05-04", "05-25", "07-13", "08-31", "12-25",
            "12-28",
        ],
        2027: [
            "01-01", "03-17", "03-26", "03-29", "05-03", "05-31", "07-12", "08-30", "12-27",
            "12-28",
        ],
    },
}  # fmt: skip

EASTER_MONDAYS = (
    date(2022, 4, 18),
    date(2023, 4, 10),
    date(2024, 4, 1),
    date(2025, 4, 21),
    date(2026, 4, 6),
    date(2027, 3, 29),
)


def expected_dates(division: str, year: int) -> list[date]:
    return [date.fromisoformat(f"{year}-{md}") for md in EXPECTED_BANK_HOLIDAYS[division][year]]


def listing(division: str, year: int) -> dict[date, NonWorkingDay]:
    return {d.day: d for d in WorkingCalendar.uk(division).non_working_days(year)}


# -- the divisions' bank holidays ------------------------------------------------------------------


@pytest.mark.parametrize("year", range(2022, 2028))
@pytest.mark.parametrize("division", DIVISIONS)
def test_non_working_days_of_each_division_and_year_are_exactly_the_gov_uk_weekday_holidays(
    division: str, year: int
) -> None:
    days = WorkingCalendar.uk(division).non_working_days(year)

    assert [d.day for d in days] == expected_dates(division, year)
    assert all(d.source == "bank-holiday" for d in days)
    assert all(d.reason for d in days)


@pytest.mark.parametrize("year", range(2022, 2028))
@pytest.mark.parametrize("division", DIVISIONS)
def test_every_listed_bank_holiday_is_not_a_working_day(division: str, year: int) -> None:
    calendar = WorkingCalendar.uk(division)

    assert not any(calendar.is_working_day(d) for d in expected_dates(division, year))


@pytest.mark.parametrize(
    ("division", "day", "fragment"),
    [
        (SCOTLAND, date(2026, 6, 15), "World Cup"),
        (ENGLAND, date(2023, 5, 8), "Coronation"),
        (SCOTLAND, date(2023, 5, 8), "Coronation"),
        (NORTHERN_IRELAND, date(2023, 5, 8), "Coronation"),
        (ENGLAND, date(2022, 9, 19), "State Funeral"),
        (ENGLAND, date(2022, 6, 3), "Jubilee"),
        (ENGLAND, date(2026, 12, 28), "Boxing Day (observed)"),
        (ENGLAND, date(2027, 12, 27), "Christmas Day (observed)"),
        (ENGLAND, date(2027, 12, 28), "Boxing Day (observed)"),
        (SCOTLAND, date(2025, 12, 1), "Saint Andrew's Day (observed)"),
        (NORTHERN_IRELAND, date(2024, 3, 18), "Saint Patrick's Day (observed)"),
        (NORTHERN_IRELAND, date(2025, 7, 14), "Battle of the Boyne (observed)"),
    ],
)
def test_non_working_days_carry_their_bank_holiday_names(
    division: str, day: date, fragment: str
) -> None:
    assert fragment in listing(division, day.year)[day].reason


def test_the_world_cup_holiday_of_15_june_2026_is_scotland_only() -> None:
    assert not WorkingCalendar.uk(SCOTLAND).is_working_day(date(2026, 6, 15))
    assert WorkingCalendar.uk(ENGLAND).is_working_day(date(2026, 6, 15))
    assert WorkingCalendar.uk(NORTHERN_IRELAND).is_working_day(date(2026, 6, 15))


@pytest.mark.parametrize("division", DIVISIONS)
@pytest.mark.parametrize("substitute", [date(2026, 12, 28), date(2027, 12, 27), date(2027, 12, 28)])
def test_substitute_days_for_weekend_christmas_and_boxing_day_are_not_working_days(
    division: str, substitute: date
) -> None:
    assert not WorkingCalendar.uk(division).is_working_day(substitute)


@pytest.mark.parametrize("division", DIVISIONS)
@pytest.mark.parametrize(
    "weekend_holiday",
    [date(2026, 12, 26), date(2022, 12, 25), date(2022, 1, 1), date(2027, 12, 25)],
)
def test_bank_holidays_falling_on_a_weekend_are_not_listed_as_extra_non_working_days(
    division: str, weekend_holiday: date
) -> None:
    assert weekend_holiday.weekday() >= 5
    assert weekend_holiday not in listing(division, weekend_holiday.year)


@pytest.mark.parametrize("easter_monday", EASTER_MONDAYS)
def test_easter_monday_is_a_working_day_in_scotland_only(easter_monday: date) -> None:
    assert WorkingCalendar.uk(SCOTLAND).is_working_day(easter_monday)
    assert not WorkingCalendar.uk(ENGLAND).is_working_day(easter_monday)
    assert not WorkingCalendar.uk(NORTHERN_IRELAND).is_working_day(easter_monday)


def test_the_uk_calendar_of_a_division_is_built_once_and_shared() -> None:
    assert WorkingCalendar.uk(SCOTLAND) is WorkingCalendar.uk(SCOTLAND)


# -- add_working_days and working_days_between: the pinned contract ------------------------------


def test_adding_five_working_days_from_friday_19_december_2025_skips_christmas() -> None:
    calendar = WorkingCalendar.uk(ENGLAND)

    assert calendar.add_working_days(date(2025, 12, 19), 5) == date(2025, 12, 30)


def test_working_days_between_19_and_30_december_2025_is_five() -> None:
    calendar = WorkingCalendar.uk(ENGLAND)

    assert calendar.working_days_between(date(2025, 12, 19), date(2025, 12, 30)) == 5


def test_the_start_day_never_counts_even_when_it_is_a_working_day() -> None:
    calendar = WorkingCalendar.uk(ENGLAND)
    monday = date(2025, 12, 22)

    assert calendar.is_working_day(monday)
    assert calendar.add_working_days(monday, 1) == date(2025, 12, 23)


def test_the_start_day_never_counts_when_it_is_a_bank_holiday() -> None:
    calendar = WorkingCalendar.uk(ENGLAND)

    assert calendar.add_working_days(date(2025, 12, 25), 1) == date(2025, 12, 29)


@pytest.mark.parametrize(
    "day", [date(2025, 12, 22), date(2025, 12, 20), date(2025, 12, 25), date(2075, 12, 31)]
)
def test_adding_zero_working_days_returns_the_start_day_even_when_it_is_not_a_working_day(
    day: date,
) -> None:
    assert WorkingCalendar.uk(ENGLAND).add_working_days(day, 0) == day


@pytest.mark.parametrize("division", DIVISIONS)
@pytest.mark.parametrize("n", [1, 5, 10, 20])
def test_a_complaint_received_on_saturday_has_the_same_deadline_as_one_received_on_friday(
    division: str, n: int
) -> None:
    calendar = WorkingCalendar.uk(division)
    friday, saturday, sunday = date(2025, 12, 19), date(2025, 12, 20), date(2025, 12, 21)

    expected = calendar.add_working_days(friday, n)
    assert calendar.add_working_days(saturday, n) == expected
    assert calendar.add_working_days(sunday, n) == expected


def test_working_days_between_a_day_and_itself_is_zero() -> None:
    calendar = WorkingCalendar.uk(ENGLAND)

    assert calendar.working_days_between(date(2025, 12, 22), date(2025, 12, 22)) == 0
    assert calendar.working_days_between(date(2025, 12, 25), date(2025, 12, 25)) == 0


def test_working_days_between_is_negative_when_the_end_is_before_the_start() -> None:
    calendar = WorkingCalendar.uk(ENGLAND)

    assert calendar.working_days_between(date(2025, 12, 30), date(2025, 12, 19)) == -5


def test_working_days_between_counts_the_end_day_but_not_the_start_day() -> None:
    calendar = WorkingCalendar.uk(ENGLAND)

    # Monday 22 to Tuesday 23 December 2025: only the Tuesday counts.
    assert calendar.working_days_between(date(2025, 12, 22), date(2025, 12, 23)) == 1
    # Wednesday 24 to Monday 29: Christmas, Boxing Day and the weekend do not count.
    assert calendar.working_days_between(date(2025, 12, 24), date(2025, 12, 29)) == 1
    # Friday 19 to Sunday 21: nothing.
    assert calendar.working_days_between(date(2025, 12, 19), date(2025, 12, 21)) == 0


@pytest.mark.parametrize(
    ("division", "start", "n", "expected"),
    [
        # Christmas and New Year 2025/26: 2 January is a holiday in Scotland only.
        (SCOTLAND, date(2025, 12, 24), 3, date(2025, 12, 31)),
        (SCOTLAND, date(2025, 12, 24), 4, date(2026, 1, 5)),
        (ENGLAND, date(2025, 12, 24), 4, date(2026, 1, 2)),
        (NORTHERN_IRELAND, date(2025, 12, 24), 4, date(2026, 1, 2)),
        (SCOTLAND, date(2025, 12, 19), 7, date(2026, 1, 5)),
        (ENGLAND, date(2025, 12, 19), 7, date(2026, 1, 2)),
        # Christmas and New Year 2026/27: Boxing Day observed 28 Dec; 2 January (Saturday)
        # moves to Monday 4 January 2027 in Scotland.
        (SCOTLAND, date(2026, 12, 24), 3, date(2026, 12, 31)),
        (SCOTLAND, date(2026, 12, 24), 4, date(2027, 1, 5)),
        (ENGLAND, date(2026, 12, 24), 4, date(2027, 1, 4)),
        # 17 March 2026 is a Tuesday: a holiday in Northern Ireland only.
        (NORTHERN_IRELAND, date(2026, 3, 16), 1, date(2026, 3, 18)),
        (ENGLAND, date(2026, 3, 16), 1, date(2026, 3, 17)),
        # 12 July 2026 is a Sunday: Northern Ireland observes Monday 13 July.
        (NORTHERN_IRELAND, date(2026, 7, 10), 1, date(2026, 7, 14)),
        (ENGLAND, date(2026, 7, 10), 1, date(2026, 7, 13)),
        # 12 July 2025 is a Saturday: Northern Ireland observes Monday 14 July.
        (NORTHERN_IRELAND, date(2025, 7, 11), 5, date(2025, 7, 21)),
        (ENGLAND, date(2025, 7, 11), 5, date(2025, 7, 18)),
        # March 2024: St Patrick's observed 18 March, then Easter (Scotland works Easter Monday).
        (NORTHERN_IRELAND, date(2024, 3, 15), 10, date(2024, 4, 3)),
        (ENGLAND, date(2024, 3, 15), 10, date(2024, 4, 2)),
        (SCOTLAND, date(2024, 3, 15), 10, date(2024, 4, 1)),
    ],
)
def test_hand_computed_deadlines_across_each_divisions_holidays(
    division: str, start: date, n: int, expected: date
) -> None:
    calendar = WorkingCalendar.uk(division)

    assert calendar.add_working_days(start, n) == expected
    assert calendar.working_days_between(start, expected) == n
    assert calendar.working_days_between(expected, start) == -n


def test_scotland_has_seven_and_england_eight_working_days_from_19_december_2025_to_5_january() -> (
    None
):
    start, end = date(2025, 12, 19), date(2026, 1, 5)

    assert WorkingCalendar.uk(SCOTLAND).working_days_between(start, end) == 7
    assert WorkingCalendar.uk(ENGLAND).working_days_between(start, end) == 8


def test_working_day_index_differences_are_working_days_between() -> None:
    calendar = WorkingCalendar.uk(ENGLAND)
    a, b = date(2025, 12, 19), date(2025, 12, 30)

    assert calendar.working_day_index(b) - calendar.working_day_index(a) == 5


# -- is_working_day, next_working_day, working_day_on_or_after -----------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 12, 22), True),  # Monday
        (date(2025, 12, 24), True),  # Christmas Eve is a working day
        (date(2025, 12, 25), False),  # Christmas Day
        (date(2025, 12, 26), False),  # Boxing Day
        (date(2025, 12, 27), False),  # Saturday
        (date(2025, 12, 28), False),  # Sunday
        (date(2026, 1, 2), True),  # 2 January is not a holiday in England
    ],
)
def test_is_working_day_in_england_and_wales(day: date, working: bool) -> None:
    assert WorkingCalendar.uk(ENGLAND).is_working_day(day) is working


def test_2_january_is_not_a_working_day_in_scotland() -> None:
    assert not WorkingCalendar.uk(SCOTLAND).is_working_day(date(2026, 1, 2))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 12, 22), date(2025, 12, 23)),  # strictly after, even from a working day
        (date(2025, 12, 24), date(2025, 12, 29)),
        (date(2025, 12, 25), date(2025, 12, 29)),
        (date(2025, 12, 19), date(2025, 12, 22)),
        (date(2025, 12, 20), date(2025, 12, 22)),
    ],
)
def test_next_working_day_is_strictly_after_the_day(day: date, expected: date) -> None:
    assert WorkingCalendar.uk(ENGLAND).next_working_day(day) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 12, 22), date(2025, 12, 22)),  # a working day is itself
        (date(2025, 12, 20), date(2025, 12, 22)),  # Saturday
        (date(2025, 12, 25), date(2025, 12, 29)),  # Christmas
        (date(2025, 12, 27), date(2025, 12, 29)),
    ],
)
def test_working_day_on_or_after_is_the_day_itself_when_working_else_the_next(
    day: date, expected: date
) -> None:
    assert WorkingCalendar.uk(ENGLAND).working_day_on_or_after(day) == expected


# -- landlord overrides, custom weekends ----------------------------------------------------------

SHUTDOWN = (date(2025, 12, 29), date(2025, 12, 30), date(2025, 12, 31))
OPEN_BANK_HOLIDAY = date(2025, 8, 25)  # Late Summer Bank Holiday, Monday


def landlord_overrides() -> list[DayOverride]:
    return [
        *(DayOverride(d, "Christmas shutdown") for d in SHUTDOWN),
        DayOverride(OPEN_BANK_HOLIDAY, "open", working=True),
    ]


def landlord_calendar() -> WorkingCalendar:
    return WorkingCalendar(ENGLAND, name="x", overrides=landlord_overrides())


def test_closures_are_not_working_days() -> None:
    calendar = landlord_calendar()

    assert not any(calendar.is_working_day(d) for d in SHUTDOWN)
    assert all(WorkingCalendar.uk(ENGLAND).is_working_day(d) for d in SHUTDOWN)


def test_closures_are_listed_with_source_closure_and_their_reason() -> None:
    days = {d.day: d for d in landlord_calendar().non_working_days(2025)}

    for day in SHUTDOWN:
        assert days[day] == NonWorkingDay(day, "Christmas shutdown", "closure")
    assert days[date(2025, 12, 25)].source == "bank-holiday"


def test_an_open_day_on_a_bank_holiday_is_a_working_day_and_is_not_listed() -> None:
    calendar = landlord_calendar()

    assert calendar.is_working_day(OPEN_BANK_HOLIDAY)
    assert OPEN_BANK_HOLIDAY not in [d.day for d in calendar.non_working_days(2025)]
    assert calendar.add_working_days(date(2025, 8, 22), 1) == OPEN_BANK_HOLIDAY


def test_a_christmas_shutdown_pushes_deadlines_into_january() -> None:
    calendar = landlord_calendar()

    # 22, 23, 24 Dec; shutdown 29-31; New Year's Day; then 2 and 5 January.
    assert calendar.add_working_days(date(2025, 12, 19), 5) == date(2026, 1, 5)
    assert calendar.working_days_between(date(2025, 12, 19), date(2026, 1, 5)) == 5


def test_the_landlord_calendar_keeps_its_name_and_division() -> None:
    calendar = landlord_calendar()

    assert calendar.name == "x"
    assert calendar.division == ENGLAND
    assert calendar.describe()["name"] == "x"


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_override_without_a_reason_is_rejected(reason: str) -> None:
    with pytest.raises(CalendarError, match="reason"):
        DayOverride(date(2025, 12, 29), reason)


def test_an_override_on_a_datetime_rather_than_a_date_is_rejected() -> None:
    with pytest.raises(CalendarError):
        DayOverride(datetime(2025, 12, 29, 9, 0), "Christmas shutdown")  # type: ignore[arg-type]


def test_the_same_day_as_both_closure_and_open_day_is_rejected() -> None:
    overrides = [
        DayOverride(date(2025, 12, 29), "Christmas shutdown"),
        DayOverride(date(2025, 12, 29), "open after all", working=True),
    ]

    with pytest.raises(CalendarError, match="2025-12-29"):
        WorkingCalendar(ENGLAND, name="x", overrides=overrides)


def test_an_override_outside_the_calendar_range_is_rejected() -> None:
    with pytest.raises(DateOutOfRangeError):
        WorkingCalendar(ENGLAND, overrides=[DayOverride(date(1999, 12, 31), "Millennium")])


def test_a_landlord_calendar_has_a_different_fingerprint_from_the_division() -> None:
    assert landlord_calendar().fingerprint != WorkingCalendar.uk(ENGLAND).fingerprint


def test_the_fingerprint_is_stable_when_the_same_calendar_is_built_twice() -> None:
    assert landlord_calendar().fingerprint == landlord_calendar().fingerprint


def test_the_fingerprint_does_not_depend_on_the_order_of_the_overrides() -> None:
    reordered = WorkingCalendar(ENGLAND, name="x", overrides=reversed(landlord_overrides()))

    assert reordered.fingerprint == landlord_calendar().fingerprint


def test_a_calendar_with_no_changes_has_the_fingerprint_of_its_division() -> None:
    assert WorkingCalendar(ENGLAND, name="plain").fingerprint == (
        WorkingCalendar.uk(ENGLAND).fingerprint
    )


def test_each_division_has_its_own_fingerprint() -> None:
    fingerprints = {WorkingCalendar.uk(d).fingerprint for d in DIVISIONS}

    assert len(fingerprints) == 3


def test_a_cutoff_time_changes_the_fingerprint() -> None:
    with_cutoff = WorkingCalendar(ENGLAND, cutoff=time(17, 0))

    assert with_cutoff.fingerprint != WorkingCalendar.uk(ENGLAND).fingerprint


def test_a_friday_and_saturday_weekend_makes_sunday_a_working_day() -> None:
    calendar = WorkingCalendar(ENGLAND, name="x", weekend=(4, 5))

    assert calendar.weekend == frozenset({4, 5})
    assert not calendar.is_working_day(date(2025, 12, 19))  # Friday
    assert calendar.is_working_day(date(2025, 12, 21))  # Sunday
    assert calendar.add_working_days(date(2025, 12, 18), 1) == date(2025, 12, 21)
    assert WorkingCalendar.uk(ENGLAND).add_working_days(date(2025, 12, 18), 1) == date(2025, 12, 19)
    assert calendar.fingerprint != WorkingCalendar.uk(ENGLAND).fingerprint


def test_a_bank_holiday_on_a_custom_working_sunday_is_listed() -> None:
    calendar = WorkingCalendar(ENGLAND, name="x", weekend=(4, 5))

    # Christmas Day 2022 was a Sunday: a working day under a Friday/Saturday weekend, so closed.
    assert date(2022, 12, 25) in [d.day for d in calendar.non_working_days(2022)]
    assert not calendar.is_working_day(date(2022, 12, 25))


def test_a_weekend_of_all_seven_days_is_rejected() -> None:
    with pytest.raises(CalendarError, match="seven"):
        WorkingCalendar(ENGLAND, weekend=range(7))


@pytest.mark.parametrize("bad", [7, -1, True])
def test_a_weekend_day_that_is_not_0_to_6_is_rejected(bad: int) -> None:
    with pytest.raises(CalendarError):
        WorkingCalendar(ENGLAND, weekend=(5, bad))


# -- the daily cut-off -----------------------------------------------------------------------------


def cutoff_calendar() -> WorkingCalendar:
    return WorkingCalendar(ENGLAND, cutoff=time(17, 0))


def test_received_before_the_cutoff_on_friday_is_received_that_friday() -> None:
    received = datetime(2025, 12, 19, 16, 59, tzinfo=LONDON)

    assert cutoff_calendar().received_on(received) == date(2025, 12, 19)


def test_received_exactly_at_the_cutoff_is_received_that_day() -> None:
    received = datetime(2025, 12, 19, 17, 0, tzinfo=LONDON)

    assert cutoff_calendar().received_on(received) == date(2025, 12, 19)


def test_received_after_the_cutoff_on_friday_is_received_the_next_monday() -> None:
    received = datetime(2025, 12, 19, 17, 30, tzinfo=LONDON)

    assert cutoff_calendar().received_on(received) == date(2025, 12, 22)


def test_received_after_the_cutoff_before_a_bank_holiday_monday_is_received_on_tuesday() -> None:
    received = datetime(2025, 5, 23, 17, 30, tzinfo=LONDON)  # Monday 26 May is a bank holiday

    assert cutoff_calendar().received_on(received) == date(2025, 5, 27)


def test_the_cutoff_is_applied_to_london_time_during_british_summer_time() -> None:
    # 16:30Z on Friday 13 June 2025 is 17:30 in London.
    calendar = cutoff_calendar()

    assert calendar.received_on(datetime(2025, 6, 13, 16, 30, tzinfo=UTC)) == date(2025, 6, 16)
    assert calendar.received_on(datetime(2025, 6, 13, 15, 30, tzinfo=UTC)) == date(2025, 6, 13)
    assert calendar.received_on(datetime(2025, 6, 11, 16, 30, tzinfo=UTC)) == date(2025, 6, 12)


def test_received_on_a_naive_datetime_is_rejected() -> None:
    with pytest.raises(InvalidDateError, match="timezone"):
        cutoff_calendar().received_on(datetime(2025, 12, 19, 16, 59))


def test_without_a_cutoff_the_received_date_is_the_london_date() -> None:
    calendar = WorkingCalendar.uk(ENGLAND)

    # 23:30Z on 11 June 2025 is 00:30 on 12 June in London.
    assert calendar.received_on(datetime(2025, 6, 11, 23, 30, tzinfo=UTC)) == date(2025, 6, 12)
    assert calendar.received_on(datetime(2025, 12, 11, 23, 30, tzinfo=UTC)) == date(2025, 12, 11)
    assert calendar.received_on(datetime(2025, 12, 19, 23, 59, tzinfo=LONDON)) == date(2025, 12, 19)


def test_without_a_cutoff_a_weekend_receipt_stays_on_the_weekend() -> None:
    received = datetime(2025, 12, 20, 10, 0, tzinfo=LONDON)

    assert WorkingCalendar.uk(ENGLAND).received_on(received) == date(2025, 12, 20)


def test_received_on_outside_the_calendar_range_is_rejected() -> None:
    with pytest.raises(DateOutOfRangeError):
        WorkingCalendar.uk(ENGLAND).received_on(datetime(1999, 6, 1, 12, 0, tzinfo=UTC))


def test_describe_shows_the_cutoff_and_the_weekend() -> None:
    summary = cutoff_calendar().describe()

    assert summary["cutoff"] == "17:00"
    assert summary["weekend"] == ["saturday", "sunday"]
    assert summary["division"] == ENGLAND


# -- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("division", ["wales", "ENG", "England and Wales", ""])
def test_an_unknown_division_is_rejected_naming_the_known_divisions(division: str) -> None:
    with pytest.raises(UnknownDivisionError) as caught:
        WorkingCalendar.uk(division)

    message = str(caught.value)
    assert "\n" not in message
    for known in DIVISIONS:
        assert known in message
    assert isinstance(caught.value, LookupError)
    assert isinstance(caught.value, ComplaintsError)
    assert isinstance(caught.value, CalendarError)


def test_an_unknown_division_is_rejected_by_the_constructor_too() -> None:
    with pytest.raises(UnknownDivisionError):
        WorkingCalendar("wales", name="x")


def test_adding_a_negative_number_of_working_days_is_rejected() -> None:
    with pytest.raises(NegativeDaysError) as caught:
        WorkingCalendar.uk(ENGLAND).add_working_days(date(2025, 12, 19), -1)

    assert caught.value.days == -1
    assert isinstance(caught.value, CalendarError)


@pytest.mark.parametrize("day", [date(1999, 12, 31), date(2076, 1, 1), date(1, 1, 1)])
def test_dates_outside_2000_to_2075_are_rejected(day: date) -> None:
    calendar = WorkingCalendar.uk(ENGLAND)

    with pytest.raises(DateOutOfRangeError):
        calendar.add_working_days(day, 1)
    with pytest.raises(DateOutOfRangeError):
        calendar.add_working_days(day, 0)
    with pytest.raises(DateOutOfRangeError):
        calendar.is_working_day(day)
    with pytest.raises(DateOutOfRangeError):
        calendar.working_days_between(day, date(2025, 1, 1))
    with pytest.raises(DateOutOfRangeError):
        calendar.working_days_between(date(2025, 1, 1), day)


def test_the_first_and_last_days_of_the_range_are_accepted() -> None:
    calendar = WorkingCalendar.uk(ENGLAND)

    assert calendar.first_day == date(2000, 1, 1)
    assert calendar.last_day == date(2075, 12, 31)
    assert calendar.add_working_days(date(2000, 1, 1), 1) == date(2000, 1, 4)  # 3 Jan observed
    assert calendar.working_days_between(date(2000, 1, 1), date(2075, 12, 31)) > 0


@pytest.mark.parametrize(("day", "n"), [(date(2075, 12, 31), 1), (date(2075, 12, 1), 30)])
def test_a_result_beyond_the_range_is_rejected(day: date, n: int) -> None:
    with pytest.raises(DateOutOfRangeError):
        WorkingCalendar.uk(ENGLAND).add_working_days(day, n)


def test_listing_a_year_outside_the_range_is_rejected() -> None:
    with pytest.raises(DateOutOfRangeError):
        WorkingCalendar.uk(ENGLAND).non_working_days(1999)
    with pytest.raises(DateOutOfRangeError):
        WorkingCalendar.uk(ENGLAND).non_working_days(2076)


def test_a_datetime_instead_of_a_date_is_rejected() -> None:
    calendar = WorkingCalendar.uk(ENGLAND)
    moment = datetime(2025, 12, 19, 9, 0, tzinfo=UTC)

    with pytest.raises(CalendarError, match="datetime"):
        calendar.add_working_days(moment, 5)
    with pytest.raises(CalendarError):
        calendar.is_working_day(moment)
    with pytest.raises(CalendarError):
        calendar.working_days_between(moment, date(2025, 12, 30))
    with pytest.raises(CalendarError):
        calendar.working_days_between(date(2025, 12, 19), moment)


def test_a_fractional_number_of_working_days_is_rejected() -> None:
    with pytest.raises(CalendarError):
        WorkingCalendar.uk(ENGLAND).add_working_days(date(2025, 12, 19), 1.5)  # type: ignore[arg-type]


def test_error_messages_are_one_line() -> None:
    calendar = WorkingCalendar.uk(ENGLAND)
    errors: list[Exception] = []
    for call in (
        lambda: calendar.add_working_days(date(2025, 12, 19), -3),
        lambda: calendar.add_working_days(date(1999, 1, 1), 3),
        lambda: calendar.add_working_days(date(2075, 12, 31), 3),
        lambda: calendar.add_working_days(datetime(2025, 1, 1), 3),  # type: ignore[arg-type]
    ):
        with pytest.raises(CalendarError) as caught:
            call()
        errors.append(caught.value)

    assert all(str(e) and "\n" not in str(e) for e in errors)


# -- batch forms -----------------------------------------------------------------------------------

BATCH_STARTS = [
    date(2025, 12, 19),  # Friday before Christmas
    date(2025, 12, 20),  # Saturday
    date(2025, 12, 25),  # Christmas Day
    date(2026, 1, 1),  # New Year's Day
    date(2026, 6, 15),  # World Cup day (Scotland)
    date(2024, 3, 17),  # St Patrick's Day on a Sunday
    date(2025, 7, 12),  # Saturday 12 July
    date(2000, 1, 1),  # first day of the range, a Saturday
]
BATCH_COUNTS = [5, 0, 1, 0, 10, 3, 0, 20]


def as_array(days: list[date]) -> np.ndarray:
    return np.array(days, dtype="datetime64[D]")


def to_dates(values: np.ndarray) -> list[date]:
    return [d.astype(object) for d in values]


@pytest.mark.parametrize("division", DIVISIONS)
def test_batch_add_equals_single_adds_element_by_element(division: str) -> None:
    calendar = WorkingCalendar.uk(division)

    result = calendar.add_working_days_batch(as_array(BATCH_STARTS), np.array(BATCH_COUNTS))

    assert result.dtype == np.dtype("datetime64[D]")
    assert to_dates(result) == [
        calendar.add_working_days(d, n) for d, n in zip(BATCH_STARTS, BATCH_COUNTS, strict=True)
    ]


@pytest.mark.parametrize("n", [0, 1, 5, 20])
def test_batch_add_with_one_count_for_every_date_equals_single_adds(n: int) -> None:
    calendar = WorkingCalendar.uk(SCOTLAND)

    result = calendar.add_working_days_batch(as_array(BATCH_STARTS), n)

    assert to_dates(result) == [calendar.add_working_days(d, n) for d in BATCH_STARTS]


def test_batch_add_with_zero_returns_non_working_start_dates_unchanged() -> None:
    calendar = WorkingCalendar.uk(ENGLAND)
    starts = [date(2000, 1, 1), date(2025, 12, 25), date(2025, 12, 27)]

    assert to_dates(calendar.add_working_days_batch(as_array(starts), 0)) == starts


def test_batch_add_accepts_a_list_of_dates() -> None:
    calendar = WorkingCalendar.uk(ENGLAND)

    result = calendar.add_working_days_batch([date(2025, 12, 19)], [5])

    assert to_dates(result) == [date(2025, 12, 30)]


def test_batch_add_of_an_empty_array_is_empty() -> None:
    result = WorkingCalendar.uk(ENGLAND).add_working_days_batch(as_array([]), 5)

    assert result.shape == (0,)


@pytest.mark.parametrize("division", DIVISIONS)
def test_batch_between_equals_single_calls_element_by_element(division: str) -> None:
    calendar = WorkingCalendar.uk(division)
    ends = [
        date(2025, 12, 30),
        date(2025, 12, 20),
        date(2025, 12, 19),
        date(2026, 1, 5),
        date(2026, 6, 1),
        date(2024, 4, 3),
        date(2025, 7, 12),
        date(2075, 12, 31),
    ]

    result = calendar.working_days_between_batch(as_array(BATCH_STARTS), as_array(ends))

    assert result.tolist() == [
        calendar.working_days_between(a, b) for a, b in zip(BATCH_STARTS, ends, strict=True)
    ]


def test_batch_add_with_a_negative_count_is_rejected() -> None:
    calendar = WorkingCalendar.uk(ENGLAND)

    with pytest.raises(NegativeDaysError):
        calendar.add_working_days_batch(as_array(BATCH_STARTS[:2]), np.array([3, -1]))
    with pytest.raises(NegativeDaysError):
        calendar.add_working_days_batch(as_array(BATCH_STARTS[:2]), -1)


def test_batch_add_with_a_date_outside_the_range_is_rejected() -> None:
    calendar = WorkingCalendar.uk(ENGLAND)

    with pytest.raises(DateOutOfRangeError, match="1999-12-31"):
        calendar.add_working_days_batch(as_array([date(2025, 1, 1), date(1999, 12, 31)]), 1)
    with pytest.raises(DateOutOfRangeError):
        calendar.add_working_days_batch(as_array([date(2076, 1, 1)]), 0)


def test_batch_add_with_a_result_beyond_the_range_is_rejected() -> None:
    calendar = WorkingCalendar.uk(ENGLAND)

    with pytest.raises(DateOutOfRangeError):
        calendar.add_working_days_batch(as_array([date(2025, 1, 1), date(2075, 12, 30)]), 5)


def test_batch_between_with_a_date_outside_the_range_is_rejected() -> None:
    calendar = WorkingCalendar.uk(ENGLAND)

    with pytest.raises(DateOutOfRangeError):
        calendar.working_days_between_batch(
            as_array([date(2025, 1, 1)]), as_array([date(2076, 1, 1)])
        )
    with pytest.raises(DateOutOfRangeError):
        calendar.working_days_between_batch(
            as_array([date(1999, 12, 31)]), as_array([date(2025, 1, 1)])
        )


def test_batch_forms_respect_landlord_overrides() -> None:
    calendar = landlord_calendar()
    starts = [date(2025, 12, 19), date(2025, 8, 22)]

    result = calendar.add_working_days_batch(as_array(starts), np.array([5, 1]))

    assert to_dates(result) == [date(2026, 1, 5), OPEN_BANK_HOLIDAY]


def test_a_week_of_consecutive_starts_in_batch_matches_single_adds() -> None:
    calendar = WorkingCalendar.uk(NORTHERN_IRELAND)
    starts = [date(2026, 3, 10) + timedelta(days=i) for i in range(14)]

    result = calendar.add_working_days_batch(as_array(starts), 2)

    assert to_dates(result) == [calendar.add_working_days(d, 2) for d in starts]

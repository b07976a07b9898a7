"""Landlord calendars from configuration: closures, open days, weekends, cut-off, and errors that
name the file and the key."""

from __future__ import annotations

import tomllib
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from sla.calendar import NonWorkingDay, WorkingCalendar
from sla.calendar_config import calendar_from_mapping
from sla.errors import ConfigError
from sla.timezone import LONDON

WESTWARD_TOML = Path(__file__).parents[2] / "config" / "calendars" / "westward.toml"
SOURCE = "landlord.toml"

BASE: dict[str, Any] = {"name": "landlord", "division": "england-and-wales"}


def datetime_london(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


@pytest.fixture(scope="module")
def westward() -> WorkingCalendar:
    with WESTWARD_TOML.open("rb") as handle:
        return calendar_from_mapping(tomllib.load(handle), WESTWARD_TOML.name)


# -- the shipped landlord calendar ----------------------------------------------------------------


def test_the_westward_calendar_loads(westward: WorkingCalendar) -> None:
    assert westward.name == "westward"
    assert westward.division == "england-and-wales"
    assert westward.cutoff == time(17, 0)
    assert westward.weekend == frozenset({5, 6})
    assert westward.fingerprint != WorkingCalendar.uk("england-and-wales").fingerprint


def test_the_westward_christmas_shutdown_is_not_working(westward: WorkingCalendar) -> None:
    shutdown = [date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)]

    assert not any(westward.is_working_day(d) for d in shutdown)
    assert all(WorkingCalendar.uk("england-and-wales").is_working_day(d) for d in shutdown)
    listed = {d.day: d for d in westward.non_working_days(2026)}
    for day in shutdown:
        assert listed[day] == NonWorkingDay(day, "Christmas shutdown", "closure")
    # Thu 24 Dec 2026: [Fri 25 Christmas, weekend, Mon 28 Boxing Day substitute, Tue 29-Thu 31
    # shutdown, Fri 1 Jan New Year's Day, weekend] -> the next working day is Monday 4 January 2027.
    assert westward.add_working_days(date(2026, 12, 24), 1) == date(2027, 1, 4)
    assert westward.is_working_day(date(2026, 12, 24))


def test_the_westward_cut_off_moves_a_late_friday_receipt_to_monday(
    westward: WorkingCalendar,
) -> None:
    # Friday 5 June 2026, 17:30 BST is 16:30 UTC: after the cut-off in London.
    assert westward.received_on(datetime_london(2026, 6, 5, 17, 30)) == date(2026, 6, 8)
    assert westward.received_on(datetime_london(2026, 6, 5, 16, 30)) == date(2026, 6, 5)


# -- building a calendar from a mapping -----------------------------------------------------------


def test_a_single_date_closure_with_its_reason() -> None:
    calendar = calendar_from_mapping(
        {**BASE, "closures": [{"date": date(2026, 7, 1), "reason": "Staff training day"}]}, SOURCE
    )

    assert not calendar.is_working_day(date(2026, 7, 1))
    assert calendar.is_working_day(date(2026, 7, 2))
    assert NonWorkingDay(date(2026, 7, 1), "Staff training day", "closure") in (
        calendar.non_working_days(2026)
    )


def test_a_from_to_closure_covers_every_day_of_the_range() -> None:
    calendar = calendar_from_mapping(
        {
            **BASE,
            "closures": [
                {"from": date(2026, 8, 4), "to": date(2026, 8, 6), "reason": "Office move"},
                {"from": date(2026, 9, 1), "to": date(2026, 9, 1), "reason": "One day"},
            ],
        },
        SOURCE,
    )

    closed = [d.day for d in calendar.non_working_days(2026) if d.source == "closure"]
    assert closed == [date(2026, 8, 4), date(2026, 8, 5), date(2026, 8, 6), date(2026, 9, 1)]
    assert calendar.is_working_day(date(2026, 8, 3))
    assert calendar.is_working_day(date(2026, 8, 7))


def test_an_open_day_makes_a_bank_holiday_a_working_day() -> None:
    # Early May bank holiday, Monday 4 May 2026.
    calendar = calendar_from_mapping(
        {**BASE, "open_days": [{"date": date(2026, 5, 4), "reason": "Office open"}]}, SOURCE
    )

    assert calendar.is_working_day(date(2026, 5, 4))
    assert not WorkingCalendar.uk("england-and-wales").is_working_day(date(2026, 5, 4))
    assert date(2026, 5, 4) not in [d.day for d in calendar.non_working_days(2026)]
    # Fri 1 May + 1 working day is Monday 4 May itself.
    assert calendar.add_working_days(date(2026, 5, 1), 1) == date(2026, 5, 4)


def test_weekend_day_names_choose_the_weekend() -> None:
    calendar = calendar_from_mapping({**BASE, "weekend": ["Friday", "saturday"]}, SOURCE)

    assert calendar.weekend == frozenset({4, 5})
    assert not calendar.is_working_day(date(2026, 3, 6))  # Friday
    assert calendar.is_working_day(date(2026, 3, 8))  # Sunday


def test_the_defaults_are_a_saturday_sunday_weekend_and_no_cut_off() -> None:
    calendar = calendar_from_mapping(dict(BASE), SOURCE)

    assert calendar.weekend == frozenset({5, 6})
    assert calendar.cutoff is None
    assert calendar.name == "landlord"
    assert calendar.fingerprint == WorkingCalendar.uk("england-and-wales").fingerprint


@pytest.mark.parametrize("cutoff", ["17:00", time(17, 0)], ids=["text", "toml-time"])
def test_a_cut_off_time_is_read_from_text_or_a_toml_time(cutoff: Any) -> None:
    calendar = calendar_from_mapping({**BASE, "cutoff": cutoff}, SOURCE)

    assert calendar.cutoff == time(17, 0)
    assert calendar.received_on(datetime_london(2026, 6, 5, 18, 0)) == date(2026, 6, 8)


def test_a_calendar_for_scotland() -> None:
    calendar = calendar_from_mapping({"name": "glasgow", "division": "scotland"}, SOURCE)

    assert not calendar.is_working_day(date(2026, 1, 2))
    assert calendar.is_working_day(date(2026, 4, 6))  # Easter Monday is not a Scottish holiday


# -- errors name the source and the key -----------------------------------------------------------

CLOSURE = {"date": date(2026, 7, 1), "reason": "Training"}


def _with(**values: Any) -> dict[str, Any]:
    return {**BASE, **values}


@pytest.mark.parametrize(
    ("data", "key", "problem"),
    [
        pytest.param(_with(cutof="17:00"), "cutof", "unknown key", id="unknown-key"),
        pytest.param(
            _with(closures=[{**CLOSURE, "resaon": "x"}]),
            "closures[0].resaon",
            "unknown key",
            id="unknown-closure-key",
        ),
        pytest.param({"division": "scotland"}, "name", "is required", id="missing-name"),
        pytest.param({"name": "x"}, "division", "is required", id="missing-division"),
        pytest.param(
            _with(closures=[{"date": date(2026, 7, 1)}]),
            "closures[0].reason",
            "is required",
            id="missing-reason",
        ),
        pytest.param(
            _with(closures=[CLOSURE, {"date": date(2026, 7, 2), "reason": "   "}]),
            "closures[1].reason",
            "is required",
            id="blank-reason",
        ),
        pytest.param(
            _with(open_days=[{"date": date(2026, 5, 4)}]),
            "open_days[0].reason",
            "is required",
            id="missing-open-day-reason",
        ),
        pytest.param(
            _with(closures=[{"date": "2026-12-29", "reason": "x"}]),
            "closures[0].date",
            "must be a date like 2026-12-29, got '2026-12-29'",
            id="bad-date-text",
        ),
        pytest.param(
            _with(open_days=[{"date": time(9, 0), "reason": "x"}]),
            "open_days[0].date",
            "must be a date",
            id="bad-date-time",
        ),
        pytest.param(
            _with(closures=[{"from": date(2026, 12, 29), "reason": "x"}]),
            "closures[0].to",
            "must be a date",
            id="from-without-to",
        ),
        pytest.param(
            _with(closures=[{"from": date(2026, 12, 31), "to": date(2026, 12, 29), "reason": "x"}]),
            "closures[0].to",
            "is before from",
            id="to-before-from",
        ),
        pytest.param(
            _with(closures=[{**CLOSURE, "from": date(2026, 7, 1), "to": date(2026, 7, 2)}]),
            "closures[0]",
            "either date or from/to",
            id="date-and-range",
        ),
        pytest.param(
            _with(closures=[{"from": date(2026, 1, 1), "to": date(2027, 6, 1), "reason": "x"}]),
            "closures[0]",
            "longer than a year",
            id="closure-too-long",
        ),
        pytest.param(_with(closures={"date": "x"}), "closures", "array of tables", id="not-list"),
        pytest.param(_with(closures=["2026-07-01"]), "closures[0]", "table", id="not-a-table"),
        pytest.param(
            _with(weekend=["saturday", "sundy"]), "weekend", "day names are", id="bad-weekday"
        ),
        pytest.param(_with(weekend="saturday"), "weekend", "list of day names", id="not-a-list"),
        pytest.param(_with(cutoff="5pm"), "cutoff", 'time like "17:00"', id="bad-cutoff"),
        pytest.param(_with(cutoff="25:00"), "cutoff", "got '25:00'", id="cutoff-out-of-range"),
        pytest.param(_with(cutoff=1700), "cutoff", "got 1700", id="cutoff-number"),
    ],
)
def test_a_broken_calendar_names_the_source_the_key_and_the_problem(
    data: dict[str, Any], key: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as info:
        calendar_from_mapping(data, SOURCE)

    error = info.value
    assert error.source == SOURCE
    assert error.key == key
    assert problem in error.problem
    assert str(error).startswith(f"{SOURCE}: {key}: ")


def test_an_unknown_division_is_a_config_error_naming_the_source_and_the_known_divisions() -> None:
    with pytest.raises(ConfigError) as info:
        calendar_from_mapping(_with(division="wales"), SOURCE)

    message = str(info.value)
    assert message.startswith(SOURCE)
    assert "'wales'" in message
    assert "england-and-wales, scotland, northern-ireland" in message


def test_an_unknown_division_names_the_division_key() -> None:
    with pytest.raises(ConfigError) as info:
        calendar_from_mapping(_with(division="wales"), SOURCE)

    assert info.value.key == "division"
    assert str(info.value).startswith(f"{SOURCE}: division: ")

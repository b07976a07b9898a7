"""Properties of working-day arithmetic that hold for every date, count and division."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.calendar import WorkingCalendar
from sla.divisions import DIVISIONS
from sla.errors import DateOutOfRangeError

FIRST = date(2001, 1, 1)
LAST = date(2074, 6, 30)
# The latest start from which 400 working days still end by 31 December 2075 in every division
# (add(d, 400) for d after about 30 May 2074 runs off the calendar and raises instead).
LAST_FOR_ADD = date(2074, 5, 29)
MAX_N = 400

ONE_DAY = timedelta(days=1)

divisions = st.sampled_from(sorted(DIVISIONS))
any_dates = st.dates(min_value=FIRST, max_value=LAST)
add_dates = st.dates(min_value=FIRST, max_value=LAST_FOR_ADD)
counts = st.integers(min_value=0, max_value=MAX_N)
positive_counts = st.integers(min_value=1, max_value=MAX_N)

modest = settings(max_examples=200, deadline=None)

# The oracle: the ``holidays`` package read directly, built once per division.
ORACLE_HOLIDAYS = {
    division: holidays.country_holidays("GB", subdiv=code, years=range(2000, 2077))
    for division, code in DIVISIONS.items()
}


def calendar(division: str) -> WorkingCalendar:
    return WorkingCalendar.uk(division)


def naive_add(division: str, start: date, n: int) -> date:
    """Step one day at a time, counting weekdays that are not bank holidays."""
    bank_holidays = ORACLE_HOLIDAYS[division]
    day = start
    left = n
    while left:
        day += ONE_DAY
        if day.weekday() < 5 and day not in bank_holidays:
            left -= 1
    return day


@modest
@given(divisions, add_dates, counts)
def test_working_days_between_a_date_and_that_date_plus_n_working_days_is_n(
    division: str, start: date, n: int
) -> None:
    cal = calendar(division)

    assert cal.working_days_between(start, cal.add_working_days(start, n)) == n


@modest
@given(divisions, add_dates, counts)
def test_adding_working_days_agrees_with_a_day_by_day_count_over_the_bank_holidays(
    division: str, start: date, n: int
) -> None:
    assert calendar(division).add_working_days(start, n) == naive_add(division, start, n)


@modest
@given(divisions, add_dates, positive_counts)
def test_adding_one_or_more_working_days_lands_on_a_working_day_after_the_start(
    division: str, start: date, n: int
) -> None:
    cal = calendar(division)

    result = cal.add_working_days(start, n)

    assert result > start
    assert cal.is_working_day(result)


@modest
@given(divisions, add_dates, st.integers(min_value=1, max_value=MAX_N - 1))
def test_adding_one_more_working_day_gives_a_strictly_later_date(
    division: str, start: date, n: int
) -> None:
    cal = calendar(division)

    assert cal.add_working_days(start, n + 1) > cal.add_working_days(start, n)
    assert cal.add_working_days(start, n + 1) == cal.next_working_day(
        cal.add_working_days(start, n)
    )


@modest
@given(divisions, add_dates, add_dates, counts)
def test_a_later_start_never_gives_an_earlier_deadline(
    division: str, a: date, b: date, n: int
) -> None:
    cal = calendar(division)
    early, late = min(a, b), max(a, b)

    assert cal.add_working_days(early, n) <= cal.add_working_days(late, n)


@modest
@given(
    divisions,
    add_dates,
    st.integers(min_value=0, max_value=MAX_N // 2),
    st.integers(min_value=0, max_value=MAX_N // 2),
)
def test_adding_m_then_n_working_days_is_adding_m_plus_n(
    division: str, start: date, m: int, n: int
) -> None:
    cal = calendar(division)

    assert cal.add_working_days(cal.add_working_days(start, m), n) == cal.add_working_days(
        start, m + n
    )


@modest
@given(divisions, any_dates, any_dates)
def test_working_days_between_is_antisymmetric(division: str, a: date, b: date) -> None:
    cal = calendar(division)

    assert cal.working_days_between(a, b) == -cal.working_days_between(b, a)


@modest
@given(divisions, any_dates, any_dates, any_dates)
def test_working_days_between_adds_up_over_a_middle_date(
    division: str, a: date, b: date, c: date
) -> None:
    cal = calendar(division)

    assert cal.working_days_between(a, b) + cal.working_days_between(
        b, c
    ) == cal.working_days_between(a, c)


@modest
@given(divisions, any_dates)
def test_a_day_is_a_working_day_exactly_when_it_adds_one_to_the_count_from_the_day_before(
    division: str, day: date
) -> None:
    cal = calendar(division)
    expected = day.weekday() < 5 and day not in ORACLE_HOLIDAYS[division]

    assert cal.is_working_day(day) is expected
    assert cal.working_days_between(day - ONE_DAY, day) == int(expected)


@modest
@given(divisions, any_dates)
def test_working_day_on_or_after_is_the_first_working_day_not_before_the_day(
    division: str, day: date
) -> None:
    cal = calendar(division)

    result = cal.working_day_on_or_after(day)

    assert result >= day
    assert cal.is_working_day(result)
    assert cal.working_days_between(day, result) == (0 if result == day else 1)


@modest
@given(divisions, st.dates(min_value=date(2073, 6, 1), max_value=date(2075, 12, 31)), counts)
def test_adding_working_days_near_the_end_of_the_range_answers_or_says_out_of_range(
    division: str, start: date, n: int
) -> None:
    cal = calendar(division)
    expected = naive_add(division, start, n)

    if expected > cal.last_day:
        with pytest.raises(DateOutOfRangeError):
            cal.add_working_days(start, n)
    else:
        assert cal.add_working_days(start, n) == expected


@modest
@given(divisions, st.lists(st.tuples(add_dates, counts), min_size=1, max_size=20))
def test_batch_add_equals_single_adds(division: str, pairs: list[tuple[date, int]]) -> None:
    cal = calendar(division)
    starts = np.array([d for d, _ in pairs], dtype="datetime64[D]")
    ns = np.array([n for _, n in pairs], dtype=np.int64)

    result = cal.add_working_days_batch(starts, ns)

    assert [d.astype(object) for d in result] == [cal.add_working_days(d, n) for d, n in pairs]


@modest
@given(divisions, st.lists(st.tuples(any_dates, any_dates), min_size=1, max_size=20))
def test_batch_between_equals_single_calls(division: str, pairs: list[tuple[date, date]]) -> None:
    cal = calendar(division)
    starts = np.array([a for a, _ in pairs], dtype="datetime64[D]")
    ends = np.array([b for _, b in pairs], dtype="datetime64[D]")

    result = cal.working_days_between_batch(starts, ends)

    assert result.tolist() == [cal.working_days_between(a, b) for a, b in pairs]


@pytest.mark.parametrize("division", sorted(DIVISIONS))
def test_the_add_range_used_by_these_properties_really_fits_400_working_days(
    division: str,
) -> None:
    cal = calendar(division)

    assert cal.add_working_days(LAST_FOR_ADD, MAX_N) <= cal.last_day

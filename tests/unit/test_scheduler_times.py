"""When the nightly sweep fires (``nightly_fire_times``), around the UK clock changes.

Europe/London in 2026: on Sun 29 March the clocks go forward at 01:00 GMT (01:00-02:00 local does
not exist); on Sun 25 October they go back at 02:00 BST (01:00-02:00 local happens twice). A time
at or after 02:00 (the default, 02:00) exists exactly once on both nights.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from adapters.scheduler import nightly_fire_times, parse_time_of_day
from sla.errors import ConfigError
from sla.timezone import LONDON


def fires(at: time, start: datetime, count: int) -> list[datetime]:
    result = nightly_fire_times(at, start, count)
    assert len(result) == count
    return result


def local(fire: datetime) -> datetime:
    return fire.astimezone(LONDON)


@pytest.mark.parametrize(
    ("start", "change_night", "offsets"),
    [
        # Friday 27 March noon: fires on Sat 28 (GMT), Sun 29 (already BST), Mon 30, ...
        (
            datetime(2026, 3, 27, 12, tzinfo=LONDON),
            date(2026, 3, 29),
            [0, 1, 1, 1, 1],
        ),
        # Friday 23 October noon: fires on Sat 24 (BST), Sun 25 (already GMT), Mon 26, ...
        (
            datetime(2026, 10, 23, 12, tzinfo=LONDON),
            date(2026, 10, 25),
            [1, 0, 0, 0, 0],
        ),
    ],
    ids=["march-forward", "october-back"],
)
@pytest.mark.parametrize("at", [time(2, 0), time(2, 30)], ids=["0200", "0230"])
def test_from_0200_on_fires_exactly_once_per_calendar_day_london(
    start: datetime, change_night: date, offsets: list[int], at: time
) -> None:
    result = fires(at, start, 5)

    days = [local(f).date() for f in result]
    assert days == [start.date() + timedelta(days=i) for i in range(1, 6)]
    assert change_night in days
    assert len(set(days)) == len(days)  # once per night, the clock-change night included
    assert all(local(f).time() == at for f in result)
    # The UTC instant follows the offset in force: 02:30 GMT is 02:30Z, 02:30 BST is 01:30Z.
    assert [local(f).utcoffset() for f in result] == [timedelta(hours=h) for h in offsets]
    assert [f.astimezone(UTC).hour for f in result] == [2 - h for h in offsets]
    assert result == sorted(result)


@pytest.mark.parametrize("at", [time(2, 0), time(2, 30)], ids=["0200", "0230"])
def test_over_a_whole_year_it_fires_365_times_once_a_day(at: time) -> None:
    result = fires(at, datetime(2025, 12, 31, 12, tzinfo=LONDON), 365)

    days = [local(f).date() for f in result]
    assert days[0] == date(2026, 1, 1)
    assert days[-1] == date(2026, 12, 31)
    assert len(set(days)) == 365
    assert {local(f).time() for f in result} == {at}


def test_0130_what_apscheduler_does_on_the_clock_change_nights() -> None:
    """Documented, not recommended: 01:30 local is ambiguous on both nights.

    Observed with APScheduler 3.11: in March the non-existent 01:30 is fired at 01:30 UTC (02:30
    BST, one hour late), still once that night; in October 01:30 happens twice and the trigger
    fires at both (00:30 UTC in BST and 01:30 UTC in GMT). The database's ``sweep_runs`` row makes
    the second October fire a no-op (tests/integration/test_scheduler.py).
    """
    march = fires(time(1, 30), datetime(2026, 3, 27, 12, tzinfo=LONDON), 3)
    assert [f.astimezone(UTC) for f in march] == [
        datetime(2026, 3, 28, 1, 30, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # = 02:30 BST: the hour that does not exist
        datetime(2026, 3, 30, 0, 30, tzinfo=UTC),
    ]

    october = fires(time(1, 30), datetime(2026, 10, 23, 12, tzinfo=LONDON), 4)
    assert [f.astimezone(UTC) for f in october] == [
        datetime(2026, 10, 24, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 01:30 BST
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 01:30 GMT: the same night again
        datetime(2026, 10, 26, 1, 30, tzinfo=UTC),
    ]
    assert [local(f).date() for f in october].count(date(2026, 10, 25)) == 2


def test_a_start_instant_on_a_fire_time_is_itself_the_first_fire() -> None:
    # Observed: APScheduler's get_next_fire_time includes ``now`` when it matches, so "after
    # start" in the docstring means "at or after".
    exactly = datetime(2026, 3, 30, 2, 30, tzinfo=LONDON)
    assert [local(f) for f in nightly_fire_times(time(2, 30), exactly, 2)] == [
        exactly,
        datetime(2026, 3, 31, 2, 30, tzinfo=LONDON),
    ]
    after = nightly_fire_times(time(2, 30), exactly + timedelta(minutes=1), 1)[0]
    assert local(after) == datetime(2026, 3, 31, 2, 30, tzinfo=LONDON)


# -- parse_time_of_day -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("02:30", time(2, 30)), ("23:59", time(23, 59)), ("00:00", time(0, 0))],
)
def test_parse_time_of_day_reads_hh_mm(text: str, expected: time) -> None:
    assert parse_time_of_day(text) == expected


@pytest.mark.parametrize("text", ["", "2:30", "25:00", "02:60", "half past two", "02-30", "24:00"])
def test_parse_time_of_day_refuses_anything_else_with_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError, match="nightly_sweep_at"):
        parse_time_of_day(text)


def test_parse_time_of_day_refuses_a_utc_offset_the_scheduler_would_ignore() -> None:
    with pytest.raises(ConfigError):
        parse_time_of_day("02:30+01:00")

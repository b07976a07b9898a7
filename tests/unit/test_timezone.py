"""Instants become business dates in Europe/London, and only one way."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

import pytest

from sla.errors import CalendarError, InvalidDateError
from sla.timezone import LONDON, london_date, parse_date, parse_instant, require_aware, to_utc


class NoOffset(tzinfo):
    """A tzinfo that does not know its offset: as ambiguous as no tzinfo at all."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


# -- parse_date ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-12-19", date(2025, 12, 19)),
        ("  2025-12-19\n", date(2025, 12, 19)),
        ("2024-02-29", date(2024, 2, 29)),
        ("2000-01-01", date(2000, 1, 1)),
    ],
)
def test_parse_date_reads_an_iso_date(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "19/12/2025",
        "2025-13-01",
        "2025-02-29",
        "2025-12-32",
        "",
        "   ",
        "yesterday",
        "2025-12-19T10:00",
        "2025-12-19\nDROP TABLE complaints",
        "20251219",  # Python reads these; the commands document YYYY-MM-DD only
        "2025-W51-5",
    ],
)
def test_parse_date_rejects_anything_else_with_a_one_line_error_naming_the_input(
    text: str,
) -> None:
    with pytest.raises(InvalidDateError) as caught:
        parse_date(text)

    message = str(caught.value)
    assert "\n" not in message
    assert repr(text) in message
    assert "YYYY-MM-DD" in message


@pytest.mark.parametrize("value", [None, 20251219, date(2025, 12, 19)])
def test_parse_date_rejects_values_that_are_not_strings(value: object) -> None:
    with pytest.raises(InvalidDateError):
        parse_date(value)  # type: ignore[arg-type]


def test_an_invalid_date_error_is_a_calendar_error_and_a_value_error() -> None:
    with pytest.raises(InvalidDateError) as caught:
        parse_date("nope")

    assert isinstance(caught.value, CalendarError)
    assert isinstance(caught.value, ValueError)


# -- parse_instant ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A bare date is midnight in London: GMT in winter, BST (UTC+1) in summer.
        ("2025-12-19", datetime(2025, 12, 19, 0, 0, tzinfo=UTC)),
        ("2025-06-15", datetime(2025, 6, 14, 23, 0, tzinfo=UTC)),
        (" 2025-06-15 ", datetime(2025, 6, 14, 23, 0, tzinfo=UTC)),
    ],
)
def test_parse_instant_reads_a_bare_date_as_london_midnight_in_utc(
    text: str, expected: datetime
) -> None:
    result = parse_instant(text)

    assert result == expected
    assert result.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-12-15T09:30", datetime(2025, 12, 15, 9, 30, tzinfo=UTC)),
        ("2025-06-15T09:30", datetime(2025, 6, 15, 8, 30, tzinfo=UTC)),
        ("2025-06-15 09:30:15", datetime(2025, 6, 15, 8, 30, 15, tzinfo=UTC)),
    ],
)
def test_parse_instant_reads_a_datetime_without_an_offset_as_london_local_time(
    text: str, expected: datetime
) -> None:
    assert parse_instant(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-06-15T09:30+02:00", datetime(2025, 6, 15, 7, 30, tzinfo=UTC)),
        ("2025-06-15T09:30Z", datetime(2025, 6, 15, 9, 30, tzinfo=UTC)),
        ("2025-06-15T09:30+00:00", datetime(2025, 6, 15, 9, 30, tzinfo=UTC)),
        ("2025-12-15T09:30-05:00", datetime(2025, 12, 15, 14, 30, tzinfo=UTC)),
    ],
)
def test_parse_instant_respects_an_explicit_offset(text: str, expected: datetime) -> None:
    result = parse_instant(text)

    assert result == expected
    assert result.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text",
    [
        "yesterday",
        "",
        "2025-13-45",
        "2025-06-15T25:00",
        "15/06/2025 09:30",
        "2025-06-15T09:30+99",
        "20261110",
        "2026-W47-1",
        "2026-11-10T0930",
    ],
)
def test_parse_instant_rejects_garbage_with_a_one_line_error(text: str) -> None:
    with pytest.raises(InvalidDateError) as caught:
        parse_instant(text)

    message = str(caught.value)
    assert "\n" not in message
    assert repr(text) in message


# -- london_date, require_aware, to_utc ------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (datetime(2025, 6, 14, 23, 30, tzinfo=UTC), date(2025, 6, 15)),  # BST: already tomorrow
        (datetime(2025, 12, 14, 23, 30, tzinfo=UTC), date(2025, 12, 14)),  # GMT: same day
        (datetime(2025, 12, 15, 8, 0, tzinfo=timezone(timedelta(hours=10))), date(2025, 12, 14)),
        (datetime(2025, 12, 15, 0, 0, tzinfo=LONDON), date(2025, 12, 15)),
    ],
)
def test_london_date_is_the_calendar_date_in_london(instant: datetime, expected: date) -> None:
    assert london_date(instant) == expected


def test_london_date_rejects_a_naive_datetime() -> None:
    with pytest.raises(InvalidDateError, match="timezone"):
        london_date(datetime(2025, 6, 14, 23, 30))


def test_require_aware_returns_an_aware_datetime_unchanged() -> None:
    instant = datetime(2025, 6, 14, 23, 30, tzinfo=LONDON)

    assert require_aware(instant) is instant


@pytest.mark.parametrize(
    "instant", [datetime(2025, 6, 14, 23, 30), datetime(2025, 6, 14, 23, 30, tzinfo=NoOffset())]
)
def test_require_aware_rejects_a_datetime_without_a_known_offset(instant: datetime) -> None:
    with pytest.raises(InvalidDateError) as caught:
        require_aware(instant, "received time")

    message = str(caught.value)
    assert message.startswith("received time ")
    assert "\n" not in message


def test_to_utc_normalises_an_aware_datetime_and_rejects_a_naive_one() -> None:
    result = to_utc(datetime(2025, 6, 15, 9, 30, tzinfo=LONDON))

    assert result == datetime(2025, 6, 15, 8, 30, tzinfo=UTC)
    assert result.utcoffset() == timedelta(0)
    with pytest.raises(InvalidDateError):
        to_utc(datetime(2025, 6, 15, 9, 30))


def test_a_local_time_the_clocks_skip_is_refused() -> None:
    # Sun 29 March 2026: 01:00 GMT becomes 02:00 BST, so 01:30 never happens in London.
    with pytest.raises(InvalidDateError, match="does not exist in London"):
        parse_instant("2026-03-29T01:30")
    assert parse_instant("2026-03-29T00:59") == datetime(2026, 3, 29, 0, 59, tzinfo=UTC)
    assert parse_instant("2026-03-29T02:00") == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert parse_instant("2026-03-29T01:30+00:00") == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_a_local_time_the_clocks_repeat_is_the_first_unless_an_offset_says_otherwise() -> None:
    # Sun 25 October 2026: 02:00 BST becomes 01:00 GMT, so 01:30 happens twice.
    assert parse_instant("2026-10-25T01:30") == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert parse_instant("2026-10-25T01:30+00:00") == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)

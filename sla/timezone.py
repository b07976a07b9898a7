"""The one place instants become business dates.

Timestamps are stored in UTC; every working-day rule runs on the date in Europe/London.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sla.errors import InvalidDateError

LONDON = ZoneInfo("Europe/London")


def require_aware(ts: datetime, what: str = "timestamp") -> datetime:
    """Return ``ts`` unchanged, or raise if it has no timezone (a naive time is ambiguous)."""
    if ts.tzinfo is None or ts.tzinfo.utcoffset(ts) is None:
        raise InvalidDateError(f"{what} {ts.isoformat()} has no timezone; give an offset or Z")
    return ts


def to_utc(ts: datetime) -> datetime:
    """Normalise an aware datetime to UTC."""
    return require_aware(ts).astimezone(UTC)


def london_date(ts: datetime) -> date:
    """The Europe/London calendar date of an instant."""
    return require_aware(ts).astimezone(LONDON).date()


def parse_date(text: str) -> date:
    """Read an ISO date (``2025-12-19``), with a one-line error naming the bad input."""
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, TypeError, AttributeError):
        raise InvalidDateError(f"not a date: {text!r} (expected YYYY-MM-DD)") from None


def parse_instant(text: str) -> datetime:
    """Read an ISO date or datetime as an aware instant.

    A bare date means the start of that day in London; a datetime without an offset is read as
    London local time (what a coordinator typing a letter's date means). Either way the result is
    UTC.
    """
    if not isinstance(text, str):
        raise InvalidDateError(f"not a date or time: {text!r}")
    raw = text.strip()
    try:
        if len(raw) == 10:
            d = date.fromisoformat(raw)
            parsed = datetime(d.year, d.month, d.day, tzinfo=LONDON)
        else:
            parsed = datetime.fromisoformat(raw)
    except (ValueError, TypeError):
        raise InvalidDateError(
            f"not a date or time: {text!r} (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM[+00:00])"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LONDON)
    return parsed.astimezone(UTC)

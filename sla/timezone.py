"""The one place instants become business dates.

Timestamps are stored in UTC; every working-day rule runs on the date in Europe/London.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sla.errors import InvalidDateError

LONDON = ZoneInfo("Europe/London")

# The forms the commands document: YYYY-MM-DD, optionally THH:MM[:SS[.ffffff]] and Z or +HH:MM
# (Python's own ISO reader also takes week dates and digits run together: not ours to accept).
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?"
)


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
        raw = text.strip()
        if not _DATE.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except (ValueError, TypeError, AttributeError):
        raise InvalidDateError(f"not a date: {text!r} (expected YYYY-MM-DD)") from None


def parse_instant(text: str) -> datetime:
    """Read an ISO date or datetime as an aware instant.

    A bare date means the start of that day in London; a datetime without an offset is read as
    London local time (what a coordinator typing a letter's date means). Either way the result is
    UTC. A local time the clocks skip (01:00-02:00 on the last Sunday of March) is refused; one
    they repeat (01:00-02:00 on the last Sunday of October) is the first, still in summer time
    (give an offset to mean the second).
    """
    if not isinstance(text, str):
        raise InvalidDateError(f"not a date or time: {text!r}")
    raw = text.strip()
    try:
        if not _INSTANT.fullmatch(raw):
            raise ValueError(raw)
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
        local = parsed.replace(tzinfo=LONDON)
        if local.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) != parsed:
            raise InvalidDateError(
                f"{raw} does not exist in London: the clocks go forward an hour that night"
            )
        parsed = local
    return parsed.astimezone(UTC)

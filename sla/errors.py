"""The error hierarchy every layer shares.

``sla`` is the bottom layer, so the root error lives here; ``engine`` and ``adapters`` subclass it.
Each subclass also inherits the matching built-in (``ValueError``, ``LookupError``) so callers that
know nothing of this project still catch them sensibly. Messages are one line and never contain
personal data: they are printed by the CLI and may be logged.
"""

from __future__ import annotations


class ComplaintsError(Exception):
    """Root of every error this project raises on purpose."""


class CalendarError(ComplaintsError, ValueError):
    """A working-day calculation was asked something it cannot answer."""


class UnknownDivisionError(CalendarError, LookupError):
    """The bank-holiday division is not one of the UK's three."""

    def __init__(self, division: str, known: tuple[str, ...]) -> None:
        self.division = division
        self.known = known
        super().__init__(f"unknown calendar {division!r}; known calendars: {', '.join(known)}")


class DateOutOfRangeError(CalendarError):
    """A date (or a result) falls outside the years the calendar was built for."""

    def __init__(self, value: object, first: object, last: object) -> None:
        self.value = value
        super().__init__(f"date {value} is outside the supported range {first} to {last}")


class InvalidDateError(CalendarError):
    """A string could not be read as an ISO date or datetime."""


class NegativeDaysError(CalendarError):
    """A number of working days to add was negative."""

    def __init__(self, days: int) -> None:
        self.days = days
        super().__init__(f"number of working days must be 0 or more, got {days}")


class ConfigError(ComplaintsError, ValueError):
    """A configuration or policy file is missing, malformed or inconsistent.

    The message names the file, the key and the problem.
    """

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {problem}")


class UnknownPolicyError(ComplaintsError, LookupError):
    """No policy with that id (or none that applies on that date)."""

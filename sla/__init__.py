"""Working-day calendars and SLA policies for UK social-housing complaints.

Pure domain logic: no I/O beyond reading the built-in policy files shipped with the package.
"""

from sla.calendar import DayOverride, NonWorkingDay, WorkingCalendar
from sla.divisions import DIVISIONS
from sla.errors import (
    CalendarError,
    ComplaintsError,
    ConfigError,
    DateOutOfRangeError,
    InvalidDateError,
    NegativeDaysError,
    UnknownDivisionError,
    UnknownPolicyError,
)

__all__ = [
    "DIVISIONS",
    "CalendarError",
    "ComplaintsError",
    "ConfigError",
    "DateOutOfRangeError",
    "DayOverride",
    "InvalidDateError",
    "NegativeDaysError",
    "NonWorkingDay",
    "UnknownDivisionError",
    "UnknownPolicyError",
    "WorkingCalendar",
]

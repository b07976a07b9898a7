"""``WorkingCalendar``: which dates are working days, and O(1) arithmetic on them.

Contract (the product's, documented in the README):

* ``add_working_days(d, n)`` is the n-th working day strictly after ``d`` for ``n >= 1``; ``d``
  itself never counts, whether or not it is a working day. ``n == 0`` returns ``d``.
* ``working_days_between(a, b)`` counts working days in the half-open range ``(a, b]``; it is
  negative (mirrored) when ``b < a``, so ``between(d, add(d, n)) == n``.

Everything is precomputed once per calendar as a cumulative index over ``FIRST_YEAR`` to
``LAST_YEAR``: ``cum[i]`` is the number of working days from the first day up to and including day
``i``. A single call is then a couple of list look-ups, and the batch forms are numpy fancy
indexing over the same index.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from sla.divisions import bank_holidays, check_division
from sla.errors import CalendarError, DateOutOfRangeError, NegativeDaysError
from sla.timezone import LONDON, require_aware

FIRST_YEAR = 2000
LAST_YEAR = 2075
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_EPOCH = date(1970, 1, 1).toordinal()

DateArray = npt.NDArray[np.datetime64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class DayOverride:
    """A landlord's own change to the bank-holiday calendar, always with a reason.

    ``working=False`` is a closure (a Christmas shutdown, a bank holiday proclaimed after the
    ``holidays`` release); ``working=True`` is a bank holiday the landlord stays open on.
    """

    day: date
    reason: str
    working: bool = False

    def __post_init__(self) -> None:
        if type(self.day) is not date:
            raise CalendarError(f"override day must be a date, got {self.day!r}")
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise CalendarError(f"override on {self.day} needs a reason")


@dataclass(frozen=True, slots=True)
class NonWorkingDay:
    """One weekday that is not a working day, and why."""

    day: date
    reason: str
    source: str  # "bank-holiday" or "closure"


class WorkingCalendar:
    """Working days for one UK bank-holiday division and one landlord.

    Build the plain division calendar with :meth:`uk`; a landlord's calendar adds closures, open
    days, a different weekend or a daily cut-off time. Instances are immutable and thread-safe.
    """

    # No __slots__: __init__ shadows the two hot methods with closures over the index, which
    # saves the method-binding and attribute look-ups on every call (measured in bench/).

    def __init__(
        self,
        division: str,
        *,
        name: str | None = None,
        weekend: Iterable[int] = (5, 6),
        overrides: Iterable[DayOverride] = (),
        cutoff: time | None = None,
        first_year: int = FIRST_YEAR,
        last_year: int = LAST_YEAR,
    ) -> None:
        check_division(division)
        self.division = division
        self.name = name or division
        self._weekend = frozenset(_check_weekday(w) for w in weekend)
        if len(self._weekend) == 7:
            raise CalendarError("a weekend cannot cover all seven days")
        self._cutoff = cutoff
        self._first = date(first_year, 1, 1)
        self._last = date(last_year, 12, 31)
        self._holidays = bank_holidays(division, first_year, last_year)
        self._overrides = _index_overrides(overrides)
        for day in self._overrides:
            if not self._first <= day <= self._last:
                raise DateOutOfRangeError(day, self._first, self._last)
        self._base = self._first.toordinal()
        self._span = self._last.toordinal() - self._base + 1
        self._build_index()
        self._fingerprint = self._compute_fingerprint()
        self.add_working_days = self._fast_add()  # type: ignore[method-assign,assignment]
        self.working_days_between = self._fast_between()  # type: ignore[method-assign,assignment]

    @classmethod
    def uk(cls, division: str) -> WorkingCalendar:
        """The plain calendar of a GOV.UK division (shared, built once per process)."""
        check_division(division)
        return _uk_calendar(division)

    # -- construction ------------------------------------------------------------------------

    def _is_working(self, day: date) -> bool:
        override = self._overrides.get(day)
        if override is not None:
            return override.working
        return day.weekday() not in self._weekend and day not in self._holidays

    def _build_index(self) -> None:
        cum: list[int] = []
        workdays: list[date] = []
        count = 0
        day = self._first
        one = timedelta(days=1)
        for _ in range(self._span):
            if self._is_working(day):
                count += 1
                workdays.append(day)
            cum.append(count)
            day += one
        self._cum = cum
        self._workday_dates = workdays
        # date -> (working days up to and including it) - 1, so that ``position[d] + n`` indexes
        # the n-th working day after d in ``workdays``.
        first = self._first
        self._position = {first + timedelta(days=i): c - 1 for i, c in enumerate(cum)}
        self._cum_np = np.asarray(cum, dtype=np.int64)
        self._workdays_np = np.asarray(
            [d.toordinal() - _EPOCH for d in workdays], dtype=np.int64
        ).astype("datetime64[D]")

    def _compute_fingerprint(self) -> str:
        closed = [d.isoformat() for d in self.non_working_weekdays()]
        opened = sorted(d.isoformat() for d, o in self._overrides.items() if o.working)
        payload = {
            "division": self.division,
            "range": [self._first.isoformat(), self._last.isoformat()],
            "weekend": sorted(self._weekend),
            "closed": closed,
            "opened": opened,
            "cutoff": self._cutoff.isoformat() if self._cutoff else None,
        }
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    # -- properties ----------------------------------------------------------------------------

    @property
    def fingerprint(self) -> str:
        """A stable hash of every non-working day, the weekend and the cut-off.

        Stored beside computed deadlines so a changed calendar (a newly proclaimed bank holiday,
        a new closure) can be detected and the deadlines recomputed.
        """
        return self._fingerprint

    @property
    def first_day(self) -> date:
        return self._first

    @property
    def last_day(self) -> date:
        return self._last

    @property
    def cutoff(self) -> time | None:
        return self._cutoff

    @property
    def weekend(self) -> frozenset[int]:
        return self._weekend

    # -- single-date operations (O(1)) -----------------------------------------------------------

    def _offset(self, day: date) -> int:
        if day.__class__ is not date:
            raise CalendarError(f"expected a date, got {type(day).__name__}: {day!r}")
        i = day.toordinal() - self._base
        if i < 0 or i >= self._span:
            raise DateOutOfRangeError(day, self._first, self._last)
        return i

    def is_working_day(self, day: date) -> bool:
        """True when ``day`` is neither a weekend day, a bank holiday nor a closure."""
        i = self._offset(day)
        return self._cum[i] != (self._cum[i - 1] if i else 0)

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day strictly after ``day``; ``n == 0`` returns ``day``."""
        return self._slow_add(day, n)

    def _slow_add(self, day: date, n: int) -> date:
        """Validating path: diagnoses every input the fast closure cannot answer."""
        i = self._offset(day)
        if isinstance(n, bool) or not isinstance(n, int):
            raise CalendarError(f"number of working days must be an integer, got {n!r}")
        if n < 0:
            raise NegativeDaysError(n)
        if n == 0:
            return day
        k = self._cum[i] + n - 1
        if k >= len(self._workday_dates):
            raise DateOutOfRangeError(f"{day} + {n} working days", self._first, self._last)
        return self._workday_dates[k]

    def _fast_add(self) -> Callable[[date, int], date]:
        position, workdays, slow = self._position, self._workday_dates, self._slow_add

        def add_working_days(day: date, n: int) -> date:
            if n > 0:
                try:
                    return workdays[position[day] + n]
                except (KeyError, IndexError, TypeError):
                    pass
            return slow(day, n)

        add_working_days.__doc__ = WorkingCalendar.add_working_days.__doc__
        return add_working_days

    def _fast_between(self) -> Callable[[date, date], int]:
        position, slow = self._position, self._slow_between

        def working_days_between(start: date, end: date) -> int:
            try:
                return position[end] - position[start]
            except (KeyError, TypeError):
                return slow(start, end)

        working_days_between.__doc__ = WorkingCalendar.working_days_between.__doc__
        return working_days_between

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in ``(start, end]``; negative (mirrored) when ``end < start``."""
        return self._slow_between(start, end)

    def _slow_between(self, start: date, end: date) -> int:
        position = self._position
        try:
            return position[end] - position[start]
        except (KeyError, TypeError):
            self._offset(start)
            self._offset(end)
            raise

    def subtract_working_days(self, day: date, n: int) -> date:
        """The n-th working day strictly before ``day``; ``n == 0`` returns ``day``.

        The mirror of :meth:`add_working_days`: ``between(subtract(d, n), d) == n`` when ``d`` is a
        working day.
        """
        i = self._offset(day)
        if isinstance(n, bool) or not isinstance(n, int):
            raise CalendarError(f"number of working days must be an integer, got {n!r}")
        if n < 0:
            raise NegativeDaysError(n)
        if n == 0:
            return day
        # Working days up to and including the day before ``day``, then step back n - 1 more.
        k = (self._cum[i - 1] if i else 0) - n
        if k < 0:
            raise DateOutOfRangeError(f"{day} - {n} working days", self._first, self._last)
        return self._workday_dates[k]

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day`` (``add_working_days(day, 1)``)."""
        return self.add_working_days(day, 1)

    def working_day_on_or_after(self, day: date) -> date:
        """``day`` itself when it is a working day, else the next one."""
        return day if self.is_working_day(day) else self.add_working_days(day, 1)

    def received_on(self, instant: datetime) -> date:
        """The business date (day 0) of something received at ``instant``.

        The London date of the instant; when a cut-off time is configured and the London time is
        after it, the next working day instead.
        """
        local = require_aware(instant, "received time").astimezone(LONDON)
        day = local.date()
        if self._cutoff is not None and local.time().replace(tzinfo=None) > self._cutoff:
            return self.next_working_day(day)
        self._offset(day)
        return day

    def working_day_index(self, day: date) -> int:
        """Working days from the calendar's first day up to and including ``day``.

        ``between(a, b) == index(b) - index(a)``: the same index stored as a table lets the
        database do sweep arithmetic.
        """
        return self._cum[self._offset(day)]

    # -- batch operations (numpy) ---------------------------------------------------------------

    def _offsets(self, days: npt.ArrayLike) -> IntArray:
        arr = np.asarray(days, dtype="datetime64[D]")
        idx = arr.view(np.int64) - (self._base - _EPOCH)
        if idx.size and (idx.min() < 0 or idx.max() >= self._span):
            bad = arr[(idx < 0) | (idx >= self._span)][0]
            raise DateOutOfRangeError(bad, self._first, self._last)
        return idx

    def add_working_days_batch(self, days: npt.ArrayLike, n: npt.ArrayLike) -> DateArray:
        """Vectorised :meth:`add_working_days` over arrays (``datetime64[D]`` in and out).

        ``n`` may be one integer or an array the same shape as ``days``.
        """
        arr = np.atleast_1d(np.asarray(days, dtype="datetime64[D]"))
        counts = np.asarray(n, dtype=np.int64)
        if counts.ndim and counts.shape != arr.shape:
            raise CalendarError(f"days and n differ in shape: {arr.shape} and {counts.shape}")
        if counts.size and counts.min() < 0:
            raise NegativeDaysError(int(counts.min()))
        k = self._cum_np.take(self._offsets(arr))
        k += counts - 1
        if k.size and k.max() >= self._workdays_np.size:
            raise DateOutOfRangeError("a result", self._first, self._last)
        np.maximum(k, 0, out=k)
        result: DateArray = self._workdays_np.take(k)
        if counts.size and counts.min() == 0:
            np.copyto(result, arr, where=counts == 0)
        return result

    def working_days_between_batch(self, starts: npt.ArrayLike, ends: npt.ArrayLike) -> IntArray:
        """Vectorised :meth:`working_days_between`."""
        cum = self._cum_np
        starts = np.atleast_1d(np.asarray(starts, dtype="datetime64[D]"))
        ends = np.atleast_1d(np.asarray(ends, dtype="datetime64[D]"))
        if starts.shape != ends.shape:
            raise CalendarError(f"starts and ends differ in shape: {starts.shape} and {ends.shape}")
        result: IntArray = cum.take(self._offsets(ends))
        result -= cum.take(self._offsets(starts))
        return result

    # -- listings -------------------------------------------------------------------------------

    def non_working_weekdays(
        self, first: date | None = None, last: date | None = None
    ) -> list[date]:
        """Weekdays outside the weekend that are not working days, in order."""
        start = first or self._first
        stop = last or self._last
        days = set(self._holidays) | set(self._overrides)
        return sorted(
            d
            for d in days
            if start <= d <= stop and d.weekday() not in self._weekend and not self._is_working(d)
        )

    def non_working_days(self, year: int) -> list[NonWorkingDay]:
        """The year's non-working days other than weekends, each with its name."""
        if not self._first.year <= year <= self._last.year:
            raise DateOutOfRangeError(year, self._first.year, self._last.year)
        result = []
        for day in self.non_working_weekdays(date(year, 1, 1), date(year, 12, 31)):
            override = self._overrides.get(day)
            if override is not None:
                result.append(NonWorkingDay(day, override.reason, "closure"))
            else:
                result.append(NonWorkingDay(day, self._holidays[day], "bank-holiday"))
        return result

    def describe(self) -> Mapping[str, Any]:
        """A JSON-friendly summary (for ``show`` output and logs)."""
        return {
            "name": self.name,
            "division": self.division,
            "fingerprint": self._fingerprint,
            "weekend": [WEEKDAY_NAMES[w] for w in sorted(self._weekend)],
            "cutoff": self._cutoff.isoformat(timespec="minutes") if self._cutoff else None,
        }

    def __repr__(self) -> str:
        return f"WorkingCalendar({self.name!r}, division={self.division!r})"


def _check_weekday(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 6:
        raise CalendarError(f"weekend days are 0 (Monday) to 6 (Sunday), got {value!r}")
    return value


def _index_overrides(overrides: Iterable[DayOverride]) -> dict[date, DayOverride]:
    result: dict[date, DayOverride] = {}
    for override in overrides:
        previous = result.get(override.day)
        if previous is not None and previous.working != override.working:
            raise CalendarError(f"{override.day} is both a closure and an open day")
        result[override.day] = override
    return result


@cache
def _uk_calendar(division: str) -> WorkingCalendar:
    return WorkingCalendar(division)

"""Report arithmetic: rates, averages, medians, the hotspot test and the reporting periods.

Pure functions on counts that the database has already aggregated, so every figure a report
prints can be recomputed by hand from the numerators and denominators it shows. Rounding is
half-up on exact ``Decimal`` values (a published TSM figure must not depend on binary floats):
rates per 1,000 homes to 2 decimal places, percentages and averages to 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

RATE_PLACES = 2
PERCENT_PLACES = 1
AVERAGE_PLACES = 1

# The hotspot rule (README, "Reports"): a category x area is unusually busy when, with the
# historical mean of its 12 previous same-length periods as a Poisson rate (floored at 0.5 so a
# quiet combination is not flagged for two complaints), P(X >= observed) < 0.01, and at least
# 3 complaints were received.
HOTSPOT_HISTORY = 12
HOTSPOT_ALPHA = Decimal("0.01")
HOTSPOT_MIN_COUNT = 3
HOTSPOT_RATE_FLOOR = 0.5


def round_half_up(value: Decimal, places: int) -> Decimal:
    """``value`` rounded half away from zero to ``places`` decimal places."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def ratio(numerator: int, denominator: int, scale: int, places: int) -> Decimal | None:
    """``numerator / denominator * scale`` rounded; ``None`` when the denominator is zero."""
    if denominator <= 0:
        return None
    return round_half_up(Decimal(numerator) * scale / Decimal(denominator), places)


def per_thousand(count: int, homes: int | None) -> Decimal | None:
    """TSM CH01: complaints per 1,000 homes (``None`` when the number of homes is unknown)."""
    if homes is None:
        return None
    return ratio(count, homes, 1000, RATE_PLACES)


def percentage(part: int, whole: int) -> Decimal | None:
    """``part`` as a percentage of ``whole``, to one decimal place (``None`` for 0 of 0)."""
    return ratio(part, whole, 100, PERCENT_PLACES)


def count_of(histogram: Mapping[int, int]) -> int:
    return sum(histogram.values())


def mean_of(histogram: Mapping[int, int]) -> Decimal | None:
    """The mean of values given as ``{value: how many}``, to one decimal place."""
    n = count_of(histogram)
    if n == 0:
        return None
    total = sum(value * count for value, count in histogram.items())
    return round_half_up(Decimal(total) / n, AVERAGE_PLACES)


def median_of(histogram: Mapping[int, int]) -> Decimal | None:
    """The median of values given as ``{value: how many}`` (the mean of the two middle values
    when there is an even number), exact to one decimal place."""
    n = count_of(histogram)
    if n == 0:
        return None
    lower_rank, upper_rank = (n - 1) // 2, n // 2  # 0-based ranks of the middle value(s)
    lower = upper = None
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if lower is None and seen > lower_rank:
            lower = value
        if seen > upper_rank:
            upper = value
            break
    assert lower is not None and upper is not None
    return round_half_up(Decimal(lower + upper) / 2, AVERAGE_PLACES)


# -- the hotspot test ----------------------------------------------------------------------------


def poisson_tail(observed: int, rate: float) -> float:
    """P(X >= observed) for X ~ Poisson(rate), summed exactly term by term."""
    if observed <= 0:
        return 1.0
    term = math.exp(-rate)
    below = term
    for k in range(1, observed):
        term *= rate / k
        below += term
    return max(0.0, 1.0 - below)


@dataclass(frozen=True, slots=True)
class HotspotTest:
    """One category x area: this period's count against its own history."""

    observed: int
    history: tuple[int, ...]
    mean: Decimal
    sd: Decimal
    rate: Decimal
    p_value: float
    flagged: bool


def hotspot_test(observed: int, history: Sequence[int]) -> HotspotTest:
    """Test ``observed`` against ``history`` (the previous periods' counts, oldest first)."""
    n = len(history)
    mean = Decimal(sum(history)) / n if n else Decimal(0)
    squares = sum((Decimal(h) - mean) ** 2 for h in history)
    variance = Decimal(squares) / (n - 1) if n > 1 else Decimal(0)
    rate = max(float(mean), HOTSPOT_RATE_FLOOR)
    p_value = poisson_tail(observed, rate)
    return HotspotTest(
        observed=observed,
        history=tuple(history),
        mean=round_half_up(mean, 2),
        sd=round_half_up(variance.sqrt(), 2),
        rate=round_half_up(Decimal(str(rate)), 2),
        p_value=p_value,
        flagged=observed >= HOTSPOT_MIN_COUNT and p_value < float(HOTSPOT_ALPHA),
    )


# -- periods ---------------------------------------------------------------------------------


def reporting_year(year: int) -> tuple[date, date]:
    """The TSM reporting year that starts in April of ``year``: 1 April to 31 March."""
    return date(year, 4, 1), date(year + 1, 3, 31)


def month_keys(start: date, end: date) -> list[str]:
    """``YYYY-MM`` for every calendar month that overlaps ``[start, end]``."""
    keys = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return keys


def _month_start(year: int, month: int) -> date:
    """The first day of a month given possibly out of range (month 0 is last December)."""
    year += (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, 1)


def whole_months(start: date, end: date) -> int | None:
    """How many whole calendar months ``[start, end]`` is, or ``None`` if it is not."""
    if start.day != 1 or (end + timedelta(days=1)).day != 1 or end < start:
        return None
    return (end.year - start.year) * 12 + end.month - start.month + 1


def history_windows(
    start: date, end: date, count: int = HOTSPOT_HISTORY
) -> list[tuple[date, date]]:
    """The ``count`` periods of the same length just before ``[start, end]``, oldest first.

    A period of whole calendar months is compared with the same number of whole months before
    it (a month against the 12 months before it); any other period with blocks of the same
    number of days.
    """
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    months = whole_months(start, end)
    windows = []
    for k in range(count, 0, -1):
        if months is not None:
            first = _month_start(start.year, start.month - k * months)
            after = _month_start(start.year, start.month - (k - 1) * months)
            windows.append((first, after - timedelta(days=1)))
        else:
            length = (end - start).days + 1
            first = start - timedelta(days=k * length)
            windows.append((first, first + timedelta(days=length - 1)))
    return windows


def previous_month(today: date) -> tuple[date, date]:
    """The last complete calendar month before ``today`` (the hotspot report's default)."""
    first_this = today.replace(day=1)
    last = first_this - timedelta(days=1)
    return last.replace(day=1), last

"""Benchmark ``sla.calendar.WorkingCalendar`` against the obvious alternatives.

Run from the repository root (a measurement, not a test; exit 1 only if a correctness check fails):

    python bench/calendar.py [--pairs 1000000] [--division england-and-wales] [--quick]

In one run it measures single-call ``add_working_days`` (n = 10) and ``working_days_between``
against a plain day-by-day loop over the ``holidays`` package, and the batch forms against
``numpy.busday_offset`` / ``numpy.busday_count`` on the same random (start, n) pairs, then prints
each figure, each ratio and whether each target is met. ``--quick`` is a smoke test for CI.
"""

# The sys.path fix below has to run before the third-party imports.
# ruff: noqa: E402

from __future__ import annotations

import argparse
import gc
import platform
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

# ``python bench/calendar.py`` puts bench/ first on sys.path, where this file would shadow the
# standard library's ``calendar`` (``holidays`` imports it): swap that entry for the repo root.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import holidays
import numpy as np

from bench._common import CheckFailed, check
from sla.calendar import FIRST_YEAR, LAST_YEAR, WorkingCalendar
from sla.divisions import DIVISIONS

SEED = 20_250_101
FIRST, LAST = date(2020, 1, 1), date(2030, 12, 31)  # spread of start dates
SPAN = LAST.toordinal() - FIRST.toordinal() + 1
MAX_N, MAX_GAP = 30, 42  # n in 0..30 working days; between spans 0..6 weeks
ONE = timedelta(days=1)
TARGET_SINGLE, TARGET_NAIVE, TARGET_BUSDAY = 1_000_000.0, 50.0, 4.0


def naive_add(day: date, n: int, hols: holidays.HolidayBase) -> date:
    """The n-th working day strictly after ``day``, one calendar day at a time."""
    while n > 0:
        day += ONE
        if day.weekday() < 5 and day not in hols:
            n -= 1
    return day


def naive_between(start: date, end: date, hols: holidays.HolidayBase) -> int:
    """Working days in ``(start, end]``, negative when ``end < start``."""
    sign = 1
    if end < start:
        start, end, sign = end, start, -1
    count = 0
    while start < end:
        start += ONE
        if start.weekday() < 5 and start not in hols:
            count += 1
    return sign * count


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    """Fastest of ``repeats`` runs of ``fn`` in seconds (GC off while timing, as timeit does)."""
    times: list[float] = []
    for _ in range(repeats):
        gc.disable()
        try:
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return min(times)


def random_dates(rng: np.random.Generator, count: int) -> list[date]:
    return [date.fromordinal(FIRST.toordinal() + int(i)) for i in rng.integers(0, SPAN, count)]


def shifted(rng: np.random.Generator, days: list[date], low: int) -> list[date]:
    """Each day moved by a random low..MAX_GAP calendar days."""
    return [
        d + timedelta(days=int(g))
        for d, g in zip(days, rng.integers(low, MAX_GAP + 1, len(days)), strict=True)
    ]


def run(division: str, pairs: int, singles: int, naives: int, repeats: int) -> None:
    rng = np.random.default_rng(SEED)
    built = time.perf_counter()
    cal = WorkingCalendar.uk(division)
    built = time.perf_counter() - built
    hols = holidays.country_holidays(
        "GB", subdiv=DIVISIONS[division], years=range(FIRST_YEAR, LAST_YEAR + 1)
    )
    closed = np.array(cal.non_working_weekdays(), dtype="datetime64[D]")
    add, between = cal.add_working_days, cal.working_days_between

    print(
        f"{division} {FIRST_YEAR}-{LAST_YEAR}: {len(closed)} non-working weekdays, index built in"
        f" {built * 1000:.0f} ms\nPython {platform.python_version()}, numpy {np.__version__},"
        f" holidays {holidays.__version__}; starts {FIRST} to {LAST}\npairs {pairs:,}, single"
        f" calls {singles:,}, naive calls {naives:,}, best of {repeats}"
    )

    # -- correctness first ----------------------------------------------------------------------
    print("\ncorrectness")
    sample = random_dates(rng, 1_000)
    ns = [int(n) for n in rng.integers(0, MAX_N + 1, len(sample))]
    pairs_s = list(zip(sample, shifted(rng, sample, -MAX_GAP), strict=True))
    check(
        all(add(d, n) == naive_add(d, n, hols) for d, n in zip(sample, ns, strict=True)),
        "1,000 add_working_days calls (n 0..30) == naive holidays loop",
    )
    check(
        all(between(a, b) == naive_between(a, b, hols) for a, b in pairs_s),
        "1,000 working_days_between calls (±6 weeks) == naive holidays loop",
    )
    starts = np.datetime64(FIRST, "D") + rng.integers(0, SPAN, pairs)
    counts = rng.integers(0, MAX_N + 1, pairs)
    ends = starts + rng.integers(0, MAX_GAP + 1, pairs)
    # busday_count counts [a, b); ours counts (a, b], i.e. busday_count(a + 1, b + 1).
    starts1, ends1 = starts + 1, ends + 1
    ours = cal.add_working_days_batch(starts, counts)
    ref = np.busday_offset(starts, counts, roll="backward", holidays=closed)
    pos = counts > 0
    check(
        bool(np.array_equal(ours[pos], ref[pos])),
        f"add batch == busday_offset for n > 0 ({pos.sum():,})",
    )
    check(bool(np.array_equal(ours[~pos], starts[~pos])), "add batch returns the start for n == 0")
    print(f"      ({(ours != ref).sum():,} n == 0 pairs on a non-working start: busday rolls back)")
    got = cal.working_days_between_batch(starts, ends)
    check(
        bool(np.array_equal(got, np.busday_count(starts1, ends1, holidays=closed))),
        "between batch == busday_count(a + 1, b + 1)",
    )
    pick = rng.integers(0, pairs, 1_000)
    check(
        all(add(starts[i].item(), int(counts[i])) == ours[i].item() for i in pick)
        and all(between(starts[i].item(), ends[i].item()) == got[i] for i in pick),
        "1,000 batch results == single calls",
    )

    # -- timing ---------------------------------------------------------------------------------
    days = random_dates(rng, singles)
    spans = list(zip(days, shifted(rng, days, 0), strict=True))
    few_days, few_spans = days[:naives], spans[:naives]

    t_add = singles / best_of(repeats, lambda: [add(d, 10) for d in days])
    t_btw = singles / best_of(repeats, lambda: [between(a, b) for a, b in spans])
    n_add = naives / best_of(repeats, lambda: [naive_add(d, 10, hols) for d in few_days])
    n_btw = naives / best_of(repeats, lambda: [naive_between(a, b, hols) for a, b in few_spans])
    b_add = pairs / best_of(repeats, lambda: cal.add_working_days_batch(starts, counts))
    b_btw = pairs / best_of(repeats, lambda: cal.working_days_between_batch(starts, ends))
    o_add = pairs / best_of(
        repeats, lambda: np.busday_offset(starts, counts, roll="backward", holidays=closed)
    )
    o_btw = pairs / best_of(repeats, lambda: np.busday_count(starts1, ends1, holidays=closed))

    head = f"{'sla.calendar':>15}{'baseline':>15}{'ratio':>9}"
    print(f"\n{'throughput (per second)':<38}{head}  baseline")
    rows = [
        ("add_working_days(d, 10), single", t_add, n_add, "naive holidays loop"),
        ("working_days_between(a, b), single", t_btw, n_btw, "naive holidays loop"),
        ("add_working_days_batch, dates", b_add, o_add, "numpy.busday_offset"),
        ("working_days_between_batch, dates", b_btw, o_btw, "numpy.busday_count"),
    ]
    for name, ours_rate, base_rate, base in rows:
        ratio = ours_rate / base_rate
        print(f"{name:<38}{ours_rate:>15,.0f}{base_rate:>15,.0f}{ratio:>8.1f}x  {base}")

    print(f"\n{'target':<38}{'measured':>15}{'target':>15}{'met':>9}")
    targets = [
        ("single add_working_days ops/s", t_add, TARGET_SINGLE, ",.0f"),
        ("single working_days_between ops/s", t_btw, TARGET_SINGLE, ",.0f"),
        ("single add (n=10) / naive loop", t_add / n_add, TARGET_NAIVE, ".1f"),
        ("add batch / busday_offset", b_add / o_add, TARGET_BUSDAY, ".1f"),
    ]
    for name, value, goal, fmt in targets:
        met = "yes" if value >= goal else "NO"
        print(f"{name:<38}{value:>15{fmt}}{'>= ' + format(goal, fmt):>15}{met:>9}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pairs", type=int, help="batch size (default 1,000,000; 20,000 quick)")
    parser.add_argument("--division", choices=sorted(DIVISIONS), default="england-and-wales")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a CI smoke test")
    args = parser.parse_args(argv)
    pairs = args.pairs or (20_000 if args.quick else 1_000_000)
    if pairs < 1_000:
        parser.error("--pairs must be at least 1,000")
    sizes = (5_000, 300, 2) if args.quick else (200_000, 5_000, 5)
    try:
        run(args.division, pairs, *sizes)
    except CheckFailed as exc:
        print(f"  FAILED  {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Helpers shared by the test suites: a controllable clock, database snapshots, thread runners.

Importable from any test as ``from support import ...`` (``tests/`` is on ``sys.path`` because
``tests/conftest.py`` lives there and ``tests`` is not a package).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select

from adapters.db.tables import case_clocks, case_events, case_flags, cases, reference_counters

LONDON = ZoneInfo("Europe/London")
T = TypeVar("T")

# Use on a test (or a module's ``pytestmark``) that only makes sense on one database; it
# overrides the parameters of the ``db_url`` fixture in ``conftest.py``.
only_postgres = pytest.mark.parametrize(
    "db_url",
    [pytest.param("postgresql", marks=pytest.mark.postgres, id="postgresql")],
    indirect=True,
)
only_sqlite = pytest.mark.parametrize(
    "db_url", [pytest.param("sqlite", id="sqlite")], indirect=True
)


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware instant given as London wall-clock time, returned in UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


def _aware_utc(when: datetime) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"FakeClock needs an aware datetime, got {when!r}")
    return when.astimezone(UTC)


@dataclass
class FakeClock:
    """A ``Clock`` (engine.ports) the test controls: always aware UTC, never the wall clock.

    >>> clock = FakeClock(datetime(2025, 1, 6, 9, tzinfo=UTC))
    >>> clock.advance(hours=2)
    datetime.datetime(2025, 1, 6, 11, 0, tzinfo=datetime.timezone.utc)
    """

    now: datetime = field(default_factory=lambda: datetime(2025, 6, 2, 9, 0, tzinfo=UTC))

    def __post_init__(self) -> None:
        self.now = _aware_utc(self.now)

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> datetime:
        self.now = _aware_utc(when)
        return self.now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        step = (delta or timedelta()) + timedelta(**kwargs)
        if step < timedelta():
            raise ValueError("a clock does not run backwards; use set()")
        self.now = self.now + step
        return self.now


# -- reading the database behind the service's back ------------------------------------------------


def row_counts(db_engine: Engine) -> dict[str, int]:
    """Rows in every table a command writes (plus the reference counters' total)."""
    with db_engine.connect() as conn:
        counts = {
            table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in (cases, case_events, case_clocks, case_flags)
        }
        total = conn.execute(select(func.coalesce(func.sum(reference_counters.c.last_number), 0)))
        counts["references_issued"] = int(total.scalar_one())
    return counts


def case_snapshot(db_engine: Engine, reference: str) -> dict[str, Any]:
    """Everything stored about one case: its row and its clock, event and flag rows."""
    with db_engine.connect() as conn:
        row = conn.execute(select(cases).where(cases.c.reference == reference)).one()
        case_id = row.id
        clock_rows = conn.execute(
            select(case_clocks)
            .where(case_clocks.c.case_id == case_id)
            .order_by(case_clocks.c.clock)
        ).all()
        event_rows = conn.execute(
            select(case_events).where(case_events.c.case_id == case_id).order_by(case_events.c.seq)
        ).all()
        flag_rows = conn.execute(
            select(case_flags).where(case_flags.c.case_id == case_id).order_by(case_flags.c.id)
        ).all()
    return {
        "case": dict(row._mapping),
        "clocks": [dict(r._mapping) for r in clock_rows],
        "events": [dict(r._mapping) for r in event_rows],
        "flags": [dict(r._mapping) for r in flag_rows],
    }


def event_kinds(db_engine: Engine, reference: str) -> list[str]:
    return [e["kind"] for e in case_snapshot(db_engine, reference)["events"]]


# -- threads -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one thread's call did: its result or the exception it raised."""

    index: int
    result: Any = None
    error: BaseException | None = None


def run_at_once(calls: Sequence[Callable[[], Any]], *, timeout: float = 60.0) -> list[Outcome]:
    """Run each call in its own thread, all released together by a barrier; wait for all.

    Exceptions are collected, not raised, so a test can classify every outcome.
    """
    barrier = threading.Barrier(len(calls))
    outcomes = [Outcome(i) for i in range(len(calls))]

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=timeout)
            outcomes[i].result = calls[i]()
        except BaseException as exc:  # collected for the test to inspect
            outcomes[i].error = exc

    threads = [
        threading.Thread(target=worker, args=(i,), name=f"worker-{i}") for i in range(len(calls))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    stuck = [t.name for t in threads if t.is_alive()]
    if stuck:
        raise AssertionError(f"threads still running after {timeout}s: {stuck}")
    return outcomes

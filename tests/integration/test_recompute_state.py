"""The recompute records a calendar's fingerprint once instead of restamping every case.

Same landlord calendar ``lh`` and closure (Mon 16 March 2026) as ``test_recompute``: a case
opened after the closure date has no deadline to move, so the recompute leaves its row alone,
and the calendar is still up to date; a case opened on the old calendar after the recompute (a
process that had not reloaded it) makes the calendar stale again until the next recompute, which
restamps just that case. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, select
from support import FakeClock, london
from test_recompute import case_row, clock_rows, config_dir, declare_closure, open_case

from adapters.bootstrap import build_service
from adapters.db.tables import calendar_states
from adapters.recompute import recompute, stale_calendars
from adapters.settings import load_settings

__all__ = ["config_dir"]  # the fixture, shared with test_recompute


def states(db_engine: Engine) -> dict[str, str]:
    with db_engine.connect() as conn:
        stmt = select(calendar_states.c.calendar, calendar_states.c.fingerprint)
        return {row.calendar: row.fingerprint for row in conn.execute(stmt)}


def test_unmoved_cases_are_not_rewritten_and_a_late_old_calendar_case_is_caught(
    config_dir: Path, engines: Callable[..., Engine], db_engine: Engine, clock: FakeClock
) -> None:
    old_settings = load_settings(str(config_dir))
    old_service = build_service(old_settings, db_engine=engines(), clock=clock)
    old = old_settings.calendar("lh").fingerprint
    # Received Tue 17 March, after the closure: its acknowledge deadline does not move.
    s = open_case(old_service, clock, london(2026, 3, 17, 9))
    deadlines = clock_rows(db_engine, s)
    s_before = case_row(db_engine, s)
    assert s_before.calendar_fingerprint == old
    assert states(db_engine) == {}

    new_settings = declare_closure(config_dir)
    new = new_settings.calendar("lh").fingerprint
    assert stale_calendars(db_engine, new_settings.calendar) == {"lh": new}

    first = recompute(
        db_engine,
        calendars=new_settings.calendar,
        now=london(2026, 3, 17, 12),
        as_of=clock().date(),
    )
    assert first.calendars == ["lh"]
    assert (first.cases_moved, first.deadlines_moved, first.cases_restamped) == (0, 0, 0)
    assert states(db_engine) == {"lh": new}
    assert stale_calendars(db_engine, new_settings.calendar) == {}
    # The unmoved case's row is untouched: same fingerprint, version, events and deadlines.
    assert case_row(db_engine, s) == s_before
    assert clock_rows(db_engine, s) == deadlines

    # A process still on the old calendar opens a case after the recompute: stale again.
    t = open_case(old_service, clock, london(2026, 3, 17, 13))
    assert case_row(db_engine, t).calendar_fingerprint == old
    assert stale_calendars(db_engine, new_settings.calendar) == {"lh": new}

    second = recompute(
        db_engine,
        calendars=new_settings.calendar,
        now=london(2026, 3, 17, 13, 5),
        as_of=clock().date(),
    )
    assert second.cases_restamped == 1
    assert case_row(db_engine, t).calendar_fingerprint == new
    assert case_row(db_engine, s) == s_before
    assert stale_calendars(db_engine, new_settings.calendar) == {}

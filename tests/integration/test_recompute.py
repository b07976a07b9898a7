"""A closure declared after cases were opened moves their running deadlines, on the timeline.

A landlord calendar ``lh`` (England and Wales bank holidays, no closures) in a temporary config
folder; cases are opened and acknowledged on it in March 2026 (London on GMT until 29 March, so
London times are UTC). Then the landlord declares a closure on Mon 16 March, the settings are
reloaded, and the next sweep recomputes (the calendar's fingerprint changed). Runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from support import FakeClock, london

from adapters.bootstrap import build_service, build_sweep_runner
from adapters.db.tables import case_clocks, case_events, case_flags, cases
from adapters.recompute import recompute, stale_calendars
from adapters.settings import Settings, load_settings
from engine.service import ComplaintsService

SETTINGS_TOML = """\
[defaults]
calendar = "lh"
policy = "hoc"
"""
CALENDAR_TOML = """\
name = "lh"
division = "england-and-wales"
"""
CLOSURE_TOML = """
[[closures]]
date = 2026-03-16
reason = "Office move"
"""


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    (folder / "calendars").mkdir(parents=True)
    (folder / "settings.toml").write_text(SETTINGS_TOML, encoding="utf-8")
    (folder / "calendars" / "lh.toml").write_text(CALENDAR_TOML, encoding="utf-8")
    return folder


def declare_closure(config_dir: Path) -> Settings:
    with (config_dir / "calendars" / "lh.toml").open("a", encoding="utf-8") as handle:
        handle.write(CLOSURE_TOML)
    return load_settings(str(config_dir))


def open_case(service: ComplaintsService, clock: FakeClock, when: datetime, **kw: Any) -> str:
    clock.set(when)
    return service.open(
        actor="alice",
        category="repairs",
        channel="phone",
        area="north",
        understanding="Leak",
        desired_outcome="Fix it",
        **kw,
    ).reference


def acknowledge(service: ComplaintsService, clock: FakeClock, ref: str, when: datetime) -> None:
    clock.set(when)
    service.acknowledge(ref, actor="alice")


def clock_rows(db_engine: Engine, ref: str) -> dict[str, tuple[date, date | None]]:
    """clock -> (due_on, stopped_on) from ``case_clocks``."""
    with db_engine.connect() as conn:
        rows = conn.execute(
            select(case_clocks.c.clock, case_clocks.c.due_on, case_clocks.c.stopped_on)
            .join(cases, cases.c.id == case_clocks.c.case_id)
            .where(cases.c.reference == ref)
        ).all()
    return {r.clock: (r.due_on, r.stopped_on) for r in rows}


def case_row(db_engine: Engine, ref: str) -> Any:
    with db_engine.connect() as conn:
        return conn.execute(select(cases).where(cases.c.reference == ref)).one()


def events(db_engine: Engine, ref: str) -> list[tuple[int, str, dict[str, Any]]]:
    return [(seq, kind, data) for seq, kind, data, _, _ in full_events(db_engine, ref)]


def full_events(db_engine: Engine, ref: str) -> list[tuple[Any, ...]]:
    """(seq, kind, data, before, after) of every event of the case."""
    with db_engine.connect() as conn:
        rows = conn.execute(
            select(
                case_events.c.seq,
                case_events.c.kind,
                case_events.c.data,
                case_events.c.before,
                case_events.c.after,
            )
            .join(cases, cases.c.id == case_events.c.case_id)
            .where(cases.c.reference == ref)
            .order_by(case_events.c.seq)
        ).all()
    return [tuple(r) for r in rows]


def flags(db_engine: Engine, ref: str) -> set[tuple[str, date, date, date | None]]:
    with db_engine.connect() as conn:
        rows = conn.execute(
            select(
                case_flags.c.name,
                case_flags.c.anchor_on,
                case_flags.c.raised_on,
                case_flags.c.cleared_on,
            )
            .join(cases, cases.c.id == case_flags.c.case_id)
            .where(cases.c.reference == ref)
        ).all()
    return {tuple(r) for r in rows}  # type: ignore[misc]


# Hand-counted on England and Wales (no bank holidays in March 2026):
#  P: received Mon 2 Mar, acknowledged Tue 3 Mar. Respond from Tue 3: Wed 4 (1), Thu 5 (2),
#     Fri 6 (3), Mon 9 (4), Tue 10 (5), Wed 11 (6), Thu 12 (7), Fri 13 (8), Mon 16 (9),
#     Tue 17 (10) -> due Tue 17 Mar; due-soon 2 working days before: Mon 16 (1), Fri 13 (2).
#     With Mon 16 closed: ... Fri 13 (8), Tue 17 (9), Wed 18 (10) -> due Wed 18 Mar;
#     due-soon: Tue 17 (1), [Mon 16 closed], Fri 13 (2) -> still Fri 13.
#  Q: received Mon 9 Mar -> acknowledge due Mon 16 (10, 11, 12, 13, 16), acknowledged Tue 10
#     (stopped; on the new calendar it would be Tue 17, but a stopped clock keeps its dates).
#     Respond from Tue 10: 11, 12, 13, 16, 17, 18, 19, 20, 23, 24 -> due Tue 24 Mar;
#     with Mon 16 closed: 11, 12, 13, 17, 18, 19, 20, 23, 24, 25 -> due Wed 25 Mar.
#  R: on plain england-and-wales, acknowledged Tue 10 -> due Tue 24 Mar; not on lh: never moves.
P_DUE, P_NEW = date(2026, 3, 17), date(2026, 3, 18)
Q_DUE, Q_NEW = date(2026, 3, 24), date(2026, 3, 25)
Q_ACK_DUE = date(2026, 3, 16)
FRI_13 = date(2026, 3, 13)


@pytest.fixture
def before_closure(
    config_dir: Path, engines: Callable[..., Engine], clock: FakeClock
) -> tuple[Settings, dict[str, str]]:
    settings = load_settings(str(config_dir))
    service = build_service(settings, db_engine=engines(), clock=clock)
    refs = {
        "P": open_case(service, clock, london(2026, 3, 2, 9)),
        "Q": open_case(service, clock, london(2026, 3, 9, 9)),
        "R": open_case(service, clock, london(2026, 3, 9, 9, 30), calendar="england-and-wales"),
    }
    acknowledge(service, clock, refs["P"], london(2026, 3, 3, 10))
    acknowledge(service, clock, refs["Q"], london(2026, 3, 10, 10))
    acknowledge(service, clock, refs["R"], london(2026, 3, 10, 10, 30))
    # The night of Fri 13 Mar is swept on the old calendar: P's due-soon is raised.
    clock.set(london(2026, 3, 13, 2, 30))
    old_runner = build_sweep_runner(settings, db_engine=engines(), clock=clock)
    assert old_runner.sweep(FRI_13) is not None
    assert ("respond:due-soon", P_DUE, FRI_13, None) in flags(engines(), refs["P"])
    return settings, refs


def test_a_declared_closure_moves_running_deadlines_with_a_timeline_entry(
    before_closure: tuple[Settings, dict[str, str]],
    config_dir: Path,
    db_engine: Engine,
    engines: Callable[..., Engine],
    clock: FakeClock,
) -> None:
    old_settings, refs = before_closure
    p, q, r = refs["P"], refs["Q"], refs["R"]
    assert clock_rows(db_engine, p)["respond"] == (P_DUE, None)
    assert clock_rows(db_engine, q) == {
        "acknowledge": (Q_ACK_DUE, date(2026, 3, 10)),
        "respond": (Q_DUE, None),
    }
    old_fingerprint = old_settings.calendar("lh").fingerprint
    counts_before = {ref: case_row(db_engine, ref).event_count for ref in (p, q, r)}
    r_before = (clock_rows(db_engine, r), events(db_engine, r), case_row(db_engine, r))

    # Fri 13 Mar, 10:00: the landlord declares Mon 16 March closed.
    new_settings = declare_closure(config_dir)
    new_fingerprint = new_settings.calendar("lh").fingerprint
    assert new_fingerprint != old_fingerprint
    clock.set(london(2026, 3, 13, 10))
    runner = build_sweep_runner(new_settings, db_engine=engines(), clock=clock)
    assert stale_calendars(db_engine, new_settings.calendar) == {"lh": new_fingerprint}

    summary = runner.sweep(FRI_13)

    assert summary is not None
    # Running clocks moved one working day later; Q's stopped acknowledge clock kept its dates.
    assert clock_rows(db_engine, p)["respond"] == (P_NEW, None)
    assert clock_rows(db_engine, q) == {
        "acknowledge": (Q_ACK_DUE, date(2026, 3, 10)),
        "respond": (Q_NEW, None),
    }
    # One deadline_moved event each, numbered right after the case's existing events.
    for ref, old, new in ((p, P_DUE, P_NEW), (q, Q_DUE, Q_NEW)):
        moved = [e for e in full_events(db_engine, ref) if e[1] == "deadline_moved"]
        assert len(moved) == 1
        seq, _, data, before, after = moved[0]
        assert seq == counts_before[ref] + 1
        assert before == {"deadlines": {"respond": old.isoformat()}}
        assert after == {"deadlines": {"respond": new.isoformat()}}
        assert data == {
            "reason": "calendar changed",
            "calendar": "lh",
            "clock": "respond",
            "from": old.isoformat(),
            "to": new.isoformat(),
        }
        row = case_row(db_engine, ref)
        assert row.calendar_fingerprint == new_fingerprint
        assert row.event_count == len(events(db_engine, ref))
    # The case as the service loads it, and its history, show the new date.
    service = build_service(new_settings, db_engine=engines(), clock=clock)
    assert service.get(p).clocks["respond"].due_on == P_NEW
    assert "deadline_moved" in [e.kind for e in service.history(p)]
    # The sweep re-evaluated P: the due-soon of the old due date was cleared, the new one raised
    # (still Fri 13: two working days before Wed 18 skipping the closed Monday).
    assert flags(db_engine, p) >= {
        ("respond:due-soon", P_DUE, FRI_13, FRI_13),
        ("respond:due-soon", P_NEW, FRI_13, None),
    }
    # R is on another calendar: untouched.
    assert (clock_rows(db_engine, r), events(db_engine, r), case_row(db_engine, r)) == r_before

    # A second sweep moves nothing and writes nothing.
    snapshot = {ref: (clock_rows(db_engine, ref), events(db_engine, ref)) for ref in (p, q, r)}
    assert stale_calendars(db_engine, new_settings.calendar) == {}
    again = runner.sweep(FRI_13)
    assert again is not None and again.cases_changed == 0
    assert {ref: (clock_rows(db_engine, ref), events(db_engine, ref)) for ref in (p, q, r)} == (
        snapshot
    )

    # Forcing a recompute with no calendar change moves nothing either.
    forced = recompute(
        db_engine, calendars=new_settings.calendar, now=clock(), as_of=FRI_13, force=True
    )
    assert forced.calendars == ["england-and-wales", "lh"]
    assert forced.deadlines_moved == 0 and forced.cases_moved == 0
    assert {ref: (clock_rows(db_engine, ref), events(db_engine, ref)) for ref in (p, q, r)} == (
        snapshot
    )


def test_a_forced_recompute_without_a_calendar_change_moves_nothing(
    before_closure: tuple[Settings, dict[str, str]], db_engine: Engine, clock: FakeClock
) -> None:
    settings, refs = before_closure
    before = {ref: (clock_rows(db_engine, ref), events(db_engine, ref)) for ref in refs.values()}

    summary = recompute(
        db_engine, calendars=settings.calendar, now=clock(), as_of=FRI_13, force=True
    )

    assert summary.deadlines_moved == 0
    assert summary.cases_moved == 0
    assert summary.cases_restamped == 0
    after = {ref: (clock_rows(db_engine, ref), events(db_engine, ref)) for ref in refs.values()}
    assert after == before

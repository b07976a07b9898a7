"""The nightly sweep runs once per night across schedulers, catches up a missed night at start,
and reclaims a night whose run died. Two-process races need PostgreSQL (the advisory lock); the
rest runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, insert, select
from support import FakeClock, london, only_postgres, run_at_once

from adapters.bootstrap import build_sweep_runner
from adapters.db.tables import sweep_runs
from adapters.scheduler import SweepRunner, build_scheduler, nightly_fire_times
from adapters.settings import Settings
from adapters.sweep import Sweeper, SweepSummary
from engine.ports import CaseFilter
from engine.service import ComplaintsService
from sla.timezone import LONDON

NIGHTLY_AT = time(2, 30)
TUESDAY = date(2025, 12, 9)


@pytest.fixture
def make_runner(
    engines: Callable[..., Engine], settings: Settings, clock: FakeClock
) -> Callable[..., SweepRunner]:
    """A runner with its own engine (its own pool): two of them are like two scheduler
    processes."""

    def make(**kwargs: Any) -> SweepRunner:
        return build_sweep_runner(settings, db_engine=engines(), clock=clock, **kwargs)

    return make


@pytest.fixture
def with_cases(service: ComplaintsService, clock: FakeClock) -> list[str]:
    """Three complaints received Mon 1 Dec 2025 (contact-due and due-soon on Thu 4 Dec)."""
    clock.set(london(2025, 12, 1, 10))
    return [
        service.open(actor="alice", category="repairs", channel="phone", area="north").reference
        for _ in range(3)
    ]


def runs(db_engine: Engine) -> list[tuple[date, str, bool, str]]:
    with db_engine.connect() as conn:
        rows = conn.execute(select(sweep_runs).order_by(sweep_runs.c.business_date)).all()
    return [(r.business_date, r.kind, r.finished_at is not None, r.host) for r in rows]


# -- exactly once ---------------------------------------------------------------------------------


@only_postgres
def test_two_schedulers_running_the_same_night_at_once_sweep_it_once(
    make_runner: Callable[..., SweepRunner],
    with_cases: list[str],
    clock: FakeClock,
    db_engine: Engine,
) -> None:
    first, second = make_runner(), make_runner()
    nights = [date(2025, 12, d) for d in (9, 10, 11, 12, 13)]

    for night in nights:  # several nights, to vary the interleaving of the two threads
        clock.set(london(night.year, night.month, night.day, 2, 30))
        outcomes = run_at_once(
            [lambda night=night: first.nightly(night), lambda night=night: second.nightly(night)]
        )
        assert [o.error for o in outcomes] == [None, None]
        results = [o.result for o in outcomes]
        assert sorted(r is None for r in results) == [False, True], results
        summary = next(r for r in results if r is not None)
        assert isinstance(summary, SweepSummary)
        assert summary.as_of == night
        if night == TUESDAY:
            assert summary.cases_checked == 3 and summary.cases_changed == 3

    assert [(d, k, done) for d, k, done, _ in runs(db_engine)] == [
        (night, "nightly", True) for night in nights
    ]


def test_a_second_nightly_call_for_the_same_night_does_nothing(
    make_runner: Callable[..., SweepRunner],
    with_cases: list[str],
    clock: FakeClock,
    db_engine: Engine,
) -> None:
    clock.set(london(2025, 12, 9, 2, 30))
    runner = make_runner()

    first = runner.nightly(TUESDAY)
    second = make_runner().nightly(TUESDAY)

    assert first is not None and first.cases_checked == 3
    assert second is None
    assert [(d, k, done) for d, k, done, _ in runs(db_engine)] == [(TUESDAY, "nightly", True)]
    assert runner.nightly_done(TUESDAY)
    assert not runner.nightly_done(date(2025, 12, 10))
    with db_engine.connect() as conn:
        stored = conn.execute(select(sweep_runs.c.summary)).scalar_one()
    assert stored["as_of"] == TUESDAY.isoformat()
    assert stored["cases_checked"] == 3


# -- catch-up --------------------------------------------------------------------------------------


def test_catch_up_after_the_nightly_time_runs_todays_missed_night_once(
    make_runner: Callable[..., SweepRunner],
    with_cases: list[str],
    clock: FakeClock,
    db_engine: Engine,
) -> None:
    clock.set(london(2025, 12, 9, 9, 0))  # started at 09:00; the 02:30 run never happened
    runner = make_runner()

    caught_up = runner.catch_up(NIGHTLY_AT)
    again = runner.catch_up(NIGHTLY_AT)

    assert caught_up is not None and caught_up.as_of == TUESDAY
    assert caught_up.cases_changed == 3
    assert again is None
    assert [(d, done) for d, _, done, _ in runs(db_engine)] == [(TUESDAY, True)]


def test_catch_up_before_the_nightly_time_does_nothing_when_last_night_ran(
    make_runner: Callable[..., SweepRunner],
    with_cases: list[str],
    clock: FakeClock,
    db_engine: Engine,
) -> None:
    runner = make_runner()
    clock.set(london(2025, 12, 8, 2, 30))
    assert runner.nightly(date(2025, 12, 8)) is not None
    clock.set(london(2025, 12, 9, 1, 0))  # tonight's run is still to come at 02:30

    assert runner.catch_up(NIGHTLY_AT) is None
    assert [d for d, *_ in runs(db_engine)] == [date(2025, 12, 8)]


def test_catch_up_at_start_runs_yesterdays_missed_night_before_tonights_time(
    make_runner: Callable[..., SweepRunner],
    with_cases: list[str],
    clock: FakeClock,
    service: ComplaintsService,
) -> None:
    clock.set(london(2025, 12, 5, 1, 0))  # the 02:30 run of Thu 4 Dec never happened

    summary = make_runner().catch_up(NIGHTLY_AT)

    assert summary is not None
    flagged = service.find(CaseFilter(flag="contact-due"))
    assert {c.reference for c in flagged} == set(with_cases)


def test_a_night_whose_run_died_unfinished_is_reclaimed_and_completed(
    make_runner: Callable[..., SweepRunner],
    with_cases: list[str],
    clock: FakeClock,
    db_engine: Engine,
) -> None:
    with db_engine.begin() as conn:
        conn.execute(
            insert(sweep_runs).values(
                business_date=TUESDAY,
                kind="nightly",
                started_at=london(2025, 12, 9, 2, 30),
                finished_at=None,
                host="crashed-host",
            )
        )
    clock.set(london(2025, 12, 9, 9, 0))
    runner = make_runner()

    summary = runner.catch_up(NIGHTLY_AT)

    assert summary is not None and summary.cases_changed == 3
    [(day, kind, done, host)] = runs(db_engine)
    assert (day, kind, done) == (TUESDAY, "nightly", True)
    assert host != "crashed-host"
    assert runner.catch_up(NIGHTLY_AT) is None


def test_a_nightly_run_that_crashes_is_completed_by_the_next_catch_up(
    make_runner: Callable[..., SweepRunner],
    with_cases: list[str],
    clock: FakeClock,
    db_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock.set(london(2025, 12, 9, 2, 30))
    runner = make_runner()

    def crash(self: Sweeper, as_of: date, progress: Any = None) -> SweepSummary:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Sweeper, "run", crash)
    with pytest.raises(RuntimeError, match="went away"):
        runner.nightly(TUESDAY)
    monkeypatch.undo()
    assert [(d, done) for d, _, done, _ in runs(db_engine)] == [(TUESDAY, False)]
    assert not runner.nightly_done(TUESDAY)

    clock.set(london(2025, 12, 9, 8, 0))  # the refresh's catch-up, or a restarted scheduler
    summary = make_runner().catch_up(NIGHTLY_AT)

    assert summary is not None and summary.cases_changed == 3
    assert [(d, done) for d, _, done, _ in runs(db_engine)] == [(TUESDAY, True)]


# -- the APScheduler wiring ------------------------------------------------------------------------


@pytest.fixture
def scheduler() -> BackgroundScheduler:
    """Never started: only its job list is inspected and the jobs' functions called."""
    return BackgroundScheduler(timezone=LONDON)


def test_build_scheduler_registers_a_coalescing_nightly_job_a_refresh_and_a_catch_up(
    make_runner: Callable[..., SweepRunner], scheduler: BackgroundScheduler
) -> None:
    built = build_scheduler(
        make_runner(), nightly_at=NIGHTLY_AT, refresh_minutes=60, scheduler=scheduler
    )

    assert built is scheduler
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"nightly-sweep", "intraday-refresh", "catch-up-at-start"}

    nightly = jobs["nightly-sweep"]
    assert isinstance(nightly.trigger, CronTrigger)
    assert str(nightly.trigger.timezone) == "Europe/London"
    fields = {f.name: str(f) for f in nightly.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("2", "30")
    assert nightly.coalesce is True
    assert nightly.misfire_grace_time is None
    assert nightly.max_instances == 1

    refresh = jobs["intraday-refresh"]
    assert isinstance(refresh.trigger, IntervalTrigger)
    assert refresh.trigger.interval.total_seconds() == 3600
    assert refresh.coalesce is True and refresh.misfire_grace_time is None

    assert isinstance(jobs["catch-up-at-start"].trigger, DateTrigger)  # once, at start


def test_no_refresh_job_when_refresh_minutes_is_zero(
    make_runner: Callable[..., SweepRunner], scheduler: BackgroundScheduler
) -> None:
    build_scheduler(make_runner(), nightly_at=NIGHTLY_AT, refresh_minutes=0, scheduler=scheduler)

    assert {job.id for job in scheduler.get_jobs()} == {"nightly-sweep", "catch-up-at-start"}


def test_the_registered_nightly_trigger_fires_once_on_each_clock_change_night(
    make_runner: Callable[..., SweepRunner], scheduler: BackgroundScheduler
) -> None:
    build_scheduler(make_runner(), nightly_at=NIGHTLY_AT, refresh_minutes=0, scheduler=scheduler)
    trigger = next(j for j in scheduler.get_jobs() if j.id == "nightly-sweep").trigger

    for start in (
        datetime(2026, 3, 27, 12, tzinfo=LONDON),
        datetime(2026, 10, 23, 12, tzinfo=LONDON),
    ):
        fires: list[datetime] = []
        previous, now = None, start
        for _ in range(4):
            fire = trigger.get_next_fire_time(previous, now)
            fires.append(fire)
            previous = now = fire
        assert fires == nightly_fire_times(NIGHTLY_AT, start, 4)
        local_days = [f.astimezone(LONDON).date() for f in fires]
        assert len(set(local_days)) == 4


def test_the_scheduled_jobs_sweep_each_night_once_even_on_the_clock_change_nights(
    make_runner: Callable[..., SweepRunner],
    scheduler: BackgroundScheduler,
    with_cases: list[str],
    clock: FakeClock,
    db_engine: Engine,
) -> None:
    build_scheduler(make_runner(), nightly_at=NIGHTLY_AT, refresh_minutes=60, scheduler=scheduler)
    jobs = {job.id: job for job in scheduler.get_jobs()}

    # October 2026 at 01:30 would fire twice on Sun 25 (see test_scheduler_times); the job itself
    # must still sweep that night once. Play every fire of a 01:30 trigger over the weekend.
    for fire in nightly_fire_times(time(1, 30), datetime(2026, 10, 23, 12, tzinfo=LONDON), 4):
        clock.set(fire)
        jobs["nightly-sweep"].func()
    assert [(d, done) for d, _, done, _ in runs(db_engine)] == [
        (date(2026, 10, 24), True),
        (date(2026, 10, 25), True),
        (date(2026, 10, 26), True),
    ]

    # A scheduler started at 09:00 on a night nobody swept runs it at start; the hourly refresh
    # afterwards neither reruns the night nor fails.
    clock.set(london(2026, 10, 27, 9, 0))
    jobs["catch-up-at-start"].func()
    jobs["intraday-refresh"].func()
    assert runs(db_engine)[-1][:3] == (date(2026, 10, 27), "nightly", True)
    assert len(runs(db_engine)) == 4

"""Nightly SLA sweeps on a schedule, exactly once per night across processes.

* APScheduler 3.x runs a cron job in Europe/London (default 02:00: from 02:00 on a daily cron
  fires once on both clock-change nights; 01:30 would fire twice in October) and an intraday
  refresh. ``coalesce=True`` and ``misfire_grace_time=None`` turn a missed night into one run.
* Exactly once comes from the database, not from the scheduler: a run holds a PostgreSQL
  advisory lock while it works (a manual sweep cannot overlap it either) and records the night in
  ``sweep_runs``; a night already finished is skipped. Session locks die with their connection,
  so a crashed run leaves no stale claim.
* Catch-up is independent of misfire rules: at start and on every refresh, a night that has no
  finished run after its scheduled time is run now.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Any

import structlog
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Connection, Engine, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from adapters.db.tables import sweep_runs
from adapters.recompute import recompute, stale_calendars, stale_policies
from adapters.retry import resilient
from adapters.sweep import Sweeper, SweepSummary
from sla.errors import ConfigError
from sla.timezone import LONDON, london_date

log = structlog.get_logger()

SWEEP_LOCK_KEY = 4_242_001  # pg_advisory_lock key shared by every sweep of this schema
NIGHTLY = "nightly"


def parse_time_of_day(value: str) -> time:
    try:
        parsed: time | None = time.fromisoformat(value)
    except (TypeError, ValueError):
        parsed = None
    if parsed is None or parsed.tzinfo is not None:
        raise ConfigError(
            "scheduler", "nightly_sweep_at", f"not a Europe/London time like 02:30: {value!r}"
        )
    return parsed


class SweepRunner:
    """One sweep at a time per database, each night recorded once."""

    def __init__(
        self,
        db_engine: Engine,
        sweeper: Sweeper,
        *,
        recompute_args: dict[str, Any],
        clock: Callable[[], datetime],
    ) -> None:
        self._engine = db_engine
        self._sweeper = sweeper
        self._recompute_args = recompute_args
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    @property
    def engine(self) -> Engine:
        return self._engine

    def due_count(self, as_of: date) -> int:
        return self._sweeper.due_count(as_of)

    @contextmanager
    def exclusive(self) -> Iterator[bool]:
        """Hold the sweep lock (PostgreSQL advisory lock) if nobody else does."""
        if self._engine.dialect.name != "postgresql":
            yield True
            return
        with self._engine.connect() as conn:
            got = bool(
                conn.execute(
                    text("SELECT pg_try_advisory_lock(:k)"), {"k": SWEEP_LOCK_KEY}
                ).scalar()
            )
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": SWEEP_LOCK_KEY})
                    conn.commit()

    def sweep(
        self, as_of: date, *, progress: Callable[[int], None] | None = None
    ) -> SweepSummary | None:
        """A sweep now (recomputing stale calendars and policies first); ``None`` if another is
        running."""
        with self.exclusive() as got:
            if not got:
                log.info("sweep_skipped", reason="another sweep holds the lock")
                return None
            return self._sweep_locked(as_of, progress)

    def _sweep_locked(self, as_of: date, progress: Callable[[int], None] | None) -> SweepSummary:
        args = self._recompute_kwargs()
        if stale_calendars(self._engine, args["calendars"]) or stale_policies(
            self._engine, args["policies"]
        ):
            recompute(self._engine, now=self._clock(), as_of=as_of, **args)
        return self._sweeper.run(as_of, progress)

    def _recompute_kwargs(self) -> dict[str, Any]:
        """The recompute's calendars and policies: the sweep's own policy registry unless
        ``recompute_args`` names one (the cases it sweeps are judged by that registry)."""
        args = dict(self._recompute_args)
        if args.get("policies") is None:
            args["policies"] = self._sweeper.policies
        return args

    def nightly(self, business_date: date) -> SweepSummary | None:
        """The night's sweep, exactly once: ``None`` when it already ran or is running."""
        with self.exclusive() as got:
            if not got:
                log.info(
                    "nightly_skipped", business_date=business_date.isoformat(), reason="locked"
                )
                return None
            with self._engine.begin() as conn:
                if not _claim_night(conn, business_date, self._clock()):
                    log.info(
                        "nightly_skipped", business_date=business_date.isoformat(), reason="done"
                    )
                    return None
            summary = self._sweep_locked(business_date, None)
            with self._engine.begin() as conn:
                conn.execute(
                    update(sweep_runs)
                    .where(
                        sweep_runs.c.business_date == business_date, sweep_runs.c.kind == NIGHTLY
                    )
                    .values(finished_at=self._clock(), summary=summary.as_dict())
                )
            log.info("nightly_finished", **summary.as_dict())
            return summary

    def nightly_done(self, business_date: date) -> bool:
        with self._engine.connect() as conn:
            finished = conn.execute(
                select(sweep_runs.c.finished_at).where(
                    sweep_runs.c.business_date == business_date, sweep_runs.c.kind == NIGHTLY
                )
            ).scalar()
        return finished is not None

    def catch_up(self, nightly_at: time) -> SweepSummary | None:
        """Run the most recent scheduled night now if it has not finished: today's once its
        time has passed, else yesterday's. (Flags are computed from the rules, so catching up
        the latest night also catches up every night before it.)"""
        now = self._clock()
        night = london_date(now)
        if now.astimezone(LONDON).time() < nightly_at:
            night -= timedelta(days=1)
        if self.nightly_done(night):
            return None
        log.info("nightly_catch_up", business_date=night.isoformat())
        return self.nightly(night)


def _claim_night(conn: Connection, business_date: date, now: datetime) -> bool:
    """Claim the night, or reclaim one whose run died unfinished (we hold the lock)."""
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    inserted = conn.execute(
        dialect_insert(sweep_runs)
        .values(business_date=business_date, kind=NIGHTLY, started_at=now, host=_host())
        .on_conflict_do_nothing()
        .returning(sweep_runs.c.business_date)
    ).first()
    if inserted is not None:
        return True
    unfinished = conn.execute(
        update(sweep_runs)
        .where(
            sweep_runs.c.business_date == business_date,
            sweep_runs.c.kind == NIGHTLY,
            sweep_runs.c.finished_at.is_(None),
        )
        .values(started_at=now, host=_host())
        .returning(sweep_runs.c.business_date)
    ).first()
    return unfinished is not None


def _host() -> str:
    return socket.gethostname()[:100]


def build_scheduler(
    runner: SweepRunner,
    *,
    nightly_at: time,
    refresh_minutes: int,
    scheduler: Any = None,
) -> Any:
    """A scheduler with the nightly sweep, the intraday refresh and a catch-up at start.

    Each job retries database faults with backoff and, if they persist, logs and waits for its
    next run (the catch-up runs a missed night) rather than ending the process."""
    sched = scheduler or BlockingScheduler(timezone=LONDON)
    sched.add_job(
        resilient(lambda: runner.nightly(london_date(runner.now())), what="nightly-sweep"),
        CronTrigger(hour=nightly_at.hour, minute=nightly_at.minute, timezone=LONDON),
        id="nightly-sweep",
        coalesce=True,
        misfire_grace_time=None,
        max_instances=1,
    )
    if refresh_minutes > 0:
        sched.add_job(
            resilient(lambda: _refresh(runner, nightly_at), what="intraday-refresh"),
            IntervalTrigger(minutes=refresh_minutes, timezone=LONDON),
            id="intraday-refresh",
            coalesce=True,
            misfire_grace_time=None,
            max_instances=1,
        )
    sched.add_job(
        resilient(lambda: runner.catch_up(nightly_at), what="catch-up"), id="catch-up-at-start"
    )
    return sched


def _refresh(runner: SweepRunner, nightly_at: time) -> None:
    """Intraday: catch up a missed night, then raise whatever fell due since."""
    runner.catch_up(nightly_at)
    runner.sweep(london_date(runner.now()))


def nightly_fire_times(nightly_at: time, start: datetime, count: int) -> list[datetime]:
    """The next ``count`` nightly fire times after ``start`` (for tests and ``--dry-run``)."""
    trigger = CronTrigger(hour=nightly_at.hour, minute=nightly_at.minute, timezone=LONDON)
    result: list[datetime] = []
    previous = None
    now = start
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None:
            break
        result.append(fire)
        previous = fire
        now = fire
    return result

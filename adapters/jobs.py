"""The background job worker: claims queued jobs, runs them, retries with backoff, dead-letters.

Jobs are rows in the ``jobs`` table, written by commands in their own transaction (the outbox:
a message is queued if and only if the change that calls for it is committed). A worker claims a
small batch of ready jobs with the work queue's pattern, one ``UPDATE ... WHERE id IN (SELECT
... LIMIT n FOR UPDATE SKIP LOCKED) RETURNING``, so any number of workers on PostgreSQL never run
the same job, and SQLite's ``BEGIN IMMEDIATE`` serialises claims. Then it runs them one by one,
finishing each in its own transaction as soon as it has run, so a crash repeats at most the job
in hand. (Claiming a batch costs one statement and one commit for the lot instead of two
statements and a commit per job; the finish stays per job.) A claim is a lease
(``locked_until``): a worker that dies leaves its claimed jobs to be recovered when the lease runs
out, counted as a failed attempt. Delivery is therefore at least once; handlers must tolerate a
rare repeat.

On failure a job waits ``backoff * 2**attempts`` (so 1x, 2x, 4x... the base) and after
``max_attempts`` failures it is ``dead``: listed by ``complaints jobs --status dead`` with its
last error, and requeued by hand with ``complaints jobs retry ID`` once the cause is fixed.
``last_error`` never holds personal data: a handler's ``NotificationError`` says what failed and
not to whom, and any other exception is recorded by its type alone.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import structlog
from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    Row,
    and_,
    bindparam,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy import case as sql_case
from sqlalchemy.exc import SQLAlchemyError

from adapters.db.tables import cases, jobs
from adapters.db.wakeups import PollingWakeups, Wakeups
from adapters.notify.base import NotificationError
from engine.ports import Clock
from sla.errors import ComplaintsError

log = structlog.get_logger()

STATUSES = ("queued", "running", "done", "dead")
DEFAULT_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=6)
DEFAULT_LEASE = timedelta(minutes=5)


class JobNotFoundError(ComplaintsError, LookupError):
    def __init__(self, job_id: int) -> None:
        super().__init__(f"no job {job_id}")


class JobNotRetryableError(ComplaintsError):
    def __init__(self, job_id: int, status: str) -> None:
        super().__init__(f"job {job_id} is {status}: only dead jobs can be retried")


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    reference: str | None
    payload: Mapping[str, Any]
    status: str
    attempts: int
    max_attempts: int
    run_after: datetime
    created_at: datetime
    locked_by: str | None = None
    last_error: str | None = None
    finished_at: datetime | None = None


Handler = Callable[[Job], None]
"""Runs one job; raising fails the attempt."""


def _job(row: Row[Any]) -> Job:
    m = row._mapping
    return Job(
        id=m["id"],
        kind=m["kind"],
        reference=m["reference"],
        payload=m["payload"] or {},
        status=m["status"],
        attempts=m["attempts"],
        max_attempts=m["max_attempts"],
        run_after=m["run_after"],
        created_at=m["created_at"],
        locked_by=m["locked_by"],
        last_error=m["last_error"],
        finished_at=m["finished_at"],
    )


_COLUMNS = (jobs, cases.c.reference)
DEFAULT_BATCH = 10

# Literal, not a parameter, so the statement's own text implies ``ix_jobs_queued``'s predicate.
_QUEUED = jobs.c.status == literal_column("'queued'")
_REFERENCE = (
    select(cases.c.reference)
    .where(cases.c.id == jobs.c.case_id)
    .scalar_subquery()
    .label("reference")
)


@cache
def _claim_batch(postgres: bool, limit: int) -> Any:
    """Lease up to ``limit`` ready jobs, oldest first, returning them with their case's
    reference. The limit is a literal (one statement per batch size): PostgreSQL costs the
    generic plan of a ``LIMIT $1`` as a tenth of the table, and so would plan every claim
    afresh rather than reuse the prepared statement's plan."""
    ready = and_(_QUEUED, jobs.c.run_after <= bindparam("b_now"))
    pick = select(jobs.c.id).where(ready).order_by(jobs.c.run_after, jobs.c.id)
    pick = pick.limit(literal_column(str(int(limit)), Integer))
    if postgres:
        pick = pick.with_for_update(skip_locked=True)
    return (
        update(jobs)
        .where(jobs.c.id.in_(pick.scalar_subquery()), ready)
        .values(
            status="running", locked_by=bindparam("b_worker"), locked_until=bindparam("b_until")
        )
        .returning(jobs, _REFERENCE)
    )


_FINISH = (
    update(jobs)
    .where(
        jobs.c.id == bindparam("b_id"),
        jobs.c.status == "running",
        jobs.c.locked_by == bindparam("b_worker"),
    )
    .values(status="done", finished_at=bindparam("b_now"), locked_by=None, locked_until=None)
)


def outage_wait(poll_seconds: float, failures: int, cap: float = 300.0) -> float:
    """How long a worker waits after ``failures`` database errors in a row: 5 s, 10 s, 20 s...
    up to ``cap`` (at least the poll interval)."""
    return float(min(cap, max(poll_seconds, 5.0) * 2.0 ** min(failures - 1, 16)))


def backoff_delay(base: timedelta, attempts_before: int) -> timedelta:
    """How long a job waits after failing its ``attempts_before + 1``-th attempt."""
    return min(base * (1 << max(attempts_before, 0)), MAX_BACKOFF)


def safe_error(exc: BaseException) -> str:
    """What ``last_error`` and the logs may say about a failure (no personal data)."""
    if isinstance(exc, NotificationError):
        return str(exc)[:500]
    return type(exc).__name__


class JobStore:
    """The ``jobs`` table for workers and the CLI: claim, finish, fail, list, retry."""

    def __init__(self, db_engine: Engine) -> None:
        self._engine = db_engine

    def _select(self) -> Any:
        return select(*_COLUMNS).outerjoin(cases, cases.c.id == jobs.c.case_id)

    def get(self, job_id: int, conn: Connection | None = None) -> Job:
        if conn is None:
            with self._engine.connect() as own:
                return self.get(job_id, own)
        row = conn.execute(self._select().where(jobs.c.id == job_id)).first()
        if row is None:
            raise JobNotFoundError(job_id)
        return _job(row)

    def claim(self, worker: str, now: datetime, lease: timedelta) -> Job | None:
        """Take the oldest ready job (queued, ``run_after`` passed); ``None`` if there is none."""
        batch = self.claim_batch(worker, now, lease, 1)
        return batch[0] if batch else None

    def claim_batch(self, worker: str, now: datetime, lease: timedelta, limit: int) -> list[Job]:
        """Take up to ``limit`` ready jobs, oldest first (an empty list if there is none)."""
        params = {"b_now": now, "b_worker": worker, "b_until": now + lease}
        with self._engine.begin() as conn:
            stmt = _claim_batch(conn.dialect.name == "postgresql", limit)
            claimed = [_job(row) for row in conn.execute(stmt, params)]
        return sorted(claimed, key=lambda job: (job.run_after, job.id))

    def finish(self, job: Job, worker: str, now: datetime) -> bool:
        """Mark a job this worker holds done; ``False`` if its lease was lost meanwhile."""
        with self._engine.begin() as conn:
            done = conn.execute(_FINISH, {"b_id": job.id, "b_worker": worker, "b_now": now})
            return done.rowcount == 1

    def give_back(self, batch: Sequence[Job], worker: str) -> int:
        """Return jobs this worker claimed but has not started to the queue, as they were."""
        with self._engine.begin() as conn:
            given = conn.execute(
                update(jobs)
                .where(
                    jobs.c.id.in_([job.id for job in batch]),
                    jobs.c.status == "running",
                    jobs.c.locked_by == worker,
                )
                .values(status="queued", locked_by=None, locked_until=None)
            )
            return int(given.rowcount)

    def fail(
        self, job: Job, worker: str, now: datetime, error: str, backoff: timedelta
    ) -> str | None:
        """Record a failed attempt: back to ``queued`` after a backoff, or ``dead`` when out of
        attempts. Returns the new status (``None`` if the lease was lost meanwhile)."""
        attempts = job.attempts + 1
        status = "dead" if attempts >= job.max_attempts else "queued"
        with self._engine.begin() as conn:
            changed = conn.execute(
                update(jobs)
                .where(*_held(job.id, worker))
                .values(
                    status=status,
                    attempts=attempts,
                    last_error=error[:500],
                    run_after=now + backoff_delay(backoff, job.attempts),
                    locked_by=None,
                    locked_until=None,
                    finished_at=now if status == "dead" else None,
                )
            )
            return status if changed.rowcount == 1 else None

    def recover(self, now: datetime) -> int:
        """Jobs whose worker's lease ran out (it died mid-job): a failed attempt each."""
        expired = and_(jobs.c.status == "running", jobs.c.locked_until < now)
        with self._engine.begin() as conn:
            result = conn.execute(
                update(jobs)
                .where(expired)
                .values(
                    status=sql_case(
                        (jobs.c.attempts + 1 >= jobs.c.max_attempts, "dead"), else_="queued"
                    ),
                    attempts=jobs.c.attempts + 1,
                    last_error="the worker stopped before finishing (lease expired)",
                    run_after=now,
                    locked_by=None,
                    locked_until=None,
                )
            )
            recovered = int(result.rowcount)
        if recovered:
            log.warning("jobs_recovered", count=recovered)
        return recovered

    def retry(self, job_id: int, now: datetime) -> Job:
        """Requeue a dead job with a fresh set of attempts (its last error is kept)."""
        with self._engine.begin() as conn:
            requeued = conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.status == "dead")
                .values(
                    status="queued",
                    attempts=0,
                    run_after=now,
                    finished_at=None,
                    locked_by=None,
                    locked_until=None,
                )
                .returning(jobs.c.id)
            ).scalar()
            job = self.get(job_id, conn)
        if requeued is None:
            raise JobNotRetryableError(job_id, job.status)
        log.info("job_retried", job=job_id, kind=job.kind, reference=job.reference)
        return job

    def list(self, status: str | None = None, limit: int = 50) -> Sequence[Job]:
        """Jobs, newest first, optionally of one status."""
        stmt = self._select().order_by(jobs.c.id.desc()).limit(limit)
        if status is not None:
            stmt = stmt.where(jobs.c.status == status)
        with self._engine.connect() as conn:
            return [_job(row) for row in conn.execute(stmt)]

    def counts(self) -> dict[str, int]:
        """How many jobs are in each status (every status present, zero if none)."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status))
            found = {status: int(count) for status, count in rows}
        return {status: found.get(status, 0) for status in STATUSES}


def _held(job_id: int, worker: str) -> tuple[Any, ...]:
    return (jobs.c.id == job_id, jobs.c.status == "running", jobs.c.locked_by == worker)


def worker_name() -> str:
    """Unique per worker: host, process and a random suffix (for ``locked_by``)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class WorkerRun:
    """What one pass of the worker did."""

    done: int = 0
    retrying: int = 0
    dead: int = 0
    lost: int = 0

    @property
    def ran(self) -> int:
        return self.done + self.retrying + self.dead + self.lost

    def __str__(self) -> str:
        return (
            f"{self.ran} jobs run: {self.done} done, {self.retrying} to retry, {self.dead} dead"
            + (f", {self.lost} lost their lease" if self.lost else "")
        )


@dataclass
class Worker:
    """Runs jobs from one database with a handler per job kind."""

    store: JobStore
    handlers: Mapping[str, Handler]
    clock: Clock
    name: str = field(default_factory=worker_name)
    backoff: timedelta = DEFAULT_BACKOFF
    lease: timedelta = DEFAULT_LEASE
    batch: int = DEFAULT_BATCH  # jobs claimed at once (each is still finished on its own)
    wakeups: Wakeups = field(default_factory=PollingWakeups)  # how an idle worker waits

    def run_once(self, limit: int | None = None) -> WorkerRun:
        """Run ready jobs until none is left (or ``limit`` were run).

        A batch shares one lease: once half of it has gone (a slow mail server), the jobs not
        yet started are given back to the queue rather than run late, when another worker may
        already have taken them over as abandoned."""
        summary = WorkerRun()
        self.store.recover(self.clock())
        while limit is None or summary.ran < limit:
            wanted = self.batch if limit is None else min(self.batch, limit - summary.ran)
            leased_at = self.clock()
            claimed = self.store.claim_batch(self.name, leased_at, self.lease, max(1, wanted))
            if not claimed:
                break
            for done, job in enumerate(claimed):
                if done and self.clock() - leased_at > self.lease / 2:
                    rest = claimed[done:]
                    given = self.store.give_back(rest, self.name)
                    log.info("jobs_given_back", worker=self.name, jobs=given)
                    break
                self._run(job, summary)
        return summary

    def run_forever(self, stop: threading.Event, poll_seconds: float = 2.0) -> None:
        """Run jobs until ``stop`` is set (between jobs, never in the middle of one); when idle,
        wait for a wake-up (a notification on PostgreSQL) or ``poll_seconds``."""
        log.info("worker_started", worker=self.name, poll_seconds=poll_seconds)
        try:
            self._run_until(stop, poll_seconds)
        finally:
            self.wakeups.close()
        log.info("worker_stopped", worker=self.name)

    def _run_until(self, stop: threading.Event, poll_seconds: float) -> None:
        failures = 0
        while not stop.is_set():
            try:
                ran = self.run_once(limit=100)
            except (SQLAlchemyError, ComplaintsError) as exc:  # the database is away: back off
                failures += 1
                wait = outage_wait(poll_seconds, failures)
                log.error(
                    "worker_database_error",
                    worker=self.name,
                    error=type(exc).__name__,
                    retry_in=wait,
                )
                stop.wait(wait)
                continue
            failures = 0
            if ran.ran == 0:
                self.wakeups.wait(stop, poll_seconds)

    def _run(self, job: Job, summary: WorkerRun) -> None:
        handler = self.handlers.get(job.kind)
        try:
            if handler is None:
                raise NotificationError(f"no handler for jobs of kind {job.kind!r}")
            handler(job)
        except Exception as exc:  # any failure is an attempt; the job carries on or dies
            self._failed(job, exc, summary)
            return
        if self.store.finish(job, self.name, self.clock()):
            summary.done += 1
            log.info("job_done", job=job.id, kind=job.kind, reference=job.reference)
        else:
            summary.lost += 1
            log.warning("job_lease_lost", job=job.id, kind=job.kind, reference=job.reference)

    def _failed(self, job: Job, exc: Exception, summary: WorkerRun) -> None:
        error = safe_error(exc)
        status = self.store.fail(job, self.name, self.clock(), error, self.backoff)
        fields = {
            "job": job.id,
            "kind": job.kind,
            "reference": job.reference,
            "attempt": job.attempts + 1,
            "error": error,
        }
        if status == "dead":
            summary.dead += 1
            log.error("job_dead", **fields)
        elif status == "queued":
            summary.retrying += 1
            log.warning("job_failed", **fields)
        else:
            summary.lost += 1
            log.warning("job_lease_lost", **fields)

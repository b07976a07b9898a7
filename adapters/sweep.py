"""The SLA sweep: raise and clear time-driven flags on the cases that are due.

Every case stores ``next_flag_on``, the first date its flags change without anyone touching it
(computed whenever a command or a sweep writes the case, and indexed). The nightly sweep reads
only cases with ``next_flag_on <= as_of``, so its cost grows with the work to do, not with the
number of open cases. It commits in batches: killed at any point and run again, it carries on
from the uncommitted batch and ends in the same state, because each batch is atomic and flag
rows are unique per crossing.

A flag the sweep raises can call for a message to the resident (the first contact-countdown level
sends an update): the optional ``notifications`` planner is asked per case, and the jobs are
queued in the batch's own transaction, so a batch that rolls back queues nothing.

The sweep writes only what it owns (flags, their events, ``next_flag_on`` and the event counter);
it never bumps a case's version, so a coordinator editing a case at the same time is not refused.
On PostgreSQL a batch locks its rows with ``FOR UPDATE SKIP LOCKED``: a case being edited right
now is skipped, and the edit brings its flags up to date itself.

Cost (``bench/sweep.py``): the due ids come from one scan of a partial index (``ix_cases_due``);
each batch is read with array parameters and written with ``COPY`` and ``unnest`` statements
(``adapters/db/sweep_reads.py``, ``sweep_writes.py``); and on PostgreSQL a reader thread claims
the next batch while this one is evaluated and written.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, RootTransaction, func, select
from sqlalchemy.exc import DBAPIError

from adapters.db.repository import DatabaseError
from adapters.db.sweep_reads import claim_due
from adapters.db.sweep_writes import BatchWrite, prepare_batch
from adapters.db.tables import cases
from engine.definition import WorkflowDefinition
from engine.flagging import sync_flags
from engine.model import Case
from engine.ports import JobSpec, NotificationPlanner
from engine.queue import plan_work
from sla.calendar import WorkingCalendar
from sla.policy import PolicyRegistry

log = structlog.get_logger()

DEFAULT_BATCH = 1000


@dataclass
class SweepSummary:
    """What a sweep did, for the CLI, the logs and the scheduler's run record."""

    as_of: date
    cases_checked: int = 0
    cases_changed: int = 0
    batches: int = 0
    raised: Counter[str] = field(default_factory=Counter)
    cleared: Counter[str] = field(default_factory=Counter)
    withdrawn: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "cases_checked": self.cases_checked,
            "cases_changed": self.cases_changed,
            "batches": self.batches,
            "raised": dict(sorted(self.raised.items())),
            "cleared": dict(sorted(self.cleared.items())),
            "withdrawn": dict(sorted(self.withdrawn.items())),
            "seconds": round(self.seconds, 3),
        }


Progress = Callable[[int], None]


class Sweeper:
    """Runs sweeps against one database with one set of policies and calendars."""

    def __init__(
        self,
        db_engine: Engine,
        *,
        policies: PolicyRegistry,
        calendars: Callable[[str], WorkingCalendar],
        clock: Callable[[], datetime],
        workflows: Mapping[str, WorkflowDefinition],
        team_for: Callable[[str], str],
        batch_size: int = DEFAULT_BATCH,
        notifications: NotificationPlanner | None = None,
    ) -> None:
        self._engine = db_engine
        self._notifications = notifications
        self._workflows = workflows
        self._team_for = team_for
        self._policies = policies
        self._calendars = calendars
        self._clock = clock
        self._batch_size = batch_size

    @property
    def policies(self) -> PolicyRegistry:
        """The policies cases are judged by (the recompute moves cases to their versions)."""
        return self._policies

    def due_count(self, as_of: date) -> int:
        """How many open cases have a flag change due on or before ``as_of``."""
        with self._engine.connect() as conn:
            stmt = select(func.count()).select_from(cases).where(*_due(as_of))
            return int(conn.execute(stmt).scalar_one())

    def run(self, as_of: date, progress: Progress | None = None) -> SweepSummary:
        """Bring every due case's flags up to ``as_of``; one transaction per batch."""
        started = datetime.now().timestamp()  # noqa: DTZ005 - a duration, not a timestamp
        summary = SweepSummary(as_of=as_of)
        due = self._due_ids(as_of)
        chunks = (
            due[start : start + self._batch_size].tolist()
            for start in range(0, len(due), self._batch_size)
        )
        if self._engine.dialect.name == "postgresql":
            self._run_overlapped(chunks, as_of, summary, progress)
        else:
            self._run_serial(chunks, as_of, summary, progress)
        summary.seconds = datetime.now().timestamp() - started  # noqa: DTZ005
        log.info("sweep_finished", **summary.as_dict())
        return summary

    def _run_serial(
        self,
        chunks: Iterable[list[int]],
        as_of: date,
        summary: SweepSummary,
        progress: Progress | None,
    ) -> None:
        for ids in chunks:
            with self._failures(summary), self._engine.begin() as conn:
                batch, counts = self._claim(conn, as_of, ids)
                if batch:
                    self._process(conn, batch, counts, as_of, summary)
            self._done(summary, len(batch), len(ids), progress)

    def _run_overlapped(
        self,
        chunks: Iterable[list[int]],
        as_of: date,
        summary: SweepSummary,
        progress: Progress | None,
    ) -> None:
        """Claim the next batch (a reader thread) while this one is evaluated and written.

        Each batch keeps its own connection and transaction from its claim to its commit, and
        batches commit in order on the main thread: at most two are open (this one and the one
        being claimed), and a failure leaves the same committed prefix as the serial loop (the
        claimed next batch rolls back). PostgreSQL only: the batches lock disjoint rows. The
        database reads the next batch while Python evaluates and writes this one.
        """
        pending = iter(chunks)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sweep-reader") as reader:
            upcoming = self._claim_next(reader, pending, as_of)
            try:
                while upcoming is not None:
                    with self._failures(summary):
                        claimed = upcoming.result()
                    upcoming = self._claim_next(reader, pending, as_of)
                    with closing(claimed.conn), self._failures(summary):
                        if claimed.batch:
                            self._process(
                                claimed.conn, claimed.batch, claimed.counts, as_of, summary
                            )
                        claimed.tx.commit()
                    self._done(summary, len(claimed.batch), len(claimed.ids), progress)
            finally:
                if upcoming is not None and upcoming.exception() is None:
                    upcoming.result().conn.close()  # leaving on an error: roll the claim back

    def _claim_next(
        self, reader: ThreadPoolExecutor, pending: Iterator[list[int]], as_of: date
    ) -> Future[_Claimed] | None:
        ids = next(pending, None)
        return None if ids is None else reader.submit(self._open_claim, as_of, ids)

    def _open_claim(self, as_of: date, ids: list[int]) -> _Claimed:
        """Begin a batch's transaction and claim its cases (reader thread)."""
        conn = self._engine.connect()
        try:
            tx = conn.begin()
            batch, counts = self._claim(conn, as_of, ids)
        except BaseException:
            conn.close()
            raise
        return _Claimed(conn, tx, ids, batch, counts)

    @staticmethod
    def _done(
        summary: SweepSummary, cases_in_batch: int, ids_in_chunk: int, progress: Progress | None
    ) -> None:
        if cases_in_batch:
            summary.batches += 1
            summary.cases_checked += cases_in_batch
        if progress is not None:
            progress(ids_in_chunk)

    @staticmethod
    @contextmanager
    def _failures(summary: SweepSummary) -> Iterator[None]:
        try:
            yield
        except DBAPIError as exc:
            log.error("sweep_batch_failed", batch=summary.batches + 1, error=type(exc).__name__)
            raise DatabaseError(
                f"the database failed during sweep batch {summary.batches + 1}: nothing of "
                f"that batch was saved ({summary.batches} earlier batches were); run the "
                "sweep again to finish"
            ) from exc

    def _due_ids(self, as_of: date) -> array[int]:
        """The ids of the cases due on ``as_of``, in id order (8 bytes each: 8 MB a million).

        One scan of the partial index of open cases by ``next_flag_on``; each batch then claims
        its ids again with the due condition, so a case a command brought up to date meanwhile
        is left alone, and a case that fell due meanwhile waits for the next sweep (the command
        that made it due brought its flags up to date itself).
        """
        stmt = select(cases.c.id).where(*_due(as_of)).order_by(cases.c.id)
        due: array[int] = array("q")
        with self._engine.connect() as conn:
            for chunk in (
                conn.execution_options(yield_per=10_000).execute(stmt).scalars().partitions()
            ):
                due.extend(chunk)
        return due

    def _claim(
        self, conn: Connection, as_of: date, ids: list[int]
    ) -> tuple[list[Case], dict[int, int]]:
        return claim_due(conn, as_of, ids)

    def _process(
        self,
        conn: Connection,
        batch: list[Case],
        counts: dict[int, int],
        as_of: date,
        summary: SweepSummary,
    ) -> None:
        """Evaluate the batch's flags and work, and write them in the batch's transaction.

        A case under a policy that is no longer configured is left untouched (and stays due),
        with a warning, rather than failing the batch and every sweep after it."""
        now = self._clock()
        messages: list[JobSpec] = []
        configured = set(self._policies.ids())
        unknown = [c for c in batch if c.policy_id not in configured]
        if unknown:
            log.warning(
                "sweep_unknown_policy",
                policies=sorted({c.policy_id for c in unknown}),
                cases=len(unknown),
            )
            batch = [c for c in batch if c.policy_id in configured]
        for case in batch:
            policy = self._policies.get(case.policy_id)
            calendar = self._calendars(case.calendar)
            changed = sync_flags(case, policy, calendar, as_of=as_of, clear_on=as_of, now=now)
            plan_work(
                case,
                self._workflows[case.workflow],
                policy.contact_levels,
                as_of,
                self._team_for(case.category),
            )
            if changed:
                summary.cases_changed += 1
                for flag in case.pending_flags:
                    summary.raised[flag.level] += 1
                for (name, _anchor), _day in case.pending_clears:
                    summary.cleared[name.rsplit(":", 1)[-1]] += 1
                for name, _anchor in case.pending_withdrawals:
                    summary.withdrawn[name.rsplit(":", 1)[-1]] += 1
            if self._notifications is not None and case.pending_events:
                messages.extend(self._notifications(case, case.pending_events, policy))
        _write(conn, prepare_batch(conn.dialect.name, batch, counts, messages, now))


@dataclass
class _Claimed:
    """A batch claimed in its own open transaction, waiting to be evaluated and committed."""

    conn: Connection
    tx: RootTransaction
    ids: list[int]
    batch: list[Case]
    counts: dict[int, int]


def _write(conn: Connection, plan: BatchWrite) -> None:
    """Run a batch's writes in its transaction (one seam, for the kill tests)."""
    plan.execute(conn)


def _due(as_of: date) -> tuple[Any, ...]:
    return (cases.c.is_open.is_(True), cases.c.next_flag_on <= as_of)

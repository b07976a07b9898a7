"""Every interface the engine needs from the outside world, in one place.

Adapters implement these (``adapters/db`` on SQLAlchemy); tests use the same adapters on a real
SQLite or PostgreSQL database rather than mocks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any, Protocol

from engine.events import Event
from engine.model import Case
from engine.queue import QueueFilter, WorkItem
from sla.policy import Policy

Clock = Callable[[], datetime]
"""Returns the current instant, timezone-aware (UTC)."""


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """Which cases ``find`` returns; ``None`` means any."""

    workflow: str | None = None
    state: str | None = None
    is_open: bool | None = None
    category: str | None = None
    area: str | None = None
    owner: str | None = None
    resident_ref: str | None = None
    received_from: date | None = None
    received_to: date | None = None
    flag: str | None = None
    # Restricted cases are left out unless ``visible_restricted``; ``restricted_manager`` names
    # the one actor whose own restricted cases (as their named manager) stay in.
    visible_restricted: bool = True
    restricted_manager: str | None = None
    limit: int = 100
    offset: int = 0


class CaseRepository(Protocol):
    """Loads and stores cases with their events. Every method runs in the unit of work's
    transaction."""

    def get(self, reference: str, *, lock: bool = False) -> Case:
        """The case; raises ``CaseNotFoundError``. ``lock`` holds it until the transaction ends
        (for a read that will be followed by a write)."""

    def add(self, case: Case) -> None:
        """Insert a new case and its pending events; sets ``case.id`` and ``case.version``."""

    def save(self, case: Case) -> None:
        """Write the case if nobody changed it since it was read, with its pending events.

        Raises ``ConcurrencyError`` (and writes nothing) when the stored version moved on.
        """

    def next_reference(self, prefix: str, year: int) -> str:
        """A new unique reference such as ``CMP-2026-000123``."""

    def history(self, reference: str) -> Sequence[Event]:
        """Every event of the case, oldest first; raises ``CaseNotFoundError``."""

    def find(self, query: CaseFilter) -> Sequence[Case]:
        """Cases matching the filter, newest received first."""


class WorkQueueRepository(Protocol):
    """Work items: a lease-based queue shared by several coordinators at once."""

    def claim(
        self,
        actor: str,
        now: datetime,
        lease_until: datetime,
        query: QueueFilter,
        may_see_restricted: bool,
    ) -> WorkItem | None:
        """Lease the most urgent claimable item (open, or claimed with an expired lease) to
        ``actor``; ``None`` when there is none. Never hands one item to two claimers."""

    def held(self, item_id: int, actor: str, now: datetime, may_see_restricted: bool) -> WorkItem:
        """The item, locked, if ``actor`` holds its unexpired lease; else ``LeaseLostError``, or
        ``WorkItemNotFoundError`` if there is none ``actor`` may see."""

    def finish(self, item_id: int, actor: str, now: datetime, outcome: str) -> None:
        """Mark a held item done."""

    def release(self, item_id: int, actor: str, now: datetime, may_see_restricted: bool) -> None:
        """Give a held item back to the queue (as ``held`` checks it)."""

    def items(
        self, query: QueueFilter, may_see_restricted: bool, viewer: str
    ) -> Sequence[WorkItem]:
        """Open and claimed items, most urgent first. Restricted items only when
        ``may_see_restricted`` or their case names ``viewer`` as its manager (so in ``claim`` and
        ``held``, with ``actor`` as the viewer)."""


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A background job to run after the transaction commits (an outbox entry)."""

    kind: str
    payload: Mapping[str, Any]
    reference: str | None = None
    run_after: datetime | None = None


class JobQueue(Protocol):
    """Background jobs in the same database: enqueued in the command's own transaction."""

    def enqueue(self, jobs: Sequence[JobSpec], now: datetime) -> None:
        """Queue the jobs (written atomically with whatever else the transaction does)."""


NotificationPlanner = Callable[[Case, Sequence[Event], Policy], Sequence[JobSpec]]
"""Decides which messages the resident gets for what just happened to a case."""


def no_notifications(case: Case, events: Sequence[Event], policy: Policy) -> Sequence[JobSpec]:
    return ()


class UnitOfWork(Protocol):
    """One database transaction: commit makes every change and event durable together."""

    @property
    def cases(self) -> CaseRepository:
        """The repository bound to this transaction."""

    @property
    def queue(self) -> WorkQueueRepository:
        """The work queue bound to this transaction."""

    @property
    def jobs(self) -> JobQueue:
        """The background job queue bound to this transaction."""

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back unless committed."""

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

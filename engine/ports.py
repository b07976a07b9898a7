"""Every interface the engine needs from the outside world, in one place.

Adapters implement these (``adapters/db`` on SQLAlchemy); tests use the same adapters on a real
SQLite or PostgreSQL database rather than mocks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Protocol

from engine.events import Event
from engine.model import Case

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


class UnitOfWork(Protocol):
    """One database transaction: commit makes every change and event durable together."""

    @property
    def cases(self) -> CaseRepository:
        """The repository bound to this transaction."""

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

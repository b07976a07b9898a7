"""Waking an idle job worker when there is work: LISTEN/NOTIFY on PostgreSQL, a poll elsewhere.

A trigger on ``jobs`` (migration 0010) sends a notification on ``complaints_jobs`` when a
transaction queues jobs (one per statement, whatever the number of rows) or a person requeues a
dead one, delivered when that transaction commits. A worker with nothing to do waits on it, so
a message goes out as soon as the command that queued it commits instead of up to a poll
interval later; the poll stays as the fallback (jobs whose retry wait has run out notify
nobody, and a lost listening connection falls back to polling until it is back).
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import psycopg
import structlog
from sqlalchemy import Engine

CHANNEL = "complaints_jobs"
SLICE_SECONDS = 0.5  # how often a waiting worker looks at its stop flag
CONNECT_TIMEOUT = 2  # seconds (libpq's least): a worker asked to stop is not held longer

log = structlog.get_logger(__name__)


class Wakeups(Protocol):
    """Waits until there may be new work, ``seconds`` at most, or ``stop`` is set."""

    def wait(self, stop: threading.Event, seconds: float) -> None: ...

    def close(self) -> None: ...


class PollingWakeups:
    """Just the poll interval (SQLite: one process, nobody else to notify it)."""

    def wait(self, stop: threading.Event, seconds: float) -> None:
        stop.wait(seconds)

    def close(self) -> None:
        return None


class PostgresWakeups:
    """``LISTEN complaints_jobs`` on a connection of its own (autocommit, outside the pool).

    A notification that arrives while the worker is busy waits in the connection until the
    next ``wait``, which then returns at once: none is missed between two waits. A wait that
    has just (re)started listening returns at once too, so the worker looks again for jobs
    queued before it listened. ``notified`` counts the wake-ups by notification.
    """

    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self.notified = 0

    def _listen(self) -> psycopg.Connection[tuple[object, ...]]:
        conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
        try:
            conn.execute(f"LISTEN {CHANNEL}")
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def wait(self, stop: threading.Event, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        try:
            if self._conn is None or self._conn.closed:
                if not stop.is_set():
                    self._listen()
                return  # look again: a job queued before LISTEN notified nobody
            while not stop.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                for _ in self._conn.notifies(timeout=min(SLICE_SECONDS, left), stop_after=1):
                    self.notified += 1
                    return
        except psycopg.Error as exc:  # the server is away: poll until it is back
            log.warning("worker_listen_lost", error=type(exc).__name__)
            self.close()
            stop.wait(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def wakeups_for(db_engine: Engine) -> Wakeups:
    """Notifications on PostgreSQL, the poll on SQLite."""
    if db_engine.dialect.name != "postgresql":
        return PollingWakeups()
    url = db_engine.url.set(drivername="postgresql")
    return PostgresWakeups(url.render_as_string(hide_password=False))

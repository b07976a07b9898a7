"""Retry a unit of work with bounded exponential backoff when the database goes away.

The scheduler's jobs (nightly sweep, intraday refresh) run through :func:`retry_with_backoff`, so
a dropped connection or a restarting server costs a few retries, not the process. Each retried
call is itself atomic (a sweep batch or a command commits whole or not at all), so running it
again is safe.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import structlog
from sqlalchemy.exc import DBAPIError, OperationalError

from adapters.db.repository import DatabaseError

log = structlog.get_logger()

T = TypeVar("T")
RETRYABLE: tuple[type[BaseException], ...] = (DatabaseError, OperationalError, DBAPIError)


def retry_with_backoff(
    fn: Callable[[], T],
    *,
    attempts: int = 5,
    base_delay: float = 1.0,
    max_delay: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
    retry_on: tuple[type[BaseException], ...] = RETRYABLE,
    what: str = "task",
) -> T:
    """``fn()``, retried after ``base_delay``, ``2 * base_delay``... (capped at ``max_delay``)
    when it raises one of ``retry_on``; the last failure is re-raised after ``attempts`` tries.
    Anything else propagates at once."""
    if attempts < 1:
        raise ValueError("attempts must be 1 or more")
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except retry_on as exc:
            if attempt == attempts:
                log.error("retry_gave_up", task=what, attempts=attempt, error=type(exc).__name__)
                raise
            delay = min(max_delay, base_delay * 2 ** (attempt - 1))
            log.warning(
                "retrying", task=what, attempt=attempt, delay=delay, error=type(exc).__name__
            )
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def resilient(
    fn: Callable[[], T | None],
    *,
    what: str,
    attempts: int = 5,
    base_delay: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Callable[[], T | None]:
    """A scheduler job that retries database faults and, if they persist, logs and returns
    ``None`` (the next scheduled run or catch-up tries again) instead of raising."""

    def run() -> T | None:
        try:
            return retry_with_backoff(
                fn, attempts=attempts, base_delay=base_delay, sleep=sleep, what=what
            )
        except RETRYABLE as exc:
            log.error("scheduled_task_failed", task=what, error=type(exc).__name__)
            return None

    return run

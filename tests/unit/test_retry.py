"""Retry with backoff (scheduler jobs) and the worker's outage wait, with a fake sleep."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from adapters.db.repository import DatabaseError
from adapters.jobs import outage_wait
from adapters.retry import resilient, retry_with_backoff


def flaky(failures: int, exc: BaseException) -> tuple[list[int], object]:
    calls: list[int] = []

    def fn() -> str:
        calls.append(1)
        if len(calls) <= failures:
            raise exc
        return "done"

    return calls, fn


def test_database_faults_are_retried_with_doubling_delays() -> None:
    slept: list[float] = []
    calls, fn = flaky(3, DatabaseError("gone"))
    assert retry_with_backoff(fn, attempts=5, base_delay=1.0, sleep=slept.append) == "done"  # type: ignore[arg-type]
    assert (len(calls), slept) == (4, [1.0, 2.0, 4.0])


def test_the_delay_is_capped_and_the_last_failure_is_raised() -> None:
    slept: list[float] = []
    _, fn = flaky(10, OperationalError("SELECT 1", {}, Exception("server closed")))
    with pytest.raises(OperationalError):
        retry_with_backoff(fn, attempts=4, base_delay=10, max_delay=15, sleep=slept.append)  # type: ignore[arg-type]
    assert slept == [10, 15, 15]


def test_other_errors_are_not_retried() -> None:
    slept: list[float] = []
    calls, fn = flaky(1, ValueError("bug"))
    with pytest.raises(ValueError, match="bug"):
        retry_with_backoff(fn, sleep=slept.append)  # type: ignore[arg-type]
    assert (len(calls), slept) == (1, [])
    with pytest.raises(ValueError, match="attempts"):
        retry_with_backoff(fn, attempts=0)  # type: ignore[arg-type]


def test_a_resilient_scheduled_job_logs_and_returns_none_instead_of_dying() -> None:
    slept: list[float] = []
    calls, fn = flaky(100, DatabaseError("gone"))
    job = resilient(fn, what="nightly", attempts=3, base_delay=5, sleep=slept.append)  # type: ignore[arg-type]
    assert job() is None
    assert (len(calls), slept) == (3, [5, 10])
    _, ok = flaky(1, DatabaseError("gone"))
    assert resilient(ok, what="x", sleep=slept.append)() == "done"  # type: ignore[arg-type]


def test_the_worker_backs_off_exponentially_during_an_outage() -> None:
    assert [outage_wait(2.0, n) for n in (1, 2, 3, 4)] == [5.0, 10.0, 20.0, 40.0]
    assert outage_wait(2.0, 50) == 300.0
    assert outage_wait(30.0, 1) == 30.0

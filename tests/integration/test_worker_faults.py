"""The job worker outlives the database going away (PostgreSQL, a real terminated backend).

Issue 7 asks that workers "retry with backoff rather than die": here the worker's connection is
killed from another session while a job is in flight, so the job's ``finish`` fails. The worker
must log the outage (without personal data), wait, and carry on; the interrupted job comes back
when its lease runs out and runs again (delivery is at-least-once), and every job ends done.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import structlog
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from support import FakeClock, only_postgres

from adapters.db.jobs import SqlJobs
from adapters.jobs import Job, JobStore, Worker
from engine.ports import JobSpec

JOBS = 6
SECRET = "dana.resident@example.org"


def kill_other_backends(db_engine: Engine) -> int:
    """Terminate every other session on the test database, from a connection of our own."""
    killer = create_engine(db_engine.url, poolclass=NullPool)
    try:
        with killer.connect() as conn:
            return len(
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).all()
            )
    finally:
        killer.dispose()


@only_postgres
def test_a_worker_whose_connection_is_killed_mid_job_backs_off_and_finishes_every_job(
    db_engine: Engine, clock: FakeClock
) -> None:
    with db_engine.begin() as conn:
        SqlJobs(conn).enqueue(
            [JobSpec(kind="test", payload={"n": n, "to": SECRET}) for n in range(JOBS)], clock()
        )
    store = JobStore(db_engine)
    ran: list[int] = []
    killed: list[int] = []

    def handle(job: Job) -> None:
        if not killed:  # the first job: the database goes away before it is marked done
            killed.append(kill_other_backends(db_engine))
        ran.append(job.id)

    lease = timedelta(minutes=5)
    worker = Worker(store, {"test": handle}, clock, name="resilient", lease=lease)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop, 0.01), daemon=True)

    def done_so_far() -> int:
        """The test's own look shares the pool the kill empties: a killed look is "not yet"."""
        try:
            return store.counts()["done"]
        except DBAPIError:
            return -1

    with structlog.testing.capture_logs() as logs:
        thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and done_so_far() < JOBS:
            time.sleep(0.2)
            if any(entry["event"] == "worker_database_error" for entry in logs):
                clock.advance(lease + timedelta(seconds=1))  # let the interrupted lease expire
        stop.set()
        thread.join(timeout=30)

    assert not thread.is_alive(), "the worker did not stop when asked"
    assert killed and killed[0] >= 1, "no backend was terminated"
    assert store.counts()["done"] == JOBS
    assert sorted(set(ran)) == sorted(job.id for job in store.list(limit=JOBS))
    # At-least-once: the job whose finish was lost ran again after its lease; no other did.
    assert len(ran) == JOBS + 1
    outages = [entry for entry in logs if entry["event"] == "worker_database_error"]
    assert outages and outages[0]["retry_in"] >= 5.0
    assert {entry["error"] for entry in outages} <= {"OperationalError", "DatabaseError"}
    assert SECRET not in repr(logs)

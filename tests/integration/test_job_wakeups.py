"""An idle job worker is woken by PostgreSQL (LISTEN/NOTIFY) when jobs are queued (issue 5).

Each worker here polls only every ten minutes, so a job done within the test's patience was
started by the notification, not the poll. On SQLite there is no other process to notify: the
worker polls (``PollingWakeups``), shown by the last test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, insert, select, text
from support import FakeClock

from adapters.bootstrap import build_worker
from adapters.db.tables import jobs
from adapters.db.wakeups import CHANNEL, PollingWakeups, PostgresWakeups, wakeups_for
from adapters.jobs import JobStore, Worker
from adapters.notify.base import Message
from adapters.settings import Settings
from engine.service import ComplaintsService

LONG_POLL = 600.0
PATIENCE = 30.0  # far below the poll: only a wake-up gets the job done in time


class Recorder:
    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, message: Message) -> None:
        self.sent.append(message)


def eventually(condition: Callable[[], bool], seconds: float = PATIENCE) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def listeners(db_engine: Engine) -> int:
    with db_engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND query = :listen AND state = 'idle'"
                ),
                {"listen": f"LISTEN {CHANNEL}"},
            ).scalar_one()
        )


def probe_job(db_engine: Engine, clock: FakeClock, status: str = "queued") -> int:
    """A job of kind ``probe`` in ``status`` (a dead one has used its attempts); its id."""
    attempts = 5 if status == "dead" else 0
    with db_engine.begin() as conn:
        return int(
            conn.execute(
                insert(jobs)
                .values(
                    kind="probe",
                    payload={},
                    status=status,
                    attempts=attempts,
                    max_attempts=5,
                    run_after=clock(),
                    created_at=clock(),
                )
                .returning(jobs.c.id)
            ).scalar_one()
        )


@pytest.fixture
def postgres_only(db_engine: Engine) -> None:
    if db_engine.dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite polls (the last test)")


@contextmanager
def running(worker: Worker, poll: float) -> Iterator[threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop, poll), daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(10)
        assert not thread.is_alive(), "the worker did not stop within 10 s of being asked"


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def worker(
    settings: Settings, db_engine: Engine, clock: FakeClock, recorder: Recorder
) -> Iterator[threading.Event]:
    """A real worker (``build_worker``) running in a thread, polling every ten minutes."""
    notifiers = {"email": recorder, "sms": recorder, "letter": recorder}
    built = build_worker(settings, db_engine=db_engine, clock=clock, notifiers=notifiers)
    with running(built, LONG_POLL) as stop:
        yield stop


def test_a_command_that_queues_a_message_wakes_the_idle_worker(
    postgres_only: None,
    service: ComplaintsService,
    db_engine: Engine,
    recorder: Recorder,
    worker: threading.Event,
) -> None:
    assert eventually(lambda: listeners(db_engine) == 1), "the worker never listened"
    reference = service.open(
        actor="intake",
        category="repairs",
        channel="phone",
        area="north",
        preferred_contact="email",
        resident_email="dana@example.org",
    ).reference
    service.acknowledge(reference, actor="alice", understanding="A leak.", desired_outcome="Fix")
    assert eventually(lambda: len(recorder.sent) == 1), "the job waited for the poll"
    assert recorder.sent[0].reference == reference


def test_requeueing_a_dead_job_wakes_the_idle_worker(
    postgres_only: None, db_engine: Engine, clock: FakeClock
) -> None:
    ran: list[int] = []
    job_id = probe_job(db_engine, clock, status="dead")
    store = JobStore(db_engine)
    probe = Worker(
        store=store,
        handlers={"probe": lambda job: ran.append(job.id)},
        clock=clock,
        wakeups=wakeups_for(db_engine),
    )
    with running(probe, LONG_POLL):
        assert eventually(lambda: listeners(db_engine) == 1), "the worker never listened"
        store.retry(job_id, clock())
        assert eventually(lambda: ran == [job_id]), "the requeued job waited for the poll"


def test_a_worker_whose_listening_connection_dies_polls_then_listens_again(
    postgres_only: None, db_engine: Engine, clock: FakeClock
) -> None:
    ran: list[int] = []
    url = db_engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    probe = Worker(
        store=JobStore(db_engine),
        handlers={"probe": lambda job: ran.append(job.id)},
        clock=clock,
        wakeups=PostgresWakeups(url),
    )

    wakeups = probe.wakeups
    assert isinstance(wakeups, PostgresWakeups)
    with running(probe, 1.0):  # a short poll: the fallback while the listener is gone
        assert eventually(lambda: listeners(db_engine) == 1)
        with db_engine.begin() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND query = :listen"
                ),
                {"listen": f"LISTEN {CHANNEL}"},
            )
        first = probe_job(db_engine, clock)
        assert eventually(lambda: ran == [first])
        assert eventually(lambda: listeners(db_engine) == 1), "it never listened again"
        before = wakeups.notified
        second = probe_job(db_engine, clock)
        assert eventually(lambda: ran == [first, second])
        assert wakeups.notified > before, "the second job was found by the poll, not a wake-up"


def test_the_worker_listens_on_postgresql_and_polls_on_sqlite(
    settings: Settings, db_engine: Engine, clock: FakeClock, recorder: Recorder
) -> None:
    notifiers = {"email": recorder, "sms": recorder, "letter": recorder}
    built = build_worker(settings, db_engine=db_engine, clock=clock, notifiers=notifiers)
    if db_engine.dialect.name == "postgresql":
        assert isinstance(built.wakeups, PostgresWakeups)
        return
    assert isinstance(built.wakeups, PollingWakeups)
    probe_job(db_engine, clock)
    ran: list[int] = []
    probe = Worker(
        store=JobStore(db_engine),
        handlers={"probe": lambda job: ran.append(job.id)},
        clock=clock,
        wakeups=built.wakeups,
    )
    with running(probe, 0.2):
        assert eventually(lambda: len(ran) == 1)
    with db_engine.connect() as conn:
        assert conn.execute(select(jobs.c.status)).scalars().all() == ["done"]

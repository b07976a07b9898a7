"""Background jobs on SQLite and PostgreSQL: the outbox, retries, the dead letter, two workers.

Messages are queued by the command (or sweep batch) that calls for them, in its transaction; the
worker claims them like coordinators claim work items, retries failures with a doubling wait,
gives up after five attempts into a visible ``dead`` state, and a person can requeue them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine
from support import FakeClock, london, run_at_once

from adapters.bootstrap import build_sweep_runner, build_worker
from adapters.db.jobs import SqlJobs
from adapters.jobs import (
    DEFAULT_BACKOFF,
    Job,
    JobNotFoundError,
    JobNotRetryableError,
    JobStore,
    Worker,
)
from adapters.notify.base import Message, NotificationError
from adapters.settings import Settings
from engine.errors import ConcurrencyError, RefusedError, ValidationError
from engine.ports import JobSpec
from engine.service import ComplaintsService

EMAIL = "dana.resident@example.org"
PHONE = "07700 900123"
NAME = "Dana Okafor"
SUMMARY = "Water comes through the bathroom ceiling whenever the flat above runs a bath."
ACK = {"understanding": "The ceiling leaks from the flat above.", "desired_outcome": "A repair."}


def open_case(service: ComplaintsService, **extra: str) -> str:
    fields = {"preferred_contact": "email", "resident_email": EMAIL, "resident_phone": PHONE}
    fields.update(extra)
    case = service.open(
        actor="intake",
        category="repairs",
        channel="phone",
        area="Exeter",
        summary=SUMMARY,
        resident_name=NAME,
        **fields,
    )
    return case.reference


def acknowledge(service: ComplaintsService, reference: str) -> None:
    service.acknowledge(reference, actor="alice", **ACK)


@dataclass
class Recorder:
    """A notifier that keeps what it was given, failing the first ``failures`` sends."""

    failures: int = 0
    sent: list[Message] = field(default_factory=list)
    calls: int = 0

    def send(self, message: Message) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise NotificationError("the SMTP server refused the message (451)")
        self.sent.append(message)


def worker_for(
    settings: Settings, db_engine: Engine, clock: FakeClock, notifier: Recorder
) -> Worker:
    notifiers = {"email": notifier, "sms": notifier, "letter": notifier}
    return build_worker(settings, db_engine=db_engine, clock=clock, notifiers=notifiers)


# -- the outbox: queued with the change, or not at all -------------------------------------------


def test_a_command_queues_its_message_in_its_own_transaction(
    service: ComplaintsService, db_engine: Engine
) -> None:
    store = JobStore(db_engine)
    reference = open_case(service)
    assert store.list() == []  # receipt promises no date yet
    acknowledge(service, reference)
    [job] = store.list()
    assert (job.kind, job.status, job.reference) == ("notify", "queued", reference)
    assert job.payload["message"] == "acknowledgement"
    assert job.payload["respond_by"] == service.get(reference).due_on("respond").isoformat()
    for personal in (EMAIL, PHONE, NAME, SUMMARY):
        assert personal not in repr(job.payload)

    with pytest.raises((RefusedError, ValidationError)):
        service.respond(reference, actor="alice", decision="upheld", reasons="")
    version = service.get(reference).version
    service.extend(reference, actor="alice", days=2, reason="Waiting for a survey.")
    with pytest.raises(ConcurrencyError):
        service.run(
            reference,
            "extend",
            {"clock": "respond", "days": 1, "reason": "Again."},
            actor="alice",
            expected_version=version,
        )
    assert [j.payload["message"] for j in store.list()] == ["extension", "acknowledgement"]


def test_the_sweep_queues_one_update_when_the_countdown_first_falls_due(
    make_service: Callable[..., ComplaintsService],
    settings: Settings,
    db_engine: Engine,
    clock: FakeClock,
) -> None:
    service = make_service()
    reference = open_case(service, preferred_contact="sms")
    acknowledge(service, reference)  # Monday 2 June 2025: contact made, countdown starts
    runner = build_sweep_runner(settings, db_engine=db_engine, clock=clock)
    clock.set(london(2025, 6, 4, 2, 30))
    runner.sweep(date(2025, 6, 4))
    assert len(JobStore(db_engine).list()) == 1  # only the acknowledgement so far
    clock.set(london(2025, 6, 5, 2, 30))  # three working days without contact
    runner.sweep(date(2025, 6, 5))
    runner.sweep(date(2025, 6, 5))  # run again: nothing new
    update = JobStore(db_engine).list()[0]
    assert update.payload["message"] == "update"
    assert update.payload["channel"] == "sms"
    assert update.payload["anchor_on"] == "2025-06-02"
    assert update.reference == reference
    assert len(JobStore(db_engine).list()) == 2


# -- the worker: send, retry, dead-letter, retry by hand -----------------------------------------


def test_the_worker_sends_each_message_through_its_channel(
    service: ComplaintsService, settings: Settings, db_engine: Engine, clock: FakeClock
) -> None:
    by_email = open_case(service)
    by_text = open_case(service, preferred_contact="sms")
    for reference in (by_email, by_text):
        acknowledge(service, reference)
    notifier = Recorder()
    ran = worker_for(settings, db_engine, clock, notifier).run_once()
    assert (ran.done, ran.retrying, ran.dead) == (2, 0, 0)
    email, text = sorted(notifier.sent, key=lambda m: m.channel)
    assert (email.channel, email.to, email.reference) == ("email", EMAIL, by_email)
    assert (text.channel, text.to, text.reference) == ("sms", PHONE, by_text)
    respond_by = "Monday 16 June 2025"  # 10 working days after Monday 2 June
    assert respond_by in email.body and respond_by in text.body
    assert email.body.startswith(f"Dear {NAME},")
    assert {j.status for j in JobStore(db_engine).list()} == {"done"}


def test_a_failing_job_backs_off_then_dies_and_can_be_retried_by_hand(
    service: ComplaintsService, settings: Settings, db_engine: Engine, clock: FakeClock
) -> None:
    acknowledge(service, open_case(service))
    store = JobStore(db_engine)
    notifier = Recorder(failures=5)
    worker = worker_for(settings, db_engine, clock, notifier)
    base = DEFAULT_BACKOFF
    for attempt in range(1, 5):
        failed_at = clock()
        assert worker.run_once().retrying == 1
        [job] = store.list()
        assert (job.status, job.attempts) == ("queued", attempt)
        assert job.run_after == failed_at + base * 2 ** (attempt - 1)
        assert job.last_error == "the SMTP server refused the message (451)"
        assert worker.run_once().ran == 0  # not yet
        clock.set(job.run_after)
    assert worker.run_once().dead == 1
    [dead] = store.list("dead")
    assert (dead.attempts, dead.max_attempts) == (5, 5)
    assert dead.finished_at == clock()
    clock.advance(hours=24)
    assert worker.run_once().ran == 0  # the dead stay dead
    assert notifier.sent == []

    retried = store.retry(dead.id, clock())
    assert (retried.status, retried.attempts) == ("queued", 0)
    assert retried.last_error == dead.last_error  # kept until it succeeds, for the record
    assert worker.run_once().done == 1
    assert [m.kind for m in notifier.sent] == ["acknowledgement"]
    assert store.counts() == {"queued": 0, "running": 0, "done": 1, "dead": 0}


def test_only_a_dead_job_can_be_retried(
    service: ComplaintsService, db_engine: Engine, clock: FakeClock
) -> None:
    acknowledge(service, open_case(service))
    store = JobStore(db_engine)
    [job] = store.list()
    with pytest.raises(JobNotRetryableError, match="is queued: only dead jobs"):
        store.retry(job.id, clock())
    with pytest.raises(JobNotFoundError):
        store.retry(job.id + 1000, clock())


def test_an_error_of_any_other_kind_is_recorded_by_its_type_alone(
    db_engine: Engine, clock: FakeClock
) -> None:
    def leaky(job: Job) -> None:
        raise RuntimeError(f"could not reach {EMAIL} at {PHONE}")

    _enqueue(db_engine, clock, 1, kind="leaky")
    _enqueue(db_engine, clock, 1, kind="unheard-of")
    worker = Worker(JobStore(db_engine), {"leaky": leaky}, clock)
    assert worker.run_once().retrying == 2
    errors = sorted(str(job.last_error) for job in JobStore(db_engine).list())
    assert errors == ["RuntimeError", "no handler for jobs of kind 'unheard-of'"]


def test_a_job_whose_worker_died_is_recovered_when_its_lease_runs_out(
    db_engine: Engine, clock: FakeClock
) -> None:
    _enqueue(db_engine, clock, 1)
    store = JobStore(db_engine)
    crashed = store.claim("crashed-worker", clock(), timedelta(minutes=5))
    assert crashed is not None and crashed.status == "running"
    ran: list[int] = []
    worker = Worker(store, {"test": lambda job: ran.append(job.id)}, clock)
    assert worker.run_once().ran == 0  # still leased
    clock.advance(minutes=6)
    assert worker.run_once().done == 1
    [job] = store.list()
    assert (job.status, job.attempts, ran) == ("done", 1, [crashed.id])
    assert job.last_error is not None and "lease expired" in job.last_error
    assert not store.finish(crashed, "crashed-worker", clock())  # a late finish is fenced off


def test_two_workers_never_run_the_same_job(
    engines: Callable[..., Engine], clock: FakeClock
) -> None:
    first_engine = engines()
    _enqueue(first_engine, clock, 40)
    ran: list[tuple[str, int]] = []
    lock = threading.Lock()

    def worker(name: str, db_engine: Engine) -> Worker:
        def handle(job: Job) -> None:
            time.sleep(0.002)
            with lock:
                ran.append((name, job.id))

        return Worker(JobStore(db_engine), {"test": handle}, clock, name=name)

    workers = [worker("one", first_engine), worker("two", engines())]
    outcomes = run_at_once([w.run_once for w in workers])
    assert [o.error for o in outcomes] == [None, None]
    ids = [job_id for _, job_id in ran]
    assert len(ids) == len(set(ids)) == 40
    assert sum(o.result.done for o in outcomes) == 40
    assert JobStore(first_engine).counts()["done"] == 40


def test_an_update_nobody_needs_any_more_is_not_sent(
    service: ComplaintsService, settings: Settings, db_engine: Engine, clock: FakeClock
) -> None:
    reference = open_case(service)
    acknowledge(service, reference)
    clock.set(london(2025, 6, 5, 2, 30))
    build_sweep_runner(settings, db_engine=db_engine, clock=clock).sweep(date(2025, 6, 5))
    clock.set(london(2025, 6, 5, 10, 0))
    service.record_contact(reference, actor="alice", direction="outbound", channel="phone")
    notifier = Recorder()
    assert worker_for(settings, db_engine, clock, notifier).run_once().done == 2
    assert [m.kind for m in notifier.sent] == ["acknowledgement"]


def test_closing_sends_the_survey_and_the_answer_is_recorded_against_the_case(
    service: ComplaintsService, settings: Settings, db_engine: Engine, clock: FakeClock
) -> None:
    reference = open_case(service)
    acknowledge(service, reference)
    service.respond(reference, actor="alice", decision="not-upheld", reasons="Records checked.")
    service.close(reference, actor="alice")
    notifier = Recorder()
    worker_for(settings, db_engine, clock, notifier).run_once()
    assert [m.kind for m in notifier.sent] == ["acknowledgement", "response", "survey"]
    assert "1 (very unhappy) to 5 (very happy)" in notifier.sent[-1].body
    service.run(reference, "record_survey", {"score": 4}, actor="alice")
    assert service.get(reference).records["survey"]["score"] == 4


def _enqueue(db_engine: Engine, clock: FakeClock, count: int, kind: str = "test") -> None:
    with db_engine.begin() as conn:
        SqlJobs(conn).enqueue([JobSpec(kind=kind, payload={"n": n}) for n in range(count)], clock())


def test_a_complaint_opened_from_a_dissatisfaction_keeps_the_residents_contact_details(
    service: ComplaintsService, db_engine: Engine
) -> None:
    dissatisfaction = open_case(service, workflow="dissatisfaction", preferred_contact="sms")
    complaint = service.escalate(dissatisfaction, actor="alice").linked_reference
    assert complaint is not None
    assert service.get(complaint).records["contact_details"] == {
        "email": EMAIL,
        "phone": PHONE,
        "name": NAME,
    }
    acknowledge(service, complaint)
    [job] = JobStore(db_engine).list()
    assert (job.reference, job.payload["channel"]) == (complaint, "sms")


def test_jobs_of_a_batch_not_started_by_half_its_lease_go_back_to_the_queue(
    db_engine: Engine, clock: FakeClock
) -> None:
    """A slow mail server must not make a worker send jobs after their lease has run out, when
    another worker may already have taken them over: the rest of the batch is given back."""
    with db_engine.begin() as conn:
        SqlJobs(conn).enqueue([JobSpec(kind="slow", payload={"n": n}) for n in range(3)], clock())
    store = JobStore(db_engine)
    lease = timedelta(minutes=5)
    ran: list[int] = []

    def slow_send(job: Job) -> None:
        ran.append(job.id)
        clock.advance(timedelta(minutes=3))  # more than half the lease, every time
        store.recover(clock())  # meanwhile another worker takes over jobs whose lease ran out

    worker = Worker(store, {"slow": slow_send}, clock, name="slow", lease=lease, batch=3)
    summary = worker.run_once()

    assert (summary.done, summary.lost, summary.retrying) == (3, 0, 0)
    assert len(ran) == 3 and len(set(ran)) == 3  # each job ran once
    assert [(j.status, j.attempts) for j in store.list()] == [("done", 0)] * 3

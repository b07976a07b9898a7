"""Two writers on one case: the second never overwrites the first, and nothing is lost.

Saving is optimistic (``UPDATE ... WHERE version = :loaded``); commands also take the write lock
early (SQLite's ``BEGIN IMMEDIATE``; a row lock on PostgreSQL), so concurrent commands queue.
Either way every call must succeed or raise ``ConcurrencyError`` having written nothing, and the
audit trail must hold exactly the successful commands, numbered without gaps. Runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine
from support import FakeClock, case_snapshot, london, only_postgres, row_counts, run_at_once

from adapters.db.repository import SqlUnitOfWork
from engine.commands import apply_step as original_apply_step
from engine.errors import ConcurrencyError
from engine.events import Event
from engine.service import ComplaintsService

NOW = london(2025, 6, 2, 12, 0)  # Monday 2 June 2025
THREADS = 8


def open_complaint(service: ComplaintsService, **overrides: Any) -> str:
    fields: dict[str, Any] = {
        "actor": "alice",
        "category": "repairs",
        "channel": "phone",
        "area": "north",
        "received_at": london(2025, 6, 2, 9, 0),
    }
    fields.update(overrides)
    return service.open(**fields).reference


@pytest.fixture
def acknowledged(service: ComplaintsService, clock: FakeClock) -> str:
    """A complaint at Stage 1, version 2."""
    clock.set(NOW)
    ref = open_complaint(service)
    service.acknowledge(ref, actor="alice", understanding="u", desired_outcome="o")
    return ref


def assert_trail_is_whole(db_engine: Engine, ref: str, version: int) -> list[dict[str, Any]]:
    """The case's version is ``version`` and its events are numbered 1..n without gaps."""
    snap = case_snapshot(db_engine, ref)
    events: list[dict[str, Any]] = snap["events"]
    assert snap["case"]["version"] == version
    assert snap["case"]["event_count"] == len(events)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    return events


# -- the deterministic case: expected_version ------------------------------------------------------


def test_a_second_service_writing_on_a_version_it_did_not_see_is_refused_and_writes_nothing(
    make_service: Callable[..., ComplaintsService], clock: FakeClock, db_engine: Engine
) -> None:
    clock.set(NOW)
    first, second = make_service(), make_service()
    ref = open_complaint(first)
    seen_by_first, seen_by_second = first.get(ref), second.get(ref)
    assert seen_by_first.version == seen_by_second.version == 1

    first.acknowledge(
        ref, actor="alice", understanding="u", desired_outcome="o", expected_version=1
    )
    before = case_snapshot(db_engine, ref)

    clock.advance(minutes=5)
    with pytest.raises(ConcurrencyError) as raised:
        second.acknowledge(
            ref, actor="bob", understanding="u", desired_outcome="o", expected_version=1
        )
    assert (raised.value.reference, raised.value.expected_version) == (ref, 1)
    with pytest.raises(ConcurrencyError):
        second.run(
            ref, "contact", {"direction": "inbound", "channel": "phone"}, actor="bob",
            expected_version=seen_by_second.version,
        )  # fmt: skip
    assert case_snapshot(db_engine, ref) == before

    # Having reloaded, the second writer goes ahead.
    reloaded = second.get(ref)
    assert (reloaded.version, reloaded.state, reloaded.owner) == (2, "stage1", "alice")
    case = second.respond(
        ref, actor="bob", decision="not-upheld", reasons="No fault", expected_version=2
    )
    assert case.version == 3
    assert [e["kind"] for e in assert_trail_is_whole(db_engine, ref, 3)] == [
        "opened", "acknowledged", "responded",
    ]  # fmt: skip


def test_saving_a_case_read_before_someone_else_wrote_raises_and_writes_nothing(
    acknowledged: str,
    service: ComplaintsService,
    make_service: Callable[..., ComplaintsService],
    db_engine: Engine,
    clock: FakeClock,
) -> None:
    # The repository's own check (UPDATE ... WHERE version = :loaded), under the service.
    with SqlUnitOfWork(db_engine) as uow:
        stale = uow.cases.get(acknowledged)
    make_service().record_contact(acknowledged, actor="bob", direction="inbound", channel="email")
    before = case_snapshot(db_engine, acknowledged)

    stale.owner = "mallory"
    stale.pending_events.append(
        Event(kind="assigned", occurred_at=clock.now, recorded_at=clock.now, actor="mallory")
    )
    with SqlUnitOfWork(db_engine) as uow:
        uow.cases.get(acknowledged)  # this transaction's read: version 3
        with pytest.raises(ConcurrencyError):
            uow.cases.save(stale)  # a write based on version 2

    assert case_snapshot(db_engine, acknowledged) == before
    assert service.get(acknowledged).owner == "alice"


@only_postgres
def test_on_postgresql_a_transaction_that_read_without_a_lock_cannot_overwrite_a_newer_version(
    acknowledged: str, make_service: Callable[..., ComplaintsService], db_engine: Engine
) -> None:
    # Two open transactions on PostgreSQL (READ COMMITTED): the first reads, the second commits,
    # the first's UPDATE ... WHERE version = 2 then matches nothing.
    with SqlUnitOfWork(db_engine) as uow:
        case = uow.cases.get(acknowledged)
        make_service().record_contact(
            acknowledged, actor="bob", direction="inbound", channel="email"
        )
        case.owner = "mallory"
        with pytest.raises(ConcurrencyError):
            uow.cases.save(case)

    events = assert_trail_is_whole(db_engine, acknowledged, 3)
    assert events[-1]["kind"] == "contact_recorded"
    assert make_service().get(acknowledged).owner == "alice"


# -- a real interleaving: one command paused between its read and its write ---------------------


def test_a_command_paused_between_read_and_write_never_loses_the_other_writers_change(
    acknowledged: str,
    make_service: Callable[..., ComplaintsService],
    db_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    paused_writer, other_writer = make_service(), make_service()
    loaded = threading.Event()
    release = threading.Event()

    def apply_step(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name == "paused":
            loaded.set()  # the case is read, inside the paused command's transaction
            assert release.wait(30)
        return original_apply_step(*args, **kwargs)

    monkeypatch.setattr("engine.service.apply_step", apply_step)  # as the service calls it
    outcomes: dict[str, Any] = {}

    def call(name: str, service: ComplaintsService) -> None:
        try:
            outcomes[name] = service.record_contact(
                acknowledged, actor=name, direction="outbound", channel="phone", summary=name
            )
        except ConcurrencyError as exc:
            outcomes[name] = exc

    paused = threading.Thread(target=call, args=("paused", paused_writer), name="paused")
    other = threading.Thread(target=call, args=("other", other_writer), name="other")
    paused.start()
    assert loaded.wait(30)
    other.start()
    other.join(0.5)
    other_finished_first = not other.is_alive()
    release.set()
    paused.join(30)
    other.join(30)
    assert not paused.is_alive() and not other.is_alive()

    successes = {n: o for n, o in outcomes.items() if not isinstance(o, ConcurrencyError)}
    events = assert_trail_is_whole(db_engine, acknowledged, 2 + len(successes))
    contacts = [e["data"]["summary"] for e in events if e["kind"] == "contact_recorded"]
    assert "other" in successes  # the writer that never paused always gets through
    if isinstance(outcomes["paused"], ConcurrencyError):
        # Nothing held the case while the command was paused, so the other writer saved first;
        # the paused command's save then matched no row and wrote nothing.
        assert contacts == ["other"]
    else:
        # The paused command held the case (SQLite: BEGIN IMMEDIATE; PostgreSQL: SELECT ... FOR
        # UPDATE), so the other writer queued behind it and then wrote on the new version.
        assert not other_finished_first
        assert contacts == ["paused", "other"]
        assert (outcomes["paused"].version, outcomes["other"].version) == (3, 4)
    if db_engine.dialect.name == "sqlite":
        assert not other_finished_first, "SQLite writers queue at BEGIN IMMEDIATE"


# -- many writers at once --------------------------------------------------------------------------


@pytest.mark.parametrize("retry", [False, True], ids=["no-retry", "retry-on-conflict"])
def test_simultaneous_contacts_on_one_case_are_each_recorded_once_or_refused(
    retry: bool,
    acknowledged: str,
    service: ComplaintsService,
    db_engine: Engine,
) -> None:
    def contact(i: int) -> Callable[[], Any]:
        def call() -> Any:
            for _attempt in range(50 if retry else 1):
                try:
                    return service.record_contact(
                        acknowledged,
                        actor=f"officer-{i}",
                        direction="outbound",
                        channel="phone",
                        summary=f"call {i}",
                    )
                except ConcurrencyError:
                    if not retry:
                        raise
            raise AssertionError("still conflicting after 50 attempts")

        return call

    outcomes = run_at_once([contact(i) for i in range(THREADS)])

    unexpected = [
        o.error for o in outcomes if o.error and not isinstance(o.error, ConcurrencyError)
    ]
    assert unexpected == []  # no DatabaseError ("database is locked"), no deadlock
    succeeded = [o for o in outcomes if o.error is None]
    assert succeeded, "at least one writer must win"
    if retry:
        assert len(succeeded) == THREADS  # nothing is lost when callers retry

    events = assert_trail_is_whole(db_engine, acknowledged, 2 + len(succeeded))
    contacts = [e for e in events if e["kind"] == "contact_recorded"]
    assert len(contacts) == len(succeeded)
    assert sorted(e["data"]["summary"] for e in contacts) == sorted(
        f"call {o.index}" for o in succeeded
    )
    assert sorted(e["actor"] for e in contacts) == sorted(f"officer-{o.index}" for o in succeeded)
    # Each success saw its own, consecutive version: no two writers saved the same version.
    assert sorted(o.result.version for o in succeeded) == list(range(3, 3 + len(succeeded)))
    assert service.get(acknowledged).version == 2 + len(succeeded)


def test_simultaneous_opens_get_distinct_consecutive_references(
    make_service: Callable[..., ComplaintsService], db_engine: Engine, clock: FakeClock
) -> None:
    # From an empty counter, so the first-use insert of the counter row races too.
    clock.set(NOW)
    per_thread = 5

    def opener(i: int) -> Callable[[], list[str]]:
        service = make_service()  # one application instance (engine, pool) per thread

        def call() -> list[str]:
            return [
                open_complaint(service, actor=f"officer-{i}", summary=f"{i}/{n}")
                for n in range(per_thread)
            ]

        return call

    outcomes = run_at_once([opener(i) for i in range(THREADS)])

    assert [o.error for o in outcomes if o.error] == []
    references = [ref for o in outcomes for ref in o.result]
    total = THREADS * per_thread
    assert len(set(references)) == total
    assert sorted(references) == [f"CMP-2025-{n:06d}" for n in range(1, total + 1)]
    assert row_counts(db_engine) == {
        "cases": total,
        "case_events": total,
        "case_clocks": total,
        "case_flags": 0,
        "references_issued": total,
    }  # fmt: skip


def test_references_are_numbered_per_year_of_receipt(
    service: ComplaintsService, clock: FakeClock
) -> None:
    clock.set(london(2026, 1, 5, 9, 0))
    last_year = open_complaint(service, received_at=london(2025, 12, 31, 16, 0))
    this_year = open_complaint(service, received_at=london(2026, 1, 5, 8, 0))
    again = open_complaint(service, received_at=london(2025, 12, 30, 10, 0))
    dis = service.open(
        actor="a", workflow="dissatisfaction", category="other", channel="email", area="n",
        received_at=london(2026, 1, 2, 9, 0),
    )  # fmt: skip
    assert (last_year, this_year, again, dis.reference) == (
        "CMP-2025-000001", "CMP-2026-000001", "CMP-2025-000002", "DIS-2026-000001",
    )  # fmt: skip

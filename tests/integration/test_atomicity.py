"""A command that fails writes nothing: not the case row, not a clock row, not an event.

Refusals and bad input must raise their typed error and leave the stored case byte-for-byte as it
was; a database failing part-way through a command must roll the whole command back. Runs on
SQLite and PostgreSQL; the ``pg_terminate_backend`` tests need PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from support import FakeClock, case_snapshot, london, only_postgres, row_counts

from adapters.db.connection import create_db_engine
from adapters.db.pg_command import PendingWrites
from adapters.db.repository import DatabaseError, SqlCaseRepository, SqlUnitOfWork
from adapters.db.tables import cases
from engine.access import Actor
from engine.errors import (
    CaseNotFoundError,
    InvalidTransitionError,
    RefusedError,
    ValidationError,
)
from engine.model import Case
from engine.service import ComplaintsService
from sla.errors import ComplaintsError, InvalidDateError, UnknownDivisionError, UnknownPolicyError

RECEIVED = london(2025, 6, 2, 9, 0)  # Monday 2 June 2025, 09:00 BST
NOW = london(2025, 6, 2, 12, 0)


def open_kwargs(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "actor": "alice",
        "category": "repairs",
        "channel": "phone",
        "area": "north",
        "summary": "Boiler broken.",
        "received_at": RECEIVED,
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def stage1(service: ComplaintsService, clock: FakeClock) -> str:
    """A hoc-2024 complaint acknowledged at Stage 1 by alice (version 2)."""
    clock.set(NOW)
    ref = service.open(**open_kwargs()).reference
    service.acknowledge(
        ref, actor="alice", at=london(2025, 6, 2, 10, 0), understanding="u", desired_outcome="o"
    )
    return ref


def to_stage1_responded_with_action(service: ComplaintsService, ref: str) -> None:
    service.respond(
        ref,
        actor="alice",
        decision="upheld",
        reasons="Late repair",
        avoidable=True,
        actions=[{"description": "Fit new boiler", "owner": "dave", "due_on": date(2025, 6, 30)}],
    )


def to_escalation_requested(service: ComplaintsService, ref: str) -> None:
    service.escalate(ref, actor="carol")


def to_stage1_extended_by_6(service: ComplaintsService, ref: str) -> None:
    service.extend(ref, actor="alice", stage=1, days=6, reason="Waiting for a part")


def nothing(service: ComplaintsService, ref: str) -> None:
    return None


def assert_nothing_written(
    db_engine: Engine, service: ComplaintsService, ref: str, before: dict[str, Any], history: Any
) -> None:
    after = case_snapshot(db_engine, ref)
    assert after["case"] == before["case"]  # version, state, records (clocks), updated_at, ...
    assert after["clocks"] == before["clocks"]
    assert after["events"] == before["events"]
    assert after["flags"] == before["flags"]
    assert service.history(ref) == history


# Each failing command: (setup to reach the state, the command, the error, what it says).
FAILURES: dict[str, tuple[Callable[..., None], Callable[..., Any], type[Exception], str]] = {
    "invalid-transition-close-at-stage1": (
        nothing,
        lambda s, ref: s.close(ref, actor="alice"),
        InvalidTransitionError,
        "cannot close",
    ),
    "invalid-transition-acknowledge-twice": (
        nothing,
        lambda s, ref: s.acknowledge(ref, actor="alice", understanding="u", desired_outcome="o"),
        InvalidTransitionError,
        "cannot acknowledge",
    ),
    "refused-close-with-outstanding-action": (
        to_stage1_responded_with_action,
        lambda s, ref: s.close(ref, actor="alice"),
        RefusedError,
        "outstanding",
    ),
    "refused-stage2-by-stage1-handler": (
        to_escalation_requested,
        lambda s, ref: s.acknowledge(ref, actor="alice", understanding="u2", desired_outcome="o2"),
        RefusedError,
        "6.13",
    ),
    "refused-stage2-handler-named-as-stage1-handler": (
        to_escalation_requested,
        lambda s, ref: s.acknowledge(
            ref, actor="bob", handler="alice", understanding="u2", desired_outcome="o2"
        ),
        RefusedError,
        "6.13",
    ),
    "refused-extension-of-11-over-cap-of-10": (
        nothing,
        lambda s, ref: s.extend(ref, actor="alice", stage=1, days=11, reason="Complex"),
        RefusedError,
        "cap of 10",
    ),
    "refused-extension-totalling-11-over-cap-of-10": (
        to_stage1_extended_by_6,
        lambda s, ref: s.extend(ref, actor="alice", stage=1, days=5, reason="Still waiting"),
        RefusedError,
        "total 11",
    ),
    "invalid-nul-in-contact-summary": (
        nothing,
        lambda s, ref: s.record_contact(
            ref, actor="alice", direction="outbound", channel="phone", summary="call\x00ed"
        ),
        ValidationError,
        "control character",
    ),
    "invalid-nul-in-stage2-understanding": (
        to_escalation_requested,
        lambda s, ref: s.acknowledge(
            ref, actor="bob", understanding="bad\x00text", desired_outcome="o2"
        ),
        ValidationError,
        "control character",
    ),
    "invalid-future-at": (
        nothing,
        lambda s, ref: s.record_contact(
            ref, actor="alice", direction="inbound", channel="phone", at=NOW + timedelta(hours=1)
        ),
        ValidationError,
        "in the future",
    ),
    "invalid-at-before-receipt": (
        nothing,
        lambda s, ref: s.record_contact(
            ref,
            actor="alice",
            direction="inbound",
            channel="phone",
            at=RECEIVED - timedelta(minutes=1),
        ),
        ValidationError,
        "before the case was received",
    ),
    "invalid-empty-actor": (
        nothing,
        lambda s, ref: s.assign(ref, actor="  ", owner="bob"),
        ValidationError,
        "actor is required",
    ),
    "naive-at": (
        nothing,
        lambda s, ref: s.record_contact(
            ref, actor="alice", direction="inbound", channel="phone", at=datetime(2025, 6, 2, 11)
        ),
        InvalidDateError,
        "no timezone",
    ),
}


@pytest.mark.parametrize("name", list(FAILURES))
def test_a_failed_command_raises_its_typed_error_and_leaves_no_trace(
    name: str, stage1: str, service: ComplaintsService, db_engine: Engine, clock: FakeClock
) -> None:
    setup, command, error, message = FAILURES[name]
    setup(service, stage1)
    before = case_snapshot(db_engine, stage1)
    history = service.history(stage1)
    clock.advance(minutes=30)  # a write would now show a different updated_at too

    with pytest.raises(error, match=message) as raised:
        command(service, stage1)

    assert isinstance(raised.value, ComplaintsError)
    assert_nothing_written(db_engine, service, stage1, before, history)


def test_an_invalid_transition_names_the_state_and_what_is_allowed(
    stage1: str, service: ComplaintsService
) -> None:
    with pytest.raises(InvalidTransitionError) as raised:
        service.close(stage1, actor="alice")
    assert (raised.value.reference, raised.value.state, raised.value.command) == (
        stage1, "stage1", "close",
    )  # fmt: skip
    assert "respond" in raised.value.allowed and "close" not in raised.value.allowed


def test_the_extension_cap_is_refused_at_stage1_but_a_good_reason_may_go_beyond_it(
    stage1: str, service: ComplaintsService, db_engine: Engine
) -> None:
    with pytest.raises(RefusedError):
        service.extend(stage1, actor="alice", stage=1, days=11, reason="Complex")
    manager = Actor("manager", roles=frozenset({"complaints-manager"}))
    case = service.extend(
        stage1, actor=manager, stage=1, days=11, reason="Complex", good_reason="Legal advice"
    )
    assert case.clocks["respond"].extended_days == 11
    assert service.history(stage1)[-1].data["beyond_cap"] is True
    assert case_snapshot(db_engine, stage1)["case"]["version"] == 3


def test_a_command_on_an_unknown_case_writes_nothing(
    service: ComplaintsService, db_engine: Engine, clock: FakeClock
) -> None:
    clock.set(NOW)
    counts = row_counts(db_engine)
    with pytest.raises(CaseNotFoundError):
        service.record_contact("CMP-2025-999999", actor="a", direction="inbound", channel="phone")
    assert row_counts(db_engine) == counts


# -- opening ---------------------------------------------------------------------------------------

FAILED_OPENS: dict[str, tuple[dict[str, Any], type[Exception]]] = {
    "nul-in-summary": (open_kwargs(summary="Leak\x00"), ValidationError),
    "unknown-category": (open_kwargs(category="noise-from-planet-x"), ValidationError),
    "unknown-channel": (open_kwargs(channel="carrier-pigeon"), ValidationError),
    "unknown-workflow": (open_kwargs(workflow="repairs"), ValidationError),
    "future-received-at": (open_kwargs(received_at=NOW + timedelta(hours=2)), ValidationError),
    "naive-received-at": (open_kwargs(received_at=datetime(2025, 6, 2, 9, 0)), InvalidDateError),
    "unknown-calendar": (open_kwargs(calendar="atlantis"), UnknownDivisionError),
    "policy-not-in-force-on-receipt": (open_kwargs(policy="hoc-2022"), UnknownPolicyError),
}


@pytest.mark.parametrize("name", list(FAILED_OPENS))
def test_a_failed_open_creates_no_case_no_event_and_uses_no_reference(
    name: str, service: ComplaintsService, db_engine: Engine, clock: FakeClock
) -> None:
    clock.set(NOW)
    first = service.open(**open_kwargs())
    counts = row_counts(db_engine)
    assert counts == {
        "cases": 1, "case_events": 1, "case_clocks": 1, "case_flags": 0, "references_issued": 1,
    }  # fmt: skip

    kwargs, error = FAILED_OPENS[name]
    with pytest.raises(error) as raised:
        service.open(**kwargs)
    assert isinstance(raised.value, ComplaintsError)

    assert row_counts(db_engine) == counts
    second = service.open(**open_kwargs())
    assert (first.reference, second.reference) == ("CMP-2025-000001", "CMP-2025-000002")


def test_naive_datetimes_are_refused_everywhere_and_nothing_is_written(
    service: ComplaintsService,
    make_service: Callable[..., ComplaintsService],
    db_engine: Engine,
    clock: FakeClock,
) -> None:
    clock.set(NOW)
    dis = service.open(
        actor="alice", workflow="dissatisfaction", category="repairs", channel="phone", area="n"
    )
    counts = row_counts(db_engine)
    before = case_snapshot(db_engine, dis.reference)
    naive = datetime(2025, 6, 2, 11, 0)

    with pytest.raises(InvalidDateError, match="no timezone"):
        service.open(**open_kwargs(received_at=naive))
    with pytest.raises(InvalidDateError, match="no timezone"):
        service.escalate(dis.reference, actor="alice", at=naive)
    with pytest.raises(InvalidDateError, match="no timezone"):
        service.resolve(
            dis.reference, actor="a", agreed_outcome="x", told_how_to_complain=True, at=naive
        )
    # A clock that hands out naive time is refused too, before anything is written.
    naive_clock_service = make_service(clock=lambda: datetime(2025, 6, 2, 12, 0))
    with pytest.raises(InvalidDateError):
        naive_clock_service.open(**open_kwargs())
    with pytest.raises(InvalidDateError):
        naive_clock_service.resolve(
            dis.reference, actor="a", agreed_outcome="x", told_how_to_complain=True
        )

    assert row_counts(db_engine) == counts
    assert case_snapshot(db_engine, dis.reference) == before


# -- the database failing part-way through ---------------------------------------------------------


def broken_connection(statement: str) -> OperationalError:
    """What SQLAlchemy raises when the server goes away mid-statement."""
    return OperationalError(
        statement, {}, psycopg.OperationalError("server closed the connection unexpectedly")
    )


def test_a_database_failure_after_the_case_update_rolls_the_whole_command_back(
    stage1: str,
    service: ComplaintsService,
    db_engine: Engine,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = case_snapshot(db_engine, stage1)
    history = service.history(stage1)
    seen: list[tuple[int, str]] = []

    def fail_writing_events(self: SqlCaseRepository, case: Case, already: int) -> None:
        # The UPDATE of the case row has run in this transaction: prove it, then fail.
        row = self._conn.execute(
            select(cases.c.version, cases.c.state).where(cases.c.id == case.id)
        ).one()
        seen.append((row.version, row.state))
        raise broken_connection("INSERT INTO case_events ...")

    def fail_after_writing(self: PendingWrites, conn: Connection) -> None:
        # PostgreSQL sends a command's writes as one statement: let it run, prove the case
        # row changed in this transaction, then lose the connection before the commit.
        had_writes = bool(self)
        real_flush(self, conn)
        if had_writes:
            row = conn.execute(
                select(cases.c.version, cases.c.state).where(cases.c.reference == stage1)
            ).one()
            seen.append((row.version, row.state))
            raise broken_connection("COMMIT")

    real_flush = PendingWrites.flush
    if db_engine.dialect.name == "postgresql":
        monkeypatch.setattr(PendingWrites, "flush", fail_after_writing)
    else:
        monkeypatch.setattr(SqlCaseRepository, "_write_events", fail_writing_events)
    clock.advance(hours=1)
    with pytest.raises(DatabaseError, match="nothing was saved") as raised:
        service.respond(stage1, actor="alice", decision="not-upheld", reasons="No fault found")

    assert isinstance(raised.value, ComplaintsError)
    assert isinstance(raised.value.__cause__, OperationalError)
    assert seen == [(3, "stage1_responded")]  # half-written inside the transaction...
    monkeypatch.undo()
    assert_nothing_written(db_engine, service, stage1, before, history)  # ...and rolled back

    # The service is still usable, and the next command numbers its event as if nothing happened.
    done = service.respond(stage1, actor="alice", decision="not-upheld", reasons="No fault found")
    assert done.version == 3
    assert [e.seq for e in service.history(stage1)] == [1, 2, 3]


def test_a_database_failure_while_opening_leaves_no_case_and_no_used_reference(
    service: ComplaintsService,
    db_engine: Engine,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock.set(NOW)

    def fail_writing_events(self: SqlCaseRepository, case: Case, already: int) -> None:
        raise broken_connection("INSERT INTO case_events ...")

    def fail_writing(self: PendingWrites, conn: Connection) -> None:
        if self:  # the case row and its reference are written by now, in this transaction
            raise broken_connection("WITH w_clocks AS (...) ...")

    if db_engine.dialect.name == "postgresql":
        monkeypatch.setattr(PendingWrites, "flush", fail_writing)
    else:
        monkeypatch.setattr(SqlCaseRepository, "_write_events", fail_writing_events)
    with pytest.raises(DatabaseError):
        service.open(**open_kwargs())
    monkeypatch.undo()

    assert row_counts(db_engine) == {
        "cases": 0, "case_events": 0, "case_clocks": 0, "case_flags": 0, "references_issued": 0,
    }  # fmt: skip
    assert service.open(**open_kwargs()).reference == "CMP-2025-000001"


def test_escalating_a_dissatisfaction_is_one_transaction_with_the_complaint_it_opens(
    service: ComplaintsService,
    db_engine: Engine,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock.set(NOW)
    dis = service.open(
        actor="alice", workflow="dissatisfaction", category="repairs", channel="phone", area="n"
    )
    counts = row_counts(db_engine)
    before = case_snapshot(db_engine, dis.reference)
    history = service.history(dis.reference)
    original_add = SqlCaseRepository.add
    saved_first: list[str] = []

    def add_fails_for_the_complaint(self: SqlCaseRepository, case: Case) -> None:
        if case.workflow != "complaint":
            original_add(self, case)
            return
        # The dissatisfaction has already been saved (escalated) in this transaction.
        state = self._conn.execute(
            select(cases.c.state).where(cases.c.reference == dis.reference)
        ).scalar_one()
        saved_first.append(state)
        raise broken_connection("INSERT INTO cases ...")

    monkeypatch.setattr(SqlCaseRepository, "add", add_fails_for_the_complaint)
    clock.advance(minutes=10)
    with pytest.raises(DatabaseError):
        service.escalate(dis.reference, actor="alice", at=NOW)
    monkeypatch.undo()

    assert saved_first == ["escalated"]
    assert row_counts(db_engine) == counts  # no complaint, no CMP reference used
    assert_nothing_written(db_engine, service, dis.reference, before, history)

    escalated = service.escalate(dis.reference, actor="alice", at=NOW)
    assert escalated.linked_reference == "CMP-2025-000001"
    assert service.get("CMP-2025-000001").linked_reference == dis.reference


# -- a real broken connection (PostgreSQL) ---------------------------------------------------------


def terminate_backend(db_engine: Engine, pid: int) -> None:
    """Kill a server process from another session and wait until it is gone."""
    watcher = db_engine.execution_options(isolation_level="AUTOCOMMIT")
    with watcher.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        for _ in range(500):
            alive = conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar_one()
            if not alive:
                return
            time.sleep(0.01)
    raise AssertionError(f"backend {pid} did not exit")


@only_postgres
@pytest.mark.parametrize("when", ["before-commit", "before-case-update"])
def test_a_unit_of_work_whose_connection_is_killed_saves_nothing(
    when: str,
    stage1: str,
    service: ComplaintsService,
    db_engine: Engine,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = case_snapshot(db_engine, stage1)
    history = service.history(stage1)
    killed: list[int] = []

    def kill_own_backend(conn: Any) -> None:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        terminate_backend(db_engine, pid)
        killed.append(pid)

    if when == "before-commit":
        original_commit = SqlUnitOfWork.commit

        def commit(self: SqlUnitOfWork) -> None:
            kill_own_backend(self._conn)
            original_commit(self)

        monkeypatch.setattr(SqlUnitOfWork, "commit", commit)
    else:
        original_save = SqlCaseRepository.save

        def save(self: SqlCaseRepository, case: Case) -> None:
            kill_own_backend(self._conn)
            original_save(self, case)

        monkeypatch.setattr(SqlCaseRepository, "save", save)

    clock.advance(hours=1)
    with pytest.raises(DatabaseError, match="nothing was saved"):
        service.record_contact(stage1, actor="alice", direction="outbound", channel="phone")
    monkeypatch.undo()

    assert len(killed) == 1
    assert_nothing_written(db_engine, service, stage1, before, history)
    # The pool drops the dead connection; the next command works and is numbered correctly.
    case = service.record_contact(stage1, actor="alice", direction="outbound", channel="phone")
    assert case.version == 3
    assert [e.kind for e in service.history(stage1)][-1] == "contact_recorded"


@only_postgres
def test_a_server_that_cannot_be_reached_is_a_database_error_not_a_driver_error(
    db_url: str,
) -> None:
    nowhere = make_url(db_url).set(port=1).render_as_string(hide_password=False)
    dead = create_db_engine(nowhere, connect_args={"connect_timeout": 2})
    try:
        with pytest.raises(DatabaseError, match="cannot reach the database"), SqlUnitOfWork(dead):
            pass
    finally:
        dead.dispose()


# -- input the database would refuse must be refused the same way on both ----------------------


@pytest.mark.parametrize(
    "command",
    [
        lambda s, ref: s.assign(ref, actor="alice", owner="x" * 101),
        lambda s, ref: s.acknowledge(
            ref, actor="bob", handler="h" * 101, understanding="u2", desired_outcome="o2"
        ),
    ],
    ids=["assign", "stage2-handler"],
)
def test_an_owner_longer_than_the_column_is_a_validation_error_on_every_database(
    command: Callable[..., Any],
    stage1: str,
    service: ComplaintsService,
    db_engine: Engine,
) -> None:
    to_escalation_requested(service, stage1)
    before = case_snapshot(db_engine, stage1)
    history = service.history(stage1)
    with pytest.raises(ValidationError, match="too long"):
        command(service, stage1)
    assert_nothing_written(db_engine, service, stage1, before, history)


def test_a_reference_containing_nul_is_simply_not_found(
    stage1: str,
    service: ComplaintsService,
    db_engine: Engine,
) -> None:
    counts = row_counts(db_engine)
    with pytest.raises(CaseNotFoundError):
        service.get(stage1 + "\x00")
    with pytest.raises(CaseNotFoundError):
        service.record_contact(stage1 + "\x00", actor="a", direction="inbound", channel="phone")
    assert row_counts(db_engine) == counts

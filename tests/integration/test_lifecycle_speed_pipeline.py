"""What the fast command path relies on, on SQLite and PostgreSQL.

A command's writes go to PostgreSQL pipelined (``adapters.db.connection.pipelined``): queued
without waiting, a failure surfacing at the end of the block. These tests pin the behaviour that
must survive that: a write failing in the pipeline still fails the whole command with its typed
error and leaves no trace; a read inside the block sees the writes queued before it; and the
statements are prebuilt, so SQLAlchemy's compiled cache stops growing once warm; and a
read-only unit of work ends with COMMIT, keeping psycopg's prepared statements.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, text, update
from support import FakeClock, case_snapshot, london, only_postgres, row_counts

from adapters.bootstrap import build_service
from adapters.db.connection import pipelined
from adapters.db.repository import SqlUnitOfWork
from adapters.db.tables import case_events, cases
from adapters.settings import Settings
from engine.errors import CaseNotFoundError, ConcurrencyError
from engine.service import ComplaintsService

RECEIVED = london(2025, 6, 2, 9, 0)  # Monday 2 June 2025


def open_complaint(service: ComplaintsService) -> str:
    return service.open(
        actor="alice",
        category="repairs",
        channel="phone",
        area="north",
        received_at=RECEIVED,
        understanding="the roof leaks",
        desired_outcome="fix the roof",
    ).reference


def lifecycle(service: ComplaintsService, clock: FakeClock) -> str:
    ref = open_complaint(service)
    clock.advance(hours=1)
    service.acknowledge(ref, actor="alice", handler="alice")
    clock.advance(hours=1)
    service.record_contact(ref, actor="alice", direction="outbound", channel="phone")
    clock.advance(hours=1)
    service.respond(ref, actor="alice", decision="not-upheld", reasons="No fault found")
    return ref


def test_an_event_number_taken_behind_the_cases_back_fails_the_command_with_no_trace(
    service: ComplaintsService, db_engine: Engine, clock: FakeClock
) -> None:
    # Someone wrote event 2 without moving the case's event count: the command's own event 2
    # then violates the per-case sequence (inside the pipeline on PostgreSQL).
    clock.set(RECEIVED + timedelta(hours=1))
    ref = open_complaint(service)
    with db_engine.begin() as conn:
        case_id = conn.execute(select(cases.c.id).where(cases.c.reference == ref)).scalar_one()
        conn.execute(
            insert(case_events).values(
                case_id=case_id,
                seq=2,
                kind="intruder",
                occurred_at=clock.now,
                recorded_at=clock.now,
                actor="mallory",
                data={},
                before={},
                after={},
            )
        )
    before, counts = case_snapshot(db_engine, ref), row_counts(db_engine)

    with pytest.raises(ConcurrencyError) as raised:
        service.acknowledge(ref, actor="alice", handler="alice")

    assert (raised.value.reference, raised.value.expected_version) == (ref, 1)
    assert case_snapshot(db_engine, ref) == before  # no state, clock, event or flag written
    assert row_counts(db_engine) == counts
    # The connection went back to the pool usable: the next command on another case works.
    other = open_complaint(service)
    assert service.acknowledge(other, actor="alice", handler="alice").state == "stage1"


def test_a_read_inside_a_pipelined_block_sees_the_writes_queued_before_it(
    service: ComplaintsService, db_engine: Engine, clock: FakeClock
) -> None:
    clock.set(RECEIVED + timedelta(hours=1))
    ref = open_complaint(service)
    with db_engine.connect() as conn, conn.begin():
        with pipelined(conn):
            written = conn.execute(
                update(cases).where(cases.c.reference == ref).values(owner="bob")
            )
            owner = conn.execute(select(cases.c.owner).where(cases.c.reference == ref)).scalar()
        assert owner == "bob"
        # A write's row count is known once the block has ended (on the driver's cursor).
        assert written.context.cursor.rowcount == 1
    assert service.get(ref).owner == "bob"


def test_a_missing_case_read_in_a_pipeline_leaves_the_connection_usable(
    service: ComplaintsService, clock: FakeClock
) -> None:
    clock.set(RECEIVED + timedelta(hours=1))
    for _ in range(3):  # more than the pool's one idle connection would hide
        with pytest.raises(CaseNotFoundError):
            service.acknowledge("CMP-2025-999999", actor="alice")
    ref = open_complaint(service)
    assert service.acknowledge(ref, actor="alice", handler="alice").version == 2


def test_commands_reuse_their_compiled_statements(
    service: ComplaintsService, db_engine: Engine, clock: FakeClock
) -> None:
    # Statements built per call with changing shapes would each add cache entries (and cost
    # their compilation); the prebuilt ones are compiled once per shape.
    clock.set(RECEIVED + timedelta(hours=1))
    cache: Any = db_engine._compiled_cache
    assert cache is not None
    for _ in range(2):
        lifecycle(service, clock)
    warm = len(cache)
    refs = [lifecycle(service, clock) for _ in range(5)]
    assert len(cache) == warm
    assert {service.get(ref).state for ref in refs} == {"stage1_responded"}


@only_postgres
def test_a_read_only_query_keeps_the_connections_prepared_statements(
    settings: Settings, db_engine: Engine, clock: FakeClock
) -> None:
    # psycopg deallocates every prepared statement on ROLLBACK; a query that only read ends its
    # transaction with COMMIT instead, so the next commands do not parse and plan afresh.
    service = build_service(settings, db_engine=db_engine, clock=clock)  # one pool, one conn
    clock.set(RECEIVED + timedelta(hours=1))
    refs = [lifecycle(service, clock) for _ in range(3)]  # statements prepared after 5 runs

    def prepared() -> int:
        with db_engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()
            conn.commit()  # not a ROLLBACK, which would deallocate them
        return int(count or 0)

    assert prepared() > 0
    assert service.get(refs[0]).state == "stage1_responded"
    assert [e.kind for e in service.history(refs[0])][:2] == ["opened", "acknowledged"]
    assert prepared() > 0
    # A unit of work that wrote and did not commit still rolls back.
    with SqlUnitOfWork(db_engine) as uow:
        uow.cases.get(refs[0], lock=True)
        uow.cases.next_reference("CMP", 2025)
    assert (
        service.open(
            actor="alice", category="repairs", channel="phone", area="north", received_at=RECEIVED
        ).reference
        == f"CMP-2025-{len(refs) + 1:06d}"
    )

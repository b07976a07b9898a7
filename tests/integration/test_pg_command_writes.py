"""PostgreSQL's one-statement command path stores exactly what the statement-per-row path does.

On PostgreSQL a command reads its case with one ``SELECT`` and sends its writes as one statement
(``adapters/db/pg_command.py``); SQLite, and PostgreSQL with ``one_statement=False``, send a
SQLAlchemy statement per kind of row. The same commands, at the same fake times, on two fresh
databases must leave every table identical, row for row (ids included: both start empty).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, Text, cast, select
from support import FakeClock, london

from adapters.bootstrap import build_service
from adapters.db.connection import create_db_engine
from adapters.db.pg_command import WRITE_KINDS, PendingWrites
from adapters.db.repository import SqlUnitOfWork
from adapters.db.tables import (
    case_clocks,
    case_events,
    case_flags,
    case_milestones,
    case_responses,
    cases,
    jobs,
    reference_counters,
    work_items,
)
from adapters.settings import Settings
from engine.service import ComplaintsService

pytestmark = pytest.mark.postgres

TABLES = (
    cases,
    case_events,
    case_clocks,
    case_flags,
    work_items,
    case_milestones,
    case_responses,
    jobs,
    reference_counters,
)


def lifecycle(service: ComplaintsService, clock: FakeClock) -> None:
    """Commands that raise, clear and withdraw flags, open, re-rank and close work items, add
    facts and queue messages, extend and stop clocks, and open a linked case."""
    clock.set(london(2025, 11, 10, 10))
    # Received three weeks ago: the first command catches up countdown and deadline flags.
    ref = service.open(
        actor="alice",
        category="repairs",
        channel="phone",
        area="north",
        received_at=london(2025, 10, 20, 9),
        summary="Water through the kitchen ceiling.",
        understanding="The kitchen ceiling leaks.",
        desired_outcome="A lasting repair.",
        resident_ref="R-1",
        preferred_contact="email",
        vulnerabilities=["mobility"],
    ).reference
    clock.advance(minutes=5)
    service.acknowledge(ref, actor="alice", handler="hana", at=london(2025, 10, 22, 9))
    clock.advance(minutes=5)
    service.record_contact(ref, actor="alice", direction="outbound", channel="phone")
    clock.advance(minutes=5)
    service.extend(ref, actor="alice", days=10, reason="survey needed", stage=1)
    clock.advance(days=1)
    service.assign(ref, actor="alice", owner="omar")
    service.respond(
        ref,
        actor="omar",
        decision="partially-upheld",
        reasons="The repair was late.",
        compensation_pence=5000,
        avoidable=True,
    )
    clock.advance(days=1)
    service.add_action(
        ref, actor="omar", description="Replace ceiling", owner="omar", due_on=date(2025, 11, 28)
    )
    service.escalate(ref, actor="alice")
    clock.advance(days=2)
    service.acknowledge(
        ref,
        actor="alice",
        handler="sam",
        understanding="The repair and its delay.",
        desired_outcome="Compensation.",
    )
    clock.advance(days=3)
    service.respond(
        ref, actor="sam", decision="upheld", reasons="Agreed on review.", avoidable=True
    )
    service.complete_action(ref, actor="omar", number=1)
    clock.advance(days=1)
    service.close(ref, actor="sam")
    # A dissatisfaction escalated into a complaint: two cases in one transaction.
    dis = service.open(
        actor="bob", workflow="dissatisfaction", category="asb", channel="web-form", area="south"
    ).reference
    clock.advance(days=1)
    linked = service.escalate(dis, actor="bob").linked_reference
    assert linked is not None
    clock.advance(timedelta(days=30))
    service.record_contact(linked, actor="bob", direction="inbound", channel="email")


def dump(db_engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row; JSON columns as their text, so JSON null and SQL NULL differ."""
    with db_engine.connect() as conn:
        return {
            table.name: [
                dict(row._mapping)
                for row in conn.execute(
                    select(
                        *(
                            cast(c, Text).label(c.name) if "JSON" in repr(c.type) else c
                            for c in table.c
                        )
                    ).order_by(*table.primary_key.columns)
                )
            ]
            for table in TABLES
        }


@pytest.fixture
def two_databases(postgres_server: Any) -> Iterator[tuple[Engine, Engine]]:
    names = [postgres_server.take_database() for _ in range(2)]
    engines = [create_db_engine(postgres_server.url_for(name)) for name in names]
    try:
        yield engines[0], engines[1]
    finally:
        for db_engine, name in zip(engines, names, strict=True):
            db_engine.dispose()
            postgres_server.drop_database(name)


def test_one_statement_writes_store_what_a_statement_per_row_stores(
    two_databases: tuple[Engine, Engine], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, per_row = two_databases

    def run(db_engine: Engine, uow: Callable[[], SqlUnitOfWork]) -> dict[str, list[Any]]:
        clock = FakeClock()
        service = build_service(settings, db_engine=db_engine, clock=clock)
        service._uow = uow  # the unit-of-work factory the service was built with
        lifecycle(service, clock)
        return dump(db_engine)

    kinds: set[str] = set()
    real_flush = PendingWrites.flush

    def flush(self: PendingWrites, conn: Any) -> None:
        kinds.update(self._rows)
        real_flush(self, conn)

    monkeypatch.setattr(PendingWrites, "flush", flush)
    fast = run(one, lambda: SqlUnitOfWork(one))
    monkeypatch.undo()
    assert kinds == set(WRITE_KINDS)  # the scenario reaches every kind of write
    slow = run(per_row, lambda: SqlUnitOfWork(per_row, one_statement=False))

    assert {name: len(rows) for name, rows in fast.items()} == {
        name: len(rows) for name, rows in slow.items()
    }
    for name in fast:
        assert fast[name] == slow[name], name
    assert fast["case_flags"] and any(f["cleared_on"] for f in fast["case_flags"])
    assert {w["status"] for w in fast["work_items"]} >= {"done"}
    assert fast["case_responses"] and fast["jobs"] and len(fast["cases"]) == 3

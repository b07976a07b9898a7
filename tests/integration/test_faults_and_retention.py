"""A sweep batch whose connection is killed saves nothing of that batch; retention keeps reports.

The ``pg_terminate_backend`` test needs PostgreSQL; the retention tests run on both databases.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from support import FakeClock, london, only_postgres, row_counts

from adapters.bootstrap import build_sweep_runner
from adapters.db.repository import DatabaseError
from adapters.db.tables import case_clocks, case_milestones, case_responses, cases
from adapters.privacy import apply_retention, export_resident
from adapters.reports import performance_report, render
from adapters.settings import Settings
from adapters.sweep import Sweeper
from engine.access import Actor
from engine.errors import PermissionDeniedError
from engine.service import ComplaintsService

MANAGER = Actor("maggie", frozenset({"complaints-manager"}))


def open_old(service: ComplaintsService, n: int, **fields: Any) -> str:
    values: dict[str, Any] = {
        "actor": "colin",
        "category": "repairs",
        "channel": "phone",
        "area": "north",
        "received_at": london(2025, 5, 1 + n, 9),
        "summary": f"Leak number {n} at 3 Acacia Avenue EX1 2AB",
        "resident_ref": f"R-{n % 3}",
        "resident_email": "someone@example.org",
        "resident_name": "Pat Jones",
    }
    values.update(fields)
    return service.open(**values).reference


@only_postgres
def test_a_sweep_batch_killed_mid_batch_saves_nothing_of_it_and_a_rerun_finishes(
    service: ComplaintsService,
    db_engine: Engine,
    settings: Settings,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock.set(london(2025, 5, 10, 8))
    refs = [open_old(service, n) for n in range(6)]
    clock.set(london(2025, 7, 1, 9))
    runner = build_sweep_runner(settings, db_engine=db_engine, clock=clock, batch_size=2)
    sweeper = runner._sweeper
    as_of = date(2025, 7, 1)
    due = sweeper.due_count(as_of)
    assert due == 6
    original = Sweeper._process
    calls: list[int] = []

    def process(self: Sweeper, conn: Any, *args: Any) -> None:
        calls.append(1)
        if len(calls) == 2:  # the second batch: its rows are locked, then the backend dies
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            with db_engine.execution_options(isolation_level="AUTOCOMMIT").connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        original(self, conn, *args)

    monkeypatch.setattr(Sweeper, "_process", process)
    with pytest.raises(DatabaseError, match="sweep batch 2: nothing of that batch was saved"):
        sweeper.run(as_of)
    assert sweeper.due_count(as_of) == due - 2  # batch 1 committed, batch 2 not at all
    with db_engine.connect() as conn:
        counts = dict(conn.execute(select(cases.c.reference, cases.c.event_count)).all())
    monkeypatch.setattr(Sweeper, "_process", original)
    summary = sweeper.run(as_of)
    assert summary.cases_checked == due - 2 and sweeper.due_count(as_of) == 0
    with db_engine.connect() as conn:
        after = dict(conn.execute(select(cases.c.reference, cases.c.event_count)).all())
    assert sum(after[r] > counts[r] for r in refs) == due - 2


def report_facts(db_engine: Engine) -> Any:
    with db_engine.connect() as conn:
        return (
            conn.execute(
                select(cases.c.id, cases.c.state, cases.c.category, cases.c.area,
                       cases.c.received_at, cases.c.closed_at, cases.c.priority)
                .order_by(cases.c.id)
            ).all(),
            conn.execute(select(case_milestones).order_by(*case_milestones.primary_key)).all(),
            conn.execute(select(case_responses).order_by(*case_responses.primary_key)).all(),
            conn.execute(select(case_clocks).order_by(*case_clocks.primary_key)).all(),
        )  # fmt: skip


def performance(db_engine: Engine, settings: Settings) -> str:
    document = performance_report(
        db_engine,
        settings.calendar,
        start=date(2025, 4, 1),
        end=date(2031, 3, 31),
        as_of=date(2031, 6, 1),
        levels=settings.policies.get("hoc-2024").contact_levels,
    )
    return render(document, "json")


def test_retention_anonymises_old_closed_cases_and_reports_stay_identical(
    service: ComplaintsService, db_engine: Engine, settings: Settings, clock: FakeClock
) -> None:
    clock.set(london(2025, 6, 2, 12))
    refs = [open_old(service, n) for n in range(4)]
    for ref in refs[:3]:
        service.acknowledge(ref, actor="colin", understanding="u Pat", desired_outcome="o")
        service.record_contact(
            ref, actor="colin", direction="outbound", channel="phone", summary="Pat Jones said"
        )
        service.extend(ref, actor=MANAGER, days=11, reason="Pat's survey",
                       good_reason="Pat's solicitor asked us to wait")  # fmt: skip
        service.respond(ref, actor="colin", decision="upheld", reasons="Pat's leak",
                        compensation_pence=5000, learning="fix it", avoidable=True)  # fmt: skip
        service.close(ref, actor="colin", note="Pat happy")
    service.withdraw(refs[3], actor="colin", reason="Pat withdrew")  # closed too
    clock.set(london(2031, 7, 1, 9))
    before_facts, before_report = report_facts(db_engine), performance(db_engine, settings)
    counts = row_counts(db_engine)

    with pytest.raises(PermissionDeniedError):
        apply_retention(db_engine, actor=Actor("colin"), now=clock(), years=6, apply=True)
    dry = apply_retention(db_engine, actor=MANAGER, now=clock(), years=6)
    assert dry.dry_run and sorted(dry.references) == sorted(refs)
    assert row_counts(db_engine) == counts  # a dry run writes nothing
    assert apply_retention(db_engine, actor=MANAGER, now=clock(), years=7).references == []

    done = apply_retention(db_engine, actor=MANAGER, now=clock(), years=6, apply=True)
    assert sorted(done.references) == sorted(refs)
    assert report_facts(db_engine) == before_facts
    assert performance(db_engine, settings) == before_report
    again = apply_retention(db_engine, actor=MANAGER, now=clock(), years=6, apply=True)
    assert again.references == []  # idempotent

    for ref in refs:
        case = service.get(ref)
        assert case.resident_ref == f"anon-{case.id}" and case.property_ref is None
        assert "contact_details" not in case.records or case.records["contact_details"] == {}
        history = service.history(ref)
        assert history[-1].kind == "personal_data_erased" and history[-1].actor == "maggie"
        stored = json.dumps([case.records, [e.data for e in history]], default=str)
        assert "Pat" not in stored and "Acacia" not in stored and "example.org" not in stored
    assert export_resident(service, "R-1", MANAGER)["cases"] == []


def test_a_subject_access_export_holds_every_case_of_the_resident(
    service: ComplaintsService, db_engine: Engine, clock: FakeClock
) -> None:
    clock.set(london(2025, 6, 2, 12))
    mine = [open_old(service, n) for n in (1, 4)]
    open_old(service, 2)
    conduct = open_old(service, 7, category="staff-conduct")  # restricted, still the resident's
    service.record_contact(mine[0], actor="colin", direction="inbound", channel="phone",
                           summary="Pat rang")  # fmt: skip
    with pytest.raises(PermissionDeniedError, match="'export'"):
        export_resident(service, "R-1", "colin")
    data = export_resident(service, "R-1", MANAGER, db_engine=db_engine)
    assert {c["reference"] for c in data["cases"]} == {*mine, conduct}
    first = next(c for c in data["cases"] if c["reference"] == mine[0])
    assert first["contacts"][0]["data"]["summary"] == "Pat rang"
    assert first["case_file"]["records"]["contact_details"]["name"] == "Pat Jones"
    assert first["events"][0]["kind"] == "opened"
    json.dumps(data)  # JSON-ready

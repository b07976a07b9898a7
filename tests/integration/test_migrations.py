"""The migrations build exactly the schema the code declares, and carry existing data forward.

Each test starts from an empty database (SQLite file, or a new PostgreSQL database dropped
after the test), so it sees the migrations run from the beginning, as on a new install or an
upgrade of an old one.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.pool import NullPool

from adapters.db.connection import create_db_engine
from adapters.db.migrate import alembic_config, current_revision, head_revision, upgrade
from adapters.db.tables import case_events, case_flags, cases, metadata, work_items


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", marks=pytest.mark.postgres, id="postgresql"),
    ]
)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database with no tables at all."""
    if request.param == "sqlite":
        db_engine = create_db_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield db_engine
        db_engine.dispose()
        return
    server = request.getfixturevalue("postgres_server")
    name = f"complaints_m_{secrets.token_hex(6)}"
    server.execute(f'CREATE DATABASE "{name}"')
    db_engine = create_db_engine(server.url_for(name), poolclass=NullPool)
    try:
        yield db_engine
    finally:
        db_engine.dispose()
        server.drop_database(name)


def test_the_migrated_schema_is_the_declared_one(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    assert current_revision(empty_engine) == head_revision()
    with empty_engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": False, "compare_server_default": False}
        )
        differences = compare_metadata(context, metadata)
    assert differences == []


MOMENT = datetime(2025, 6, 2, 9, tzinfo=UTC)


def case_row(reference: str, records: dict[str, Any]) -> dict[str, Any]:
    """A case row as 0008 knows it (no ``manager``)."""
    moment = MOMENT
    return {
        "reference": reference,
        "records": records,
        "workflow": "complaint",
        "state": "stage1",
        "is_open": True,
        "version": 1,
        "event_count": 1,
        "policy_id": "hoc-2024",
        "policy_version": 1,
        "calendar": "england-and-wales",
        "calendar_fingerprint": "x",
        "received_at": moment,
        "received_on": date(2025, 6, 2),
        "channel": "phone",
        "category": "staff-conduct",
        "area": "north",
        "tenure": "lcra",
        "vulnerabilities": [],
        "health_and_safety": False,
        "restricted": True,
        "priority": "normal",
        "created_at": moment,
        "updated_at": moment,
    }


def downgrade(db_engine: Engine, revision: str) -> None:
    config = alembic_config()
    with db_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def counts(db_engine: Engine) -> dict[str, int]:
    with db_engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (cases, case_events)
        }


def test_the_case_manager_column_is_filled_from_the_case_records(empty_engine: Engine) -> None:
    """0009 copies ``records.manager`` into ``cases.manager`` for the cases already there."""
    upgrade(empty_engine, "0008")
    with empty_engine.begin() as conn:
        for reference, records in (
            ("CMP-2025-000001", {"records": {"manager": "mandy", "summary": "x"}}),
            ("CMP-2025-000002", {"records": {"summary": "y"}}),
            ("CMP-2025-000003", {"records": {"manager": ""}}),
        ):
            # no ``manager``: 0008 has no such column
            conn.execute(insert(cases), case_row(reference, records))
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        managers = dict(conn.execute(select(cases.c.reference, cases.c.manager)).all())
    assert managers == {
        "CMP-2025-000001": "mandy",
        "CMP-2025-000002": None,
        "CMP-2025-000003": None,
    }


def test_down_to_0008_and_up_again_keeps_every_case_and_its_timeline(empty_engine: Engine) -> None:
    """Taking the column off again must not rebuild ``cases`` (on SQLite a rebuild drops the
    old table, and the foreign keys would take each case's events with it)."""
    upgrade(empty_engine)
    with empty_engine.begin() as conn:
        values = case_row("CMP-2025-000001", {"records": {"manager": "mandy"}})
        case_id = conn.execute(
            insert(cases).values(manager="mandy", **values).returning(cases.c.id)
        ).scalar_one()
        event = {"occurred_at": MOMENT, "recorded_at": MOMENT, "actor": "intake"}
        conn.execute(
            insert(case_events),
            {"case_id": case_id, "seq": 1, "kind": "opened", "data": {}, "before": {}, "after": {},
             **event},
        )  # fmt: skip
    downgrade(empty_engine, "0008")
    assert counts(empty_engine) == {"cases": 1, "case_events": 1}
    upgrade(empty_engine)
    assert counts(empty_engine) == {"cases": 1, "case_events": 1}
    with empty_engine.connect() as conn:
        assert conn.execute(select(cases.c.manager)).scalar_one() == "mandy"


def test_0011_marks_the_cases_whose_items_need_their_countdown_level(empty_engine: Engine) -> None:
    upgrade(empty_engine, "0010")
    far = date(2026, 12, 31)
    with empty_engine.begin() as conn:
        ids = {}
        for reference in ("CMP-2025-000001", "CMP-2025-000002"):
            values = {**case_row(reference, {"records": {}}), "next_flag_on": far}
            values["work_signature"] = "before"
            ids[reference] = conn.execute(
                insert(cases).values(**values).returning(cases.c.id)
            ).scalar_one()
        for case_id in ids.values():
            conn.execute(
                insert(work_items),
                {"case_id": case_id, "kind": "respond", "status": "open", "team": "complaints",
                 "restricted": False, "p_deadline": 0, "p_contact": 0, "p_care": 0,
                 "received_at": MOMENT, "reason": "Stage 1 response: breached",
                 "created_at": MOMENT},
            )  # fmt: skip
        conn.execute(
            insert(case_flags),
            {"case_id": ids["CMP-2025-000001"], "name": "critical", "kind": "contact",
             "level": "critical", "clock": None, "anchor_on": date(2025, 6, 2),
             "raised_on": date(2025, 6, 30), "cleared_on": None},
        )  # fmt: skip
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        rows = {
            r.reference: (r.work_signature, r.next_flag_on)
            for r in conn.execute(
                select(cases.c.reference, cases.c.work_signature, cases.c.next_flag_on)
            )
        }
    marked, untouched = rows["CMP-2025-000001"], rows["CMP-2025-000002"]
    assert marked[0] is None and marked[1] < far  # re-planned by the next sweep
    assert untouched == ("before", far)  # no countdown raised: its items are right

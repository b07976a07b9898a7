"""A report's sections run side by side on PostgreSQL but read one snapshot.

If a command commits while the performance report's queries run, every section must still see
the data as it was when the report began, or its tables would not add up to each other.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Connection, Engine, func, select, text
from support import only_postgres

from adapters.db.tables import cases
from adapters.reports.sections import run_sections
from engine.service import ComplaintsService

WAIT = 30


def count_cases(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(cases)).scalar_one())


def open_one(service: ComplaintsService) -> None:
    service.open(actor="intake", category="repairs", channel="phone", area="north", summary="s")


@only_postgres
def test_sections_run_at_once_and_see_the_snapshot_the_report_began_with(
    service: ComplaintsService, db_engine: Engine
) -> None:
    open_one(service)
    second_started = threading.Event()
    written = threading.Event()
    threads: list[str] = []

    def first(conn: Connection) -> int:
        threads.append(threading.current_thread().name)
        assert second_started.wait(WAIT), "the sections did not run side by side"
        open_one(service)  # a command commits while the report runs
        written.set()
        return count_cases(conn)

    def second(conn: Connection) -> int:
        threads.append(threading.current_thread().name)
        second_started.set()
        assert written.wait(WAIT)
        return count_cases(conn)

    found = run_sections(db_engine, {"first": first, "second": second})

    assert found == {"first": 1, "second": 1}
    assert len(set(threads)) == 2
    with db_engine.connect() as conn:
        assert count_cases(conn) == 2


def test_sections_give_their_results_by_name_in_order(
    service: ComplaintsService, db_engine: Engine
) -> None:
    open_one(service)
    found = run_sections(
        db_engine,
        {
            "cases": count_cases,
            "one": lambda conn: int(conn.execute(text("SELECT 1")).scalar_one()),
            "open": lambda conn: int(
                conn.execute(
                    select(func.count()).select_from(cases).where(cases.c.is_open)
                ).scalar_one()
            ),
        },
    )
    assert list(found) == ["cases", "one", "open"]
    assert found == {"cases": 1, "one": 1, "open": 1}


@only_postgres
def test_a_failing_section_fails_the_report(db_engine: Engine) -> None:
    def broken(conn: Connection) -> int:
        return int(conn.execute(text("SELECT 1 / 0")).scalar_one())

    with pytest.raises(Exception, match="division by zero"):
        run_sections(db_engine, {"fine": count_cases, "broken": broken})

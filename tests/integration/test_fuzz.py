"""Hostile input through the Python API and the CLI: a typed error or a valid result, never
anything else, and the database stays consistent (no half-written case, no orphan event)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from support import FakeClock, london

from adapters.cli.main import cli
from adapters.db.tables import case_events, cases
from engine.service import ComplaintsService
from sla.errors import ComplaintsError

HOSTILE = st.one_of(
    st.text(max_size=50),
    st.text(st.characters(codec="utf-8", categories=["Cc", "Cs", "Zl", "Lo"]), max_size=20),
    st.sampled_from(["'; DROP TABLE cases; --", "\x00", "a" * 30_000, "R\u202e1", "' OR 1=1"]),
)
WRONG = st.one_of(st.none(), st.integers(), st.lists(st.integers(), max_size=2), st.booleans())
WHEN = st.one_of(
    st.none(),
    st.datetimes(timezones=st.just(UTC)),  # far past and far future
    st.datetimes(),  # naive
    st.just(datetime(9999, 12, 31, tzinfo=UTC)),
)
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def consistent(db_engine: Engine) -> None:
    with db_engine.connect() as conn:
        rows = conn.execute(select(cases.c.id, cases.c.event_count)).all()
        for case_id, count in rows:
            events = conn.execute(
                select(case_events.c.seq, case_events.c.kind)
                .where(case_events.c.case_id == case_id)
                .order_by(case_events.c.seq)
            ).all()
            assert [e.seq for e in events] == list(range(1, count + 1))
            assert events[0].kind == "opened"
        orphans = conn.execute(
            select(func.count())
            .select_from(case_events)
            .where(case_events.c.case_id.not_in(select(cases.c.id)))
        ).scalar_one()
        assert orphans == 0


def attempt(call: Any) -> None:
    with contextlib.suppress(ComplaintsError):
        call()


@FUZZ
@given(
    text=st.one_of(HOSTILE, WRONG),
    area=st.one_of(HOSTILE, WRONG),
    category=st.one_of(HOSTILE, st.just("repairs")),
    when=WHEN,
    days=st.one_of(st.integers(-5, 10**9), WRONG),
)
def test_hostile_input_through_the_python_api(
    service: ComplaintsService,
    db_engine: Engine,
    clock: FakeClock,
    text: Any,
    area: Any,
    category: Any,
    when: Any,
    days: Any,
) -> None:
    clock.set(london(2025, 6, 2, 12))
    opened: list[str] = []

    def open_() -> None:
        opened.append(
            service.open(actor="colin", category=category, channel="phone", area=area,
                         summary=text, received_at=when, resident_ref=text).reference
        )  # fmt: skip

    attempt(open_)
    ref = (
        opened[0]
        if opened
        else service.open(
            actor="colin", category="repairs", channel="phone", area="north"
        ).reference
    )
    attempt(lambda: service.acknowledge(ref, actor="colin", at=when, understanding=text,
                                        desired_outcome=text))  # fmt: skip
    attempt(lambda: service.record_contact(ref, actor="colin", direction="outbound",
                                           channel="phone", summary=text, at=when))  # fmt: skip
    attempt(lambda: service.extend(ref, actor="colin", days=days, reason=text))
    attempt(lambda: service.respond(ref, actor="colin", decision=text, reasons=text, at=when))
    attempt(lambda: service.get(text))
    attempt(lambda: service.history(text, actor=text))
    consistent(db_engine)


@settings(max_examples=40, deadline=None)
@given(argv=st.lists(st.one_of(HOSTILE, st.sampled_from(
    ["open", "show", "list", "history", "extend", "--days", "--at", "--as", "--json",
     "CMP-2025-000001", "2025-13-45", "2025-06-02T25:00", "--category", "--summary"]
)), max_size=8))  # fmt: skip
def test_hostile_argv_through_the_cli_is_exit_0_or_2_and_never_a_traceback(
    argv: list[str], tmp_path_factory: Any
) -> None:
    db = tmp_path_factory.mktemp("fuzzcli") / "c.db"
    clean = [a.replace("\x00", "") for a in argv]
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{db}", *clean], prog_name="complaints")
    assert result.exit_code in (0, 2), (clean, result.output, result.exception)
    assert "Traceback" not in result.output

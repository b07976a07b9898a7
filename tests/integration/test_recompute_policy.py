"""A landlord bumps a policy's version: open cases move to it, their running deadlines too.

A landlord policy ``lp`` and calendar ``lh`` (England and Wales bank holidays, the office closed
Mon 23 March 2026) in a temporary config folder; cases are opened under version 1 in March 2026
(London on GMT until 29 March, so London times are UTC). Then the landlord edits the policy file:
version 2 gives the Stage 1 response 15 working days instead of 10 and raises ``contact-due``
after 2 working days instead of 3. The settings are reloaded and the recompute (by hand, then
the scheduler's check before a sweep) moves the open cases to version 2. Runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import structlog
from sqlalchemy import Engine, select, text, update
from support import FakeClock, london
from test_recompute import case_row, events, flags, full_events, open_case

from adapters.bootstrap import build_service, build_sweep_runner
from adapters.db.tables import case_clocks, cases
from adapters.recompute import recompute, stale_calendars, stale_policies
from adapters.settings import Settings, load_settings
from engine.service import ComplaintsService

SETTINGS_TOML = """\
[defaults]
calendar = "lh"
policy = "lp"
"""
CALENDAR_TOML = """\
name = "lh"
division = "england-and-wales"

[[closures]]
date = 2026-03-23
reason = "Staff training"
"""


def policy_toml(policy_id: str, version: int, respond: int, contact_due: int) -> str:
    return f"""\
id = "{policy_id}"
version = {version}
name = "Local complaints standard"

[clocks.acknowledge]
days = 5
starts_at = "received"
stops_at = "acknowledged"

[clocks.respond]
days = {respond}
starts_at = "acknowledged"
stops_at = "responded"
extension_cap = 10

[clocks.stage2_acknowledge]
days = 5
starts_at = "escalation_requested"
stops_at = "stage2_acknowledged"

[clocks.stage2_respond]
days = 20
starts_at = "stage2_acknowledged"
stops_at = "stage2_responded"
extension_cap = 20

[[contact_levels]]
days = {contact_due}
level = "contact-due"
action = "Contact the resident with an update today."

[[contact_levels]]
days = 10
level = "contact-overdue"
action = "Call the resident and agree how often they want to hear from us."
"""


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    (folder / "calendars").mkdir(parents=True)
    (folder / "policies").mkdir()
    (folder / "settings.toml").write_text(SETTINGS_TOML, encoding="utf-8")
    (folder / "calendars" / "lh.toml").write_text(CALENDAR_TOML, encoding="utf-8")
    (folder / "policies" / "lp.toml").write_text(policy_toml("lp", 1, 10, 3), encoding="utf-8")
    return folder


def bump_policy(config_dir: Path) -> Settings:
    """The landlord's edit: version 2, a 15-day Stage 1 response, contact-due after 2 days."""
    (config_dir / "policies" / "lp.toml").write_text(policy_toml("lp", 2, 15, 2), encoding="utf-8")
    return load_settings(str(config_dir))


Clock = tuple[date, int, int, date | None]


def clocks(db_engine: Engine, ref: str) -> dict[str, Clock]:
    """clock -> (due_on, base_days, extended_days, stopped_on) from ``case_clocks``."""
    with db_engine.connect() as conn:
        rows = conn.execute(
            select(
                case_clocks.c.clock,
                case_clocks.c.due_on,
                case_clocks.c.base_days,
                case_clocks.c.extended_days,
                case_clocks.c.stopped_on,
            )
            .join(cases, cases.c.id == case_clocks.c.case_id)
            .where(cases.c.reference == ref)
        ).all()
    return {r.clock: (r.due_on, r.base_days, r.extended_days, r.stopped_on) for r in rows}


def snapshot(db_engine: Engine, refs: dict[str, str]) -> dict[str, Any]:
    return {
        name: (case_row(db_engine, ref), clocks(db_engine, ref), full_events(db_engine, ref))
        for name, ref in refs.items()
    }


# Hand-counted (no bank holidays in March 2026; lh is closed Mon 23 March):
#  Every case is received Mon 2 Mar; A-D are acknowledged Tue 3 Mar, so the response runs from
#  Tue 3: Wed 4 (1), Thu 5 (2), Fri 6 (3), Mon 9 (4), Tue 10 (5), Wed 11 (6), Thu 12 (7),
#  Fri 13 (8), Mon 16 (9), Tue 17 (10) -> due Tue 17 Mar under version 1 (10 days) on either
#  calendar; then Wed 18 (11), Thu 19 (12), Fri 20 (13), Mon 23 (14 on england-and-wales,
#  closed on lh), Tue 24 (15 / 14), Wed 25 (16 / 15), Thu 26 (17), Fri 27 (18), Mon 30 (19),
#  Tue 31 (20 on england-and-wales).
#  A: on lh. 10 days -> Tue 17; 15 days -> Wed 25 Mar (Mon 23 closed).
#  B: on england-and-wales. 10 days -> Tue 17; 15 days -> Tue 24 Mar.
#  C: on england-and-wales, extended 5 days on Wed 4. 10 + 5 -> Tue 24; 15 + 5 -> Tue 31 Mar.
#  D: on lh, responded Fri 6 Mar: its respond clock stopped (due Tue 17) and keeps its dates.
#  E: on lh, received Mon 9 Mar, not acknowledged: the acknowledge clock (5 days, unchanged)
#     runs to Mon 16 (10, 11, 12, 13, 16); nothing moves, but the case takes version 2.
#  F: withdrawn Wed 4 Mar (closed): stays on version 1.
TUE_17, TUE_24, WED_25, TUE_31 = (
    date(2026, 3, 17),
    date(2026, 3, 24),
    date(2026, 3, 25),
    date(2026, 3, 31),
)
FRI_13 = date(2026, 3, 13)
NOW = london(2026, 3, 13, 10)
MOVES = {"A": (TUE_17, WED_25, 0), "B": (TUE_17, TUE_24, 0), "C": (TUE_24, TUE_31, 5)}


@pytest.fixture
def before_bump(
    config_dir: Path, engines: Callable[..., Engine], clock: FakeClock
) -> tuple[Settings, dict[str, str]]:
    settings = load_settings(str(config_dir))
    service = build_service(settings, db_engine=engines(), clock=clock)
    received = london(2026, 3, 2, 9)
    refs = {
        "A": open_case(service, clock, received),
        "B": open_case(service, clock, received, calendar="england-and-wales"),
        "C": open_case(service, clock, received, calendar="england-and-wales"),
        "D": open_case(service, clock, received),
        "E": open_case(service, clock, london(2026, 3, 9, 9)),
        "F": open_case(service, clock, received),
    }
    for name in "ABCD":
        clock.set(london(2026, 3, 3, 10))
        service.acknowledge(refs[name], actor="alice")
    clock.set(london(2026, 3, 4, 11))
    service.extend(refs["C"], actor="alice", days=5, reason="Waiting for a surveyor", stage=1)
    service.withdraw(refs["F"], actor="alice", reason="Resident withdrew")
    clock.set(london(2026, 3, 6, 12))
    service.respond(refs["D"], actor="alice", decision="upheld", reasons="Late", avoidable=True)
    return settings, refs


def test_a_new_policy_version_moves_running_deadlines_with_a_timeline_entry(
    before_bump: tuple[Settings, dict[str, str]],
    config_dir: Path,
    db_engine: Engine,
    engines: Callable[..., Engine],
    clock: FakeClock,
) -> None:
    _, refs = before_bump
    for name, (old, _, extended) in MOVES.items():
        assert clocks(db_engine, refs[name])["respond"] == (old, 10, extended, None)
    d_clocks = clocks(db_engine, refs["D"])
    assert d_clocks["respond"] == (TUE_17, 10, 0, date(2026, 3, 6))
    assert clocks(db_engine, refs["E"]) == {"acknowledge": (date(2026, 3, 16), 5, 0, None)}
    e_events = full_events(db_engine, refs["E"])
    assert case_row(db_engine, refs["D"]).is_open
    assert not case_row(db_engine, refs["F"]).is_open
    f_before = snapshot(db_engine, {"F": refs["F"]})
    counts = {name: case_row(db_engine, ref).event_count for name, ref in refs.items()}
    assert {case_row(db_engine, ref).policy_version for ref in refs.values()} == {1}

    new_settings = bump_policy(config_dir)
    # A process already on version 2 opens N: it is on its policy's version and is not rewritten.
    new_service = build_service(new_settings, db_engine=engines(), clock=clock)
    n = open_case(new_service, clock, london(2026, 3, 12, 9))
    n_before = snapshot(db_engine, {"N": n})
    assert n_before["N"][0].policy_version == 2
    assert stale_policies(db_engine, new_settings.policies) == {"lp": 2}
    assert stale_calendars(db_engine, new_settings.calendar) == {}

    summary = recompute(
        db_engine,
        calendars=new_settings.calendar,
        policies=new_settings.policies,
        now=NOW,
        as_of=FRI_13,
    )

    assert summary.calendars == [] and summary.deadlines_moved == 0
    assert summary.policies == ["lp@2"]
    assert (summary.policy_cases, summary.policy_cases_moved) == (5, 3)
    assert summary.policy_deadlines_moved == summary.all_deadlines_moved == 3
    assert summary.unknown_policies == []
    # Running response clocks take 15 base days, due on the case's own calendar.
    for name, (old, new, extended) in MOVES.items():
        ref = refs[name]
        assert clocks(db_engine, ref)["respond"] == (new, 15, extended, None)
        moved = [e for e in full_events(db_engine, ref) if e[1] == "deadline_moved"]
        assert len(moved) == 1
        seq, _, data, before, after = moved[0]
        assert seq == counts[name] + 1
        assert data == {
            "reason": "policy changed",
            "cause": "policy_version",
            "policy": "lp",
            "from_version": 1,
            "to_version": 2,
            "clock": "respond",
            "from": old.isoformat(),
            "to": new.isoformat(),
            "from_days": 10,
            "to_days": 15,
        }
        assert before == {"deadlines": {"respond": old.isoformat()}}
        assert after == {"deadlines": {"respond": new.isoformat()}}
        row = case_row(db_engine, ref)
        assert row.event_count == len(events(db_engine, ref)) == counts[name] + 1
    # Every open case is on version 2 and due for the next sweep, moved or not.
    for name in "ABCDE":
        row = case_row(db_engine, refs[name])
        assert (row.policy_version, row.next_flag_on) == (2, FRI_13)
    # D's stopped clocks and E's unchanged acknowledge clock keep their dates, without events.
    assert clocks(db_engine, refs["D"]) == d_clocks
    assert case_row(db_engine, refs["D"]).event_count == counts["D"]
    assert clocks(db_engine, refs["E"]) == {"acknowledge": (date(2026, 3, 16), 5, 0, None)}
    assert full_events(db_engine, refs["E"]) == e_events
    # The closed case stays as it was judged; the case already on version 2 is left alone.
    assert snapshot(db_engine, {"F": refs["F"]}) == f_before
    assert snapshot(db_engine, {"N": n}) == n_before

    # The service sees version 2 and the new date, and the next command keeps both.
    service = build_service(new_settings, db_engine=engines(), clock=clock)
    clock.set(NOW)
    case = service.get(refs["A"])
    assert (case.policy_version, case.clocks["respond"].due_on) == (2, WED_25)
    assert case.clocks["respond"].base_days == 15
    assert "deadline_moved" in [e.kind for e in service.history(refs["A"])]
    service.record_contact(refs["A"], actor="alice", direction="outbound", channel="phone")
    assert case_row(db_engine, refs["A"]).policy_version == 2
    assert clocks(db_engine, refs["A"])["respond"] == (WED_25, 15, 0, None)

    # Idempotent: nothing is stale, a second run (forced too) moves and writes nothing.
    assert stale_policies(db_engine, new_settings.policies) == {}
    before_again = snapshot(db_engine, refs)
    for force in (False, True):
        again = recompute(
            db_engine,
            calendars=new_settings.calendar,
            policies=new_settings.policies,
            now=NOW,
            as_of=FRI_13,
            force=force,
        )
        assert again.policies == []
        assert (again.policy_cases, again.policy_deadlines_moved, again.all_deadlines_moved) == (
            0,
            0,
            0,
        )
        assert snapshot(db_engine, refs) == before_again


def test_the_sweep_recomputes_a_new_policy_version_first(
    before_bump: tuple[Settings, dict[str, str]],
    config_dir: Path,
    db_engine: Engine,
    engines: Callable[..., Engine],
    clock: FakeClock,
) -> None:
    old_settings, refs = before_bump
    b = refs["B"]
    # The night of Fri 13 Mar on version 1: B's response is due soon (Tue 17: Mon 16, Fri 13).
    clock.set(london(2026, 3, 13, 2, 30))
    assert build_sweep_runner(old_settings, db_engine=engines(), clock=clock).sweep(FRI_13)
    assert ("respond:due-soon", TUE_17, FRI_13, None) in flags(db_engine, b)

    new_settings = bump_policy(config_dir)
    clock.set(NOW)
    runner = build_sweep_runner(new_settings, db_engine=engines(), clock=clock)
    summary = runner.sweep(FRI_13)

    assert summary is not None
    assert case_row(db_engine, b).policy_version == 2
    assert clocks(db_engine, b)["respond"] == (TUE_24, 15, 0, None)
    # Re-evaluated at once: Tue 24 is not due soon on Fri 13 (that is Fri 20), so the old
    # due-soon is cleared and none is raised.
    respond_flags = {f for f in flags(db_engine, b) if f[0].startswith("respond:")}
    assert respond_flags == {("respond:due-soon", TUE_17, FRI_13, FRI_13)}
    assert summary.cleared["due-soon"] >= 1

    # Settled: nothing stale, a second sweep changes and writes nothing.
    assert stale_policies(db_engine, new_settings.policies) == {}
    before_again = snapshot(db_engine, refs)
    again = runner.sweep(FRI_13)
    assert again is not None and again.cases_changed == 0
    assert snapshot(db_engine, refs) == before_again


def test_cases_under_a_policy_the_registry_does_not_know_are_left_alone(
    config_dir: Path, db_engine: Engine, engines: Callable[..., Engine], clock: FakeClock
) -> None:
    gone = config_dir / "policies" / "gone.toml"
    gone.write_text(policy_toml("gone", 1, 10, 3), encoding="utf-8")
    service: ComplaintsService = build_service(
        load_settings(str(config_dir)), db_engine=engines(), clock=clock
    )
    secret = "Mrs Example on 07700 900123"
    g = open_case(service, clock, london(2026, 3, 2, 9), policy="gone", summary=secret)
    h = open_case(service, clock, london(2026, 3, 2, 9, 30), calendar="england-and-wales")
    for ref in (g, h):
        clock.set(london(2026, 3, 3, 10))
        service.acknowledge(ref, actor="alice")
    g_before = snapshot(db_engine, {"G": g})

    gone.unlink()
    new_settings = bump_policy(config_dir)
    assert new_settings.policies.ids().count("gone") == 0

    with structlog.testing.capture_logs() as logs:
        assert stale_policies(db_engine, new_settings.policies) == {"lp": 2}
        summary = recompute(
            db_engine,
            calendars=new_settings.calendar,
            policies=new_settings.policies,
            now=NOW,
            as_of=FRI_13,
        )

    assert summary.unknown_policies == ["gone"]
    assert (summary.policies, summary.policy_cases, summary.policy_deadlines_moved) == (
        ["lp@2"],
        1,
        1,
    )
    assert clocks(db_engine, h)["respond"] == (TUE_24, 15, 0, None)
    assert snapshot(db_engine, {"G": g}) == g_before
    warnings = [e for e in logs if e["event"] == "recompute_unknown_policies"]
    assert warnings  # from the check and from the recompute
    for warning in warnings:
        assert warning["log_level"] == "warning"
        assert (warning["policies"], warning["open_cases"]) == (["gone"], 1)
    assert "07700" not in repr(logs) and "Example" not in repr(logs)

    # The nightly sweep runs on past G (left due, with a warning) and sweeps the rest.
    runner = build_sweep_runner(new_settings, db_engine=engines(), clock=clock)
    clock.set(NOW)
    with structlog.testing.capture_logs() as sweep_logs:
        swept = runner.sweep(FRI_13)
    assert swept is not None
    assert snapshot(db_engine, {"G": g}) == g_before
    assert case_row(db_engine, h).policy_version == 2
    skipped = [e for e in sweep_logs if e["event"] == "sweep_unknown_policy"]
    assert [(e["policies"], e["cases"]) for e in skipped] == [(["gone"], 1)]
    assert "07700" not in repr(sweep_logs) and "Example" not in repr(sweep_logs)


def test_a_clock_a_command_stops_while_the_recompute_waits_keeps_its_dates(
    before_bump: tuple[Settings, dict[str, str]],
    config_dir: Path,
    db_engine: Engine,
    engines: Callable[..., Engine],
) -> None:
    """PostgreSQL: the recompute chose B's running response clock to move, then waited on a
    command that was answering B (stopping the clock); the move must not land on top of it."""
    if db_engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: nothing can change under the recompute")
    _, refs = before_bump
    b = refs["B"]
    new_settings = bump_policy(config_dir)
    command = engines().connect()
    tx = command.begin()
    case_id = command.execute(select(cases.c.id).where(cases.c.reference == b)).scalar_one()
    command.execute(
        update(case_clocks)
        .where(case_clocks.c.case_id == case_id, case_clocks.c.clock == "respond")
        .values(stopped_on=FRI_13, stop_reason="responded")
    )
    done: dict[str, Any] = {}

    def run() -> None:
        done["summary"] = recompute(
            engines(),
            calendars=new_settings.calendar,
            policies=new_settings.policies,
            now=NOW,
            as_of=FRI_13,
        )

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not waiting_on_a_lock(db_engine):
        time.sleep(0.05)
    assert waiting_on_a_lock(db_engine), "the recompute never waited for the command"
    tx.commit()
    command.close()
    worker.join(30)

    assert clocks(db_engine, b)["respond"] == (TUE_17, 10, 0, FRI_13)  # as the command left it
    moved = [e for e in events(db_engine, b) if e[1] == "deadline_moved"]
    assert moved == []
    assert done["summary"].policy_deadlines_moved == 2  # A and C, not B
    assert clocks(db_engine, refs["A"])["respond"] == (WED_25, 15, 0, None)


def waiting_on_a_lock(db_engine: Engine) -> bool:
    with db_engine.connect() as conn:
        return bool(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        )

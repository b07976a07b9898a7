"""The SLA sweep on a real database (SQLite and PostgreSQL): idempotent, restartable, and the same
whether it ran every night or once after downtime.

Dates are England and Wales, December 2025 (bank holidays Thu 25 and Fri 26 December, Thu 1
January 2026); London is on GMT, so the London times below are also UTC. Policy hoc-2024:
acknowledge in 5 working days, respond in 10 from the acknowledgement, due-soon 2 working days
before, contact levels at 3/10/15/20 working days.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update
from support import FakeClock, london

from adapters import sweep as sweep_module
from adapters.bootstrap import build_service, build_sweep_runner
from adapters.db.connection import create_db_engine
from adapters.db.migrate import upgrade
from adapters.db.tables import case_events, case_flags, cases
from adapters.settings import Settings
from adapters.sweep import Sweeper, SweepSummary
from engine.ports import CaseFilter
from engine.service import ComplaintsService

Refs = dict[str, str]
Action = Callable[[ComplaintsService, Refs], Any]


# -- building blocks -------------------------------------------------------------------------------


def opener(name: str) -> Action:
    def act(service: ComplaintsService, refs: Refs) -> None:
        refs[name] = service.open(
            actor="alice",
            category="repairs",
            channel="phone",
            area="north",
            summary=f"Case {name}",
            understanding="Leak not fixed",
            desired_outcome="Fix the leak",
        ).reference

    return act


def acknowledge(name: str) -> Action:
    return lambda service, refs: service.acknowledge(refs[name], actor="alice")


def respond(name: str) -> Action:
    return lambda service, refs: service.respond(
        refs[name], actor="alice", decision="not-upheld", reasons="Repair was done on time"
    )


def contact(name: str) -> Action:
    return lambda service, refs: service.record_contact(
        refs[name], actor="alice", direction="outbound", channel="phone", summary="update"
    )


Script = list[tuple[datetime, Action]]

# Six cases built before the first night swept (Fri 19 Dec). Hand-counted deadlines:
#  A: acknowledged Thu 4 Dec -> respond due Thu 18 Dec (5, 8, 9, 10, 11, 12, 15, 16, 17, 18).
#  B: received Mon 8 Dec, never acknowledged -> acknowledge due Mon 15 Dec, breached Tue 16.
#  C: agreed updates every 5 working days; acknowledged Wed 10 Dec -> respond due Wed 24 Dec.
#  D: received Fri 12 Dec -> acknowledge due Fri 19 Dec.
#  E: acknowledged Tue 16 Dec -> respond due Fri 2 Jan (17, 18, 19, 22, 23, 24, 29, 30, 31, 2).
#  F: received Thu 18 Dec -> acknowledge due Mon 29 Dec (19, 22, 23, 24, 29).
OPENING: Script = [
    (london(2025, 12, 3, 10), opener("A")),
    (london(2025, 12, 4, 10), acknowledge("A")),
    (london(2025, 12, 8, 10), opener("B")),
    (london(2025, 12, 9, 10), opener("C")),
    (
        london(2025, 12, 9, 11),
        lambda s, r: s.agree_updates(r["C"], actor="alice", every=5, note="weekly"),
    ),
    (london(2025, 12, 10, 10), acknowledge("C")),
    (london(2025, 12, 12, 10), opener("D")),
    (london(2025, 12, 15, 10), opener("E")),
    (london(2025, 12, 16, 10), acknowledge("E")),
    (london(2025, 12, 18, 10), opener("F")),
]
D0 = date(2025, 12, 19)  # Friday: the first night swept
DN = D0 + timedelta(days=10)  # Monday 29 December
# Commands during the window (after that day's 02:30 sweep).
WINDOW: Script = [
    (london(2025, 12, 22, 10), respond("A")),  # late: breached since Fri 19
    (london(2025, 12, 22, 11), contact("B")),
    (
        london(2025, 12, 23, 11),
        lambda s, r: s.extend(r["E"], actor="alice", days=5, reason="Awaiting contractor report"),
    ),
    (london(2025, 12, 24, 10), lambda s, r: s.withdraw(r["D"], actor="alice", reason="Resolved")),
]


def nightly(day: date) -> datetime:
    return london(day.year, day.month, day.day, 2, 30)


def play(
    service: ComplaintsService,
    clock: FakeClock,
    script: Script,
    refs: Refs,
    *,
    sweeper: Sweeper | None = None,
    sweep_days: Sequence[date] = (),
) -> list[SweepSummary]:
    """Run the commands and the nightly sweeps in time order, moving the clock to each (a sweep
    at 02:30 goes before any command of that day)."""
    summaries: list[SweepSummary] = []

    def sweep(day: date) -> None:
        assert sweeper is not None
        summaries.append(sweeper.run(day))

    timeline: list[tuple[datetime, int, Callable[[], Any]]] = [
        (when, 1, partial(action, service, refs)) for when, action in script
    ]
    timeline += [(nightly(day), 0, partial(sweep, day)) for day in sweep_days]
    for when, _, run in sorted(timeline, key=lambda item: (item[0], item[1])):
        clock.set(when)
        run()
    return summaries


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# -- reading the database --------------------------------------------------------------------------

FlagRow = tuple[str, date, date, date | None]


def flag_table(db_engine: Engine) -> dict[str, list[FlagRow]]:
    """Every case's flag rows: (name, anchor_on, raised_on, cleared_on), sorted."""
    with db_engine.connect() as conn:
        rows = conn.execute(
            select(
                cases.c.reference,
                case_flags.c.name,
                case_flags.c.anchor_on,
                case_flags.c.raised_on,
                case_flags.c.cleared_on,
            ).join(cases, cases.c.id == case_flags.c.case_id)
        ).all()
    result: dict[str, list[FlagRow]] = {}
    for ref, *flag in rows:
        result.setdefault(ref, []).append(tuple(flag))  # type: ignore[arg-type]
    return {ref: sorted(flags, key=lambda f: (f[2], f[0], f[1])) for ref, flags in result.items()}


def event_table(db_engine: Engine) -> dict[str, list[tuple[int, str, dict[str, Any]]]]:
    """Every case's events: (seq, kind, data), in timeline order."""
    with db_engine.connect() as conn:
        rows = conn.execute(
            select(cases.c.reference, case_events.c.seq, case_events.c.kind, case_events.c.data)
            .join(cases, cases.c.id == case_events.c.case_id)
            .order_by(cases.c.reference, case_events.c.seq)
        ).all()
    result: dict[str, list[tuple[int, str, dict[str, Any]]]] = {}
    for ref, seq, kind, data in rows:
        result.setdefault(ref, []).append((seq, kind, data))
    return result


def flag_timeline(db_engine: Engine) -> dict[str, Counter[tuple[Any, ...]]]:
    """Each case's flag events as what happened when (occurred_at, kind, crossing, the date the
    event records), regardless of which sweep wrote them or in what order."""
    with db_engine.connect() as conn:
        rows = conn.execute(
            select(
                cases.c.reference,
                case_events.c.kind,
                case_events.c.occurred_at,
                case_events.c.data,
            )
            .join(cases, cases.c.id == case_events.c.case_id)
            .where(case_events.c.kind.in_(("flag_raised", "flag_cleared")))
        ).all()
    result: dict[str, Counter[tuple[Any, ...]]] = {}
    for ref, kind, occurred_at, data in rows:
        on = data["raised_on"] if kind == "flag_raised" else data["cleared_on"]
        key = (occurred_at, kind, data["flag"], data["anchor_on"], on)
        result.setdefault(ref, Counter())[key] += 1
    return result


def counts(db_engine: Engine) -> tuple[int, int]:
    with db_engine.connect() as conn:
        flags = conn.execute(select(func.count()).select_from(case_flags)).scalar_one()
        events = conn.execute(select(func.count()).select_from(case_events)).scalar_one()
    return int(flags), int(events)


def check_consistent(db_engine: Engine) -> None:
    """No duplicate crossing, no orphan or missing event, event numbering without gaps."""
    with db_engine.connect() as conn:
        case_rows = conn.execute(select(cases.c.id, cases.c.event_count)).all()
        known = {r.id for r in case_rows}
        events = conn.execute(
            select(case_events.c.case_id, case_events.c.seq, case_events.c.kind, case_events.c.data)
        ).all()
        flags = conn.execute(
            select(
                case_flags.c.case_id,
                case_flags.c.name,
                case_flags.c.anchor_on,
                case_flags.c.cleared_on,
            )
        ).all()
    assert {e.case_id for e in events} <= known, "events of no case"
    assert {f.case_id for f in flags} <= known, "flags of no case"
    for case_id, event_count in case_rows:
        seqs = sorted(e.seq for e in events if e.case_id == case_id)
        assert seqs == list(range(1, event_count + 1)), f"case {case_id}: seqs {seqs}"
    crossings = Counter((f.case_id, f.name, f.anchor_on.isoformat()) for f in flags)
    assert max(crossings.values(), default=1) == 1, "a crossing raised twice"
    raised = Counter(
        (e.case_id, e.data["flag"], e.data["anchor_on"]) for e in events if e.kind == "flag_raised"
    )
    cleared = Counter(
        (e.case_id, e.data["flag"], e.data["anchor_on"]) for e in events if e.kind == "flag_cleared"
    )
    assert raised == crossings, "every flag row has exactly one flag_raised event, and vice versa"
    assert cleared == Counter(
        (f.case_id, f.name, f.anchor_on.isoformat()) for f in flags if f.cleared_on is not None
    ), "every cleared flag has exactly one flag_cleared event"


def next_flag_on(db_engine: Engine, reference: str) -> date | None:
    with db_engine.connect() as conn:
        return conn.execute(
            select(cases.c.next_flag_on).where(cases.c.reference == reference)
        ).scalar_one()


# -- fixtures --------------------------------------------------------------------------------------


def make_sweeper(db_engine: Engine, settings: Settings, clock: FakeClock, **kwargs: Any) -> Sweeper:
    """A ``Sweeper`` wired exactly as the composition root wires it for the scheduler."""
    runner = build_sweep_runner(settings, db_engine=db_engine, clock=clock, **kwargs)
    return runner._sweeper


class World:
    """A database with its own service, clock and sweeper."""

    def __init__(self, db_engine: Engine, settings: Settings, clock: FakeClock) -> None:
        self.engine = db_engine
        self.clock = clock
        self.service = build_service(settings, db_engine=db_engine, clock=clock)
        self.refs: Refs = {}
        self.settings = settings

    def sweeper(self, **kwargs: Any) -> Sweeper:
        return make_sweeper(self.engine, self.settings, self.clock, **kwargs)

    def play(self, script: Script, **kwargs: Any) -> list[SweepSummary]:
        return play(self.service, self.clock, script, self.refs, **kwargs)


@pytest.fixture
def world(db_engine: Engine, settings: Settings) -> World:
    return World(db_engine, settings, FakeClock())


@pytest.fixture
def twin(
    db_url: str, request: pytest.FixtureRequest, tmp_path: Path, settings: Settings
) -> Iterator[World]:
    """A second, independent database of the same kind as ``db_url``."""
    server = None
    if db_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'twin.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        name = server.take_database()
        url = server.url_for(name)
    db_engine = create_db_engine(url)
    try:
        if server is None:
            upgrade(db_engine)
        yield World(db_engine, settings, FakeClock())
    finally:
        db_engine.dispose()
        if server is not None:
            server.drop_database(name)


# -- idempotence -----------------------------------------------------------------------------------


def test_a_second_sweep_of_the_same_day_changes_nothing(world: World) -> None:
    world.play(OPENING)
    world.clock.set(nightly(DN))
    sweeper = world.sweeper()

    first = sweeper.run(DN)
    after_first = (counts(world.engine), flag_table(world.engine), event_table(world.engine))
    second = sweeper.run(DN)

    assert first.cases_checked == 6 and first.cases_changed == 6
    assert sum(first.raised.values()) > 0
    assert second.cases_checked == 0 and second.cases_changed == 0
    assert (counts(world.engine), flag_table(world.engine), event_table(world.engine)) == (
        after_first
    )

    # Even when every case is visited again (next_flag_on forced back), nothing is raised twice.
    with world.engine.begin() as conn:
        conn.execute(update(cases).values(next_flag_on=DN))
    forced = sweeper.run(DN)
    assert forced.cases_checked == 6
    assert forced.cases_changed == 0
    assert not forced.raised and not forced.cleared
    assert counts(world.engine) == after_first[0]
    assert event_table(world.engine) == after_first[2]
    check_consistent(world.engine)


def test_the_first_sweep_raises_the_hand_counted_flags(world: World) -> None:
    world.play(OPENING)
    world.clock.set(nightly(DN))

    world.sweeper().run(DN)

    flags = flag_table(world.engine)
    # A: respond due Thu 18 Dec; due-soon Tue 16 (17 (1), 16 (2)); breached from Fri 19.
    # Its countdown runs from the acknowledgement, Thu 4 Dec: contact-due Tue 9 (5, 8, 9),
    # contact-overdue Thu 18 (10, 11, 12, 15, 16, 17, 18), manager-alert Mon 29 Dec
    # (19, 22, 23, 24, [25, 26 holidays], 29).
    a = {(n, r, c) for n, _, r, c in flags[world.refs["A"]]}
    assert ("respond:due-soon", date(2025, 12, 16), date(2025, 12, 18)) in a
    assert ("respond:due-today", date(2025, 12, 18), date(2025, 12, 19)) in a
    assert ("respond:breached", date(2025, 12, 19), None) in a
    assert ("contact-due", date(2025, 12, 9), None) in a
    assert ("contact-overdue", date(2025, 12, 18), None) in a
    assert ("manager-alert", date(2025, 12, 29), None) in a
    # A's acknowledgement was on time (due Wed 10 Dec, done Thu 4): no acknowledge flag.
    assert not any(n.startswith("acknowledge:") for n, _, _ in a)
    # C agreed every 5 working days from Wed 10 Dec: contact-due Wed 17 (11, 12, 15, 16, 17).
    c = {(n, r) for n, _, r, _ in flags[world.refs["C"]]}
    assert ("contact-due", date(2025, 12, 17)) in c
    assert not any(n == "contact-due" and r != date(2025, 12, 17) for n, r in c)
    check_consistent(world.engine)


# -- killed mid-run --------------------------------------------------------------------------------


class Killed(RuntimeError):
    pass


def test_a_sweep_killed_in_its_second_batch_and_rerun_ends_like_an_uninterrupted_one(
    world: World, twin: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    for w in (world, twin):
        w.play(OPENING)
        w.clock.set(nightly(DN))
    assert world.refs == twin.refs
    sweeper = world.sweeper(batch_size=2)
    assert sweeper.due_count(DN) == 6

    original = sweep_module._write
    calls = {"n": 0}

    def dies_in_batch_two(conn: Any, plan: Any) -> None:
        calls["n"] += 1
        original(conn, plan)
        if calls["n"] == 2:
            raise Killed("killed after writing batch 2, before its commit")

    monkeypatch.setattr(sweep_module, "_write", dies_in_batch_two)
    with pytest.raises(Killed):
        sweeper.run(DN)
    monkeypatch.undo()

    # Batch 1 (the two oldest cases) committed; batch 2 rolled back; batch 3 never started.
    assert sweeper.due_count(DN) == 4
    flagged = flag_table(world.engine)
    assert set(flagged) == {world.refs["A"], world.refs["B"]}
    check_consistent(world.engine)

    rerun = sweeper.run(DN)
    assert rerun.cases_checked == 4
    assert rerun.batches == 2
    uninterrupted = twin.sweeper(batch_size=2).run(DN)
    assert uninterrupted.cases_checked == 6 and uninterrupted.batches == 3

    assert flag_table(world.engine) == flag_table(twin.engine)
    assert event_table(world.engine) == event_table(twin.engine)
    assert counts(world.engine) == counts(twin.engine)
    check_consistent(world.engine)
    check_consistent(twin.engine)


# -- downtime catch-up -----------------------------------------------------------------------------


@pytest.mark.parametrize("with_commands", [False, True], ids=["sweeps-only", "with-commands"])
def test_flags_are_the_same_whether_swept_every_night_or_once_after_downtime(
    world: World, twin: World, with_commands: bool
) -> None:
    for w in (world, twin):
        w.play(OPENING)
    window = WINDOW if with_commands else []
    nights = world.play(window, sweeper=world.sweeper(), sweep_days=days(D0, DN))
    once = twin.play(window, sweeper=twin.sweeper(), sweep_days=[DN])

    assert len(nights) == 11
    assert world.refs == twin.refs
    assert sum(s.cases_checked for s in nights) > once[0].cases_checked
    assert flag_table(world.engine) == flag_table(twin.engine)
    # The same raises and clears on the same days on each timeline.
    assert flag_timeline(world.engine) == flag_timeline(twin.engine)
    with world.engine.connect() as conn:
        swept = dict(conn.execute(select(cases.c.reference, cases.c.next_flag_on)).all())
    with twin.engine.connect() as conn:
        assert dict(conn.execute(select(cases.c.reference, cases.c.next_flag_on)).all()) == swept
    check_consistent(world.engine)
    check_consistent(twin.engine)

    if with_commands:
        flags = flag_table(world.engine)
        # A responded late on Mon 22 Dec: the breach stays on record, cleared that day.
        assert ("respond:breached", date(2025, 12, 18), date(2025, 12, 19), date(2025, 12, 22)) in (
            flags[world.refs["A"]]
        )
        # D withdrawn on Wed 24 Dec: its countdown flags were cleared that day, nothing raised.
        assert all(f[3] is not None for f in flags[world.refs["D"]])


# -- contact, breach, listing ----------------------------------------------------------------------


def test_a_new_contact_clears_the_countdown_flags_and_restarts_the_count(
    world: World,
) -> None:
    world.play([(london(2025, 12, 19, 10), opener("X"))])
    ref = world.refs["X"]
    sweeper = world.sweeper()
    world.clock.set(nightly(date(2026, 1, 8)))
    sweeper.run(date(2026, 1, 8))
    # From Fri 19 Dec: contact-due Wed 24 Dec, contact-overdue Wed 7 Jan (tests/unit/test_flags).
    before = {f[0]: f for f in flag_table(world.engine)[ref] if f[0].startswith("contact")}
    assert before == {
        "contact-due": ("contact-due", date(2025, 12, 19), date(2025, 12, 24), None),
        "contact-overdue": ("contact-overdue", date(2025, 12, 19), date(2026, 1, 7), None),
    }
    assert [c.reference for c in world.service.find(CaseFilter(flag="contact-overdue"))] == [ref]

    world.play([(london(2026, 1, 8, 10), contact("X"))])

    after = [f for f in flag_table(world.engine)[ref] if f[0].startswith("contact")]
    assert after == [
        ("contact-due", date(2025, 12, 19), date(2025, 12, 24), date(2026, 1, 8)),
        ("contact-overdue", date(2025, 12, 19), date(2026, 1, 7), date(2026, 1, 8)),
    ]
    assert world.service.find(CaseFilter(flag="contact-due")) == []
    # The count restarts from Thu 8 Jan: Fri 9 (1), Mon 12 (2), Tue 13 (3).
    assert next_flag_on(world.engine, ref) == date(2026, 1, 13)
    assert sweeper.run(date(2026, 1, 12)).cases_checked == 0
    world.clock.set(nightly(date(2026, 1, 13)))
    assert sweeper.run(date(2026, 1, 13)).raised == Counter({"contact-due": 1})
    contact_rows = [f for f in flag_table(world.engine)[ref] if f[0] == "contact-due"]
    assert contact_rows == [
        ("contact-due", date(2025, 12, 19), date(2025, 12, 24), date(2026, 1, 8)),
        ("contact-due", date(2026, 1, 8), date(2026, 1, 13), None),  # a new crossing
    ]
    kinds = [(k, d["flag"], d["anchor_on"]) for _, k, d in event_table(world.engine)[ref][-3:]]
    assert kinds[-1] == ("flag_raised", "contact-due", "2026-01-08")
    check_consistent(world.engine)


@pytest.fixture
def breached_and_on_time(world: World) -> tuple[str, str]:
    """X and Y acknowledged Tue 2 Dec (respond due Tue 16 Dec: 3, 4, 5, 8, 9, 10, 11, 12, 15, 16);
    Y responded on time on Fri 5 Dec; swept on Thu 18 Dec (X breached since Wed 17)."""
    world.play(
        [
            (london(2025, 12, 1, 10), opener("X")),
            (london(2025, 12, 1, 10, 5), opener("Y")),
            (london(2025, 12, 2, 10), acknowledge("X")),
            (london(2025, 12, 2, 10, 5), acknowledge("Y")),
            (london(2025, 12, 5, 10), respond("Y")),
        ],
        sweeper=world.sweeper(),
        sweep_days=[date(2025, 12, 18)],
    )
    return world.refs["X"], world.refs["Y"]


def listed(service: ComplaintsService, flag: str) -> set[str]:
    return {c.reference for c in service.find(CaseFilter(flag=flag))}


def test_a_late_response_keeps_the_breach_on_record_but_ends_its_listing(
    world: World, breached_and_on_time: tuple[str, str]
) -> None:
    x, y = breached_and_on_time
    assert listed(world.service, "breached") == {x}

    world.play([(london(2025, 12, 18, 10), respond("X"))])

    assert listed(world.service, "breached") == set()
    assert ("respond:breached", date(2025, 12, 16), date(2025, 12, 17), date(2025, 12, 18)) in (
        flag_table(world.engine)[x]
    )
    timeline = [(k, d["flag"]) for _, k, d in event_table(world.engine)[x] if k.startswith("flag")]
    assert timeline.count(("flag_raised", "respond:breached")) == 1
    assert timeline.count(("flag_cleared", "respond:breached")) == 1
    # Y was on time: never breached, on record or otherwise.
    assert not any("breached" in f[0] for f in flag_table(world.engine).get(y, []))

    # Later sweeps never raise the same crossing again.
    later = world.sweeper()
    for day in days(date(2025, 12, 19), date(2025, 12, 31)):
        world.clock.set(nightly(day))
        later.run(day)
    breaches = [f for f in flag_table(world.engine)[x] if f[0] == "respond:breached"]
    assert breaches == [
        ("respond:breached", date(2025, 12, 16), date(2025, 12, 17), date(2025, 12, 18))
    ]
    check_consistent(world.engine)


def test_cases_are_listed_by_flag_level_or_by_full_flag_name(
    world: World, breached_and_on_time: tuple[str, str]
) -> None:
    x, y = breached_and_on_time

    assert listed(world.service, "breached") == {x}
    assert listed(world.service, "respond:breached") == {x}
    assert listed(world.service, "acknowledge:breached") == set()
    assert listed(world.service, "due-today") == set()  # X's was cleared on Wed 17
    assert listed(world.service, "respond:due-soon") == set()
    # X's countdown from Tue 2 Dec: contact-overdue on Tue 16 Dec (10 working days).
    # Y's from its response on Fri 5 Dec: contact-due Wed 10, contact-overdue Fri 19 (not yet).
    assert listed(world.service, "contact-overdue") == {x}
    assert listed(world.service, "contact-due") == {x, y}
    assert listed(world.service, "critical") == set()
    only_x = world.service.find(CaseFilter(flag="breached", area="north", is_open=True))
    assert [c.reference for c in only_x] == [x]


# -- only due cases are read -----------------------------------------------------------------------


def test_only_cases_whose_flags_change_by_the_date_are_visited(
    world: World, db_engine: Engine
) -> None:
    # 3 cases received Mon 1 Dec: next change Thu 4 Dec (contact-due 3 working days later, and
    # acknowledge due-soon: due Mon 8, two working days before = Thu 4).
    # 17 received Wed 3 Dec: next change Mon 8 Dec (contact-due; due-soon of Wed 10 is Mon 8).
    script: Script = [(london(2025, 12, 1, 10, i), opener(f"early{i}")) for i in range(3)]
    script += [(london(2025, 12, 3, 10, i), opener(f"late{i}")) for i in range(17)]
    world.play(script)
    sweeper = world.sweeper()
    assert sweeper.due_count(date(2025, 12, 4)) == 3
    assert sweeper.due_count(date(2025, 12, 8)) == 20

    world.clock.set(nightly(date(2025, 12, 4)))
    summary = sweeper.run(date(2025, 12, 4))

    assert summary.cases_checked == 3
    assert summary.cases_changed == 3
    assert summary.raised == Counter({"contact-due": 3, "due-soon": 3})
    assert set(flag_table(db_engine)) == {world.refs[f"early{i}"] for i in range(3)}
    assert sweeper.due_count(date(2025, 12, 4)) == 0
    assert sweeper.due_count(date(2025, 12, 8)) == 20


# -- back-dated commands ---------------------------------------------------------------------------


def backdated_respond(name: str, at: datetime) -> Action:
    return lambda service, refs: service.respond(
        refs[name], actor="alice", decision="not-upheld", reasons="Done in time", at=at
    )


def backdated_contact(name: str, at: datetime) -> Action:
    return lambda service, refs: service.record_contact(
        refs[name], actor="alice", direction="outbound", channel="phone", at=at
    )


# G: acknowledged Tue 2 Dec -> respond due Tue 16 Dec (3, 4, 5, 8, 9, 10, 11, 12, 15, 16),
#    due-soon Fri 12, breached from Wed 17. The response was sent on Mon 15 Dec (on time) but
#    only recorded on Fri 19 Dec, back-dated.
# H: received Mon 1 Dec -> contact-due Thu 4 Dec (2, 3, 4). The resident was called on Wed 3 Dec;
#    the call was only recorded on Fri 5 Dec, back-dated.
BACKDATED: Script = [
    (london(2025, 12, 1, 10), opener("G")),
    (london(2025, 12, 1, 10, 5), opener("H")),
    (london(2025, 12, 2, 10), acknowledge("G")),
    (london(2025, 12, 5, 10), backdated_contact("H", london(2025, 12, 3, 15))),
    (london(2025, 12, 19, 10), backdated_respond("G", london(2025, 12, 15, 14))),
]


def test_back_dated_commands_leave_the_same_flags_whether_swept_every_night_or_once(
    world: World, twin: World
) -> None:
    world.play(BACKDATED, sweeper=world.sweeper(), sweep_days=days(date(2025, 12, 2), DN))
    twin.play(BACKDATED, sweeper=twin.sweeper(), sweep_days=[DN])

    # Swept once: what the rules say given everything that happened.
    once = flag_table(twin.engine)
    g, h = twin.refs["G"], twin.refs["H"]
    assert [f for f in once[g] if f[0].startswith("respond:")] == [
        ("respond:due-soon", date(2025, 12, 16), date(2025, 12, 12), date(2025, 12, 15))
    ]
    assert not any(f[1] == date(2025, 12, 1) for f in once.get(h, []) if f[0] == "contact-due")

    assert flag_table(world.engine) == once


def test_agreeing_an_interval_is_a_contact_that_restarts_the_countdown_on_the_new_interval(
    world: World,
) -> None:
    world.play(
        [
            (london(2025, 12, 1, 10), opener("K")),
            (
                london(2025, 12, 5, 10),
                lambda s, r: s.agree_updates(r["K"], actor="alice", every=5),
            ),
        ],
        sweeper=world.sweeper(),
        sweep_days=days(date(2025, 12, 2), date(2025, 12, 5)),
    )
    ref = world.refs["K"]
    # contact-due was raised Thu 4 Dec (3 working days after Mon 1 Dec). Agreeing the interval
    # on Fri 5 Dec is a conversation with the resident: the old countdown's flag is cleared that
    # day and the new one runs 5 working days from it: Mon 8 (1), 9, 10, 11, Fri 12 Dec (5).
    case = world.service.get(ref)
    old = [f for f in case.flags if f.name == "contact-due"]
    assert [(f.raised_on, f.cleared_on) for f in old] == [(date(2025, 12, 4), date(2025, 12, 5))]
    for day in days(date(2025, 12, 8), date(2025, 12, 11)):
        world.clock.set(nightly(day))
        world.sweeper().run(day)
        assert listed(world.service, "contact-due") == set()
    world.clock.set(nightly(date(2025, 12, 12)))
    world.sweeper().run(date(2025, 12, 12))

    assert listed(world.service, "contact-due") == {ref}

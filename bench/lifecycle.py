"""Benchmark a case's lifecycle through ``ComplaintsService`` against the floor any design pays.

Run from the repository root (a measurement, not a test; exit 1 only if a correctness check fails):

    python bench/lifecycle.py [--cases 2000] [--quick] [--skip-pg] [--profile] [--backdate]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Per case: open, acknowledge, record_contact, respond, a transaction each through the public API,
on a fresh migrated SQLite file and on a PostgreSQL database made for the run (dropped after). The
fake clock reads each step's time (``--backdate``: fixed 30 days after receipt, so commands catch
up SLA flags). Interleaved with it, the floor: one row inserted and committed per command (sqlite3
in WAL mode; psycopg 3 on the same server); engine/bare ratios (PostgreSQL target <= 3). Then the
cost of binding a case to the workflow machine: the shared ``WorkflowMachine.fire`` vs a
``transitions.Machine`` per case (time, tracemalloc memory). ``--profile``: top functions of 200
PostgreSQL lifecycles on stderr. ``--quick``: CI smoke test (``--skip-pg``: no PostgreSQL needed).

The floor: every statement and commit the PostgreSQL run sent is recorded at the psycopg level
and replayed on a second fresh database through raw psycopg, with the same round trips: what the
database work of those commands costs with no engine code at all, as a ratio to the bare loop.
"""

# The sys.path fix below has to run before the project and third-party imports.
# ruff: noqa: E402

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import sqlite3
import sys
import tempfile
import time
import timeit
import tracemalloc
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NamedTuple

# ``python bench/lifecycle.py`` puts bench/ first on sys.path, where bench/calendar.py would shadow
# the standard library's ``calendar`` (``holidays`` imports it): swap that entry for the repo root.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import psycopg
import sqlalchemy
import transitions
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url

from adapters.bootstrap import build_service
from adapters.db.connection import create_db_engine
from adapters.db.migrate import upgrade
from adapters.logging import configure_logging
from adapters.settings import Settings, load_settings
from bench._common import CheckFailed, check, fresh_pg_database, libpq
from engine.commands import open_case
from engine.definition import StepContext
from engine.machine import WorkflowMachine, _transition
from engine.model import Case
from workflows import COMPLAINT

RECEIVED = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)  # a Monday; the steps follow on weekdays
STEPS_AT = [RECEIVED + timedelta(days=d) for d in range(4)]  # open, ack, contact, respond
NOW = RECEIVED + timedelta(days=30)  # the fixed clock of --backdate
CONTACT: dict[str, Any] = {"direction": "outbound", "channel": "phone", "made": True}
KINDS = ("open", "acknowledge", "contact", "respond")
SLICE = 50  # cases between slices of the bare loop
TARGET_PG_RATIO = 3.0
COUNTS = (
    "SELECT (SELECT count(*) FROM case_events), (SELECT count(*) FROM case_events WHERE actor ="
    " 'bench'), (SELECT count(*) FROM cases WHERE state = 'stage1_responded')"
)


class Result(NamedTuple):
    spent: dict[str, float]  # engine seconds by command kind
    cpu: float  # this process's CPU seconds in those commands (the rest is waiting on the DB)
    statements: int  # SQL statements SQLAlchemy sent
    events: int  # events stored, flag events included
    bare: float  # seconds for the bare loop's 4 * cases commits
    floor: tuple[float, float] | None = None  # (wall, CPU) of the replay, PostgreSQL only


def lifecycle(
    db_engine: Engine,
    settings: Settings,
    cases: int,
    backdate: bool,
    bare: Bare | None = None,
    recorder: Recorder | None = None,
) -> Result:
    """Run and check ``cases`` lifecycles, one transaction per command, through the public API;
    ``bare`` runs its slices in between, so both see the same load on a busy machine."""
    now = [NOW]
    service = build_service(settings, db_engine=db_engine, clock=lambda: now[0], auto_upgrade=True)
    statements, spent, cpu = [0], dict.fromkeys(KINDS, 0.0), 0.0

    counting = [True]  # off while the bare loop runs between commands

    def count(*_: Any) -> None:
        if counting[0]:
            statements[0] += 1

    def at(step: int) -> datetime:  # the step's time, and "now" too unless back-dating
        now[0] = NOW if backdate else STEPS_AT[step]
        return STEPS_AT[step]

    # On PostgreSQL the command path sends most statements on the psycopg connection directly
    # (adapters/db/pg_command.py): count there, where SQLAlchemy's statements pass too, and keep
    # them for the floor's replay.
    counted = recorder.install(counting) if recorder is not None else None
    if counted is None:
        event.listen(db_engine, "before_cursor_execute", count)
    for i in range(cases):
        if bare is not None and i % SLICE == 0:
            counting[0] = False
            bare(4 * min(SLICE, cases - i))
            counting[0] = True
        cpu -= time.process_time()
        t0 = time.perf_counter()
        ref = service.open(
            actor="bench",
            category="repairs",
            channel="phone",
            area="north",
            received_at=at(0),
            summary=f"leaking roof {i}",
            understanding="the roof leaks",
            desired_outcome="fix the roof",
        ).reference
        t1 = time.perf_counter()
        service.acknowledge(ref, actor="bench", at=at(1), handler="handler-a")
        t2 = time.perf_counter()
        service.record_contact(ref, actor="bench", at=at(2), **CONTACT)
        t3 = time.perf_counter()
        service.respond(ref, actor="bench", at=at(3), decision="not-upheld", reasons="none")
        t4 = time.perf_counter()
        cpu += time.process_time()
        for kind, seconds in zip(KINDS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            spent[kind] += seconds
    if counted is None:
        event.remove(db_engine, "before_cursor_execute", count)
    else:
        counted()
        statements[0] = recorder.statements if recorder is not None else 0
    with db_engine.connect() as conn:
        events, mine, responded = conn.execute(text(COUNTS)).one()
    check(
        mine == 4 * cases and responded == cases,
        f"{db_engine.dialect.name}: {responded:,} of {cases:,} cases stage1_responded,"
        f" {mine:,} command events (4 per case), {events:,} events in all",
    )
    return Result(spent, cpu, statements[0], events, 0.0)


class Recorder:
    """Every statement and commit the engine sends through psycopg (the PostgreSQL command path
    goes to the driver directly, SQLAlchemy's statements pass there too), kept for ``replay``."""

    def __init__(self) -> None:
        self.log: list[tuple[Any, ...]] = []
        self.statements = 0

    def install(self, on: list[bool]) -> Callable[[], None]:
        """Record while ``on[0]``; returns the undo."""
        real = psycopg.Cursor.execute, psycopg.Cursor.executemany, psycopg.Connection.commit
        log = self.log

        def execute(cur: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
            if on[0]:
                self.statements += 1
                raw, piped = isinstance(cur, psycopg.RawCursor), cur.connection._pipeline
                log.append(("execute", query, params, raw, piped is not None))
            return real[0](cur, query, params, **kwargs)

        def executemany(cur: Any, query: Any, params: Any, **kwargs: Any) -> Any:
            params = list(params)
            if on[0]:
                self.statements += 1
                log.append(("executemany", query, params))
            return real[1](cur, query, params, **kwargs)

        def commit(conn: Any) -> None:
            if on[0]:
                log.append(("commit",))
            real[2](conn)

        patched = psycopg.Cursor, psycopg.Connection
        patched[0].execute, patched[0].executemany = execute, executemany  # type: ignore[method-assign]
        patched[1].commit = commit  # type: ignore[method-assign]

        def undo() -> None:
            patched[0].execute, patched[0].executemany = real[0], real[1]  # type: ignore[method-assign]
            patched[1].commit = real[2]  # type: ignore[method-assign]

        return undo


def replay(url: str, log: list[tuple[Any, ...]]) -> tuple[float, float]:
    """Send the recorded statements again, on a fresh migrated database, through raw psycopg
    and with the same round trips (pipelined groups stay pipelined): the database work of the
    commands with no engine code. Returns (wall, CPU) seconds."""
    db_engine = create_db_engine(url)
    try:
        upgrade(db_engine)
    finally:
        db_engine.dispose()
    with psycopg.connect(libpq(make_url(url))) as conn:
        plain, raw = conn.cursor(), psycopg.RawCursor(conn)
        start, cpu, i = time.perf_counter(), time.process_time(), 0
        while i < len(log):
            entry = log[i]
            if entry[0] == "commit":
                conn.commit()
            elif entry[0] == "executemany":
                plain.executemany(entry[1], entry[2])
            elif entry[4]:  # a pipelined group: send it as one
                with conn.pipeline():
                    while i < len(log) and log[i][0] == "execute" and log[i][4]:
                        cur = raw if log[i][3] else plain
                        cur.execute(log[i][1], log[i][2], prepare=True)
                        i += 1
                i -= 1
                (raw if entry[3] else plain).fetchall()
            else:
                cur = raw if entry[3] else plain
                cur.execute(entry[1], entry[2], prepare=True)
                if cur.description is not None:
                    cur.fetchall()
            i += 1
        return time.perf_counter() - start, time.process_time() - cpu


class Bare:
    """The floor: one row inserted and committed per command (sqlite3 or psycopg connection)."""

    def __init__(self, conn: Any, mark: str) -> None:
        self.conn, self.rows, self.seconds = conn, 0, 0.0
        self.insert = f"INSERT INTO bare VALUES ({mark}, {mark}, {mark})"
        conn.execute("CREATE TABLE bare (id integer PRIMARY KEY, body text, at timestamptz)")
        conn.commit()

    def __call__(self, commands: int) -> None:
        start = time.perf_counter()
        for i in range(self.rows, self.rows + commands):
            self.conn.execute(self.insert, (i, f"command {i}", NOW.isoformat()))
            self.conn.commit()
        self.seconds += time.perf_counter() - start
        self.rows += commands


def measure(
    url: str,
    run: tuple[Settings, int, bool],
    conn: Any,
    mark: str,
    what: str,
    replay_url: str | None = None,
) -> Result:
    """The engine's run with the bare loop interleaved; with ``replay_url`` (PostgreSQL), the
    engine's statements are recorded and replayed there after it."""
    bare = Bare(conn, mark)
    db_engine = create_db_engine(url)
    recorder = Recorder() if replay_url is not None else None
    try:
        result = lifecycle(db_engine, *run, bare, recorder)
    finally:
        db_engine.dispose()
    rows = conn.execute("SELECT count(*) FROM bare").fetchone()[0]
    check(rows == bare.rows == 4 * run[1], f"{what} bare loop: {rows:,} rows, a commit each")
    floor = None
    if replay_url is not None and recorder is not None:
        floor = replay(replay_url, recorder.log)
        with psycopg.connect(libpq(make_url(replay_url))) as check_conn:
            mine = check_conn.execute("SELECT count(*) FROM case_events WHERE actor = 'bench'")
            replayed = mine.fetchone()
        check(
            replayed is not None and replayed[0] == 4 * run[1],
            f"replay: the recorded statements stored {replayed and replayed[0]:,} command events",
        )
    return result._replace(bare=bare.seconds, floor=floor)


def profile_postgres(run: tuple[Settings, int, bool], server_url: str) -> None:
    profiler = cProfile.Profile()
    with fresh_pg_database(server_url, "bench_lifecycle") as url:
        db_engine = create_db_engine(url)
        try:
            profiler.runcall(lifecycle, db_engine, *run)
        finally:
            db_engine.dispose()
    print(f"\ncProfile, {run[1]} PostgreSQL lifecycles, top 12 cumulative:", file=sys.stderr)
    pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(12)


def machine_costs(settings: Settings, cases: int, fires: int) -> list[tuple[str, float, float]]:
    """(what, microseconds, KB kept per case) for each way of running ``contact`` on a case."""
    policy = settings.policies.resolve(settings.default_policy, RECEIVED.date())
    calendar = settings.calendar(settings.default_calendar)

    def new_case() -> tuple[Case, StepContext]:
        case = Case(
            reference="CMP-BENCH",
            workflow=COMPLAINT.name,
            state=COMPLAINT.initial,
            policy_id=policy.id,
            policy_version=policy.version,
            calendar=calendar.name,
            calendar_fingerprint=calendar.fingerprint,
            received_at=RECEIVED,
            channel="phone",
            category="repairs",
            area="north",
        )
        open_case(COMPLAINT, case, actor="b", now=NOW, policy=policy, calendar=calendar, data={})
        at, source = STEPS_AT[2], case.state
        return case, StepContext(case, source, CONTACT, "bench", at, policy, calendar)

    machine, (case, ctx) = WorkflowMachine(COMPLAINT), new_case()

    def plain() -> None:  # what fire() checks, without transitions: the step and its guards
        step = COMPLAINT.step("contact", case.state)
        if step is None or any(guard(ctx) is not None for guard in step.guards):
            raise CheckFailed("contact refused")

    plain_us = min(timeit.repeat(plain, number=fires, repeat=5)) / fires * 1e6
    shared_us = min(
        timeit.repeat(lambda: machine.fire(case, "contact", ctx), number=fires, repeat=5)
    )
    spec = [_transition(step) for step in COMPLAINT.steps]  # built once: generous to per-case
    many = [new_case() for _ in range(cases)]

    def per_case() -> list[transitions.Machine]:
        kept = []
        for _, context in many:
            model = SimpleNamespace()  # Case has slots: transitions cannot decorate it
            kept.append(
                transitions.Machine(
                    model=model,
                    states=list(COMPLAINT.states),
                    transitions=spec,
                    initial=COMPLAINT.initial,
                    auto_transitions=False,
                    send_event=True,
                )
            )
            model.trigger("contact", ctx=context)
        return kept

    def shared() -> None:
        for one, context in many:
            machine.fire(one, "contact", context)

    def kept_kb(fn: Callable[[], object]) -> float:
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            _kept = fn()  # alive until measured
            gc.collect()
            return (tracemalloc.get_traced_memory()[0] - before) / cases / 1024
        finally:
            tracemalloc.stop()

    per_case_us = min(timeit.repeat(per_case, number=1, repeat=3)) / cases * 1e6
    return [
        ("plain call: step lookup + guards, per call", plain_us, 0.0),
        ("shared WorkflowMachine.fire, per fire", shared_us / fires * 1e6, kept_kb(shared)),
        ("transitions.Machine per case: build + fire", per_case_us, kept_kb(per_case)),
    ]


def report(results: dict[str, Result], cases: int) -> None:
    commands = 4 * cases
    print(
        f"\n{'4 commands per case':<20}{'engine/s':>9}{'ms/cmd':>8}{'CPU ms':>8}{'SQL/cmd':>8}"
        f"{'events':>7}{'bare/s':>8}{'ms/cmd':>8}{'ratio':>7}{'target':>8}{'met':>5}"
    )
    for name, (spent, cpu, statements, events, bare, _floor) in results.items():
        total = sum(spent.values())
        ratio, target, met = total / bare, "-", "-"
        if name == "postgresql":
            target, met = f"<= {TARGET_PG_RATIO:.0f}", "yes" if ratio <= TARGET_PG_RATIO else "NO"
        print(
            f"{name:<20}{commands / total:>9,.0f}{total / commands * 1e3:>8.2f}"
            f"{cpu / commands * 1e3:>8.2f}{statements / commands:>8.1f}{events / cases:>7.1f}"
            f"{commands / bare:>8,.0f}{bare / commands * 1e3:>8.2f}{ratio:>6.1f}x"
            f"{target:>8}{met:>5}"
        )
    print(
        "CPU ms: this process's CPU per command (the rest of ms/cmd waits on the database);"
        "\nSQL/cmd: statements sent, BEGIN and COMMIT not counted (on PostgreSQL: the lock and the"
        " read in one round trip, then all writes as one statement); events: stored per case,"
        " flag events included"
    )
    for name, result in results.items():
        if result.floor is None:
            continue
        wall, cpu = result.floor
        engine = sum(result.spent.values())
        print(
            f"\nfloor ({name}): the engine's statements replayed through raw psycopg, same round"
            f" trips, no engine code: {wall / commands * 1e3:.2f} ms/cmd,"
            f" {cpu / commands * 1e3:.2f} ms CPU, {wall / result.bare:.1f}x the bare loop; the"
            f" engine adds {(engine - wall) / commands * 1e3:.2f} ms/cmd"
        )
    print(f"\n{'engine ms/command':<20}" + "".join(f"{k:>12}" for k in KINDS))
    for name, result in results.items():
        print(f"{name:<20}" + "".join(f"{result.spent[k] / cases * 1e3:>12.2f}" for k in KINDS))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, help="lifecycles per database (2,000; 50 quick)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a CI smoke test")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--skip-pg", action="store_true", help="SQLite and the machine only")
    parser.add_argument("--profile", action="store_true", help="cProfile 200 PG lifecycles")
    parser.add_argument("--backdate", action="store_true", help="clock fixed 30 days on")
    args = parser.parse_args(argv)
    cases = args.cases or (50 if args.quick else 2_000)
    if cases < 1:
        parser.error("--cases must be at least 1")
    configure_logging(json=True, level="WARNING")  # an INFO line per command is not the engine
    settings = load_settings()
    clock = f"fixed at {NOW:%Y-%m-%d}" if args.backdate else "at each step's time"
    print(
        f"lifecycle: {cases:,} cases x 4 commands ({', '.join(KINDS)}), a transaction each;"
        f" clock {clock}\nPython {sys.version.split()[0]}, SQLAlchemy"
        f" {sqlalchemy.__version__}, psycopg {psycopg.__version__}, transitions"
        f" {transitions.__version__}, SQLite {sqlite3.sqlite_version}\n\ncorrectness"
    )
    run, results = (settings, cases, args.backdate), dict[str, Result]()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bench-lifecycle-") as folder,
            closing(sqlite3.connect(Path(folder) / "bare.db")) as lite,
        ):
            lite.execute("PRAGMA journal_mode=WAL")  # synchronous stays FULL, as in the app
            results["sqlite (file, WAL)"] = measure(
                f"sqlite:///{folder}/e.db", run, lite, "?", "sqlite3"
            )
        if not args.skip_pg:
            with (
                fresh_pg_database(args.pg_url, "bench_lifecycle") as url,
                fresh_pg_database(args.pg_url, "bench_replay") as replay_url,
                psycopg.connect(libpq(make_url(url))) as pg,  # autocommit off
            ):
                results["postgresql"] = measure(url, run, pg, "%s", "psycopg", replay_url)
        bound = machine_costs(settings, *((200, 2_000) if args.quick else (2_000, 20_000)))
    except CheckFailed as exc:
        print(f"  FAILED  {exc}", file=sys.stderr)
        return 1
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL unavailable ({exc}); --skip-pg runs without it", file=sys.stderr)
        return 2
    report(results, cases)
    print(f"\n{'binding a case to the machine (contact)':<46}{'us':>10}{'KB/case':>10}")
    for what, micros, kb in bound:
        print(f"{what:<46}{micros:>10.1f}{kb:>10.2f}")
    if args.profile and not args.skip_pg:
        print("\nprofile run (cProfile output on stderr)")
        profile_postgres((settings, 200, args.backdate), args.pg_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark the coordinators' work queue (and the background job queue) on PostgreSQL.

Run from the repository root (a measurement, not a test; exit 1 only if a correctness check fails):

    python bench/queue.py [--items 20000] [--seconds 10] [--quick]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

A fresh database (made for the run, dropped after it, even on error) is migrated and filled in
bulk: ``--items`` open work items, two kinds each on half as many cases, with a realistic spread
of priorities (deadline rank, contact-countdown level, care) and 5% on restricted cases, which
the claimers may not take. Then, for 1, 4 and 8 concurrent claimer processes (spawned; each with
its own ``ComplaintsService`` and connection pool, like separate coordinators' sessions), two
rounds each of ``--seconds`` (or until the queue is empty): claims only (``service.claim``: the
issue's "claims per second", handing an item to a coordinator, one committed transaction), then
claim + complete (``service.claim`` then ``service.complete``, a transaction each: the whole
cycle, two commits). Between rounds the items are reopened and the table vacuumed, so each round
starts on the same queue. Checked after each round: every item was claimed (or finished) by the
one claimer it was handed to (the per-claimer counts equal the rows each holds or closed). Each
line also shows the claimers' own CPU per claim (Python, SQLAlchemy and psycopg; not the
server's).

Then the job throughput: the same on the ``jobs`` table with ``adapters.jobs.Worker`` and a no-op
handler (the queue machinery, not delivery), when ``adapters.jobs`` provides a worker; else n/a.

Target: at least 1,000 claims per second with 8 claimers. The floor printed first is one
single-row commit on this server: every claim pays two (claim, then complete), so on a machine
whose WAL flush takes milliseconds that, not the queue, bounds a claimer. ``--async-commit``
runs the claimers' sessions with ``synchronous_commit=off`` to show the rate without that bound
(a diagnosis, not a production setting). ``--quick``: 2,000 items, 2 seconds a round (CI smoke
test). If PostgreSQL cannot be reached, a line says so and the exit code is 0.
"""

# The sys.path fix below has to run before the project and third-party imports.
# ruff: noqa: E402

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent

if __name__ == "queue":
    # Imported as the standard library's ``queue`` by a script in bench/ (``python
    # bench/sweep.py`` puts bench/ first on sys.path and imports ``queue`` before fixing it):
    # stand aside and hand over the real module.
    import importlib

    del sys.modules["queue"]
    _saved = sys.path[:]
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
    try:
        sys.modules["queue"] = importlib.import_module("queue")
    finally:
        sys.path[:] = _saved
else:
    # ``python bench/queue.py`` puts bench/ first on sys.path, where this file would shadow the
    # standard library's ``queue`` and bench/calendar.py its ``calendar``: swap it for the root.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
    sys.path.insert(0, str(_HERE.parent))

import argparse
import multiprocessing
import os
import platform
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Barrier
from typing import Any

import psycopg
import sqlalchemy
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.engine import make_url

from adapters.bootstrap import build_service
from adapters.db.connection import create_db_engine, normalise_url
from adapters.db.migrate import upgrade
from adapters.db.tables import cases, jobs, work_items
from adapters.logging import configure_logging
from adapters.settings import load_settings
from bench._common import CheckFailed, check, fresh_pg_database, libpq
from engine.queue import QueueFilter

REPO = _HERE.parent
CLAIMERS = (1, 4, 8)
TARGET_CLAIMS_PER_S = 1_000.0
SEED = 20_250_602
START = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
RESTRICTED_SHARE = 0.05
CATEGORIES = ("repairs", "damp-and-mould", "asb", "housing-tenancy", "other")
AREAS = ("north", "south", "east", "west", "centre")
KINDS = ("acknowledge", "respond", "contact", "action", "stage2-acknowledge")
DEADLINE_MIX = (0.10, 0.10, 0.20, 0.60)  # breached, due today, due soon, none
CONTACT_MIX = (0.60, 0.20, 0.10, 0.06, 0.04)  # no countdown flag, then levels 1-4


# -- the database --------------------------------------------------------------------------------


def unreachable(server_url: str) -> str | None:
    """Why the server cannot be used, or ``None``."""
    try:
        with psycopg.connect(libpq(make_url(server_url)), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        lines = str(exc).strip().splitlines()
        return lines[0] if lines else type(exc).__name__
    return None


def load(db_engine: Engine, items: int, seed: int) -> int:
    """``items`` open work items on ``items // 2`` cases; returns how many claimers may take."""
    rng = random.Random(seed)
    n_cases = max(1, items // 2)
    case_rows = []
    for n in range(n_cases):
        received = START - timedelta(minutes=rng.randrange(60 * 24 * 60))
        case_rows.append(
            {
                "reference": f"CMP-2025-{n + 1:06d}",
                "workflow": "complaint",
                "state": "stage1",
                "is_open": True,
                "version": 1,
                "event_count": 1,
                "policy_id": "hoc-2024",
                "policy_version": 1,
                "calendar": "england-and-wales",
                "calendar_fingerprint": "bench",
                "received_at": received,
                "received_on": received.date(),
                "channel": "phone",
                "category": rng.choice(CATEGORIES),
                "area": rng.choice(AREAS),
                "tenure": "lcra",
                "vulnerabilities": [],
                "health_and_safety": False,
                "restricted": rng.random() < RESTRICTED_SHARE,
                "priority": "normal",
                "created_at": START,
                "updated_at": START,
                "records": {},
            }
        )
    with db_engine.begin() as conn:
        ids = list(conn.execute(insert(cases).returning(cases.c.id), case_rows).scalars())
        item_rows = []
        for n in range(items):
            case = case_rows[n % n_cases]
            kind = KINDS[(n // n_cases) % len(KINDS)]
            deadline = rng.choices(range(4), DEADLINE_MIX)[0]
            contact = rng.choices(range(5), CONTACT_MIX)[0] if kind == "contact" else 0
            item_rows.append(
                {
                    "case_id": ids[n % n_cases],
                    "kind": kind,
                    "status": "open",
                    "team": "complaints",
                    "restricted": case["restricted"],
                    "p_deadline": 3 if kind == "contact" else deadline,
                    "p_contact": contact,
                    "p_care": 1 if rng.random() < 0.1 else 0,
                    "received_at": case["received_at"],
                    "reason": f"{kind} (bench)",
                    "due_on": START.date(),
                    "created_at": START,
                }
            )
        conn.execute(insert(work_items), item_rows)
        claimable = conn.execute(
            select(func.count()).where(work_items.c.restricted.is_(False))
        ).scalar_one()
    vacuum(db_engine)
    return int(claimable)


def vacuum(db_engine: Engine) -> None:
    with psycopg.connect(libpq(db_engine.url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE work_items")
        conn.execute("VACUUM ANALYZE jobs")
        conn.execute("ANALYZE cases")


def reopen_items(db_engine: Engine) -> None:
    with db_engine.begin() as conn:
        conn.execute(
            work_items.update().values(
                status="open",
                claimed_by=None,
                claimed_at=None,
                lease_until=None,
                closed_at=None,
                closed_by=None,
                outcome=None,
            )
        )
    vacuum(db_engine)


def queue_jobs(db_engine: Engine, count: int) -> None:
    with db_engine.begin() as conn:
        conn.execute(jobs.delete())
        conn.execute(
            insert(jobs),
            [
                {
                    "kind": "bench",
                    "case_id": None,
                    "payload": {"n": n},
                    "status": "queued",
                    "attempts": 0,
                    "max_attempts": 5,
                    "run_after": START,
                    "created_at": START,
                }
                for n in range(count)
            ],
        )
    vacuum(db_engine)


# -- the claimer processes -------------------------------------------------------------------------


@dataclass(frozen=True)
class Done:
    """What one process did: how many claims (or jobs) in how many seconds."""

    who: str
    count: int
    seconds: float
    cpu: float = 0.0  # the process's own CPU seconds (client side: Python, SQLAlchemy, psycopg)


def session_args(async_commit: bool) -> dict[str, Any]:
    options = {"options": "-c synchronous_commit=off"} if async_commit else {}
    return {"connect_args": options}


def claimer(
    url: str, who: str, seconds: float, ready: Barrier, results: Any, async_commit: bool
) -> None:
    """Claim and complete items through the service until ``seconds`` pass or none is left."""
    claim_loop(url, who, seconds, ready, results, async_commit, complete=True)


def claim_only(
    url: str, who: str, seconds: float, ready: Barrier, results: Any, async_commit: bool
) -> None:
    """Claim items (each claim a committed lease) until ``seconds`` pass or none is left."""
    claim_loop(url, who, seconds, ready, results, async_commit, complete=False)


def claim_loop(
    url: str,
    who: str,
    seconds: float,
    ready: Barrier,
    results: Any,
    async_commit: bool,
    *,
    complete: bool,
) -> None:
    configure_logging(json=True, level="WARNING")
    settings = load_settings(config_dir=str(REPO / "config"))
    db_engine = create_db_engine(url, **session_args(async_commit))
    service = build_service(settings, db_engine=db_engine)
    service.queue(who, QueueFilter(limit=1))  # connect before the clock starts
    ready.wait()
    count = 0
    cpu = time.process_time()
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        item = service.claim(who)
        if item is None:
            break
        if complete:
            service.complete(item.id, actor=who)
        count += 1
    results.put(Done(who, count, time.perf_counter() - started, time.process_time() - cpu))


def job_worker(
    url: str, who: str, seconds: float, ready: Barrier, results: Any, async_commit: bool
) -> None:
    """Run no-op jobs with ``adapters.jobs.Worker`` until ``seconds`` pass or none is left."""
    from adapters.jobs import JobStore, Worker

    configure_logging(json=True, level="WARNING")
    store = JobStore(create_db_engine(url, **session_args(async_commit)))
    worker = Worker(store=store, handlers={"bench": lambda job: None}, clock=utc_now, name=who)
    store.counts()  # connect before the clock starts
    ready.wait()
    count = 0
    cpu = time.process_time()
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        ran = worker.run_once(limit=20)
        count += ran.done
        if ran.ran == 0:
            break
    results.put(Done(who, count, time.perf_counter() - started, time.process_time() - cpu))


def utc_now() -> datetime:
    return datetime.now(UTC)


def run_round(
    target: Callable[..., None],
    url: str,
    processes: int,
    seconds: float,
    prefix: str,
    async_commit: bool,
) -> list[Done]:
    """``processes`` spawned processes running ``target`` at once; what each did."""
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Barrier(processes + 1)
    results = spawn.Queue()
    started = [
        spawn.Process(
            target=target,
            args=(url, f"{prefix}-{i + 1}", seconds, ready, results, async_commit),
        )
        for i in range(processes)
    ]
    for process in started:
        process.start()
    try:
        ready.wait(timeout=120)
        done = [results.get(timeout=seconds + 120) for _ in started]
    finally:
        for process in started:
            process.join(30)
            if process.is_alive():
                process.kill()
    if any(p.exitcode != 0 for p in started):
        raise CheckFailed(f"a {prefix} process failed (exit codes {[p.exitcode for p in started]})")
    return done


def rate(done: list[Done]) -> float:
    return sum(d.count for d in done) / max(d.seconds for d in done)


def cpu_ms(done: list[Done]) -> float:
    """Client CPU milliseconds per operation, over every process."""
    return 1000 * sum(d.cpu for d in done) / max(1, sum(d.count for d in done))


def claims_by_actor(db_engine: Engine, status: str = "done") -> dict[str, int]:
    """Items in ``status`` per actor (``closed_by`` when done, ``claimed_by`` when claimed)."""
    actor = work_items.c.closed_by if status == "done" else work_items.c.claimed_by
    with db_engine.connect() as conn:
        rows = conn.execute(
            select(actor, func.count()).where(work_items.c.status == status).group_by(actor)
        ).all()
    return {str(who): int(n) for who, n in rows}


def commit_floor(db_engine: Engine, rounds: int = 200) -> float:
    """Seconds per one-row INSERT and COMMIT on one connection (the server's WAL flush)."""
    with psycopg.connect(libpq(db_engine.url)) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_floor (n int)")
        conn.commit()
        started = time.perf_counter()
        for n in range(rounds):
            conn.execute("INSERT INTO bench_floor VALUES (%s)", (n,))
            conn.commit()
        return (time.perf_counter() - started) / rounds


class OldestElsewhere:
    """Samples, in a thread, the age of the oldest transaction in other databases of the server.

    A long transaction anywhere on the server holds back the cleanup of dead rows everywhere:
    finished items' old index entries then stay to be stepped over by every claim, and claims
    slow down as they pile up. The figure explains a slow round; it is not the queue's doing.
    """

    def __init__(self, db_engine: Engine) -> None:
        self._dsn = libpq(db_engine.url)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.seconds = 0.0

    def _run(self) -> None:
        query = (
            "SELECT coalesce(max(extract(epoch FROM now() - xact_start)), 0) FROM"
            " pg_stat_activity WHERE datname <> current_database()"
            " AND (backend_xid IS NOT NULL OR backend_xmin IS NOT NULL)"
        )
        with psycopg.connect(self._dsn, autocommit=True) as conn:
            while not self._stop.wait(0.25):
                row = conn.execute(query).fetchone()
                self.seconds = max(self.seconds, float(row[0]) if row else 0.0)

    def __enter__(self) -> OldestElsewhere:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def has_job_worker() -> bool:
    try:
        from adapters.jobs import JobStore, Worker  # noqa: F401
    except ImportError:
        return False
    return True


# -- the run -------------------------------------------------------------------------------------


def measure(url: str, args: argparse.Namespace) -> list[tuple[str, str, str, bool]]:
    db_engine = create_db_engine(url)
    try:
        upgrade(db_engine)
        with db_engine.connect() as conn:
            server = conn.execute(text("SHOW server_version")).scalar_one()
        started = time.perf_counter()
        claimable = load(db_engine, args.items, args.seed)
        print(
            f"PostgreSQL {server}; loaded {args.items:,} items ({claimable:,} claimable, the rest"
            f" restricted) on {args.items // 2:,} cases in {time.perf_counter() - started:.1f} s"
        )
        floor = commit_floor(db_engine)
        print(
            f"floor: a one-row INSERT + COMMIT takes {floor * 1000:.2f} ms here (the WAL flush);"
            f" a claim is two commits, so one claimer can do at most {1 / (2 * floor):,.0f}/s"
        )
        sync = ", synchronous_commit=off" if args.async_commit else ""
        verified: list[str] = []
        rounds = (
            ("claims only: service.claim (one transaction, a committed lease)", claim_only),
            ("claim + complete: service.claim then service.complete, a transaction each", claimer),
        )
        all_rates: dict[str, dict[int, float]] = {}
        for title, target in rounds:
            print(f"\n{title}{sync}, {args.seconds} s")
            print(
                f"{'claimers':>9}{'claims':>9}{'seconds':>9}{'claims/s':>10}{'per claimer':>13}"
                f"{'CPU ms/claim':>14}{'oldest xact elsewhere':>23}"
            )
            rates = all_rates[target.__name__] = {}
            status = "done" if target is claimer else "claimed"
            for n in args.claimers:
                reopen_items(db_engine)
                with OldestElsewhere(db_engine) as elsewhere:
                    done = run_round(target, url, n, args.seconds, "claimer", args.async_commit)
                by_actor = claims_by_actor(db_engine, status)
                rates[n] = rate(done)
                total = sum(d.count for d in done)
                print(
                    f"{n:>9}{total:>9,}{max(d.seconds for d in done):>9.2f}"
                    f"{rates[n]:>10,.0f}{rates[n] / n:>13,.0f}{cpu_ms(done):>14.2f}"
                    f"{elsewhere.seconds:>21.0f} s"
                )
                if by_actor != {d.who: d.count for d in done if d.count}:
                    raise CheckFailed(f"{n} claimers: items {status} do not match the claims")
                verified.append(
                    f"{n} claimers ({target.__name__}): each item {status} once, by its claimer"
                )
        claim_rates = all_rates["claim_only"]
        both_rates = all_rates["claimer"]
        print(f"\njobs: adapters.jobs.Worker.run_once, no-op handler{sync}, {args.job_seconds} s")
        job_rates: dict[int, float | None] = {}
        if has_job_worker():
            print(f"{'workers':>9}{'jobs':>9}{'seconds':>9}{'jobs/s':>10}{'CPU ms/job':>12}")
            for n in args.claimers:
                queue_jobs(db_engine, args.items)
                done = run_round(job_worker, url, n, args.job_seconds, "jobs", args.async_commit)
                job_rates[n] = rate(done)
                total = sum(d.count for d in done)
                print(
                    f"{n:>9}{total:>9,}{max(d.seconds for d in done):>9.2f}{job_rates[n]:>10,.0f}"
                    f"{cpu_ms(done):>12.2f}"
                )
                with db_engine.connect() as conn:
                    finished = conn.execute(
                        select(func.count()).where(jobs.c.status == "done")
                    ).scalar_one()
                if finished != total:
                    raise CheckFailed(f"{n} job workers: {finished} jobs done, {total} counted")
                verified.append(f"{n} job workers: every job run is done, once")
        else:
            print("  n/a (adapters.jobs has no worker)")
        print()
        for what in verified:
            check(True, what)
    finally:
        db_engine.dispose()
    top = max(args.claimers)
    label = " (async commit)" if args.async_commit else ""
    return [
        (
            f"claims/s with {top} claimers{label}",
            f"{claim_rates[top]:,.0f}",
            f">= {TARGET_CLAIMS_PER_S:,.0f}",
            claim_rates[top] >= TARGET_CLAIMS_PER_S,
        ),
        (
            f"claim + complete/s with {top} claimers{label}",
            f"{both_rates[top]:,.0f}",
            f">= {TARGET_CLAIMS_PER_S:,.0f}",
            both_rates[top] >= TARGET_CLAIMS_PER_S,
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--items", type=int, help="open work items (default 20,000; 2,000 quick)")
    parser.add_argument("--seconds", type=float, help="per claims round (default 10; 2 quick)")
    parser.add_argument("--job-seconds", type=float, help="per jobs round (default 5; 2 quick)")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--quick", action="store_true", help="small and fast, a CI smoke test")
    parser.add_argument(
        "--async-commit",
        action="store_true",
        help="claimers commit without waiting for the WAL flush (diagnosis only)",
    )
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    args.items = args.items or (2_000 if args.quick else 20_000)
    args.seconds = args.seconds or (2.0 if args.quick else 10.0)
    args.job_seconds = args.job_seconds or (2.0 if args.quick else 5.0)
    args.claimers = CLAIMERS
    if args.items < 100:
        parser.error("--items must be at least 100")
    server_url = normalise_url(args.pg_url)
    problem = unreachable(server_url)
    if problem is not None:
        shown = make_url(server_url).render_as_string(hide_password=True)
        print(f"skip: PostgreSQL not reachable at {shown}: {problem}")
        return 0
    print(
        f"queue: {args.items:,} work items, claimers {', '.join(map(str, args.claimers))}"
        f"\nPython {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, psycopg"
        f" {psycopg.__version__}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )
    try:
        with fresh_pg_database(server_url, "bench_queue") as url:
            targets = measure(url, args)
    except CheckFailed as exc:
        print(f"  FAILED  {exc}", file=sys.stderr)
        return 1
    print(f"\nload average now {os.getloadavg()[0]:.2f} (other work on the machine skews figures)")
    print(f"\n{'target':<46}{'measured':>10}{'target':>10}{'met':>6}")
    for what, value, goal, met in targets:
        print(f"{what:<46}{value:>10}{goal:>10}{'yes' if met else 'NO':>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

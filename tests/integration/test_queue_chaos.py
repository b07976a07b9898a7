"""Chaos: 10,000 work items, 8 worker processes, workers killed at random; each item done once.

PostgreSQL only (``SKIP LOCKED`` claims from several processes). The items are written in bulk
straight into ``work_items`` (on a few hundred bare ``cases`` rows; each item has its own kind,
``chaos-N``, so the one-open-item-per-case-and-kind index holds). Each worker process (spawned)
loops through ``SqlWorkQueue`` as the service does: claim with a 2-second lease in one
transaction; then, in a second, re-check the lease (``held``, fenced on the holder and the lease)
and finish the item, appending ``(item, worker)`` to an audit table in that same transaction.
The workers' sessions commit without waiting for the WAL flush (``synchronous_commit=off``): a
killed client cannot lose a committed transaction either way (only a server crash could), and
it keeps the run well under a minute on a small machine whose fsync takes milliseconds.

While they run, workers are killed with SIGKILL at random and replaced; one extra worker is
killed deliberately while it holds an item, so at least one item must come back when its lease
runs out. At the end every item must be done, and the committed audit must name each item
exactly once, by the worker recorded as finishing it. This is the one test that runs on the wall
clock: leases are real seconds here.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from multiprocessing.process import BaseProcess

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
    text,
)
from support import only_postgres

from adapters.db.connection import create_db_engine
from adapters.db.queue import SqlWorkQueue
from adapters.db.tables import cases, work_items
from engine.errors import LeaseLostError
from engine.queue import QueueFilter

pytestmark = only_postgres

ITEMS = 10_000
CASES = 300
WORKERS = 8
KILLS = 6
LEASE_SECONDS = 2.0
DEADLINE_SECONDS = 240.0  # a hang guard: the run takes ~40 s on 2 busy CPUs
START = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)

chaos = MetaData()
audit = Table(
    "chaos_audit",
    chaos,
    Column("item_id", BigInteger, nullable=False),
    Column("worker", String(100), nullable=False),
)


# -- the worker process ------------------------------------------------------------------------


def chaos_worker(url: str, name: str, lease_seconds: float, hold: bool = False) -> None:
    """Claim and finish items until none is open or claimed; ``hold``: claim one, then hang."""
    db_engine = create_db_engine(
        url, pool_size=1, max_overflow=0, connect_args={"options": "-c synchronous_commit=off"}
    )
    lease = timedelta(seconds=lease_seconds)
    everything = QueueFilter(limit=1)
    while True:
        now = datetime.now(UTC)
        with db_engine.begin() as conn:
            item = SqlWorkQueue(conn).claim(name, now, now + lease, everything, True)
        if item is None:
            if not _unfinished(db_engine):
                return
            time.sleep(0.05)  # only leased items left: wait for a dead worker's lease to end
            continue
        if hold:
            time.sleep(3600)  # killed here, holding the item
        with db_engine.begin() as conn:
            queue = SqlWorkQueue(conn)
            now = datetime.now(UTC)
            try:
                queue.held(item.id, name, now, True)
            except LeaseLostError:
                continue  # our lease ran out and someone else has it (or has done it)
            queue.finish(item.id, name, now, "chaos")
            conn.execute(insert(audit).values(item_id=item.id, worker=name))


def _unfinished(db_engine: Engine) -> int:
    with db_engine.connect() as conn:
        stmt = select(func.count()).where(work_items.c.status.in_(("open", "claimed")))
        return int(conn.execute(stmt).scalar_one())


# -- the test ------------------------------------------------------------------------------------


def load(db_engine: Engine) -> None:
    """``CASES`` bare open cases and ``ITEMS`` open items spread over them, in bulk."""
    chaos.create_all(db_engine)
    rng = random.Random(20250602)
    with db_engine.begin() as conn:
        case_ids = conn.execute(
            insert(cases).returning(cases.c.id),
            [
                {
                    "reference": f"CHAOS-{n:05d}",
                    "workflow": "complaint",
                    "state": "received",
                    "is_open": True,
                    "version": 1,
                    "event_count": 0,
                    "policy_id": "hoc-2024",
                    "policy_version": 1,
                    "calendar": "england-and-wales",
                    "calendar_fingerprint": "chaos",
                    "received_at": START - timedelta(minutes=n),
                    "received_on": START.date(),
                    "channel": "phone",
                    "category": "repairs",
                    "area": f"area-{n % 7}",
                    "tenure": "lcra",
                    "vulnerabilities": [],
                    "health_and_safety": False,
                    "restricted": n % 10 == 0,
                    "priority": "normal",
                    "created_at": START,
                    "updated_at": START,
                    "records": {},
                }
                for n in range(CASES)
            ],
        ).scalars()
        ids = list(case_ids)
        conn.execute(
            insert(work_items),
            [
                {
                    "case_id": ids[n % CASES],
                    "kind": f"chaos-{n}",
                    "status": "open",
                    "team": "complaints",
                    "restricted": False,
                    "p_deadline": rng.randrange(4),
                    "p_contact": rng.randrange(5),
                    "p_care": rng.randrange(2),
                    "received_at": START - timedelta(minutes=rng.randrange(10_000)),
                    "reason": f"chaos item {n}",
                    "created_at": START,
                }
                for n in range(ITEMS)
            ],
        )
    with db_engine.begin() as conn:
        conn.execute(text("ANALYZE work_items"))
        conn.execute(text("ANALYZE cases"))


def test_every_item_is_done_exactly_once_while_workers_are_killed(
    db_url: str, engines: Callable[..., Engine]
) -> None:
    db_engine = engines()
    load(db_engine)
    spawn = multiprocessing.get_context("spawn")
    rng = random.Random(7)
    serial = 0

    def start(hold: bool = False) -> BaseProcess:
        nonlocal serial
        serial += 1
        name = f"doomed-{serial}" if hold else f"worker-{serial}"
        process = spawn.Process(
            target=chaos_worker, args=(db_url, name, LEASE_SECONDS, hold), name=name
        )
        process.start()
        return process

    started = time.monotonic()
    doomed = start(hold=True)
    workers = [start() for _ in range(WORKERS)]
    everyone = [doomed, *workers]
    kills = 0
    try:
        held_by_doomed = _wait_for_claim(db_engine, doomed.name, started)
        _kill(doomed)
        kills += 1
        while kills <= KILLS and _unfinished(db_engine) > ITEMS // 10:
            time.sleep(rng.uniform(0.3, 1.0))
            victim = rng.choice([w for w in workers if w.is_alive()] or workers)
            _kill(victim)
            kills += 1
            workers.remove(victim)
            replacement = start()
            workers.append(replacement)
            everyone.append(replacement)
        for worker in workers:
            worker.join(max(1.0, DEADLINE_SECONDS - (time.monotonic() - started)))
        stuck = [w.name for w in workers if w.is_alive()]
        assert stuck == [], f"workers still running after {DEADLINE_SECONDS}s"
    finally:
        for process in everyone:
            if process.is_alive():
                _kill(process)
    assert [w.exitcode for w in workers] == [0] * len(workers)
    assert kills >= 4

    with db_engine.connect() as conn:
        statuses = dict(
            conn.execute(
                select(work_items.c.status, func.count()).group_by(work_items.c.status)
            ).all()
        )
        finished_by = dict(conn.execute(select(work_items.c.id, work_items.c.closed_by)).all())
        audited = conn.execute(select(audit.c.item_id, audit.c.worker)).all()
    assert statuses == {"done": ITEMS}
    assert len(audited) == ITEMS, "an item was finished twice, or not at all"
    assert dict(audited) == finished_by
    assert not any(worker.startswith("doomed") for _item, worker in audited)
    # The item the doomed worker died holding came back after its lease and was done by another.
    assert finished_by[held_by_doomed].startswith("worker-")


def _wait_for_claim(db_engine: Engine, worker: str, started: float) -> int:
    """The item ``worker`` claimed (its claim is committed before it hangs)."""
    while time.monotonic() - started < DEADLINE_SECONDS:
        with db_engine.connect() as conn:
            item_id = conn.execute(
                select(work_items.c.id).where(work_items.c.claimed_by == worker)
            ).scalar()
        if item_id is not None:
            return int(item_id)
        time.sleep(0.05)
    raise AssertionError(f"{worker} never claimed an item")


def _kill(process: BaseProcess) -> None:
    if process.pid is not None and process.is_alive():
        os.kill(process.pid, signal.SIGKILL)
    process.join(10)

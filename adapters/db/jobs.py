"""The background job table: the outbox side (enqueue, in the caller's transaction).

A command's messages go in with one ``INSERT`` whose case id is looked up by a subquery on the
reference, sent without waiting for a reply (pipelined on PostgreSQL): the outbox costs a command
no extra round trip for the lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from adapters.db.connection import pipelined
from adapters.db.pg_command import PendingWrites
from adapters.db.tables import cases, jobs
from adapters.db.types import jsonable
from engine.ports import JobSpec

DEFAULT_MAX_ATTEMPTS = 5

_INSERT_JOB = (
    insert(jobs)
    .values(
        case_id=select(cases.c.id)
        .where(cases.c.reference == bindparam("reference"))
        .scalar_subquery()
    )
    .inline()
)


class SqlJobs:
    """``JobQueue`` on one connection's transaction."""

    def __init__(self, connection: Connection, pending: PendingWrites | None = None) -> None:
        self._conn = connection
        self._pending = pending

    def enqueue(self, specs: Sequence[JobSpec], now: datetime) -> None:
        if not specs:
            return
        if self._pending is not None:  # PostgreSQL: with the transaction's other writes
            self._pending.add("jobs", job_rows(specs, now))
            return
        with pipelined(self._conn):
            self._conn.execute(_INSERT_JOB, job_rows(specs, now))


def job_rows(specs: Sequence[JobSpec], now: datetime) -> list[dict[str, Any]]:
    """Rows for queued jobs; ``reference`` names the case (its id is looked up in SQL)."""
    return [
        {
            "reference": spec.reference or None,
            "kind": spec.kind,
            "payload": jsonable(dict(spec.payload)),
            "status": "queued",
            "attempts": 0,
            "max_attempts": DEFAULT_MAX_ATTEMPTS,
            "run_after": spec.run_after or now,
            "created_at": now,
        }
        for spec in specs
    ]

"""The background job table: the outbox side (enqueue, in the caller's transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, insert, select

from adapters.db.tables import cases, jobs
from adapters.db.types import jsonable
from engine.ports import JobSpec

DEFAULT_MAX_ATTEMPTS = 5


class SqlJobs:
    """``JobQueue`` on one connection's transaction."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def enqueue(self, specs: Sequence[JobSpec], now: datetime) -> None:
        if not specs:
            return
        refs = {s.reference for s in specs if s.reference}
        ids = (
            dict(
                self._conn.execute(
                    select(cases.c.reference, cases.c.id).where(cases.c.reference.in_(refs))
                ).all()
            )
            if refs
            else {}
        )
        self._conn.execute(
            insert(jobs),
            [
                {
                    "kind": spec.kind,
                    "case_id": ids.get(spec.reference) if spec.reference else None,
                    "payload": jsonable(dict(spec.payload)),
                    "status": "queued",
                    "attempts": 0,
                    "max_attempts": DEFAULT_MAX_ATTEMPTS,
                    "run_after": spec.run_after or now,
                    "created_at": now,
                }
                for spec in specs
            ],
        )

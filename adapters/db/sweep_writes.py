"""The sweep's batch writes: a few set-based statements per batch instead of one per row.

A sweep batch writes flags, their events, work items, jobs and each case's schedule
(``next_flag_on``, the event counter, the work signature). The command path writes one case at a
time with ``executemany`` (``flag_writes``, ``work_items``, ``jobs``), which on PostgreSQL costs a
round trip per row; here, on PostgreSQL, new rows go in with one ``COPY`` per table and updates
with one ``UPDATE ... FROM unnest(...)`` per kind, all on the batch's own connection and so in its
transaction. SQLite has no such protocol and no round trips to save: it takes the command path's
functions, which give the same rows.

The work-item rules are the command path's (:mod:`adapters.db.work_items`): open the wanted kinds
that have no open item, re-rank the changed ones, close the ones no longer needed as ``done`` by
``system``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from psycopg.types.json import Jsonb
from sqlalchemy import Connection, bindparam, insert, update

from adapters.db.flag_writes import write_flag_changes
from adapters.db.jobs import DEFAULT_MAX_ATTEMPTS, SqlJobs
from adapters.db.pg_command import on_driver
from adapters.db.repository import event_rows
from adapters.db.tables import case_events, cases
from adapters.db.types import dumps_json, jsonable
from adapters.db.work_items import VALUE_KEYS, take_item_changes, write_work_items_bulk
from engine.model import Case
from engine.ports import JobSpec

_EVENT_COLUMNS = (
    "case_id",
    "seq",
    "kind",
    "occurred_at",
    "recorded_at",
    "actor",
    "data",
    "before",
    "after",
)
_FLAG_COLUMNS = (
    "case_id",
    "name",
    "kind",
    "level",
    "clock",
    "anchor_on",
    "raised_on",
    "cleared_on",
)
_ITEM_COLUMNS = (
    "case_id",
    "kind",
    "status",
    "team",
    "restricted",
    "p_deadline",
    "p_contact",
    "p_care",
    "received_at",
    "reason",
    "due_on",
    "created_at",
)
_JOB_COLUMNS = (
    "kind",
    "case_id",
    "payload",
    "status",
    "attempts",
    "max_attempts",
    "run_after",
    "created_at",
)

_SCHEDULE_PG = """
UPDATE cases SET next_flag_on = v.next_on, event_count = v.n, work_signature = v.sig
FROM unnest(%s::bigint[], %s::date[], %s::int[], %s::text[]) AS v(id, next_on, n, sig)
WHERE cases.id = v.id
"""
_CLEAR_PG = """
UPDATE case_flags SET cleared_on = v.cleared
FROM unnest(%s::bigint[], %s::text[], %s::date[], %s::date[]) AS v(case_id, name, anchor, cleared)
WHERE case_flags.case_id = v.case_id AND case_flags.name = v.name
  AND case_flags.anchor_on = v.anchor
"""
_WITHDRAW_PG = """
DELETE FROM case_flags
USING unnest(%s::bigint[], %s::text[], %s::date[]) AS v(case_id, name, anchor)
WHERE case_flags.case_id = v.case_id AND case_flags.name = v.name
  AND case_flags.anchor_on = v.anchor
"""
_CLOSE_ITEMS_PG = """
UPDATE work_items SET status = 'done', closed_at = %s, closed_by = 'system', outcome = 'need met'
WHERE id = ANY(%s::bigint[])
"""
_RERANK_ITEMS_PG = """
UPDATE work_items SET team = v.team, p_deadline = v.p_deadline, p_contact = v.p_contact,
    p_care = v.p_care, reason = v.reason, due_on = v.due_on
FROM unnest(%s::bigint[], %s::text[], %s::int[], %s::int[], %s::int[], %s::text[], %s::date[])
    AS v(id, team, p_deadline, p_contact, p_care, reason, due_on)
WHERE work_items.id = v.id
"""


class BatchWrite(Protocol):
    """A batch's writes, prepared from its cases; ``execute`` runs them on the batch's
    connection (the one that claimed the cases), in its transaction."""

    def execute(self, conn: Connection) -> None: ...


def prepare_batch(
    dialect: str,
    batch: Sequence[Case],
    counts: dict[int, int],
    messages: Sequence[JobSpec],
    now: datetime,
) -> BatchWrite:
    """The writes of everything the batch's cases have pending.

    ``counts`` is each case's stored event count (its events are numbered after it); the cases'
    ``next_flag_on`` and ``work_signature`` are written as they are now. On PostgreSQL the rows
    are built here, so the caller can build the next batch's while this one is written.
    """
    if dialect == "postgresql":
        return _PostgresWrite(batch, counts, messages, now)
    return _PortableWrite(batch, counts, messages, now)


class _PortableWrite:
    def __init__(
        self,
        batch: Sequence[Case],
        counts: dict[int, int],
        messages: Sequence[JobSpec],
        now: datetime,
    ) -> None:
        self.batch, self.counts, self.messages, self.now = batch, counts, messages, now

    def execute(self, conn: Connection) -> None:
        events: list[dict[str, Any]] = []
        schedule: list[dict[str, Any]] = []
        for case in self.batch:
            assert case.id is not None
            already = self.counts[case.id]
            events.extend(event_rows(case, already))
            schedule.append(
                {
                    "b_id": case.id,
                    "b_next": case.next_flag_on,
                    "b_count": already + len(case.pending_events),
                    "b_signature": case.work_signature,
                }
            )
        write_flag_changes(conn, self.batch)
        if events:
            conn.execute(insert(case_events), events)
        conn.execute(
            update(cases)
            .where(cases.c.id == bindparam("b_id"))
            .values(
                next_flag_on=bindparam("b_next"),
                event_count=bindparam("b_count"),
                work_signature=bindparam("b_signature"),
            ),
            schedule,
        )
        write_work_items_bulk(conn, self.batch, self.now)
        SqlJobs(conn).enqueue(self.messages, self.now)


class _PostgresWrite:
    def __init__(
        self,
        batch: Sequence[Case],
        counts: dict[int, int],
        messages: Sequence[JobSpec],
        now: datetime,
    ) -> None:
        self.batch, self.now = batch, now
        self.flags: list[tuple[Any, ...]] = []
        self.clears: tuple[list[Any], ...] = ([], [], [], [])
        self.withdrawals: tuple[list[Any], ...] = ([], [], [])
        self.events: list[tuple[Any, ...]] = []
        self.schedule: tuple[list[Any], ...] = ([], [], [], [])
        for case in batch:
            self._add(case, counts)
        ids = {c.reference: c.id for c in batch}
        self.jobs = [
            (
                spec.kind,
                ids.get(spec.reference) if spec.reference else None,
                Jsonb(jsonable(dict(spec.payload))),
                "queued",
                0,
                DEFAULT_MAX_ATTEMPTS,
                spec.run_after or now,
                now,
            )
            for spec in messages
        ]

    def _add(self, case: Case, counts: dict[int, int]) -> None:
        case_id = case.id
        assert case_id is not None
        for f in case.pending_flags:
            self.flags.append(
                (case_id, f.name, f.kind, f.level, f.clock, f.anchor_on, f.raised_on, f.cleared_on)
            )
        for (name, anchor), cleared in case.pending_clears:
            for column, value in zip(self.clears, (case_id, name, anchor, cleared), strict=True):
                column.append(value)
        for name, anchor in case.pending_withdrawals:
            for column, value in zip(self.withdrawals, (case_id, name, anchor), strict=True):
                column.append(value)
        case.pending_flags.clear()
        case.pending_clears.clear()
        case.pending_withdrawals.clear()
        already = counts[case_id]
        for i, e in enumerate(case.pending_events, start=already + 1):
            self.events.append(
                (
                    case_id,
                    i,
                    e.kind,
                    e.occurred_at,
                    e.recorded_at,
                    e.actor,
                    _json(e.data),
                    _json(e.before),
                    _json(e.after),
                )
            )
        count = already + len(case.pending_events)
        values = (case_id, case.next_flag_on, count, case.work_signature)
        for column, value in zip(self.schedule, values, strict=True):
            column.append(value)

    def execute(self, conn: Connection) -> None:
        # The raw cursor bypasses SQLAlchemy: ``on_driver`` wraps errors as it would.
        on_driver(conn, lambda raw: self._execute(conn, raw))

    def _execute(self, conn: Connection, raw: Any) -> None:
        with raw.cursor() as cur:
            _copy(cur, "case_flags", _FLAG_COLUMNS, self.flags)
            if self.clears[0]:
                cur.execute(_CLEAR_PG, self.clears)
            if self.withdrawals[0]:
                cur.execute(_WITHDRAW_PG, self.withdrawals)
            _copy(cur, "case_events", _EVENT_COLUMNS, self.events)
            cur.execute(_SCHEDULE_PG, self.schedule)
            _write_items_postgres(conn, cur, self.batch, self.now)
            _copy(cur, "jobs", _JOB_COLUMNS, self.jobs)


def _json(value: Any) -> Jsonb:
    """``Jsonb(jsonable(value))`` without the copy: the encoder writes dates as ISO text."""
    return Jsonb(value, dumps=dumps_json)


def _copy(cur: Any, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """``COPY table (columns) FROM STDIN`` of ``rows``; nothing is sent when there are none."""
    it = iter(rows)
    first = next(it, None)
    if first is None:
        return
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write_row(first)
        for row in it:
            copy.write_row(row)


def _write_items_postgres(conn: Connection, cur: Any, batch: Sequence[Case], now: datetime) -> None:
    """The rules of ``work_items.take_item_changes`` with one statement per kind of write."""
    changes = take_item_changes(conn, batch, now)
    if changes is None:
        return
    if changes.closes:
        cur.execute(_CLOSE_ITEMS_PG, (now, [row["id"] for row in changes.closes]))
    if changes.reranks:
        columns = ("id", *VALUE_KEYS)
        cur.execute(_RERANK_ITEMS_PG, tuple([r[c] for r in changes.reranks] for c in columns))
    _copy(
        cur,
        "work_items",
        _ITEM_COLUMNS,
        (tuple(r[c] for c in _ITEM_COLUMNS) for r in changes.inserts),
    )

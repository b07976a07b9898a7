"""A command's read and its writes on PostgreSQL, one statement each.

Through SQLAlchemy a command sent seven or eight statements (the case, its parts, the case
update, clocks, events, flags, items, facts, jobs), and each cost about 0.15 ms of client CPU in
SQLAlchemy's and psycopg's per-statement machinery: more than the engine's own logic
(``bench/lifecycle.py``, profiled). On PostgreSQL the command path instead

- reads the case with its clocks, flags and open work items in one ``SELECT`` (the parts
  aggregated as JSON arrays), sent in one round trip with the statement that locks the case
  row, and
- holds its writes (``PendingWrites``) until the next statement or the commit, then sends them
  as one statement of data-modifying ``WITH`` clauses, one per kind of row, with typed
  placeholders (a few dozen shapes, each prepared once per connection).

Statements go through a ``RawCursor`` with ``$n`` placeholders: psycopg re-parses ``%s`` queries
longer than 4 KB on every execution. Every part of the statement runs on one snapshot and cannot
see the others' rows, so no row may change twice: flag changes are folded first
(``flag_writes.folded``); the other kinds never touch one row twice (one upsert per clock, items
closed, re-ranked or inserted by distinct rows). The case update is the gate: it matches only the
version that was read, and a zero count raises ``ConcurrencyError`` before the ``COMMIT`` is sent
(the statement's other parts have run by then; the unit of work rolls them back). With writes
held, a stale ``save`` is reported by the next statement or by ``commit``, not by ``save``.

SQLite keeps a SQLAlchemy statement per kind of row (in-process, no round trips to save);
``tests/integration/test_pg_command_writes.py`` checks that both paths store the same rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, TypeVar

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError, IntegrityError

from adapters.db.connection import EVENT_SEQUENCE, constraint_of, note_write, sync_pipeline
from adapters.db.tables import (
    case_clocks,
    case_events,
    case_flags,
    case_milestones,
    case_responses,
    cases,
    jobs,
    work_items,
)
from adapters.db.types import UtcDateTime, dumps_json
from adapters.db.work_items import VALUE_KEYS
from engine.errors import ConcurrencyError

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]
T = TypeVar("T")

# -- the read ----------------------------------------------------------------------------------

_READ_COLUMNS = (*(c.name for c in cases.c), "parts_clocks", "parts_flags", "parts_items")
_READ = f"""
SELECT {", ".join(f"c.{c.name}" for c in cases.c)},
  (SELECT json_agg(json_build_array(k.clock, k.label, k.started_on, k.base_days, k.due_on,
                                    k.extended_days, k.stopped_on, k.stop_reason)
                   ORDER BY k.started_on, k.clock)
     FROM case_clocks k WHERE k.case_id = c.id) AS parts_clocks,
  (SELECT json_agg(json_build_array(f.name, f.kind, f.level, f.clock, f.anchor_on, f.raised_on,
                                    f.cleared_on) ORDER BY f.id)
     FROM case_flags f WHERE f.case_id = c.id) AS parts_flags,
  (SELECT json_agg(json_build_array(w.id, w.kind, w.status, w.team, w.reason, w.due_on,
                                    w.p_deadline, w.p_contact, w.p_care) ORDER BY w.id)
     FROM work_items w WHERE w.case_id = c.id AND w.status IN ('open', 'claimed')) AS parts_items
FROM cases c WHERE c.reference = $1
"""
# The lock is taken by a statement of its own, before the read: a statement that waits for a
# row lock gets the row as the holder committed it, but its subqueries keep the snapshot taken
# when it started, so one locking SELECT could pair a fresh case row with stale clocks, flags
# and items. A new statement takes a new snapshot (READ COMMITTED).
_LOCK = "SELECT 1 FROM cases WHERE reference = $1 FOR UPDATE"
_UTC_COLUMNS = tuple(c.name for c in cases.c if isinstance(c.type, UtcDateTime))


def read_case(conn: Connection, reference: str, *, lock: bool) -> dict[str, Any] | None:
    """The ``cases`` row of ``reference`` (timestamps in UTC) with ``parts_clocks``,
    ``parts_flags`` and ``parts_items`` (lists of arrays, dates as ISO text), or None."""

    def run(raw: psycopg.Connection[Any]) -> dict[str, Any] | None:
        # Plain tuples and $n placeholders (a RawCursor parses no query): psycopg's dict rows
        # and descriptions cost more client CPU than the rest of the read.
        with psycopg.RawCursor(raw) as cur:
            if lock:
                # Pipelined: the lock and the read go in one round trip (after psycopg's BEGIN,
                # which waits for its own reply), and the read starts, and takes its snapshot,
                # once the lock is held. The pipeline's exit sends the one Sync.
                with raw.pipeline():
                    cur.execute(_LOCK, (reference,), prepare=True)
                    cur.execute(_READ, (reference,), prepare=True)
            else:
                cur.execute(_READ, (reference,), prepare=True)
            values = cur.fetchone()
        if values is None:
            return None
        row = dict(zip(_READ_COLUMNS, values, strict=True))
        for name in _UTC_COLUMNS:
            if row[name] is not None:
                row[name] = row[name].astimezone(UTC)
        return row

    return on_driver(conn, run)


_NEXT_NUMBER = """
INSERT INTO reference_counters (prefix, year, last_number) VALUES ($1, $2, 1)
ON CONFLICT (prefix, year) DO UPDATE SET last_number = reference_counters.last_number + 1
RETURNING last_number
"""


def next_number(conn: Connection, prefix: str, year: int) -> int:
    """The next number of the ``prefix``-``year`` series (the series starts at 1)."""

    def run(raw: psycopg.Connection[Any]) -> int:
        with psycopg.RawCursor(raw) as cur:
            cur.execute(_NEXT_NUMBER, (prefix, year), prepare=True)
            row = cur.fetchone()
        assert row is not None
        return int(row[0])

    note_write(conn)
    return on_driver(conn, run)


def _numbered(sql: str) -> str:
    """``%s`` placeholders as ``$1``, ``$2``...: psycopg re-parses a query of 4 KB or more on
    every execution (its cache stops there), and a ``RawCursor`` parses none."""
    parts = sql.split("%s")
    return "".join(f"{part}${i}" for i, part in enumerate(parts[:-1], start=1)) + parts[-1]


def insert_case(conn: Connection, row: Mapping[str, Any]) -> int:
    """Insert a ``cases`` row (every column but ``id``); its new id."""
    kind = _KINDS["new_case"]
    params = _parameters(kind, [row])

    def run(raw: psycopg.Connection[Any]) -> int:
        with psycopg.RawCursor(raw) as cur:
            cur.execute(_INSERT_CASE, params, prepare=True)
            found = cur.fetchone()
        assert found is not None
        return int(found[0])

    note_write(conn)
    return on_driver(conn, run)


def iso_date(value: str | None) -> date | None:
    """A date from ``read_case``'s JSON (ISO text, or null)."""
    return None if value is None else date.fromisoformat(value)


# -- the writes --------------------------------------------------------------------------------


def _type(table: Table, name: str) -> str:
    """The column's type for a placeholder's cast, without a length: an explicit cast to
    ``VARCHAR(n)`` would cut a long value short, where storing it in the column refuses it."""
    return re.sub(r"\(\d+\)", "", str(table.c[name].type.compile(dialect=_DIALECT)))


def _is_json(table: Table, name: str) -> bool:
    return _type(table, name) == "JSONB"


def _row_sql(table: Table, names: Sequence[str]) -> str:
    """One row of typed placeholders (typed, so a ``VALUES`` list needs no inference)."""
    return "(" + ", ".join(f"%s::{_type(table, n)}" for n in names) + ")"


def _rows_sql(table: Table, names: Sequence[str], count: int) -> str:
    return ", ".join([_row_sql(table, names)] * count)


class _Kind:
    """One kind of row write: its columns (the order of the parameters) and its SQL for
    ``count`` rows."""

    def __init__(
        self, table: Table, names: Sequence[str], sql: Callable[[int], str], *, gate: bool = False
    ) -> None:
        self.table, self.names, self.sql, self.gate = table, tuple(names), sql, gate
        self.json = tuple(i for i, n in enumerate(names) if n in table.c and _is_json(table, n))


def _insert(table: Table, names: Sequence[str], suffix: str = "") -> _Kind:
    def sql(count: int) -> str:
        values = _rows_sql(table, names, count)
        return f"INSERT INTO {table.name} ({', '.join(names)}) VALUES {values}{suffix}"

    return _Kind(table, names, sql)


def _update(table: Table, keys: Sequence[str], sets: Sequence[str], fixed: str = "") -> _Kind:
    names = (*keys, *sets)

    def sql(count: int) -> str:
        assignments = ", ".join([*(f"{n} = r.{n}" for n in sets), *filter(None, [fixed])])
        match = " AND ".join(f"t.{n} = r.{n}" for n in keys)
        source = f"(VALUES {_rows_sql(table, names, count)}) AS r({', '.join(names)})"
        return f"UPDATE {table.name} AS t SET {assignments} FROM {source} WHERE {match}"

    return _Kind(table, names, sql)


def _delete(table: Table, keys: Sequence[str]) -> _Kind:
    def sql(count: int) -> str:
        match = " AND ".join(f"t.{n} = r.{n}" for n in keys)
        source = f"(VALUES {_rows_sql(table, keys, count)}) AS r({', '.join(keys)})"
        return f"DELETE FROM {table.name} AS t USING {source} WHERE {match}"

    return _Kind(table, keys, sql)


def _case_update() -> _Kind:
    sets = [c.name for c in cases.c if c.name not in ("id", "reference", "created_at")]
    names = (*sets, "id", "b_version")

    def sql(count: int) -> str:
        assert count == 1, "one case update per statement"
        assignments = ", ".join(
            f"{n} = COALESCE(%s::{_type(cases, n)}, updated_at)"
            if n == "updated_at"
            else f"{n} = %s::{_type(cases, n)}"
            for n in sets
        )
        return (
            f"UPDATE cases SET {assignments} WHERE id = %s::BIGINT AND version = %s::INTEGER"
            " RETURNING id"
        )

    return _Kind(cases, names, sql, gate=True)


def _jobs_insert() -> _Kind:
    names = ("kind", "payload", "status", "attempts", "max_attempts", "run_after", "created_at")
    row = "((SELECT id FROM cases WHERE reference = %s::TEXT), " + _row_sql(jobs, names)[1:]

    def sql(count: int) -> str:
        return f"INSERT INTO jobs (case_id, {', '.join(names)}) VALUES {', '.join([row] * count)}"

    return _Kind(jobs, ("reference", *names), sql)


def _all(table: Table, *but: str) -> tuple[str, ...]:
    return tuple(c.name for c in table.c if c.name not in but)


_CLOCK_VALUES = _all(case_clocks, "case_id", "clock")
_CROSSING = ("case_id", "name", "anchor_on")

_KINDS: dict[str, _Kind] = {
    "new_case": _insert(cases, _all(cases, "id")),  # sent on its own, for its id
    "case": _case_update(),
    "clocks": _insert(
        case_clocks,
        ("case_id", "clock", *_CLOCK_VALUES),
        " ON CONFLICT (case_id, clock) DO UPDATE SET "
        + ", ".join(f"{n} = excluded.{n}" for n in _CLOCK_VALUES),
    ),
    "events": _insert(case_events, _all(case_events, "id")),
    "flags": _insert(case_flags, _all(case_flags, "id")),
    "flag_clears": _update(case_flags, _CROSSING, ("cleared_on",)),
    "flag_withdrawals": _delete(case_flags, _CROSSING),
    "item_closes": _update(
        work_items,
        ("id",),
        ("closed_at",),
        "status = 'done', closed_by = 'system', outcome = 'need met'",
    ),
    "item_reranks": _update(work_items, ("id",), VALUE_KEYS),
    "items": _insert(
        work_items,
        ("case_id", "kind", "status", "restricted", "received_at", "created_at", *VALUE_KEYS),
    ),
    "milestones": _insert(case_milestones, _all(case_milestones)),
    "responses": _insert(case_responses, _all(case_responses)),
    "jobs": _jobs_insert(),
}
"""Each kind of row a command writes, in the order the statement lists them."""
WRITE_KINDS = tuple(kind for kind in _KINDS if kind != "new_case")
"""The kinds ``PendingWrites`` holds."""
_INSERT_CASE = _numbered(_KINDS["new_case"].sql(1) + " RETURNING id")


@lru_cache(maxsize=256)
def _statement(shape: tuple[tuple[str, int], ...]) -> str:
    """One statement writing ``count`` rows of each kind: a few dozen shapes occur, each
    prepared once per connection."""
    parts = ", ".join(f"w_{kind} AS ({_KINDS[kind].sql(count)})" for kind, count in shape)
    gate = "(SELECT count(*) FROM w_case)" if shape[0][0] == "case" else "-1"
    return _numbered(f"WITH {parts} SELECT {gate}")


def _parameters(kind: _Kind, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
    params: list[Any] = []
    for row in rows:
        values = [row[n] for n in kind.names]
        for i in kind.json:
            values[i] = Jsonb(values[i], dumps=dumps_json)
        for value in values:
            if isinstance(value, datetime) and value.utcoffset() is None:
                raise ValueError(f"naive datetime {value.isoformat()} refused: store UTC")
        params.extend(values)
    return params


class PendingWrites:
    """A transaction's row writes on PostgreSQL, held until the next statement or the commit
    and then sent as one (see the module's docstring)."""

    def __init__(self) -> None:
        self._rows: dict[str, list[dict[str, Any]]] = {}
        self._gate: tuple[str, int] | None = None  # the case whose update is the gate

    def __bool__(self) -> bool:
        return bool(self._rows)

    def add(self, kind: str, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self._rows.setdefault(kind, []).extend(rows)

    def update_case(
        self, conn: Connection, reference: str, version: int, row: dict[str, Any]
    ) -> None:
        """The case's row, written only if its version is still ``version``. A statement has
        one gate: a case update already held is sent first."""
        if self._gate is not None:
            self.flush(conn)
        self._gate = (reference, version)
        self._rows["case"] = [{**row, "b_version": version}]

    def discard(self) -> None:
        self._rows = {}  # a new dict: a flush's payload still refers to the old one
        self._gate = None

    def flush(self, conn: Connection) -> None:
        """Send what is held, as one statement; ``ConcurrencyError`` if the gate failed."""
        if not self._rows:
            return
        shape = tuple((kind, len(self._rows[kind])) for kind in _KINDS if kind in self._rows)
        params: list[Any] = []
        for kind, _count in shape:
            params.extend(_parameters(_KINDS[kind], self._rows[kind]))
        sql, gate = _statement(shape), self._gate
        self.discard()
        note_write(conn)

        def run(raw: psycopg.Connection[Any]) -> int:
            with psycopg.RawCursor(raw) as cur:
                cur.execute(sql, params, prepare=True)
                sync_pipeline(raw)
                row = cur.fetchone()
            assert row is not None
            return int(row[0])

        try:
            updated = on_driver(conn, run)
        except IntegrityError as exc:
            # Another writer numbered the same events first (the row lock makes it rare).
            if gate is not None and constraint_of(exc) == EVENT_SEQUENCE:
                raise ConcurrencyError(*gate) from None
            raise
        if gate is not None and updated != 1:
            raise ConcurrencyError(*gate)


def on_driver(conn: Connection, run: Callable[[psycopg.Connection[Any]], T]) -> T:
    """``run`` on the psycopg connection under ``conn``, in its transaction; a psycopg error
    comes out as SQLAlchemy's ``DBAPIError`` for it (``IntegrityError`` for a unique violation),
    and a lost connection is dropped from the pool."""
    raw = conn.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    with _wrapped(conn, raw):
        return run(raw)


@contextmanager
def _wrapped(conn: Connection, raw: psycopg.Connection[Any]) -> Iterator[None]:
    try:
        yield
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        # Interrupted mid-exchange: the connection's state is unknown; never reuse it.
        conn.invalidate()
        raise
    except psycopg.Error as exc:
        lost = bool(raw.broken or raw.closed)
        if lost:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            None, None, exc, psycopg.Error, connection_invalidated=lost
        ) from exc

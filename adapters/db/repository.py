"""``CaseRepository`` and ``UnitOfWork`` on SQLAlchemy Core.

Saving is optimistic: ``UPDATE cases ... WHERE id = :id AND version = :loaded`` and a zero row
count means someone else wrote first, so the transaction is abandoned with ``ConcurrencyError``.
Events are inserted in the same transaction with consecutive per-case sequence numbers, which a
unique constraint also protects.

Every statement a command sends is built once, at import, with bound parameters (values go in
``execute``'s parameters, not in the statement): constructing ``select(...)``/``update(...)``
per call, and generating its cache key, was most of a command's CPU (``bench/lifecycle.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from types import SimpleNamespace, TracebackType
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError

from adapters.db.case_parts import load_parts
from adapters.db.connection import (
    EVENT_SEQUENCE,
    constraint_of,
    hold_writes,
    pipelined,
    release_writes,
    track_writes,
    wrote_nothing,
)
from adapters.db.facts import facts_of as _facts
from adapters.db.facts import new_fact_rows, write_report_facts
from adapters.db.flag_writes import folded, take_flag_changes, write_flag_changes
from adapters.db.jobs import SqlJobs
from adapters.db.pg_command import PendingWrites, insert_case, iso_date, next_number, read_case
from adapters.db.queue import SqlWorkQueue
from adapters.db.tables import case_clocks, case_events, case_flags, cases, reference_counters
from adapters.db.types import jsonable
from adapters.db.work_items import take_item_changes, write_work_items
from engine.access import manager_of
from engine.errors import CaseNotFoundError, ConcurrencyError
from engine.events import Event
from engine.model import Case
from engine.ports import CaseFilter
from sla.deadlines import ClockState
from sla.errors import ComplaintsError
from sla.flags import Flag
from sla.timezone import london_date


class DatabaseError(ComplaintsError):
    """The database failed or went away; nothing of the command was written."""


_BY_REFERENCE = select(cases).where(cases.c.reference == bindparam("b_ref"))
# PostgreSQL: hold the row until commit so a sweep batch and a command never interleave on one
# case (SQLite's BEGIN IMMEDIATE already serialises writers; it renders no FOR UPDATE).
_BY_REFERENCE_LOCKED = _BY_REFERENCE.with_for_update()
_INSERT_CASE = insert(cases).returning(cases.c.id)
_INSERT_EVENTS = insert(case_events).inline()  # no implicit RETURNING id: it may be pipelined
# The columns to set come from the parameters' keys; the sweep appends events without bumping
# the version, so the sequence numbers come from the row as updated, not from what was read.
_UPDATE_LOCKED_CASE = (
    update(cases)
    .where(cases.c.id == bindparam("b_id"), cases.c.version == bindparam("b_version"))
    .values(event_count=cases.c.event_count + bindparam("b_added"))
)
_UPDATE_CASE = _UPDATE_LOCKED_CASE.returning(cases.c.event_count)
_BUMP_COUNTER = (
    update(reference_counters)
    .where(
        reference_counters.c.prefix == bindparam("b_prefix"),
        reference_counters.c.year == bindparam("b_year"),
    )
    .values(last_number=reference_counters.c.last_number + 1)
    .returning(reference_counters.c.last_number)
)
_NEW_COUNTER = {
    name: dialect.insert(reference_counters).on_conflict_do_nothing()
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_CLOCK_VALUES = (
    "label",
    "started_on",
    "base_days",
    "extended_days",
    "due_on",
    "stopped_on",
    "stop_reason",
)


def _clock_upsert(dialect: Any) -> Any:
    stmt = dialect.insert(case_clocks)
    return stmt.on_conflict_do_update(
        index_elements=[case_clocks.c.case_id, case_clocks.c.clock],
        set_={name: stmt.excluded[name] for name in _CLOCK_VALUES},
    )


# Changed and new clocks in one statement (the primary key is the case and the clock's name).
_UPSERT_CLOCKS = {"postgresql": _clock_upsert(postgresql), "sqlite": _clock_upsert(sqlite)}


_CASE_COLUMNS = (
    "workflow",
    "state",
    "is_open",
    "policy_id",
    "policy_version",
    "calendar",
    "calendar_fingerprint",
    "received_at",
    "channel",
    "category",
    "area",
    "tenure",
    "resident_ref",
    "property_ref",
    "preferred_contact",
    "contact_interval_days",
    "health_and_safety",
    "restricted",
    "owner",
    "last_contact_at",
    "closed_at",
    "linked_reference",
    "next_flag_on",
    "work_signature",
)


def _case_values(case: Case) -> dict[str, Any]:
    values = {name: getattr(case, name) for name in _CASE_COLUMNS}
    values["received_on"] = case.milestone_dates.get("received") or london_date(case.received_at)
    values["vulnerabilities"] = list(case.vulnerabilities)
    values["priority"] = case.priority
    values["records"] = case.records_data()
    values["manager"] = manager_of(case)
    return values


def _clock_rows(case: Case) -> dict[str, dict[str, Any]]:
    return {
        name: {
            "label": c.label,
            "started_on": c.started_on,
            "base_days": c.base_days,
            "extended_days": c.extended_days,
            "due_on": c.due_on,
            "stopped_on": c.stopped_on,
            "stop_reason": c.stop_reason,
        }
        for name, c in case.clocks.items()
    }


def clock_from_row(r: Any) -> ClockState:
    """A ``case_clocks`` row as the engine's ``ClockState``."""
    return ClockState(
        name=r.clock,
        label=r.label,
        started_on=r.started_on,
        base_days=r.base_days,
        due_on=r.due_on,
        extended_days=r.extended_days,
        stopped_on=r.stopped_on,
        stop_reason=r.stop_reason,
    )


def case_from_row(row: Row[Any]) -> Case:
    return case_from_mapping(row._mapping)


def case_from_mapping(m: Mapping[Any, Any]) -> Case:
    """A ``cases`` row (by column name) as a ``Case``; clocks, flags and items not loaded."""
    case = Case(
        reference=m["reference"],
        workflow=m["workflow"],
        state=m["state"],
        policy_id=m["policy_id"],
        policy_version=m["policy_version"],
        calendar=m["calendar"],
        calendar_fingerprint=m["calendar_fingerprint"],
        received_at=m["received_at"],
        channel=m["channel"],
        category=m["category"],
        area=m["area"],
        tenure=m["tenure"],
        resident_ref=m["resident_ref"],
        property_ref=m["property_ref"],
        preferred_contact=m["preferred_contact"],
        contact_interval_days=m["contact_interval_days"],
        vulnerabilities=tuple(m["vulnerabilities"] or ()),
        health_and_safety=m["health_and_safety"],
        restricted=m["restricted"],
        owner=m["owner"],
        last_contact_at=m["last_contact_at"],
        is_open=m["is_open"],
        closed_at=m["closed_at"],
        linked_reference=m["linked_reference"],
        next_flag_on=m["next_flag_on"],
        work_signature=m["work_signature"],
        version=m["version"],
        id=m["id"],
    )
    case.load_records(m["records"])
    return case


def _fill_parts(case: Case, row: Mapping[str, Any]) -> None:
    """Clocks, flags and open items from ``pg_command.read_case``'s JSON arrays."""
    case.clocks = {
        name: ClockState(
            name=name,
            label=label,
            started_on=date.fromisoformat(started),
            base_days=base,
            due_on=date.fromisoformat(due),
            extended_days=extended,
            stopped_on=iso_date(stopped),
            stop_reason=reason,
        )
        for name, label, started, base, due, extended, stopped, reason in row["parts_clocks"] or ()
    }
    case.flags = [
        Flag(
            name,
            kind,
            level,
            clock,
            date.fromisoformat(anchor),
            date.fromisoformat(raised),
            iso_date(cleared),
        )
        for name, kind, level, clock, anchor, raised, cleared in row["parts_flags"] or ()
    ]
    case.open_items = {
        kind: SimpleNamespace(
            id=item_id,
            case_id=case.id,
            kind=kind,
            status=status,
            team=team,
            reason=reason,
            due_on=iso_date(due),
            p_deadline=p_deadline,
            p_contact=p_contact,
            p_care=p_care,
        )
        for item_id, kind, status, team, reason, due, p_deadline, p_contact, p_care in row[
            "parts_items"
        ]
        or ()
    }


class SqlCaseRepository:
    """Cases and their events in one connection's transaction.

    With ``pending`` (PostgreSQL), a locked case is read in one statement and its writes are
    held there, to go out as one statement with the transaction's other writes
    (``pg_command``); without it, each part is written by its own SQLAlchemy statement.
    """

    def __init__(self, connection: Connection, pending: PendingWrites | None = None) -> None:
        self._conn = connection
        self._pending = pending
        # What was loaded, to write only clocks that changed and to number new events, and
        # whether the row is locked by this transaction (its event count cannot move then).
        self._loaded: dict[int, tuple[int, dict[str, dict[str, Any]], frozenset[str], bool]] = {}

    # -- reads ---------------------------------------------------------------------------------

    def get(self, reference: str, *, lock: bool = False) -> Case:
        if self._pending is not None:
            return self._get_postgres(reference, lock)
        stmt = _BY_REFERENCE_LOCKED if lock else _BY_REFERENCE
        with pipelined(self._conn):  # the transaction's BEGIN goes with the first read
            row = self._conn.execute(stmt, {"b_ref": reference}).first()
            if row is None:
                raise CaseNotFoundError(reference)
            case = case_from_row(row)
            assert case.id is not None
            load_parts(self._conn, case)
        self._loaded[case.id] = (
            row._mapping["event_count"],
            _clock_rows(case),
            _facts(case),
            lock and self._conn.dialect.name == "postgresql",
        )
        return case

    def _get_postgres(self, reference: str, lock: bool) -> Case:
        assert self._pending is not None
        self._pending.flush(self._conn)  # what this transaction holds goes first
        row = read_case(self._conn, reference, lock=lock)
        if row is None:
            raise CaseNotFoundError(reference)
        case = case_from_mapping(row)
        assert case.id is not None
        _fill_parts(case, row)
        self._loaded[case.id] = (row["event_count"], _clock_rows(case), _facts(case), lock)
        return case

    def load_clocks(self, case_ids: Sequence[int]) -> dict[int, dict[str, ClockState]]:
        """Every SLA clock of the given cases (the table is the one source of their dates)."""
        result: dict[int, dict[str, ClockState]] = {case_id: {} for case_id in case_ids}
        if not case_ids:
            return result
        rows = self._conn.execute(
            select(case_clocks)
            .where(case_clocks.c.case_id.in_(case_ids))
            .order_by(case_clocks.c.case_id, case_clocks.c.started_on)
        )
        for r in rows:
            result[r.case_id][r.clock] = clock_from_row(r)
        return result

    def load_flags(self, case_ids: Sequence[int]) -> dict[int, list[Flag]]:
        """Every flag row (raised and on record) of the given cases."""
        result: dict[int, list[Flag]] = {case_id: [] for case_id in case_ids}
        if not case_ids:
            return result
        rows = self._conn.execute(
            select(case_flags).where(case_flags.c.case_id.in_(case_ids)).order_by(case_flags.c.id)
        )
        for r in rows:
            result[r.case_id].append(
                Flag(r.name, r.kind, r.level, r.clock, r.anchor_on, r.raised_on, r.cleared_on)
            )
        return result

    def history(self, reference: str) -> Sequence[Event]:
        case_id = self._conn.execute(
            select(cases.c.id).where(cases.c.reference == reference)
        ).scalar()
        if case_id is None:
            raise CaseNotFoundError(reference)
        rows = self._conn.execute(
            select(case_events).where(case_events.c.case_id == case_id).order_by(case_events.c.seq)
        )
        return [
            Event(
                kind=r.kind,
                occurred_at=r.occurred_at,
                recorded_at=r.recorded_at,
                actor=r.actor,
                data=r.data,
                before=r.before,
                after=r.after,
                seq=r.seq,
            )
            for r in rows
        ]

    def find(self, query: CaseFilter) -> Sequence[Case]:
        stmt = select(cases)
        conditions: list[ColumnElement[bool]] = []
        for name in ("workflow", "state", "is_open", "category", "area", "owner", "resident_ref"):
            value = getattr(query, name)
            if value is not None:
                conditions.append(cases.c[name] == value)
        if query.received_from is not None:
            conditions.append(cases.c.received_on >= query.received_from)
        if query.received_to is not None:
            conditions.append(cases.c.received_on <= query.received_to)
        if query.flag is not None:
            raised = select(case_flags.c.case_id).where(
                case_flags.c.cleared_on.is_(None),
                (case_flags.c.name == query.flag) | (case_flags.c.level == query.flag),
            )
            conditions.append(cases.c.id.in_(raised))
        if not query.visible_restricted:
            visible: list[ColumnElement[bool]] = [cases.c.restricted.is_(False)]
            if query.restricted_manager:
                visible.append(cases.c.manager == query.restricted_manager)
            conditions.append(or_(*visible))
        if conditions:
            stmt = stmt.where(and_(*conditions))
        stmt = stmt.order_by(cases.c.received_at.desc(), cases.c.id.desc())
        stmt = stmt.limit(query.limit).offset(query.offset)
        found = [case_from_row(row) for row in self._conn.execute(stmt)]
        ids = [c.id for c in found if c.id is not None]
        clocks, flags = self.load_clocks(ids), self.load_flags(ids)
        for case in found:
            assert case.id is not None
            case.clocks = clocks[case.id]
            case.flags = flags[case.id]
        return found

    # -- writes --------------------------------------------------------------------------------

    def next_reference(self, prefix: str, year: int) -> str:
        if self._pending is not None:
            self._pending.flush(self._conn)
            return f"{prefix}-{year}-{next_number(self._conn, prefix, year):06d}"
        key = {"b_prefix": prefix, "b_year": year}
        with pipelined(self._conn):  # the transaction's BEGIN goes with it
            bumped = self._conn.execute(_BUMP_COUNTER, key).scalar()
        if bumped is None:
            self._conn.execute(
                _NEW_COUNTER[self._conn.dialect.name],
                {"prefix": prefix, "year": year, "last_number": 0},
            )
            bumped = self._conn.execute(_BUMP_COUNTER, key).scalar_one()
        return f"{prefix}-{year}-{bumped:06d}"

    def add(self, case: Case) -> None:
        now = case.pending_events[-1].recorded_at if case.pending_events else case.received_at
        values = _case_values(case)
        values.update(
            reference=case.reference,
            version=1,
            event_count=len(case.pending_events),
            created_at=now,
            updated_at=now,
        )
        if self._pending is not None:
            self._pending.flush(self._conn)
            case.id = insert_case(self._conn, values)
        else:
            case.id = self._conn.execute(_INSERT_CASE, values).scalar_one()
        case.version = 1
        if case.open_items is None:
            case.open_items = {}  # a new case has no work items to read back
        if self._pending is not None:
            self._hold_parts(case, {}, 0, now, frozenset())
        else:
            self._write_parts(case, {}, 0, now, frozenset())
        # On PostgreSQL a row this transaction inserted is as good as locked: nobody else sees it.
        mine = self._conn.dialect.name == "postgresql"
        self._loaded[case.id] = (len(case.pending_events), _clock_rows(case), _facts(case), mine)
        case.pending_events.clear()

    def save(self, case: Case) -> None:
        assert case.id is not None, "save() is for cases loaded with get()"
        loaded_count, clocks_before, facts_before, locked = self._loaded[case.id]
        now = case.pending_events[-1].recorded_at if case.pending_events else None
        values = _case_values(case)
        values.update(
            version=case.version + 1,
            b_id=case.id,
            b_version=case.version,
            b_added=len(case.pending_events),
        )
        if now is not None:
            values["updated_at"] = now
        event_count: int
        if locked and self._pending is not None:
            # Held with the rest of the transaction's writes; the version check is the gate
            # of the statement that sends them (pg_command), before anything commits.
            event_count = loaded_count + len(case.pending_events)
            del values["b_id"], values["b_version"], values["b_added"]
            values.update(id=case.id, event_count=event_count, updated_at=now)
            self._pending.update_case(self._conn, case.reference, case.version, values)
            case.version += 1
            at = now or case.received_at
            self._hold_parts(case, clocks_before, loaded_count, at, facts_before)
        elif locked:
            # PostgreSQL, row locked since it was read: nobody can have moved its version or
            # event count, so the update goes in the same round trip as the other writes (its
            # row count is still checked, before anything can commit).
            event_count = loaded_count + len(case.pending_events)
            case.version += 1
            updated = self._write_parts(
                case, clocks_before, loaded_count, now or case.received_at, facts_before, values
            )
            if updated != 1:
                raise ConcurrencyError(case.reference, case.version - 1)
        else:
            returned = self._conn.execute(_UPDATE_CASE, values).scalar()
            if returned is None:
                raise ConcurrencyError(case.reference, case.version)
            event_count = int(returned)
            case.version += 1
            already = event_count - len(case.pending_events)
            self._write_parts(case, clocks_before, already, now or case.received_at, facts_before)
        self._loaded[case.id] = (event_count, _clock_rows(case), _facts(case), locked)
        case.pending_events.clear()

    def _write_parts(
        self,
        case: Case,
        clocks_before: dict[str, dict[str, Any]],
        already: int,
        now: datetime,
        facts_before: frozenset[str],
        case_values: dict[str, Any] | None = None,
    ) -> int:
        """Clocks, events, flags, work items and report facts (and with ``case_values`` the
        case row, first): none returns anything, so on PostgreSQL they go in one pipelined
        round trip. Returns the number of case rows updated (0 without ``case_values``)."""
        if case.pending_items is not None and case.open_items is None:
            write_work_items(self._conn, case, now)  # reads the open items first
        result = None
        try:
            with pipelined(self._conn):
                if case_values is not None:
                    result = self._conn.execute(_UPDATE_LOCKED_CASE, case_values)
                self._write_clocks(case, clocks_before)
                self._write_events(case, already)
                write_flag_changes(self._conn, [case])
                write_work_items(self._conn, case, now)
                write_report_facts(self._conn, case, facts_before)
        except IntegrityError as exc:
            if constraint_of(exc) == EVENT_SEQUENCE:
                raise ConcurrencyError(case.reference, case.version - 1) from None
            raise
        # Pipelined, the count arrives with the block's results, on the driver's cursor.
        return 0 if result is None else int(result.context.cursor.rowcount)

    def _hold_parts(
        self,
        case: Case,
        clocks_before: dict[str, dict[str, Any]],
        already: int,
        now: datetime,
        facts_before: frozenset[str],
    ) -> None:
        """``_write_parts``' rows, held in ``pending`` for one statement."""
        pending = self._pending
        assert pending is not None
        pending.add("clocks", _changed_clocks(case, clocks_before))
        pending.add("events", event_rows(case, already))
        flags = folded(take_flag_changes([case]))
        pending.add("flags", flags.raises)
        pending.add("flag_clears", flags.clears)
        pending.add("flag_withdrawals", flags.withdrawals)
        items = take_item_changes(self._conn, [case], now)
        if items is not None:
            pending.add("item_closes", items.closes)
            pending.add("item_reranks", items.reranks)
            pending.add("items", items.inserts)
        milestones, responses = new_fact_rows(case, facts_before)
        pending.add("milestones", milestones)
        pending.add("responses", responses)

    def _write_clocks(self, case: Case, before: dict[str, dict[str, Any]]) -> None:
        changed = _changed_clocks(case, before)
        if changed:
            self._conn.execute(_UPSERT_CLOCKS[self._conn.dialect.name], changed)

    def _write_events(self, case: Case, already: int) -> None:
        if not case.pending_events:
            return
        try:
            self._conn.execute(_INSERT_EVENTS, event_rows(case, already))
        except IntegrityError:
            raise ConcurrencyError(case.reference, case.version - 1) from None


def _changed_clocks(case: Case, before: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"case_id": case.id, "clock": name, **row}
        for name, row in _clock_rows(case).items()
        if before.get(name) != row
    ]


def event_rows(case: Case, already: int) -> list[dict[str, Any]]:
    """Rows for the case's pending events, numbered after the ``already`` stored ones."""
    return [
        {
            "case_id": case.id,
            "seq": already + i,
            "kind": e.kind,
            "occurred_at": e.occurred_at,
            "recorded_at": e.recorded_at,
            "actor": e.actor,
            "data": jsonable(e.data),
            "before": jsonable(e.before),
            "after": jsonable(e.after),
        }
        for i, e in enumerate(case.pending_events, start=1)
    ]


class SqlUnitOfWork:
    """One transaction on one connection; rolls back unless ``commit()`` was called (one that
    only read ends with ``COMMIT`` on PostgreSQL: see ``connection.wrote_nothing``)."""

    cases: SqlCaseRepository
    queue: SqlWorkQueue
    jobs: SqlJobs

    def __init__(self, db_engine: Engine, *, one_statement: bool = True) -> None:
        """``one_statement=False`` makes PostgreSQL take SQLite's path, a SQLAlchemy statement
        per kind of row (the tests compare the two)."""
        self._engine = db_engine
        self._one_statement = one_statement
        self._conn: Connection | None = None
        self._pending: PendingWrites | None = None
        self._held = 0  # the key of the pending writes' flusher (connection.hold_writes)

    def __enter__(self) -> SqlUnitOfWork:
        try:
            self._conn = self._engine.connect()
            self._conn.begin()
            track_writes(self._conn)
            if self._one_statement and self._conn.dialect.name == "postgresql":
                pending, conn = PendingWrites(), self._conn
                self._pending = pending
                self._held = hold_writes(conn, lambda: pending.flush(conn))
        except DBAPIError as exc:
            if self._conn is not None:
                self._conn.close()
            raise DatabaseError(f"cannot reach the database: {_first_line(exc)}") from exc
        self.cases = SqlCaseRepository(self._conn, self._pending)
        self.queue = SqlWorkQueue(self._conn)
        self.jobs = SqlJobs(self._conn, self._pending)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None
        try:
            if exc is None and self._conn.in_transaction() and wrote_nothing(self._conn):
                self._conn.commit()  # a read-only transaction: keeps the prepared statements
            else:
                self.rollback()
        except DBAPIError:
            pass  # the connection is gone; the server has rolled back already
        finally:
            track_writes(self._conn)  # forget this connection's note
            if self._pending is not None:
                self._pending.discard()
                release_writes(self._held)
                self._pending = None
            self._conn.close()
            self._conn = None
        if isinstance(exc, DBAPIError):
            raise DatabaseError(f"database error, nothing was saved: {_first_line(exc)}") from exc

    def commit(self) -> None:
        assert self._conn is not None
        if self._pending is not None:
            try:
                self._pending.flush(self._conn)
            except DBAPIError as exc:
                raise DatabaseError(
                    f"database error, nothing was saved: {_first_line(exc)}"
                ) from exc
        try:
            self._conn.commit()
        except DBAPIError as exc:
            raise DatabaseError(f"commit failed, nothing was saved: {_first_line(exc)}") from exc

    def rollback(self) -> None:
        if self._pending is not None:
            self._pending.discard()
        if self._conn is not None and self._conn.in_transaction():
            self._conn.rollback()


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", exc)) or type(exc).__name__
    return text.strip().splitlines()[0]


def count_cases(db_engine: Engine) -> int:
    with db_engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(cases)).scalar_one())

"""The work queue on SQL: leases, not held transactions.

Claiming is one statement: ``UPDATE work_items SET claimed... WHERE id = (pick) RETURNING``. The
pick is the better of two candidates, each one short index walk: the first open item in queue
order (``ix_work_items_claim``, a partial index on open items whose columns run in the queue's
own mixed directions, so ``ORDER BY ... LIMIT 1`` reads the index from the top and stops), and
the first item whose lease has run out (``ix_work_items_leases``, on the few claimed items). On
PostgreSQL each candidate is taken ``FOR UPDATE SKIP LOCKED``, so many coordinators claim at
once without waiting on each other or being handed the same item. On SQLite (single site,
embedded) the same statement runs inside ``BEGIN IMMEDIATE``, which serialises writers: an
equally correct equivalent, one claim at a time.

A lease expires by time alone: an item whose ``lease_until`` has passed is claimable again, so
nothing is lost when a coordinator walks away. Completing or releasing is fenced on the holder
and an unexpired lease: ``held`` locks the item and checks both, and ``finish``/``release`` run
after it in the same transaction.

Restricted items (of staff-conduct or restricted cases) exist only for a viewer who may see
every restricted case or who is the case's named manager: the same rule as
``engine.access.can_see``, applied in SQL to the list, the claim and ``held`` alike, so an item
the viewer may not see is "not found" on every path (never "held by someone").

The statements are built once per shape (which filters are set) with bound parameters: building
a statement like these in SQLAlchemy takes longer than PostgreSQL takes to run it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    bindparam,
    literal_column,
    or_,
    select,
    union_all,
    update,
)

from adapters.db.tables import cases, work_items
from engine.errors import LeaseLostError, WorkItemNotFoundError
from engine.queue import QueueFilter, WorkItem

wi = work_items.c

_ORDER = (wi.p_deadline, wi.p_contact.desc(), wi.p_care.desc(), wi.received_at, wi.id)

_manager = cases.c.manager

# What a ``WorkItem`` shows: the item's columns it needs and its case's.
_COLUMNS = (
    wi.id,
    wi.kind,
    wi.status,
    wi.team,
    wi.reason,
    wi.due_on,
    wi.p_deadline,
    wi.p_contact,
    wi.p_care,
    wi.restricted,
    wi.claimed_by,
    wi.lease_until,
    wi.received_at,
    cases.c.reference,
    cases.c.category,
    cases.c.area,
    cases.c.owner,
    cases.c.last_contact_at,
    cases.c.calendar,
)


def _item(row: Any) -> WorkItem:
    (id_, kind, status, team, reason, due_on, p_deadline, p_contact, p_care, restricted) = row[:10]
    (claimed_by, lease_until, received_at, reference, category, area, owner) = row[10:17]
    return WorkItem(
        id=id_,
        reference=reference,
        kind=kind,
        status=status,
        team=team,
        reason=reason,
        due_on=due_on,
        p_deadline=p_deadline,
        p_contact=p_contact,
        p_care=p_care,
        category=category,
        area=area,
        owner=owner,
        restricted=restricted,
        claimed_by=claimed_by,
        lease_until=lease_until,
        last_contact_at=row[17],
        received_at=received_at,
        calendar=row[18],
    )


def _visible(restricted_ok: bool) -> list[Any]:
    """Restricted items only for a viewer who may see them all or manages the case."""
    if restricted_ok:
        return []
    return [or_(wi.restricted.is_(False), _manager == bindparam("b_viewer"))]


def _bound_filters(team: bool, category: bool, area: bool) -> list[Any]:
    """The filters of a query, with the values as parameters (``b_team``, ...)."""
    conditions: list[Any] = []
    if team:
        conditions.append(wi.team == bindparam("b_team"))
    if category:
        conditions.append(cases.c.category == bindparam("b_category"))
    if area:
        conditions.append(cases.c.area == bindparam("b_area"))
    return conditions


Shape = tuple[bool, bool, bool, bool]


def _shape(query: QueueFilter, restricted_ok: bool) -> Shape:
    return (
        query.team is not None,
        query.category is not None,
        query.area is not None,
        restricted_ok,
    )


def _params(query: QueueFilter, viewer: str, restricted_ok: bool, **more: Any) -> dict[str, Any]:
    params = {"b_team": query.team, "b_category": query.category, "b_area": query.area, **more}
    if not restricted_ok:
        params["b_viewer"] = viewer
    return {k: v for k, v in params.items() if v is not None}


def _arms(shape: Shape, claiming: bool) -> dict[str, list[Any]]:
    """Each arm's conditions: the open public items, the open restricted ones the viewer may
    take (all, or those of the cases they manage) and the claimed ones (for a claim, only
    expired leases). Statuses and ``restricted`` are literals, not parameters: the partial
    indexes' predicates and ``ix_work_items_claim``'s leading column must be provable from the
    statement itself (by PostgreSQL's generic plans of prepared statements, and SQLite)."""
    *filters, restricted_ok = shape
    conditions = _bound_filters(*filters)
    status = {name: wi.status == literal_column(f"'{name}'") for name in ("open", "claimed")}
    restricted = [status["open"], wi.restricted.is_(True), *conditions]
    if not restricted_ok:
        restricted.append(_manager == bindparam("b_viewer"))
    claimed = [status["claimed"], *conditions, *_visible(restricted_ok)]
    if claiming:
        claimed.append(wi.lease_until < bindparam("b_now"))
    return {
        "open": [status["open"], wi.restricted.is_(False), *conditions],
        "restricted": restricted,
        "claimed": claimed,
    }


def _candidates(shape: Shape, claiming: bool, lock: bool, limit: Any) -> Any:
    """The first ``limit`` items of each arm (see ``_arms``) in queue order, on PostgreSQL
    each ``FOR UPDATE SKIP LOCKED`` when claiming, as one subquery."""
    keys = (wi.id, wi.p_deadline, wi.p_contact, wi.p_care, wi.received_at)
    arms = []
    for name, where in _arms(shape, claiming).items():
        arm = (
            select(*keys)
            .join(cases, cases.c.id == wi.case_id)
            .where(*where)
            .order_by(*_ORDER)
            .limit(limit)
        )
        if lock:
            arm = arm.with_for_update(skip_locked=True, of=work_items)
        arms.append(arm.subquery(f"best_{name}").select())
    return union_all(*arms).subquery("candidates")


def _in_order(both: Any) -> tuple[Any, ...]:
    c = both.c
    return (c.p_deadline, c.p_contact.desc(), c.p_care.desc(), c.received_at, c.id)


_CLAIM_VALUES = {
    "status": "claimed",
    "claimed_by": bindparam("b_actor"),
    "claimed_at": bindparam("b_now"),
    "lease_until": bindparam("b_lease"),
}


@cache
def _claim_statement(shape: Shape, postgres: bool) -> Any:
    """``UPDATE ... WHERE id = (pick) RETURNING``: the item with its case's columns on
    PostgreSQL (``UPDATE ... FROM cases``), its id on SQLite (which cannot return them)."""
    # ``LIMIT 1`` as a literal: PostgreSQL costs a generic plan's ``LIMIT $1`` as a tenth of the
    # table and so re-planned the claim at every call (1 ms of its CPU, measured), where with a
    # literal the prepared statement's generic plan is taken after the first few calls.
    one = literal_column("1", Integer)
    both = _candidates(shape, True, postgres, one)
    pick = select(both.c.id).order_by(*_in_order(both)).limit(one).scalar_subquery()
    stmt = update(work_items).where(wi.id == pick).values(_CLAIM_VALUES)
    if postgres:
        return stmt.where(cases.c.id == wi.case_id).returning(*_COLUMNS)
    return stmt.returning(wi.id)


@cache
def _list_statement(shape: Shape) -> Any:
    """Open and claimed items, most urgent first (``b_limit`` of them)."""
    both = _candidates(shape, False, False, bindparam("b_limit"))
    return (
        select(*_COLUMNS)
        .select_from(both)
        .join(work_items, wi.id == both.c.id)
        .join(cases, cases.c.id == wi.case_id)
        .order_by(*_in_order(both))
        .limit(bindparam("b_limit"))
    )


@cache
def _get_statement(restricted_ok: bool, lock: bool) -> Any:
    stmt = (
        select(*_COLUMNS)
        .join(cases, cases.c.id == wi.case_id)
        .where(wi.id == bindparam("b_id"), *_visible(restricted_ok))
    )
    return stmt.with_for_update(of=work_items) if lock else stmt


_LOCK_CASE = (
    select(cases.c.id)
    .where(cases.c.id == select(wi.case_id).where(wi.id == bindparam("b_id")).scalar_subquery())
    .with_for_update()
)
_EXISTS = select(wi.id).where(wi.id == bindparam("b_id"))
_FINISH = (
    update(work_items)
    .where(wi.id == bindparam("b_id"))
    .values(
        status="done",
        closed_at=bindparam("b_now"),
        closed_by=bindparam("b_actor"),
        outcome=bindparam("b_outcome"),
    )
)
_RELEASE = (
    update(work_items)
    .where(wi.id == bindparam("b_id"))
    .values(status="open", claimed_by=None, claimed_at=None, lease_until=None)
)


class SqlWorkQueue:
    """``WorkQueueRepository`` on one connection's transaction."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection
        self._postgres = connection.dialect.name == "postgresql"

    def claim(
        self,
        actor: str,
        now: datetime,
        lease_until: datetime,
        query: QueueFilter,
        may_see_restricted: bool,
    ) -> WorkItem | None:
        stmt = _claim_statement(_shape(query, may_see_restricted), self._postgres)
        params = _params(
            query, actor, may_see_restricted, b_now=now, b_actor=actor, b_lease=lease_until
        )
        row = self._conn.execute(stmt, params).first()
        if row is None:
            return None
        return _item(row) if self._postgres else self._get(row.id, actor, may_see_restricted)

    def _get(
        self, item_id: int, viewer: str, may_see_restricted: bool, *, lock: bool = False
    ) -> WorkItem:
        stmt = _get_statement(may_see_restricted, lock and self._postgres)
        params = _params(QueueFilter(), viewer, may_see_restricted, b_id=item_id)
        row = self._conn.execute(stmt, params).first()
        if row is None:
            hidden = not may_see_restricted and self._exists(item_id)
            raise WorkItemNotFoundError(item_id, hidden=hidden)
        return _item(row)

    def _exists(self, item_id: int) -> bool:
        """Is there an item with this number at all? (Only asked after a refusal, so that
        hiding a restricted item can be logged as a security event.)"""
        found = self._conn.execute(_EXISTS, {"b_id": item_id}).first()
        return found is not None

    def held(self, item_id: int, actor: str, now: datetime, may_see_restricted: bool) -> WorkItem:
        """The item ``actor`` holds an unexpired lease on, locked until the transaction ends.

        An item ``actor`` may not see is not found, whoever holds it. On PostgreSQL the item's
        case row is locked first, then the item: the order every command and the sweep take
        them in (case, then its items). Locking the item first would let ``complete`` (item,
        then case for its command) deadlock against a command or sweep batch on the same case.
        """
        if self._postgres:
            self._conn.execute(_LOCK_CASE, {"b_id": item_id})
        item = self._get(item_id, actor, may_see_restricted, lock=True)
        expired = item.lease_until is None or item.lease_until < now
        if item.status != "claimed" or item.claimed_by != actor or expired:
            status = "expired" if item.status == "claimed" and expired else item.status
            raise LeaseLostError(item_id, actor, status, item.claimed_by)
        return item

    def finish(self, item_id: int, actor: str, now: datetime, outcome: str) -> None:
        """Mark the item done (after :meth:`held` in the same transaction, which fences it)."""
        params = {"b_id": item_id, "b_now": now, "b_actor": actor, "b_outcome": outcome[:200]}
        self._conn.execute(_FINISH, params)

    def release(self, item_id: int, actor: str, now: datetime, may_see_restricted: bool) -> None:
        self.held(item_id, actor, now, may_see_restricted)
        self._conn.execute(_RELEASE, {"b_id": item_id})

    def items(
        self, query: QueueFilter, may_see_restricted: bool, viewer: str
    ) -> Sequence[WorkItem]:
        stmt = _list_statement(_shape(query, may_see_restricted))
        params = _params(query, viewer, may_see_restricted, b_limit=query.limit)
        return [_item(row) for row in self._conn.execute(stmt, params)]

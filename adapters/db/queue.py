"""The work queue on SQL: leases, not held transactions.

Claiming is one statement: ``UPDATE work_items SET claimed... WHERE id = (SELECT ... ORDER BY
priority LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING``. On PostgreSQL ``SKIP LOCKED`` lets many
coordinators claim at once without waiting on each other or being handed the same item, and the
pick walks ``ix_work_items_queue`` instead of sorting the queue (see ``_index_pick``), falling
back to the plain sorted pick only when it finds nothing free. On SQLite (single site, embedded)
the sorted pick runs inside ``BEGIN IMMEDIATE``, which serialises writers: an equally correct
equivalent, one claim at a time.

A lease expires by time alone: an item whose ``lease_until`` has passed is claimable again, so
nothing is lost when a coordinator walks away. Completing or releasing is fenced on the holder
and an unexpired lease: ``held`` locks the item and checks both, and ``finish``/``release`` run
after it in the same transaction.

The statements are built once per shape (which filters are set) with bound parameters, so a
claim costs the database work and little else: building a statement like these in SQLAlchemy
takes longer than PostgreSQL takes to run it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    and_,
    bindparam,
    func,
    or_,
    select,
    union_all,
    update,
)

from adapters.db.tables import cases, work_items
from engine.errors import LeaseLostError, WorkItemNotFoundError
from engine.queue import QueueFilter, WorkItem

_ORDER = (
    work_items.c.p_deadline,
    work_items.c.p_contact.desc(),
    work_items.c.p_care.desc(),
    work_items.c.received_at,
    work_items.c.id,
)

_COLUMNS = (
    work_items,
    cases.c.reference,
    cases.c.category,
    cases.c.area,
    cases.c.owner,
    cases.c.last_contact_at,
    cases.c.calendar,
)


def _item(row: Row[Any]) -> WorkItem:
    m = row._mapping
    return WorkItem(
        id=m["id"],
        reference=m["reference"],
        kind=m["kind"],
        status=m["status"],
        team=m["team"],
        reason=m["reason"],
        due_on=m["due_on"],
        p_deadline=m["p_deadline"],
        p_contact=m["p_contact"],
        p_care=m["p_care"],
        category=m["category"],
        area=m["area"],
        owner=m["owner"],
        restricted=m["restricted"],
        claimed_by=m["claimed_by"],
        lease_until=m["lease_until"],
        last_contact_at=m["last_contact_at"],
        received_at=m["received_at"],
        calendar=m["calendar"],
    )


def _filters(query: QueueFilter, may_see_restricted: bool) -> list[Any]:
    conditions: list[Any] = []
    if query.team is not None:
        conditions.append(work_items.c.team == query.team)
    if query.category is not None:
        conditions.append(cases.c.category == query.category)
    if query.area is not None:
        conditions.append(cases.c.area == query.area)
    if not may_see_restricted:
        conditions.append(work_items.c.restricted.is_(False))
    return conditions


# -- claim statements, one per shape ---------------------------------------------------------------

_CLAIMABLE = or_(
    work_items.c.status == "open",
    and_(work_items.c.status == "claimed", work_items.c.lease_until < bindparam("b_now")),
)


def _bound_filters(team: bool, category: bool, area: bool, restricted_ok: bool) -> list[Any]:
    """The filters of a claim, with the values as parameters (``b_team``, ...)."""
    conditions: list[Any] = []
    if team:
        conditions.append(work_items.c.team == bindparam("b_team"))
    if category:
        conditions.append(cases.c.category == bindparam("b_category"))
    if area:
        conditions.append(cases.c.area == bindparam("b_area"))
    if not restricted_ok:
        conditions.append(work_items.c.restricted.is_(False))
    return conditions


def _full_order_pick(
    team: bool, category: bool, area: bool, restricted_ok: bool, postgres: bool
) -> Any:
    """The first claimable item in the queue's order (a sort of every claimable item)."""
    pick = (
        select(work_items.c.id)
        .join(cases, cases.c.id == work_items.c.case_id)
        .where(_CLAIMABLE, *_bound_filters(team, category, area, restricted_ok))
        .order_by(*_ORDER)
        .limit(1)
    )
    return pick.with_for_update(skip_locked=True, of=work_items) if postgres else pick


def _index_pick(team: bool, restricted_ok: bool) -> Any:
    """PostgreSQL: the best claimable item found through ``ix_work_items_queue`` alone.

    The queue's order (deadline rank up, countdown level down, care down, oldest first) mixes
    directions, so ``ORDER BY ... LIMIT 1`` over the open items sorts them all on every claim
    (~8 ms at 10,000 items, and claims are then CPU-bound). Instead, the best open (deadline,
    level, care) is found with three min/max probes of the index, and within that group the
    index gives the oldest first; the best expired lease is looked up among the (few) claimed
    items. Both candidates are locked ``SKIP LOCKED`` and the better one is taken. When no open
    candidate is free (its whole group is locked by other claimers) nothing is returned and the
    caller falls back to the full order. Team and restricted are columns of the item, so they
    filter the probes; a category or area filter needs the case, and takes the full order.
    """
    wi = work_items.c
    conditions = _bound_filters(team, False, False, restricted_ok)
    opened = [wi.status == "open", *conditions]
    # Each probe is a CTE so that it runs once (an inlined subquery repeated in the later
    # probes would be planned, and run, once per use).
    best_deadline = select(func.min(wi.p_deadline).label("v")).where(*opened).cte("best_deadline")
    deadline = select(best_deadline.c.v).scalar_subquery()
    best_level = (
        select(func.max(wi.p_contact).label("v"))
        .where(*opened, wi.p_deadline == deadline)
        .cte("best_level")
    )
    level = select(best_level.c.v).scalar_subquery()
    best_care = (
        select(func.max(wi.p_care).label("v"))
        .where(*opened, wi.p_deadline == deadline, wi.p_contact == level)
        .cte("best_care")
    )
    care = select(best_care.c.v).scalar_subquery()
    keys = (wi.id, wi.p_deadline, wi.p_contact, wi.p_care, wi.received_at)
    best_open = (
        select(*keys)
        .where(*opened, wi.p_deadline == deadline, wi.p_contact == level, wi.p_care == care)
        .order_by(wi.received_at, wi.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .subquery("best_open")
    )
    best_expired = (
        select(*keys)
        .where(wi.status == "claimed", wi.lease_until < bindparam("b_now"), *conditions)
        .order_by(*_ORDER)
        .limit(1)
        .with_for_update(skip_locked=True)
        .subquery("best_expired")
    )
    both = union_all(select(best_open), select(best_expired)).subquery("candidates")
    return (
        select(both.c.id)
        .order_by(
            both.c.p_deadline,
            both.c.p_contact.desc(),
            both.c.p_care.desc(),
            both.c.received_at,
            both.c.id,
        )
        .limit(1)
    )


_CLAIM_VALUES = {
    "status": "claimed",
    "claimed_by": bindparam("b_actor"),
    "claimed_at": bindparam("b_now"),
    "lease_until": bindparam("b_lease"),
}


@cache
def _claim_statement(pick_kind: str, shape: tuple[bool, bool, bool, bool], postgres: bool) -> Any:
    """``UPDATE ... WHERE id = (pick) RETURNING``: the item with its case's columns on
    PostgreSQL (``UPDATE ... FROM cases``), its id on SQLite (which cannot return them)."""
    team, category, area, restricted_ok = shape
    if pick_kind == "index":
        pick = _index_pick(team, restricted_ok)
    else:
        pick = _full_order_pick(team, category, area, restricted_ok, postgres)
    stmt = (
        update(work_items)
        .where(work_items.c.id == pick.correlate(None).scalar_subquery(), _CLAIMABLE)
        .values(_CLAIM_VALUES)
    )
    if postgres:
        return stmt.where(cases.c.id == work_items.c.case_id).returning(*_COLUMNS)
    return stmt.returning(work_items.c.id)


_GET = (
    select(*_COLUMNS)
    .join(cases, cases.c.id == work_items.c.case_id)
    .where(work_items.c.id == bindparam("b_id"))
)
_GET_LOCKED = _GET.with_for_update(of=work_items)
_LOCK_CASE = (
    select(cases.c.id)
    .where(
        cases.c.id
        == select(work_items.c.case_id)
        .where(work_items.c.id == bindparam("b_id"))
        .scalar_subquery()
    )
    .with_for_update()
)
_FINISH = (
    update(work_items)
    .where(work_items.c.id == bindparam("b_id"))
    .values(
        status="done",
        closed_at=bindparam("b_now"),
        closed_by=bindparam("b_actor"),
        outcome=bindparam("b_outcome"),
    )
)
_RELEASE = (
    update(work_items)
    .where(work_items.c.id == bindparam("b_id"))
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
        shape = (
            query.team is not None,
            query.category is not None,
            query.area is not None,
            may_see_restricted,
        )
        params = {
            "b_now": now,
            "b_actor": actor,
            "b_lease": lease_until,
            "b_team": query.team,
            "b_category": query.category,
            "b_area": query.area,
        }
        params = {k: v for k, v in params.items() if v is not None}
        row = None
        if self._postgres and query.category is None and query.area is None:
            row = self._conn.execute(_claim_statement("index", shape, True), params).first()
        if row is None:
            stmt = _claim_statement("full", shape, self._postgres)
            row = self._conn.execute(stmt, params).first()
        if row is None:
            return None
        return _item(row) if self._postgres else self._get(row.id)

    def _get(self, item_id: int, *, lock: bool = False) -> WorkItem:
        stmt = _GET_LOCKED if lock and self._postgres else _GET
        row = self._conn.execute(stmt, {"b_id": item_id}).first()
        if row is None:
            raise WorkItemNotFoundError(item_id)
        return _item(row)

    def held(self, item_id: int, actor: str, now: datetime) -> WorkItem:
        """The item ``actor`` holds an unexpired lease on, locked until the transaction ends.

        On PostgreSQL the item's case row is locked first, then the item: the order every
        command and the sweep take them in (case, then its items). Locking the item first would
        let ``complete`` (item, then case for its command) deadlock against a command or sweep
        batch on the same case (case, then its items).
        """
        if self._postgres:
            self._conn.execute(_LOCK_CASE, {"b_id": item_id})
        item = self._get(item_id, lock=True)
        expired = item.lease_until is None or item.lease_until < now
        if item.status != "claimed" or item.claimed_by != actor or expired:
            status = "expired" if item.status == "claimed" and expired else item.status
            raise LeaseLostError(item_id, actor, status, item.claimed_by)
        return item

    def finish(self, item_id: int, actor: str, now: datetime, outcome: str) -> None:
        """Mark the item done (after :meth:`held` in the same transaction, which fences it)."""
        params = {"b_id": item_id, "b_now": now, "b_actor": actor, "b_outcome": outcome[:200]}
        self._conn.execute(_FINISH, params)

    def release(self, item_id: int, actor: str, now: datetime) -> None:
        self.held(item_id, actor, now)
        self._conn.execute(_RELEASE, {"b_id": item_id})

    def items(self, query: QueueFilter, may_see_restricted: bool) -> Sequence[WorkItem]:
        stmt = (
            select(*_COLUMNS)
            .join(cases, cases.c.id == work_items.c.case_id)
            .where(
                work_items.c.status.in_(("open", "claimed")), *_filters(query, may_see_restricted)
            )
            .order_by(*_ORDER)
            .limit(query.limit)
        )
        return [_item(row) for row in self._conn.execute(stmt)]

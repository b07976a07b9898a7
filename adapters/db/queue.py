"""The work queue on SQL: leases, not held transactions.

Claiming is one statement: ``UPDATE work_items SET claimed... WHERE id = (SELECT ... ORDER BY
priority LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING``. On PostgreSQL ``SKIP LOCKED`` lets many
coordinators claim at once without waiting on each other or being handed the same item. On
SQLite (single site, embedded) the same statement runs inside ``BEGIN IMMEDIATE``, which
serialises writers, so it is equally correct, one claim at a time.

A lease expires by time alone: an item whose ``lease_until`` has passed is claimable again, so
nothing is lost when a coordinator walks away. Completing or releasing is fenced on the holder
and an unexpired lease.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, or_, select, update

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


class SqlWorkQueue:
    """``WorkQueueRepository`` on one connection's transaction."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def claim(
        self,
        actor: str,
        now: datetime,
        lease_until: datetime,
        query: QueueFilter,
        may_see_restricted: bool,
    ) -> WorkItem | None:
        claimable = or_(
            work_items.c.status == "open",
            and_(work_items.c.status == "claimed", work_items.c.lease_until < now),
        )
        pick = (
            select(work_items.c.id)
            .join(cases, cases.c.id == work_items.c.case_id)
            .where(claimable, *_filters(query, may_see_restricted))
            .order_by(*_ORDER)
            .limit(1)
        )
        if self._conn.dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True, of=work_items)
        claimed_id = self._conn.execute(
            update(work_items)
            .where(work_items.c.id == pick.scalar_subquery(), claimable)
            .values(status="claimed", claimed_by=actor, claimed_at=now, lease_until=lease_until)
            .returning(work_items.c.id)
        ).scalar()
        return None if claimed_id is None else self._get(claimed_id)

    def _get(self, item_id: int, *, lock: bool = False) -> WorkItem:
        stmt = (
            select(*_COLUMNS)
            .join(cases, cases.c.id == work_items.c.case_id)
            .where(work_items.c.id == item_id)
        )
        if lock and self._conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update(of=work_items)
        row = self._conn.execute(stmt).first()
        if row is None:
            raise WorkItemNotFoundError(item_id)
        return _item(row)

    def held(self, item_id: int, actor: str, now: datetime) -> WorkItem:
        item = self._get(item_id, lock=True)
        expired = item.lease_until is None or item.lease_until < now
        if item.status != "claimed" or item.claimed_by != actor or expired:
            status = "expired" if item.status == "claimed" and expired else item.status
            raise LeaseLostError(item_id, actor, status, item.claimed_by)
        return item

    def finish(self, item_id: int, actor: str, now: datetime, outcome: str) -> None:
        self._conn.execute(
            update(work_items)
            .where(work_items.c.id == item_id)
            .values(status="done", closed_at=now, closed_by=actor, outcome=outcome[:200])
        )

    def release(self, item_id: int, actor: str, now: datetime) -> None:
        self.held(item_id, actor, now)
        self._conn.execute(
            update(work_items)
            .where(work_items.c.id == item_id)
            .values(status="open", claimed_by=None, claimed_at=None, lease_until=None)
        )

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

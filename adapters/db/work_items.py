"""Writing a case's work items: open the new ones, re-rank the changed, close the needless.

Called with the case's transaction, so items change atomically with the case and its flags.
Claimed items keep their claim when re-ranked; an item whose need is met closes as ``done`` by
``system`` even while claimed (the coordinator's next completion attempt is then told so).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, insert, select, update

from adapters.db.tables import work_items
from engine.model import Case
from engine.queue import ItemSpec

OPEN_STATES = ("open", "claimed")


def write_work_items(conn: Connection, case: Case, now: datetime) -> None:
    """Write one case's pending items (see :func:`write_work_items_bulk`)."""
    write_work_items_bulk(conn, [case], now)


def open_items_by_case(conn: Connection, cases: Sequence[Case]) -> dict[tuple[int, str], Any]:
    """The open work items of ``cases`` by (case id, kind): those their load brought along, the
    rest read in one query. Each case's ``open_items`` is cleared: stale once its items are
    written, so a later write reads them again."""
    existing: dict[tuple[int, str], Any] = {}
    unknown = [c.id for c in cases if c.open_items is None]
    if unknown:
        existing.update(
            ((row.case_id, row.kind), row)
            for row in conn.execute(
                select(work_items).where(
                    work_items.c.case_id.in_(unknown), work_items.c.status.in_(OPEN_STATES)
                )
            )
        )
    for case in cases:
        if case.open_items is not None:
            assert case.id is not None
            existing.update(((case.id, kind), row) for kind, row in case.open_items.items())
            case.open_items = None
    return existing


class ItemChanges(NamedTuple):
    """A batch's work-item writes as rows named by ``work_items``' columns."""

    closes: list[dict[str, Any]]  # id, closed_at
    reranks: list[dict[str, Any]]  # id and the VALUE_KEYS
    inserts: list[dict[str, Any]]


def take_item_changes(conn: Connection, batch: Sequence[Case], now: datetime) -> ItemChanges | None:
    """The writes that bring each case's open items to its pending ones (None: nothing
    pending); the cases' ``pending_items`` are consumed."""
    cases = [c for c in batch if c.pending_items is not None]
    if not cases:
        return None
    existing = open_items_by_case(conn, cases)
    changes = ItemChanges([], [], [])
    for case in cases:
        desired: dict[str, ItemSpec] = case.pending_items or {}
        case.pending_items = None
        assert case.id is not None
        for (case_id, kind), row in existing.items():
            if case_id == case.id and kind not in desired:
                changes.closes.append({"id": row.id, "closed_at": now})
        for kind, spec in desired.items():
            values = _values(spec)
            current = existing.get((case.id, kind))
            if current is None:
                changes.inserts.append(
                    {
                        **values,
                        "case_id": case.id,
                        "kind": kind,
                        "status": "open",
                        "restricted": case.restricted,
                        "received_at": case.received_at,
                        "created_at": now,
                    }
                )
            elif any(getattr(current, k) != v for k, v in values.items()):
                changes.reranks.append({"id": current.id, **values})
    return changes


def write_work_items_bulk(conn: Connection, batch: Sequence[Case], now: datetime) -> None:
    """Write the pending items of every case in ``batch`` with a handful of statements."""
    changes = take_item_changes(conn, batch, now)
    if changes is None:
        return
    if changes.closes:
        conn.execute(_CLOSE, [{"b_id": r["id"], "b_now": r["closed_at"]} for r in changes.closes])
    if changes.reranks:
        conn.execute(_RERANK, [{f"b_{k}": v for k, v in row.items()} for row in changes.reranks])
    if changes.inserts:
        conn.execute(_INSERT, changes.inserts)


VALUE_KEYS = ("team", "p_deadline", "p_contact", "p_care", "reason", "due_on")
"""The columns an item's rank and reason live in: what a re-rank rewrites."""
# Built once, values in the parameters: building statements per call cost more than running them.
_CLOSE = (
    update(work_items)
    .where(work_items.c.id == bindparam("b_id"))
    .values(status="done", closed_at=bindparam("b_now"), closed_by="system", outcome="need met")
)
_RERANK = (
    update(work_items)
    .where(work_items.c.id == bindparam("b_id"))
    .values({k: bindparam(f"b_{k}") for k in VALUE_KEYS})
)
_INSERT = insert(work_items).inline()  # no implicit RETURNING id: it may be pipelined


def _values(spec: ItemSpec) -> dict[str, Any]:
    return {
        "team": spec.team,
        "p_deadline": spec.p_deadline,
        "p_contact": spec.p_contact,
        "p_care": spec.p_care,
        "reason": spec.reason[:200],
        "due_on": spec.due_on,
    }

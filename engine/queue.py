"""Work-item rules: what on a case needs a person now, and how urgent it is.

Pure. A case has at most one open item per kind; the set of items it should have is recomputed
whenever the case or its flags change, so an item closes itself when its need is met (a contact
clears a ``contact`` item, an acknowledgement an ``acknowledge`` item).

Priority is explicit and explained (``reason``): the most urgent deadline first (breached, then
due today, then due soon), then the higher contact-countdown level, then cases with a health and
safety issue or a vulnerable resident, then the oldest case.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from engine.definition import WorkflowDefinition
from engine.events import Event
from engine.model import Case
from sla.flags import BREACHED, DUE_SOON, DUE_TODAY, Flag
from sla.policy import ContactLevel

DEADLINE_RANK = {BREACHED: 0, DUE_TODAY: 1, DUE_SOON: 2}
NO_DEADLINE = 3
ACTION_WARNING_DAYS = 5


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """One piece of work a case needs, with its priority parts."""

    kind: str
    p_deadline: int
    p_contact: int
    p_care: int
    reason: str
    due_on: date | None = None
    team: str = "complaints"

    def sort_key(self) -> tuple[int, int, int]:
        return (self.p_deadline, -self.p_contact, -self.p_care)


def desired_items(
    case: Case,
    definition: WorkflowDefinition,
    contact_levels: Sequence[ContactLevel],
    as_of: date,
    team: str = "complaints",
) -> dict[str, ItemSpec]:
    """The work items ``case`` should have open on ``as_of``, by kind, for ``team``."""
    if not case.is_open:
        return {}
    return {
        kind: replace(spec, team=team)
        for kind, spec in _items(case, definition, contact_levels, as_of).items()
    }


def _items(
    case: Case,
    definition: WorkflowDefinition,
    contact_levels: Sequence[ContactLevel],
    as_of: date,
) -> dict[str, ItemSpec]:
    care = 1 if case.priority == "high" else 0
    care_note = _care_note(case)
    top_contact = _top_contact(case, contact_levels)
    # Every item of the case carries its countdown level: between two breached responses, the
    # resident left longer without contact comes first.
    contact_rank = top_contact[1] if top_contact is not None else 0
    raised = case.raised_flags
    deadline_levels: dict[str, str] = {}
    for flag in raised:
        if flag.clock is not None:
            current = deadline_levels.get(flag.clock)
            if current is None or DEADLINE_RANK[flag.level] < DEADLINE_RANK[current]:
                deadline_levels[flag.clock] = flag.level
    items: dict[str, ItemSpec] = {}
    for name, clock in case.clocks.items():
        if not clock.running:
            continue
        level = deadline_levels.get(name)
        if level is None and name not in definition.work_now_clocks:
            continue
        rank = DEADLINE_RANK[level] if level else NO_DEADLINE
        kind = name.replace("_", "-")
        status = f"{level} (due {clock.due_on})" if level else f"due {clock.due_on}"
        items[kind] = ItemSpec(
            kind, rank, contact_rank, care, f"{clock.label}: {status}{care_note}", clock.due_on
        )
    if top_contact is not None:
        contact = _contact_item(*top_contact, care, care_note)
        items[contact.kind] = contact
    action = _action_item(case, as_of, contact_rank, care, care_note)
    if action is not None:
        items[action.kind] = action
    return items


def _care_note(case: Case) -> str:
    notes = []
    if case.health_and_safety:
        notes.append("health and safety")
    if case.vulnerabilities:
        notes.append("vulnerable resident")
    return f"; {', '.join(notes)}" if notes else ""


def _top_contact(case: Case, levels: Sequence[ContactLevel]) -> tuple[Flag, int] | None:
    """The case's highest raised countdown flag and its rank (1 for the first level)."""
    ranks = {level.level: i + 1 for i, level in enumerate(levels)}
    top = max(
        (f for f in case.raised_flags if f.kind == "contact" and f.level in ranks),
        key=lambda f: ranks[f.level],
        default=None,
    )
    return None if top is None else (top, ranks[top.level])


def _contact_item(top: Flag, rank: int, care: int, care_note: str) -> ItemSpec:
    return ItemSpec(
        "contact",
        NO_DEADLINE,
        rank,
        care,
        f"{top.level} since {top.raised_on}: contact the resident{care_note}",
        top.raised_on,
    )


def _action_item(
    case: Case, as_of: date, contact_rank: int, care: int, care_note: str
) -> ItemSpec | None:
    horizon = as_of + timedelta(days=ACTION_WARNING_DAYS)
    due = sorted(
        (a for a in case.outstanding_actions if a.due_on <= horizon), key=lambda a: a.due_on
    )
    if not due:
        return None
    first = due[0]
    if first.due_on < as_of:
        rank, status = DEADLINE_RANK[BREACHED], f"overdue since {first.due_on}"
    elif first.due_on == as_of:
        rank, status = DEADLINE_RANK[DUE_TODAY], "due today"
    else:
        rank, status = DEADLINE_RANK[DUE_SOON], f"due {first.due_on}"
    return ItemSpec(
        "action",
        rank,
        contact_rank,
        care,
        f"action {first.number} ({first.owner}) {status}{care_note}",
        first.due_on,
    )


def plan_work(
    case: Case,
    definition: WorkflowDefinition,
    contact_levels: Sequence[ContactLevel],
    as_of: date,
    team: str,
) -> None:
    """Set ``case.pending_items`` when the case's work items need rewriting (else leave None),
    and bring ``case.next_flag_on`` forward to the next day an action item appears or changes."""
    wanted = desired_items(case, definition, contact_levels, as_of, team)
    upcoming = [
        day
        for action in case.outstanding_actions
        for day in (
            action.due_on - timedelta(days=ACTION_WARNING_DAYS),
            action.due_on,
            action.due_on + timedelta(days=1),
        )
        if day > as_of
    ]
    if upcoming and case.is_open:
        soonest = min(upcoming)
        if case.next_flag_on is None or soonest < case.next_flag_on:
            case.next_flag_on = soonest
    stamp = signature(wanted)
    if stamp != case.work_signature:
        case.work_signature = stamp
        case.pending_items = dict(wanted)


def signature(items: Mapping[str, ItemSpec]) -> str:
    """A short hash of the desired items, stored on the case so unchanged sets cost nothing."""
    text = "|".join(
        f"{s.kind}:{s.p_deadline}:{s.p_contact}:{s.p_care}:{s.due_on}:{s.team}:{s.reason}"
        for s in sorted(items.values(), key=lambda s: s.kind)
    )
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]


REQUEUED = "work_item_requeued"


def requeue_if_needed(
    case: Case,
    wanted: Mapping[str, ItemSpec],
    kind: str,
    item_id: int,
    *,
    actor: str,
    now: datetime,
) -> bool:
    """After item ``item_id`` (of ``kind``) was finished: if the case still wants that kind of
    work (``wanted``, its desired items now), put the need back in the queue.

    Finishing records the coordinator's work, but only the case says whether the need is met
    (a contact recorded, a case acknowledged). When it is not, a fresh open item is planned
    (``case.pending_items``, written with the case) and an event says so; without this the
    item would be gone while the need stays, since the case's plan (its ``work_signature``)
    has not changed and nothing would re-plan it. Returns whether it was put back.
    """
    spec = wanted.get(kind)
    if spec is None:
        return False
    case.pending_items = dict(wanted)
    case.work_signature = signature(wanted)
    case.pending_events.append(
        Event(
            kind=REQUEUED,
            occurred_at=now,
            recorded_at=now,
            actor=actor,
            data={"kind": kind, "item": item_id, "reason": spec.reason},
        )
    )
    return True


@dataclass(frozen=True, slots=True)
class WorkItem:
    """A stored work item with what a coordinator needs to see at a glance."""

    id: int
    reference: str
    kind: str
    status: str
    team: str
    reason: str
    due_on: date | None
    p_deadline: int
    p_contact: int
    p_care: int
    category: str
    area: str
    owner: str | None
    restricted: bool
    claimed_by: str | None
    lease_until: datetime | None
    last_contact_at: datetime | None
    received_at: datetime
    calendar: str


@dataclass(frozen=True, slots=True)
class QueueFilter:
    team: str | None = None
    category: str | None = None
    area: str | None = None
    limit: int = 50

"""Data protection: subject access exports and the retention (anonymisation) run.

* :func:`export_resident` gathers everything held about one resident (their cases with the case
  file, clocks, flags, every event, the contacts recorded and the messages queued to them) as
  JSON-ready data, for a subject access request. It needs the ``export`` permission.
* :func:`apply_retention` anonymises cases closed longer ago than the retention period: the
  resident and property references, the case file's free text, the resident's contact details,
  recorded vulnerabilities and the free text of every event are blanked; dates, states,
  categories, areas, decisions, compensation, clocks, flags, milestones and responses (what the
  reports count) are kept. Each case gets a ``personal_data_erased`` event. It is a dry run unless
  asked to apply, needs the ``retention`` permission, and is idempotent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, insert, select, update

from adapters.db.tables import case_events, cases, jobs, work_items
from adapters.db.types import jsonable
from engine.access import EXPORT, RETENTION, Actor
from engine.ports import CaseFilter
from engine.service import ComplaintsService, require_permission
from engine.views import event_view, iso_instant

log = structlog.get_logger()

ERASED_EVENT = "personal_data_erased"
CONTACT_EVENTS = frozenset({"contact_recorded", "update_interval_agreed"})
ANONYMISED_KEY = "anonymised_at"

PERSONAL_TEXT_KEYS = frozenset(
    {
        "summary",
        "understanding",
        "desired_outcome",
        "reasons",
        "learning",
        "note",
        "reason",
        "good_reason",
        "description",
        "agreed_outcome",
        "comment",
        "complaint_definition",
        "outcome",
        "name",
        "resident_name",
        "email",
        "phone",
        "address",
        "postcode",
        "body",
        "text",
        "notes",
    }
)
"""Keys whose values are free text or contact details: blanked wherever they occur."""
PERSONAL_STRUCTURES = frozenset({"contact_details"})
"""Keys whose whole value is the resident's: replaced by an empty object."""


# -- subject access --------------------------------------------------------------------------------


def export_resident(
    service: ComplaintsService,
    resident_ref: str,
    actor: str | Actor,
    *,
    db_engine: Engine | None = None,
) -> dict[str, Any]:
    """Everything held about the resident with ``resident_ref`` (restricted cases included).

    With ``db_engine`` the messages queued to the resident (the ``jobs`` table) are included.
    """
    who = service.actor(actor)
    require_permission(who, EXPORT, "export-resident")
    ref = str(resident_ref).strip()
    found = service.find(CaseFilter(resident_ref=ref, limit=1_000_000), actor=who) if ref else []
    exported = []
    for case in sorted(found, key=lambda c: (c.received_at, c.reference)):
        events = [event_view(e) for e in service.history(case.reference, actor=who)]
        exported.append(
            {
                "reference": case.reference,
                "workflow": case.workflow,
                "state": case.state,
                "is_open": case.is_open,
                "category": case.category,
                "channel": case.channel,
                "area": case.area,
                "tenure": case.tenure,
                "received_at": iso_instant(case.received_at),
                "closed_at": iso_instant(case.closed_at),
                "resident_ref": case.resident_ref,
                "property_ref": case.property_ref,
                "preferred_contact": case.preferred_contact,
                "vulnerabilities": list(case.vulnerabilities),
                "health_and_safety": case.health_and_safety,
                "restricted": case.restricted,
                "owner": case.owner,
                "linked_reference": case.linked_reference,
                "case_file": jsonable(case.records_data()),
                "clocks": [
                    jsonable(
                        {
                            "clock": c.name,
                            "label": c.label,
                            "started_on": c.started_on,
                            "due_on": c.due_on,
                            "extended_days": c.extended_days,
                            "stopped_on": c.stopped_on,
                            "stop_reason": c.stop_reason,
                        }
                    )
                    for c in case.clocks.values()
                ],
                "flags": [
                    jsonable(
                        {
                            "name": f.name,
                            "level": f.level,
                            "raised_on": f.raised_on,
                            "cleared_on": f.cleared_on,
                        }
                    )
                    for f in case.flags
                ],
                "events": jsonable(events),
                "contacts": jsonable([e for e in events if e["kind"] in CONTACT_EVENTS]),
                "messages": _messages(db_engine, case.id) if db_engine is not None else [],
            }
        )
    log.info("resident_exported", actor=who.name, cases=len(exported))
    return {
        "resident_ref": ref,
        "exported_at": iso_instant(service.now()),
        "exported_by": who.name,
        "cases": exported,
    }


def _messages(db_engine: Engine, case_id: int | None) -> list[dict[str, Any]]:
    with db_engine.connect() as conn:
        rows = conn.execute(
            select(jobs.c.kind, jobs.c.status, jobs.c.payload, jobs.c.created_at)
            .where(jobs.c.case_id == case_id)
            .order_by(jobs.c.id)
        ).all()
    return [
        jsonable(
            {"kind": r.kind, "status": r.status, "payload": r.payload, "created_at": r.created_at}
        )
        for r in rows
    ]


# -- retention -------------------------------------------------------------------------------------


@dataclass
class RetentionRun:
    """What a retention run found (and, unless a dry run, anonymised)."""

    cutoff: datetime
    dry_run: bool
    references: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cutoff": iso_instant(self.cutoff),
            "dry_run": self.dry_run,
            "cases": len(self.references),
            "references": list(self.references),
        }


def blank_personal(value: Any) -> Any:
    """``value`` with every personal key's content blanked (structure and other keys kept)."""
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key, item in value.items():
            if key in PERSONAL_STRUCTURES:
                result[key] = {}
            elif key in PERSONAL_TEXT_KEYS and isinstance(item, str):
                result[key] = ""
            else:
                result[key] = blank_personal(item)
        return result
    if isinstance(value, list):
        return [blank_personal(item) for item in value]
    return value


def apply_retention(
    db_engine: Engine,
    *,
    actor: Actor,
    now: datetime,
    years: int,
    apply: bool = False,
    batch_size: int = 200,
) -> RetentionRun:
    """Anonymise cases closed before ``now - years``; only reports what it would do unless
    ``apply``. Each batch is one transaction, so a run cut short is simply run again."""
    require_permission(actor, RETENTION, "retention apply")
    if years < 0:
        raise ValueError("years must be 0 or more")
    cutoff = now - timedelta(days=round(365.25 * years))
    run = RetentionRun(cutoff=cutoff, dry_run=not apply)
    with db_engine.connect() as conn:
        rows = conn.execute(
            select(cases.c.id, cases.c.reference, cases.c.records)
            .where(cases.c.closed_at.is_not(None), cases.c.closed_at < cutoff)
            .order_by(cases.c.id)
        ).all()
    due = [(r.id, r.reference) for r in rows if ANONYMISED_KEY not in r.records.get("records", {})]
    run.references = [reference for _, reference in due]
    if apply:
        for start in range(0, len(due), batch_size):
            batch = due[start : start + batch_size]
            with db_engine.begin() as conn:
                for case_id, _ in batch:
                    _anonymise(conn, case_id, actor.name, now)
    log.info(
        "retention_run",
        actor=actor.name,
        dry_run=run.dry_run,
        cases=len(run.references),
        cutoff=iso_instant(cutoff),
    )
    return run


def _anonymise(conn: Connection, case_id: int, actor: str, now: datetime) -> None:
    row = conn.execute(select(cases).where(cases.c.id == case_id).with_for_update()).one()
    if ANONYMISED_KEY in row.records.get("records", {}):
        return  # someone else's run got here first
    records = dict(row.records)
    case_file = blank_personal(records.get("records", {}))
    case_file[ANONYMISED_KEY] = now.isoformat()
    records["records"] = case_file
    records["actions"] = blank_personal(records.get("actions", []))
    for event in conn.execute(
        select(
            case_events.c.id, case_events.c.data, case_events.c.before, case_events.c.after
        ).where(case_events.c.case_id == case_id)
    ).all():
        conn.execute(
            update(case_events)
            .where(case_events.c.id == event.id)
            .values(
                data=blank_personal(event.data),
                before=blank_personal(event.before),
                after=blank_personal(event.after),
            )
        )
    seq = row.event_count + 1
    conn.execute(
        insert(case_events).values(
            case_id=case_id,
            seq=seq,
            kind=ERASED_EVENT,
            occurred_at=now,
            recorded_at=now,
            actor=actor,
            data={"fields": sorted(["resident_ref", "property_ref", "vulnerabilities"])},
            before={},
            after={},
        )
    )
    conn.execute(
        update(cases)
        .where(cases.c.id == case_id)
        .values(
            resident_ref=f"anon-{case_id}",
            property_ref=None,
            vulnerabilities=[],
            records=records,
            event_count=seq,
            version=cases.c.version + 1,
            updated_at=now,
        )
    )
    for job in conn.execute(
        select(jobs.c.id, jobs.c.payload).where(jobs.c.case_id == case_id)
    ).all():
        conn.execute(
            update(jobs).where(jobs.c.id == job.id).values(payload=blank_personal(job.payload))
        )
    conn.execute(
        update(work_items)
        .where(work_items.c.case_id == case_id, work_items.c.outcome.is_not(None))
        .values(outcome="")
    )


def retention_summary(run: RetentionRun) -> Sequence[str]:
    """Lines for the CLI."""
    verb = "would anonymise" if run.dry_run else "anonymised"
    lines = [f"{verb} {len(run.references)} case(s) closed before {run.cutoff.date()}"]
    lines.extend(f"  {reference}" for reference in run.references)
    if run.dry_run and run.references:
        lines.append("dry run: nothing was changed; add --apply to anonymise")
    return lines

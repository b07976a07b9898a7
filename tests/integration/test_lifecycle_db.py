"""A complaint's life on a real database: the audit trail, the persisted deadlines, linked cases.

Every test runs on SQLite and on PostgreSQL (the ``db_url`` fixture). Times come from a
``FakeClock``; the steps are back-dated with ``at`` so that what happened and when it was recorded
can be told apart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from sqlalchemy import Engine, select
from support import FakeClock, case_snapshot, london, only_postgres

from adapters.db.repository import DatabaseError, SqlUnitOfWork
from adapters.db.tables import case_clocks, cases
from engine.service import ComplaintsService

ENGLAND = "england-and-wales"
SCOTLAND = "scotland"


def open_complaint(service: ComplaintsService, **overrides: Any) -> str:
    fields: dict[str, Any] = {
        "actor": "alice",
        "category": "repairs",
        "channel": "phone",
        "area": "north",
        "summary": "Water coming through the kitchen ceiling.",
        "resident_ref": "R-1001",
        "vulnerabilities": ["mobility"],
    }
    fields.update(overrides)
    return service.open(**fields).reference


def clock_table(case_clocks_rows: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    return {
        r["clock"]: (
            r["started_on"],
            r["base_days"],
            r["extended_days"],
            r["due_on"],
            r["stopped_on"],
            r["stop_reason"],
        )
        for r in case_clocks_rows
    }


def stored_clocks(db_engine: Engine, reference: str) -> dict[str, tuple[Any, ...]]:
    """The ``case_clocks`` rows of a case (what sweeps and reports read), keyed by clock."""
    with db_engine.connect() as conn:
        case_id = conn.execute(select(cases.c.id).where(cases.c.reference == reference)).scalar()
        rows = conn.execute(select(case_clocks).where(case_clocks.c.case_id == case_id)).all()
    return clock_table([dict(r._mapping) for r in rows])


def loaded_clocks(service: ComplaintsService, reference: str) -> dict[str, tuple[Any, ...]]:
    """The same, from the case as the service loads it (the JSON ``records`` column)."""
    case = service.get(reference)
    return {
        name: (c.started_on, c.base_days, c.extended_days, c.due_on, c.stopped_on, c.stop_reason)
        for name, c in case.clocks.items()
    }


# -- the audit trail -------------------------------------------------------------------------------


def test_the_audit_trail_has_one_event_per_command_in_order_with_actors_times_and_changes(
    service: ComplaintsService,
    make_service: Callable[..., ComplaintsService],
    clock: FakeClock,
    db_engine: Engine,
) -> None:
    # Monday 2 June 2025 (no bank holidays that fortnight); London is on BST (UTC+1).
    # Every step is recorded a little after it happened (``at`` is back-dated).
    steps: list[tuple[str, datetime, datetime]] = []  # (kind, occurred_at, recorded_at)

    def step(kind: str, happened: datetime, recorded: datetime) -> tuple[datetime, datetime]:
        clock.set(recorded)
        steps.append((kind, happened, recorded))
        return happened, recorded

    at, _ = step("opened", london(2025, 6, 2, 9, 0), london(2025, 6, 2, 9, 20))
    ref = open_complaint(service, received_at=at)

    at, _ = step("acknowledged", london(2025, 6, 2, 11, 0), london(2025, 6, 2, 11, 30))
    service.acknowledge(
        ref, actor="alice", at=at, understanding="Leak from flat above", desired_outcome="Fix it"
    )

    at, _ = step("contact_recorded", london(2025, 6, 3, 9, 15), london(2025, 6, 3, 10, 0))
    service.record_contact(
        ref, actor="alice", direction="outbound", channel="phone", summary="Update call", at=at
    )

    # The resident escalates while Stage 1 is still open (no Stage 1 response yet).
    at, _ = step("escalation_requested", london(2025, 6, 3, 14, 0), london(2025, 6, 3, 15, 0))
    service.escalate(ref, actor="carol", at=at, note="Resident unhappy with progress")

    # Stage 2 is acknowledged by someone who did not handle Stage 1 (Code 6.13).
    at, _ = step("stage2_acknowledged", london(2025, 6, 4, 9, 0), london(2025, 6, 4, 10, 0))
    service.acknowledge(
        ref, actor="bob", at=at, understanding="Stage 1 too slow", desired_outcome="Repair"
    )

    at, _ = step("stage2_responded", london(2025, 6, 4, 15, 0), london(2025, 6, 4, 16, 0))
    service.respond(
        ref,
        actor="bob",
        at=at,
        decision="upheld",
        reasons="The repair was late.",
        avoidable=True,
        compensation_pence=5000,
        actions=[{"description": "Replace ceiling", "owner": "dave", "due_on": date(2025, 6, 20)}],
    )

    at, _ = step("action_completed", london(2025, 6, 5, 11, 0), london(2025, 6, 5, 12, 0))
    service.complete_action(ref, actor="dave", number=1, at=at)

    at, _ = step("closed", london(2025, 6, 5, 12, 15), london(2025, 6, 5, 12, 30))
    closed = service.close(ref, actor="bob", at=at, note="All done")

    # Read back through a second service (its own engine): this is what was committed.
    reader = make_service()
    history = reader.history(ref)
    case = reader.get(ref)

    assert [e.kind for e in history] == [kind for kind, _, _ in steps]
    assert [e.seq for e in history] == list(range(1, len(steps) + 1))
    assert [e.actor for e in history] == [
        "alice", "alice", "alice", "carol", "bob", "bob", "dave", "bob",
    ]  # fmt: skip
    assert [e.occurred_at for e in history] == [happened for _, happened, _ in steps]
    assert [e.recorded_at for e in history] == [recorded for _, _, recorded in steps]
    assert all(e.occurred_at.utcoffset() == timedelta(0) for e in history)

    assert case.version == len(history) == 8
    assert closed.version == case.version
    assert (case.state, case.is_open, case.closed_at) == ("closed", False, steps[-1][1])
    assert snapshot_event_count(db_engine, ref) == 8

    by_kind = {e.kind: e for e in history}
    states = [(e.before.get("state"), e.after.get("state")) for e in history]
    assert states == [
        (None, "received"),
        ("received", "stage1"),
        (None, None),  # a contact changes no state
        ("stage1", "escalation_requested"),
        ("escalation_requested", "stage2"),
        ("stage2", "stage2_responded"),
        (None, None),
        ("stage2_responded", "closed"),
    ]
    # before/after hold only what the command changed, and each changed field really changed.
    for event in history[1:]:
        assert event.before.keys() == event.after.keys(), event.kind
        assert event.after, f"{event.kind} recorded no change"
        for key in event.after:
            assert event.before[key] != event.after[key], (event.kind, key)

    ack = by_kind["acknowledged"]
    assert ack.before["owner"] is None and ack.after["owner"] == "alice"
    assert ack.after["last_contact_at"] == steps[1][1].isoformat()
    assert ack.after["stopped"] == {"acknowledge": "2025-06-02"}
    # hoc-2024: the Stage 1 response clock starts at the acknowledgement: 10 working days after
    # Mon 2 June is Mon 16 June.
    assert ack.after["deadlines"]["respond"] == "2025-06-16"
    assert "respond" not in ack.before["deadlines"]

    contact = by_kind["contact_recorded"]
    assert contact.before == {"last_contact_at": steps[1][1].isoformat()}
    assert contact.after == {"last_contact_at": steps[2][1].isoformat()}
    assert contact.data["summary"] == "Update call"

    escalation = by_kind["escalation_requested"]
    assert escalation.data == {"from_state": "stage1", "note": "Resident unhappy with progress"}
    # Escalating ends the running Stage 1 response clock on the day of the request, and starts
    # the Stage 2 acknowledgement clock: 5 working days after Tue 3 June is Tue 10 June.
    assert escalation.after["stopped"]["respond"] == "2025-06-03"
    assert "respond" not in escalation.before["stopped"]
    assert escalation.after["deadlines"]["stage2_acknowledge"] == "2025-06-10"

    stage2 = by_kind["stage2_acknowledged"]
    assert (stage2.before["owner"], stage2.after["owner"]) == ("alice", "bob")
    assert stage2.data["handler"] == "bob"
    # Stage 2 response: 20 working days after Wed 4 June is Wed 2 July.
    assert stage2.after["deadlines"]["stage2_respond"] == "2025-07-02"

    response = by_kind["stage2_responded"]
    assert (response.before["outstanding_actions"], response.after["outstanding_actions"]) == (0, 1)
    assert response.data["decision"] == "upheld"
    assert response.data["compensation_pence"] == 5000
    assert response.data["actions"][0]["owner"] == "dave"

    done = by_kind["action_completed"]
    assert (done.before, done.after) == ({"outstanding_actions": 1}, {"outstanding_actions": 0})
    assert case.actions[0].done_at == steps[6][1] and case.actions[0].done_by == "dave"

    closing = by_kind["closed"]
    assert (closing.before["is_open"], closing.after["is_open"]) == (True, False)


def snapshot_event_count(db_engine: Engine, reference: str) -> int:
    snap = case_snapshot(db_engine, reference)
    assert snap["case"]["event_count"] == len(snap["events"])
    return len(snap["events"])


# Effects run after the machine has moved the case, so they must read the step's source state
# (a regression test: they once recorded the destination state).


def test_the_escalation_event_records_the_state_the_complaint_escalated_from(
    service: ComplaintsService, clock: FakeClock
) -> None:
    clock.set(london(2025, 6, 2, 12, 0))
    ref = open_complaint(service)
    service.acknowledge(ref, actor="alice", understanding="u", desired_outcome="o")
    service.escalate(ref, actor="carol")
    escalation = service.history(ref)[-1]
    assert escalation.kind == "escalation_requested"
    assert escalation.data["from_state"] == "stage1"


def test_the_dissatisfaction_escalation_event_records_the_state_it_escalated_from(
    service: ComplaintsService, clock: FakeClock
) -> None:
    clock.set(london(2025, 6, 2, 12, 0))
    dis = service.open(
        actor="alice", workflow="dissatisfaction", category="repairs", channel="phone", area="n"
    )
    service.escalate(dis.reference, actor="alice")
    event = service.history(dis.reference)[-1]
    assert event.kind == "escalated_to_complaint"
    assert event.data["from_state"] == "open"


def test_declining_an_escalation_is_recorded_as_a_refused_escalation_not_a_refused_complaint(
    service: ComplaintsService, clock: FakeClock
) -> None:
    clock.set(london(2025, 6, 2, 12, 0))
    ref = open_complaint(service)
    service.acknowledge(ref, actor="alice", understanding="u", desired_outcome="o")
    service.escalate(ref, actor="carol")
    declined = service.decline(ref, actor="bob", exclusion="legal-proceedings", reason="In court")
    assert declined.records["declined"]["refused"] == "escalation"
    assert service.history(ref)[-1].data["refused"] == "escalation"


# -- deadlines, persisted --------------------------------------------------------------------------

# Christmas and New Year 2025/26. Bank holidays (GOV.UK):
#   England and Wales: Thu 25 Dec, Fri 26 Dec 2025, Thu 1 Jan 2026.
#   Scotland:          Thu 25 Dec, Fri 26 Dec 2025, Thu 1 Jan, Fri 2 Jan 2026.
# "n working days after d" never counts d itself.
#
# Received Tue 23 Dec 2025 16:00 (GMT). Acknowledgement due 5 working days later:
#   E&W: Wed 24 (1), Mon 29 (2), Tue 30 (3), Wed 31 (4), Fri 2 Jan (5)       -> 2026-01-02
#   SCT: Wed 24 (1), Mon 29 (2), Tue 30 (3), Wed 31 (4), [2 Jan], Mon 5 (5)  -> 2026-01-05
# Acknowledged Wed 24 Dec 10:00; hoc-2024 starts the Stage 1 response clock there, 10 days:
#   E&W: 29, 30, 31 (3), 2 Jan (4), 5-9 Jan (9), Mon 12 (10)                 -> 2026-01-12
#   SCT: 29, 30, 31 (3), 5-9 Jan (8), Mon 12 (9), Tue 13 (10)                -> 2026-01-13
# Extended by 3 working days (13 in all):
#   E&W: 13, 14, 15 Jan                                                      -> 2026-01-15
#   SCT: 14, 15, 16 Jan                                                      -> 2026-01-16
# Escalated Wed 31 Dec 17:30: the response clock stops on 2025-12-31 ("escalation_requested")
# and the Stage 2 acknowledgement clock runs 5 working days from 31 Dec:
#   E&W: Fri 2 (1), Mon 5 .. Thu 8 (5)                                        -> 2026-01-08
#   SCT: Mon 5 .. Fri 9 (5)                                                   -> 2026-01-09
# Stage 2 acknowledged Mon 5 Jan; its response clock is 20 working days from there, with no
# holiday in the way in either nation: 6-9 (4), 12-16 (9), 19-23 (14), 26-30 (19), Mon 2 Feb.
CHRISTMAS_EXPECTED = {
    ENGLAND: {
        "acknowledge": date(2026, 1, 2),
        "respond": date(2026, 1, 12),
        "respond_extended": date(2026, 1, 15),
        "stage2_acknowledge": date(2026, 1, 8),
        "stage2_respond": date(2026, 2, 2),
    },
    SCOTLAND: {
        "acknowledge": date(2026, 1, 5),
        "respond": date(2026, 1, 13),
        "respond_extended": date(2026, 1, 16),
        "stage2_acknowledge": date(2026, 1, 9),
        "stage2_respond": date(2026, 2, 2),
    },
}


@pytest.mark.parametrize("calendar", [ENGLAND, SCOTLAND])
def test_deadlines_across_christmas_and_new_year_are_persisted_by_the_calendar_of_the_case(
    calendar: str,
    service: ComplaintsService,
    make_service: Callable[..., ComplaintsService],
    clock: FakeClock,
    db_engine: Engine,
) -> None:
    expected = CHRISTMAS_EXPECTED[calendar]
    reader = make_service()  # a second process: sees only what was committed

    clock.set(london(2025, 12, 23, 16, 5))
    ref = open_complaint(service, received_at=london(2025, 12, 23, 16, 0), calendar=calendar)
    assert reader.get(ref).calendar == calendar
    assert loaded_clocks(reader, ref) == {
        "acknowledge": (date(2025, 12, 23), 5, 0, expected["acknowledge"], None, None),
    }

    clock.set(london(2025, 12, 24, 10, 5))
    service.acknowledge(
        ref, actor="alice", at=london(2025, 12, 24, 10, 0), understanding="u", desired_outcome="o"
    )
    assert loaded_clocks(reader, ref) == {
        "acknowledge": (
            date(2025, 12, 23), 5, 0, expected["acknowledge"], date(2025, 12, 24), "acknowledged"
        ),
        "respond": (date(2025, 12, 24), 10, 0, expected["respond"], None, None),
    }  # fmt: skip

    service.extend(ref, actor="alice", stage=1, days=3, reason="Contractor on holiday")
    assert loaded_clocks(reader, ref)["respond"] == (
        date(2025, 12, 24), 10, 3, expected["respond_extended"], None, None
    )  # fmt: skip

    clock.set(london(2025, 12, 31, 18, 0))
    service.escalate(ref, actor="carol", at=london(2025, 12, 31, 17, 30))
    clock.set(london(2026, 1, 5, 10, 5))
    service.acknowledge(
        ref, actor="bob", at=london(2026, 1, 5, 10, 0), understanding="u2", desired_outcome="o2"
    )

    case = reader.get(ref)
    assert case.milestone_dates == {
        "received": date(2025, 12, 23),
        "acknowledged": date(2025, 12, 24),
        "escalation_requested": date(2025, 12, 31),
        "stage2_acknowledged": date(2026, 1, 5),
    }
    want = {
        "acknowledge": (
            date(2025, 12, 23), 5, 0, expected["acknowledge"], date(2025, 12, 24), "acknowledged"
        ),
        "respond": (
            date(2025, 12, 24), 10, 3, expected["respond_extended"], date(2025, 12, 31),
            "escalation_requested",
        ),
        "stage2_acknowledge": (
            date(2025, 12, 31), 5, 0, expected["stage2_acknowledge"], date(2026, 1, 5),
            "stage2_acknowledged",
        ),
        "stage2_respond": (date(2026, 1, 5), 20, 0, expected["stage2_respond"], None, None),
    }  # fmt: skip
    assert loaded_clocks(reader, ref) == want
    # The per-clock rows that sweeps and reports query say the same as the case's record.
    assert stored_clocks(db_engine, ref) == want
    with db_engine.connect() as conn:
        received_on = conn.execute(
            select(cases.c.received_on).where(cases.c.reference == ref)
        ).scalar_one()
    assert received_on == date(2025, 12, 23)


# Easter 2024: Good Friday 29 March (all of the UK), Easter Monday 1 April (England and Wales
# only). The 2024 Code applies to complaints made from 1 April 2024.
#
# Received Thu 28 Mar 2024 10:00 GMT -> hoc-2022: the Stage 1 response clock runs from receipt.
#   E&W acknowledge, 5 days: [29, 1 Apr], Tue 2 (1), 3, 4, 5 (4), Mon 8 (5)       -> 2024-04-08
#   E&W respond, 10 days: 2-5 Apr (4), 8-12 (9), Mon 15 (10)                      -> 2024-04-15
#   SCT acknowledge: [29], Mon 1 Apr (1), 2, 3, 4, Fri 5 (5)                     -> 2024-04-05
#   SCT respond: 1-5 Apr (5), 8-12 (10)                                           -> 2024-04-12
# Acknowledging on Wed 3 April does not move that response deadline.
#
# Received Tue 2 Apr 2024 10:00 BST -> hoc-2024: no response clock until the acknowledgement.
#   acknowledge, 5 days (both nations): 3, 4, 5, 8, Tue 9                          -> 2024-04-09
#   acknowledged Thu 4 Apr; respond, 10 days: 5 (1), 8-12 (6), 15-18 (10)         -> 2024-04-18
@pytest.mark.parametrize(
    ("calendar", "ack_due", "respond_due"),
    [
        (ENGLAND, date(2024, 4, 8), date(2024, 4, 15)),
        (SCOTLAND, date(2024, 4, 5), date(2024, 4, 12)),
    ],
)
def test_the_2022_code_runs_the_response_clock_from_receipt_for_a_complaint_made_before_april_2024(
    calendar: str,
    ack_due: date,
    respond_due: date,
    service: ComplaintsService,
    make_service: Callable[..., ComplaintsService],
    clock: FakeClock,
) -> None:
    reader = make_service()
    clock.set(london(2024, 3, 28, 10, 30))
    ref = open_complaint(service, received_at=london(2024, 3, 28, 10, 0), calendar=calendar)

    case = reader.get(ref)
    assert (case.policy_id, case.policy_version) == ("hoc-2022", 1)
    assert loaded_clocks(reader, ref) == {
        "acknowledge": (date(2024, 3, 28), 5, 0, ack_due, None, None),
        "respond": (date(2024, 3, 28), 10, 0, respond_due, None, None),
    }

    clock.set(london(2024, 4, 3, 12, 0))
    service.acknowledge(ref, actor="alice", understanding="u", desired_outcome="o")
    assert loaded_clocks(reader, ref) == {
        "acknowledge": (date(2024, 3, 28), 5, 0, ack_due, date(2024, 4, 3), "acknowledged"),
        "respond": (date(2024, 3, 28), 10, 0, respond_due, None, None),
    }


@pytest.mark.parametrize("calendar", [ENGLAND, SCOTLAND])
def test_the_2024_code_runs_the_response_clock_from_the_acknowledgement_from_april_2024(
    calendar: str,
    service: ComplaintsService,
    make_service: Callable[..., ComplaintsService],
    clock: FakeClock,
    db_engine: Engine,
) -> None:
    reader = make_service()
    clock.set(london(2024, 4, 2, 10, 30))
    ref = open_complaint(service, received_at=london(2024, 4, 2, 10, 0), calendar=calendar)

    case = reader.get(ref)
    assert (case.policy_id, case.policy_version) == ("hoc-2024", 1)
    assert loaded_clocks(reader, ref) == {
        "acknowledge": (date(2024, 4, 2), 5, 0, date(2024, 4, 9), None, None),
    }

    clock.set(london(2024, 4, 4, 15, 0))
    service.acknowledge(
        ref, actor="alice", at=london(2024, 4, 4, 14, 0), understanding="u", desired_outcome="o"
    )
    want = {
        "acknowledge": (
            date(2024, 4, 2), 5, 0, date(2024, 4, 9), date(2024, 4, 4), "acknowledged"
        ),
        "respond": (date(2024, 4, 4), 10, 0, date(2024, 4, 18), None, None),
    }  # fmt: skip
    assert loaded_clocks(reader, ref) == want
    assert stored_clocks(db_engine, ref) == want


# The repository's landlord calendar "westward" (config/calendars/westward.toml): England and Wales
# bank holidays, a 17:00 cut-off, and a Christmas shutdown 29-31 Dec 2026. Christmas 2026: Fri 25
# Dec, Mon 28 Dec (Boxing Day substitute), Fri 1 Jan 2027.
#   Received Thu 24 Dec 2026 16:59: day 0 is 24 Dec; 5 days: 4, 5, 6, 7, 8 Jan -> 2027-01-08.
#   Received Thu 24 Dec 2026 17:30: after the cut-off, so day 0 is the next working day, Mon 4 Jan
#   2027 (25, 28 holidays; 29-31 shut; 1 Jan holiday); 5 days: 5, 6, 7, 8, 11 -> 2027-01-11.
@pytest.mark.parametrize(
    ("received", "received_on", "ack_due"),
    [
        (london(2026, 12, 24, 16, 59), date(2026, 12, 24), date(2027, 1, 8)),
        (london(2026, 12, 24, 17, 30), date(2027, 1, 4), date(2027, 1, 11)),
    ],
    ids=["before-cut-off", "after-cut-off"],
)
def test_a_landlord_calendar_applies_its_cut_off_and_christmas_shutdown_to_the_stored_deadline(
    received: datetime,
    received_on: date,
    ack_due: date,
    service: ComplaintsService,
    clock: FakeClock,
    db_engine: Engine,
) -> None:
    clock.set(london(2026, 12, 24, 18, 0))
    ref = open_complaint(service, received_at=received, calendar="westward")

    case = service.get(ref)
    assert case.received_at == received
    assert case.milestone_dates["received"] == received_on
    assert stored_clocks(db_engine, ref) == {
        "acknowledge": (received_on, 5, 0, ack_due, None, None),
    }
    with db_engine.connect() as conn:
        row = conn.execute(
            select(cases.c.received_on, cases.c.calendar_fingerprint).where(
                cases.c.reference == ref
            )
        ).one()
    assert row.received_on == received_on
    assert row.calendar_fingerprint == service.calendars("westward").fingerprint


# -- dissatisfaction to complaint ------------------------------------------------------------------


def test_escalating_a_dissatisfaction_opens_a_linked_complaint_received_when_the_resident_asked(
    service: ComplaintsService,
    make_service: Callable[..., ComplaintsService],
    clock: FakeClock,
) -> None:
    clock.set(london(2025, 6, 2, 9, 5))
    dis = service.open(
        actor="alice",
        workflow="dissatisfaction",
        category="damp-and-mould",
        channel="web-form",
        area="south",
        summary="Mould in the bathroom again.",
        resident_ref="R-2002",
        property_ref="P-77",
        vulnerabilities=["asthma"],
        received_at=london(2025, 6, 2, 9, 0),
    )
    assert dis.reference.startswith("DIS-2025-")

    # The resident asked for a complaint on Tuesday afternoon; it is logged on Wednesday.
    asked = london(2025, 6, 3, 14, 30)
    clock.set(london(2025, 6, 4, 10, 0))
    escalated = service.escalate(dis.reference, actor="carol", at=asked)
    complaint_ref = escalated.linked_reference
    assert complaint_ref is not None and complaint_ref.startswith("CMP-2025-")

    reader = make_service()
    source = reader.get(dis.reference)
    complaint = reader.get(complaint_ref)

    assert (source.state, source.is_open, source.closed_at) == ("escalated", False, asked)
    assert source.linked_reference == complaint_ref
    assert complaint.linked_reference == dis.reference

    assert (complaint.workflow, complaint.state, complaint.is_open) == (
        "complaint",
        "received",
        True,
    )
    assert complaint.received_at == asked
    assert complaint.milestone_dates == {"received": date(2025, 6, 3)}
    assert complaint.policy_id == "hoc-2024"
    # Acknowledgement due 5 working days after Tue 3 June 2025: Tue 10 June.
    assert complaint.clocks["acknowledge"].started_on == date(2025, 6, 3)
    assert complaint.clocks["acknowledge"].due_on == date(2025, 6, 10)
    assert (complaint.category, complaint.channel, complaint.area) == (
        "damp-and-mould", "web-form", "south",
    )  # fmt: skip
    assert (complaint.resident_ref, complaint.property_ref) == ("R-2002", "P-77")
    assert complaint.vulnerabilities == ("asthma",)
    assert complaint.records["summary"] == "Mould in the bathroom again."
    assert complaint.version == 1

    source_history = reader.history(dis.reference)
    assert [e.kind for e in source_history] == ["opened", "escalated_to_complaint"]
    assert source_history[-1].occurred_at == asked
    assert source_history[-1].recorded_at == clock.now
    assert source_history[-1].data["opened"] == complaint_ref
    assert source_history[-1].actor == "carol"

    complaint_history = reader.history(complaint_ref)
    assert [e.kind for e in complaint_history] == ["opened"]
    opened = complaint_history[0]
    assert (opened.occurred_at, opened.recorded_at, opened.actor) == (asked, clock.now, "carol")
    assert opened.data["workflow"] == "complaint"


def test_a_dissatisfaction_received_under_the_2022_code_becomes_a_2024_complaint_if_asked_after(
    service: ComplaintsService, clock: FakeClock
) -> None:
    # The complaint is made when the resident asks for one, and the Code follows that date.
    clock.set(datetime(2024, 4, 3, 12, 0, tzinfo=UTC))
    dis = service.open(
        actor="alice",
        workflow="dissatisfaction",
        category="repairs",
        channel="phone",
        area="east",
        received_at=london(2024, 3, 27, 10, 0),
    )
    escalated = service.escalate(dis.reference, actor="alice", at=london(2024, 4, 2, 9, 0))
    assert escalated.linked_reference is not None
    complaint = service.get(escalated.linked_reference)
    assert complaint.policy_id == "hoc-2024"
    assert complaint.received_at == london(2024, 4, 2, 9, 0)


# -- the repository's contract, on both databases -------------------------------------------------


def test_a_command_that_waited_for_the_case_lock_reads_what_the_holder_wrote(
    make_service: Callable[..., ComplaintsService], clock: FakeClock
) -> None:
    """Two extensions at once: the second waits for the first's lock, then must see its clock
    (PostgreSQL reads the case's parts after the lock is held, not on the snapshot it waited
    with; SQLite serialises writers at BEGIN)."""
    first, second = make_service(), make_service()
    ref = open_complaint(first, understanding="Leak", desired_outcome="Fix")
    first.acknowledge(ref, actor="alice", handler="hana")
    holding, release = threading.Event(), threading.Event()
    real_commit = SqlUnitOfWork.commit

    def commit(self: SqlUnitOfWork) -> None:
        if threading.current_thread().name == "first":
            holding.set()
            assert release.wait(30)
        real_commit(self)

    results: dict[str, Any] = {}

    def extend(name: str, service: ComplaintsService, days: int) -> None:
        try:
            results[name] = service.extend(ref, actor="alice", days=days, reason=name, stage=1)
        except Exception as exc:  # reported below
            results[name] = exc

    with mock.patch.object(SqlUnitOfWork, "commit", commit):
        one = threading.Thread(target=extend, args=("first", first, 3), name="first")
        one.start()
        assert holding.wait(30)
        two = threading.Thread(target=extend, args=("second", second, 4), name="second")
        two.start()
        time.sleep(0.5)  # the second command is now waiting for the lock (or for BEGIN)
        assert two.is_alive()
        release.set()
        one.join(30)
        two.join(30)

    assert [type(results[n]).__name__ for n in ("first", "second")] == ["Case", "Case"]
    assert first.get(ref, actor="alice").clocks["respond"].extended_days == 3 + 4


def test_one_unit_of_work_saves_two_cases_and_one_case_twice(
    service: ComplaintsService, db_engine: Engine
) -> None:
    refs = [open_complaint(service) for _ in range(2)]
    with SqlUnitOfWork(db_engine) as uow:
        loaded = [uow.cases.get(ref, lock=True) for ref in refs]
        for case in loaded:
            case.owner = "bob"
            uow.cases.save(case)
        loaded[0].owner = "carol"
        uow.cases.save(loaded[0])
        uow.commit()
    assert [service.get(ref, actor="alice").owner for ref in refs] == ["carol", "bob"]
    assert [service.get(ref, actor="alice").version for ref in refs] == [3, 2]


@only_postgres  # SQLite does not enforce VARCHAR lengths
def test_a_value_too_long_for_its_column_is_refused_not_cut_short(
    service: ComplaintsService, db_engine: Engine
) -> None:
    ref = open_complaint(service)
    before = case_snapshot(db_engine, ref)

    def save_a_long_owner() -> None:
        with SqlUnitOfWork(db_engine) as uow:
            case = uow.cases.get(ref, lock=True)
            case.owner = "o" * 150  # the column holds 100
            uow.cases.save(case)
            uow.commit()

    with pytest.raises(DatabaseError, match="too long"):
        save_a_long_owner()
    assert case_snapshot(db_engine, ref) == before

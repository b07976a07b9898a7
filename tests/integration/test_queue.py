"""The coordinators' work queue on a real database: order, permission, leases, completion.

Runs on SQLite and PostgreSQL (``db_url``) unless marked. Time is the ``FakeClock``: leases
expire because the test moves the clock, never by waiting. The deployment's settings come from a
config folder written for this module: ``rita`` may see restricted cases, leases last 30 minutes,
and repairs work goes to the ``repairs-desk`` team.

Dates (England and Wales, hoc-2024): "now" is Monday 2 June 2025, 12:00 in London; Monday
26 May 2025 was a bank holiday.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, text, update
from support import FakeClock, case_snapshot, event_kinds, london, only_postgres, run_at_once

from adapters.db.queue import SqlWorkQueue
from adapters.db.repository import DatabaseError
from adapters.db.tables import cases, work_items
from adapters.settings import Settings, load_settings
from engine.errors import (
    InvalidTransitionError,
    LeaseLostError,
    RefusedError,
    WorkItemNotFoundError,
)
from engine.queue import QueueFilter, WorkItem
from engine.service import ComplaintsService

NOW = london(2025, 6, 2, 12, 0)
LEASE = timedelta(minutes=30)
SETTINGS_TOML = """
[queue]
restricted_viewers = ["rita"]
lease_minutes = 30

[teams]
repairs-desk = ["repairs"]
"""


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Overrides the suite's ``settings``: this module's config folder (see the docstring)."""
    folder = tmp_path_factory.mktemp("queue-config")
    (folder / "settings.toml").write_text(SETTINGS_TOML, encoding="utf-8")
    return load_settings(config_dir=str(folder))


@pytest.fixture(autouse=True)
def _now(clock: FakeClock) -> None:
    clock.set(NOW)


def open_case(service: ComplaintsService, received: Any = NOW, **fields: Any) -> str:
    values: dict[str, Any] = {
        "actor": "intake",
        "category": "asb",
        "channel": "phone",
        "area": "north",
        "received_at": received,
    }
    values.update(fields)
    return service.open(**values).reference


def item_row(db_engine: Engine, item_id: int) -> dict[str, Any]:
    with db_engine.connect() as conn:
        row = conn.execute(select(work_items).where(work_items.c.id == item_id)).one()
    return dict(row._mapping)


def open_items(db_engine: Engine, reference: str) -> dict[str, dict[str, Any]]:
    """The case's open and claimed items, by kind."""
    with db_engine.connect() as conn:
        rows = conn.execute(
            select(work_items)
            .join(cases, cases.c.id == work_items.c.case_id)
            .where(cases.c.reference == reference, work_items.c.status.in_(("open", "claimed")))
        ).all()
    return {row.kind: dict(row._mapping) for row in rows}


def claim_all(service: ComplaintsService, actor: str, **query: Any) -> list[WorkItem]:
    claimed = []
    while (item := service.claim(actor, QueueFilter(**query))) is not None:
        claimed.append(item)
    return claimed


# -- order ------------------------------------------------------------------------------------


def test_claims_come_in_priority_order_and_the_list_shows_the_same_order(
    service: ComplaintsService,
) -> None:
    refs = {
        # Stage 1 acknowledgements: due Tue 27 May (breached), Mon 2 June (today), Wed 4 June
        "breached": open_case(service, london(2025, 5, 19, 10)),
        "today": open_case(service, london(2025, 5, 23, 10)),
        "soon": open_case(service, london(2025, 5, 28, 10)),
        # received today: nothing flagged yet (acknowledging is work from the start)
        "fresh": open_case(service, london(2025, 6, 2, 9)),
        "fresh-earlier": open_case(service, london(2025, 6, 2, 8)),
        "fresh-h&s": open_case(service, london(2025, 6, 2, 10), health_and_safety=True),
        # dissatisfactions have no deadlines: only their contact countdown
        "overdue": open_case(service, london(2025, 5, 16, 10), workflow="dissatisfaction"),
        "due": open_case(service, london(2025, 5, 28, 11), workflow="dissatisfaction"),
    }
    name = {ref: key for key, ref in refs.items()}
    expected = [
        ("breached", "acknowledge"),  # breached
        ("today", "acknowledge"),  # due today
        ("soon", "acknowledge"),  # due soon
        ("overdue", "contact"),  # contact-overdue (level 2) before contact-due (level 1)
        ("breached", "contact"),  # contact-due, oldest case first
        ("today", "contact"),
        ("soon", "contact"),
        ("due", "contact"),
        ("fresh-h&s", "acknowledge"),  # health and safety first
        ("fresh-earlier", "acknowledge"),  # then the oldest
        ("fresh", "acknowledge"),
    ]
    listed = service.queue("alice")
    assert [(name[i.reference], i.kind) for i in listed] == expected
    assert all(i.status == "open" and i.claimed_by is None for i in listed)

    claimed = claim_all(service, "alice")
    assert [(name[i.reference], i.kind) for i in claimed] == expected
    assert [i.id for i in claimed] == [i.id for i in listed]
    assert all(i.status == "claimed" and i.claimed_by == "alice" for i in claimed)
    assert {i.lease_until for i in claimed} == {NOW + LEASE}
    top = claimed[0]
    # breached, and (like every item of its case) the case's countdown level: contact-due (1)
    assert (top.p_deadline, top.p_contact, top.p_care) == (0, 1, 0)
    assert top.reason == "Stage 1 acknowledgement: breached (due 2025-05-27)"
    assert (top.category, top.area, top.calendar) == ("asb", "north", "england-and-wales")
    assert service.claim("bob") is None


def test_the_queue_filters_by_team_category_and_area(service: ComplaintsService) -> None:
    repairs_north = open_case(service, category="repairs", area="north")
    repairs_south = open_case(service, category="repairs", area="south")
    asb_north = open_case(service, category="asb", area="north")

    def refs(**query: Any) -> set[str]:
        return {i.reference for i in service.queue("alice", QueueFilter(**query))}

    assert refs() == {repairs_north, repairs_south, asb_north}
    assert refs(team="repairs-desk") == {repairs_north, repairs_south}
    assert refs(team="complaints") == {asb_north}
    assert refs(category="asb") == {asb_north}
    assert refs(area="north") == {repairs_north, asb_north}
    assert refs(team="repairs-desk", area="south") == {repairs_south}
    assert refs(category="damp-and-mould") == set()
    assert len(service.queue("alice", QueueFilter(limit=2))) == 2

    claimed = service.claim("alice", QueueFilter(team="repairs-desk", area="south"))
    assert claimed is not None and claimed.reference == repairs_south
    assert claimed.team == "repairs-desk"
    assert service.claim("alice", QueueFilter(team="repairs-desk", area="south")) is None
    assert {i.reference for i in claim_all(service, "bob", team="complaints")} == {asb_north}


# -- restricted cases -------------------------------------------------------------------------


def test_restricted_items_are_only_listed_for_and_claimed_by_permitted_people(
    service: ComplaintsService, db_engine: Engine
) -> None:
    conduct = open_case(service, category="staff-conduct", health_and_safety=True)
    flagged = open_case(service, restricted=True)
    ordinary = open_case(service, london(2025, 6, 2, 11))
    assert service.get(conduct, actor="rita").restricted
    assert service.get(flagged, actor="rita").restricted

    assert [i.reference for i in service.queue("alice")] == [ordinary]
    assert [i.reference for i in service.queue("rita")] == [conduct, ordinary, flagged]
    assert all(i.restricted for i in service.queue("rita") if i.reference != ordinary)

    assert [i.reference for i in claim_all(service, "alice")] == [ordinary]
    assert service.claim("alice") is None  # the restricted items are there, but not for alice
    assert open_items(db_engine, conduct)["acknowledge"]["status"] == "open"
    assert [i.reference for i in claim_all(service, "rita")] == [conduct, flagged]


def test_restricted_viewers_come_from_the_settings(settings: Settings) -> None:
    assert settings.restricted_viewers == ("rita",)
    assert settings.lease_minutes == 30


# -- leases -----------------------------------------------------------------------------------


def test_an_expired_lease_returns_the_item_and_the_first_holder_can_no_longer_finish_it(
    service: ComplaintsService, clock: FakeClock, db_engine: Engine
) -> None:
    ref = open_case(service)
    item = service.claim("alice")
    assert item is not None and item.lease_until == NOW + LEASE

    clock.advance(LEASE)  # the lease runs to the minute, inclusive
    assert service.claim("bob") is None
    clock.advance(seconds=1)
    again = service.claim("bob")
    assert again is not None
    assert (again.id, again.claimed_by, again.lease_until) == (item.id, "bob", clock.now + LEASE)

    with pytest.raises(
        LeaseLostError, match=r"not claimed by alice: it is claimed \(held by bob\)"
    ):
        service.complete(item.id, actor="alice", outcome="called")
    with pytest.raises(LeaseLostError):
        service.release(item.id, actor="alice")
    assert item_row(db_engine, item.id)["claimed_by"] == "bob"

    ack = {"understanding": "u", "desired_outcome": "o"}
    service.complete(item.id, actor="bob", command="acknowledge", payload=ack)
    row = item_row(db_engine, item.id)
    assert (row["status"], row["closed_by"], row["outcome"]) == ("done", "bob", "acknowledge")
    assert service.get(ref).state == "stage1"


def test_an_expired_lease_is_reported_as_expired_to_its_holder(
    service: ComplaintsService, clock: FakeClock
) -> None:
    open_case(service)
    item = service.claim("alice")
    assert item is not None
    clock.advance(LEASE + timedelta(seconds=1))
    with pytest.raises(LeaseLostError, match="not claimed by alice: it is expired"):
        service.complete(item.id, actor="alice")
    [listed] = service.queue("alice")
    assert (listed.status, listed.claimed_by) == ("claimed", "alice")  # shown, but claimable


def test_release_gives_the_item_back_to_the_queue(
    service: ComplaintsService, db_engine: Engine
) -> None:
    open_case(service)
    item = service.claim("alice")
    assert item is not None
    with pytest.raises(LeaseLostError, match=r"held by alice"):
        service.release(item.id, actor="bob")
    assert service.claim("bob") is None

    service.release(item.id, actor="alice")
    row = item_row(db_engine, item.id)
    assert (row["status"], row["claimed_by"], row["lease_until"]) == ("open", None, None)
    with pytest.raises(LeaseLostError, match="it is open"):
        service.release(item.id, actor="alice")
    again = service.claim("bob")
    assert again is not None and again.id == item.id


def test_unknown_items_are_reported(service: ComplaintsService) -> None:
    with pytest.raises(WorkItemNotFoundError, match="no work item 999"):
        service.complete(999, actor="alice")
    with pytest.raises(WorkItemNotFoundError):
        service.release(999, actor="alice")


# -- completing ---------------------------------------------------------------------------------


@pytest.fixture
def contact_case(service: ComplaintsService) -> str:
    """A dissatisfaction received Wed 28 May: contact-due since Mon 2 June, nothing else."""
    ref = open_case(service, london(2025, 5, 28, 10), workflow="dissatisfaction")
    assert [i.kind for i in service.queue("alice")] == ["contact"]
    return ref


def test_done_with_a_contact_records_it_and_closes_the_contact_item(
    service: ComplaintsService, db_engine: Engine, contact_case: str
) -> None:
    item = service.claim("alice")
    assert item is not None and item.kind == "contact"
    before = event_kinds(db_engine, contact_case)

    payload = {"direction": "outbound", "channel": "phone", "summary": "Update", "made": True}
    done = service.complete(item.id, actor="alice", command="contact", payload=payload)
    assert done.id == item.id

    row = item_row(db_engine, item.id)
    assert (row["status"], row["closed_by"], row["outcome"]) == ("done", "alice", "contact")
    assert row["closed_at"] == NOW
    assert open_items(db_engine, contact_case) == {}
    assert event_kinds(db_engine, contact_case) == [*before, "contact_recorded", "flag_cleared"]
    case = service.get(contact_case)
    assert case.last_contact_at == NOW
    assert case.raised_flags == []
    assert service.queue("alice") == []


def test_a_contact_and_its_item_are_saved_together_or_not_at_all(
    service: ComplaintsService,
    db_engine: Engine,
    contact_case: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    item = service.claim("alice")
    assert item is not None
    before = case_snapshot(db_engine, contact_case)

    def broken_finish(*_args: Any, **_kwargs: Any) -> None:
        raise DatabaseError("the disk is full")

    monkeypatch.setattr(SqlWorkQueue, "finish", broken_finish)
    payload = {"direction": "outbound", "channel": "phone", "made": True}
    with pytest.raises(DatabaseError):
        service.complete(item.id, actor="alice", command="contact", payload=payload)
    assert case_snapshot(db_engine, contact_case) == before
    row = item_row(db_engine, item.id)
    assert (row["status"], row["claimed_by"]) == ("claimed", "alice")


@pytest.fixture
def remedy_case(service: ComplaintsService, clock: FakeClock) -> str:
    """A complaint upheld on Wed 28 May with an action due Wed 4 June (an action item today)."""
    ref = open_case(service, london(2025, 5, 27, 10), category="asb")
    at = london(2025, 5, 28, 10)
    service.acknowledge(ref, actor="alice", understanding="u", desired_outcome="o", at=at)
    service.respond(
        ref,
        actor="alice",
        decision="upheld",
        reasons="Missed visits",
        avoidable=True,
        actions=[
            {
                "description": "Fix the door",
                "owner": "repairs",
                "due_on": NOW.date() + timedelta(days=2),
            }
        ],
        at=london(2025, 5, 28, 11),
    )
    return ref


def test_a_refused_command_leaves_the_item_claimed_and_the_case_unchanged(
    service: ComplaintsService, db_engine: Engine, remedy_case: str
) -> None:
    item = service.claim("alice", QueueFilter(category="asb"))
    assert item is not None and item.kind == "action"
    before_case = case_snapshot(db_engine, remedy_case)
    before_item = item_row(db_engine, item.id)

    with pytest.raises(RefusedError, match="cannot close"):
        service.complete(item.id, actor="alice", command="close", payload={"note": "all done"})
    with pytest.raises(InvalidTransitionError, match="cannot acknowledge"):
        service.complete(item.id, actor="alice", command="acknowledge")
    assert case_snapshot(db_engine, remedy_case) == before_case
    assert item_row(db_engine, item.id) == before_item

    # Doing the work first, then closing, finishes the item and the case together.
    service.complete(item.id, actor="alice", command="complete_action", payload={"number": 1})
    row = item_row(db_engine, item.id)
    assert (row["status"], row["closed_by"], row["outcome"]) == ("done", "alice", "complete_action")


def test_done_with_a_transition_finishes_the_item_as_the_coordinators_work(
    service: ComplaintsService, db_engine: Engine
) -> None:
    ref = open_case(service)
    item = service.claim("alice")
    assert item is not None and item.kind == "acknowledge"
    service.complete(
        item.id,
        actor="alice",
        command="acknowledge",
        payload={"understanding": "Noise at night", "desired_outcome": "Quiet"},
        outcome="rang and acknowledged",
    )
    row = item_row(db_engine, item.id)
    assert (row["status"], row["closed_by"]) == ("done", "alice")
    assert row["outcome"] == "rang and acknowledged"
    assert service.get(ref).state == "stage1"
    assert open_items(db_engine, ref) == {}  # the response is not due soon yet


def test_a_need_met_elsewhere_closes_the_claimed_item_and_its_holder_is_told(
    service: ComplaintsService, db_engine: Engine
) -> None:
    ref = open_case(service)
    item = service.claim("alice")
    assert item is not None
    service.acknowledge(ref, actor="bob", understanding="u", desired_outcome="o")
    row = item_row(db_engine, item.id)
    assert (row["status"], row["closed_by"], row["outcome"]) == ("done", "system", "need met")
    with pytest.raises(LeaseLostError, match="it is done"):
        service.complete(item.id, actor="alice")


def test_re_ranking_a_claimed_item_keeps_the_claim(
    service: ComplaintsService, clock: FakeClock, db_engine: Engine
) -> None:
    ref = open_case(service, london(2025, 5, 29, 10))  # acknowledgement due Thu 5 June
    item = service.claim("alice")
    assert item is not None and item.p_deadline == 3
    clock.set(london(2025, 6, 3, 9))  # due soon now; the lease (30 min) has long gone
    service.assign(ref, actor="bob", owner="carol")  # a command re-plans the case's items
    row = item_row(db_engine, item.id)
    assert (row["p_deadline"], row["status"], row["claimed_by"]) == (2, "claimed", "alice")


def test_a_need_still_there_after_done_stays_in_the_queue(
    service: ComplaintsService, db_engine: Engine
) -> None:
    ref = open_case(service, london(2025, 5, 19, 10))  # acknowledgement breached on 28 May
    item = service.claim("alice", QueueFilter(limit=1))
    assert item is not None and (item.reference, item.kind) == (ref, "acknowledge")
    service.complete(item.id, actor="alice", outcome="left a message with the handler")
    row = item_row(db_engine, item.id)  # the work done is recorded against the item...
    assert (row["status"], row["closed_by"]) == ("done", "alice")
    again = open_items(db_engine, ref)["acknowledge"]  # ...and the need is back in the queue
    assert (again["status"], again["p_deadline"]) == ("open", 0)
    requeued = [e for e in service.history(ref) if e.kind == "work_item_requeued"]
    assert [(e.actor, e.data["kind"], e.data["item"]) for e in requeued] == [
        ("alice", "acknowledge", item.id)
    ]
    service.assign(ref, actor="bob", owner="carol")  # any later command re-plans the case
    assert open_items(db_engine, ref)["acknowledge"]["id"] == again["id"]
    nxt = service.claim("alice", QueueFilter(limit=1))
    assert nxt is not None and (nxt.id, nxt.reference) == (again["id"], ref)


# -- several claimers at once --------------------------------------------------------------------


@only_postgres
def test_no_deadlock_between_finishing_an_item_and_a_command_on_its_case(
    service: ComplaintsService, db_engine: Engine
) -> None:
    """A command (or the sweep) locks the case, then writes its items; finishing an item must
    take the locks in the same order, or each waits for the other (PostgreSQL then aborts one
    of them after ``deadlock_timeout``). On SQLite ``BEGIN IMMEDIATE`` serialises them anyway."""
    ref = open_case(service)
    item = service.claim("alice")
    assert item is not None
    in_command = threading.Event()
    errors: list[BaseException] = []

    def command_holding_the_case() -> None:
        try:
            with db_engine.begin() as conn:
                conn.execute(select(cases.c.id).where(cases.c.reference == ref).with_for_update())
                in_command.set()
                _wait_for_a_lock_wait(db_engine)
                conn.execute(
                    update(work_items).where(work_items.c.id == item.id).values(reason="re-ranked")
                )
        except BaseException as exc:
            errors.append(exc)

    other = threading.Thread(target=command_holding_the_case)
    other.start()
    assert in_command.wait(10)
    try:
        service.complete(item.id, actor="alice", command="assign", payload={"owner": "carol"})
    finally:
        other.join(30)
    assert errors == []
    row = item_row(db_engine, item.id)
    assert (row["status"], row["reason"]) == ("done", "re-ranked")
    assert service.get(ref).owner == "carol"


def _wait_for_a_lock_wait(db_engine: Engine, timeout: float = 10.0) -> None:
    """Until another session of this database waits for a lock (the finisher is blocked)."""
    deadline = time.monotonic() + timeout
    with db_engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            conn.rollback()
            if waiting:
                return
            time.sleep(0.01)
    raise AssertionError("the finisher never waited for a lock")


def test_claims_follow_the_documented_order_on_many_random_items(
    service: ComplaintsService, db_engine: Engine
) -> None:
    """Whatever path a claim takes (on PostgreSQL, index probes with a full-order fallback),
    items come out in exactly the documented order: deadline rank, countdown level (higher
    first), care (first), received, id. Expired leases compete with open items; live leases,
    other teams and restricted items are never handed out."""
    rng = random.Random(20250602)
    open_case(service)
    with db_engine.begin() as conn:
        case_id = conn.execute(select(cases.c.id)).scalar_one()
        conn.execute(work_items.delete())
        rows = []
        for n in range(400):
            status, claimed_by, lease = "open", None, None
            if n % 25 == 0:
                status, claimed_by, lease = "claimed", "gone", NOW - timedelta(minutes=1)
            elif n % 25 == 1:
                status, claimed_by, lease = "claimed", "busy", NOW + timedelta(minutes=1)
            rows.append(
                {
                    "case_id": case_id,
                    "kind": f"k{n}",
                    "status": status,
                    "team": "complaints" if n % 10 else "elsewhere",
                    "restricted": n % 17 == 0,
                    "p_deadline": rng.randrange(4),
                    "p_contact": rng.randrange(3),
                    "p_care": rng.randrange(2),
                    "received_at": NOW - timedelta(hours=rng.randrange(5)),  # many ties
                    "reason": "r",
                    "created_at": NOW,
                    "claimed_by": claimed_by,
                    "lease_until": lease,
                }
            )
        conn.execute(work_items.insert(), rows)
        stored = conn.execute(select(work_items)).all()
    expected = [
        row.id
        for row in sorted(
            stored,
            key=lambda r: (r.p_deadline, -r.p_contact, -r.p_care, r.received_at, r.id),
        )
        if row.team == "complaints"
        and not row.restricted
        and (row.status == "open" or row.lease_until < NOW)
    ]
    claimed = []
    query = QueueFilter(team="complaints")
    while True:
        with db_engine.begin() as conn:
            item = SqlWorkQueue(conn).claim("alice", NOW, NOW + LEASE, query, False)
        if item is None:
            break
        claimed.append(item.id)
    assert len(expected) > 250
    assert claimed == expected


@only_postgres
def test_a_claim_skips_items_another_claimer_has_locked(
    service: ComplaintsService, db_engine: Engine
) -> None:
    """While another transaction holds the most urgent item (and so its whole priority group),
    a claim takes the next one rather than waiting or coming back empty."""
    top = open_case(service, london(2025, 5, 19, 10))  # breached: alone in its group
    second = open_case(service, london(2025, 5, 23, 10))  # due today
    top_item = open_items(db_engine, top)["acknowledge"]["id"]
    with db_engine.connect() as other:
        other.execute(select(work_items.c.id).where(work_items.c.id == top_item).with_for_update())
        item = service.claim("alice", QueueFilter())
        assert item is not None and (item.reference, item.kind) == (second, "acknowledge")
        other.rollback()
    again = service.claim("bob")
    assert again is not None and again.id == top_item


CLAIMERS = 8


@pytest.fixture
def many_items(service: ComplaintsService, db_engine: Engine) -> list[int]:
    """300 open items, written in bulk: one ``acknowledge`` item on each of 300 cases (bare
    copies of one opened case, without its clocks, so finishing an item meets its need and it
    does not come back; ``priority`` and ``received_at`` vary)."""
    open_case(service)
    with db_engine.begin() as conn:
        template = dict(conn.execute(select(cases)).one()._mapping)
        item = dict(conn.execute(select(work_items)).one()._mapping)
        rows = []
        conn.execute(work_items.delete())  # the opened case's own item would come back
        for n in range(1, 301):
            row = {**template, "id": None, "reference": f"CMP-2025-9{n:05d}"}
            row["received_at"] = template["received_at"] - timedelta(minutes=n)
            rows.append({k: v for k, v in row.items() if k != "id"})
        conn.execute(cases.insert(), rows)
        ids = conn.execute(
            select(cases.c.id, cases.c.received_at).where(cases.c.id != template["id"])
        ).all()
        base = {k: v for k, v in item.items() if k not in ("id", "case_id", "received_at")}
        conn.execute(
            work_items.insert(),
            [
                {**base, "case_id": case_id, "received_at": at, "p_care": case_id % 2}
                for case_id, at in ids
            ],
        )
        return list(conn.execute(select(work_items.c.id).order_by(work_items.c.id)).scalars())


def test_concurrent_claimers_finish_every_item_exactly_once(
    make_service: Callable[..., ComplaintsService], db_engine: Engine, many_items: list[int]
) -> None:
    assert len(many_items) == 300
    claimed: list[list[int]] = [[] for _ in range(CLAIMERS)]

    def claimer(n: int) -> Callable[[], None]:
        service = make_service()  # its own engine and pool: like a separate process
        actor = f"coordinator-{n}"

        def loop() -> None:
            while (item := service.claim(actor)) is not None:
                claimed[n].append(item.id)
                service.complete(item.id, actor=actor, outcome=f"done by {actor}")

        return loop

    outcomes = run_at_once([claimer(n) for n in range(CLAIMERS)], timeout=120)
    assert [o.error for o in outcomes] == [None] * CLAIMERS

    everything = [item_id for mine in claimed for item_id in mine]
    repeats = {item_id: n for item_id, n in Counter(everything).items() if n > 1}
    assert repeats == {}, "items handed out more than once"
    for n, mine in enumerate(claimed):
        for m in range(n + 1, CLAIMERS):
            assert not set(mine) & set(claimed[m])
    assert sorted(everything) == many_items  # none lost
    with db_engine.connect() as conn:
        rows = conn.execute(select(work_items.c.id, work_items.c.status, work_items.c.closed_by))
        finished = {row.id: (row.status, row.closed_by) for row in rows}
    owner = {item_id: f"coordinator-{n}" for n, mine in enumerate(claimed) for item_id in mine}
    assert finished == {item_id: ("done", owner[item_id]) for item_id in many_items}
    if db_engine.dialect.name == "postgresql":
        assert sum(1 for mine in claimed if mine) > 1  # the claimers really did overlap


@only_postgres
def test_a_claimer_that_dies_leaves_its_item_to_return_after_the_lease(
    make_service: Callable[..., ComplaintsService], clock: FakeClock, db_engine: Engine
) -> None:
    """The claim is committed, then the claimer's connection is killed before it finishes."""
    service = make_service()
    open_case(service)
    doomed = make_service(connect_args={"application_name": "doomed-claimer"})
    item = doomed.claim("dies")
    assert item is not None
    with db_engine.connect() as conn:
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = 'doomed-claimer'"
            )
        ).scalar_one()
    assert killed == 1
    assert service.claim("bob") is None  # still leased
    clock.advance(LEASE + timedelta(seconds=1))
    back = service.claim("bob")
    assert back is not None and back.id == item.id
    service.complete(back.id, actor="bob")
    assert item_row(db_engine, item.id)["closed_by"] == "bob"

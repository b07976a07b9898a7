"""Restricted cases in the coordinators' work queue: every queue read and write path, for the
three kinds of people (issue 7).

A restricted case (staff conduct, or opened ``restricted``) exists only for the complaints team
(``rita``, a restricted viewer in this module's settings) and for its named manager (``mandy``);
to anyone else (``alice``, a coordinator; ``max``, who manages a different restricted case) its
items are "not found" on every path: not listed, never claimed, and release and done answer
exactly as for an item that does not exist (never "held by mandy"). Runs on SQLite and
PostgreSQL. "Now" is Monday 2 June 2025, 12:00 in London.
"""

from __future__ import annotations

from typing import Any

import pytest
import structlog
from sqlalchemy import Engine, select
from support import FakeClock, london

from adapters.db.tables import work_items
from adapters.settings import Settings, load_settings
from engine.errors import LeaseLostError, WorkItemNotFoundError
from engine.queue import QueueFilter, WorkItem
from engine.service import ComplaintsService

NOW = london(2025, 6, 2, 12, 0)
SETTINGS_TOML = """
[queue]
restricted_viewers = ["rita"]
lease_minutes = 30
"""
TEAM, MANAGER, OTHER, OTHER_MANAGER = "rita", "mandy", "alice", "max"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("queue-access-config")
    (folder / "settings.toml").write_text(SETTINGS_TOML, encoding="utf-8")
    return load_settings(config_dir=str(folder))


@pytest.fixture(autouse=True)
def _now(clock: FakeClock) -> None:
    clock.set(NOW)


def open_case(service: ComplaintsService, received: Any, **fields: Any) -> str:
    values: dict[str, Any] = {
        "actor": "intake",
        "category": "asb",
        "channel": "phone",
        "area": "north",
        "received_at": received,
    }
    values.update(fields)
    return service.open(**values).reference


@pytest.fixture
def cases(service: ComplaintsService) -> dict[str, str]:
    """Three cases received this morning, each with one ``acknowledge`` item, oldest (most
    urgent) first: mandy's staff-conduct case, max's restricted one, and an ordinary one."""
    return {
        "conduct": open_case(
            service, london(2025, 6, 2, 8), category="staff-conduct", manager=MANAGER
        ),
        "elsewhere": open_case(
            service, london(2025, 6, 2, 9), restricted=True, manager=OTHER_MANAGER
        ),
        "ordinary": open_case(service, london(2025, 6, 2, 10)),
    }


def refs(items: list[WorkItem] | Any) -> list[str]:
    return [i.reference for i in items]


def row(db_engine: Engine, item_id: int) -> dict[str, Any]:
    with db_engine.connect() as conn:
        found = conn.execute(select(work_items).where(work_items.c.id == item_id)).one()
    return dict(found._mapping)


def mandys_item(service: ComplaintsService, cases: dict[str, str]) -> WorkItem:
    item = service.claim(MANAGER)
    assert item is not None and item.reference == cases["conduct"]
    return item


def not_found_like_a_missing_item(error: pytest.ExceptionInfo[WorkItemNotFoundError]) -> None:
    item_id = error.value.item_id
    assert str(error.value) == str(WorkItemNotFoundError(item_id))
    assert MANAGER not in str(error.value)


# -- list -------------------------------------------------------------------------------------


def test_the_list_shows_restricted_items_to_the_team_and_the_named_manager_only(
    service: ComplaintsService, cases: dict[str, str]
) -> None:
    assert refs(service.queue(TEAM)) == [cases["conduct"], cases["elsewhere"], cases["ordinary"]]
    assert refs(service.queue(MANAGER)) == [cases["conduct"], cases["ordinary"]]
    assert refs(service.queue(OTHER_MANAGER)) == [cases["elsewhere"], cases["ordinary"]]
    assert refs(service.queue(OTHER)) == [cases["ordinary"]]
    # filtered lists too, and a claimed restricted item stays hidden from others
    mandys_item(service, cases)
    assert refs(service.queue(OTHER, QueueFilter(category="staff-conduct"))) == []
    assert refs(service.queue(MANAGER, QueueFilter(category="staff-conduct"))) == [cases["conduct"]]
    assert refs(service.queue(OTHER, QueueFilter(team="complaints"))) == [cases["ordinary"]]
    assert [i.claimed_by for i in service.queue(TEAM, QueueFilter(limit=1))] == [MANAGER]


# -- claim ------------------------------------------------------------------------------------


def test_the_named_manager_claims_their_restricted_item_and_no_other(
    service: ComplaintsService, cases: dict[str, str]
) -> None:
    first = service.claim(MANAGER)
    second = service.claim(MANAGER)
    assert refs([first, second]) == [cases["conduct"], cases["ordinary"]]
    assert service.claim(MANAGER) is None  # max's restricted case is there, not for mandy


def test_another_coordinator_never_claims_a_restricted_item(
    service: ComplaintsService, cases: dict[str, str], db_engine: Engine
) -> None:
    item = service.claim(OTHER)
    assert item is not None and item.reference == cases["ordinary"]
    assert service.claim(OTHER) is None
    assert service.claim(OTHER, QueueFilter(category="staff-conduct")) is None
    statuses = {r.reference: r.status for r in service.queue(TEAM)}
    assert statuses[cases["conduct"]] == statuses[cases["elsewhere"]] == "open"


def test_the_complaints_team_claims_restricted_items_in_order(
    service: ComplaintsService, cases: dict[str, str]
) -> None:
    claimed = [service.claim(TEAM) for _ in range(3)]
    assert refs(claimed) == [cases["conduct"], cases["elsewhere"], cases["ordinary"]]
    assert service.claim(TEAM) is None


# -- release ----------------------------------------------------------------------------------


def test_release_of_a_restricted_item_by_someone_who_may_not_see_it_is_not_found(
    service: ComplaintsService, cases: dict[str, str], db_engine: Engine
) -> None:
    item = mandys_item(service, cases)
    for outsider in (OTHER, OTHER_MANAGER):
        with pytest.raises(WorkItemNotFoundError) as error:
            service.release(item.id, actor=outsider)
        not_found_like_a_missing_item(error)
    assert (row(db_engine, item.id)["status"], row(db_engine, item.id)["claimed_by"]) == (
        "claimed",
        MANAGER,
    )
    # the team may see it, so it is told who holds it; the manager releases it
    with pytest.raises(LeaseLostError, match=f"held by {MANAGER}"):
        service.release(item.id, actor=TEAM)
    service.release(item.id, actor=MANAGER)
    assert row(db_engine, item.id)["status"] == "open"


def test_the_complaints_team_releases_a_restricted_item_it_holds(
    service: ComplaintsService, cases: dict[str, str], db_engine: Engine
) -> None:
    item = service.claim(TEAM)
    assert item is not None and item.reference == cases["conduct"]
    with pytest.raises(WorkItemNotFoundError):
        service.release(item.id, actor=OTHER)
    service.release(item.id, actor=TEAM)
    assert row(db_engine, item.id)["status"] == "open"


# -- done -------------------------------------------------------------------------------------


def test_done_on_a_restricted_item_by_someone_who_may_not_see_it_is_not_found(
    service: ComplaintsService, cases: dict[str, str], db_engine: Engine
) -> None:
    item = mandys_item(service, cases)
    version = service.get(cases["conduct"], actor=TEAM).version
    for outsider in (OTHER, OTHER_MANAGER):
        with pytest.raises(WorkItemNotFoundError) as error:
            service.complete(
                item.id,
                actor=outsider,
                command="acknowledge",
                payload={"understanding": "u", "desired_outcome": "o"},
            )
        not_found_like_a_missing_item(error)
    assert row(db_engine, item.id)["status"] == "claimed"
    assert service.get(cases["conduct"], actor=TEAM).version == version  # nothing ran on the case
    with pytest.raises(LeaseLostError, match=f"held by {MANAGER}"):
        service.complete(item.id, actor=TEAM)


def test_the_named_manager_finishes_their_restricted_item_with_a_command(
    service: ComplaintsService, cases: dict[str, str], db_engine: Engine
) -> None:
    item = mandys_item(service, cases)
    service.complete(
        item.id,
        actor=MANAGER,
        command="acknowledge",
        payload={"understanding": "u", "desired_outcome": "o"},
    )
    assert (row(db_engine, item.id)["status"], row(db_engine, item.id)["closed_by"]) == (
        "done",
        MANAGER,
    )
    assert service.get(cases["conduct"], actor=TEAM).state == "stage1"


def test_the_complaints_team_finishes_a_restricted_item(
    service: ComplaintsService, cases: dict[str, str], db_engine: Engine
) -> None:
    item = service.claim(TEAM, QueueFilter(category="staff-conduct"))
    assert item is not None and item.reference == cases["conduct"]
    service.complete(
        item.id,
        actor=TEAM,
        command="acknowledge",
        payload={"understanding": "u", "desired_outcome": "o"},
    )
    assert row(db_engine, item.id)["closed_by"] == TEAM
    assert cases["conduct"] not in refs(service.queue(TEAM))


def test_hiding_a_restricted_item_is_a_security_event_and_a_missing_one_is_not(
    service: ComplaintsService, cases: dict[str, str]
) -> None:
    item = mandys_item(service, cases)
    with structlog.testing.capture_logs() as logs:
        with pytest.raises(WorkItemNotFoundError):
            service.release(item.id, actor=OTHER)
        with pytest.raises(WorkItemNotFoundError):
            service.complete(item.id, actor=OTHER_MANAGER)
        with pytest.raises(WorkItemNotFoundError):
            service.release(999_999, actor=OTHER)
    denied = [entry for entry in logs if entry["event"] == "permission_denied"]
    assert [(d["actor"], d["command"], d["permission"]) for d in denied] == [
        (OTHER, "release", "see-restricted"),
        (OTHER_MANAGER, "complete", "see-restricted"),
    ]
    assert all(d["reference"] is None for d in denied)  # the refusal names no case

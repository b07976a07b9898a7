"""Roles, permissions and restricted cases through every read and write path of the service.

Runs on SQLite and PostgreSQL. The deployment's actors come from a config folder written for this
module: ``maggie`` is a complaints manager, ``tess`` on the complaints team, ``audrey`` an auditor,
``hms`` an embedding system, ``tim`` a team member; anyone else is a coordinator.
``manny`` is the named manager of one restricted case.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import structlog
from sqlalchemy import Engine, select
from support import FakeClock, london, row_counts

from adapters.db.tables import case_events
from adapters.settings import Settings, load_settings
from engine.access import Actor, can_see, resolver
from engine.errors import CaseNotFoundError, PermissionDeniedError
from engine.ports import CaseFilter
from engine.queue import QueueFilter
from engine.service import ComplaintsService
from sla.errors import ConfigError

NOW = london(2025, 6, 2, 12, 0)
SETTINGS_TOML = """
[actors]
default_roles = ["coordinator"]
maggie = ["complaints-manager"]
tess = ["complaints-team"]
audrey = ["auditor"]
hms = ["service"]
tim = ["team-member"]
"""
PERSONAL = ("Jane Doe", "jane.doe@example.org", "07700 900123", "EX4 1AB", "shouted at me")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("access-config")
    (folder / "settings.toml").write_text(SETTINGS_TOML, encoding="utf-8")
    return load_settings(config_dir=str(folder))


@pytest.fixture(autouse=True)
def _now(clock: FakeClock) -> None:
    clock.set(NOW)


def open_case(service: ComplaintsService, actor: str = "colin", **fields: Any) -> str:
    values: dict[str, Any] = {
        "actor": actor,
        "category": "repairs",
        "channel": "phone",
        "area": "north",
        "received_at": london(2025, 6, 2, 9),
        "summary": "Boiler broken",
    }
    values.update(fields)
    return service.open(**values).reference


@pytest.fixture
def cases_(service: ComplaintsService) -> dict[str, str]:
    """An ordinary case, a staff-conduct case, and a restricted case managed by ``manny``."""
    return {
        "ordinary": open_case(service),
        "conduct": open_case(
            service,
            category="staff-conduct",
            summary="The officer shouted at me",
            resident_name="Jane Doe",
            resident_email="jane.doe@example.org",
        ),
        "managed": open_case(service, restricted=True, manager="manny"),
    }


# -- actors and configuration ------------------------------------------------------------------


def test_actors_come_from_the_settings_and_unknown_names_are_coordinators(
    settings: Settings, service: ComplaintsService
) -> None:
    assert settings.actor_roles["maggie"] == ("complaints-manager",)
    assert settings.default_roles == ("coordinator",)
    assert service.actor("maggie").roles == frozenset({"complaints-manager"})
    assert service.actor("somebody").roles == frozenset({"coordinator"})
    assert service.actor(Actor("x", frozenset({"auditor"}))).may("read")


def test_an_unknown_role_in_the_settings_is_a_config_error(tmp_path: Any) -> None:
    (tmp_path / "settings.toml").write_text('[actors]\nbob = ["king"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown role 'king'"):
        load_settings(config_dir=str(tmp_path))
    (tmp_path / "settings.toml").write_text('[actors]\ndefault_roles = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="default_roles"):
        load_settings(config_dir=str(tmp_path))


def test_the_actor_is_recorded_on_every_event(
    service: ComplaintsService, db_engine: Engine
) -> None:
    ref = open_case(service, actor="hms")
    service.acknowledge(ref, actor="colin", understanding="u", desired_outcome="o")
    service.record_contact(
        ref,
        actor=Actor("tess", frozenset({"complaints-team"})),
        direction="outbound",
        channel="phone",
    )
    actors = [e.actor for e in service.history(ref)]
    assert actors[0] == "hms" and "colin" in actors and actors[-1] == "tess"
    with db_engine.connect() as conn:
        assert all(conn.execute(select(case_events.c.actor)).scalars())


def test_a_resolver_without_settings_makes_everyone_a_coordinator() -> None:
    resolve = resolver({"a": ["auditor"]})
    assert resolve("a").roles == frozenset({"auditor"})
    assert resolve("b").roles == frozenset({"coordinator"})


# -- restricted cases: every read and write path -----------------------------------------------

DENIED_READS: list[tuple[str, Callable[[ComplaintsService, str, str], Any]]] = [
    ("get", lambda s, ref, who: s.get(ref, actor=who)),
    ("history", lambda s, ref, who: s.history(ref, actor=who)),
    ("acknowledge", lambda s, ref, who: s.acknowledge(ref, actor=who, understanding="u")),
    (
        "contact",
        lambda s, ref, who: s.record_contact(ref, actor=who, direction="outbound", channel="phone"),
    ),
    ("extend", lambda s, ref, who: s.extend(ref, actor=who, days=5, reason="r")),
    ("extend-stage", lambda s, ref, who: s.extend(ref, actor=who, stage=2, days=5, reason="r")),
    ("assign", lambda s, ref, who: s.assign(ref, actor=who, owner="x")),
    ("close", lambda s, ref, who: s.close(ref, actor=who)),
    ("withdraw", lambda s, ref, who: s.withdraw(ref, actor=who, reason="r")),
    ("run", lambda s, ref, who: s.run(ref, "acknowledge", {}, actor=who)),
    (
        "respond",
        lambda s, ref, who: s.respond(ref, actor=who, decision="upheld", reasons="r"),
    ),
    (
        "add_action",
        lambda s, ref, who: s.add_action(
            ref, actor=who, description="d", owner="o", due_on=date(2025, 7, 1)
        ),
    ),
    ("complete_action", lambda s, ref, who: s.complete_action(ref, actor=who, number=1)),
    ("escalate", lambda s, ref, who: s.escalate(ref, actor=who)),
    ("agree_updates", lambda s, ref, who: s.agree_updates(ref, actor=who, every=5)),
    ("decline", lambda s, ref, who: s.decline(ref, actor=who, exclusion="x", reason="r")),
    ("refer", lambda s, ref, who: s.refer(ref, actor=who)),
    (
        "resolve",
        lambda s, ref, who: s.resolve(
            ref, actor=who, agreed_outcome="o", told_how_to_complain=True
        ),
    ),
]


def test_every_case_path_of_the_service_is_in_the_restricted_case_table() -> None:
    """A new command taking a reference must join DENIED_READS (and so be proven to hide
    restricted cases), or this fails."""
    covered = {path.replace("-stage", "") for path, _ in DENIED_READS}
    covered |= {"record_contact"} if "contact" in covered else set()
    case_paths = {
        name
        for name, member in vars(ComplaintsService).items()
        if callable(member)
        and not name.startswith("_")
        and next(iter(list(inspect.signature(member).parameters)[1:2]), "") == "reference"
    }
    assert case_paths, "no method takes a reference?"
    assert case_paths - covered == set()


@pytest.mark.parametrize("who", ["colin", "audrey"])
@pytest.mark.parametrize(("path", "call"), DENIED_READS, ids=[p for p, _ in DENIED_READS])
def test_a_restricted_case_does_not_exist_for_those_who_may_not_see_it(
    service: ComplaintsService,
    db_engine: Engine,
    cases_: dict[str, str],
    who: str,
    path: str,
    call: Callable[[ComplaintsService, str, str], Any],
) -> None:
    before = row_counts(db_engine)
    missing_ref = "CMP-2025-999999"
    for ref in (cases_["conduct"], cases_["managed"]):
        with pytest.raises((CaseNotFoundError, PermissionDeniedError)) as caught:
            call(service, ref, who)
        if who == "audrey" and path not in {"get", "history"}:
            assert isinstance(caught.value, PermissionDeniedError)  # read-only first
            continue
        assert isinstance(caught.value, CaseNotFoundError)
        # Indistinguishable from a case that does not exist.
        with pytest.raises(CaseNotFoundError) as missing:
            call(service, missing_ref, who)
        assert str(caught.value) == str(missing.value).replace(missing_ref, ref)
    assert row_counts(db_engine) == before


@pytest.mark.parametrize("who", ["maggie", "tess"])
def test_the_complaints_team_sees_and_works_restricted_cases(
    service: ComplaintsService, cases_: dict[str, str], who: str
) -> None:
    assert {i.reference for i in service.queue(who)} == set(cases_.values())
    for ref in (cases_["conduct"], cases_["managed"]):
        assert service.get(ref, actor=who).restricted
        assert service.history(ref, actor=who)[0].kind == "opened"
        service.acknowledge(ref, actor=who, understanding="u", desired_outcome="o")
    found = {c.reference for c in service.find(CaseFilter(), actor=who)}
    assert found == set(cases_.values())


def test_the_named_manager_sees_their_restricted_case_and_no_other(
    service: ComplaintsService, cases_: dict[str, str]
) -> None:
    managed = service.get(cases_["managed"], actor="manny")
    assert managed.records["manager"] == "manny"
    assert len(service.history(cases_["managed"], actor="manny")) >= 1
    service.acknowledge(cases_["managed"], actor="manny", understanding="u", desired_outcome="o")
    with pytest.raises(CaseNotFoundError):
        service.get(cases_["conduct"], actor="manny")
    found = {c.reference for c in service.find(CaseFilter(), actor="manny")}
    assert found == {cases_["ordinary"], cases_["managed"]}


def test_lists_and_searches_leave_restricted_cases_out_for_everyone_else(
    service: ComplaintsService, cases_: dict[str, str]
) -> None:
    for who in ("colin", "tim", "hms", "audrey"):
        assert [c.reference for c in service.find(actor=who)] == [cases_["ordinary"]]
        assert service.find(CaseFilter(category="staff-conduct"), actor=who) == []
        assert (
            service.find(CaseFilter(is_open=True, area="north", limit=1), actor=who)[0].reference
            == cases_["ordinary"]
        )
    # Without an actor a query runs as the service's system actor (an embedding service), which
    # may not see restricted cases either: get/history say "not found", lists leave them out.
    assert [c.reference for c in service.find()] == [cases_["ordinary"]]
    for reference in (cases_["conduct"], cases_["managed"]):
        with pytest.raises(CaseNotFoundError, match="no case"):
            service.get(reference)
        with pytest.raises(CaseNotFoundError, match="no case"):
            service.history(reference)
    # An embedding process trusted with restricted cases says so explicitly.
    service.system_actor = Actor("case-review-service", frozenset({"complaints-team"}))
    assert len(service.find()) == 3
    assert service.get(cases_["conduct"]).reference == cases_["conduct"]


def test_the_queue_hides_restricted_items_from_those_who_may_not_see_them(
    service: ComplaintsService, cases_: dict[str, str]
) -> None:
    for who in ("colin", "tim", "hms", "audrey"):
        assert {i.reference for i in service.queue(who)} == {cases_["ordinary"]}
    item = service.claim("colin")
    assert item is not None and item.reference == cases_["ordinary"]
    assert service.claim("colin") is None
    claimed = service.claim("tess", QueueFilter())
    assert claimed is not None and claimed.restricted
    service.complete(
        claimed.id,
        actor="tess",
        command="acknowledge",
        payload={"understanding": "u", "desired_outcome": "o"},
    )


# -- read-only and missing permissions ---------------------------------------------------------


def test_an_auditor_reads_but_every_write_is_a_permission_error(
    service: ComplaintsService, db_engine: Engine, cases_: dict[str, str]
) -> None:
    ref = cases_["ordinary"]
    assert service.get(ref, actor="audrey").reference == ref
    assert service.history(ref, actor="audrey")
    assert service.queue("audrey")
    before = row_counts(db_engine)
    writes: list[Callable[[], Any]] = [
        lambda: open_case(service, actor="audrey"),
        lambda: service.acknowledge(ref, actor="audrey"),
        lambda: service.close(ref, actor="audrey"),
        lambda: service.run(ref, "assign", {"owner": "x"}, actor="audrey"),
        lambda: service.claim("audrey"),
        lambda: service.release(1, actor="audrey"),
        lambda: service.complete(1, actor="audrey"),
    ]
    for write in writes:
        with pytest.raises(PermissionDeniedError, match="'write' permission"):
            write()
    assert row_counts(db_engine) == before


def test_a_good_reason_extension_needs_the_override_permission(
    service: ComplaintsService, cases_: dict[str, str]
) -> None:
    ref = cases_["ordinary"]
    service.acknowledge(ref, actor="colin", understanding="u", desired_outcome="o")
    # only a complaints manager: not a coordinator, the complaints team, a team member or a system
    for who in ("colin", "tess", "tim", "hms"):
        with pytest.raises(PermissionDeniedError, match="override"):
            service.extend(ref, actor=who, days=15, reason="r", good_reason="Awaiting a report")
    case = service.extend(ref, actor="maggie", days=15, reason="r", good_reason="Awaiting a report")
    assert case.records["extensions"][-1]["good_reason"] == "Awaiting a report"


def test_refusals_are_logged_as_security_events_without_personal_data(
    service: ComplaintsService, cases_: dict[str, str]
) -> None:
    with structlog.testing.capture_logs() as logs:
        with pytest.raises(CaseNotFoundError):
            service.get(cases_["conduct"], actor="colin")
        with pytest.raises(PermissionDeniedError):
            service.acknowledge(cases_["ordinary"], actor="audrey")
    denied = [entry for entry in logs if entry["event"] == "permission_denied"]
    assert [d["log_level"] for d in denied] == ["warning", "warning"]
    assert denied[0]["reference"] == cases_["conduct"]
    assert denied[0]["actor_role"] == "coordinator"
    assert denied[1]["permission"] == "write" and denied[1]["actor_role"] == "auditor"
    text = repr(logs)
    for value in PERSONAL:
        assert value not in text


def test_can_see_is_pure_and_follows_the_roles(service: ComplaintsService) -> None:
    case = service.get(open_case(service, category="staff-conduct", manager="manny"), actor="tess")
    assert not can_see(Actor("colin"), case)
    assert can_see(Actor("manny"), case)
    assert can_see(Actor("z", frozenset({"complaints-manager"})), case)
    assert not can_see(Actor("z", frozenset()), case)

"""Restricted cases in reports: counted in every figure, never listed for a viewer who may not
see them (issue 7: "reports (counted, but not itemised)").

The dataset, on SQLite and PostgreSQL:

* hotspots, June 2025 (no history, so lambda is the 0.5 floor): repairs/north has five
  complaints, one of them opened ``restricted`` with ``mo.manager`` as its named manager;
  staff-conduct/east has four (restricted by their category). Both are flagged.
* TSM 2025/26: three Stage 1 complaints with an extension notified after the deadline (listed in
  ``ch02_extensions`` and judged without it): one ordinary, one restricted (manager
  ``mo.manager``), one staff-conduct.

Each report is run through the CLI in every format as a coordinator (``carol``: default roles,
no ``see-restricted``), as the restricted case's named manager, and as the complaints team
(``tina``, configured in ``[actors]``), and through the Python API without a viewer.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import structlog
from click.testing import CliRunner
from sqlalchemy import Engine
from support import FakeClock, london

from adapters.cli.main import cli as complaints_cli
from adapters.reports import Homes, hotspots_report, performance_report, render, tsm_report
from adapters.settings import Settings
from engine.access import Actor
from engine.service import ComplaintsService

CONFIG_DIR = Path(__file__).parents[2] / "config"
TEAM = Actor("tina", frozenset({"complaints-team"}))
FORMATS = ("table", "csv", "json", "html")
COORDINATOR, MANAGER, TEAM_MEMBER = "carol", "mo.manager", "tina"


def _open(
    service: ComplaintsService,
    day: datetime,
    category: str,
    area: str,
    *,
    restricted: bool = False,
    manager: str | None = None,
) -> str:
    return service.open(
        actor=TEAM,
        category=category,
        area=area,
        channel="phone",
        received_at=day,
        understanding="Repair outstanding",
        desired_outcome="Fix it",
        restricted=restricted,
        manager=manager,
    ).reference


def _late_extension(service: ComplaintsService, ref: str) -> None:
    """Acknowledged Wed 1 Oct 2025 (response due 15 Oct); extended by 10 on Fri 17 Oct, after
    the deadline; responded 24 Oct: judged against 15 Oct, late."""
    service.acknowledge(ref, actor=TEAM, at=london(2025, 10, 1, 11))
    service.extend(
        ref, actor=TEAM, days=10, stage=1, reason="Waiting for a report", at=london(2025, 10, 17)
    )
    service.respond(
        ref,
        actor=TEAM,
        decision="upheld",
        reasons="Looked into it",
        avoidable=True,
        compensation_pence=0,
        at=london(2025, 10, 24, 12),
    )


@pytest.fixture
def data(service: ComplaintsService, clock: FakeClock) -> dict[str, list[str]]:
    clock.set(datetime(2025, 12, 1, 9, 0, tzinfo=UTC))
    refs: dict[str, list[str]] = {}
    refs["repairs"] = [_open(service, london(2025, 6, d, 10), "repairs", "north") for d in (2, 9)]
    refs["managed"] = [
        _open(
            service, london(2025, 6, 10, 10), "repairs", "north", restricted=True, manager=MANAGER
        )
    ]
    refs["repairs"] += [
        _open(service, london(2025, 6, d, 10), "repairs", "north") for d in (16, 23)
    ]
    refs["conduct"] = [
        _open(service, london(2025, 6, d, 10), "staff-conduct", "east") for d in (3, 4, 5, 6)
    ]
    oct1 = london(2025, 10, 1, 10)
    refs["tsm_open"] = [_open(service, oct1, "repairs", "south")]
    refs["tsm_managed"] = [
        _open(service, oct1, "repairs", "south", restricted=True, manager=MANAGER)
    ]
    refs["tsm_conduct"] = [_open(service, oct1, "staff-conduct", "south")]
    for key in ("tsm_open", "tsm_managed", "tsm_conduct"):
        _late_extension(service, refs[key][0])
    return refs


def _config(tmp_path: Path) -> Path:
    """The repository's config with ``tina`` on the complaints team."""
    config = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config)
    settings = config / "settings.toml"
    text = settings.read_text(encoding="utf-8")
    marker = 'default_roles = ["coordinator"]'
    assert marker in text
    settings.write_text(
        text.replace(marker, f'{marker}\ntina = ["complaints-team"]'), encoding="utf-8"
    )
    return config


def _run(config: Path, db_url: str, actor: str, *args: str) -> str:
    saved = structlog.get_config()
    try:
        result = CliRunner().invoke(
            complaints_cli,
            ["--config", str(config), "--db", db_url, "report", *args, "--as", actor],
            catch_exceptions=False,
        )
    finally:
        structlog.configure(**saved)
    assert result.exit_code == 0, result.output
    return result.stdout


HOTSPOTS = ("hotspots", "--from", "2025-06-01", "--to", "2025-06-30")
TSM = ("tsm", "--year", "2025", "--homes-lcra", "1000")
PERFORMANCE = ("performance", "--from", "2025-06-01", "--to", "2025-10-31", "--as-of", "2025-11-03")
# Who sees which of the restricted references listed.
SEES = {
    COORDINATOR: (),
    MANAGER: ("managed", "tsm_managed"),
    TEAM_MEMBER: ("managed", "tsm_managed", "conduct", "tsm_conduct"),
}
RESTRICTED = ("managed", "tsm_managed", "conduct", "tsm_conduct")


@pytest.mark.parametrize("actor", [COORDINATOR, MANAGER, TEAM_MEMBER])
def test_every_output_format_lists_only_the_restricted_cases_the_viewer_may_see(
    data: dict[str, list[str]], db_url: str, tmp_path: Path, actor: str
) -> None:
    config = _config(tmp_path)
    for fmt in FORMATS:
        text = "".join(_run(config, db_url, actor, *r, "--format", fmt) for r in (HOTSPOTS, TSM))
        # Ordinary cases are listed for everyone.
        for ref in (*data["repairs"], *data["tsm_open"]):
            assert ref in text, (fmt, ref)
        for key in RESTRICTED:
            for ref in data[key]:
                assert (ref in text) == (key in SEES[actor]), (fmt, actor, key)
        # The performance report lists no case at all.
        performance = _run(config, db_url, actor, *PERFORMANCE, "--format", fmt)
        assert not any(ref in performance for refs in data.values() for ref in refs), fmt


@pytest.mark.parametrize(
    ("actor", "repairs_listed", "conduct_listed"),
    [(COORDINATOR, 4, 0), (MANAGER, 5, 0), (TEAM_MEMBER, 5, 4)],
)
def test_restricted_cases_are_counted_whoever_asks(
    data: dict[str, list[str]],
    db_url: str,
    tmp_path: Path,
    actor: str,
    repairs_listed: int,
    conduct_listed: int,
) -> None:
    config = _config(tmp_path)
    hotspots = json.loads(_run(config, db_url, actor, *HOTSPOTS, "--format", "json"))["tables"]
    rows = {(r["category"], r["area"]): r for r in hotspots["hotspots"]["rows"]}
    # Five repairs/north and four staff-conduct/east complaints, whoever asks; only the listing
    # changes. P(X >= 5 | 0.5) = 0.000172, P(X >= 4 | 0.5) = 0.00175.
    assert rows[("repairs", "north")]["observed"] == 5
    assert rows[("repairs", "north")]["listed"] == repairs_listed
    assert rows[("repairs", "north")]["not_listed"] == 5 - repairs_listed
    assert rows[("staff-conduct", "east")]["observed"] == 4
    assert rows[("staff-conduct", "east")]["listed"] == conduct_listed
    assert rows[("staff-conduct", "east")]["not_listed"] == 4 - conduct_listed
    behind = hotspots["hotspot_cases"]["rows"]
    assert len(behind) == repairs_listed + conduct_listed
    hidden = 9 - repairs_listed - conduct_listed
    notes = hotspots["hotspot_cases"]["notes"]
    if hidden:
        assert notes == [
            f"{hidden} restricted complaint{'s' if hidden > 1 else ''} not listed: counted in "
            "every figure, but listed only for those who may see restricted cases."
        ]
    else:
        assert notes == []

    tsm = json.loads(_run(config, db_url, actor, *TSM, "--format", "json"))["tables"]
    ch01 = {(r["tenure"], r["stage"]): r for r in tsm["ch01"]["rows"]}
    ch02 = {(r["tenure"], r["stage"]): r for r in tsm["ch02"]["rows"]}
    # Received in 2025/26: the nine June complaints and the three October ones (six of the
    # twelve restricted). The October three are responded to in the year, all late against the
    # deadline without their extension.
    assert ch01[("LCRA", "Stage 1")]["received"] == 12
    assert ch02[("LCRA", "Stage 1")]["responded"] == 3
    assert ch02[("LCRA", "Stage 1")]["within"] == 0
    assert ch02[("LCRA", "Stage 1")]["without_extensions"] == 3
    listed = len(tsm["ch02_extensions"]["rows"])
    assert listed == {COORDINATOR: 1, MANAGER: 2, TEAM_MEMBER: 3}[actor]
    assert len(tsm["ch02_extensions"]["notes"]) == (0 if listed == 3 else 1)


def test_without_a_viewer_the_api_lists_no_restricted_case(
    data: dict[str, list[str]], db_engine: Engine, settings: Settings
) -> None:
    hotspots = hotspots_report(db_engine, start=date(2025, 6, 1), end=date(2025, 6, 30))
    tsm = tsm_report(db_engine, settings.calendar, year=2025, homes=Homes(), rule="responded")
    team_tsm = tsm_report(
        db_engine, settings.calendar, year=2025, homes=Homes(), rule="responded", viewer=TEAM
    )
    text = "".join(render(d, fmt) for d in (hotspots, tsm) for fmt in FORMATS)
    assert all(ref in text for ref in (*data["repairs"], *data["tsm_open"]))
    assert not any(ref in text for key in RESTRICTED for ref in data[key])
    # The figures are the same for every viewer: only the lists differ.
    assert tsm.table("ch01") == team_tsm.table("ch01")
    assert tsm.table("ch02") == team_tsm.table("ch02")
    team_text = "".join(render(team_tsm, fmt) for fmt in FORMATS)
    assert all(ref in team_text for ref in (*data["tsm_managed"], *data["tsm_conduct"]))


def test_the_performance_figures_count_restricted_cases(
    data: dict[str, list[str]], db_engine: Engine, settings: Settings
) -> None:
    document = performance_report(
        db_engine,
        settings.calendar,
        start=date(2025, 6, 1),
        end=date(2025, 10, 31),
        as_of=date(2025, 11, 3),
        levels=settings.policies.get("hoc-2024").contact_levels,
    )
    volumes = {r["month"]: r for r in document.table("volumes").rows}
    # June: 5 repairs/north (one restricted) and 4 staff-conduct; October: 3 (two restricted).
    assert volumes["2025-06"]["received"] == 9
    assert volumes["2025-10"]["received"] == 3
    assert volumes["2025-10"]["responded"] == 3
    by_category = {r["key"]: r for r in document.table("outcomes_by_category").rows}
    assert by_category["staff-conduct"]["s1_upheld"] == 1
    assert by_category["repairs"]["s1_upheld"] == 2

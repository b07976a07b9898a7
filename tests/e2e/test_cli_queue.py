"""``complaints queue``: list, claim, done and release through the CLI, on an SQLite file.

The deployment's settings come from a config folder written per test: ``rita`` may see
restricted cases, repairs work goes to the ``repairs-desk`` team, and leases last 30 minutes
(0 in the lease-expiry test, so a lease has run out by the next command). The CLI runs on the
real clock, so cases are received at fixed past dates and the working days since contact are
worked out against today with the calendar.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_support import ACTOR, Cli, Process
from click.testing import Result

from adapters.cli.main import cli as complaints_cli
from adapters.cli.queue_commands import HEADERS, engine_command, parse_item, parse_pairs
from engine.errors import ValidationError
from sla.calendar import WorkingCalendar
from sla.timezone import LONDON, london_date

ENGLAND = WorkingCalendar.uk("england-and-wales")
OPEN = ("open", "--channel", "phone")
ACK = ("--set", "understanding=Noise at night", "--set", "desired_outcome=Quiet nights")

SETTINGS = """
[queue]
restricted_viewers = ["rita"]
lease_minutes = {lease}

[teams]
repairs-desk = ["repairs"]
"""


@dataclass
class QueueCli(Cli):
    """The CLI on one database with this module's config folder."""

    config_dir: Path | None = None

    def run(self, *args: str, env: dict[str, str | None] | None = None) -> Result:
        argv = ["--config", str(self.config_dir), "--db", self.db_url, *args]
        return self.runner.invoke(
            complaints_cli, argv, env=env, catch_exceptions=False, prog_name="complaints"
        )


def config_folder(tmp_path: Path, lease: int) -> Path:
    folder = tmp_path / f"config-{lease}"
    folder.mkdir()
    (folder / "settings.toml").write_text(SETTINGS.format(lease=lease), encoding="utf-8")
    return folder


@pytest.fixture
def make_cli(cli: Cli, tmp_path: Path) -> Callable[..., QueueCli]:
    """``cli`` (the suite's fixture: a database, alice acting) with a config of our own."""

    def make(lease: int = 30) -> QueueCli:
        return QueueCli(cli.db_url, cli.runner, config_folder(tmp_path, lease))

    return make


@pytest.fixture
def qcli(make_cli: Callable[..., QueueCli]) -> QueueCli:
    return make_cli()


def open_case(cli: Cli, received: str, category: str = "asb", *extra: str) -> str:
    args = (*OPEN, "--category", category, "--area", "Exeter", "--received", received, *extra)
    return cli(*args).strip()


def rows(cli: Cli, *args: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = cli.json("queue", *args)
    return listed


def since(received: str) -> int:
    """Working days from the London date of ``received`` to today (the table's column)."""
    day = london_date(datetime.fromisoformat(received).replace(tzinfo=LONDON))
    return ENGLAND.working_days_between(day, london_date(datetime.now(LONDON)))


# -- listing ------------------------------------------------------------------------------------


def test_the_bare_queue_is_a_table_most_urgent_first(qcli: QueueCli) -> None:
    old = open_case(qcli, "2025-12-01T10:00", "asb", "--owner", "olive")
    newer = open_case(qcli, "2025-12-15T10:00", "repairs", "--health-and-safety")
    out = qcli("queue")
    lines = out.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == list(HEADERS)
    assert set(lines[1]) <= {"-", " "}
    cells = [re.split(r"\s{2,}", line) for line in lines[2:]]
    # Both acknowledgements are long breached (5 working days), then both contact countdowns
    # (critical, level 4); health and safety first each time, then the older case.
    assert [(c[1], c[2]) for c in cells] == [
        (newer, "acknowledge"),
        (old, "acknowledge"),
        (newer, "contact"),
        (old, "contact"),
    ]
    assert cells[0][5:7] == [
        "breached",
        "Stage 1 acknowledgement: breached (due 2025-12-22); health and safety",
    ]
    assert cells[0][9:] == ["-", "-"]
    second = cells[1]
    assert second[3:6] == ["asb", "Exeter", "breached"]
    assert second[6] == "Stage 1 acknowledgement: breached (due 2025-12-08)"
    assert second[7:] == [str(since("2025-12-01T10:00")), "2025-12-08", "olive", "-"]
    assert cells[3][5] == "countdown 4"
    assert cells[3][6].startswith("critical since ")


def test_the_queue_as_json_explains_each_item(qcli: QueueCli) -> None:
    ref = open_case(qcli, "2025-12-01T10:00")
    top = rows(qcli)[0]
    assert top["reference"] == ref
    assert top["kind"] == "acknowledge"
    assert top["status"] == "open"
    assert top["team"] == "complaints"
    # breached, on a case nobody has contacted for long enough to be critical (level 4)
    assert top["priority"] == {"deadline": 0, "contact": 4, "care": 0}
    assert top["due_on"] == "2025-12-08"
    assert top["working_days_since_contact"] == since("2025-12-01T10:00")
    assert (top["claimed_by"], top["lease_until"], top["lease_expired"]) == (None, None, False)


def test_the_queue_filters_by_team_category_and_area(qcli: QueueCli) -> None:
    repairs = open_case(qcli, "2025-12-01T10:00", "repairs")
    asb = open_case(qcli, "2025-12-01T11:00", "asb")
    damp = qcli(*OPEN, "--category", "damp-and-mould", "--area", "Truro").strip()

    def refs(*args: str) -> set[str]:
        return {row["reference"] for row in rows(qcli, *args)}

    assert refs() == {repairs, asb, damp}
    assert refs("--team", "repairs-desk") == {repairs}
    assert refs("--team", "complaints") == {asb, damp}
    assert refs("--category", "asb") == {asb}
    assert refs("--area", "Truro") == {damp}
    assert refs("--team", "complaints", "--area", "Exeter") == {asb}
    assert len(rows(qcli, "--limit", "1")) == 1
    assert refs("--category", "other") == set()
    result = qcli.run("queue", "--category", "other")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "queue is empty\n")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("queue", "--category", "gardening"), "error: unknown category 'gardening'"),
        (
            ("queue", "--team", "nobody"),
            "error: unknown team 'nobody'; expected one of: complaints, repairs-desk",
        ),
        (("queue", "claim", "--category", "x"), "error: unknown category 'x'"),
        (("queue", "done", "abc"), "error: ITEM must be a work item number, got 'abc'"),
        (("queue", "release", "1x"), "error: ITEM must be a work item number, got '1x'"),
        (("queue", "done", "7"), "error: no work item 7"),
        (("queue", "release", "7"), "error: no work item 7"),
        (
            ("queue", "done", "7", "--contact", "phone", "--do", "close"),
            "error: give --contact or --do, not both",
        ),
        (("queue", "done", "7", "--set", "a=b"), "error: --set goes with --do"),
        (("queue", "done", "7", "--summary", "hi"), "error: --direction and --summary go with"),
        (("queue", "done", "7", "--do", "close", "--set", "note"), "error: --set must be KEY="),
        (("queue", "done", "7", "--contact", "pigeon"), "error: unknown channel 'pigeon'"),
        (
            ("queue", "done", "7", "--contact", "phone", "--direction", "sideways"),
            "error: unknown direction 'sideways'; expected one of: inbound, outbound",
        ),
    ],
)
def test_mistakes_are_one_line_errors(qcli: QueueCli, args: tuple[str, ...], expected: str) -> None:
    assert qcli.fails(*args).startswith(expected)


# -- claiming -----------------------------------------------------------------------------------


def test_claim_leases_the_top_item_and_says_until_when(qcli: QueueCli) -> None:
    ref = open_case(qcli, "2025-12-01T10:00")
    before = datetime.now(LONDON)
    out = qcli("queue", "claim")
    after = datetime.now(LONDON)
    lines = out.splitlines()
    assert lines[0] == f"item 1: {ref} acknowledge"
    assert lines[1] == "  reason    Stage 1 acknowledgement: breached (due 2025-12-08)"
    match = re.fullmatch(
        r"  lease     alice until (\d{4}-\d\d-\d\d \d\d:\d\d) \(London\)", lines[4]
    )
    assert match is not None, lines[4]
    until = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=LONDON)
    lease = timedelta(minutes=30)
    assert before + lease - timedelta(minutes=1) <= until <= after + lease
    assert "complaints queue done 1" in lines[5]

    [row, *_rest] = rows(qcli)
    assert (row["id"], row["status"], row["claimed_by"], row["lease_expired"]) == (
        1,
        "claimed",
        ACTOR,
        False,
    )
    table = qcli("queue").splitlines()
    assert re.split(r"\s{2,}", table[2])[-1] == ACTOR


def test_claim_on_an_empty_queue_says_so_and_succeeds(qcli: QueueCli) -> None:
    result = qcli.run("queue", "claim")
    assert (result.exit_code, result.stdout) == (0, "queue is empty\n")
    assert qcli.json("queue", "claim") is None


def test_claim_takes_the_filters_and_the_claimer(qcli: QueueCli) -> None:
    open_case(qcli, "2025-12-01T10:00", "asb")
    repairs = open_case(qcli, "2025-12-02T10:00", "repairs")
    claimed = qcli.json("queue", "claim", "--team", "repairs-desk", "--as", "bob")
    assert (claimed["reference"], claimed["claimed_by"]) == (repairs, "bob")
    assert claimed["lease_until"] is not None


def test_options_before_the_subcommand_apply_to_it(qcli: QueueCli) -> None:
    conduct = open_case(qcli, "2025-12-01T10:00", "staff-conduct")
    repairs = open_case(qcli, "2025-12-02T10:00", "repairs")
    claimed = qcli.json("queue", "--as", "rita", "--team", "complaints", "claim")
    assert (claimed["reference"], claimed["claimed_by"]) == (conduct, "rita")
    assert qcli.json("queue", "--json", "claim", "--as", "bob")["reference"] == repairs
    assert qcli("queue", "--as", "rita", "release", str(claimed["id"])).startswith("item ")


def test_restricted_items_are_only_for_permitted_people(qcli: QueueCli) -> None:
    conduct = open_case(qcli, "2025-12-01T10:00", "staff-conduct")
    assert rows(qcli) == []
    assert qcli("queue", "claim") == "queue is empty\n"
    assert {row["reference"] for row in rows(qcli, "--as", "rita")} == {conduct}
    claimed = qcli.json("queue", "claim", "--as", "rita")
    assert (claimed["reference"], claimed["restricted"]) == (conduct, True)


def test_an_expired_lease_goes_to_the_next_claimer(make_cli: Callable[..., QueueCli]) -> None:
    qcli = make_cli(lease=0)  # a lease ends the moment it is given
    ref = open_case(qcli, "2025-12-01T10:00")
    first = qcli.json("queue", "claim")
    assert rows(qcli)[0]["lease_expired"] is True
    assert "(lease expired)" in qcli("queue").splitlines()[2]
    second = qcli.json("queue", "claim", "--as", "bob")
    assert second["id"] == first["id"] and second["claimed_by"] == "bob"
    error = qcli.fails("queue", "done", str(first["id"]), "--note", "called")
    assert error.startswith(f"error: work item {first['id']} is not claimed by alice: it is")
    assert ref in {row["reference"] for row in rows(qcli)}


# -- done and release ---------------------------------------------------------------------------


def test_done_with_a_contact_records_it_and_the_contact_item_goes(qcli: QueueCli) -> None:
    ref = qcli(*OPEN, "--workflow", "dissatisfaction", "--category", "asb", "--area", "Exeter",
               "--received", "2025-12-01T10:00").strip()  # fmt: skip
    assert [row["kind"] for row in rows(qcli)] == ["contact"]
    item = qcli.json("queue", "claim")["id"]
    out = qcli("queue", "done", str(item), "--contact", "phone", "--summary", "Rang with news")
    assert out.startswith(f"item {item} done ({ref} contact); {ref}: open")
    assert rows(qcli) == []
    events = qcli.json("history", ref)
    contact = next(e for e in events if e["kind"] == "contact_recorded")
    assert contact["actor"] == ACTOR
    assert contact["data"] == {
        "direction": "outbound",
        "channel": "phone",
        "made": True,
        "summary": "Rang with news",
    }


def test_done_with_a_command_runs_it_with_the_item(qcli: QueueCli) -> None:
    ref = open_case(qcli, "2025-12-01T10:00")
    item = qcli.json("queue", "claim")["id"]
    out = qcli("queue", "done", str(item), "--do", "acknowledge", *ACK, "--note", "rang")
    assert out.startswith(f"item {item} done ({ref} acknowledge); {ref}: stage1; next deadline")
    assert qcli.json("show", ref)["state"] == "stage1"
    assert rows(qcli) == []  # the response is due in 10 working days; we were in touch today


def test_a_refused_command_leaves_the_item_claimed_and_the_case_as_it_was(qcli: QueueCli) -> None:
    ref = open_case(qcli, "2025-12-01T10:00")
    item = qcli.json("queue", "claim")["id"]
    before = qcli.json("show", ref)
    error = qcli.fails("queue", "done", str(item), "--do", "close")
    assert (
        error == f"error: {ref} is received: cannot close; allowed: " + error.split("allowed: ")[1]
    )
    assert qcli.fails("queue", "done", str(item), "--do", "acknowledge").startswith(
        f"error: {ref} is received: cannot acknowledge:"
    )  # no understanding given
    assert qcli.json("show", ref) == before
    top = rows(qcli)[0]
    assert (top["id"], top["status"], top["claimed_by"]) == (item, "claimed", ACTOR)


def test_done_without_an_action_just_finishes_the_item(qcli: QueueCli) -> None:
    ref = open_case(qcli, "2025-12-01T10:00")
    item = qcli.json("queue", "claim")["id"]
    out = qcli("queue", "done", f"#{item}", "--note", "passed to the handler")
    assert out == f"item {item} done ({ref} acknowledge)\n"
    assert item not in {row["id"] for row in rows(qcli)}
    assert qcli.fails("queue", "done", str(item)).endswith(
        "it is done; claim the next item with `complaints queue claim`"
    )


def test_release_gives_the_item_back(qcli: QueueCli) -> None:
    open_case(qcli, "2025-12-01T10:00")
    item = qcli.json("queue", "claim")["id"]
    assert qcli.fails("queue", "release", str(item), "--as", "bob").endswith(
        "claim the next item with `complaints queue claim`"
    )
    assert qcli("queue", "release", str(item)) == f"item {item} released\n"
    top = rows(qcli)[0]
    assert (top["status"], top["claimed_by"]) == ("open", None)
    assert qcli.json("queue", "claim", "--as", "bob")["id"] == item


def test_done_runs_any_command_with_typed_fields(qcli: QueueCli) -> None:
    ref = open_case(qcli, "2025-12-01T10:00")
    understanding = ("--understanding", "Noise", "--outcome", "Quiet")
    qcli("acknowledge", ref, *understanding, "--at", "2025-12-02T10:00")
    claimed = qcli.json("queue", "claim")
    assert (claimed["kind"], claimed["priority"]["deadline"]) == ("respond", 0)  # breached
    # (an extension now would promise a date already past: refused, the item stays claimed)
    late = ("--set", "clock=respond", "--set", "days=5", "--set", "reason=Contractor's report")
    assert "already be past" in qcli.fails("queue", "done", str(claimed["id"]), "--do", "extend",
                                           *late)  # fmt: skip
    qcli(
        "queue", "done", str(claimed["id"]), "--do", "add_action", "--set", "description=Fix it",
        "--set", "owner=repairs-team", "--set", "due_on=2026-12-31",
    )  # fmt: skip
    added = [e for e in qcli.json("history", ref) if e["kind"] == "action_added"]
    assert [(e["actor"], e["data"]["action"]["due_on"]) for e in added] == [(ACTOR, "2026-12-31")]


# -- parsing ------------------------------------------------------------------------------------


def test_set_values_are_typed() -> None:
    payload = parse_pairs(
        ["good_reason=true", "made=False", "days=10", "due_on=2026-01-05", "note=10 days", "x= a "]
    )
    assert payload == {
        "good_reason": True,
        "made": False,
        "days": 10,
        "due_on": datetime(2026, 1, 5).date(),
        "note": "10 days",
        "x": " a ",
    }
    assert parse_pairs(["reason=2026-01-05"]) == {"reason": "2026-01-05"}  # only *_on keys
    with pytest.raises(ValidationError, match="given twice"):
        parse_pairs(["a=1", "a=2"])
    with pytest.raises(ValidationError, match="KEY=VALUE"):
        parse_pairs(["=1"])


def test_commands_are_accepted_as_the_cli_spells_them() -> None:
    assert engine_command("agree-updates") == "agree_updates"
    assert engine_command("action done") == "complete_action"
    assert engine_command("action add") == "add_action"
    assert engine_command("close") == "close"
    assert [parse_item(t) for t in ("12", "#12", " 7 ")] == [12, 12, 7]


# -- a real process ---------------------------------------------------------------------------


def test_the_queue_in_a_real_process(run_process: Callable[..., Process]) -> None:
    done = run_process("queue", "claim", "--json")
    assert (done.returncode, done.stdout) == (0, "null\n")
    listed = run_process("queue")
    assert (listed.returncode, listed.stdout, listed.stderr) == (0, "", "queue is empty\n")
    helped = run_process("queue", "--help")
    for name in ("claim", "done", "release"):
        assert f"\n  {name} " in helped.stdout
    refused = run_process("queue", "done", "3")
    assert refused.returncode == 2
    assert refused.stderr == "error: no work item 3\n"
    assert json.loads(run_process("queue", "--json").stdout) == []


def test_a_field_the_command_does_not_take_is_a_one_line_error_and_changes_nothing(
    qcli: QueueCli,
) -> None:
    ref = open_case(qcli, "2025-12-01T10:00")
    claimed = qcli.json("queue", "claim")
    before = qcli.json("show", ref)
    error = qcli.fails(
        "queue", "done", str(claimed["id"]), "--do", "acknowledge", *ACK, "--set", "handlr=hana"
    )
    assert error == (
        f"error: {ref}: acknowledge takes no 'handlr'"
        " (it takes: desired_outcome, handler, understanding)"
    )
    assert qcli.json("show", ref) == before
    item = next(r for r in rows(qcli) if r["id"] == claimed["id"])
    assert (item["status"], item["claimed_by"]) == ("claimed", ACTOR)  # still ours

"""Bad input never produces a traceback: one line on stderr naming the problem, exit code 2.

Every refusal is checked the same way (``Cli.fails``): exit code 2, nothing on stdout, exactly one
line on stderr starting ``error: ``, no ``Traceback``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import Cli

OPEN = ("open", "--category", "repairs", "--channel", "phone", "--area", "Exeter")
RESPOND = ("--decision", "upheld", "--reasons", "Late", "--avoidable")


@pytest.fixture
def ref(cli: Cli) -> str:
    """A Stage 1 complaint received Mon 2 Mar 2026 and acknowledged the next day."""
    reference = cli(*OPEN, "--received", "2026-03-02T10:00").strip()
    cli("acknowledge", reference, "--understanding", "u", "--outcome", "o", "--at", "2026-03-03")
    return reference


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            (*OPEN, "--received", "2025-02-30"),
            "not a date or time: '2025-02-30'",
            id="no-such-day",
        ),
        pytest.param((*OPEN, "--received", "19/12/2025"), "not a date or time", id="uk-format"),
        pytest.param((*OPEN, "--received", "2025-12-19T10:00+25:00"), "not a date", id="offset"),
        pytest.param((*OPEN, "--received", "2099-01-01"), "in the future", id="future-receipt"),
        pytest.param(
            ("open", "--category", "gardening", "--channel", "phone", "--area", "X"),
            "unknown category 'gardening'; expected one of: repairs,",
            id="unknown-category",
        ),
        pytest.param(
            ("open", "--category", "repairs", "--channel", "fax", "--area", "X"),
            "unknown channel 'fax'",
            id="unknown-channel",
        ),
        pytest.param((*OPEN, "--workflow", "stage0"), "unknown workflow 'stage0'", id="workflow"),
        pytest.param((*OPEN, "--tenure", "freehold"), "unknown tenure 'freehold'", id="tenure"),
        pytest.param((*OPEN, "--calendar", "wales"), "unknown calendar 'wales'", id="calendar"),
        pytest.param((*OPEN, "--policy", "nope"), "unknown policy 'nope'", id="policy"),
        pytest.param((*OPEN, "--summary", "tap\x00leak"), "control character", id="nul-in-text"),
        pytest.param(
            (*OPEN, "--owner", "jo\u202enimda"),
            "owner contains a bidirectional control character (U+202E)",
            id="bidi-in-a-name",
        ),
        pytest.param(("show", "CMP-2099-999999"), "no case 'CMP-2099-999999'", id="unknown-ref"),
        pytest.param(("history", "CMP-2099-999999"), "no case", id="unknown-ref-history"),
        pytest.param(("close", "CMP-2099-999999"), "no case", id="unknown-ref-command"),
        pytest.param(("list", "--category", "gardening"), "unknown category", id="list-filter"),
        pytest.param(("list", "--flag", "breachd"), "unknown flag 'breachd'", id="list-flag"),
        pytest.param(("list", "--as", " "), "--as needs a name", id="blank-actor"),
        pytest.param(
            ("report", "hotspots", "--from", "0001-01-01", "--to", "0001-02-01"),
            "--from 0001-01-01 is outside 2000-2075",
            id="report-date-range",
        ),
        pytest.param(
            ("report", "performance", "--as-of", "2099-01-01"), "outside", id="report-as-of"
        ),
        pytest.param(("sla", "add", "2025-12-19", "five"), "not a whole number", id="sla-days"),
    ],
)
def test_bad_input_is_refused_with_one_line(cli: Cli, args: tuple[str, ...], expected: str) -> None:
    assert expected in cli.fails(*args)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ("respond", *RESPOND, "--compensation", "-10"), "zero or more", id="negative-pounds"
        ),
        pytest.param(
            ("respond", *RESPOND, "--compensation", "£-10"), "zero or more", id="negative-sign"
        ),
        pytest.param(("respond", *RESPOND, "--compensation", "ten"), "in pounds", id="words"),
        pytest.param(
            ("respond", *RESPOND, "--compensation", "1.005"), "in pounds", id="part-pence"
        ),
        pytest.param(("respond", *RESPOND, "--compensation", "1e3"), "in pounds", id="exponent"),
        pytest.param(
            ("respond", *RESPOND, "--action", "Fix it|team"), "--action must be", id="act"
        ),
        pytest.param(
            ("respond", *RESPOND, "--action", "Fix it|team|soon"), "not a date", id="action-due"
        ),
        pytest.param(("respond", "--decision", "maybe", "--reasons", "r"), "decision", id="dec"),
        pytest.param(("acknowledge", "--at", "yesterday"), "not a date or time", id="bad-at"),
        pytest.param(("escalate", "--at", "2099-01-01T10:00"), "in the future", id="future-at"),
        pytest.param(("escalate", "--at", "2026-03-01"), "before", id="before-receipt"),
        pytest.param(("acknowledge",), "is stage1: cannot acknowledge", id="invalid-transition"),
        pytest.param(("resolve", "--outcome", "x"), "cannot resolve", id="wrong-workflow"),
        pytest.param(
            ("action", "add", "--description", "d", "--owner", "o", "--due", "2026-02-31"),
            "not a date: '2026-02-31'",
            id="action-due-date",
        ),
        pytest.param(
            ("action", "add", "--description", "d", "--owner", "o", "--due", "9999-12-31"),
            "beyond the calendar",
            id="action-due-far-future",
        ),
        pytest.param(
            ("action", "add", "--description", "d", "--owner", "o", "--due", "2026-01-05"),
            "before the complaint was received",
            id="action-due-before-receipt",
        ),
        pytest.param(
            ("respond", *RESPOND, "--action", "Fix it|team|9999-12-31"),
            "beyond the calendar",
            id="response-action-far-future",
        ),
        pytest.param(("agree-updates", "--every", "0"), "1 to 60", id="interval"),
        pytest.param(("assign", "--owner", " "), "owner is required", id="blank-owner"),
        pytest.param(("extend", "--days", "0", "--reason", "r"), "at least 1", id="no-days"),
    ],
)
def test_bad_input_to_a_case_command_is_refused_with_one_line_naming_the_case(
    cli: Cli, ref: str, args: tuple[str, ...], expected: str
) -> None:
    command, *rest = args
    argv = (command, ref, *rest) if command != "action" else (command, rest[0], ref, *rest[1:])
    message = cli.fails(*argv)
    assert expected in message


def test_the_actor_comes_from_as_then_the_environment(cli: Cli) -> None:
    ref = cli(*OPEN, "--received", "2026-03-02T10:00", "--as", "dave").strip()
    result = cli.run("assign", ref, "--owner", "erin", env={"COMPLAINTS_ACTOR": "frank"})
    assert result.exit_code == 0
    actors = [e["actor"] for e in cli.json("history", ref) if not e["kind"].startswith("flag_")]
    assert actors == ["dave", "frank"]


def test_a_database_url_of_an_unsupported_kind_is_one_line(cli: Cli) -> None:
    broken = Cli(db_url="mysql://localhost/complaints", runner=cli.runner)
    assert "only sqlite:/// and postgresql:// are supported" in broken.fails("list")


def test_missing_required_options_are_click_usage_errors_with_exit_code_2(cli: Cli) -> None:
    result = cli.run("respond", "CMP-2026-000001", "--reasons", "r")
    assert result.exit_code == 2
    assert "Missing option '--decision'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("size", ["0", "-1"])
def test_a_sweep_batch_of_no_cases_is_a_usage_error(cli: Cli, size: str) -> None:
    result = cli.run("sweep", "--batch", size)
    assert result.exit_code == 2
    assert "Invalid value for '--batch'" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_demo_refuses_anything_but_an_sqlite_file(cli: Cli) -> None:
    assert "needs an SQLite file" in cli.fails("demo", "--db", "postgresql://db/complaints")
    assert "needs an SQLite file" in cli.fails("demo", "--db", "sqlite://")


def test_the_same_seed_builds_the_same_demo(cli: Cli, tmp_path: Path) -> None:
    def build(name: str, seed: str) -> list[tuple[str, str, str, str]]:
        url = f"sqlite:///{tmp_path / name}"
        assert "Built " in cli("demo", "--db", url, "--cases", "15", "--seed", seed)
        cases = Cli(db_url=url, runner=cli.runner).json("list", "--all")
        return [(c["reference"], c["state"], c["category"], c["area"]) for c in cases]

    first = build("a.db", "3")
    assert build("a.db", "3") == first  # rebuilt from scratch over the old file
    assert build("b.db", "4") != first

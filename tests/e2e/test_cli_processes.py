"""The real program in real processes: entry point, exit codes, stdout and stderr, the demo.

Each process costs about half a second to start, so only what in-process runs cannot prove is
here: that ``python -m adapters.cli.main`` works, that errors reach a real stderr as one line
with exit code 2 and no traceback, and that the demo builds a database the other commands read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from cli_support import Cli, Process

Run = Callable[..., Process]


def test_a_case_is_opened_acknowledged_and_shown_by_separate_processes(run_process: Run) -> None:
    opened = run_process(
        "open", "--received", "2025-12-19T10:00", "--category", "damp-and-mould",
        "--channel", "web-form", "--area", "Plymouth", "--json",
    )  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    ref = json.loads(opened.stdout)["reference"]
    acknowledged = run_process(
        "acknowledge", ref, "--understanding", "Mould in the bedroom", "--outcome", "Treat it",
        "--at", "2025-12-23T09:00", "--as", "bob",
    )  # fmt: skip
    assert acknowledged.returncode == 0, acknowledged.stderr
    # Acknowledged Tue 23 Dec: Wed 24 (1), Mon 29 (2), Tue 30 (3), Wed 31 (4), Fri 2 Jan (5),
    # Mon 5 .. Fri 9 (6-10): due Fri 9 Jan 2026.
    assert acknowledged.stdout == f"{ref}: stage1; next deadline 2026-01-09 (Stage 1 response)\n"
    shown = json.loads(run_process("show", ref, "--json").stdout)
    assert shown["deadlines"]["acknowledge_by"] == "2025-12-30"
    assert shown["deadlines"]["respond_by"] == "2026-01-09"
    assert shown["owner"] == "bob"


def test_errors_in_a_real_process_are_one_line_on_stderr_with_exit_code_2(run_process: Run) -> None:
    opening = ("open", "--channel", "phone", "--area", "X")
    for args in (
        ("show", "CMP-2099-999999"),
        (*opening, "--category", "repairs", "--received", "19/12/2025"),
        (*opening, "--category", "gardening"),
    ):
        done = run_process(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stdout == ""
        assert "Traceback" not in done.stderr
        assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("error: ")


def test_help_in_a_real_process_lists_the_commands(run_process: Run) -> None:
    done = run_process("--help")
    assert done.returncode == 0
    for name in ("open", "respond", "history", "demo", "db", "sla"):
        assert f"\n  {name} " in done.stdout


def test_the_demo_builds_a_sample_that_the_other_commands_can_read(
    run_process: Run, cli: Cli, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    built = run_process("demo", "--db", url, "--cases", "40", "--seed", "7")
    assert built.returncode == 0, built.stderr
    out = built.stdout
    assert out.startswith("Built ")
    for heading in ("By state:", "By category:", "Open cases past a deadline:", "Try next:"):
        assert heading in out
    assert f"complaints --db {url} list" in out

    sample = Cli(db_url=url, runner=cli.runner)
    cases = sample.json("list", "--all", "--limit", "1000")
    assert len(cases) >= 40  # plus complaints opened from dissatisfactions
    assert {c["area"] for c in cases} <= {"Exeter", "Plymouth", "Torbay", "Barnstaple", "Truro"}
    assert len({c["state"] for c in cases}) >= 4
    assert all(c["received_at"] <= c["as_of"] + "T23:59:59+00:00" for c in cases)

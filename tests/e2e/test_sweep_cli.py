"""``complaints sweep`` through the CLI: a date after today is refused, changing nothing; a sweep
prints its summary; ``--recompute`` moves cases to a policy's new version; ``list --flag``
filters on the flags the sweep left.

The CLI runs on the real clock, so dates here are relative to today's Europe/London date and the
expected deadlines come from the working-day calendar.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cli_support import CONFIG_DIR, Cli
from click.testing import Result

from adapters.cli.main import cli as complaints_cli
from sla.calendar import WorkingCalendar
from sla.timezone import london_date

OPEN = ("open", "--category", "repairs", "--channel", "phone", "--area", "Exeter")
UNDERSTANDING = ("--understanding", "The kitchen tap leaks", "--outcome", "A working tap")
POLICY = "westward-3day"


def today() -> date:
    return london_date(datetime.now(UTC))


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of the repository's config folder the test may edit."""
    folder = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, folder)
    return folder


def run(cli: Cli, config_dir: Path, *args: str) -> Result:
    argv = ["--config", str(config_dir), "--db", cli.db_url, *args]
    return cli.runner.invoke(complaints_cli, argv, catch_exceptions=False, prog_name="complaints")


def ok(cli: Cli, config_dir: Path, *args: str) -> str:
    result = run(cli, config_dir, *args)
    assert result.exit_code == 0, f"{args} exited {result.exit_code}: {result.stderr}"
    return result.stdout


def listed(out: str) -> set[str]:
    return {line.split()[0] for line in out.splitlines() if line.startswith("CMP-")}


@pytest.mark.parametrize("extra", [(), ("--recompute",)], ids=["sweep", "recompute"])
def test_a_sweep_after_today_is_refused_and_changes_nothing(
    cli: Cli, db_url: str, extra: tuple[str, ...]
) -> None:
    tomorrow = today() + timedelta(days=1)
    # Not even the database is created.
    message = cli.fails("sweep", "--as-of", tomorrow.isoformat(), *extra)
    assert message == (
        f"error: --as-of {tomorrow.isoformat()} is after today ({today().isoformat()}, "
        "Europe/London): a sweep cannot raise flags in the future"
    )
    path = Path(db_url.removeprefix("sqlite:///"))
    assert not path.exists()

    # With a case that a sweep to the far future would breach: nothing is raised or written.
    ref = cli(*OPEN, "--received", today().isoformat()).strip()
    before = (cli("show", ref, "--json"), cli("history", ref, "--json"))
    far = today() + timedelta(days=400)
    assert "is after today" in cli.fails("sweep", "--as-of", far.isoformat(), *extra)
    assert (cli("show", ref, "--json"), cli("history", ref, "--json")) == before
    assert listed(cli("list", "--flag", "breached")) == set()


def test_a_sweep_to_today_is_accepted_and_prints_its_summary(cli: Cli) -> None:
    out = cli("sweep", "--as-of", today().isoformat())
    assert out.splitlines()[0].startswith(f"sweep to {today().isoformat()}: 0 cases checked")
    assert out.splitlines()[1] == "  no flags changed"


def test_recompute_moves_cases_to_a_new_policy_version_and_the_sweep_clears_flags(
    cli: Cli, config_dir: Path
) -> None:
    calendar = WorkingCalendar.uk("england-and-wales")
    # Received and acknowledged 60 days ago: the 10-day response is long overdue.
    received = today() - timedelta(days=60)
    late = ok(cli, config_dir, *OPEN, "--policy", POLICY, "--received", received.isoformat())
    late = late.strip()
    ok(cli, config_dir, "acknowledge", late, *UNDERSTANDING, "--at", f"{received}T11:00")
    old_due = calendar.add_working_days(received, 10)
    assert old_due < today()
    fresh = ok(cli, config_dir, *OPEN, "--policy", POLICY).strip()
    assert listed(ok(cli, config_dir, "list", "--flag", "respond:breached")) == {late}
    assert listed(ok(cli, config_dir, "list", "--flag", "breached")) == {late}
    assert fresh in listed(ok(cli, config_dir, "list"))

    # The landlord gives the Stage 1 response 100 working days in version 2.
    policy_file = config_dir / "policies" / f"{POLICY}.toml"
    text = policy_file.read_text(encoding="utf-8")
    respond_v1 = 'days = 10\nstarts_at = "acknowledged"'
    assert text.count("version = 1") == text.count(respond_v1) == 1
    text = text.replace("version = 1", "version = 2")
    policy_file.write_text(text.replace(respond_v1, respond_v1.replace("10", "100")), "utf-8")
    new_due = calendar.add_working_days(received, 100)

    out = ok(cli, config_dir, "sweep", "--recompute", "--as-of", today().isoformat())
    lines = out.splitlines()
    assert lines[0] == "recomputed deadlines on england-and-wales: 0 moved on 0 cases"
    assert lines[1] == (
        f"recomputed policy versions on {POLICY}@2: 1 moved on 1 cases, "
        "2 cases now on the new version"
    )
    assert lines[2].startswith(f"sweep to {today().isoformat()}: ")
    cleared = [line.split() for line in lines[3:] if line.split()[:1] == ["breached"]]
    assert cleared and int(cleared[0][2]) >= 1

    case = json.loads(ok(cli, config_dir, "show", late, "--json"))
    assert (case["policy"], case["deadlines"]["respond_by"]) == (
        f"{POLICY}@2",
        new_due.isoformat(),
    )
    history = ok(cli, config_dir, "history", late)
    assert f"respond due {old_due.isoformat()} → {new_due.isoformat()}" in history
    assert listed(ok(cli, config_dir, "list", "--flag", "respond:breached")) == set()

    # Again: nothing left to move.
    again = ok(cli, config_dir, "sweep", "--recompute", "--as-of", today().isoformat())
    assert again.splitlines()[1] == (
        "recomputed policy versions on no policies: 0 moved on 0 cases, "
        "0 cases now on the new version"
    )

"""No personal data in the logs, across every CLI command; subject access; retention.

Every command runs through ``click.testing.CliRunner`` on an SQLite file with realistic resident
data. The logs are read twice: raw, with ``structlog.testing.capture_logs`` (what the code
logs, before any redaction), and as the JSON lines the real ``configure_logging`` writes to
stderr at debug level. Neither may contain any of the resident's personal values.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from click.testing import CliRunner, Result
from sqlalchemy import select

from adapters.cli import main as cli_main
from adapters.db.connection import create_db_engine
from adapters.db.tables import case_events, cases
from adapters.logging import redact_personal_data

REPO = Path(__file__).parents[2]
NAME = "Bethany Okonkwo-Smith"
EMAIL = "bethany.okonkwo@example.org"
PHONE = "07700 900461"
POSTCODE = "EX4 6QT"
ADDRESS = f"Flat 3, 18 Verney Street, Exeter {POSTCODE}"
SUMMARY = f"Damp in the bedroom at {ADDRESS}; my son Tobias has asthma"
UNDERSTANDING = "Mrs Okonkwo-Smith reports black mould spreading since March"
OUTCOME = "Wants the mould treated and Tobias's bedding replaced"
REASONS = "Surveyor Okonkwo visit confirmed a failed extractor fan"
LEARNING = "Check fans at Verney Street annually"
NOTE = "Spoke to Bethany, she is upset about Tobias"
RESIDENT = "R-4471"
PERSONAL_VALUES = (
    NAME,
    "Okonkwo",
    "Bethany",
    "Tobias",
    EMAIL,
    PHONE,
    "07700900461",
    POSTCODE,
    "Verney Street",
    "black mould spreading",
    "asthma",
    "failed extractor fan",
)


class Run:
    def __init__(self, tmp_path: Path) -> None:
        config = tmp_path / "config"
        shutil.copytree(REPO / "config", config)
        text = (config / "settings.toml").read_text(encoding="utf-8")
        text = text.replace('# file = "outbox.txt"', 'file = "outbox.txt"')
        text = text.replace(
            'default_roles = ["coordinator"]',
            'default_roles = ["coordinator"]\nmaggie = ["complaints-manager"]\n'
            'audrey = ["auditor"]',
        )
        (config / "settings.toml").write_text(text, encoding="utf-8")
        self.config = config
        self.db_url = f"sqlite:///{tmp_path / 'complaints.db'}"
        self.runner = CliRunner()
        self.stderr: list[str] = []
        self.results: list[Result] = []

    def __call__(self, *args: str, actor: str = "colin", ok: bool = True) -> str:
        argv = ["--config", str(self.config), "--db", self.db_url]
        argv += ["--log-json", "--log-level", "debug", *args]
        result = self.runner.invoke(
            cli_main.cli, argv, env={"COMPLAINTS_ACTOR": actor}, prog_name="complaints"
        )
        self.results.append(result)
        self.stderr.append(result.stderr)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            args,
            result.exception,
        )
        if ok:
            assert result.exit_code == 0, (args, result.output)
        else:
            assert result.exit_code == 2, (args, result.output)
        return result.stdout


def every_command(run: Run) -> dict[str, str]:
    """Every CLI command once (most on a case full of personal data); the references made."""
    common = ["--category", "damp-and-mould", "--channel", "phone", "--area", "Exeter"]
    personal = [
        "--summary", SUMMARY, "--resident", RESIDENT, "--property", "P-9981",
        "--email", EMAIL, "--phone", PHONE, "--name", NAME, "--contact-method", "email",
        "--understanding", UNDERSTANDING, "--outcome", OUTCOME,
    ]  # fmt: skip
    ref = json.loads(run("open", *common, *personal, "--json"))["reference"]
    run("acknowledge", ref, "--understanding", UNDERSTANDING, "--outcome", OUTCOME)
    run("contact", ref, "--direction", "outbound", "--channel", "phone", "--summary", NOTE)
    run("contact", ref, "--direction", "outbound", "--channel", "phone", "--no-answer")
    run("agree-updates", ref, "--every", "5", "--note", NOTE)
    run("extend", ref, "--days", "5", "--reason", NOTE)
    run("assign", ref, "--owner", "dave")
    run("action", "add", ref, "--description", NOTE, "--owner", "dave", "--due", "2030-01-01")
    run("action", "done", ref, "1")
    run("show", ref)
    run("show", ref, "--json")
    run("list", "--all")
    run("history", ref, "--json")
    run("queue")
    run("queue", "--json")
    run(
        "respond", ref, "--decision", "upheld", "--reasons", REASONS, "--learning", LEARNING,
        "--compensation", "150.00", "--avoidable",
    )  # fmt: skip
    run("escalate", ref, "--note", NOTE)
    stage2 = ("--understanding", UNDERSTANDING, "--outcome", OUTCOME)
    run("acknowledge", ref, *stage2, actor="maggie")
    run("respond", ref, "--decision", "not-upheld", "--reasons", REASONS, actor="maggie")
    run("close", ref, "--note", NOTE)
    run("survey", ref, "--score", "2", "--comment", NOTE)
    # Other ends of a case's life, each on a case with the same resident.
    withdrawn = json.loads(run("open", *common, *personal, "--json"))["reference"]
    run("withdraw", withdrawn, "--reason", NOTE)
    declined = json.loads(run("open", *common, *personal, "--json"))["reference"]
    run("decline", declined, "--exclusion", "over-12-months", "--reason", NOTE, ok=False)
    dissatisfaction = json.loads(
        run("open", *common, *personal, "--workflow", "dissatisfaction", "--json")
    )["reference"]
    run("resolve", dissatisfaction, "--outcome", OUTCOME, "--told-how-to-complain")
    conduct = json.loads(
        run("open", "--category", "staff-conduct", "--channel", "email", "--area", "Exeter",
            *personal[:2], "--name", NAME, "--json")
    )["reference"]  # fmt: skip
    run("show", conduct, ok=False)  # a coordinator: not found, and a security event
    run("show", conduct, actor="maggie")
    run("acknowledge", ref, actor="audrey", ok=False)  # read-only
    run("refer", ref, "--ombudsman-ref", "HOS-1")
    run("queue", "claim", "--json")
    run("sweep")
    run("worker", "--once")
    run("jobs")
    run("report", "performance", "--format", "json")
    run("report", "tsm", "--homes", "1000", "--format", "json")
    run("report", "hotspots", "--format", "json")
    run("export-resident", RESIDENT, ok=False)  # a coordinator may not
    run("export-resident", RESIDENT, actor="maggie")
    run("retention", "apply", "--older-than-years", "0", actor="maggie")
    run("retention", "apply", "--older-than-years", "0", "--apply", actor="maggie")
    run("sla", "add", "2025-12-19", "5")
    return {"closed": ref, "conduct": conduct, "withdrawn": withdrawn}


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Run]:
    yield Run(tmp_path)
    structlog.reset_defaults()


def test_no_personal_data_reaches_the_log_output_of_any_command(run: Run) -> None:
    refs = every_command(run)
    logged = "\n".join(run.stderr)
    lines = [line for line in logged.splitlines() if line.startswith("{")]
    assert len(lines) > 20  # the commands did log (debug level, JSON)
    events = [json.loads(line)["event"] for line in lines]
    assert "permission_denied" in events and "case_opened" in events
    for value in PERSONAL_VALUES:
        assert value.lower() not in logged.lower(), value
    assert refs["closed"] in logged  # references are logged: they are how to trace a case


def test_nothing_personal_is_even_handed_to_the_logger(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The raw event dicts, before the redaction processor: the code logs no personal data."""
    monkeypatch.setattr(cli_main, "configure_logging", lambda **_: None)
    with structlog.testing.capture_logs() as logs:
        every_command(run)
    assert len(logs) > 20
    raw = json.dumps(logs, default=str).lower()
    for value in PERSONAL_VALUES:
        assert value.lower() not in raw, value


def test_the_redaction_processor_masks_realistic_records() -> None:
    record: dict[str, Any] = {
        "event": "x",
        "name": NAME,
        "summary": SUMMARY,
        "note": NOTE,
        "reason": NOTE,
        "comment": NOTE,
        "contact_details": {"email": EMAIL},
        "error": f"could not send to {EMAIL} or {PHONE} at {POSTCODE}",
        "to": "+44 7700 900461",
        "reference": "CMP-2025-000001",
    }
    out = redact_personal_data(None, "info", dict(record))
    text = json.dumps(out)
    for value in (NAME, EMAIL, PHONE, POSTCODE, "Tobias", "+44 7700 900461"):
        assert value not in text
    assert out["reference"] == "CMP-2025-000001"


def test_export_and_retention_from_the_cli(run: Run, tmp_path: Path) -> None:
    common = ["--category", "repairs", "--channel", "phone", "--area", "Exeter"]
    ref = json.loads(
        run("open", *common, "--resident", RESIDENT, "--summary", SUMMARY, "--name", NAME,
            "--email", EMAIL, "--json")
    )["reference"]  # fmt: skip
    run("contact", ref, "--direction", "inbound", "--channel", "phone", "--summary", NOTE)
    out = tmp_path / "sar.json"
    run("export-resident", RESIDENT, "--out", str(out), actor="maggie")
    data = json.loads(out.read_text(encoding="utf-8"))
    (case,) = data["cases"]
    assert case["reference"] == ref and case["case_file"]["records"]["summary"] == SUMMARY
    assert case["case_file"]["records"]["contact_details"]["email"] == EMAIL
    assert [c["data"]["summary"] for c in case["contacts"]] == [NOTE]
    assert [e["kind"] for e in case["events"]][:1] == ["opened"]
    assert run.results[-1].stderr.count("case(s) written") == 1
    run("export-resident", RESIDENT, actor="audrey", ok=False)
    assert "'export' permission" in run.results[-1].stderr

    run("withdraw", ref, "--reason", NOTE)
    dry = json.loads(run("retention", "apply", "--older-than-years", "0", "--json", actor="maggie"))
    assert (dry["dry_run"], dry["references"]) == (True, [ref])
    assert json.loads(run("show", ref, "--json"))["records"]["summary"] == SUMMARY
    run("retention", "apply", "--older-than-years", "0", "--apply", actor="colin", ok=False)
    assert "'retention' permission" in run.results[-1].stderr
    done = json.loads(
        run("retention", "apply", "--older-than-years", "0", "--apply", "--json", actor="maggie")
    )
    assert done["references"] == [ref]
    db = create_db_engine(run.db_url)
    try:
        with db.connect() as conn:
            row = conn.execute(select(cases).where(cases.c.reference == ref)).one()
            events = conn.execute(select(case_events).where(case_events.c.case_id == row.id)).all()
    finally:
        db.dispose()
    stored = json.dumps([dict(row._mapping), [dict(e._mapping) for e in events]], default=str)
    for value in (NAME, EMAIL, "Verney Street", "Tobias", RESIDENT):
        assert value not in stored
    assert events[-1].kind == "personal_data_erased"
    again = json.loads(
        run("retention", "apply", "--older-than-years", "0", "--apply", "--json", actor="maggie")
    )
    assert again["references"] == []  # idempotent
    assert json.loads(run("export-resident", RESIDENT, actor="maggie"))["cases"] == []

"""Messages really delivered: e-mail to a local SMTP server, texts to a local HTTP gateway.

An ``aiosmtpd`` server and an ``http.server`` playing the SMS gateway listen on 127.0.0.1 (free
ports); the deployment's settings point at them; cases go through the service (and the CLI) and
the worker runs once. What arrives must carry the right dates, and no log line may carry the
resident's e-mail address, phone number, name or the words of their complaint.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import structlog
from aiosmtpd.controller import Controller
from cli_support import CONFIG_DIR, REPO, Cli, config_with_actors
from click.testing import CliRunner
from sqlalchemy import update
from structlog.testing import capture_logs
from support import FakeClock

from adapters.bootstrap import build_service, build_worker
from adapters.cli.main import cli as complaints_cli
from adapters.db.connection import create_db_engine
from adapters.db.jobs import SqlJobs
from adapters.db.tables import jobs
from adapters.notify.templates import long_date
from adapters.settings import load_settings
from engine.ports import JobSpec
from sla.timezone import parse_date

EMAIL = "dana.okafor@example.org"
PHONE = "07700 900461"
NAME = "Dana Okafor"
OTHER_PHONE = "07700 900462"
OTHER_NAME = "Sam Whitfield"
SUMMARY = "Black mould has come back behind the wardrobe in the children's bedroom."
ACK = {"understanding": "Mould has returned after treatment.", "desired_outcome": "A lasting fix."}


# -- the local SMTP server and SMS gateway --------------------------------------------------------


@dataclass
class Mailbox:
    """What the SMTP server accepted: (envelope recipients, parsed message)."""

    received: list[tuple[list[str], email.message.EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def bodies(self) -> list[str]:
        return [str(msg.get_body(("plain",)).get_content()) for _, msg in self.received]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@dataclass
class Gateway:
    """The SMS gateway's inbox: every JSON body posted to it."""

    posted: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def sms_gateway() -> Iterator[Gateway]:
    gateway = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            gateway.posted.append(json.loads(self.rfile.read(length)))
            answer = b'{"status": "accepted"}'
            self.send_response(202)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads what was posted, not the access log."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}/send"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def config_dir(tmp_path: Path, smtp_server: tuple[Mailbox, int], sms_gateway: Gateway) -> Path:
    """The repository's config folder, with SMTP and SMS pointed at the local servers."""
    folder = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, folder)
    settings = (folder / "settings.toml").read_text(encoding="utf-8")
    settings = settings.replace("[smtp]\n", '[smtp]\nhost = "127.0.0.1"\n')
    settings = re.sub(r"(?m)^port = 25\b", f"port = {smtp_server[1]}", settings)
    settings = settings.replace("[sms]\n", f'[sms]\nurl = "{sms_gateway.url}"\n')
    (folder / "settings.toml").write_text(settings, encoding="utf-8")
    return folder


def _no_personal_data(logs: list[dict[str, Any]]) -> None:
    assert logs, "the run logged nothing at all"
    for entry in logs:
        line = repr(entry)
        for personal in (EMAIL, PHONE, NAME, OTHER_PHONE, OTHER_NAME, SUMMARY):
            assert personal not in line, entry


# -- the service and the worker, in-process --------------------------------------------------------


def test_email_and_texts_arrive_with_the_right_dates_and_the_logs_name_nobody(
    config_dir: Path,
    db_url: str,
    smtp_server: tuple[Mailbox, int],
    sms_gateway: Gateway,
) -> None:
    mailbox, _ = smtp_server
    settings = load_settings(str(config_dir), db_url)
    clock = FakeClock(datetime(2025, 6, 2, 9, 0, tzinfo=UTC))  # Monday 2 June 2025
    with capture_logs() as logs:
        service = build_service(settings, clock=clock)
        by_email = service.open(
            actor="intake",
            category="damp-and-mould",
            channel="phone",
            area="Exeter",
            summary=SUMMARY,
            preferred_contact="email",
            resident_email=EMAIL,
            resident_phone=PHONE,
            resident_name=NAME,
        ).reference
        by_text = service.open(
            actor="intake",
            category="repairs",
            channel="phone",
            area="Exeter",
            summary=SUMMARY,
            preferred_contact="sms",
            resident_phone=OTHER_PHONE,
            resident_name=OTHER_NAME,
        ).reference
        for reference in (by_email, by_text):
            service.acknowledge(reference, actor="alice", **ACK)
        service.extend(by_email, actor="alice", days=5, reason="Waiting for a damp survey.")
        ran = build_worker(settings, clock=clock).run_once()

    assert (ran.done, ran.retrying, ran.dead) == (3, 0, 0)
    assert [to for to, _ in mailbox.received] == [[EMAIL], [EMAIL]]
    subjects = [str(msg["Subject"]) for _, msg in mailbox.received]
    assert subjects == [
        f"We have received your complaint ({by_email})",
        f"We need a little more time on your complaint ({by_email})",
    ]
    acknowledgement, extension = mailbox.bodies()
    # Acknowledged Monday 2 June: ten working days to respond, then five more.
    assert "send you our full response by Monday 16 June 2025" in acknowledgement
    assert acknowledgement.startswith(f"Dear {NAME},")
    assert "by Monday 23 June 2025 (instead of Monday 16 June 2025)" in extension
    assert "Housing Ombudsman" in extension and "0300 111 3000" in extension
    assert "housing-ombudsman.org.uk" in extension
    assert mailbox.received[0][1]["X-Complaint-Reference"] == by_email

    [text] = sms_gateway.posted
    assert text["to"] == OTHER_PHONE and text["reference"] == by_text
    assert "full response by Monday 16 June 2025" in text["body"]
    assert SUMMARY not in text["body"]

    _no_personal_data(logs)
    assert {e["event"] for e in logs} >= {"case_opened", "job_done", "notification_sent"}


def test_a_gateway_that_is_down_leaves_a_dead_job_that_can_be_retried(
    config_dir: Path, db_url: str, sms_gateway: Gateway
) -> None:
    settings = load_settings(str(config_dir), db_url)
    clock = FakeClock(datetime(2025, 6, 2, 9, 0, tzinfo=UTC))
    down = replace(settings, notify=replace(settings.notify, sms_url="http://127.0.0.1:9/"))
    service = build_service(settings, clock=clock)
    reference = service.open(
        actor="intake",
        category="repairs",
        channel="phone",
        area="Exeter",
        preferred_contact="sms",
        resident_phone=PHONE,
    ).reference
    service.acknowledge(reference, actor="alice", **ACK)
    with capture_logs() as logs:
        worker = build_worker(down, clock=clock)
        for _ in range(5):
            worker.run_once()
            clock.advance(hours=1)
    store = worker.store
    [dead] = store.list("dead")
    assert dead.last_error is not None and dead.last_error.startswith("the SMS gateway is")
    _no_personal_data(logs)
    store.retry(dead.id, clock())
    assert build_worker(settings, clock=clock).run_once().done == 1  # the gateway is back
    assert [p["to"] for p in sms_gateway.posted] == [PHONE]


# -- the same through the command line -----------------------------------------------------------


def test_the_cli_opens_with_contact_details_and_the_worker_delivers(
    config_dir: Path,
    db_url: str,
    smtp_server: tuple[Mailbox, int],
    sms_gateway: Gateway,
) -> None:
    mailbox, _ = smtp_server
    saved = structlog.get_config()
    runner = CliRunner(env={"COMPLAINTS_ACTOR": "alice", "COMPLAINTS_DATABASE_URL": None})
    argv = ["--config", str(config_dir), "--db", db_url, "--log-level", "info"]
    try:

        def complaints(*args: str, exit_code: int = 0) -> str:
            result = runner.invoke(complaints_cli, [*argv, *args], catch_exceptions=False)
            assert result.exit_code == exit_code, result.output
            for personal in (EMAIL, PHONE, NAME, SUMMARY):
                assert personal not in result.stderr  # the CLI's own log lines
            return result.stdout if exit_code == 0 else result.stderr

        opening = ("open", "--category", "repairs", "--channel", "phone", "--area", "Exeter")
        reference = complaints(
            *opening,
            "--summary",
            SUMMARY,
            "--contact-method",
            "email",
            "--email",
            EMAIL,
            "--phone",
            PHONE,
            "--name",
            NAME,
        ).strip()
        understood = ("--understanding", ACK["understanding"], "--outcome", ACK["desired_outcome"])
        complaints("acknowledge", reference, *understood)
        assert "1 queued" in complaints("jobs")
        assert complaints("worker", "--once").strip() == "1 jobs run: 1 done, 0 to retry, 0 dead"
        shown = json.loads(complaints("show", reference, "--json"))
        due = long_date(parse_date(shown["deadlines"]["respond_by"]))
        [body] = mailbox.bodies()
        assert f"send you our full response by {due}" in body
        assert EMAIL not in json.dumps(shown)  # the case view does not show the address

        decided = ("--decision", "not-upheld", "--reasons", "The survey found no mould.")
        complaints("respond", reference, *decided)
        complaints("close", reference)
        complaints("worker", "--once")
        assert [str(m["Subject"]).split(" (")[0] for _, m in mailbox.received][-1] == (
            "How did we do?"
        )
        assert "survey score 5 recorded" in complaints("survey", reference, "--score", "5")
        refused = complaints("survey", reference, "--score", "4", exit_code=2)
        assert "already been answered" in refused
        assert "0 dead" in complaints("jobs", "--status", "dead")
    finally:
        structlog.configure(**saved)


# -- the production process ----------------------------------------------------------------------


def test_serve_delivers_in_the_background_and_stops_cleanly_on_sigterm(
    config_dir: Path, db_url: str, smtp_server: tuple[Mailbox, int]
) -> None:
    mailbox, _ = smtp_server
    db_engine = create_db_engine(db_url)
    try:
        service = build_service(load_settings(str(config_dir), db_url), db_engine=db_engine)
        reference = service.open(
            actor="intake",
            category="repairs",
            channel="phone",
            area="Exeter",
            summary=SUMMARY,
            preferred_contact="email",
            resident_email=EMAIL,
            resident_name=NAME,
        ).reference
        service.acknowledge(reference, actor="alice", **ACK)
    finally:
        db_engine.dispose()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    argv = [sys.executable, "-m", "adapters.cli.main", "--config", str(config_dir)]
    serving = subprocess.Popen(
        [*argv, "--db", db_url, "serve", "--poll", "0.2"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not mailbox.received and time.monotonic() < deadline and serving.poll() is None:
            time.sleep(0.1)
        serving.send_signal(signal.SIGTERM)
        out, err = serving.communicate(timeout=30)
    finally:
        if serving.poll() is None:
            serving.kill()
    assert serving.returncode == 0, err
    assert [str(m["X-Complaint-Reference"]) for _, m in mailbox.received] == [reference]
    assert "serve: nightly sweep at 02:00" in err
    for personal in (EMAIL, NAME, SUMMARY):
        assert personal not in out + err


def test_dead_jobs_are_listed_with_their_error_and_retried_from_the_cli(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    cli("db", "upgrade")
    db_engine = create_db_engine(db_url)
    try:
        with db_engine.begin() as conn:
            now = datetime.now(UTC)
            SqlJobs(conn).enqueue([JobSpec(kind="notify", payload={"message": "survey"})], now)
            conn.execute(
                update(jobs).values(
                    status="dead", attempts=5, last_error="the SMS gateway answered HTTP 503"
                )
            )
    finally:
        db_engine.dispose()
    listed = cli("jobs", "--status", "dead")
    assert listed.splitlines()[0] == "0 queued, 0 running, 0 done, 1 dead"
    assert "the SMS gateway answered HTTP 503" in listed and "5/5" in listed
    [dead] = cli.json("jobs", "--status", "dead")
    auditor = replace(cli, config_dir=config_with_actors(tmp_path, audrey="auditor"))
    refused = auditor.run("jobs", "retry", str(dead["id"]), "--as", "audrey")
    assert refused.exit_code == 2
    assert "'write' permission" in refused.stderr.splitlines()[-1]
    assert cli("jobs", "retry", str(dead["id"])).startswith(f"job {dead['id']} queued again")
    assert "only dead jobs can be retried" in cli.fails("jobs", "retry", str(dead["id"]))
    assert cli.fails("jobs", "retry", "999") == "error: no job 999"
    assert cli.json("jobs", "--status", "queued")[0]["attempts"] == 0

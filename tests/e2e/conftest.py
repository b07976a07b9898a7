"""Fixtures for driving the ``complaints`` CLI end to end against a temporary SQLite file.

Most tests use ``cli`` (click's ``CliRunner``: the real command tree, parsing, error handling and
database, in-process so a command costs milliseconds); ``run_process`` starts the real program in
a subprocess for the few tests that must prove the entry point, exit codes and stderr of an
actual process. Both point at the repository's own ``config/`` folder, found from this file so
that the tests work from any clone.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import structlog
from cli_support import ACTOR, CONFIG_DIR, REPO, Cli, Process
from click.testing import CliRunner


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'complaints.db'}"


@pytest.fixture
def cli(db_url: str) -> Iterator[Cli]:
    """The CLI in-process, acting as ``alice`` unless ``--as`` says otherwise.

    The CLI configures structlog for the process; the configuration the rest of the suite runs
    with is put back afterwards (the CLI's logger would otherwise point at the runner's closed
    stderr).
    """
    saved = structlog.get_config()
    runner = CliRunner(env={"COMPLAINTS_ACTOR": ACTOR, "COMPLAINTS_DATABASE_URL": None})
    try:
        yield Cli(db_url=db_url, runner=runner)
    finally:
        structlog.configure(**saved)


@pytest.fixture
def run_process(db_url: str) -> Callable[..., Process]:
    """Run ``python -m adapters.cli.main ARGS`` in a subprocess on the test database."""

    def run(*args: str) -> Process:
        env = {
            **os.environ,
            "COMPLAINTS_ACTOR": ACTOR,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }
        env.pop("COMPLAINTS_DATABASE_URL", None)
        argv = [sys.executable, "-m", "adapters.cli.main", "--config", str(CONFIG_DIR)]
        argv += ["--db", db_url, *args]
        done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        return Process(done.returncode, done.stdout, done.stderr)

    return run

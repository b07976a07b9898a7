"""What the end-to-end tests share: where the config is, who acts, and a handle on the CLI."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from adapters.cli.main import cli as complaints_cli

REPO = Path(__file__).parents[2]
CONFIG_DIR = REPO / "config"
ACTOR = "alice"


@dataclass
class Cli:
    """The CLI on one database. ``cli("show", ref)`` runs ``complaints show REF``."""

    db_url: str
    runner: CliRunner
    config_dir: Path = CONFIG_DIR

    def run(self, *args: str, env: dict[str, str | None] | None = None) -> Result:
        argv = ["--config", str(self.config_dir), "--db", self.db_url, *args]
        return self.runner.invoke(
            complaints_cli, argv, env=env, catch_exceptions=False, prog_name="complaints"
        )

    def __call__(self, *args: str) -> str:
        """Run a command that must succeed; return its stdout."""
        result = self.run(*args)
        assert result.exit_code == 0, f"{args} exited {result.exit_code}: {result.stderr}"
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json"))

    def fails(self, *args: str) -> str:
        """Run a command that must be refused; return its one-line error message."""
        result = self.run(*args)
        assert result.exit_code == 2, f"{args} exited {result.exit_code}: {result.output}"
        assert result.stdout == ""
        assert "Traceback" not in result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("error: ")
        return lines[0]


@dataclass(frozen=True)
class Process:
    """What a finished subprocess left behind."""

    returncode: int
    stdout: str
    stderr: str


def config_with_actors(folder: Path, **roles: str) -> Path:
    """A copy of the repository's ``config/`` where each named person has the given role."""
    config = folder / "config"
    shutil.copytree(CONFIG_DIR, config)
    settings = config / "settings.toml"
    named = "".join(f'\n{name} = ["{role}"]' for name, role in roles.items())
    default = 'default_roles = ["coordinator"]'
    text = settings.read_text(encoding="utf-8").replace(default, default + named)
    settings.write_text(text, encoding="utf-8")
    return config

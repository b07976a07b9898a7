"""On PostgreSQL the schema only moves on ``complaints db upgrade``; then the CLI works as usual."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from cli_support import Cli


@pytest.mark.postgres
def test_postgresql_needs_db_upgrade_before_the_first_command(
    cli: Cli, postgres_server: Any
) -> None:
    name = f"complaints_cli_{secrets.token_hex(4)}"
    postgres_server.execute(f'CREATE DATABASE "{name}"')
    try:
        pg = Cli(db_url=postgres_server.url_for(name), runner=cli.runner)
        assert "run `complaints db upgrade` first" in pg.fails("list")
        assert "upgraded from empty to revision" in pg("db", "upgrade")
        ref = pg("open", "--category", "asb", "--channel", "email", "--area", "Torbay").strip()
        assert pg.json("show", ref)["state"] == "received"
        assert "already at revision" in pg("db", "upgrade")
    finally:
        postgres_server.drop_database(name)

"""``complaints db``: schema management.

SQLite files are upgraded automatically when a command first opens them; a PostgreSQL database is
shared, so its schema only moves when an operator runs ``complaints db upgrade`` on purpose.
"""

from __future__ import annotations

import click
import structlog
from sqlalchemy.exc import SQLAlchemyError

from adapters.cli.context import AppContext, first_line, pass_app
from adapters.db.connection import create_db_engine
from adapters.db.migrate import current_revision, upgrade
from adapters.db.repository import DatabaseError

log = structlog.get_logger()


@click.group("db")
def db_group() -> None:
    """Database schema: upgrade to the current version."""


@db_group.command("upgrade")
@pass_app
def upgrade_command(app: AppContext) -> None:
    """Bring the configured database's schema up to date and print its revision."""
    url = app.settings.database_url
    db_engine = create_db_engine(url)
    shown = db_engine.url.render_as_string(hide_password=True)
    try:
        before = current_revision(db_engine)
        upgrade(db_engine)
        after = current_revision(db_engine)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot upgrade {shown}: {first_line(exc)}") from exc
    finally:
        db_engine.dispose()
    log.info("schema_upgraded", before=before, after=after)
    change = "already at" if before == after else f"upgraded from {before or 'empty'} to"
    click.echo(f"{shown}: {change} revision {after}")

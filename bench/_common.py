"""What every benchmark shares: correctness checks before figures, and throwaway databases.

Imported as ``bench._common`` (each script puts the repository root on ``sys.path`` and takes
``bench/`` off it, because ``bench/calendar.py`` and ``bench/queue.py`` would shadow the
standard library's modules of those names).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from adapters.db.connection import normalise_url


class CheckFailed(Exception):
    """A correctness check failed, so the figures would mean nothing."""


def check(ok: bool, what: str) -> None:
    """Print ``what`` as checked, or stop the benchmark before it prints any figure."""
    if not ok:
        raise CheckFailed(what)
    print(f"  ok  {what}")


def libpq(url: URL) -> str:
    """A SQLAlchemy URL as a libpq connection string (for plain psycopg)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def fresh_pg_database(server_url: str, prefix: str, *, keep: bool = False) -> Iterator[str]:
    """A new empty database ``{prefix}_{random}`` on the server (its SQLAlchemy URL), dropped
    afterwards, even on error, unless ``keep``."""
    server = make_url(normalise_url(server_url))
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(libpq(server), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            with psycopg.connect(libpq(server), autocommit=True) as conn:
                drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                conn.execute(drop.format(sql.Identifier(name)))

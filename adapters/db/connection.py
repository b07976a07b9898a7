"""Creating the SQLAlchemy engine: SQLite pragmas, PostgreSQL pooling, URL normalisation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from sla.errors import ConfigError


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` as psycopg 3 URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``. On SQLite: foreign keys on, WAL, a busy timeout, and transactions
    that take the write lock at ``BEGIN`` (``BEGIN IMMEDIATE``) so that a read-then-write command
    cannot deadlock against another writer."""
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError("database url", "", f"not a database URL: {url!r}") from None
    if parsed.get_backend_name() == "sqlite":
        db_engine = create_engine(url, **kwargs)
        _sqlite_setup(db_engine)
        return db_engine
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError("database url", "", "only sqlite:/// and postgresql:// are supported")
    # Every unit of work ends its transaction itself (commit, or rollback on the way out), so
    # the pool's reset-on-return ROLLBACK and a pre-ping SELECT would be two extra round trips
    # per command. A connection that died is invalidated on its first error, and the command
    # reports a DatabaseError; the next one gets a fresh connection.
    kwargs.setdefault("pool_reset_on_return", None)
    return create_engine(url, **kwargs)


def _sqlite_setup(db_engine: Engine) -> None:
    @event.listens_for(db_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's begin event emit BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if db_engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(db_engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

"""Creating the SQLAlchemy engine: SQLite pragmas, PostgreSQL pooling, URL normalisation; and
sending a command's writes to PostgreSQL in one round trip (``pipelined``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

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


_PIPELINES: dict[int, psycopg.Pipeline] = {}
"""The open ``pipelined`` block's pipeline, by ``id()`` of its psycopg connection."""


@contextmanager
def pipelined(conn: Connection) -> Iterator[None]:
    """Send the statements run inside to PostgreSQL without waiting for each one's reply.

    psycopg's pipeline mode queues each ``execute`` and waits once, when the block ends, so a
    command's five or six writes cost one round trip instead of one each (and the ``BEGIN``
    psycopg sends before a transaction's first statement rides with it). A statement that
    returns rows (a ``SELECT``, a ``RETURNING``) is sent with everything queued before it and
    waited for at once (``_execute_and_sync``), so reads inside the block still work; a write's
    row count is only known after the block. A failure of a queued write surfaces at the next
    wait, as SQLAlchemy's ``DBAPIError`` subclass for it (``IntegrityError`` for a unique
    violation), and the transaction is then failed, as after any error. On SQLite
    (in-process, no round trips to save) the block runs as it is.
    """
    driver = conn.connection.driver_connection if conn.dialect.name == "postgresql" else None
    if not isinstance(driver, psycopg.Connection) or id(driver) in _PIPELINES:
        yield
        return
    try:
        with driver.pipeline() as pipeline:
            _PIPELINES[id(driver)] = pipeline
            try:
                yield
            finally:
                del _PIPELINES[id(driver)]
    except psycopg.Error as exc:
        raise DBAPIError.instance(
            "(pipelined writes)", None, exc, psycopg.Error, dialect=conn.dialect
        ) from exc


_WROTE: set[int] = set()
"""``id()`` of the psycopg connections that sent anything but a plain ``SELECT`` since
``track_writes``."""


def track_writes(conn: Connection) -> None:
    """Start noting whether ``conn``'s transaction writes (see ``wrote_nothing``)."""
    if conn.dialect.name == "postgresql" and not conn.invalidated:
        _WROTE.discard(id(conn.connection.driver_connection))


def note_write(conn: Connection) -> None:
    """Note a write sent on ``conn``'s driver connection directly (see ``wrote_nothing``)."""
    if conn.dialect.name == "postgresql":
        _WROTE.add(id(conn.connection.driver_connection))


_HELD: dict[int, Callable[[], None]] = {}
"""Flushers of writes held for a later statement (``pg_command.PendingWrites``), by ``id()``
of their psycopg connection: run before any other statement on it, so order is kept."""


def hold_writes(conn: Connection, flush: Callable[[], None]) -> int:
    """Register ``flush`` for ``conn``'s driver connection; the key to ``release_writes``."""
    key = id(conn.connection.driver_connection)
    _HELD[key] = flush
    return key


def release_writes(key: int) -> None:
    """Forget the flusher registered under ``key`` (the connection may be gone by now)."""
    _HELD.pop(key, None)


def wrote_nothing(conn: Connection) -> bool:
    """True when, on PostgreSQL, the transaction since ``track_writes`` sent only ``SELECT``s.

    Such a transaction can end with ``COMMIT`` as well as ``ROLLBACK``, and should: psycopg
    answers every ``ROLLBACK`` by deallocating the connection's prepared statements, so the
    commands after a read-only query (``show``, ``history``) would parse and plan their
    statements afresh. Always False on SQLite (nothing to keep there).
    """
    if conn.dialect.name != "postgresql" or conn.invalidated:
        return False
    return id(conn.connection.driver_connection) not in _WROTE


@event.listens_for(PGDialect_psycopg, "do_executemany")
def _note_write(cursor: Any, statement: str, parameters: Any, context: Any) -> None:
    if _HELD:
        _flush_held(cursor.connection)
    _WROTE.add(id(cursor.connection))


@event.listens_for(PGDialect_psycopg, "do_execute")
def _execute_and_sync(cursor: Any, statement: str, parameters: Any, context: Any) -> bool | None:
    """Note writes; inside ``pipelined``, wait for a row-returning statement's reply before
    SQLAlchemy reads it (it looks at the cursor's description at once), leave writes queued."""
    if _HELD:
        _flush_held(cursor.connection)
    if context.compiled is None or context.is_crud or context.isddl or context.is_text:
        _WROTE.add(id(cursor.connection))  # anything but a compiled SELECT counts as a write
    pipeline = _PIPELINES.get(id(cursor.connection)) if _PIPELINES else None
    if pipeline is None or _write_only(context):
        return None
    cursor.execute(statement, parameters)
    pipeline.sync()
    return True


def _write_only(context: Any) -> bool:
    compiled = context.compiled
    return bool(
        compiled is not None
        and (context.isinsert or context.isupdate or context.isdelete)
        and not compiled.effective_returning
    )


def _flush_held(driver: Any) -> None:
    flush = _HELD.get(id(driver))
    if flush is not None:
        flush()


def sync_pipeline(driver: Any) -> None:
    """Inside ``pipelined``, send what is queued and wait, so a result can be read."""
    pipeline = _PIPELINES.get(id(driver)) if _PIPELINES else None
    if pipeline is not None:
        pipeline.sync()


EVENT_SEQUENCE = "uq_case_events_case_seq"
"""The constraint that numbers a case's events: a violation means another writer got in first."""


def constraint_of(exc: DBAPIError) -> str | None:
    """The violated constraint's name (PostgreSQL reports it; SQLite does not)."""
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None)

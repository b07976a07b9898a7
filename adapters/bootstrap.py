"""The composition root: the one place that wires settings, database and engine together.

Nothing connects at import time. Embedding services call :func:`build_service` with a URL, or
pass their own SQLAlchemy engine (which we then neither own nor dispose).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from adapters.db.connection import create_db_engine
from adapters.db.migrate import current_revision, head_revision, upgrade
from adapters.db.repository import SqlUnitOfWork
from adapters.scheduler import SweepRunner
from adapters.settings import Settings, load_settings
from adapters.sweep import DEFAULT_BATCH, Sweeper
from engine.ports import Clock
from engine.service import ComplaintsService
from sla.errors import ConfigError
from workflows import WORKFLOWS


def utc_now() -> datetime:
    return datetime.now(UTC)


def ensure_schema(db_engine: Engine, *, auto_upgrade: bool) -> None:
    """Upgrade an embedded SQLite database in place; insist on an explicit upgrade elsewhere."""
    if current_revision(db_engine) == head_revision():
        return
    if auto_upgrade:
        upgrade(db_engine)
        return
    raise ConfigError(
        "database", "", "the schema is not up to date: run `complaints db upgrade` first"
    )


def build_service(
    settings: Settings | None = None,
    *,
    database_url: str | None = None,
    db_engine: Engine | None = None,
    clock: Clock = utc_now,
    auto_upgrade: bool | None = None,
) -> ComplaintsService:
    """A ready ``ComplaintsService``.

    ``db_engine`` (a host's own engine) beats ``database_url``, which beats the settings' URL.
    SQLite databases are migrated automatically unless ``auto_upgrade=False``.
    """
    settings = settings or load_settings(database_url=database_url)
    if db_engine is None:
        db_engine = create_db_engine(database_url or settings.database_url)
    if auto_upgrade is None:
        auto_upgrade = db_engine.dialect.name == "sqlite"
    ensure_schema(db_engine, auto_upgrade=auto_upgrade)
    return ComplaintsService(
        uow=lambda: SqlUnitOfWork(db_engine),
        policies=settings.policies,
        calendars=settings.calendar,
        workflows=WORKFLOWS,
        clock=clock,
        categories=settings.categories,
        default_calendar=settings.default_calendar,
        default_policy=settings.default_policy,
        team_for=settings.team_for,
        restricted_viewers=settings.restricted_viewers,
        lease=timedelta(minutes=settings.lease_minutes),
    )


def build_sweep_runner(
    settings: Settings,
    *,
    database_url: str | None = None,
    db_engine: Engine | None = None,
    clock: Clock = utc_now,
    batch_size: int = DEFAULT_BATCH,
) -> SweepRunner:
    """The sweep and its scheduler-facing runner for one database."""
    if db_engine is None:
        db_engine = create_db_engine(database_url or settings.database_url)
    ensure_schema(db_engine, auto_upgrade=db_engine.dialect.name == "sqlite")
    sweeper = Sweeper(
        db_engine,
        policies=settings.policies,
        calendars=settings.calendar,
        clock=clock,
        workflows=WORKFLOWS,
        team_for=settings.team_for,
        batch_size=batch_size,
    )
    return SweepRunner(
        db_engine,
        sweeper,
        recompute_args={"calendars": settings.calendar},
        clock=clock,
    )

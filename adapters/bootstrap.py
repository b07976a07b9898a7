"""The composition root: the one place that wires settings, database and engine together.

Nothing connects at import time. Embedding services call :func:`build_service` with a URL, or
pass their own SQLAlchemy engine (which we then neither own nor dispose). The same notification
planner is given to the service (commands) and the sweep (flags it raises); the worker gets the
notifiers: SMTP and the SMS gateway when configured, else the outbox file or standard output.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import Engine

from adapters.db.connection import create_db_engine
from adapters.db.migrate import current_revision, head_revision, upgrade
from adapters.db.repository import SqlUnitOfWork
from adapters.db.wakeups import wakeups_for
from adapters.jobs import JobStore, Worker
from adapters.notify.base import Notifier
from adapters.notify.compose import Landlord
from adapters.notify.file import FileNotifier
from adapters.notify.sender import NotificationSender
from adapters.notify.sms import HttpSmsNotifier
from adapters.notify.smtp import SmtpNotifier
from adapters.notify.templates import Templates
from adapters.scheduler import SweepRunner
from adapters.settings import Settings, load_settings
from adapters.sweep import DEFAULT_BATCH, Sweeper
from engine.access import resolver
from engine.notifications import EMAIL, JOB_KIND, LETTER, SMS, make_planner
from engine.ports import Clock, NotificationPlanner, no_notifications
from engine.service import ComplaintsService
from sla.errors import ConfigError
from workflows import WORKFLOWS

log = structlog.get_logger(__name__)


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
        notifications=build_planner(settings),
        actors=resolver(settings.actor_roles, settings.default_roles),
    )


def build_planner(settings: Settings) -> NotificationPlanner:
    """What residents are sent; nothing when there is no templates folder to write it with
    (a message that could never be rendered would only fill the dead-letter list)."""
    if settings.notify.templates_dir is None:
        return no_notifications
    return make_planner(settings.notify.rules())


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
        notifications=build_planner(settings),
    )
    return SweepRunner(
        db_engine,
        sweeper,
        recompute_args={"calendars": settings.calendar, "policies": settings.policies},
        clock=clock,
    )


def build_notifiers(settings: Settings) -> dict[str, Notifier]:
    """A notifier per channel: letters always to the outbox, e-mail and texts when set up."""
    notify = settings.notify
    outbox = FileNotifier(notify.outbox_file)
    if notify.outbox_file is None:
        # Messages (names, addresses) would be printed where a service manager keeps its logs.
        log.warning("outbox_is_standard_output", setting="outbox.file")
    notifiers: dict[str, Notifier] = {EMAIL: outbox, SMS: outbox, LETTER: outbox}
    if notify.smtp_host:
        notifiers[EMAIL] = SmtpNotifier(
            host=notify.smtp_host,
            port=notify.smtp_port,
            sender=notify.smtp_sender,
            starttls=notify.smtp_starttls,
            username=notify.smtp_username,
            password=os.environ.get("COMPLAINTS_SMTP_PASSWORD"),
        )
    if notify.sms_url:
        notifiers[SMS] = HttpSmsNotifier(
            url=notify.sms_url,
            sender=notify.sms_sender,
            token=os.environ.get("COMPLAINTS_SMS_TOKEN"),
        )
    return notifiers


def build_worker(
    settings: Settings,
    *,
    database_url: str | None = None,
    db_engine: Engine | None = None,
    clock: Clock = utc_now,
    notifiers: Mapping[str, Notifier] | None = None,
) -> Worker:
    """The background job worker for one database (``notifiers`` replace the configured ones)."""
    if db_engine is None:
        db_engine = create_db_engine(database_url or settings.database_url)
    ensure_schema(db_engine, auto_upgrade=db_engine.dialect.name == "sqlite")
    notify = settings.notify
    handlers = {}
    if notify.templates_dir is not None:
        handlers[JOB_KIND] = NotificationSender(
            db_engine=db_engine,
            notifiers=notifiers if notifiers is not None else build_notifiers(settings),
            templates=Templates(notify.templates_dir),
            landlord=Landlord(name=notify.landlord, phone=notify.phone),
        )
    return Worker(
        store=JobStore(db_engine),
        handlers=handlers,
        clock=clock,
        backoff=timedelta(seconds=notify.backoff_seconds),
        wakeups=wakeups_for(db_engine),
    )

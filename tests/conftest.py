"""Shared fixtures: a fresh, migrated database per test on SQLite and on PostgreSQL.

``db_url`` is parametrised over ``sqlite`` and ``postgresql``, so every test that uses it (or
``service``, ``make_service``, ``db_engine``) runs on both. PostgreSQL tests carry the ``postgres``
marker.

PostgreSQL comes from ``$COMPLAINTS_TEST_POSTGRES_URL`` (a server URL whose database is only used
to connect). Once per session a migrated template database is built; each test gets its own
``CREATE DATABASE ... TEMPLATE`` copy, dropped afterwards. If the server cannot be reached the
PostgreSQL parameters are skipped, unless ``COMPLAINTS_REQUIRE_POSTGRES=1`` (CI), when they fail.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from support import FakeClock

from adapters.bootstrap import build_service
from adapters.db.connection import create_db_engine, normalise_url
from adapters.db.migrate import upgrade
from adapters.settings import Settings, load_settings
from engine.ports import Clock
from engine.service import ComplaintsService

CONFIG_DIR = Path(__file__).parents[1] / "config"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TRUTHY = {"1", "true", "yes", "on"}


def postgres_required() -> bool:
    return os.environ.get("COMPLAINTS_REQUIRE_POSTGRES", "").strip().lower() in TRUTHY


# -- settings and time -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The repository's own ``config/`` folder (categories, the westward calendar and policy)."""
    return load_settings(config_dir=str(CONFIG_DIR))


@pytest.fixture
def clock() -> FakeClock:
    """The service's "now"; tests set or advance it (default 2025-06-02 09:00 UTC)."""
    return FakeClock()


# -- PostgreSQL ------------------------------------------------------------------------------------


class PostgresServer:
    """A reachable server, the migrated template test databases are copied from, and a helper
    thread that creates the next test database while the current test runs and drops finished
    ones in the background (``CREATE DATABASE`` takes ~0.3 s, mostly fsync)."""

    def __init__(self, server_url: str, admin: Engine) -> None:
        self.server_url = server_url
        self.admin = admin
        self.template = f"complaints_tpl_{os.getpid()}_{secrets.token_hex(4)}"
        self._workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-postgres")
        self._next: Future[str] | None = None
        self._drops: list[Future[None]] = []
        self._lock = threading.Lock()

    def url_for(self, database: str) -> str:
        return (
            make_url(self.server_url).set(database=database).render_as_string(hide_password=False)
        )

    def execute(self, sql: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(sql))

    def create_template(self) -> None:
        self.execute(f'CREATE DATABASE "{self.template}"')
        template_engine = create_db_engine(self.url_for(self.template), poolclass=NullPool)
        try:
            upgrade(template_engine)
        finally:
            template_engine.dispose()

    def _create_database(self) -> str:
        name = f"complaints_t_{secrets.token_hex(6)}"
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return name

    def take_database(self) -> str:
        """A fresh copy of the template (made ahead of time when possible)."""
        with self._lock:
            ready, self._next = self._next, None
        name = ready.result() if ready is not None else self._create_database()
        with self._lock:
            self._next = self._workers.submit(self._create_database)
        return name

    def drop_database(self, name: str) -> None:
        """Drop a test database in the background (connections left open are terminated)."""
        with self._lock:
            self._drops.append(self._workers.submit(self._drop, name))

    def _drop(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        """Drop the unused prepared database, wait for every drop, then drop the template."""
        with self._lock:
            pending, self._next = self._next, None
        try:
            if pending is not None:
                with contextlib.suppress(Exception):  # a failed prefetch left nothing to drop
                    self._drop(pending.result())
            for dropped in self._drops:
                dropped.result()  # a failed drop is an error of the session
        finally:
            self._workers.shutdown(wait=True)
            self._drop(self.template)


def _admin_engine(url: str) -> Engine:
    """AUTOCOMMIT (CREATE/DROP DATABASE cannot run in a transaction), no pooling."""
    return create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": 5},
    )


def _unreachable(admin: Engine) -> str | None:
    """Why the server cannot be used, or ``None`` when it answers."""
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        lines = str(exc.orig).strip().splitlines()
        return lines[0] if lines else type(exc.orig).__name__
    return None


def _redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server_url = normalise_url(
        os.environ.get("COMPLAINTS_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    )
    admin = _admin_engine(server_url)
    problem = _unreachable(admin)
    if problem is not None:
        admin.dispose()
        reason = f"PostgreSQL not reachable at {_redacted(server_url)}: {problem}"
        if postgres_required():
            pytest.fail(f"{reason} (COMPLAINTS_REQUIRE_POSTGRES is set)", pytrace=False)
        pytest.skip(
            f"{reason}; set COMPLAINTS_TEST_POSTGRES_URL to a server, "
            "or COMPLAINTS_REQUIRE_POSTGRES=1 to make this an error"
        )
    server = PostgresServer(server_url, admin)
    try:
        server.create_template()
        yield server
    finally:
        try:
            server.close()
        finally:
            admin.dispose()


# -- the database under test -----------------------------------------------------------------------


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", marks=pytest.mark.postgres, id="postgresql"),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh database at the head of the migrations, empty of cases."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'complaints.db'}"
        migrating = create_db_engine(url)
        try:
            upgrade(migrating)
        finally:
            migrating.dispose()
        yield url
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.take_database()
    try:
        yield server.url_for(name)
    finally:
        server.drop_database(name)


@pytest.fixture
def engines(db_url: str) -> Iterator[Callable[..., Engine]]:
    """A factory of engines on the test database; all are disposed before it is dropped."""
    made: list[Engine] = []

    def make(**kwargs: Any) -> Engine:
        db_engine = create_db_engine(db_url, **kwargs)
        made.append(db_engine)
        return db_engine

    yield make
    for db_engine in made:
        db_engine.dispose()


@pytest.fixture
def db_engine(engines: Callable[..., Engine]) -> Engine:
    """An engine for looking at the database behind the service's back."""
    return engines()


@pytest.fixture
def make_service(
    engines: Callable[..., Engine], settings: Settings, clock: FakeClock
) -> Callable[..., ComplaintsService]:
    """Build another ``ComplaintsService`` on the test database, with its own engine (and so its
    own connection pool): two of them behave like two application processes.

    The engine is made with the same ``create_db_engine`` that ``build_service(database_url=...)``
    uses, and passed in so the fixture can dispose of it.
    """

    shared_clock = clock

    def make(*, clock: Clock | None = None, **engine_kwargs: Any) -> ComplaintsService:
        """``clock`` defaults to the test's ``clock`` fixture; ``engine_kwargs`` go to
        ``create_db_engine``."""
        return build_service(
            settings, db_engine=engines(**engine_kwargs), clock=clock or shared_clock
        )

    return make


@pytest.fixture
def service(make_service: Callable[..., ComplaintsService]) -> ComplaintsService:
    """The service under test, on ``db_url``, with ``clock`` as its "now"."""
    return make_service()

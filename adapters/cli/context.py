"""What every command shares: settings and the service, each built on first use.

Nothing connects at start-up, so ``complaints --help`` and ``complaints sla ...`` work without a
database. The database engine the service runs on is disposed when the command ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import click
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from adapters.bootstrap import build_service
from adapters.db.connection import create_db_engine
from adapters.db.repository import DatabaseError
from adapters.logging import configure_logging
from adapters.settings import Settings, load_settings
from engine.service import ComplaintsService
from sla.timezone import london_date


@dataclass
class AppContext:
    config_dir: str | None = None
    database_url: str | None = None
    log_json: bool | None = None  # --log-json/--log-console (None: by terminal)
    log_level: str | None = None  # --log-level or $COMPLAINTS_LOG_LEVEL, as given
    _settings: Settings | None = field(default=None, repr=False)
    _service: ComplaintsService | None = field(default=None, repr=False)
    _db_engine: Engine | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_dir, self.database_url)
        return self._settings

    def log_as_a_service(self) -> None:
        """Logging for the long-running commands: ``info`` unless a level was asked for, in the
        format asked for."""
        configure_logging(json=self.log_json, level=self.log_level or "info")

    @property
    def service(self) -> ComplaintsService:
        """The service on the configured database (an SQLite file is migrated on first use)."""
        if self._service is None:
            self._db_engine = create_db_engine(self.settings.database_url)
            try:
                self._service = build_service(self.settings, db_engine=self._db_engine)
            except SQLAlchemyError as exc:
                url = self._db_engine.url.render_as_string(hide_password=True)
                raise DatabaseError(f"cannot open the database {url}: {first_line(exc)}") from exc
        return self._service

    @property
    def db_engine(self) -> Engine:
        """The database engine the service runs on (opening the service if need be)."""
        _ = self.service
        assert self._db_engine is not None
        return self._db_engine

    def today(self) -> date:
        """Today's date in London, by the service's clock (what deadlines are measured against)."""
        return london_date(self.service.now())

    def close(self) -> None:
        """Release the database connections (called by click when the command ends)."""
        if self._db_engine is not None:
            self._db_engine.dispose()
            self._db_engine = None
            self._service = None


def first_line(exc: BaseException) -> str:
    """The driver's own message, first line only (the CLI prints one line)."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


pass_app = click.make_pass_decorator(AppContext)

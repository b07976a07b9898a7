"""What every command shares: settings (loaded lazily) and, later, the service."""

from __future__ import annotations

from dataclasses import dataclass, field

import click

from adapters.settings import Settings, load_settings


@dataclass
class AppContext:
    config_dir: str | None = None
    database_url: str | None = None
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_dir, self.database_url)
        return self._settings


pass_app = click.make_pass_decorator(AppContext)

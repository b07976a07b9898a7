"""Deployment settings: defaults, then ``config/settings.toml``, then environment variables.

The config folder is ``--config DIR``, else ``$COMPLAINTS_CONFIG``, else ``./config`` when it
exists. It holds ``settings.toml``, landlord calendars in ``calendars/*.toml`` and landlord
policies in ``policies/*.toml``; the statutory policies ship inside the package.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from adapters.notify.config import NotifySettings, load_notify_settings
from engine.access import ROLES, unknown_role
from sla import WorkingCalendar
from sla.calendar_config import calendar_from_mapping
from sla.divisions import DIVISIONS
from sla.errors import ConfigError, UnknownDivisionError
from sla.policy import PolicyRegistry, builtin_policies, parse_policy_text

DEFAULT_DATABASE_URL = "sqlite:///complaints.db"
DEFAULT_CATEGORIES = (
    "repairs",
    "damp-and-mould",
    "asb",
    "staff-conduct",
    "housing-tenancy",
    "grounds-maintenance",
    "programmed-works",
    "rent-and-income",
    "other",
)


@dataclass(frozen=True)
class Settings:
    """Everything a deployment can configure, validated when loaded."""

    config_dir: Path | None = None
    database_url: str = DEFAULT_DATABASE_URL
    default_calendar: str = "england-and-wales"
    default_policy: str = "hoc"
    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    nightly_sweep_at: str = "02:00"
    refresh_minutes: int = 60
    teams: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    restricted_viewers: tuple[str, ...] = ()
    lease_minutes: int = 30
    actor_roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    default_roles: tuple[str, ...] = ("coordinator",)
    retention_years: int = 6
    notify: NotifySettings = field(default_factory=NotifySettings)
    _calendar_tables: Mapping[str, tuple[str, Mapping[str, Any]]] = field(
        default_factory=dict, repr=False
    )
    _policy_texts: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    _calendar_cache: dict[str, WorkingCalendar] = field(
        default_factory=dict, repr=False, compare=False
    )

    @cached_property
    def policies(self) -> PolicyRegistry:
        """Built-in policies plus the landlord's (a landlord file may not reuse a built-in id)."""
        builtin = builtin_policies()
        taken = {p.id for p in builtin}
        extra = []
        for source, text in self._policy_texts:
            policy = parse_policy_text(text, source)
            if policy.id in taken:
                raise ConfigError(source, "id", f"{policy.id!r} is already defined")
            taken.add(policy.id)
            extra.append(policy)
        return PolicyRegistry([*builtin, *extra])

    def team_for(self, category: str) -> str:
        """The team whose queue a category's work goes to (``complaints`` by default)."""
        for team, categories in self.teams.items():
            if category in categories:
                return team
        return "complaints"

    def calendar_names(self) -> list[str]:
        return [*DIVISIONS, *sorted(self._calendar_tables)]

    def calendar(self, name: str) -> WorkingCalendar:
        """A division's plain calendar or a landlord calendar from ``calendars/``."""
        if name in DIVISIONS:
            return WorkingCalendar.uk(name)
        entry = self._calendar_tables.get(name)
        if entry is None:
            raise UnknownDivisionError(name, tuple(self.calendar_names()))
        cached = self._calendar_cache.get(name)
        if cached is None:
            cached = calendar_from_mapping(entry[1], entry[0])
            self._calendar_cache[name] = cached
        return cached


def find_config_dir(explicit: str | None = None) -> Path | None:
    """The config folder to use, or ``None`` to run on built-in defaults."""
    chosen = explicit or os.environ.get("COMPLAINTS_CONFIG")
    if chosen:
        path = Path(chosen)
        if not path.is_dir():
            raise ConfigError(str(path), "", "config folder does not exist")
        return path
    default = Path("config")
    return default if (default / "settings.toml").is_file() else None


def load_settings(config_dir: str | None = None, database_url: str | None = None) -> Settings:
    """Read settings; ``database_url`` (from ``--db``) beats ``$COMPLAINTS_DATABASE_URL``."""
    folder = find_config_dir(config_dir)
    data: Mapping[str, Any] = {}
    calendars: dict[str, tuple[str, Mapping[str, Any]]] = {}
    policy_texts: list[tuple[str, str]] = []
    if folder is not None:
        settings_file = folder / "settings.toml"
        if settings_file.is_file():
            data = _read_toml(settings_file)
        for path in sorted((folder / "calendars").glob("*.toml")):
            table = _read_toml(path)
            name = table.get("name")
            if not isinstance(name, str) or not name:
                raise ConfigError(str(path), "name", "is required")
            if name in DIVISIONS or name in calendars:
                raise ConfigError(str(path), "name", f"{name!r} is already a calendar name")
            calendars[name] = (str(path), table)
        for path in sorted((folder / "policies").glob("*.toml")):
            policy_texts.append((str(path), path.read_text(encoding="utf-8")))
    source = str(folder / "settings.toml") if folder else "settings"
    return Settings(
        config_dir=folder,
        database_url=database_url
        or os.environ.get("COMPLAINTS_DATABASE_URL")
        or _get_str(data, "database", "url", source, DEFAULT_DATABASE_URL),
        default_calendar=_get_str(data, "defaults", "calendar", source, "england-and-wales"),
        default_policy=_get_str(data, "defaults", "policy", source, "hoc"),
        categories=_get_categories(data, source),
        nightly_sweep_at=_get_str(data, "scheduler", "nightly_sweep_at", source, "02:00"),
        refresh_minutes=_get_int(data, "scheduler", "refresh_minutes", source, 60),
        teams=_get_teams(data, source),
        restricted_viewers=_get_names(data, "queue", "restricted_viewers", source),
        lease_minutes=_get_int(data, "queue", "lease_minutes", source, 30),
        actor_roles=_get_actor_roles(data, source),
        default_roles=_get_default_roles(data, source),
        retention_years=_get_int(data, "retention", "years", source, 6),
        notify=load_notify_settings(data, source, folder),
        _calendar_tables=calendars,
        _policy_texts=tuple(policy_texts),
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"not valid TOML ({exc})") from None


def _get_str(data: Mapping[str, Any], table: str, key: str, source: str, default: str) -> str:
    section = data.get(table, {})
    if not isinstance(section, Mapping):
        raise ConfigError(source, table, "must be a table")
    value = section.get(key, default)
    if not isinstance(value, str) or not value:
        raise ConfigError(source, f"{table}.{key}", "must be a non-empty string")
    return value


def _get_int(data: Mapping[str, Any], table: str, key: str, source: str, default: int) -> int:
    section = data.get(table, {})
    value = section.get(key, default) if isinstance(section, Mapping) else default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(source, f"{table}.{key}", "must be a whole number, 0 or more")
    return value


def _get_teams(data: Mapping[str, Any], source: str) -> dict[str, tuple[str, ...]]:
    value = data.get("teams", {})
    if not isinstance(value, Mapping):
        raise ConfigError(source, "teams", "must be a table of team = [categories]")
    teams: dict[str, tuple[str, ...]] = {}
    for team, categories in value.items():
        if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
            raise ConfigError(source, f"teams.{team}", "must be a list of category names")
        teams[team] = tuple(categories)
    return teams


def _get_names(data: Mapping[str, Any], table: str, key: str, source: str) -> tuple[str, ...]:
    section = data.get(table, {})
    value = section.get(key, []) if isinstance(section, Mapping) else []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(source, f"{table}.{key}", "must be a list of names")
    return tuple(value)


def _roles(value: Any, source: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(source, key, "must be a list of role names")
    bad = unknown_role(value)
    if bad is not None:
        raise ConfigError(source, key, f"unknown role {bad!r}; roles: {', '.join(ROLES)}")
    return tuple(value)


def _get_actor_roles(data: Mapping[str, Any], source: str) -> dict[str, tuple[str, ...]]:
    """``[actors]``: ``name = ["role", ...]`` per person or system (``default_roles`` aside)."""
    section = data.get("actors", {})
    if not isinstance(section, Mapping):
        raise ConfigError(source, "actors", "must be a table of name = [roles]")
    return {
        name: _roles(value, source, f"actors.{name}")
        for name, value in section.items()
        if name != "default_roles"
    }


def _get_default_roles(data: Mapping[str, Any], source: str) -> tuple[str, ...]:
    section = data.get("actors", {})
    value = section.get("default_roles", ["coordinator"]) if isinstance(section, Mapping) else []
    return _roles(value, source, "actors.default_roles")


def _get_categories(data: Mapping[str, Any], source: str) -> tuple[str, ...]:
    value = data.get("categories", list(DEFAULT_CATEGORIES))
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConfigError(source, "categories", "must be a non-empty list of names")
    return tuple(value)

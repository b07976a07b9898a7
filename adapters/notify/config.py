"""Settings for notifications and the worker: ``[notifications]``, ``[smtp]``, ``[sms]``,
``[outbox]`` and ``[worker]`` in ``settings.toml``, checked when loaded.

Secrets never live in the file: the SMTP password and the SMS gateway's token are read from the
environment (``COMPLAINTS_SMTP_PASSWORD``, ``COMPLAINTS_SMS_TOKEN``) when the worker is built.
Without an SMTP host or an SMS URL, e-mail and texts go to the outbox (a file, or standard
output) like letters do, so nothing is lost and a trial install shows what would be sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from engine.model import CONTACT_METHODS
from engine.notifications import CHANNELS, MESSAGE_KINDS, NO_MESSAGES, NotificationRules
from sla.errors import ConfigError


@dataclass(frozen=True)
class NotifySettings:
    enabled: tuple[str, ...] = MESSAGE_KINDS
    by_policy: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    by_method: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)
    landlord: str = "The Complaints Team"
    phone: str = ""
    templates_dir: Path | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "complaints@localhost"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    sms_url: str | None = None
    sms_sender: str = "Complaints"
    outbox_file: Path | None = None
    poll_seconds: float = 2.0
    backoff_seconds: int = 30
    max_age_days: int = 7

    def rules(self) -> NotificationRules:
        """The planner's rules (engine.notifications) from these settings."""
        defaults = NotificationRules()
        return NotificationRules(
            enabled=frozenset(self.enabled),
            by_policy={k: frozenset(v) for k, v in self.by_policy.items()},
            by_method={k: frozenset(v) for k, v in self.by_method.items()},
            routes={**defaults.routes, **self.channels},
            max_age=timedelta(days=self.max_age_days),
        )


def load_notify_settings(
    data: Mapping[str, Any], source: str, config_dir: Path | None
) -> NotifySettings:
    notifications = _table(data, "notifications", source)
    smtp = _table(data, "smtp", source)
    sms = _table(data, "sms", source)
    outbox = _table(data, "outbox", source)
    worker = _table(data, "worker", source)
    return NotifySettings(
        enabled=_kinds(notifications.get("enabled", list(MESSAGE_KINDS)), source, "enabled"),
        by_policy={
            str(policy): _kinds(kinds, source, f"policies.{policy}")
            for policy, kinds in _table(notifications, "policies", source).items()
        },
        by_method=_methods(_table(notifications, "methods", source), source),
        channels=_channels(_table(notifications, "channels", source), source),
        landlord=_text(notifications, "landlord", source, "notifications") or "The Complaints Team",
        phone=_text(notifications, "phone", source, "notifications") or "",
        templates_dir=_templates(notifications, source, config_dir),
        smtp_host=_text(smtp, "host", source, "smtp"),
        smtp_port=_port(smtp.get("port", 25), source),
        smtp_sender=_text(smtp, "sender", source, "smtp") or "complaints@localhost",
        smtp_starttls=_flag(smtp, "starttls", source),
        smtp_username=_text(smtp, "username", source, "smtp"),
        sms_url=_url(_text(sms, "url", source, "sms"), source),
        sms_sender=_text(sms, "sender", source, "sms") or "Complaints",
        outbox_file=_path(_text(outbox, "file", source, "outbox")),
        max_age_days=int(_number(notifications, "skip_older_than_days", source, 7)),
        poll_seconds=_number(worker, "poll_seconds", source, 2.0),
        backoff_seconds=int(_number(worker, "backoff_seconds", source, 30)),
    )


def _table(data: Mapping[str, Any], key: str, source: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(source, key, "must be a table")
    return value


def _text(table: Mapping[str, Any], key: str, source: str, prefix: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(source, f"{prefix}.{key}", "must be a string")
    return value.strip() or None


def _kinds(value: Any, source: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(v in MESSAGE_KINDS for v in value):
        raise ConfigError(
            source, f"notifications.{key}", f"must be a list of: {', '.join(MESSAGE_KINDS)}"
        )
    return tuple(value)


def _methods(table: Mapping[str, Any], source: str) -> dict[str, tuple[str, ...]]:
    """``[notifications.methods]``: per preferred contact method, the kinds its residents get."""
    for method in table:
        if method not in CONTACT_METHODS:
            raise ConfigError(
                source,
                f"notifications.methods.{method}",
                f"is not a contact method ({', '.join(CONTACT_METHODS)})",
            )
    return {str(m): _kinds(kinds, source, f"methods.{m}") for m, kinds in table.items()}


def _channels(table: Mapping[str, Any], source: str) -> dict[str, str]:
    allowed = (*CHANNELS, NO_MESSAGES)
    for method, channel in table.items():
        if method not in CONTACT_METHODS or channel not in allowed:
            raise ConfigError(
                source,
                f"notifications.channels.{method}",
                f"maps a contact method ({', '.join(CONTACT_METHODS)}) "
                f"to one of: {', '.join(allowed)}",
            )
    return {str(k): str(v) for k, v in table.items()}


def _templates(table: Mapping[str, Any], source: str, config_dir: Path | None) -> Path | None:
    """The templates folder inside the config folder; ``None`` (no messages) if missing."""
    name = _text(table, "templates", source, "notifications") or "templates"
    if config_dir is None or not (config_dir / name).is_dir():
        return None
    return config_dir / name


def _port(value: Any, source: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ConfigError(source, "smtp.port", "must be a port number")
    return value


def _flag(table: Mapping[str, Any], key: str, source: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(source, f"smtp.{key}", "must be true or false")
    return value


def _url(value: str | None, source: str) -> str | None:
    if value is not None and (urlsplit(value).scheme not in ("http", "https") or "//" not in value):
        raise ConfigError(source, "sms.url", "must be an http:// or https:// URL")
    return value


def _path(value: str | None) -> Path | None:
    return None if value in (None, "-") else Path(str(value))


def _number(table: Mapping[str, Any], key: str, source: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(source, key, "must be a number above 0")
    return float(value)

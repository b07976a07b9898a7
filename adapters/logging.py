"""structlog configuration: called once by the application, never by library code.

Library modules only call ``structlog.get_logger()``. Logs go to stderr: a console renderer on a
terminal, JSON lines otherwise. A redaction processor drops fields that may hold personal data and
masks e-mail addresses, UK phone numbers and postcodes in whatever is left; the real control is
that the code logs references and identifiers only.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

from sla.errors import ConfigError

PERSONAL_FIELDS = frozenset(
    {
        "name",
        "resident_name",
        "email",
        "phone",
        "address",
        "postcode",
        "summary",
        "description",
        "text",
        "notes",
        "understanding",
        "desired_outcome",
        "reasons",
        "learning",
        "body",
        "note",
        "reason",
        "comment",
        "agreed_outcome",
        "complaint_definition",
        "outcome",
        "contact_details",
        "resident_email",
        "resident_phone",
        "property_ref",
    }
)
_PATTERNS = (
    re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),
    re.compile(r"(?<!\d)(\+44\s?|0)(\d[\s-]?){9,10}(?!\d)"),
    re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.IGNORECASE),
)
REDACTED = "[redacted]"


def redact_text(value: str) -> str:
    """Mask e-mail addresses, UK phone numbers and postcodes in a string."""
    for pattern in _PATTERNS:
        value = pattern.sub(REDACTED, value)
    return value


def redact_personal_data(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: remove personal fields, mask patterns in the rest (nested too)."""
    for key in list(event_dict):
        event_dict[key] = _redact(key, event_dict[key])
    return event_dict


def _redact(key: object, value: Any) -> Any:
    if key in PERSONAL_FIELDS:
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: _redact(k, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(None, v) for v in value]
    return value


def configure_logging(*, json: bool | None = None, level: str = "INFO") -> None:
    """Configure structlog for the process (idempotent)."""
    use_json = not sys.stderr.isatty() if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_personal_data,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_level_number(level)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def _level_number(level: str) -> int:
    number = logging.getLevelNamesMapping().get(level.upper())
    if number is None:
        raise ConfigError("--log-level", "", f"unknown log level {level!r}")
    return number

"""Build a landlord's ``WorkingCalendar`` from a parsed TOML table.

```toml
name = "westward"
division = "england-and-wales"
weekend = ["saturday", "sunday"]
cutoff = "17:00"                      # optional: later receipts count from the next working day

[[closures]]                          # non-working days of the landlord's own
date = 2026-12-29
reason = "Christmas shutdown"

[[closures]]
from = 2026-12-30
to = 2026-12-31
reason = "Christmas shutdown"

[[open_days]]                         # bank holidays the landlord works on
date = 2026-06-15
reason = "Office open on the World Cup holiday"
```
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time, timedelta
from typing import Any

from sla.calendar import WEEKDAY_NAMES, DayOverride, WorkingCalendar
from sla.divisions import DIVISIONS
from sla.errors import CalendarError, ConfigError

_KEYS = {"name", "division", "weekend", "cutoff", "closures", "open_days"}
_SPAN_KEYS = {"date", "from", "to", "reason"}


def calendar_from_mapping(data: Mapping[str, Any], source: str) -> WorkingCalendar:
    """Validate a calendar table; every error names ``source`` and the offending key."""
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ConfigError(source, unknown[0], "unknown key (check the spelling)")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(source, "name", "is required and must be a string")
    division = data.get("division")
    if not isinstance(division, str):
        raise ConfigError(
            source, "division", "is required: england-and-wales, scotland or northern-ireland"
        )
    overrides = [
        *_read_days(data.get("closures", []), source, "closures", working=False),
        *_read_days(data.get("open_days", []), source, "open_days", working=True),
    ]
    check_key = "division" if division not in DIVISIONS else "closures"
    try:
        return WorkingCalendar(
            division,
            name=name,
            weekend=_read_weekend(data.get("weekend", ["saturday", "sunday"]), source),
            overrides=overrides,
            cutoff=_read_cutoff(data.get("cutoff"), source),
        )
    except CalendarError as exc:
        raise ConfigError(source, check_key, str(exc)) from None


def _read_weekend(value: Any, source: str) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(
            source, "weekend", 'must be a list of day names like ["saturday", "sunday"]'
        )
    try:
        return [WEEKDAY_NAMES.index(v.lower()) for v in value]
    except ValueError:
        raise ConfigError(source, "weekend", f"day names are {', '.join(WEEKDAY_NAMES)}") from None


def _read_cutoff(value: Any, source: str) -> time | None:
    if value is None:
        return None
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(source, "cutoff", f'must be a time like "17:00", got {value!r}')


def _read_days(items: Any, source: str, key: str, *, working: bool) -> list[DayOverride]:
    if not isinstance(items, list):
        raise ConfigError(source, key, "must be an array of tables")
    result: list[DayOverride] = []
    for i, item in enumerate(items):
        where = f"{key}[{i}]"
        if not isinstance(item, Mapping):
            raise ConfigError(source, where, "must be a table with date (or from/to) and reason")
        extra = sorted(set(item) - _SPAN_KEYS)
        if extra:
            raise ConfigError(source, f"{where}.{extra[0]}", "unknown key (check the spelling)")
        reason = item.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(source, f"{where}.reason", "is required")
        first, last = _read_span(item, source, where)
        day = first
        while day <= last:
            result.append(DayOverride(day, reason, working=working))
            day += timedelta(days=1)
    return result


def _read_span(item: Mapping[str, Any], source: str, where: str) -> tuple[date, date]:
    if "date" in item:
        if "from" in item or "to" in item:
            raise ConfigError(source, where, "give either date or from/to, not both")
        return _one_date(item["date"], source, f"{where}.date"), _one_date(
            item["date"], source, f"{where}.date"
        )
    first = _one_date(item.get("from"), source, f"{where}.from")
    last = _one_date(item.get("to"), source, f"{where}.to")
    if last < first:
        raise ConfigError(source, f"{where}.to", "is before from")
    if (last - first).days > 366:
        raise ConfigError(source, where, "a closure longer than a year is not a closure")
    return first, last


def _one_date(value: Any, source: str, key: str) -> date:
    if type(value) is date:
        return value
    raise ConfigError(source, key, f"must be a date like 2026-12-29, got {value!r}")

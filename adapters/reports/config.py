"""The ``[reports]`` table of ``settings.toml``: homes per tenure and the CH02 rule.

Read here, not in ``adapters.settings``, so reports can be configured without touching the
settings every command loads. Every key is optional; the command line overrides each one::

    [reports]
    ch02_rule = "acknowledged-and-responded"   # or "responded"
    homes_lcra = 12000                          # low-cost rental homes (CH01 denominator)
    homes_lcho = 800                            # low-cost home ownership homes
    homes = 12800                               # all homes, when the split is not known
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sla.errors import ConfigError

ACK_AND_RESPONDED = "acknowledged-and-responded"
RESPONDED = "responded"
CH02_RULES = (ACK_AND_RESPONDED, RESPONDED)
TENURE_NAMES = {"lcra": "low-cost rental (LCRA)", "lcho": "low-cost home ownership (LCHO)"}


@dataclass(frozen=True, slots=True)
class Homes:
    """Homes owned, per tenure; ``total`` is all homes when only that is known."""

    lcra: int | None = None
    lcho: int | None = None
    total: int | None = None

    def __post_init__(self) -> None:
        for key in ("lcra", "lcho", "total"):
            value = getattr(self, key)
            if value is not None and (isinstance(value, bool) or value < 1):
                raise ConfigError("reports", f"homes_{key}", "must be a whole number above 0")

    def of(self, tenure: str) -> int | None:
        """Homes of one tenure, or of all (``all``: the total, else the sum when both known)."""
        if tenure == "lcra":
            return self.lcra
        if tenure == "lcho":
            return self.lcho
        if self.total is not None:
            return self.total
        if self.lcra is not None and self.lcho is not None:
            return self.lcra + self.lcho
        return None

    def overridden(self, *, lcra: int | None, lcho: int | None, total: int | None) -> Homes:
        return Homes(
            lcra=lcra if lcra is not None else self.lcra,
            lcho=lcho if lcho is not None else self.lcho,
            total=total if total is not None else self.total,
        )


@dataclass(frozen=True, slots=True)
class ReportSettings:
    ch02_rule: str = ACK_AND_RESPONDED
    homes: Homes = Homes()


def check_rule(rule: str, source: str = "--rule") -> str:
    if rule not in CH02_RULES:
        raise ConfigError(source, "ch02_rule", f"must be one of {', '.join(CH02_RULES)}")
    return rule


def load_report_settings(config_dir: Path | None) -> ReportSettings:
    """``[reports]`` from ``config_dir/settings.toml`` (defaults when absent)."""
    if config_dir is None:
        return ReportSettings()
    path = config_dir / "settings.toml"
    if not path.is_file():
        return ReportSettings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"not valid TOML: {exc}") from None
    table = data.get("reports", {})
    if not isinstance(table, Mapping):
        raise ConfigError(str(path), "reports", "must be a table")
    return _from_table(table, str(path))


def _from_table(table: Mapping[str, Any], source: str) -> ReportSettings:
    unknown = sorted(set(table) - {"ch02_rule", "homes", "homes_lcra", "homes_lcho"})
    if unknown:
        raise ConfigError(source, f"reports.{unknown[0]}", "unknown key")
    rule = table.get("ch02_rule", ACK_AND_RESPONDED)
    if not isinstance(rule, str):
        raise ConfigError(source, "reports.ch02_rule", "must be text")
    check_rule(rule, source)
    counts = {key: _homes(table, key, source) for key in ("homes_lcra", "homes_lcho", "homes")}
    return ReportSettings(
        ch02_rule=rule,
        homes=Homes(lcra=counts["homes_lcra"], lcho=counts["homes_lcho"], total=counts["homes"]),
    )


def _homes(table: Mapping[str, Any], key: str, source: str) -> int | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(source, f"reports.{key}", "must be a whole number above 0")
    return value

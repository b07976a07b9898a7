"""SLA policies: the working-day limits a landlord works to, validated when loaded.

A policy names its clocks generically: each clock starts at one *milestone* of a case (``received``,
``acknowledged``, ...) and stops at another, with a number of working days and an extension cap.
Workflows record milestones; the engine turns milestones + policy + calendar into deadlines. That
keeps the difference between the 2022 Code (Stage 1 response clock from receipt) and the 2024 Code
(from acknowledgement) in data, not code.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from typing import Any

from sla.errors import ConfigError, UnknownPolicyError

NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True, slots=True)
class ClockRule:
    """One SLA clock: ``days`` working days from milestone ``starts_at`` until ``stops_at``.

    ``extension_cap`` is the most working days all extensions of this clock may add together;
    ``None`` means the policy sets no cap (a reason is still required), ``0`` forbids extensions.
    """

    name: str
    label: str
    days: int
    starts_at: str
    stops_at: str
    extension_cap: int | None = 0


@dataclass(frozen=True, slots=True)
class ContactLevel:
    """A contact-countdown threshold: ``days`` working days without contact raise ``level``."""

    days: int
    level: str
    action: str


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A configured ground on which a complaint may be declined or an escalation refused."""

    id: str
    description: str


@dataclass(frozen=True, slots=True)
class Policy:
    """A versioned set of SLA rules. A case keeps the id and version it started under."""

    id: str
    version: int
    family: str
    name: str
    applies_from: date | None
    applies_until: date | None
    clocks: tuple[ClockRule, ...]
    contact_levels: tuple[ContactLevel, ...]
    exclusions: tuple[Exclusion, ...]
    due_soon_days: int = 2
    time_limit_months: int = 12
    source: str = ""
    notes: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        """``id@version``: what a case stores."""
        return f"{self.id}@{self.version}"

    def clock(self, name: str) -> ClockRule | None:
        """The clock rule called ``name``, or ``None`` when this policy has no such clock."""
        for rule in self.clocks:
            if rule.name == name:
                return rule
        return None

    def exclusion(self, exclusion_id: str) -> Exclusion | None:
        for exclusion in self.exclusions:
            if exclusion.id == exclusion_id:
                return exclusion
        return None

    def applies_to(self, made_on: date) -> bool:
        """True when a complaint made on ``made_on`` falls under this policy."""
        if self.applies_from is not None and made_on < self.applies_from:
            return False
        return self.applies_until is None or made_on < self.applies_until

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str) -> Policy:
        """Build and validate a policy from parsed TOML; errors name ``source`` and the key."""
        reader = _Reader(data, source)
        policy_id = reader.name("id")
        clocks = tuple(
            _read_clock(reader, name, value) for name, value in reader.table("clocks").items()
        )
        if not clocks:
            raise ConfigError(source, "clocks", "a policy needs at least one clock")
        levels = tuple(
            _read_level(reader, i, item) for i, item in enumerate(reader.list("contact_levels"))
        )
        _check_levels(source, levels)
        exclusions = tuple(
            _read_exclusion(reader, i, item)
            for i, item in enumerate(reader.list("exclusions", required=False))
        )
        policy = cls(
            id=policy_id,
            version=reader.integer("version", minimum=1),
            family=reader.name("family", default=policy_id),
            name=reader.text("name"),
            applies_from=reader.day("applies_from", required=False),
            applies_until=reader.day("applies_until", required=False),
            clocks=clocks,
            contact_levels=levels,
            exclusions=exclusions,
            due_soon_days=reader.integer("due_soon_days", minimum=0, default=2),
            time_limit_months=reader.integer("time_limit_months", minimum=1, default=12),
            source=reader.text("source", default=""),
            notes=reader.text("notes", default=""),
        )
        if (
            policy.applies_from
            and policy.applies_until
            and policy.applies_until <= policy.applies_from
        ):
            raise ConfigError(source, "applies_until", "must be after applies_from")
        reader.reject_unknown()
        return policy


class PolicyRegistry:
    """Every known policy, looked up by id or by family and the date a complaint was made."""

    def __init__(self, policies: Iterable[Policy]) -> None:
        self._by_id: dict[str, Policy] = {}
        for policy in policies:
            self._by_id[policy.id] = policy

    def ids(self) -> list[str]:
        return sorted(self._by_id)

    def get(self, policy_id: str) -> Policy:
        try:
            return self._by_id[policy_id]
        except KeyError:
            raise UnknownPolicyError(
                f"unknown policy {policy_id!r}; known policies: {', '.join(self.ids())}"
            ) from None

    def resolve(self, name: str, made_on: date) -> Policy:
        """The policy for a complaint made on ``made_on``.

        ``name`` is a policy id (which must apply on that date) or a family such as ``hoc``
        (whose member that applies on that date is chosen: the version follows the date the
        complaint was made, never today).
        """
        exact = self._by_id.get(name)
        if exact is not None:
            if not exact.applies_to(made_on):
                raise UnknownPolicyError(
                    f"policy {name!r} does not apply to a complaint made on {made_on}"
                    f"{_family_hint(self, exact.family, made_on)}"
                )
            return exact
        members = [p for p in self._by_id.values() if p.family == name]
        if not members:
            raise UnknownPolicyError(
                f"unknown policy {name!r}; known policies: {', '.join(self.ids())}"
            )
        for policy in members:
            if policy.applies_to(made_on):
                return policy
        raise UnknownPolicyError(f"no {name!r} policy applies to a complaint made on {made_on}")


def _family_hint(registry: PolicyRegistry, family: str, made_on: date) -> str:
    for policy_id in registry.ids():
        policy = registry.get(policy_id)
        if policy.family == family and policy.applies_to(made_on):
            return f"; use {policy.id!r}"
    return ""


def builtin_policies() -> list[Policy]:
    """The statutory and model policies shipped with the package (``sla/policies/*.toml``)."""
    folder = resources.files("sla") / "policies"
    result = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            result.append(parse_policy_text(entry.read_text(encoding="utf-8"), entry.name))
    return result


def parse_policy_text(text: str, source: str) -> Policy:
    """Parse one policy file's text; a syntax error names the file and line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "", f"not valid TOML ({exc})") from None
    return Policy.from_mapping(data, source)


# -- validation helpers ------------------------------------------------------------------------

_MISSING = object()


class _Reader:
    """Typed access to a TOML table that reports the file and full key on every problem."""

    def __init__(self, data: Any, source: str, prefix: str = "") -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(source, prefix.rstrip(".") or "(top)", "expected a table")
        self.data = data
        self.source = source
        self.prefix = prefix
        self.seen: set[str] = set()

    def _get(self, key: str, default: Any) -> Any:
        self.seen.add(key)
        value = self.data.get(key, _MISSING)
        if value is _MISSING:
            if default is _MISSING:
                raise ConfigError(self.source, self.prefix + key, "is required")
            return default
        return value

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.source, self.prefix + key, problem)

    def text(self, key: str, default: Any = _MISSING) -> str:
        value = self._get(key, default)
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, got {type(value).__name__}")
        return value

    def name(self, key: str, default: Any = _MISSING) -> str:
        value = self.text(key, default)
        if not value or not set(value) <= NAME_CHARS:
            raise self.fail(key, f"must be lower-case letters, digits and '-', got {value!r}")
        return value

    def integer(self, key: str, minimum: int, default: Any = _MISSING) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be a whole number, got {value!r}")
        if value < minimum:
            raise self.fail(key, f"must be at least {minimum}, got {value}")
        return value

    def day(self, key: str, required: bool = True) -> date | None:
        value = self._get(key, _MISSING if required else None)
        if value is None:
            return None
        if type(value) is not date:
            raise self.fail(key, f"must be a date like 2024-04-01, got {value!r}")
        return value

    def table(self, key: str) -> Mapping[str, Any]:
        value = self._get(key, _MISSING)
        if not isinstance(value, Mapping):
            raise self.fail(key, "must be a table")
        return value

    def list(self, key: str, required: bool = True) -> list[Any]:
        value = self._get(key, _MISSING if required else [])
        if not isinstance(value, list):
            raise self.fail(key, "must be an array of tables")
        return value

    def reject_unknown(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise self.fail(unknown[0], "unknown key (check the spelling)")


def _read_clock(parent: _Reader, name: str, value: Any) -> ClockRule:
    reader = _Reader(value, parent.source, f"clocks.{name}.")
    if not name or not set(name) <= NAME_CHARS:
        raise parent.fail(f"clocks.{name}", "clock names are lower-case letters, digits and '_'")
    cap_raw = reader._get("extension_cap", 0)
    if cap_raw == "none":
        cap: int | None = None
    else:
        cap = reader.integer("extension_cap", minimum=0, default=0)
    rule = ClockRule(
        name=name,
        label=reader.text("label", default=name.replace("_", " ")),
        days=reader.integer("days", minimum=1),
        starts_at=reader.name("starts_at"),
        stops_at=reader.name("stops_at"),
        extension_cap=cap,
    )
    if rule.starts_at == rule.stops_at:
        raise reader.fail("stops_at", "a clock cannot stop at the milestone it starts at")
    reader.reject_unknown()
    return rule


def _read_level(parent: _Reader, index: int, value: Any) -> ContactLevel:
    reader = _Reader(value, parent.source, f"contact_levels[{index}].")
    level = ContactLevel(
        days=reader.integer("days", minimum=1),
        level=reader.name("level"),
        action=reader.text("action"),
    )
    reader.reject_unknown()
    return level


def _read_exclusion(parent: _Reader, index: int, value: Any) -> Exclusion:
    reader = _Reader(value, parent.source, f"exclusions[{index}].")
    exclusion = Exclusion(id=reader.name("id"), description=reader.text("description"))
    reader.reject_unknown()
    return exclusion


def _check_levels(source: str, levels: tuple[ContactLevel, ...]) -> None:
    if not levels:
        raise ConfigError(source, "contact_levels", "at least one contact level is required")
    days = [level.days for level in levels]
    if days != sorted(set(days)):
        raise ConfigError(source, "contact_levels", f"days must strictly increase, got {days}")
    names = [level.level for level in levels]
    if len(set(names)) != len(names):
        raise ConfigError(source, "contact_levels", "level names must be unique")

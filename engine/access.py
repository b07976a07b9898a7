"""Who may do what: actors, their roles and the permissions the roles grant (pure, no I/O).

Every command and query runs as an :class:`Actor`. Restricted cases (staff conduct, or opened
with ``restricted``) are visible only to actors with the ``see-restricted`` permission and to the
case's named manager; to anyone else they do not exist (``CaseNotFoundError``, the same message
as a missing case), so a refusal never confirms that a restricted case is there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from engine.errors import PermissionDeniedError
from engine.model import Case

READ = "read"
WRITE = "write"
SEE_RESTRICTED = "see-restricted"
OVERRIDE = "override"  # a "good reason" extension beyond the Code's cap
EXPORT = "export"  # subject access requests
RETENTION = "retention"  # anonymising closed cases after the retention period

PERMISSIONS = (READ, WRITE, SEE_RESTRICTED, OVERRIDE, EXPORT, RETENTION)

ROLES: Mapping[str, frozenset[str]] = {
    # Going beyond the Code's extension cap takes a complaints manager's good reason (domain
    # decision 4): ``override`` is the manager's alone.
    "coordinator": frozenset({READ, WRITE}),
    "team-member": frozenset({READ, WRITE}),
    "complaints-team": frozenset({READ, WRITE, SEE_RESTRICTED}),
    "complaints-manager": frozenset({READ, WRITE, OVERRIDE, SEE_RESTRICTED, EXPORT, RETENTION}),
    "auditor": frozenset({READ}),
    "service": frozenset({READ, WRITE}),
    "data-protection": frozenset({READ, SEE_RESTRICTED, EXPORT, RETENTION}),
}
DEFAULT_ROLES = frozenset({"coordinator"})


@dataclass(frozen=True, slots=True)
class Actor:
    """A person or embedding system acting on cases; ``name`` is recorded on every event."""

    name: str
    roles: frozenset[str] = DEFAULT_ROLES
    manages: frozenset[str] = field(default_factory=frozenset)

    @property
    def permissions(self) -> frozenset[str]:
        granted: set[str] = set()
        for role in self.roles:
            granted |= ROLES.get(role, frozenset())
        return frozenset(granted)

    def may(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def role_label(self) -> str:
        """The roles as one short string for security logs (no personal data)."""
        return ",".join(sorted(self.roles)) or "none"


ActorResolver = Callable[[str], Actor]


def unknown_role(roles: Iterable[str]) -> str | None:
    """The first role that is not defined, if any (for validating configuration)."""
    return next((r for r in roles if r not in ROLES), None)


def resolver(
    table: Mapping[str, Iterable[str]], default_roles: Iterable[str] = DEFAULT_ROLES
) -> ActorResolver:
    """Names to actors from configuration; a name not listed gets ``default_roles``."""
    roles = {name: frozenset(r) for name, r in table.items()}
    default = frozenset(default_roles)

    def resolve(name: str) -> Actor:
        return Actor(name=name, roles=roles.get(name, default))

    return resolve


SYSTEM_ACTOR = Actor("system", frozenset({"service"}))
"""Who a query without an actor runs as: an embedding service, which may not see restricted
cases. Give ``ComplaintsService`` another ``system_actor`` to change that deliberately."""


def everyone_coordinator(name: str) -> Actor:
    return Actor(name=name)


def manager_of(case: Case) -> str | None:
    manager = case.records.get("manager")
    return manager if isinstance(manager, str) and manager else None


def can_see(actor: Actor, case: Case) -> bool:
    """May ``actor`` know that ``case`` exists?"""
    if not actor.may(READ):
        return False
    if not case.restricted:
        return True
    return actor.may(SEE_RESTRICTED) or manager_of(case) == actor.name


def require(actor: Actor, permission: str, command: str = "") -> None:
    """Raise ``PermissionDeniedError`` unless ``actor`` has ``permission``."""
    if not actor.may(permission):
        raise PermissionDeniedError(actor.name, permission, command)

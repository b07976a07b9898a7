"""Errors the engine raises; each carries the fields a caller needs and a one-line message."""

from __future__ import annotations

from collections.abc import Sequence

from sla.errors import ComplaintsError


class CaseNotFoundError(ComplaintsError, LookupError):
    """No case with that reference (or none the actor may see)."""

    def __init__(self, reference: str) -> None:
        self.reference = reference
        super().__init__(f"no case {reference!r}")


class InvalidTransitionError(ComplaintsError, ValueError):
    """The command is not allowed in the case's current state."""

    def __init__(self, reference: str, state: str, command: str, allowed: Sequence[str]) -> None:
        self.reference = reference
        self.state = state
        self.command = command
        self.allowed = tuple(allowed)
        allowed_text = ", ".join(self.allowed) if self.allowed else "none (the case is finished)"
        super().__init__(f"{reference} is {state}: cannot {command}; allowed: {allowed_text}")


class RefusedError(ComplaintsError, ValueError):
    """A guard refused the command (the Code forbids it, or something required is missing).

    The message names the case, its state (when known), why, and the commands the state
    accepts, so the one line says what can be done instead."""

    def __init__(
        self,
        reference: str,
        command: str,
        reason: str,
        *,
        state: str | None = None,
        allowed: Sequence[str] = (),
    ) -> None:
        self.reference = reference
        self.command = command
        self.reason = reason
        self.state = state
        self.allowed = tuple(allowed)
        where = f"{reference} is {state}" if state else reference
        options = f"; allowed: {', '.join(self.allowed)}" if self.allowed else ""
        super().__init__(f"{where}: cannot {command}: {reason}{options}")


class ValidationError(ComplaintsError, ValueError):
    """A command's input is malformed (unknown category, bad amount, empty text...)."""


class WorkItemNotFoundError(ComplaintsError, LookupError):
    """No work item with that number (or none the actor may see: ``hidden``, for the security
    log only; the message is the same either way)."""

    def __init__(self, item_id: object, *, hidden: bool = False) -> None:
        self.item_id = item_id
        self.hidden = hidden
        super().__init__(f"no work item {item_id!r}")


class LeaseLostError(ComplaintsError):
    """The actor does not hold the item's lease (it expired, was released or is done)."""

    def __init__(self, item_id: int, actor: str, status: str, holder: str | None) -> None:
        self.item_id = item_id
        held = f" (held by {holder})" if holder and holder != actor else ""
        super().__init__(
            f"work item {item_id} is not claimed by {actor}: it is {status}{held}; "
            "claim the next item with `complaints queue claim`"
        )


class ConcurrencyError(ComplaintsError):
    """Someone else changed the case since it was read; nothing was written."""

    def __init__(self, reference: str, expected_version: int) -> None:
        self.reference = reference
        self.expected_version = expected_version
        super().__init__(
            f"{reference} was changed by someone else (expected version {expected_version}); "
            "reload and try again"
        )


class PermissionDeniedError(ComplaintsError, PermissionError):
    """The actor's roles do not allow the command (names the permission, never personal data)."""

    def __init__(self, actor: str, permission: str, command: str = "") -> None:
        self.actor = actor
        self.permission = permission
        self.command = command
        needed = f" (needed for {command})" if command else ""
        super().__init__(
            f"permission denied: {actor} does not have the {permission!r} permission{needed}"
        )

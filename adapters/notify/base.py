"""The one interface every way of reaching a resident implements, and its one error.

A ``NotificationError`` message is written to the job's ``last_error`` and to the logs, so it
says what failed (the server refused, the gateway answered 503) and never to whom or what.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sla.errors import ComplaintsError


class NotificationError(ComplaintsError):
    """Sending failed; the message is safe to log (no address, no content)."""


@dataclass(frozen=True, slots=True)
class Message:
    """One rendered message. ``to`` is an e-mail address, a phone number, or for a letter the
    resident and property references the post room looks the address up by."""

    channel: str
    kind: str
    reference: str
    to: str
    subject: str
    body: str


class Notifier(Protocol):
    """Delivers a message or raises ``NotificationError`` (the worker retries it later)."""

    def send(self, message: Message) -> None: ...

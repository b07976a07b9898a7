"""Events: the immutable audit trail. One per command, written with the change it describes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to a case, in the past tense (``acknowledged``, ``closed``).

    ``occurred_at`` is when it happened (a back-dated letter's date); ``recorded_at`` when the
    engine wrote it. ``before`` and ``after`` hold the fields the command changed.
    """

    kind: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    data: dict[str, Any] = field(default_factory=dict)
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    seq: int = 0

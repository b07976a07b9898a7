"""Options and input parsing shared by the case commands.

Everything a person types is read here into typed values, and every mistake becomes a one-line
``ValidationError`` or ``InvalidDateError`` (printed as ``error: ...`` with exit code 2 by the
group), never a traceback.
"""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import click

from engine.errors import ValidationError
from sla.timezone import parse_date, parse_instant

F = TypeVar("F", bound=Callable[..., Any])

WHEN_HELP = (
    "When it happened: YYYY-MM-DD or YYYY-MM-DDTHH:MM (London time unless an offset is given); "
    "default now."
)
_POUNDS = re.compile(r"£?(\d{1,7})(?:\.(\d{1,2}))?")


def change_options(func: F) -> F:
    """``--at`` and ``--as``: every command that changes a case is back-datable and attributed."""
    func = click.option(
        "--as",
        "actor",
        metavar="NAME",
        default=None,
        help="Who did it (default: $COMPLAINTS_ACTOR, else your login name).",
    )(func)
    return click.option("--at", "at", metavar="WHEN", default=None, help=WHEN_HELP)(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


def resolve_actor(name: str | None) -> str:
    """``--as``, else ``$COMPLAINTS_ACTOR``, else the login name: every event has an actor."""
    if name is not None and not name.strip():
        raise ValidationError("--as needs a name (who is acting is recorded on every event)")
    chosen = name or os.environ.get("COMPLAINTS_ACTOR")
    if chosen:
        return chosen
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in a bare container
        raise ValidationError("who is acting? give --as NAME or set COMPLAINTS_ACTOR") from None


def parse_when(text: str | None) -> datetime | None:
    """``--at``: ``None`` means now (the service reads its clock)."""
    return None if text is None else parse_instant(text)


def parse_pounds(text: str | None) -> int:
    """``--compensation 150.00`` in pounds (an optional ``£``, commas allowed) → pence.

    Negative, fractional-penny and non-numeric amounts are refused rather than rounded.
    """
    if text is None:
        return 0
    raw = text.strip().replace(",", "")
    if raw.startswith("-") or raw.startswith("£-"):
        raise ValidationError(f"compensation must be zero or more, got {text!r}")
    match = _POUNDS.fullmatch(raw)
    if match is None:
        raise ValidationError(
            f"compensation must be an amount in pounds such as 150.00, got {text!r}"
        )
    pounds, pence = match.group(1), (match.group(2) or "0").ljust(2, "0")
    return int(Decimal(pounds) * 100 + Decimal(pence))


def parse_action(text: str) -> dict[str, Any]:
    """``--action "description|owner|YYYY-MM-DD"`` → an action spec for the response.

    The description may itself contain ``|``: only the last two fields are split off.
    """
    parts = text.rsplit("|", 2)
    if len(parts) != 3:
        raise ValidationError(f"--action must be 'description|owner|YYYY-MM-DD', got {text!r}")
    description, owner, due = (part.strip() for part in parts)
    if not description or not owner:
        raise ValidationError(f"--action needs a description and an owner, got {text!r}")
    return {"description": description, "owner": owner, "due_on": parse_date(due)}

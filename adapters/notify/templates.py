"""Message templates: plain-text files in ``config/templates``, filled in with ``string.Template``.

Landlords change the wording without touching code, and ``string.Template`` can do nothing but
substitute ``$names``, so a template can never run code or reach into the case. A template's first
line may be ``Subject: ...``; the rest is the body. ``NAME.txt`` is for e-mail and letters,
``NAME.sms.txt`` for texts. Empty optional blocks leave no gaps: runs of blank lines collapse.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from string import Template

from adapters.notify.base import NotificationError

_BLANK_RUNS = re.compile(r"\n{3,}")


def long_date(day: date) -> str:
    """A date as a letter writes it: ``Tuesday 30 December 2025`` (no leading zero)."""
    return f"{day:%A} {day.day} {day:%B %Y}"


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    body: str


@dataclass(frozen=True)
class Templates:
    """The templates in one folder, read on every use so edits apply without a restart."""

    folder: Path

    def render(self, name: str, values: Mapping[str, str]) -> Rendered:
        path = self.folder / f"{name}.txt"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            raise NotificationError(f"no template {path.name} in the templates folder") from None
        subject = ""
        first, _, rest = text.partition("\n")
        if first.startswith("Subject:"):
            subject, text = first.removeprefix("Subject:").strip(), rest
        try:
            subject = Template(subject).substitute(values)
            body = Template(text).substitute(values)
        except KeyError as exc:
            raise NotificationError(
                f"template {path.name} uses an unknown field ${exc.args[0]}"
            ) from None
        except ValueError:
            raise NotificationError(f"template {path.name} has a stray $ (write $$)") from None
        body = "\n".join(line.rstrip() for line in body.splitlines())
        return Rendered(subject=subject, body=_BLANK_RUNS.sub("\n\n", body).strip() + "\n")

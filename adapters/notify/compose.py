"""From a planned message (engine.notifications) and its case to the text the resident reads.

The job carries only the facts of its moment (dates, stage, decision); the address, the name
and the response's reasons are read from the case here, at send time, so they never sit in the
jobs table or its errors. Sentences that depend on the case (the decision, what we will put
right) are built here; everything else is in the templates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from adapters.notify.base import Message, NotificationError
from adapters.notify.templates import Templates, long_date
from engine.model import Case
from engine.notifications import (
    EMAIL,
    LETTER,
    OMBUDSMAN,
    RESPONSE,
    SMS,
    UPDATE,
)

DECISIONS = {
    "upheld": (
        "We have upheld your complaint. We agree that we got things wrong, and we're sorry."
    ),
    "partially-upheld": (
        "We have partly upheld your complaint. We agree that we got some things wrong, "
        "and we're sorry for those."
    ),
    "not-upheld": (
        "We have not upheld your complaint. We know this may be disappointing, so we have set "
        "out how we reached this decision."
    ),
}
REPLY = {EMAIL: "reply to this email", SMS: "reply to this text", LETTER: "write back to us"}


@dataclass(frozen=True)
class Landlord:
    """Who the messages come from and the number residents can call."""

    name: str = "The Complaints Team"
    phone: str = ""

    @property
    def call_us(self) -> str:
        return f"call us on {self.phone}" if self.phone else "give us a call"


def template_name(payload: Mapping[str, Any]) -> str:
    """Which template a planned message uses (before the channel's ``.sms`` suffix)."""
    kind = str(payload["message"])
    if kind == UPDATE and not payload.get("respond_by"):
        return "update-undated"
    if kind == RESPONSE:
        return f"response-stage{int(payload.get('stage', 1))}"
    return kind


def compose(
    case: Case, payload: Mapping[str, Any], templates: Templates, landlord: Landlord
) -> Message:
    """The message for ``payload`` (a ``notify`` job's), addressed from the case's details."""
    channel = str(payload["channel"])
    name = template_name(payload) + (".sms" if channel == SMS else "")
    rendered = templates.render(name, _values(case, payload, landlord, channel))
    return Message(
        channel=channel,
        kind=str(payload["message"]),
        reference=case.reference,
        to=_address(case, channel),
        subject=rendered.subject,
        body=rendered.body,
    )


def _address(case: Case, channel: str) -> str:
    details = case.records.get("contact_details") or {}
    if channel == EMAIL:
        if not details.get("email"):
            raise NotificationError("the case has no e-mail address")
        return str(details["email"])
    if channel == SMS:
        if not details.get("phone"):
            raise NotificationError("the case has no phone number")
        return str(details["phone"])
    if channel == LETTER:
        if not case.resident_ref and not case.property_ref:
            # Nobody could post it: fail the job, so it shows as dead and is seen to.
            raise NotificationError("the case has no resident or property reference to post to")
        return f"resident {case.resident_ref or '-'}, property {case.property_ref or '-'}"
    raise NotificationError(f"unknown channel {channel!r}")


def _day(value: Any) -> str:
    return long_date(date.fromisoformat(str(value))) if value else ""


def _values(
    case: Case, payload: Mapping[str, Any], landlord: Landlord, channel: str
) -> dict[str, str]:
    details = case.records.get("contact_details") or {}
    name = details.get("name")
    stage = int(payload.get("stage") or 1)
    values = {
        "reference": case.reference,
        "greeting": f"Dear {name}," if name else "Hello,",
        "landlord": landlord.name,
        "call_us": landlord.call_us,
        "reply": REPLY.get(channel, REPLY[LETTER]),
        "stage": str(stage),
        "respond_by": _day(payload.get("respond_by")),
        "new_date": _day(payload.get("new_date")),
        "previous_date": _day(payload.get("previous_date")),
        "ombudsman_name": OMBUDSMAN.name,
        "ombudsman_phone": OMBUDSMAN.phone,
        "ombudsman_website": OMBUDSMAN.website,
        "decision": DECISIONS.get(str(payload.get("decision")), ""),
        "reasons": "",
        "remedy": "",
    }
    if payload["message"] == RESPONSE:
        response = case.records.get("responses", {}).get(str(stage), {})
        values["reasons"] = _reasons(response)
        values["remedy"] = _remedy(response)
    return values


def _reasons(response: Mapping[str, Any]) -> str:
    reasons = str(response.get("reasons") or "").strip()
    return f"Why we reached this decision:\n{reasons}" if reasons else ""


def _remedy(response: Mapping[str, Any]) -> str:
    lines = []
    actions = response.get("actions") or []
    if actions:
        lines.append("What we will do to put things right:")
        for action in actions:
            lines.append(f"- {action['description']}, by {_day(action['due_on'])}")
    pence = int(response.get("compensation_pence") or 0)
    if pence:
        if lines:
            lines.append("")
        lines.append(
            f"We are also offering you £{pence // 100:,}.{pence % 100:02d} in compensation."
        )
    return "\n".join(lines)

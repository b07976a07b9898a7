"""What the resident is told, and when: a pure planner from a case's new events to outbox jobs.

The residents' review said our letters listed consequences instead of inviting contact, and that
people heard nothing for weeks. So the resident hears from us at the moments that matter to them:

* ``acknowledgement`` (Stage 1) and ``stage2_acknowledgement``, each with the date the response
  is due;
* ``update`` when the contact countdown reaches its first level and nobody has been in touch;
* ``extension`` with the new date and how to reach the Housing Ombudsman;
* ``response`` at Stage 1 or 2, with the decision;
* ``survey`` after closure: one question, a score from 1 to 5, recorded against the case.

Each kind can be switched off in settings, for everyone or per policy, and the channel follows
the resident's preferred contact method. A step recorded long after it happened (a back-dated
entry, an import of old cases) sends nothing: the resident heard at the time, and a letter about
a weeks-old acknowledgement would only confuse. The planner only decides *that* a message goes and
carries the facts of that moment (an extension's new date is that event's date even if the case
is extended again before the worker runs). No personal data goes in a job: the worker reads the
address from the case when it sends, so the jobs table and its errors never hold it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from engine.errors import ValidationError
from engine.events import Event
from engine.model import Case
from engine.ports import JobSpec, NotificationPlanner
from engine.validation import optional_text
from sla.policy import Policy

ACKNOWLEDGEMENT = "acknowledgement"
STAGE2_ACKNOWLEDGEMENT = "stage2_acknowledgement"
UPDATE = "update"
EXTENSION = "extension"
RESPONSE = "response"
SURVEY = "survey"
MESSAGE_KINDS = (ACKNOWLEDGEMENT, STAGE2_ACKNOWLEDGEMENT, UPDATE, EXTENSION, RESPONSE, SURVEY)

JOB_KIND = "notify"
"""The background job kind that sends one message."""

EMAIL, SMS, LETTER = "email", "sms", "letter"
CHANNELS = (EMAIL, SMS, LETTER)
NO_MESSAGES = "none"
DEFAULT_ROUTES: Mapping[str, str] = {
    "email": EMAIL,
    "sms": SMS,
    "phone": SMS,  # a text reaches a phone; nobody is cold-called by a machine
    "letter": LETTER,
    "in-person": LETTER,  # a letter to print and hand over or post
}


@dataclass(frozen=True, slots=True)
class Ombudsman:
    name: str
    phone: str
    website: str


OMBUDSMAN = Ombudsman("Housing Ombudsman", "0300 111 3000", "housing-ombudsman.org.uk")
"""Told to the resident with every extension and final response (Code 5.4, 6.17)."""

RESPONSE_CLOCKS = {"respond": 1, "stage2_respond": 2}
"""The clocks whose due date is the response date the resident was promised, by stage."""


@dataclass(frozen=True, slots=True)
class NotificationRules:
    """Which kinds go out (per policy id or family, else ``enabled``; and, where ``by_method``
    names the resident's preferred contact method, only those of its kinds), the channel for
    each preferred contact method (``"none"`` sends nothing to residents who prefer that
    method), and how late a step may be recorded and still send its message."""

    enabled: frozenset[str] = frozenset(MESSAGE_KINDS)
    by_policy: Mapping[str, frozenset[str]] = field(default_factory=dict)
    by_method: Mapping[str, frozenset[str]] = field(default_factory=dict)
    routes: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_ROUTES))
    max_age: timedelta = timedelta(days=7)

    def enabled_for(self, policy: Policy) -> frozenset[str]:
        for key in (policy.id, policy.family):
            if key in self.by_policy:
                return self.by_policy[key]
        return self.enabled


def channel_for(case: Case, routes: Mapping[str, str] = DEFAULT_ROUTES) -> str | None:
    """How to reach the resident: their preferred method when we hold the address for it,
    otherwise whichever address we hold, otherwise a letter. ``None`` means no messages."""
    details = case.records.get("contact_details") or {}
    has = {EMAIL: bool(details.get("email")), SMS: bool(details.get("phone")), LETTER: True}
    if case.preferred_contact is None:
        return next(c for c in CHANNELS if has[c])
    channel = routes.get(case.preferred_contact, LETTER)
    if channel == NO_MESSAGES:
        return None
    if has.get(channel):
        return channel
    return next(c for c in CHANNELS if has[c])


def plan_notifications(
    case: Case,
    events: Sequence[Event],
    policy: Policy,
    rules: NotificationRules | None = None,
) -> list[JobSpec]:
    """The messages ``events`` (just written to ``case``) call for, as ``notify`` jobs."""
    rules = rules or NotificationRules()
    enabled = rules.enabled_for(policy)
    method = case.preferred_contact
    if method is not None and method in rules.by_method:
        enabled = enabled & rules.by_method[method]
    channel = channel_for(case, rules.routes)
    if channel is None or not enabled:
        return []
    specs = []
    for event in events:
        if event.recorded_at - event.occurred_at > rules.max_age:
            continue
        message = _message_for(case, event, policy)
        if message is None or message["message"] not in enabled:
            continue
        payload = {**message, "channel": channel, "reference": case.reference}
        specs.append(JobSpec(kind=JOB_KIND, payload=payload, reference=case.reference))
    return specs


def make_planner(rules: NotificationRules) -> NotificationPlanner:
    """A ``NotificationPlanner`` (engine.ports) bound to the deployment's rules."""

    def planner(case: Case, events: Sequence[Event], policy: Policy) -> Sequence[JobSpec]:
        return plan_notifications(case, events, policy, rules)

    return planner


# -- one event ---------------------------------------------------------------------------------


def _message_for(case: Case, event: Event, policy: Policy) -> dict[str, Any] | None:
    handler = _BY_EVENT.get(event.kind)
    return handler(case, event, policy) if handler is not None else None


def _acknowledged(stage: int, clock: str) -> Callable[[Case, Event, Policy], dict[str, Any] | None]:
    kind = ACKNOWLEDGEMENT if stage == 1 else STAGE2_ACKNOWLEDGEMENT

    def message(case: Case, event: Event, policy: Policy) -> dict[str, Any] | None:
        due = case.due_on(clock)
        if due is None:  # a policy without a response clock promises no date
            return None
        return {"message": kind, "stage": stage, "respond_by": due.isoformat()}

    return message


def _extended(case: Case, event: Event, policy: Policy) -> dict[str, Any] | None:
    stage = RESPONSE_CLOCKS.get(str(event.data.get("clock")))
    if stage is None:  # an acknowledgement clock: the resident was promised no date for it
        return None
    return {
        "message": EXTENSION,
        "stage": stage,
        "new_date": event.data["new_due_on"],
        "previous_date": event.data["previous_due_on"],
    }


def _responded(case: Case, event: Event, policy: Policy) -> dict[str, Any] | None:
    return {
        "message": RESPONSE,
        "stage": int(event.data.get("stage", 1)),
        "decision": event.data.get("decision"),
    }


def _closed(case: Case, event: Event, policy: Policy) -> dict[str, Any] | None:
    if "survey" in case.records:
        return None
    return {"message": SURVEY}


def _flag_raised(case: Case, event: Event, policy: Policy) -> dict[str, Any] | None:
    """The first countdown level, if it is still raised once the whole command is applied:
    a contact in the same command (or a back-dated one) means someone was in touch."""
    if not policy.contact_levels or not case.is_open:
        return None
    first = policy.contact_levels[0].level
    name, anchor = event.data.get("flag"), event.data.get("anchor_on")
    if name != first:
        return None
    still_raised = any(
        f.name == name and f.anchor_on.isoformat() == anchor for f in case.raised_flags
    )
    if not still_raised:
        return None
    message: dict[str, Any] = {"message": UPDATE, "flag": first, "anchor_on": anchor}
    running = [
        (stage, case.clocks[clock])
        for clock, stage in RESPONSE_CLOCKS.items()
        if clock in case.clocks and case.clocks[clock].running
    ]
    if running:
        stage, clock_state = running[-1]
        message["stage"] = stage
        message["respond_by"] = clock_state.due_on.isoformat()
    return message


_BY_EVENT: dict[str, Callable[[Case, Event, Policy], dict[str, Any] | None]] = {
    "acknowledged": _acknowledged(1, "respond"),
    "stage2_acknowledged": _acknowledged(2, "stage2_respond"),
    "extended": _extended,
    "responded": _responded,
    "stage2_responded": _responded,
    "closed": _closed,
    "flag_raised": _flag_raised,
}


# -- contact details ---------------------------------------------------------------------------

_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9][0-9 ()-]*")


def contact_details(
    *, email: Any = None, phone: Any = None, name: Any = None
) -> dict[str, str] | None:
    """The resident's addresses, checked (``None`` when none was given).

    Error messages never repeat the value: it is personal data, and refusals are logged.
    """
    details: dict[str, str] = {}
    checked_email = optional_text(email, "email", 254)
    if checked_email is not None:
        if not _EMAIL.fullmatch(checked_email):
            raise ValidationError("email is not an e-mail address (name@example.org)")
        details["email"] = checked_email
    checked_phone = optional_text(phone, "phone", 32)
    if checked_phone is not None:
        digits = sum(ch.isdigit() for ch in checked_phone)
        if not _PHONE.fullmatch(checked_phone) or not 7 <= digits <= 15:
            raise ValidationError("phone is not a phone number (digits, spaces and a leading +)")
        details["phone"] = checked_phone
    checked_name = optional_text(name, "resident name", 100)
    if checked_name is not None:
        details["name"] = checked_name
    return details or None

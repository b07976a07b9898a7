"""What residents are told: the pure planner, the templates and the settings that shape them.

No database and no network: cases are walked through the complaint workflow in memory (as the
service does), flags are raised with the same ``sync_flags`` the sweep uses, and messages are
rendered from the repository's own ``config/templates``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from workflow_support import ACK, CONTACT, HOC_2024, NOT_UPHELD, STAGE2_ACK, UPHELD, Journey, london

from adapters.notify.base import NotificationError
from adapters.notify.compose import Landlord, compose, template_name
from adapters.notify.config import load_notify_settings
from adapters.notify.file import FileNotifier, render_block
from adapters.notify.templates import Templates, long_date
from engine.errors import ValidationError
from engine.events import Event
from engine.flagging import sync_flags
from engine.notifications import (
    ACKNOWLEDGEMENT,
    CHANNELS,
    EXTENSION,
    MESSAGE_KINDS,
    RESPONSE,
    SMS,
    STAGE2_ACKNOWLEDGEMENT,
    SURVEY,
    UPDATE,
    NotificationRules,
    channel_for,
    contact_details,
    plan_notifications,
)
from engine.ports import JobSpec
from sla.errors import ConfigError
from sla.timezone import london_date

TEMPLATES = Templates(Path(__file__).parents[2] / "config" / "templates")
LANDLORD = Landlord(name="Westward Homes", phone="01632 960000")
EMAIL = "dana.resident@example.org"
PHONE = "07700 900123"
NAME = "Ms Dana Okafor"
SUMMARY = "The bathroom ceiling has leaked onto the light fitting since March."


def journey(**fields: Any) -> Journey:
    details = fields.pop("details", {"email": EMAIL, "phone": PHONE, "name": NAME})
    fields.setdefault("property_ref", "P24680")  # where a letter goes
    trip = Journey.open(preferred_contact=fields.pop("preferred", "email"), **fields)
    trip.case.records = {"summary": SUMMARY, "contact_details": details}
    return trip


def planned(trip: Journey, event: Event, rules: NotificationRules | None = None) -> list[JobSpec]:
    return plan_notifications(trip.case, [event], trip.policy, rules)


def only(specs: list[JobSpec]) -> dict[str, Any]:
    assert len(specs) == 1, specs
    assert specs[0].kind == "notify"
    return dict(specs[0].payload)


# -- which events send what ----------------------------------------------------------------------


def test_the_acknowledgement_carries_the_response_date_and_nothing_personal() -> None:
    trip = journey()
    acknowledged = trip.run("acknowledge", ACK)
    payload = only(planned(trip, acknowledged))
    assert payload == {
        "message": ACKNOWLEDGEMENT,
        "stage": 1,
        "respond_by": trip.due("respond").isoformat(),
        "channel": "email",
        "reference": trip.case.reference,
    }
    assert planned(trip, trip.opened) == []  # receipt alone promises no date yet


def test_the_stage2_acknowledgement_carries_the_stage2_response_date() -> None:
    trip = journey().to("escalation_requested")
    acknowledged = trip.run("acknowledge", STAGE2_ACK, actor="carol")
    payload = only(planned(trip, acknowledged))
    assert payload["message"] == STAGE2_ACKNOWLEDGEMENT
    assert payload["respond_by"] == trip.due("stage2_respond").isoformat()


def test_an_extension_of_a_response_carries_the_new_and_old_dates() -> None:
    trip = journey().to("stage1")
    before = trip.due("respond")
    extended = trip.run("extend", {"clock": "respond", "days": 5, "reason": "Survey needed."})
    payload = only(planned(trip, extended))
    assert payload["message"] == EXTENSION
    assert payload["stage"] == 1
    assert payload["previous_date"] == before.isoformat()
    assert payload["new_date"] == trip.due("respond").isoformat() != before.isoformat()


def test_extending_an_acknowledgement_clock_promises_the_resident_nothing() -> None:
    trip = journey()
    payload = {
        "clock": "acknowledge",
        "days": 2,
        "reason": "Staff off.",
        "good_reason": "Staff training day.",
    }
    assert planned(trip, trip.run("extend", payload)) == []


@pytest.mark.parametrize(("stage", "decision"), [(1, "upheld"), (2, "not-upheld")])
def test_a_response_says_which_stage_and_the_decision(stage: int, decision: str) -> None:
    trip = journey().to("stage1" if stage == 1 else "stage2")
    body = UPHELD if decision == "upheld" else NOT_UPHELD
    responded = trip.run("respond", body, actor="alice" if stage == 1 else "carol")
    payload = only(planned(trip, responded))
    assert (payload["message"], payload["stage"], payload["decision"]) == (
        RESPONSE,
        stage,
        decision,
    )


def test_closing_sends_the_survey_once() -> None:
    trip = journey().to("stage1_responded")
    closed = trip.run("close")
    assert only(planned(trip, closed))["message"] == SURVEY
    trip.case.records["survey"] = {"score": 4}
    assert planned(trip, closed) == []


def _contact_due(trip: Journey, days_later: int = 10) -> list[Event]:
    """Bring the flags up to ``days_later`` calendar days after the last step; the new events."""
    already = len(trip.case.pending_events)
    as_of = london_date(trip.last_at) + timedelta(days=days_later)
    now = trip.last_at + timedelta(days=days_later)
    sync_flags(trip.case, trip.policy, trip.calendar, as_of=as_of, clear_on=as_of, now=now)
    return trip.case.pending_events[already:]


def test_the_first_countdown_level_sends_an_update_with_the_response_date() -> None:
    trip = journey().to("stage1")
    raised = _contact_due(trip, days_later=6)
    assert [e.data["flag"] for e in raised if e.kind == "flag_raised"] == ["contact-due"]
    payload = only(plan_notifications(trip.case, raised, trip.policy))
    assert payload["message"] == UPDATE
    assert payload["flag"] == "contact-due"
    assert payload["respond_by"] == trip.due("respond").isoformat()


def test_an_update_before_acknowledgement_has_no_date_to_promise() -> None:
    trip = journey()
    raised = _contact_due(trip, days_later=6)
    payload = only(plan_notifications(trip.case, raised, trip.policy))
    assert "respond_by" not in payload
    assert template_name(payload) == "update-undated"


def test_later_countdown_levels_send_no_further_update() -> None:
    trip = journey().to("stage1")
    raised = _contact_due(trip, days_later=30)  # contact-due up to critical, all at once
    assert len([e for e in raised if e.kind == "flag_raised"]) >= 3
    patient = NotificationRules(max_age=timedelta(days=60))  # the crossings are weeks old
    messages = plan_notifications(trip.case, raised, HOC_2024, patient)
    assert [s.payload["message"] for s in messages] == [UPDATE]
    assert plan_notifications(trip.case, raised, HOC_2024) == []  # too old to be news


def test_no_update_when_the_coordinator_was_in_touch_in_the_same_command() -> None:
    trip = journey().to("stage1")
    raised = _contact_due(trip, days_later=6)
    trip.run("contact", CONTACT, at=trip.last_at + timedelta(days=6))
    cleared = _contact_due(trip, days_later=0)
    assert any(e.kind == "flag_cleared" for e in cleared)
    assert plan_notifications(trip.case, [*raised, *cleared], trip.policy) == []


def test_a_step_recorded_long_after_it_happened_sends_nothing() -> None:
    trip = journey()
    at = trip.last_at + timedelta(days=1)
    late = trip.run("acknowledge", ACK, at=at, now=at + timedelta(days=1))
    assert planned(trip, late)  # a day late: still worth telling the resident
    stale = replace(late, recorded_at=late.occurred_at + timedelta(days=8))
    assert planned(trip, stale) == []
    patient = NotificationRules(max_age=timedelta(days=30))
    assert planned(trip, stale, patient)


# -- settings: kinds per policy, channels per preferred method -----------------------------------


def test_kinds_can_be_switched_off_for_everyone_or_per_policy() -> None:
    trip = journey()
    acknowledged = trip.run("acknowledge", ACK)
    assert planned(trip, acknowledged, NotificationRules(enabled=frozenset({SURVEY}))) == []
    by_family = NotificationRules(by_policy={"hoc": frozenset({SURVEY})})
    assert planned(trip, acknowledged, by_family) == []
    by_id = NotificationRules(
        enabled=frozenset(), by_policy={"hoc-2024": frozenset({ACKNOWLEDGEMENT})}
    )
    assert only(planned(trip, acknowledged, by_id))["message"] == ACKNOWLEDGEMENT


def test_kinds_can_be_chosen_per_preferred_contact_method() -> None:
    only_responses_by_text = NotificationRules(by_method={"sms": frozenset({"response"})})
    by_text = journey(preferred="sms", details={"phone": PHONE})
    assert planned(by_text, by_text.run("acknowledge", ACK), only_responses_by_text) == []
    by_email = journey(preferred="email", details={"email": EMAIL})
    acknowledged = by_email.run("acknowledge", ACK)
    assert only(planned(by_email, acknowledged, only_responses_by_text))["message"] == (
        ACKNOWLEDGEMENT
    )
    # on top of the policy's choice, never beyond it
    both = NotificationRules(
        by_policy={"hoc": frozenset({SURVEY})}, by_method={"email": frozenset({ACKNOWLEDGEMENT})}
    )
    assert planned(by_email, acknowledged, both) == []


@pytest.mark.parametrize(
    ("preferred", "details", "channel"),
    [
        ("email", {"email": EMAIL, "phone": PHONE}, "email"),
        ("sms", {"email": EMAIL, "phone": PHONE}, "sms"),
        ("phone", {"email": EMAIL, "phone": PHONE}, "sms"),
        ("letter", {"email": EMAIL, "phone": PHONE}, "letter"),
        ("in-person", {"email": EMAIL}, "letter"),
        ("email", {"phone": PHONE}, "sms"),  # no address for the preferred method
        ("sms", {"email": EMAIL}, "email"),
        ("email", {}, "letter"),
        (None, {"phone": PHONE}, "sms"),
        (None, {}, "letter"),
    ],
)
def test_the_channel_follows_the_preferred_method_and_the_addresses_we_hold(
    preferred: str | None, details: dict[str, str], channel: str
) -> None:
    trip = journey(preferred=preferred, details=details)
    assert channel_for(trip.case) == channel


def test_a_method_routed_to_none_gets_no_messages() -> None:
    trip = journey(preferred="phone")
    rules = NotificationRules(routes={"phone": "none"})
    assert channel_for(trip.case, rules.routes) is None
    assert planned(trip, trip.run("acknowledge", ACK), rules) == []


def test_settings_toml_shapes_the_rules() -> None:
    data = {
        "notifications": {
            "enabled": ["acknowledgement", "response"],
            "policies": {"westward-3day": ["response"]},
            "channels": {"phone": "letter"},
            "methods": {"sms": ["acknowledgement", "update"]},
            "landlord": "Westward Homes",
            "skip_older_than_days": 3,
        },
        "smtp": {"host": "127.0.0.1", "port": 2525, "sender": "complaints@example.org"},
        "sms": {"url": "http://127.0.0.1:9/send"},
        "outbox": {"file": "outbox.txt"},
        "worker": {"backoff_seconds": 10},
    }
    notify = load_notify_settings(data, "settings.toml", None)
    rules = notify.rules()
    assert rules.enabled == {"acknowledgement", "response"}
    assert rules.by_policy == {"westward-3day": {"response"}}
    assert rules.by_method == {"sms": {"acknowledgement", "update"}}
    assert rules.routes["phone"] == "letter" and rules.routes["email"] == "email"
    assert rules.max_age == timedelta(days=3)
    assert (notify.smtp_host, notify.smtp_port, notify.sms_url) == (
        "127.0.0.1",
        2525,
        "http://127.0.0.1:9/send",
    )
    assert notify.outbox_file == Path("outbox.txt") and notify.backoff_seconds == 10
    assert notify.templates_dir is None  # no config folder: nothing to write messages with


@pytest.mark.parametrize(
    "data",
    [
        {"notifications": {"enabled": ["acknowledgement", "reminder"]}},
        {"notifications": {"channels": {"pigeon": "sms"}}},
        {"notifications": {"channels": {"phone": "fax"}}},
        {"notifications": {"methods": {"pigeon": ["response"]}}},
        {"notifications": {"methods": {"sms": ["reminder"]}}},
        {"sms": {"url": "file:///etc/passwd"}},
        {"smtp": {"port": 70000}},
        {"worker": {"backoff_seconds": 0}},
    ],
)
def test_bad_notification_settings_are_refused_when_loaded(data: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        load_notify_settings(data, "settings.toml", None)


# -- contact details -----------------------------------------------------------------------------


def test_contact_details_are_checked_and_kept_together() -> None:
    assert contact_details() is None
    assert contact_details(email=f"  {EMAIL} ", phone="+44 7700 900123", name=NAME) == {
        "email": EMAIL,
        "phone": "+44 7700 900123",
        "name": NAME,
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "dana at example.org"),
        ("email", "dana@localhost"),
        ("phone", "call me"),
        ("phone", "123"),
        ("phone", "0770090012345678901"),
    ],
)
def test_a_bad_address_is_refused_without_repeating_it(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as refused:
        contact_details(**{field: value})
    assert value not in str(refused.value)


# -- templates and composed messages -------------------------------------------------------------


def test_dates_read_as_a_letter_writes_them() -> None:
    assert long_date(date(2025, 12, 30)) == "Tuesday 30 December 2025"
    assert long_date(date(2026, 3, 2)) == "Monday 2 March 2026"


PAYLOADS = [
    {"message": ACKNOWLEDGEMENT, "stage": 1, "respond_by": "2025-12-30"},
    {"message": STAGE2_ACKNOWLEDGEMENT, "stage": 2, "respond_by": "2025-12-30"},
    {"message": UPDATE, "respond_by": "2025-12-30", "flag": "contact-due", "anchor_on": "x"},
    {"message": UPDATE, "flag": "contact-due", "anchor_on": "x"},
    {"message": EXTENSION, "stage": 1, "new_date": "2025-12-30", "previous_date": "2025-12-16"},
    {"message": RESPONSE, "stage": 1, "decision": "partially-upheld"},
    {"message": RESPONSE, "stage": 2, "decision": "not-upheld"},
    {"message": SURVEY},
]


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: template_name(p))
def test_every_message_renders_warmly_and_invites_contact(
    payload: dict[str, Any], channel: str
) -> None:
    trip = journey()
    message = compose(trip.case, {**payload, "channel": channel}, TEMPLATES, LANDLORD)
    text = f"{message.subject}\n{message.body}"
    assert "$" not in text and "\n\n\n" not in text
    assert message.reference in text
    if payload["message"] != SURVEY:
        assert "01632 960000" in message.body  # always an invitation to call
    if "respond_by" in payload or "new_date" in payload:
        assert "Tuesday 30 December 2025" in message.body
    if payload["message"] == EXTENSION or (payload.get("stage") == 2 and "decision" in payload):
        assert "0300 111 3000" in message.body  # the Housing Ombudsman's number
    if channel == SMS:
        assert message.subject == "" and len(message.body) <= 320
    else:
        assert message.subject and message.body.startswith(f"Dear {NAME},")
    assert SUMMARY not in text


def test_every_kind_and_variant_has_an_email_and_a_text_template() -> None:
    names = {template_name({"message": k, "stage": s}) for k in MESSAGE_KINDS for s in (1, 2)}
    names.add("update-undated")
    for name in names:
        for suffix in ("", ".sms"):
            assert (TEMPLATES.folder / f"{name}{suffix}.txt").is_file(), name


def test_no_template_threatens_the_resident() -> None:
    """The residents' review: letters listed consequences instead of inviting contact."""
    forbidden = re.compile(r"\b(failure to|must|will be closed|legal action|consequences)\b", re.I)
    for path in TEMPLATES.folder.glob("*.txt"):
        if path.name != "README.txt":
            assert not forbidden.search(path.read_text(encoding="utf-8")), path.name


def test_a_response_lists_the_reasons_and_what_we_will_put_right() -> None:
    trip = journey().to("stage1")
    actions = [{"description": "Replace the tap", "owner": "repairs", "due_on": date(2026, 4, 7)}]
    trip.run("respond", {**UPHELD, "actions": actions})
    payload = {"message": RESPONSE, "stage": 1, "decision": "upheld", "channel": "email"}
    body = compose(trip.case, payload, TEMPLATES, LANDLORD).body
    assert "We have upheld your complaint" in body
    assert UPHELD["reasons"] in body
    assert "- Replace the tap, by Tuesday 7 April 2026" in body
    assert "£50.00 in compensation" in body


def test_a_letter_is_addressed_by_references_and_a_missing_address_is_a_safe_error() -> None:
    trip = journey(details={}, resident_ref="R123456", property_ref="P98765")
    payload = {"message": SURVEY, "channel": "letter"}
    letter = compose(trip.case, payload, TEMPLATES, LANDLORD)
    assert letter.to == "resident R123456, property P98765"
    assert letter.body.startswith("Hello,")
    with pytest.raises(NotificationError, match="no e-mail address"):
        compose(trip.case, {**payload, "channel": "email"}, TEMPLATES, LANDLORD)
    nowhere = journey(details={}, property_ref=None)
    with pytest.raises(NotificationError, match="no resident or property reference"):
        compose(nowhere.case, payload, TEMPLATES, LANDLORD)


def test_a_broken_template_is_a_notification_error_naming_the_field(tmp_path: Path) -> None:
    (tmp_path / "survey.txt").write_text("Subject: Hi $reference\n\nScore: $score_link\n")
    trip = journey()
    with pytest.raises(NotificationError, match=r"survey\.txt uses an unknown field \$score_link"):
        compose(trip.case, {"message": SURVEY, "channel": "email"}, Templates(tmp_path), LANDLORD)
    with pytest.raises(NotificationError, match="no template"):
        compose(trip.case, {"message": SURVEY, "channel": "sms"}, Templates(tmp_path), LANDLORD)


def test_the_file_sink_appends_one_block_per_message(tmp_path: Path) -> None:
    trip = journey()
    outbox = FileNotifier(tmp_path / "outbox.txt")
    first = compose(trip.case, {"message": SURVEY, "channel": "letter"}, TEMPLATES, LANDLORD)
    second = compose(trip.case, {"message": SURVEY, "channel": "sms"}, TEMPLATES, LANDLORD)
    outbox.send(first)
    outbox.send(second)
    written = (tmp_path / "outbox.txt").read_text(encoding="utf-8")
    assert written == render_block(first) + render_block(second)
    assert written.startswith(f"===== letter survey {trip.case.reference}\n")


def test_the_planner_ignores_events_it_has_no_message_for() -> None:
    trip = journey()
    assigned = trip.run("assign", {"owner": "bob"}, at=london(2026, 3, 3))
    assert planned(trip, assigned) == []

"""A case's life through the CLI: deadlines, back-dating, escalation, extensions, contacts.

Expected dates are worked out by hand in the comments (the day of receipt is day 0; a deadline of
N working days is the N-th working day strictly after it), not by asking the calendar.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cli_support import ACTOR, Cli, config_with_actors

from sla.calendar import WorkingCalendar
from sla.timezone import london_date, parse_instant

UNDERSTANDING = ("--understanding", "The kitchen tap leaks", "--outcome", "A working tap")
OPEN = ("open", "--category", "repairs", "--channel", "phone", "--area", "Exeter")


def open_case(cli: Cli, received: str, *extra: str) -> str:
    return cli(*OPEN, "--received", received, "--summary", "Tap leaking for weeks", *extra).strip()


def show(cli: Cli, reference: str) -> dict[str, Any]:
    result: dict[str, Any] = cli.json("show", reference)
    return result


def kinds(cli: Cli, reference: str) -> list[str]:
    """The event kinds of a case, without the automatic flag events."""
    events = cli.json("history", reference)
    return [e["kind"] for e in events if not e["kind"].startswith("flag_")]


def test_a_complaint_goes_from_open_to_closed_with_deadlines_in_working_days(cli: Cli) -> None:
    ref = open_case(cli, "2025-12-19T10:00")
    assert ref == "CMP-2025-000001"
    # Received Friday 19 Dec 2025 (day 0). England and Wales: Mon 22 (1), Tue 23 (2), Wed 24 (3),
    # Thu 25 and Fri 26 are Christmas and Boxing Day, the weekend, Mon 29 (4), Tue 30 (5).
    case = show(cli, ref)
    assert case["deadlines"] == {
        "acknowledge_by": "2025-12-30",
        "respond_by": None,
        "stage2_acknowledge_by": None,
        "stage2_respond_by": None,
    }
    assert case["received_at"] == "2025-12-19T10:00:00+00:00"
    assert case["policy"] == "hoc-2024@1"
    assert case["state"] == "received"

    out = cli("acknowledge", ref, *UNDERSTANDING, "--at", "2025-12-30T11:00")
    # The response clock runs from the actual acknowledgement, Tue 30 Dec: Wed 31 (1), Thu 1 Jan is
    # New Year's Day, Fri 2 (2), Mon 5 .. Fri 9 (3-7), Mon 12 (8), Tue 13 (9), Wed 14 (10).
    assert out.strip() == f"{ref}: stage1; next deadline 2026-01-14 (Stage 1 response)"
    assert show(cli, ref)["deadlines"]["respond_by"] == "2026-01-14"

    cli(
        "respond",
        ref,
        "--decision",
        "upheld",
        "--reasons",
        "Two visits were missed",
        "--compensation",
        "150.00",
        "--action",
        "Replace the kitchen tap|repairs-team|2026-01-30",
        "--avoidable",
        "--at",
        "2026-01-09T15:00",
    )
    case = show(cli, ref)
    assert case["state"] == "stage1_responded"
    assert case["clocks"]["respond"]["stopped_on"] == "2026-01-09"
    assert case["clocks"]["respond"]["breached"] is False
    assert case["clocks"]["acknowledge"]["breached"] is False
    assert case["responses"][0]["compensation_pence"] == 15_000
    assert case["actions"][0]["outstanding"] is True
    assert "still outstanding" in cli.fails("close", ref)

    cli("action", "done", ref, "1", "--at", "2026-01-28T10:00")
    out = cli("close", ref, "--note", "Tap replaced", "--at", "2026-01-29T10:00")
    assert out.strip() == f"{ref}: closed"
    case = show(cli, ref)
    assert (case["state"], case["is_open"]) == ("closed", False)
    assert case["closed_at"] == "2026-01-29T10:00:00+00:00"
    assert case["allowed_commands"] == ["refer", "record_survey"]
    assert kinds(cli, ref) == ["opened", "acknowledged", "responded", "action_completed", "closed"]


def test_scotland_counts_its_own_new_year_bank_holidays(cli: Cli) -> None:
    ref = open_case(cli, "2025-12-19T10:00", "--calendar", "scotland")
    # Scotland also closes on 25 and 26 Dec, so the acknowledgement is due Tue 30 Dec as in England:
    # Mon 22 (1), Tue 23 (2), Wed 24 (3), Mon 29 (4), Tue 30 (5).
    assert show(cli, ref)["deadlines"]["acknowledge_by"] == "2025-12-30"
    cli("acknowledge", ref, *UNDERSTANDING, "--at", "2025-12-30T11:00")
    # But 1 AND 2 January are bank holidays in Scotland: Wed 31 (1), Mon 5 (2) .. Fri 9 (6),
    # Mon 12 (7), Tue 13 (8), Wed 14 (9), Thu 15 (10): a day later than England's 14 Jan.
    case = show(cli, ref)
    assert case["calendar"] == "scotland"
    assert case["deadlines"]["respond_by"] == "2026-01-15"


def test_a_back_dated_step_is_recorded_when_it_happened_and_by_whom(cli: Cli) -> None:
    ref = open_case(cli, "2025-12-19")
    cli("acknowledge", ref, *UNDERSTANDING, "--at", "2025-12-22T14:30", "--as", "bob")
    events = cli.json("history", ref)
    opened, acknowledged = events[0], next(e for e in events if e["kind"] == "acknowledged")
    # A bare date is the start of that day in London (GMT in December, so midnight UTC).
    assert opened["occurred_at"] == "2025-12-19T00:00:00+00:00"
    assert opened["actor"] == ACTOR  # from $COMPLAINTS_ACTOR
    assert acknowledged["occurred_at"] == "2025-12-22T14:30:00+00:00"
    assert acknowledged["actor"] == "bob"
    recorded = parse_instant(acknowledged["recorded_at"])
    assert recorded > parse_instant(acknowledged["occurred_at"])  # written later than it happened
    assert show(cli, ref)["clocks"]["acknowledge"]["stopped_on"] == "2025-12-22"

    timeline = cli("history", ref)
    line = next(ln for ln in timeline.splitlines() if " acknowledged " in ln)
    assert "2025-12-22 14:30" in line and "bob" in line
    assert '"The kitchen tap leaks"' in line  # free text is part of the evidence pack


def test_a_summer_time_step_is_shown_in_london_time_and_stored_in_utc(cli: Cli) -> None:
    ref = open_case(cli, "2026-06-01T09:15")
    events = cli.json("history", ref)
    assert events[0]["occurred_at"] == "2026-06-01T08:15:00+00:00"  # BST is UTC+1
    assert " 2026-06-01 09:15 " in cli("history", ref).splitlines()[0]


def test_the_resident_can_escalate_while_stage1_is_still_running(cli: Cli) -> None:
    ref = open_case(cli, "2026-01-05T09:00")
    cli("acknowledge", ref, *UNDERSTANDING, "--at", "2026-01-06T10:00")
    # No reason is asked for (Code 6.10): --note is optional.
    out = cli("escalate", ref, "--at", "2026-01-20T10:00")
    # Escalation requested Tue 20 Jan: Wed 21 (1), Thu 22, Fri 23, Mon 26, Tue 27 (5).
    assert (
        out.strip()
        == f"{ref}: escalation_requested; next deadline 2026-01-27 (Stage 2 acknowledgement)"
    )
    case = show(cli, ref)
    assert case["deadlines"]["stage2_acknowledge_by"] == "2026-01-27"
    assert case["clocks"]["respond"]["stopped_on"] == "2026-01-20"  # Stage 1 ends unanswered
    assert case["clocks"]["respond"]["running"] is False

    cli(
        "acknowledge",
        ref,
        "--understanding",
        "Wants a manager",
        "--outcome",
        "A new tap",
        "--as",
        "carol",
        "--at",
        "2026-01-22T10:00",
    )
    case = show(cli, ref)
    # Stage 2 response: 20 working days after Thu 22 Jan: Fri 23 (1), 26-30 Jan (2-6),
    # 2-6 Feb (7-11), 9-13 Feb (12-16), Mon 16 (17) .. Thu 19 Feb (20).
    assert case["deadlines"]["stage2_respond_by"] == "2026-02-19"
    assert (case["state"], case["owner"]) == ("stage2", "carol")


def test_the_stage1_handler_is_refused_at_stage2_with_one_line_naming_the_case(cli: Cli) -> None:
    ref = open_case(cli, "2026-01-05T09:00")
    cli("acknowledge", ref, *UNDERSTANDING, "--at", "2026-01-06T10:00")
    cli("escalate", ref, "--at", "2026-01-08T10:00")
    message = cli.fails("acknowledge", ref, "--understanding", "u", "--outcome", "o")
    assert message.startswith(f"error: {ref} is escalation_requested: cannot acknowledge: ")
    assert "alice handled Stage 1" in message and "6.13" in message
    assert message.endswith("; allowed: " + message.split("; allowed: ")[1])
    assert "action add" in message.split("; allowed: ")[1]  # named as typed at the CLI
    message = cli.fails(
        "acknowledge",
        ref,
        "--understanding",
        "u",
        "--outcome",
        "o",
        "--as",
        "carol",
        "--handler",
        "alice",
    )
    assert "alice handled Stage 1" in message
    cli("acknowledge", ref, "--understanding", "u", "--outcome", "o", "--as", "carol")
    assert "6.13" in cli.fails("assign", ref, "--owner", "alice")


def test_an_invalid_transition_names_the_state_and_the_commands_allowed(cli: Cli) -> None:
    ref = open_case(cli, "2026-01-05T09:00")
    cli("acknowledge", ref, *UNDERSTANDING, "--at", "2026-01-06T10:00")
    message = cli.fails("close", ref)
    assert message.startswith(f"error: {ref} is stage1: cannot close; allowed: respond, escalate")
    # Commands are named as they are typed.
    assert "action add" in message and "agree-updates" in message
    assert "add_action" not in message


def test_a_refused_command_leaves_the_case_and_its_history_unchanged(cli: Cli) -> None:
    ref = open_case(cli, "2026-01-05T09:00")
    cli("acknowledge", ref, *UNDERSTANDING, "--at", "2026-01-06T10:00")
    before_history, before_case = cli("history", ref, "--json"), show(cli, ref)

    cli.fails("respond", ref, "--decision", "upheld", "--reasons", "r", "--compensation", "-5")
    cli.fails("respond", ref, "--decision", "upheld", "--reasons", "r")  # avoidable not said
    cli.fails("close", ref)
    cli.fails("extend", ref, "--days", "11", "--reason", "Survey")  # over the 10-day cap
    cli.fails("contact", ref, "--direction", "sideways", "--channel", "phone")

    assert cli("history", ref, "--json") == before_history
    after_case = show(cli, ref)
    assert after_case["version"] == before_case["version"]
    assert after_case == before_case


def test_an_extension_moves_the_response_deadline_within_the_cap(cli: Cli, tmp_path: Path) -> None:
    ref = open_case(cli, "2026-03-02T10:00")
    cli("acknowledge", ref, *UNDERSTANDING, "--at", "2026-03-03T10:00")
    # 10 working days after Tue 3 Mar: 4-6 (3), 9-13 (8), Mon 16 (9), Tue 17 (10).
    assert show(cli, ref)["deadlines"]["respond_by"] == "2026-03-17"

    out = cli(
        "extend", ref, "--days", "5", "--reason", "Waiting for a survey", "--at", "2026-03-10"
    )
    # Five more: Wed 18, Thu 19, Fri 20, Mon 23, Tue 24.
    assert out.strip() == (
        f"{ref}: stage1; extended by 5 working days; next deadline 2026-03-24 (Stage 1 response)"
    )
    assert "cap" in cli.fails("extend", ref, "--days", "6", "--reason", "More delay")
    beyond = ("extend", ref, "--stage", "1", "--days", "6", "--reason", "Contractor ill")
    beyond += ("--at", "2026-03-20")
    good = ("--good-reason", "The only qualified contractor is ill this week")
    refused = cli.run(*beyond, *good)  # alice, a coordinator (a security event is logged too)
    assert refused.exit_code == 2
    assert "'override' permission" in refused.stderr.splitlines()[-1]
    as_manager = replace(cli, config_dir=config_with_actors(tmp_path, maggie="complaints-manager"))
    assert "cap of 10" in as_manager.fails(*beyond, "--as", "maggie")  # no reason given
    as_manager(*beyond, *good, "--as", "maggie")
    case = show(cli, ref)
    # 21 working days after 3 Mar: 17 Mar (10), 18-20 (13), 23-27 (18), 30, 31 (20), Wed 1 Apr.
    assert case["deadlines"]["respond_by"] == "2026-04-01"
    assert case["clocks"]["respond"]["extended_days"] == 11
    assert case["records"]["extensions"][1]["beyond_cap"] is True
    assert case["records"]["extensions"][1]["good_reason"] == good[1]
    assert "no stage 3" in cli.fails("extend", ref, "--stage", "3", "--days", "1", "--reason", "x")


def test_only_a_contact_that_reached_the_resident_restarts_the_countdown(cli: Cli) -> None:
    ref = open_case(cli, "2026-03-02T10:00")
    out = cli(
        "contact",
        ref,
        "--direction",
        "outbound",
        "--channel",
        "phone",
        "--no-answer",
        "--at",
        "2026-03-04T12:00",
    )
    assert "attempt recorded" in out
    assert show(cli, ref)["last_contact_at"] is None

    cli(
        "contact",
        ref,
        "--direction",
        "inbound",
        "--channel",
        "email",
        "--summary",
        "Sent photos",
        "--at",
        "2026-03-05T09:30",
    )
    # Agreeing the interval is itself a conversation with the resident: it moves the contact.
    cli("agree-updates", ref, "--every", "5", "--note", "Weekly call on Fridays",
        "--at", "2026-03-05T09:45")  # fmt: skip
    case = show(cli, ref)
    assert case["last_contact_at"] == "2026-03-05T09:45:00+00:00"
    assert case["contact_interval_days"] == 5
    today = london_date(parse_instant(cli.json("history", ref)[-1]["recorded_at"]))
    calendar = WorkingCalendar.uk("england-and-wales")
    expected = calendar.working_days_between(date(2026, 3, 5), today)
    assert case["working_days_since_contact"] == expected
    assert "direction must be one of" in cli.fails(
        "contact", ref, "--direction", "sideways", "--channel", "phone"
    )


def test_a_dissatisfaction_is_resolved_or_turned_into_a_linked_complaint(cli: Cli) -> None:
    dis = open_case(cli, "2026-02-02T10:00", "--workflow", "dissatisfaction")
    assert dis == "DIS-2026-000001"
    case = show(cli, dis)
    assert (case["workflow"], case["state"], case["deadlines"]["acknowledge_by"]) == (
        "dissatisfaction",
        "open",
        None,
    )
    assert "how to make a complaint" in cli.fails("resolve", dis, "--outcome", "Visit booked")

    out = cli("escalate", dis, "--at", "2026-02-04T10:00")
    assert out.strip() == f"{dis}: escalated; opened CMP-2026-000001"
    complaint = show(cli, "CMP-2026-000001")
    assert complaint["linked_reference"] == dis
    assert complaint["received_at"] == "2026-02-04T10:00:00+00:00"
    # Received Wed 4 Feb: Thu 5, Fri 6, Mon 9, Tue 10, Wed 11 (5).
    assert complaint["deadlines"]["acknowledge_by"] == "2026-02-11"
    assert show(cli, dis)["linked_reference"] == "CMP-2026-000001"

    other = open_case(cli, "2026-02-02T11:00", "--workflow", "dissatisfaction")
    cli("resolve", other, "--outcome", "Visit booked", "--told-how-to-complain")
    assert (show(cli, other)["state"], show(cli, other)["is_open"]) == ("resolved", False)


def test_decline_withdraw_refer_and_assign_each_do_what_they_say(cli: Cli) -> None:
    declined = open_case(cli, "2026-03-02T10:00")
    assert "refusal needs one of the policy's exclusions" in cli.fails(
        "decline", declined, "--exclusion", "too-busy", "--reason", "No"
    )
    cli("decline", declined, "--exclusion", "legal-proceedings", "--reason", "Claim filed at court")
    assert show(cli, declined)["records"]["declined"]["exclusion"] == "legal-proceedings"

    withdrawn = open_case(cli, "2026-03-02T11:00")
    out = cli("withdraw", withdrawn, "--reason", "Sorted out on the phone")
    assert out.strip() == f"{withdrawn}: withdrawn"

    referred = open_case(cli, "2026-03-02T12:00", "--owner", "dave")
    assert show(cli, referred)["owner"] == "dave"
    cli("assign", referred, "--owner", "erin")
    cli("acknowledge", referred, *UNDERSTANDING, "--at", "2026-03-03T10:00")
    cli(
        "respond",
        referred,
        "--decision",
        "not-upheld",
        "--reasons",
        "Visits were attended",
        "--at",
        "2026-03-10",
    )
    cli("refer", referred, "--ombudsman-ref", "202612345")
    case = show(cli, referred)
    assert (case["state"], case["owner"]) == ("referred_to_ombudsman", "erin")
    assert case["records"]["ombudsman"] == {"ombudsman_reference": "202612345"}


def test_actions_can_be_added_and_completed_one_by_one(cli: Cli) -> None:
    ref = open_case(cli, "2026-03-02T10:00")
    cli("acknowledge", ref, *UNDERSTANDING, "--at", "2026-03-03T10:00")
    out = cli(
        "action",
        "add",
        ref,
        "--description",
        "Inspect the roof",
        "--owner",
        "repairs-team",
        "--due",
        "2026-04-10",
    )
    assert "action 1 added" in out
    assert "no action 2" in cli.fails("action", "done", ref, "2")
    assert "1 done, 0 outstanding" in cli("action", "done", ref, "1")
    assert "already done" in cli.fails("action", "done", ref, "1")
    (action,) = show(cli, ref)["actions"]
    assert (action["description"], action["outstanding"], action["done_by"]) == (
        "Inspect the roof",
        False,
        ACTOR,
    )


@pytest.mark.parametrize(
    ("typed", "pence"),
    [("150.00", 15_000), ("£1,250.5", 125_050), ("0.99", 99), ("75", 7_500)],
)
def test_compensation_is_typed_in_pounds_and_stored_in_pence(
    cli: Cli, typed: str, pence: int
) -> None:
    ref = open_case(cli, "2026-03-02T10:00")
    cli("acknowledge", ref, *UNDERSTANDING, "--at", "2026-03-03T10:00")
    cli(
        "respond",
        ref,
        "--decision",
        "partially-upheld",
        "--reasons",
        "Late visit",
        "--not-avoidable",
        "--compensation",
        typed,
    )
    assert show(cli, ref)["responses"][0]["compensation_pence"] == pence


def test_list_shows_open_cases_newest_first_with_their_next_deadline(cli: Cli) -> None:
    first = open_case(cli, "2026-03-02T10:00")
    second = open_case(cli, "2026-03-03T10:00", "--area", "Truro", "--category", "asb")
    finished = open_case(cli, "2026-03-04T10:00")
    cli("withdraw", finished)

    lines = cli("list").splitlines()
    assert lines[0].split()[:3] == ["reference", "workflow", "state"]
    assert [ln.split()[0] for ln in lines[2:]] == [second, first]
    assert lines[2].split()[:7] == [
        second,
        "complaint",
        "received",
        "asb",
        "Truro",
        "2026-03-03",
        "2026-03-10",  # Tue 3 Mar + 5 working days
    ]

    assert [c["reference"] for c in cli.json("list", "--all")] == [finished, second, first]
    assert [c["reference"] for c in cli.json("list", "--state", "withdrawn")] == [finished]
    assert [c["reference"] for c in cli.json("list", "--area", "Truro")] == [second]
    assert [c["reference"] for c in cli.json("list", "--all", "--limit", "1")] == [finished]
    assert cli.json("list", "--owner", "nobody") == []
    assert "unknown state 'nowhere'" in cli.fails("list", "--state", "nowhere")


def test_show_json_has_every_documented_field(cli: Cli) -> None:
    ref = open_case(cli, "2026-03-02T10:00")
    case = show(cli, ref)
    required = {
        "reference", "workflow", "state", "policy", "policy_id", "calendar", "received_at",
        "last_contact_at", "working_days_since_contact", "deadlines", "clocks", "owner",
        "category", "channel", "area", "tenure", "version", "allowed_commands", "actions",
        "responses", "linked_reference", "is_open", "flags",
    }  # fmt: skip
    assert required <= set(case)
    # Received Mon 2 Mar 2026 and never acknowledged: due Mon 9 Mar (5 working days), so the
    # acknowledgement is breached from Tue 10 Mar; the flags are computed as of today.
    flags = {flag["name"]: flag for flag in case["flags"]}
    assert flags["acknowledge:breached"]["raised_on"] == "2026-03-10"
    assert all({"name", "raised_on", "level"} <= set(flag) for flag in case["flags"])
    assert set(case["clocks"]["acknowledge"]) >= {
        "started_on",
        "due_on",
        "extended_days",
        "stopped_on",
        "breached",
    }
    assert case["allowed_commands"][0] == "acknowledge"
    text = cli("show", ref)
    assert text.startswith(f"{ref}  complaint  received")
    assert "Stage 1 acknowledgement" in text and "due 2026-03-09" in text


def test_open_takes_every_field_and_prints_json_with_the_reference(cli: Cli) -> None:
    out = cli.json(
        *OPEN,
        "--received", "2026-03-02T10:00", "--workflow", "complaint", "--tenure", "lcho",
        "--resident", "R123456", "--property", "P98765", "--contact-method", "email",
        "--vulnerability", "mobility", "--vulnerability", "hearing", "--health-and-safety",
        "--restricted", "--owner", "dave", "--understanding", "Leak", "--outcome", "Fix",
        "--policy", "westward-3day", "--calendar", "westward",
    )  # fmt: skip
    assert out["reference"] == "CMP-2026-000001"
    assert (out["tenure"], out["resident_ref"], out["property_ref"]) == (
        "lcho",
        "R123456",
        "P98765",
    )
    assert out["vulnerabilities"] == ["mobility", "hearing"]
    assert (out["health_and_safety"], out["restricted"], out["priority"]) == (True, True, "high")
    assert (out["policy"], out["calendar"]) == ("westward-3day@1", "westward")
    # The landlord's stricter standard: 3 working days from Mon 2 Mar is Thu 5 Mar.
    assert out["deadlines"]["acknowledge_by"] == "2026-03-05"
    assert out["records"]["stage1"] == {"understanding": "Leak", "desired_outcome": "Fix"}


def test_the_sla_add_example_gives_the_deadline_worked_out_by_hand(cli: Cli) -> None:
    # 5 working days after Fri 19 Dec 2025 in England and Wales: see the first test.
    assert cli("sla", "add", "2025-12-19", "5").strip() == "2025-12-30"
    assert cli("sla", "add", "2025-12-30", "10", "--calendar", "scotland").strip() == "2026-01-15"


def test_db_upgrade_prints_the_revision_and_is_idempotent(cli: Cli) -> None:
    first = cli("db", "upgrade").strip()
    assert "upgraded from empty to revision" in first
    again = cli("db", "upgrade").strip()
    assert again.endswith(first.rsplit(" ", 1)[1])
    assert "already at revision" in again


def test_help_lists_every_command_with_a_one_line_description(cli: Cli) -> None:
    text = cli("--help")
    listed = text.split("Commands:")[1].splitlines()
    names = {line.split()[0] for line in listed if line.strip()}
    expected = {
        "open", "acknowledge", "respond", "escalate", "extend", "assign", "action", "contact",
        "agree-updates", "close", "withdraw", "decline", "refer", "resolve", "show", "list",
        "history", "db", "demo", "sla",
    }  # fmt: skip
    assert expected <= names
    assert not [line for line in listed if line.rstrip().endswith("...")]  # none cut short
    for name in sorted(expected):
        assert cli(name, "--help").startswith(f"Usage: complaints {name}")

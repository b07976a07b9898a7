"""SLA policies: the built-in numbers match shared/domain.md 1.4, versions follow the date a
complaint was made, and a broken policy file is reported by file, key and problem."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from sla.errors import ConfigError, UnknownPolicyError
from sla.policy import (
    ClockRule,
    ContactLevel,
    Policy,
    PolicyRegistry,
    builtin_policies,
    parse_policy_text,
)

CONFIG_POLICIES = Path(__file__).parents[2] / "config" / "policies"


def _westward() -> Policy:
    path = CONFIG_POLICIES / "westward-3day.toml"
    return parse_policy_text(path.read_text(encoding="utf-8"), path.name)


BUILTIN = {policy.id: policy for policy in builtin_policies()}
REGISTRY = PolicyRegistry([*BUILTIN.values(), _westward()])

# (name, days, starts_at, stops_at, extension_cap) of every clock, in file order.
EXPECTED_CLOCKS: dict[str, list[tuple[str, int, str, str, int | None]]] = {
    "hoc-2024": [
        ("acknowledge", 5, "received", "acknowledged", 0),  # Code 6.2
        ("respond", 10, "acknowledged", "responded", 10),  # 6.3, 6.4
        ("stage2_acknowledge", 5, "escalation_requested", "stage2_acknowledged", 0),  # 6.11
        ("stage2_respond", 20, "stage2_acknowledged", "stage2_responded", 20),  # 6.14-6.16
    ],
    "hoc-2022": [
        ("acknowledge", 5, "received", "acknowledged", 0),  # 2022 4.1
        ("respond", 10, "received", "responded", 10),  # 2022 5.1: from receipt/logging
        ("stage2_respond", 20, "escalation_requested", "stage2_responded", 10),
    ],
    "spso-model": [
        ("respond", 5, "received", "responded", 5),
        ("stage2_acknowledge", 3, "escalation_requested", "stage2_acknowledged", 0),
        ("stage2_respond", 20, "escalation_requested", "stage2_responded", None),
    ],
    "westward-3day": [
        ("acknowledge", 3, "received", "acknowledged", 0),  # stricter than the Code
        ("respond", 10, "acknowledged", "responded", 10),
        ("stage2_acknowledge", 5, "escalation_requested", "stage2_acknowledged", 0),
        ("stage2_respond", 20, "stage2_acknowledged", "stage2_responded", 20),
    ],
}

EXPECTED_EXCLUSIONS = {
    "hoc-2024": ["older-than-12-months", "legal-proceedings", "previously-considered"],
    "hoc-2022": ["older-than-6-months", "legal-proceedings", "previously-considered"],
    "spso-model": ["older-than-6-months", "legal-proceedings", "previously-considered"],
    "westward-3day": ["older-than-12-months", "legal-proceedings", "previously-considered"],
}


# -- the shipped policies ------------------------------------------------------------------------


def test_the_builtin_policies_are_the_two_codes_and_the_spso_model() -> None:
    assert sorted(BUILTIN) == ["hoc-2022", "hoc-2024", "spso-model"]
    assert REGISTRY.ids() == ["hoc-2022", "hoc-2024", "spso-model", "westward-3day"]


@pytest.mark.parametrize("policy_id", sorted(EXPECTED_CLOCKS))
def test_each_policy_loads_with_the_clocks_of_the_domain_spec(policy_id: str) -> None:
    policy = REGISTRY.get(policy_id)

    clocks = [(c.name, c.days, c.starts_at, c.stops_at, c.extension_cap) for c in policy.clocks]

    assert clocks == EXPECTED_CLOCKS[policy_id]
    assert all(c.label for c in policy.clocks)
    assert policy.key == f"{policy_id}@1"


def test_the_2022_code_has_no_stage_2_acknowledgement_clock() -> None:
    assert REGISTRY.get("hoc-2022").clock("stage2_acknowledge") is None
    assert REGISTRY.get("hoc-2024").clock("stage2_acknowledge") == ClockRule(
        name="stage2_acknowledge",
        label="Stage 2 acknowledgement",
        days=5,
        starts_at="escalation_requested",
        stops_at="stage2_acknowledged",
        extension_cap=0,
    )


@pytest.mark.parametrize("policy_id", sorted(EXPECTED_CLOCKS))
def test_each_policy_has_the_default_contact_countdown_levels(policy_id: str) -> None:
    levels = REGISTRY.get(policy_id).contact_levels

    assert [(lv.days, lv.level) for lv in levels] == [
        (3, "contact-due"),
        (10, "contact-overdue"),
        (15, "manager-alert"),
        (20, "critical"),
    ]
    assert all(isinstance(lv, ContactLevel) and lv.action for lv in levels)


@pytest.mark.parametrize("policy_id", sorted(EXPECTED_EXCLUSIONS))
def test_each_policy_configures_its_exclusions(policy_id: str) -> None:
    policy = REGISTRY.get(policy_id)

    assert [e.id for e in policy.exclusions] == EXPECTED_EXCLUSIONS[policy_id]
    assert all(e.description for e in policy.exclusions)
    assert policy.exclusion("legal-proceedings") is not None
    assert policy.exclusion("no-such-exclusion") is None


@pytest.mark.parametrize(
    ("policy_id", "family", "applies_from", "applies_until", "months"),
    [
        ("hoc-2024", "hoc", date(2024, 4, 1), None, 12),
        ("hoc-2022", "hoc", None, date(2024, 4, 1), 6),
        ("spso-model", "spso", None, None, 6),
        ("westward-3day", "westward", date(2024, 4, 1), None, 12),
    ],
)
def test_each_policy_knows_its_family_dates_and_time_limit(
    policy_id: str,
    family: str,
    applies_from: date | None,
    applies_until: date | None,
    months: int,
) -> None:
    policy = REGISTRY.get(policy_id)

    assert (policy.family, policy.applies_from, policy.applies_until) == (
        family,
        applies_from,
        applies_until,
    )
    assert policy.time_limit_months == months
    assert policy.version == 1


# -- resolving a policy ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "made_on", "expected"),
    [
        ("hoc", date(2024, 3, 31), "hoc-2022"),
        ("hoc", date(2024, 4, 1), "hoc-2024"),
        ("hoc", date(2020, 1, 1), "hoc-2022"),
        ("hoc", date(2030, 6, 1), "hoc-2024"),
        ("hoc-2024", date(2024, 4, 1), "hoc-2024"),
        ("hoc-2022", date(2024, 3, 31), "hoc-2022"),
        ("spso", date(2010, 1, 1), "spso-model"),
        ("spso-model", date(2040, 1, 1), "spso-model"),
        ("westward", date(2025, 1, 1), "westward-3day"),
    ],
)
def test_resolve_picks_the_version_by_the_date_the_complaint_was_made(
    name: str, made_on: date, expected: str
) -> None:
    assert REGISTRY.resolve(name, made_on).id == expected


def test_resolve_of_a_policy_id_that_does_not_apply_on_that_date_names_the_one_that_does() -> None:
    with pytest.raises(UnknownPolicyError, match="hoc-2024") as info:
        REGISTRY.resolve("hoc-2024", date(2023, 6, 1))

    assert "2023-06-01" in str(info.value)
    assert "use 'hoc-2022'" in str(info.value)


def test_resolve_of_hoc_2022_after_the_2024_code_names_hoc_2024() -> None:
    with pytest.raises(UnknownPolicyError, match="use 'hoc-2024'"):
        REGISTRY.resolve("hoc-2022", date(2024, 4, 1))


def test_resolve_of_a_family_with_no_policy_on_that_date_is_an_error() -> None:
    with pytest.raises(UnknownPolicyError, match="no 'westward' policy applies"):
        REGISTRY.resolve("westward", date(2024, 3, 31))


@pytest.mark.parametrize("name", ["hoc-2025", "HOC", ""])
def test_an_unknown_policy_is_an_error_listing_the_known_ones(name: str) -> None:
    with pytest.raises(UnknownPolicyError) as get_info:
        REGISTRY.get(name)
    with pytest.raises(UnknownPolicyError) as resolve_info:
        REGISTRY.resolve(name, date(2025, 1, 1))

    for info in (get_info, resolve_info):
        message = str(info.value)
        assert repr(name) in message
        assert "hoc-2022, hoc-2024, spso-model, westward-3day" in message
        assert isinstance(info.value, LookupError)


# -- broken policy files ---------------------------------------------------------------------------

VALID = """\
id = "test-policy"
version = 2
family = "test"
name = "A test policy"
applies_from = 2024-04-01
applies_until = 2030-01-01

[clocks.acknowledge]
days = 5
starts_at = "received"
stops_at = "acknowledged"

[clocks.respond]
label = "Stage 1 response"
days = 10
starts_at = "acknowledged"
stops_at = "responded"
extension_cap = 10

[[contact_levels]]
days = 3
level = "contact-due"
action = "Call."

[[contact_levels]]
days = 10
level = "contact-overdue"
action = "Call again."

[[exclusions]]
id = "legal-proceedings"
description = "Legal proceedings have started."
"""

SOURCE = "test-policy.toml"


# The valid policy with its contact levels removed: its clocks and its one exclusion only.
NO_LEVELS = "contact_levels = []\n" + VALID.split("[[contact_levels]]")[0] + VALID.split("\n\n")[-1]


def _edit(old: str, new: str) -> str:
    assert VALID.count(old) == 1, old
    return VALID.replace(old, new)


def test_the_valid_test_policy_parses() -> None:
    policy = parse_policy_text(VALID, SOURCE)

    assert policy.key == "test-policy@2"
    assert policy.clock("acknowledge") == ClockRule(
        "acknowledge", "acknowledge", 5, "received", "acknowledged", 0
    )
    assert policy.applies_to(date(2029, 12, 31))
    assert not policy.applies_to(date(2030, 1, 1))
    assert policy.due_soon_days == 2


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        pytest.param(_edit('name = "A test policy"\n', ""), "name", "is required", id="missing"),
        pytest.param(
            _edit("days = 10\nstarts_at", "starts_at"),
            "clocks.respond.days",
            "is required",
            id="missing-clock-days",
        ),
        pytest.param(
            _edit('action = "Call."\n', ""),
            "contact_levels[0].action",
            "is required",
            id="missing-level-action",
        ),
        pytest.param(
            _edit('description = "Legal proceedings have started."\n', ""),
            "exclusions[0].description",
            "is required",
            id="missing-exclusion-description",
        ),
        pytest.param(
            _edit("version = 2", 'version = "2"'),
            "version",
            "must be a whole number, got '2'",
            id="wrong-type-version",
        ),
        pytest.param(
            _edit("version = 2", "version = true"),
            "version",
            "must be a whole number",
            id="wrong-type-bool",
        ),
        pytest.param(
            _edit("days = 10\nstarts_at", 'days = "ten"\nstarts_at'),
            "clocks.respond.days",
            "must be a whole number",
            id="wrong-type-days",
        ),
        pytest.param(
            _edit("applies_from = 2024-04-01", 'applies_from = "2024-04-01"'),
            "applies_from",
            "must be a date",
            id="wrong-type-date",
        ),
        pytest.param(
            _edit('name = "A test policy"', "name = 7"),
            "name",
            "must be a string, got int",
            id="wrong-type-name",
        ),
        pytest.param(
            _edit("[clocks.acknowledge]\n", "clocks.x = 1\n[clocks.acknowledge]\n"),
            "clocks.x",
            "expected a table",
            id="wrong-type-clock",
        ),
        pytest.param(
            _edit("days = 10\nstarts_at", "days = -10\nstarts_at"),
            "clocks.respond.days",
            "must be at least 1, got -10",
            id="negative-days",
        ),
        pytest.param(
            _edit("days = 5\n", "days = 0\n"),
            "clocks.acknowledge.days",
            "must be at least 1, got 0",
            id="zero-days",
        ),
        pytest.param(
            _edit("extension_cap = 10", "extension_cap = -1"),
            "clocks.respond.extension_cap",
            "must be at least 0",
            id="negative-cap",
        ),
        pytest.param(
            _edit("extension_cap = 10", 'extension_cap = "lots"'),
            "clocks.respond.extension_cap",
            "must be a whole number",
            id="bad-cap",
        ),
        pytest.param(
            _edit("days = 3\n", "days = -3\n"),
            "contact_levels[0].days",
            "must be at least 1",
            id="negative-level-days",
        ),
        pytest.param(
            _edit("applies_until = 2030-01-01\n", "applies_untill = 2030-01-01\n"),
            "applies_untill",
            "unknown key (check the spelling)",
            id="unknown-key-typo",
        ),
        pytest.param(
            _edit("extension_cap = 10", "extension_cap = 10\nextention_cap = 5"),
            "clocks.respond.extention_cap",
            "unknown key",
            id="unknown-clock-key",
        ),
        pytest.param(
            _edit('action = "Call."\n', 'action = "Call."\ncolour = "amber"\n'),
            "contact_levels[0].colour",
            "unknown key",
            id="unknown-level-key",
        ),
        pytest.param(
            _edit("days = 10\nlevel", "days = 3\nlevel"),
            "contact_levels",
            "days must strictly increase, got [3, 3]",
            id="levels-repeat",
        ),
        pytest.param(
            _edit("days = 10\nlevel", "days = 2\nlevel"),
            "contact_levels",
            "days must strictly increase, got [3, 2]",
            id="levels-decrease",
        ),
        pytest.param(
            _edit('level = "contact-overdue"', 'level = "contact-due"'),
            "contact_levels",
            "level names must be unique",
            id="duplicate-level-names",
        ),
        pytest.param(
            _edit("applies_until = 2030-01-01", "applies_until = 2024-01-01"),
            "applies_until",
            "must be after applies_from",
            id="until-before-from",
        ),
        pytest.param(
            _edit("applies_until = 2030-01-01", "applies_until = 2024-04-01"),
            "applies_until",
            "must be after applies_from",
            id="until-equals-from",
        ),
        pytest.param(
            _edit('stops_at = "responded"', 'stops_at = "acknowledged"'),
            "clocks.respond.stops_at",
            "cannot stop at the milestone it starts at",
            id="stops-where-it-starts",
        ),
        pytest.param(
            _edit('id = "test-policy"', 'id = "Test Policy"'),
            "id",
            "must be lower-case letters",
            id="bad-id",
        ),
        pytest.param(
            _edit("[clocks.respond]", '[clocks."Respond Now"]'),
            "clocks.Respond Now",
            "clock names are lower-case",
            id="bad-clock-name",
        ),
        pytest.param(
            NO_LEVELS,
            "contact_levels",
            "at least one contact level",
            id="no-contact-levels",
        ),
    ],
)
def test_a_broken_policy_file_names_the_file_the_key_and_the_problem(
    text: str, key: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as info:
        parse_policy_text(text, SOURCE)

    error = info.value
    assert error.source == SOURCE
    assert error.key == key
    assert problem in error.problem
    assert str(error).startswith(f"{SOURCE}: {key}: ")


def test_a_policy_without_clocks_is_refused() -> None:
    text = VALID.split("[clocks.acknowledge]")[0] + "clocks = {}\n"

    with pytest.raises(ConfigError, match="clocks: a policy needs at least one clock"):
        parse_policy_text(text, SOURCE)


@pytest.mark.parametrize(
    "text",
    [
        _edit("version = 2", "version = "),
        _edit('name = "A test policy"', 'name = "A test policy'),
        VALID + "\n[clocks.respond]\ndays = 3\n",  # a table defined twice
    ],
    ids=["no-value", "unterminated-string", "duplicate-table"],
)
def test_invalid_toml_names_the_file(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_policy_text(text, SOURCE)

    assert info.value.source == SOURCE
    assert "not valid TOML" in info.value.problem
    assert str(info.value).startswith(f"{SOURCE}: not valid TOML")


def test_a_cap_of_none_means_the_policy_sets_no_cap() -> None:
    policy = parse_policy_text(_edit("extension_cap = 10", 'extension_cap = "none"'), SOURCE)

    assert policy.clock("respond") is not None
    assert policy.clock("respond").extension_cap is None  # type: ignore[union-attr]


def test_an_unknown_key_in_an_exclusion_is_refused() -> None:
    text = _edit(
        'description = "Legal proceedings have started."',
        'description = "Legal proceedings have started."\ndescripion = "typo"',
    )

    with pytest.raises(ConfigError) as info:
        parse_policy_text(text, SOURCE)

    assert info.value.key == "exclusions[0].descripion"

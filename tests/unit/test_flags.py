"""The pure flag rules (``sla.flags``) against hand-counted working-day dates.

A countdown or a clock starts on day 0; "N working days after" is the N-th working day strictly
after it. Bank holidays used below:

* England and Wales: Thu 25 and Fri 26 December 2025, Thu 1 January 2026.
* Scotland: the same plus Fri 2 January 2026.

Weekends: Sat 20/Sun 21, Sat 27/Sun 28 December 2025; Sat 3/Sun 4, 10/11, 17/18, 24/25 January
2026.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.calendar import DayOverride, WorkingCalendar
from sla.deadlines import ClockState
from sla.flags import (
    BREACHED,
    DUE_SOON,
    DUE_TODAY,
    Flag,
    FlagChanges,
    FlagInputs,
    deadline_flag_name,
    diff_flags,
    effective_levels,
    evaluate,
)
from sla.policy import ContactLevel, PolicyRegistry, builtin_policies

ENGLAND = WorkingCalendar.uk("england-and-wales")
SCOTLAND = WorkingCalendar.uk("scotland")

LEVELS = (
    ContactLevel(3, "contact-due", "update today"),
    ContactLevel(10, "contact-overdue", "call them"),
    ContactLevel(15, "manager-alert", "manager checks"),
    ContactLevel(20, "critical", "head of service"),
)
CONTACT_NAMES = tuple(level.level for level in LEVELS)

FRI_19_DEC = date(2025, 12, 19)
MON_22_DEC = date(2025, 12, 22)
ONE_DAY = timedelta(days=1)


def inputs(
    *,
    countdown_from: date = FRI_19_DEC,
    levels: tuple[ContactLevel, ...] = LEVELS,
    agreed: int | None = None,
    clocks: tuple[ClockState, ...] = (),
    is_open: bool = True,
    due_soon_days: int = 2,
) -> FlagInputs:
    return FlagInputs(
        is_open=is_open,
        countdown_from=countdown_from,
        contact_levels=levels,
        agreed_interval_days=agreed,
        clocks=clocks,
        due_soon_days=due_soon_days,
    )


def deadlines_only(**kwargs: object) -> FlagInputs:
    """Inputs with no contact levels, so only the clocks' flags are evaluated."""
    return inputs(levels=(), **kwargs)  # type: ignore[arg-type]


def respond_clock(calendar: WorkingCalendar, *, stopped_on: date | None = None) -> ClockState:
    """Stage 1 response clock started Mon 22 Dec 2025, 10 working days, on ``calendar``."""
    return ClockState(
        name="respond",
        label="Stage 1 response",
        started_on=MON_22_DEC,
        base_days=10,
        due_on=calendar.add_working_days(MON_22_DEC, 10),
        stopped_on=stopped_on,
    )


def raised(flags: list[Flag]) -> dict[str, date]:
    """Flags still raised: name -> raised_on."""
    return {f.name: f.raised_on for f in flags if f.cleared_on is None}


def history(flags: list[Flag]) -> list[tuple[str, date, date | None]]:
    """(name, raised_on, cleared_on) in the order the flags were raised."""
    return sorted(((f.name, f.raised_on, f.cleared_on) for f in flags), key=lambda h: h[1])


def test_the_levels_used_here_are_the_hoc_2024_policys() -> None:
    hoc = PolicyRegistry(builtin_policies()).get("hoc-2024")
    assert [(lv.days, lv.level) for lv in hoc.contact_levels] == [
        (lv.days, lv.level) for lv in LEVELS
    ]
    assert hoc.due_soon_days == 2


# -- contact countdown -----------------------------------------------------------------------------

# England and Wales, countdown from Fri 19 Dec 2025:
#   Mon 22 (1), Tue 23 (2), Wed 24 (3)                      -> contact-due     Wed 24 Dec
#   [Thu 25, Fri 26 bank holidays; weekend] Mon 29 (4), Tue 30 (5), Wed 31 (6), [Thu 1 Jan],
#   Fri 2 (7), Mon 5 (8), Tue 6 (9), Wed 7 (10)             -> contact-overdue Wed 7 Jan
#   Thu 8 (11), Fri 9 (12), Mon 12 (13), Tue 13 (14), Wed 14 (15) -> manager-alert Wed 14 Jan
#   Thu 15 (16), Fri 16 (17), Mon 19 (18), Tue 20 (19), Wed 21 (20) -> critical  Wed 21 Jan
ENGLAND_COUNTDOWN = {
    "contact-due": date(2025, 12, 24),
    "contact-overdue": date(2026, 1, 7),
    "manager-alert": date(2026, 1, 14),
    "critical": date(2026, 1, 21),
}
# Scotland (Fri 2 Jan is also a holiday): Mon 22 (1), Tue 23 (2), Wed 24 (3) -> Wed 24 Dec;
#   Mon 29 (4), Tue 30 (5), Wed 31 (6), [1, 2 Jan], Mon 5 (7), Tue 6 (8), Wed 7 (9),
#   Thu 8 (10) -> Thu 8 Jan; Fri 9 (11) .. Thu 15 (15) -> Thu 15 Jan; Fri 16 (16) .. Thu 22 (20)
#   -> Thu 22 Jan.
SCOTLAND_COUNTDOWN = {
    "contact-due": date(2025, 12, 24),
    "contact-overdue": date(2026, 1, 8),
    "manager-alert": date(2026, 1, 15),
    "critical": date(2026, 1, 22),
}


@pytest.mark.parametrize(
    ("calendar", "expected"),
    [(ENGLAND, ENGLAND_COUNTDOWN), (SCOTLAND, SCOTLAND_COUNTDOWN)],
    ids=["england-and-wales", "scotland"],
)
def test_each_contact_level_is_raised_on_its_working_day_across_the_christmas_holidays(
    calendar: WorkingCalendar, expected: dict[str, date]
) -> None:
    dates = list(expected.values())
    for i, level_on in enumerate(dates):
        # The day before a crossing: only the earlier levels, and the crossing is next.
        before, next_on = evaluate(inputs(), level_on - ONE_DAY, calendar)
        assert raised(before) == dict(list(expected.items())[:i])
        assert next_on == level_on
        # On the crossing: this level too, raised on exactly that date, anchored on the countdown.
        on, next_on = evaluate(inputs(), level_on, calendar)
        assert raised(on) == dict(list(expected.items())[: i + 1])
        assert {f.anchor_on for f in on} == {FRI_19_DEC}
        assert {(f.kind, f.clock) for f in on} == {("contact", None)}
        assert next_on == (dates[i + 1] if i + 1 < len(dates) else None)


def test_every_contact_level_stays_raised_until_a_command_restarts_the_count() -> None:
    flags, next_on = evaluate(inputs(), date(2026, 6, 1), ENGLAND)

    assert raised(flags) == ENGLAND_COUNTDOWN
    assert next_on is None  # nothing changes any more without a contact


def test_a_countdown_from_a_bank_holiday_counts_from_the_next_working_day() -> None:
    # From Thu 25 Dec (bank holiday): [Fri 26, weekend] Mon 29 (1), Tue 30 (2), Wed 31 (3).
    flags, next_on = evaluate(
        inputs(countdown_from=date(2025, 12, 25)), date(2025, 12, 31), ENGLAND
    )

    assert raised(flags) == {"contact-due": date(2025, 12, 31)}
    # contact-overdue: Fri 2 Jan (4), Mon 5 (5) ... Fri 9 (9), Mon 12 (10).
    assert next_on == date(2026, 1, 12)


# Agreed every 5 working days: the levels become 5 / 12 / 17 / 22 (gaps 7, 5, 5 kept).
# England and Wales from Fri 19 Dec: Mon 22 (1), Tue 23 (2), Wed 24 (3), Mon 29 (4), Tue 30 (5)
#   -> Tue 30 Dec; Wed 31 (6), Fri 2 (7), Mon 5 (8), Tue 6 (9), Wed 7 (10), Thu 8 (11),
#   Fri 9 (12) -> Fri 9 Jan; Mon 12 (13) .. Fri 16 (17) -> Fri 16 Jan; Mon 19 (18) .. Fri 23 (22)
#   -> Fri 23 Jan.
# Scotland (no Fri 2 Jan): Tue 30 Dec (5); Wed 31 (6), Mon 5 (7), Tue 6 (8), Wed 7 (9), Thu 8 (10),
#   Fri 9 (11), Mon 12 (12) -> Mon 12 Jan; Tue 13 (13) .. Mon 19 (17) -> Mon 19 Jan;
#   Tue 20 (18) .. Mon 26 (22) -> Mon 26 Jan.
@pytest.mark.parametrize(
    ("calendar", "expected"),
    [
        (
            ENGLAND,
            {
                "contact-due": date(2025, 12, 30),
                "contact-overdue": date(2026, 1, 9),
                "manager-alert": date(2026, 1, 16),
                "critical": date(2026, 1, 23),
            },
        ),
        (
            SCOTLAND,
            {
                "contact-due": date(2025, 12, 30),
                "contact-overdue": date(2026, 1, 12),
                "manager-alert": date(2026, 1, 19),
                "critical": date(2026, 1, 26),
            },
        ),
    ],
    ids=["england-and-wales", "scotland"],
)
def test_an_agreed_update_interval_shifts_every_level_by_the_same_amount(
    calendar: WorkingCalendar, expected: dict[str, date]
) -> None:
    assert [lv.days for lv in effective_levels(LEVELS, 5)] == [5, 12, 17, 22]

    flags, next_on = evaluate(inputs(agreed=5), date(2026, 1, 31), calendar)
    assert raised(flags) == expected
    assert next_on is None

    # The day before the agreed first update nothing is raised (the policy's 3 days do not apply).
    early, next_on = evaluate(inputs(agreed=5), date(2025, 12, 29), calendar)
    assert early == []
    assert next_on == date(2025, 12, 30)


def test_an_agreed_interval_shorter_than_the_policys_moves_the_levels_earlier() -> None:
    assert [lv.days for lv in effective_levels(LEVELS, 2)] == [2, 9, 14, 19]
    assert [lv.days for lv in effective_levels(LEVELS, None)] == [3, 10, 15, 20]
    assert effective_levels((), 5) == []
    # From Fri 19 Dec: Mon 22 (1), Tue 23 (2) -> contact-due on Tue 23 Dec.
    flags, next_on = evaluate(inputs(agreed=2), date(2025, 12, 23), ENGLAND)
    assert raised(flags) == {"contact-due": date(2025, 12, 23)}
    # 9: Wed 24 (3), Mon 29 (4), Tue 30 (5), Wed 31 (6), Fri 2 (7), Mon 5 (8), Tue 6 Jan (9).
    assert next_on == date(2026, 1, 6)


def test_a_closed_case_has_no_contact_flags_and_no_coming_change() -> None:
    flags, next_on = evaluate(inputs(is_open=False), date(2026, 3, 1), ENGLAND)

    assert flags == []
    assert next_on is None


# -- deadlines -------------------------------------------------------------------------------------

# Respond clock started Mon 22 Dec 2025, 10 working days, England and Wales:
#   Tue 23 (1), Wed 24 (2), [25, 26, weekend], Mon 29 (3), Tue 30 (4), Wed 31 (5), [Thu 1 Jan],
#   Fri 2 (6), Mon 5 (7), Tue 6 (8), Wed 7 (9), Thu 8 Jan (10)      -> due Thu 8 Jan 2026
#   due-soon: 2 working days before Thu 8: Wed 7 (1), Tue 6 (2)      -> Tue 6 Jan
#   breached: the day after the due date                             -> Fri 9 Jan
E_DUE, E_SOON, E_BREACH = date(2026, 1, 8), date(2026, 1, 6), date(2026, 1, 9)
# Scotland (Fri 2 Jan is a holiday): ... Wed 31 (5), Mon 5 (6), Tue 6 (7), Wed 7 (8), Thu 8 (9),
#   Fri 9 Jan (10)                                                   -> due Fri 9 Jan 2026
#   due-soon: Thu 8 (1), Wed 7 (2)                                   -> Wed 7 Jan
#   breached: the calendar day after, a Saturday                     -> Sat 10 Jan
S_DUE, S_SOON, S_BREACH = date(2026, 1, 9), date(2026, 1, 7), date(2026, 1, 10)

SOON = deadline_flag_name("respond", DUE_SOON)
TODAY = deadline_flag_name("respond", DUE_TODAY)
BREACH = deadline_flag_name("respond", BREACHED)


def test_the_clocks_computed_here_match_the_hand_count() -> None:
    assert respond_clock(ENGLAND).due_on == E_DUE
    assert respond_clock(SCOTLAND).due_on == S_DUE
    assert ENGLAND.subtract_working_days(E_DUE, 2) == E_SOON
    assert SCOTLAND.subtract_working_days(S_DUE, 2) == S_SOON


@pytest.mark.parametrize(
    ("calendar", "soon", "due", "breach"),
    [(ENGLAND, E_SOON, E_DUE, E_BREACH), (SCOTLAND, S_SOON, S_DUE, S_BREACH)],
    ids=["england-and-wales", "scotland"],
)
def test_a_running_clock_passes_through_due_soon_due_today_and_breached(
    calendar: WorkingCalendar, soon: date, due: date, breach: date
) -> None:
    clock = respond_clock(calendar)
    case = deadlines_only(clocks=(clock,))

    flags, next_on = evaluate(case, soon - ONE_DAY, calendar)
    assert flags == []
    assert next_on == soon

    flags, next_on = evaluate(case, soon, calendar)
    assert history(flags) == [(SOON, soon, None)]
    assert next_on == due  # due-soon is cleared (and due-today raised) on the due date

    flags, next_on = evaluate(case, due, calendar)
    assert history(flags) == [(SOON, soon, due), (TODAY, due, None)]
    assert next_on == breach

    flags, next_on = evaluate(case, breach, calendar)
    assert history(flags) == [(SOON, soon, due), (TODAY, due, breach), (BREACH, breach, None)]
    assert next_on is None  # a breach stays raised until the step is done

    assert {f.anchor_on for f in flags} == {due}
    assert {(f.kind, f.clock) for f in flags} == {("deadline", "respond")}
    assert {f.level for f in flags} == {DUE_SOON, DUE_TODAY, BREACHED}


def test_due_soon_across_christmas_counts_back_over_the_bank_holidays() -> None:
    # Started Tue 16 Dec, 7 working days: Wed 17 (1), Thu 18 (2), Fri 19 (3), Mon 22 (4),
    # Tue 23 (5), Wed 24 (6), [25, 26, weekend], Mon 29 Dec (7) -> due Mon 29 Dec.
    # Two working days before Mon 29: [Sun 28, Sat 27, Fri 26, Thu 25] Wed 24 (1), Tue 23 (2).
    clock = ClockState("acknowledge", "ack", date(2025, 12, 16), 7, date(2025, 12, 29))
    assert ENGLAND.add_working_days(clock.started_on, 7) == clock.due_on

    flags, next_on = evaluate(deadlines_only(clocks=(clock,)), date(2025, 12, 27), ENGLAND)

    assert history(flags) == [("acknowledge:due-soon", date(2025, 12, 23), None)]
    assert next_on == date(2025, 12, 29)


def test_a_clock_stopped_late_keeps_its_breach_on_record_cleared_on_the_stop_date() -> None:
    stopped = respond_clock(ENGLAND, stopped_on=date(2026, 1, 13))

    for as_of in (date(2026, 1, 13), date(2026, 2, 27)):
        flags, next_on = evaluate(deadlines_only(clocks=(stopped,)), as_of, ENGLAND)
        assert history(flags) == [
            (SOON, E_SOON, E_DUE),
            (TODAY, E_DUE, E_BREACH),
            (BREACH, E_BREACH, date(2026, 1, 13)),
        ]
        assert next_on is None


@pytest.mark.parametrize(
    ("stopped_on", "expected"),
    [
        # Stopped on the due date: due-today is raised and cleared that day; never breached.
        (E_DUE, [(SOON, E_SOON, E_DUE), (TODAY, E_DUE, E_DUE)]),
        # Stopped the day after due-soon was raised: due-soon cleared then, nothing else.
        (date(2026, 1, 7), [(SOON, E_SOON, date(2026, 1, 7))]),
        # Stopped before the due-soon date: no flag at all.
        (date(2026, 1, 5), []),
    ],
    ids=["on-the-due-date", "before-the-due-date", "before-due-soon"],
)
def test_a_clock_stopped_on_time_is_never_breached(
    stopped_on: date, expected: list[tuple[str, date, date | None]]
) -> None:
    clock = respond_clock(ENGLAND, stopped_on=stopped_on)

    flags, next_on = evaluate(deadlines_only(clocks=(clock,)), date(2026, 2, 27), ENGLAND)

    assert history(flags) == expected
    assert BREACH not in {f.name for f in flags}
    assert next_on is None


def test_due_soon_is_never_raised_before_the_day_after_the_clock_started() -> None:
    # 2 working days from Mon 12 Jan 2026: due Wed 14. Two working days before it is Mon 12, the
    # start date itself, so due-soon starts the day after the start: Tue 13.
    two_days = ClockState("c", "c", date(2026, 1, 12), 2, date(2026, 1, 14))
    flags, _ = evaluate(deadlines_only(clocks=(two_days,)), date(2026, 1, 13), ENGLAND)
    assert history(flags) == [("c:due-soon", date(2026, 1, 13), None)]

    # 1 working day from Mon 12: due Tue 13; due-soon would fall on the due date, so none.
    one_day = ClockState("c", "c", date(2026, 1, 12), 1, date(2026, 1, 13))
    flags, next_on = evaluate(deadlines_only(clocks=(one_day,)), date(2026, 1, 12), ENGLAND)
    assert flags == []
    assert next_on == date(2026, 1, 13)
    flags, _ = evaluate(deadlines_only(clocks=(one_day,)), date(2026, 1, 14), ENGLAND)
    assert history(flags) == [
        ("c:due-today", date(2026, 1, 13), date(2026, 1, 14)),
        ("c:breached", date(2026, 1, 14), None),
    ]


def test_no_due_soon_flag_when_the_policy_sets_zero_days() -> None:
    clock = respond_clock(ENGLAND)

    flags, next_on = evaluate(deadlines_only(clocks=(clock,), due_soon_days=0), E_SOON, ENGLAND)

    assert flags == []
    assert next_on == E_DUE


def test_a_declared_closure_inside_the_window_moves_every_deadline_flag_a_working_day() -> None:
    # A landlord closure on Mon 5 Jan 2026: the clock from Mon 22 Dec becomes due Fri 9 Jan
    # (... Fri 2 (6), [Mon 5 closed], Tue 6 (7), Wed 7 (8), Thu 8 (9), Fri 9 (10)); due-soon two
    # working days before: Thu 8 (1), Wed 7 (2); breached Sat 10.
    closed = WorkingCalendar(
        "england-and-wales", name="lh", overrides=[DayOverride(date(2026, 1, 5), "flood")]
    )
    clock = respond_clock(closed)
    assert clock.due_on == date(2026, 1, 9)

    flags, _ = evaluate(deadlines_only(clocks=(clock,)), date(2026, 1, 12), closed)

    assert history(flags) == [
        (SOON, date(2026, 1, 7), date(2026, 1, 9)),
        (TODAY, date(2026, 1, 9), date(2026, 1, 10)),
        (BREACH, date(2026, 1, 10), None),
    ]


def test_a_closed_case_keeps_its_deadline_history_and_gets_nothing_new() -> None:
    # Responded late on Tue 13 Jan, closed the same day: every clock stopped.
    stopped = respond_clock(ENGLAND, stopped_on=date(2026, 1, 13))
    case = inputs(is_open=False, clocks=(stopped,))

    flags, next_on = evaluate(case, date(2026, 3, 2), ENGLAND)

    assert {f.kind for f in flags} == {"deadline"}  # no contact flags on a closed case
    assert history(flags) == [
        (SOON, E_SOON, E_DUE),
        (TODAY, E_DUE, E_BREACH),
        (BREACH, E_BREACH, date(2026, 1, 13)),
    ]
    assert raised(flags) == {}
    assert next_on is None


def test_the_next_change_is_the_earliest_coming_raise_or_clear() -> None:
    case = inputs(clocks=(respond_clock(ENGLAND),))

    # Mon 5 Jan: next is respond due-soon on Tue 6 (before contact-overdue on Wed 7).
    assert evaluate(case, date(2026, 1, 5), ENGLAND)[1] == E_SOON
    # Tue 6: contact-overdue (Wed 7) comes before the clearing of due-soon (Thu 8).
    assert evaluate(case, E_SOON, ENGLAND)[1] == date(2026, 1, 7)
    # Wed 7: due-soon is cleared and due-today raised on Thu 8.
    assert evaluate(case, date(2026, 1, 7), ENGLAND)[1] == E_DUE
    # Fri 9 (breached): manager-alert on Wed 14 Jan is the next change.
    assert evaluate(case, E_BREACH, ENGLAND)[1] == date(2026, 1, 14)
    # A future clear is reported as not cleared yet.
    flags, _ = evaluate(case, date(2026, 1, 7), ENGLAND)
    assert next(f for f in flags if f.name == SOON).cleared_on is None


# -- diff_flags ------------------------------------------------------------------------------------


def _contact(name: str, anchor: date, raised_on: date, cleared_on: date | None = None) -> Flag:
    return Flag(name, "contact", name, None, anchor, raised_on, cleared_on)


def test_diff_of_what_is_stored_against_the_same_answer_changes_nothing() -> None:
    case = inputs(clocks=(respond_clock(ENGLAND, stopped_on=date(2026, 1, 13)),))
    wanted, _ = evaluate(case, date(2026, 1, 20), ENGLAND)

    first = diff_flags([], wanted, date(2026, 1, 20))
    assert sorted(f.key for f in first.raise_) == sorted(f.key for f in wanted)
    assert first.clear == []

    again = diff_flags(wanted, wanted, date(2026, 1, 20))
    assert again.raise_ == []
    assert again.clear == []


def test_a_stored_flag_the_rules_no_longer_want_is_cleared_on_the_clear_date() -> None:
    old = _contact("contact-due", FRI_19_DEC, date(2025, 12, 24))
    # A contact on Mon 29 Dec restarts the countdown: the new anchor is a new crossing.
    wanted, _ = evaluate(inputs(countdown_from=date(2025, 12, 29)), date(2025, 12, 29), ENGLAND)
    assert wanted == []

    changes = diff_flags([old], wanted, date(2025, 12, 29))

    assert changes.raise_ == []
    assert changes.clear == [(("contact-due", FRI_19_DEC), date(2025, 12, 29))]


def test_a_flag_raised_after_a_back_dated_fact_is_withdrawn_not_cleared() -> None:
    # Raised on 7 Jan; a contact recorded later but dated 5 Jan means it never crossed.
    stored = _contact("contact-overdue", FRI_19_DEC, date(2026, 1, 7))

    changes = diff_flags([stored], [], clear_on=date(2026, 1, 5))

    assert changes.clear == []
    assert changes.withdraw == [("contact-overdue", FRI_19_DEC)]


def test_a_flag_raised_on_the_day_of_the_fact_is_cleared_that_day() -> None:
    stored = _contact("contact-overdue", FRI_19_DEC, date(2026, 1, 7))

    changes = diff_flags([stored], [], clear_on=date(2026, 1, 7))

    assert changes.clear == [(("contact-overdue", FRI_19_DEC), date(2026, 1, 7))]
    assert changes.withdraw == []


def test_a_stored_raised_flag_the_rules_now_clear_takes_the_rules_date() -> None:
    stored = Flag(SOON, "deadline", DUE_SOON, "respond", E_DUE, E_SOON)
    wanted = [
        replace(stored, cleared_on=E_DUE),
        Flag(TODAY, "deadline", DUE_TODAY, "respond", E_DUE, E_DUE),
    ]

    changes = diff_flags([stored], wanted, clear_on=date(2026, 1, 12))

    assert changes.clear == [((SOON, E_DUE), E_DUE)]  # the rules' date, not the sweep's
    assert [f.name for f in changes.raise_] == [TODAY]


def test_stored_history_is_left_alone_and_never_raised_again() -> None:
    cleared = _contact("contact-due", FRI_19_DEC, date(2025, 12, 24), date(2025, 12, 29))
    same_crossing = _contact("contact-due", FRI_19_DEC, date(2025, 12, 24))

    # Not wanted any more: history stays as it is.
    assert diff_flags([cleared], [], date(2026, 1, 5)) == diff_flags([], [], date(2026, 1, 5))
    # Wanted again for the same crossing: not raised a second time.
    changes = diff_flags([cleared], [same_crossing], date(2026, 1, 5))
    assert changes.raise_ == []
    assert changes.clear == []


# -- properties ------------------------------------------------------------------------------------

FIRST = date(2025, 1, 1)
LAST = date(2026, 12, 31)
CALENDARS = {"england-and-wales": ENGLAND, "scotland": SCOTLAND}


@st.composite
def case_histories(draw: st.DrawFn) -> tuple[WorkingCalendar, FlagInputs, dict[str, date]]:
    """A calendar, case inputs with running clocks, and the date each clock is later stopped
    (absent: never within the test's window)."""
    calendar = CALENDARS[draw(st.sampled_from(sorted(CALENDARS)))]
    clocks = []
    stops: dict[str, date] = {}
    for i in range(draw(st.integers(0, 3))):
        started = draw(st.dates(FIRST, date(2026, 6, 30)))
        days = draw(st.integers(1, 25))
        name = f"clock{i}"
        clocks.append(
            ClockState(name, name, started, days, calendar.add_working_days(started, days))
        )
        if draw(st.booleans()):
            stops[name] = started + timedelta(days=draw(st.integers(0, 60)))
    case = FlagInputs(
        is_open=True,
        countdown_from=draw(st.dates(FIRST, date(2026, 6, 30))),
        contact_levels=LEVELS,
        agreed_interval_days=draw(st.one_of(st.none(), st.integers(1, 15))),
        clocks=tuple(clocks),
        due_soon_days=draw(st.integers(0, 3)),
    )
    return calendar, case, stops


def as_known_on(case: FlagInputs, stops: dict[str, date], day: date) -> FlagInputs:
    """The case as the system knows it on ``day``: a clock stops only once its stop date came."""
    clocks = tuple(
        replace(c, stopped_on=stops[c.name]) if c.name in stops and stops[c.name] <= day else c
        for c in case.clocks
    )
    return replace(case, clocks=clocks)


@settings(max_examples=200, deadline=None)
@given(case_histories(), st.dates(FIRST, LAST), st.integers(0, 120))
def test_history_is_monotone_evaluating_later_never_changes_an_earlier_raise(
    history_: tuple[WorkingCalendar, FlagInputs, dict[str, date]], d1: date, gap: int
) -> None:
    calendar, case, stops = history_
    d2 = d1 + timedelta(days=gap)
    if case.countdown_from > d1:
        case = replace(case, countdown_from=d1)

    earlier, _ = evaluate(as_known_on(case, stops, d1), d1, calendar)
    later, _ = evaluate(as_known_on(case, stops, d2), d2, calendar)

    assert all(f.raised_on <= d1 for f in earlier)
    assert all(f.raised_on <= d2 for f in later)
    assert {f.key: f.raised_on for f in later if f.raised_on <= d1} == {
        f.key: f.raised_on for f in earlier
    }
    # A flag cleared by d1 stays cleared on the same date.
    cleared_then = {f.key: f.cleared_on for f in earlier if f.cleared_on is not None}
    assert {k: v for k, v in ((f.key, f.cleared_on) for f in later) if k in cleared_then} == (
        cleared_then
    )


def apply(stored: dict[tuple[str, date], Flag], changes: FlagChanges) -> None:
    """Write ``changes`` to ``stored`` as the repository would (a crossing is one row)."""
    for flag in changes.raise_:
        assert flag.key not in stored, f"{flag.key} raised twice"
        stored[flag.key] = flag
    for key, cleared_on in changes.clear:
        assert stored[key].cleared_on is None, f"{key} cleared twice"
        stored[key] = replace(stored[key], cleared_on=cleared_on)


def deadline_flags(flags: list[Flag]) -> list[Flag]:
    return [f for f in flags if f.kind == "deadline"]


@settings(max_examples=150, deadline=None)
@given(
    case_histories(),
    st.dates(FIRST, date(2026, 8, 31)),
    st.integers(0, 45),
    st.booleans(),
)
def test_sweeping_every_night_ends_with_the_same_deadline_flags_as_sweeping_once(
    history_: tuple[WorkingCalendar, FlagInputs, dict[str, date]],
    d0: date,
    nights: int,
    stops_known_in_advance: bool,
) -> None:
    """Fold diff_flags over every day d0..dN vs one diff at dN (deadline flags only: contact
    flags change only with commands). Clocks either stop on their stop date (as the service
    sees them) or are known stopped from the start."""
    calendar, case, stops = history_
    dn = d0 + timedelta(days=nights)

    def known(day: date) -> FlagInputs:
        return as_known_on(case, stops, dn if stops_known_in_advance else day)

    every_night: dict[tuple[str, date], Flag] = {}
    day = d0
    while day <= dn:
        wanted, _ = evaluate(known(day), day, calendar)
        apply(every_night, diff_flags(every_night.values(), deadline_flags(wanted), day))
        day += ONE_DAY

    once: dict[tuple[str, date], Flag] = {}
    wanted, _ = evaluate(known(dn), dn, calendar)
    apply(once, diff_flags([], deadline_flags(wanted), dn))

    def state(stored: dict[tuple[str, date], Flag]) -> set[tuple[object, ...]]:
        return {(k, f.raised_on, f.cleared_on) for k, f in stored.items()}

    assert state(every_night) == state(once)
    # And a further diff at dN against either changes nothing.
    again = diff_flags(every_night.values(), deadline_flags(wanted), dn)
    assert again.raise_ == [] and again.clear == []

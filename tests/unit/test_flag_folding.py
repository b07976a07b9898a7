"""Folding a command's flag changes for one-statement writes keeps the end state.

PostgreSQL sends a command's writes as one statement, whose parts cannot see each other's rows;
``folded`` rewrites the changes so that applying them all at once, against the rows stored
before, ends where applying them in order (raises, clears, withdrawals) does.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from adapters.db.flag_writes import FlagChangeRows, folded

Key = tuple[int, str, date]
DAY = date(2026, 1, 5)
KEYS = [(case, name, DAY + timedelta(days=d)) for case in (1, 2) for name in "ab" for d in (0, 1)]


def row(key: Key, **values: Any) -> dict[str, Any]:
    return {"case_id": key[0], "name": key[1], "anchor_on": key[2], **values}


def key_of(r: dict[str, Any]) -> Key:
    return r["case_id"], r["name"], r["anchor_on"]


def in_order(stored: dict[Key, date | None], changes: FlagChangeRows) -> dict[Key, date | None]:
    """What a statement per kind, run one after the other, leaves."""
    rows = dict(stored)
    for r in changes.raises:
        rows[key_of(r)] = r["cleared_on"]
    for r in changes.clears:
        if key_of(r) in rows:
            rows[key_of(r)] = r["cleared_on"]
    for r in changes.withdrawals:
        rows.pop(key_of(r), None)
    return rows


def at_once(stored: dict[Key, date | None], changes: FlagChangeRows) -> dict[Key, date | None]:
    """What one statement leaves: updates and deletes see only the rows stored before it, and
    a row changed twice would be an error."""
    touched = [key_of(r) for r in (*changes.clears, *changes.withdrawals) if key_of(r) in stored]
    assert len(touched) == len(set(touched)), "one row changed twice in one statement"
    rows = dict(stored)
    for r in changes.clears:
        if key_of(r) in stored:
            rows[key_of(r)] = r["cleared_on"]
    for r in changes.withdrawals:
        if key_of(r) in stored:
            del rows[key_of(r)]
    for r in changes.raises:
        assert key_of(r) not in rows
        rows[key_of(r)] = r["cleared_on"]
    return rows


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dict[Key, date | None], FlagChangeRows]:
    dates = st.one_of(st.none(), st.dates(DAY, DAY + timedelta(days=30)))
    stored_keys = draw(st.lists(st.sampled_from(KEYS), unique=True))
    stored = {key: draw(dates) for key in stored_keys}
    new = [k for k in KEYS if k not in stored]
    raised = draw(st.lists(st.sampled_from(new), unique=True)) if new else []
    known = stored_keys + raised
    changes = FlagChangeRows(
        raises=[row(k, cleared_on=draw(dates)) for k in raised],
        clears=[
            row(k, cleared_on=draw(st.dates(DAY, DAY + timedelta(days=30))))
            for k in (draw(st.lists(st.sampled_from(known), unique=True)) if known else [])
        ],
        withdrawals=[
            row(k) for k in (draw(st.lists(st.sampled_from(known), unique=True)) if known else [])
        ],
    )
    return stored, changes


@given(scenarios())
def test_folded_changes_applied_at_once_end_where_the_changes_in_order_do(
    scenario: tuple[dict[Key, date | None], FlagChangeRows],
) -> None:
    stored, changes = scenario
    assert at_once(stored, folded(changes)) == in_order(stored, changes)


def test_a_flag_raised_and_cleared_by_one_command_is_inserted_cleared() -> None:
    key = KEYS[0]
    changes = FlagChangeRows(
        raises=[row(key, cleared_on=None, level="contact-due")],
        clears=[row(key, cleared_on=DAY)],
        withdrawals=[],
    )
    result = folded(changes)
    assert result.raises == [row(key, cleared_on=DAY, level="contact-due")]
    assert result.clears == [] and result.withdrawals == []
    assert changes.raises[0]["cleared_on"] is None  # the input rows are left as they were

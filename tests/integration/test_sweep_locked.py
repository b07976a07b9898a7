"""A case a command holds while the sweep runs is skipped, not waited for nor lost (PostgreSQL).

The sweep claims its batches with ``FOR UPDATE SKIP LOCKED`` and, on PostgreSQL, evaluates the
next batch while the previous one is written: a case locked by another transaction is left out
of every batch, the other cases are swept, and the next sweep picks it up, ending exactly like
a sweep that never met the lock. Same cases and dates as ``test_sweep``.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from test_sweep import (
    DN,
    OPENING,
    World,
    check_consistent,
    counts,
    event_table,
    flag_table,
    nightly,
    twin,
    world,
)

from adapters.db.tables import cases

__all__ = ["twin", "world"]  # the fixtures, shared with test_sweep


def test_a_case_locked_by_a_command_is_skipped_and_swept_next_time(
    world: World, twin: World, db_url: str
) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time: no row locks to skip")
    for w in (world, twin):
        w.play(OPENING)
        w.clock.set(nightly(DN))
    held = world.refs["C"]
    sweeper = world.sweeper(batch_size=2)

    with world.engine.connect() as other:
        lock = other.begin()
        other.execute(select(cases.c.id).where(cases.c.reference == held).with_for_update())
        first = sweeper.run(DN)
        lock.rollback()

    assert first.cases_checked == 5 and first.batches == 3
    assert held not in flag_table(world.engine)
    assert sweeper.due_count(DN) == 1
    check_consistent(world.engine)

    second = sweeper.run(DN)
    assert second.cases_checked == 1
    uninterrupted = twin.sweeper(batch_size=2).run(DN)
    assert uninterrupted.cases_checked == 6
    assert flag_table(world.engine) == flag_table(twin.engine)
    assert event_table(world.engine) == event_table(twin.engine)
    assert counts(world.engine) == counts(twin.engine)
    check_consistent(world.engine)

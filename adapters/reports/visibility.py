"""Which cases a report may list for its viewer: restricted cases are counted, never itemised.

A restricted case (staff conduct, or opened ``restricted``) is visible only to actors with the
``see-restricted`` permission and to the case's named manager (``engine.access``). Reports count
every case in every figure, whoever runs them, but a line that names a case (its reference, its
dates, any text) is only produced for a case the viewer may see. The test is done in SQL: the
reference of a case the viewer may not see never leaves the database; the query returns NULL
in its place, and the report says how many such cases were left out of the list.

``viewer=None`` is the embedding process without an actor: like ``SYSTEM_ACTOR`` it may not see
restricted cases (the safe default).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, null, true
from sqlalchemy.sql import ColumnElement

from adapters.db.tables import cases
from engine.access import SEE_RESTRICTED, Actor


def listable(viewer: Actor | None) -> ColumnElement[bool]:
    """True for the cases ``viewer`` may see listed one by one."""
    if viewer is not None and viewer.may(SEE_RESTRICTED):
        return true()
    unrestricted: ColumnElement[bool] = cases.c.restricted.is_(False)
    if viewer is None:
        return unrestricted
    managed: ColumnElement[bool] = cases.c.manager == viewer.name
    return unrestricted | managed


def if_listable(viewer: Actor | None, column: Any, label: str) -> Any:
    """``column`` for a case the viewer may see, else NULL (labelled ``label``)."""
    if viewer is not None and viewer.may(SEE_RESTRICTED):
        return column.label(label)
    return case((listable(viewer), column), else_=null()).label(label)


def not_listed_note(hidden: int, noun: str, nouns: str) -> tuple[str, ...]:
    """The note a table carries when restricted cases were left out of its list."""
    if hidden == 0:
        return ()
    return (
        f"{hidden} {noun if hidden == 1 else nouns} not listed: counted in every figure, but "
        "listed only for those who may see restricted cases.",
    )

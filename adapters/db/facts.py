"""Milestones and responses copied to their own tables when they happen, for SQL reports.

``cases.records`` stays the aggregate's own store; these rows are written once, in the same
transaction, the first time a milestone or a stage's response appears on the case.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert

from adapters.db.tables import case_milestones, case_responses
from engine.model import Case

# Built once; ``inline``: no implicit ``RETURNING``, as these may run pipelined (connection.py).
_INSERT_MILESTONES = insert(case_milestones).inline()
_INSERT_RESPONSES = insert(case_responses).inline()


def facts_of(case: Case) -> frozenset[str]:
    """Keys of the facts a case already has: ``m:<milestone>`` and ``r:<stage>``."""
    milestones = {f"m:{name}" for name in case.milestones}
    responses = {f"r:{stage}" for stage in case.records.get("responses", {})}
    return frozenset(milestones | responses)


def new_fact_rows(
    case: Case, known: frozenset[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows for the milestones and the responses the case gained since ``known``."""
    new_milestones = [
        {
            "case_id": case.id,
            "name": name,
            "at": at,
            "business_date": case.milestone_dates[name],
        }
        for name, at in case.milestones.items()
        if f"m:{name}" not in known
    ]
    responses = case.records.get("responses", {})
    new_responses = []
    for stage, response in responses.items():
        if f"r:{stage}" in known:
            continue
        milestone = "responded" if str(stage) == "1" else "stage2_responded"
        responded_on = case.milestone_dates.get(milestone)
        if responded_on is None:
            continue
        new_responses.append(
            {
                "case_id": case.id,
                "stage": int(stage),
                "decision": response["decision"],
                "avoidable": response.get("avoidable"),
                "compensation_pence": int(response.get("compensation_pence", 0)),
                "responded_on": responded_on,
            }
        )
    return new_milestones, new_responses


def write_report_facts(conn: Connection, case: Case, known: frozenset[str]) -> None:
    """Insert the milestones and responses the case gained since ``known``."""
    new_milestones, new_responses = new_fact_rows(case, known)
    if new_milestones:
        conn.execute(_INSERT_MILESTONES, new_milestones)
    if new_responses:
        conn.execute(_INSERT_RESPONSES, new_responses)

"""A dissatisfied contact or service request, as many landlords log them (Code 1.4-1.5).

open -> resolved (with the agreed outcome, and the resident told how to complain), or escalated:
that opens a linked Stage 1 complaint received at the moment the resident asked. It is not a
"stage 0": the resident can turn it into a complaint at any time, even after it was resolved, and
nothing blocks that.
"""

from __future__ import annotations

from typing import Any

from engine.common import common_steps
from engine.definition import Step, StepContext, WorkflowDefinition
from workflows import guards

STATES = ("open", "resolved", "escalated")


def _resolution_recorded(ctx: StepContext) -> str | None:
    if not guards.text(ctx.payload, "agreed_outcome"):
        return "record the outcome agreed with the resident (--outcome)"
    if ctx.payload.get("told_how_to_complain") is not True:
        return "tell the resident how to make a complaint and record that you did"
    return None


def _resolve(ctx: StepContext) -> dict[str, Any]:
    record = {
        "agreed_outcome": guards.text(ctx.payload, "agreed_outcome"),
        "told_how_to_complain": True,
    }
    ctx.case.records["resolution"] = record
    return record


def _escalate(ctx: StepContext) -> dict[str, Any]:
    return {"from_state": ctx.source, "note": guards.text(ctx.payload, "note")}


STEPS = (
    Step(
        "resolve",
        ("open",),
        "resolved",
        "resolved",
        "Record the resolution agreed with the resident, who is told how to complain.",
        guards=(_resolution_recorded,),
        effect=_resolve,
        contacts_resident=True,
        takes=("agreed_outcome", "told_how_to_complain"),
    ),
    Step(
        "escalate",
        ("open", "resolved"),
        "escalated",
        "escalated_to_complaint",
        "The resident wants a complaint: open a linked Stage 1 complaint (never blocked).",
        milestone="escalated",
        effect=_escalate,
        contacts_resident=True,
        spawns="complaint",
        takes=("note",),
    ),
    *common_steps(("open",)),
)

DISSATISFACTION = WorkflowDefinition(
    name="dissatisfaction",
    reference_prefix="DIS",
    states=STATES,
    initial="open",
    initial_milestone="received",
    final_states=frozenset({"resolved", "escalated"}),
    steps=STEPS,
    clocks=(),
    description="A dissatisfied contact or service request; convertible to a complaint.",
)

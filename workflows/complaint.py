"""The two-stage complaint of the Housing Ombudsman's Complaint Handling Code.

received -> stage1 (acknowledged) -> stage1_responded -> escalation_requested -> stage2
(acknowledged) -> stage2_responded -> closed; also withdrawn, declined (an exclusion configured in
the policy) and referred_to_ombudsman. The resident may escalate any time after the Stage 1
acknowledgement, even while Stage 1 work goes on, and is never asked why. The SLA clocks come from
the case's policy; this module only records the milestones that start and stop them.
"""

from __future__ import annotations

from typing import Any

from engine.common import add_action, common_steps
from engine.definition import ALL_CLOCKS, Step, StepContext, WorkflowDefinition
from workflows import guards

STATES = (
    "received",
    "stage1",
    "stage1_responded",
    "escalation_requested",
    "stage2",
    "stage2_responded",
    "closed",
    "withdrawn",
    "declined",
    "referred_to_ombudsman",
)
FINAL = frozenset({"closed", "withdrawn", "declined", "referred_to_ombudsman"})
OPEN = tuple(s for s in STATES if s not in FINAL)

ESCALATION_ROUTE = {
    1: (
        "If you are not happy with this response, ask us to escalate your complaint to Stage 2 at "
        "any time. You do not need to give a reason."
    ),
    2: (
        "This is our final response. If you are still not happy, you can ask the Housing "
        "Ombudsman to look at your complaint: 0300 111 3000, housing-ombudsman.org.uk."
    ),
}


def _acknowledge_stage1(ctx: StepContext) -> dict[str, Any]:
    stage1 = ctx.case.records.setdefault("stage1", {})
    for key in ("understanding", "desired_outcome"):
        value = guards.text(ctx.payload, key)
        if value:
            stage1[key] = value
    handler = guards.text(ctx.payload, "handler") or ctx.case.owner or ctx.actor
    if ctx.case.owner is None:
        ctx.case.owner = handler
    # The owner, kept through Stage 1, handles it too (Code 6.13: neither at Stage 2).
    ctx.case.records["stage1_handlers"] = list(dict.fromkeys([handler, ctx.case.owner]))
    return {"stage": 1, "handler": handler, **stage1}


def _acknowledge_stage2(ctx: StepContext) -> dict[str, Any]:
    handler = guards.text(ctx.payload, "handler") or ctx.actor
    stage2 = {
        "understanding": guards.text(ctx.payload, "understanding"),
        "desired_outcome": guards.text(ctx.payload, "desired_outcome"),
    }
    ctx.case.records["stage2"] = stage2
    ctx.case.records["stage2_handler"] = handler
    ctx.case.owner = handler
    return {"stage": 2, "handler": handler, **stage2}


def _respond(stage: int) -> Any:
    def effect(ctx: StepContext) -> dict[str, Any]:
        payload = ctx.payload
        stage_key = f"stage{stage}"
        definition = guards.text(payload, "complaint_definition") or ctx.case.records.get(
            stage_key, {}
        ).get("understanding", "")
        actions = [add_action(ctx, spec).to_data() for spec in payload.get("actions", ())]
        response = {
            "stage": stage,
            "complaint_definition": definition,
            "decision": payload["decision"],
            "reasons": guards.text(payload, "reasons"),
            "compensation_pence": int(payload.get("compensation_pence", 0)),
            "actions": actions,
            "avoidable": payload.get("avoidable"),
            "learning": guards.text(payload, "learning"),
            "escalation_route": guards.text(payload, "escalation_route") or ESCALATION_ROUTE[stage],
            "responded_by": ctx.actor,
        }
        ctx.case.records.setdefault("responses", {})[str(stage)] = response
        if stage == 1:
            handlers = ctx.case.records.setdefault("stage1_handlers", [])
            if ctx.actor not in handlers:
                handlers.append(ctx.actor)
        return response

    return effect


def _note_stage1_owner(ctx: StepContext) -> dict[str, Any]:
    """Whoever owns the case during Stage 1 handled Stage 1 (Code 6.13: not at Stage 2)."""
    if ctx.source in ("stage1", "stage1_responded") and ctx.case.owner:
        handlers = ctx.case.records.setdefault("stage1_handlers", [])
        if ctx.case.owner not in handlers:
            handlers.append(ctx.case.owner)
    return {}


def _escalate(ctx: StepContext) -> dict[str, Any]:
    return {"from_state": ctx.source, "note": guards.text(ctx.payload, "note")}


def _decline(ctx: StepContext) -> dict[str, Any]:
    exclusion = ctx.policy.exclusion(str(ctx.payload["exclusion"]))
    assert exclusion is not None  # guarded
    record = {
        "exclusion": exclusion.id,
        "exclusion_description": exclusion.description,
        "reason": guards.text(ctx.payload, "reason"),
        "refused": "escalation" if ctx.source == "escalation_requested" else "complaint",
        "ombudsman_right_explained": True,
    }
    ctx.case.records["declined"] = record
    return record


def _withdraw(ctx: StepContext) -> dict[str, Any]:
    return {"reason": guards.text(ctx.payload, "reason")}


def _refer(ctx: StepContext) -> dict[str, Any]:
    record = {"ombudsman_reference": guards.text(ctx.payload, "ombudsman_reference")}
    ctx.case.records["ombudsman"] = record
    return record


def _survey_valid(ctx: StepContext) -> str | None:
    score = ctx.payload.get("score")
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        return "a satisfaction score is a whole number from 1 (very unhappy) to 5 (very happy)"
    if "survey" in ctx.case.records:
        return "the satisfaction survey has already been answered"
    return None


def _record_survey(ctx: StepContext) -> dict[str, Any]:
    record = {"score": int(ctx.payload["score"]), "comment": guards.text(ctx.payload, "comment")}
    ctx.case.records["survey"] = {**record, "at": ctx.at.isoformat()}
    return record


def _close(ctx: StepContext) -> dict[str, Any]:
    return {"note": guards.text(ctx.payload, "note")}


RESPONSE_FIELDS = (
    "decision",
    "reasons",
    "complaint_definition",
    "compensation_pence",
    "actions",
    "avoidable",
    "learning",
    "escalation_route",
)
"""What a response records (Code 6.8 at Stage 1, 6.19 at Stage 2); both stages take it."""

STEPS = (
    Step(
        "acknowledge",
        ("received",),
        "stage1",
        "acknowledged",
        "Acknowledge, define and log the complaint at Stage 1.",
        milestone="acknowledged",
        guards=(guards.understanding_recorded,),
        effect=_acknowledge_stage1,
        contacts_resident=True,
        takes=("understanding", "desired_outcome", "handler"),
    ),
    Step(
        "acknowledge",
        ("escalation_requested",),
        "stage2",
        "stage2_acknowledged",
        "Acknowledge, define and log the complaint at Stage 2.",
        milestone="stage2_acknowledged",
        guards=(guards.stage2_understanding_recorded, guards.stage2_handler_independent),
        effect=_acknowledge_stage2,
        contacts_resident=True,
        takes=("understanding", "desired_outcome", "handler"),
    ),
    Step(
        "respond",
        ("stage1",),
        "stage1_responded",
        "responded",
        "Send the Stage 1 response: decision, reasons, remedy, escalation route.",
        milestone="responded",
        guards=(guards.response_complete,),
        effect=_respond(1),
        contacts_resident=True,
        takes=RESPONSE_FIELDS,
    ),
    Step(
        "respond",
        ("stage2",),
        "stage2_responded",
        "stage2_responded",
        "Send the Stage 2 (final) response.",
        milestone="stage2_responded",
        guards=(guards.response_complete, guards.stage2_handler_independent),
        effect=_respond(2),
        contacts_resident=True,
        takes=RESPONSE_FIELDS,
    ),
    Step(
        "escalate",
        ("stage1", "stage1_responded"),
        "escalation_requested",
        "escalation_requested",
        "The resident asks for Stage 2 (never asked for reasons).",
        milestone="escalation_requested",
        effect=_escalate,
        ends_clocks=("acknowledge", "respond"),
        contacts_resident=True,
        takes=("note",),
    ),
    Step(
        "close",
        ("stage1_responded", "stage2_responded"),
        "closed",
        "closed",
        "Close the case once every remedy action is done.",
        guards=(guards.no_outstanding_actions,),
        effect=_close,
        ends_clocks=ALL_CLOCKS,
        takes=("note",),
    ),
    Step(
        "decline",
        ("received", "escalation_requested"),
        "declined",
        "declined",
        "Refuse the complaint or its escalation on a configured exclusion.",
        guards=(guards.configured_exclusion,),
        effect=_decline,
        ends_clocks=ALL_CLOCKS,
        contacts_resident=True,
        takes=("exclusion", "reason"),
    ),
    Step(
        "withdraw",
        OPEN,
        "withdrawn",
        "withdrawn",
        "The resident withdraws the complaint.",
        effect=_withdraw,
        ends_clocks=ALL_CLOCKS,
        takes=("reason",),
    ),
    Step(
        "refer",
        (
            "stage1_responded",
            "escalation_requested",
            "stage2",
            "stage2_responded",
            "closed",
            "declined",
        ),
        "referred_to_ombudsman",
        "referred_to_ombudsman",
        "The complaint has gone to the Housing Ombudsman.",
        effect=_refer,
        ends_clocks=ALL_CLOCKS,
        takes=("ombudsman_reference",),
    ),
    Step(
        "record_survey",
        ("closed",),
        None,
        "survey_answered",
        "Record the resident's answer to the satisfaction survey (1-5).",
        guards=(_survey_valid,),
        effect=_record_survey,
        takes=("score", "comment"),
    ),
    *common_steps(
        OPEN,
        assign_guards=(guards.assignee_independent_at_stage2,),
        after_assign=_note_stage1_owner,
    ),
)

COMPLAINT = WorkflowDefinition(
    name="complaint",
    reference_prefix="CMP",
    states=STATES,
    initial="received",
    initial_milestone="received",
    final_states=FINAL,
    steps=STEPS,
    clocks=("acknowledge", "respond", "stage2_acknowledge", "stage2_respond"),
    receipt_milestones=frozenset({"received", "escalation_requested"}),
    extension_clocks={"1": "respond", "2": "stage2_respond"},
    work_now_clocks=frozenset({"acknowledge", "stage2_acknowledge"}),
    description="Two-stage complaint under the Housing Ombudsman's Complaint Handling Code.",
)

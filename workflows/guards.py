"""Guards shared by the complaint workflows: each returns ``None`` or a one-line refusal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.common import action_due_problem
from engine.definition import StepContext
from engine.model import DECISIONS


def text(payload: Mapping[str, Any], key: str) -> str:
    value = payload.get(key)
    return value.strip() if isinstance(value, str) else ""


def understanding_recorded(ctx: StepContext) -> str | None:
    """Code 5.6: at logging, set out the understanding of the complaint and the outcome sought."""
    stage1 = ctx.case.records.get("stage1", {})
    if not (text(ctx.payload, "understanding") or stage1.get("understanding")):
        return "record the landlord's understanding of the complaint (--understanding)"
    if not (text(ctx.payload, "desired_outcome") or stage1.get("desired_outcome")):
        return "record the outcome the resident wants (--outcome)"
    return None


def stage2_understanding_recorded(ctx: StepContext) -> str | None:
    """Code 5.6 again, at escalation: understanding and outcome sought for Stage 2."""
    if not text(ctx.payload, "understanding"):
        return "record the landlord's understanding of the Stage 2 complaint (--understanding)"
    if not text(ctx.payload, "desired_outcome"):
        return "record the outcome the resident wants from Stage 2 (--outcome)"
    return None


def stage1_handlers(ctx: StepContext) -> list[str]:
    handlers = ctx.case.records.get("stage1_handlers", [])
    return [str(h) for h in handlers]


def stage2_handler_independent(ctx: StepContext) -> str | None:
    """Code 6.13: the Stage 2 handler must not be the person who considered Stage 1."""
    handler = text(ctx.payload, "handler") or ctx.actor
    if handler in stage1_handlers(ctx):
        return f"{handler} handled Stage 1; the Code (6.13) requires a different person at Stage 2"
    return None


def assignee_independent_at_stage2(ctx: StepContext) -> str | None:
    """Assigning a Stage 2 case to the Stage 1 handler is refused for the same reason."""
    if ctx.case.state not in ("escalation_requested", "stage2", "stage2_responded"):
        return None
    owner = text(ctx.payload, "owner")
    if owner in stage1_handlers(ctx):
        return f"{owner} handled Stage 1; the Code (6.13) requires a different person at Stage 2"
    return None


def response_complete(ctx: StepContext) -> str | None:
    """Code 6.8/6.19: a response states the decision, the reasons and any remedy."""
    payload = ctx.payload
    if payload.get("decision") not in DECISIONS:
        return f"the decision must be one of {', '.join(DECISIONS)} (--decision)"
    if not text(payload, "reasons"):
        return "a response must give the reasons for the decision (--reasons)"
    compensation = payload.get("compensation_pence", 0)
    if isinstance(compensation, bool) or not isinstance(compensation, int) or compensation < 0:
        return "compensation must be an amount of money, zero or more"
    if payload["decision"] != "not-upheld" and not isinstance(payload.get("avoidable"), bool):
        return "say whether the failure was avoidable (--avoidable / --not-avoidable)"
    for i, action in enumerate(payload.get("actions", ()), start=1):
        if not isinstance(action, Mapping):
            return f"action {i} is malformed"
        if not text(action, "description") or not text(action, "owner"):
            return f"action {i} needs a description and an owner"
        problem = action_due_problem(ctx, action.get("due_on"), f"action {i}")
        if problem is not None:
            return problem
    return None


def no_outstanding_actions(ctx: StepContext) -> str | None:
    """Code 6.6: the case stays open until every remedy action is done."""
    outstanding = ctx.case.outstanding_actions
    if outstanding:
        numbers = ", ".join(str(a.number) for a in outstanding)
        return f"{len(outstanding)} action(s) still outstanding ({numbers}); complete them first"
    return None


def configured_exclusion(ctx: StepContext) -> str | None:
    """Code 2.1-2.4: refuse only on an exclusion the policy configures, with reasons."""
    exclusion_id = ctx.payload.get("exclusion")
    if not isinstance(exclusion_id, str) or ctx.policy.exclusion(exclusion_id) is None:
        known = ", ".join(e.id for e in ctx.policy.exclusions) or "none"
        return f"refusal needs one of the policy's exclusions ({known}), got {exclusion_id!r}"
    if not text(ctx.payload, "reason"):
        return "explain the refusal to the resident (--reason)"
    return None

"""Workflow definitions by name. Adding a kind of case means adding it here, not to ``engine``."""

from __future__ import annotations

from collections.abc import Mapping

from engine.definition import WorkflowDefinition
from workflows.complaint import COMPLAINT
from workflows.dissatisfaction import DISSATISFACTION

WORKFLOWS: Mapping[str, WorkflowDefinition] = {
    COMPLAINT.name: COMPLAINT,
    DISSATISFACTION.name: DISSATISFACTION,
}

__all__ = ["COMPLAINT", "DISSATISFACTION", "WORKFLOWS"]

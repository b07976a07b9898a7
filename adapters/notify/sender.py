"""The worker's handler for ``notify`` jobs: read the case, write the message, send it.

The case is read when the job runs, not when it was queued, so the latest address is used and
an update that is no longer needed (someone called the resident in the meantime, or the case
closed) is quietly dropped rather than sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import structlog
from sqlalchemy import Engine

from adapters.db.repository import SqlUnitOfWork
from adapters.jobs import Job
from adapters.notify.base import NotificationError, Notifier
from adapters.notify.compose import Landlord, compose
from adapters.notify.templates import Templates
from engine.errors import CaseNotFoundError
from engine.model import Case
from engine.notifications import UPDATE

log = structlog.get_logger()


@dataclass(frozen=True)
class NotificationSender:
    """Sends the message a ``notify`` job describes through the notifier for its channel."""

    db_engine: Engine
    notifiers: Mapping[str, Notifier]
    templates: Templates
    landlord: Landlord

    def __call__(self, job: Job) -> None:
        reference = str(job.payload.get("reference") or job.reference or "")
        try:
            with SqlUnitOfWork(self.db_engine) as uow:
                case = uow.cases.get(reference)
        except CaseNotFoundError:
            raise NotificationError(f"no case {reference!r} to notify about") from None
        if not still_wanted(case, job.payload):
            log.info("notification_skipped", job=job.id, reference=reference, reason="stale")
            return
        message = compose(case, job.payload, self.templates, self.landlord)
        notifier = self.notifiers.get(message.channel)
        if notifier is None:
            raise NotificationError(f"no notifier for the {message.channel} channel")
        notifier.send(message)
        log.info(
            "notification_sent",
            job=job.id,
            reference=reference,
            message=message.kind,
            channel=message.channel,
        )


def still_wanted(case: Case, payload: Mapping[str, Any]) -> bool:
    """An update is only worth sending while its countdown flag is still raised."""
    if payload.get("message") != UPDATE:
        return True
    anchor = payload.get("anchor_on")
    return case.is_open and any(
        flag.name == payload.get("flag") and flag.anchor_on == date.fromisoformat(str(anchor))
        for flag in case.raised_flags
    )

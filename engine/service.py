"""The Python API: one method per command, used by the CLI and by embedding services alike.

Each command loads the case, runs the step, and saves the case and its event in one transaction.
Time is an argument (``at`` for back-dated steps); "now" comes from the clock port.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import structlog

from engine.access import (
    OVERRIDE,
    READ,
    SEE_RESTRICTED,
    SYSTEM_ACTOR,
    WRITE,
    Actor,
    ActorResolver,
    can_see,
    everyone_coordinator,
)
from engine.commands import apply_step, open_case
from engine.definition import WorkflowDefinition
from engine.errors import (
    CaseNotFoundError,
    ConcurrencyError,
    PermissionDeniedError,
    ValidationError,
    WorkItemNotFoundError,
)
from engine.events import Event
from engine.flagging import catch_up_flags, refresh_flags
from engine.machine import WorkflowMachine
from engine.model import CHANNELS, CONTACT_METHODS, TENURES, Case
from engine.notifications import contact_details
from engine.ports import CaseFilter, Clock, NotificationPlanner, UnitOfWork, no_notifications
from engine.queue import QueueFilter, WorkItem, desired_items, plan_work, requeue_if_needed
from engine.validation import (
    clean_payload,
    looks_like_reference,
    one_of,
    optional_text,
    required_text,
)
from sla.calendar import WorkingCalendar
from sla.policy import PolicyRegistry
from sla.timezone import london_date, to_utc

log = structlog.get_logger()

ActionSpec = Mapping[str, Any]
Who = str | Actor
"""An actor: a name (resolved to roles by the service's ``actors``) or an ``Actor``."""
WorkflowRegistry = Mapping[str, WorkflowDefinition]


def _check_reference(reference: object) -> None:
    if not looks_like_reference(reference):
        raise CaseNotFoundError(str(reference)[:40])


class ComplaintsService:
    """Commands and queries on cases.

    ``calendars`` maps a calendar name (a division or a landlord calendar) to its
    ``WorkingCalendar``; ``workflows`` maps a workflow name to its definition.
    """

    def __init__(
        self,
        *,
        uow: Callable[[], UnitOfWork],
        policies: PolicyRegistry,
        calendars: Callable[[str], WorkingCalendar],
        workflows: WorkflowRegistry,
        clock: Clock,
        categories: Sequence[str],
        default_calendar: str = "england-and-wales",
        default_policy: str = "hoc",
        team_for: Callable[[str], str] = lambda category: "complaints",
        restricted_viewers: Sequence[str] = (),
        lease: timedelta = timedelta(minutes=30),
        notifications: NotificationPlanner = no_notifications,
        actors: ActorResolver = everyone_coordinator,
        system_actor: Actor = SYSTEM_ACTOR,
    ) -> None:
        self._uow = uow
        self.policies = policies
        self.calendars = calendars
        self.workflows = workflows
        self._machines = {name: WorkflowMachine(d) for name, d in workflows.items()}
        self._clock = clock
        self.categories = tuple(categories)
        self.default_calendar = default_calendar
        self.default_policy = default_policy
        self.team_for = team_for
        self.restricted_viewers = frozenset(restricted_viewers)
        self.lease = lease
        self._notifications = notifications
        self.actors = actors
        self.system_actor = system_actor

    # -- queries -------------------------------------------------------------------------------

    def now(self) -> datetime:
        return to_utc(self._clock())

    # -- who is acting ----------------------------------------------------------------------------

    def actor(self, who: Who) -> Actor:
        """The ``Actor`` for a name (roles from ``actors``; ``restricted_viewers`` see restricted
        cases); an ``Actor`` is taken as given."""
        if isinstance(who, Actor):
            required_text(who.name, "actor", 100)
            return who
        name = required_text(who, "actor", 100)
        actor = self.actors(name)
        if name in self.restricted_viewers and not actor.may(SEE_RESTRICTED):
            actor = replace(actor, roles=actor.roles | {"complaints-team"})
        return actor

    def _require(
        self, actor: Actor, permission: str, command: str, reference: str | None = None
    ) -> None:
        require_permission(actor, permission, command, reference)

    def _visible(self, actor: Actor, case: Case, command: str) -> None:
        """A restricted case the actor may not see does not exist for them."""
        if not can_see(actor, case):
            _security_event(actor, command, case.reference, "see-restricted")
            raise CaseNotFoundError(case.reference)

    # -- queries -------------------------------------------------------------------------------

    def get(self, reference: str, *, actor: Who | None = None) -> Case:
        """The case, if ``actor`` may see it (``CaseNotFoundError`` otherwise). Without ``actor``
        the query runs as ``system_actor`` (an embedding service: no restricted cases)."""
        _check_reference(reference)
        who = self._reader(actor, "show", reference)
        with self._uow() as uow:
            case = uow.cases.get(reference)
        self._visible(who, case, "show")
        return case

    def history(self, reference: str, *, actor: Who | None = None) -> Sequence[Event]:
        """The case's events in order, if ``actor`` (default ``system_actor``) may see it."""
        _check_reference(reference)
        who = self._reader(actor, "history", reference)
        with self._uow() as uow:
            self._visible(who, uow.cases.get(reference), "history")
            return uow.cases.history(reference)

    def find(self, query: CaseFilter | None = None, *, actor: Who | None = None) -> Sequence[Case]:
        """Matching cases; restricted ones ``actor`` (default ``system_actor``) may not see are
        left out."""
        query = query or CaseFilter()
        who = self._reader(actor, "list")
        if not who.may(SEE_RESTRICTED):
            query = replace(query, visible_restricted=False, restricted_manager=who.name)
        with self._uow() as uow:
            return uow.cases.find(query)

    def _reader(self, actor: Who | None, command: str, reference: str | None = None) -> Actor:
        who = self.system_actor if actor is None else self.actor(actor)
        self._require(who, READ, command, reference)
        return who

    def allowed_commands(self, case: Case) -> list[str]:
        return self._machines[case.workflow].allowed(case.state)

    def calendar_for(self, case: Case) -> WorkingCalendar:
        return self.calendars(case.calendar)

    # -- opening ---------------------------------------------------------------------------------

    def open(
        self,
        *,
        actor: Who,
        category: str,
        channel: str,
        area: str,
        workflow: str = "complaint",
        received_at: datetime | None = None,
        summary: str = "",
        tenure: str = "lcra",
        calendar: str | None = None,
        policy: str | None = None,
        resident_ref: str | None = None,
        property_ref: str | None = None,
        preferred_contact: str | None = None,
        vulnerabilities: Sequence[str] = (),
        health_and_safety: bool = False,
        restricted: bool = False,
        owner: str | None = None,
        understanding: str | None = None,
        desired_outcome: str | None = None,
        resident_email: str | None = None,
        resident_phone: str | None = None,
        resident_name: str | None = None,
        manager: str | None = None,
    ) -> Case:
        """Log a new case and return it (its ``reference`` is the handle for every command).

        ``resident_email``, ``resident_phone`` and ``resident_name`` are how the resident's
        messages reach them; they are kept in the case file and never logged. ``manager`` names
        the manager who may see a restricted case besides the complaints team.
        """
        who = self.actor(actor)
        self._require(who, WRITE, "open")
        fields = clean_payload(
            {
                "actor": who.name,
                "category": one_of(category, "category", self.categories),
                "channel": one_of(channel, "channel", CHANNELS),
                "area": required_text(area, "area", 100),
                "workflow": one_of(workflow, "workflow", tuple(self.workflows)),
                "summary": optional_text(summary, "summary", 20_000),
                "tenure": one_of(tenure, "tenure", TENURES),
                "resident_ref": optional_text(resident_ref, "resident reference", 64),
                "property_ref": optional_text(property_ref, "property reference", 64),
                "preferred_contact": None
                if preferred_contact is None
                else one_of(preferred_contact, "preferred contact", CONTACT_METHODS),
                "owner": optional_text(owner, "owner", 100),
                "manager": optional_text(manager, "manager", 100),
                "understanding": optional_text(understanding, "understanding", 20_000),
                "desired_outcome": optional_text(desired_outcome, "desired outcome", 20_000),
                "vulnerabilities": [required_text(v, "vulnerability", 64) for v in vulnerabilities],
                "contact_details": contact_details(
                    email=resident_email, phone=resident_phone, name=resident_name
                ),
            }
        )
        now = self.now()
        received = to_utc(received_at) if received_at is not None else now
        with self._uow() as uow:
            case = self._new_case(
                uow,
                fields,
                received,
                now,
                calendar or self.default_calendar,
                policy or self.default_policy,
                health_and_safety=bool(health_and_safety),
                restricted=bool(restricted),
            )
            self._add(uow, case, now)
            uow.commit()
        log.info("case_opened", reference=case.reference, workflow=case.workflow)
        return case

    def _add(self, uow: UnitOfWork, case: Case, now: datetime) -> None:
        """Insert a new case, then queue what its opening tells the resident."""
        events = list(case.pending_events)
        uow.cases.add(case)
        policy = self.policies.get(case.policy_id)
        uow.jobs.enqueue(self._notifications(case, events, policy), now)

    def _new_case(
        self,
        uow: UnitOfWork,
        fields: Mapping[str, Any],
        received: datetime,
        now: datetime,
        calendar_name: str,
        policy_name: str,
        *,
        health_and_safety: bool,
        restricted: bool,
        linked_reference: str | None = None,
    ) -> Case:
        definition = self.workflows[fields["workflow"]]
        calendar = self.calendars(calendar_name)
        made_on = london_date(received)
        policy = self.policies.resolve(policy_name, made_on)
        case = Case(
            reference="",
            workflow=definition.name,
            state=definition.initial,
            policy_id=policy.id,
            policy_version=policy.version,
            calendar=calendar.name,
            calendar_fingerprint=calendar.fingerprint,
            received_at=received,
            channel=fields["channel"],
            category=fields["category"],
            area=fields["area"],
            tenure=fields["tenure"],
            resident_ref=fields.get("resident_ref"),
            property_ref=fields.get("property_ref"),
            preferred_contact=fields.get("preferred_contact"),
            vulnerabilities=tuple(fields.get("vulnerabilities", ())),
            health_and_safety=health_and_safety,
            restricted=restricted or fields["category"] == "staff-conduct",
            owner=fields.get("owner"),
            linked_reference=linked_reference,
        )
        stage1 = {k: fields[k] for k in ("understanding", "desired_outcome") if fields.get(k)}
        case.records = {"summary": fields.get("summary") or ""}
        if fields.get("contact_details"):
            case.records["contact_details"] = dict(fields["contact_details"])
        if fields.get("manager"):
            case.records["manager"] = fields["manager"]
        if stage1:
            case.records["stage1"] = stage1
        open_case(
            definition,
            case,
            actor=fields["actor"],
            now=now,
            policy=policy,
            calendar=calendar,
            data={"workflow": definition.name, "policy": policy.key, "calendar": calendar.name},
        )
        case.reference = uow.cases.next_reference(
            definition.reference_prefix, case.milestone_dates["received"].year
        )
        refresh_flags(case, policy, calendar, at=now, now=now)
        plan_work(
            case, definition, policy.contact_levels, london_date(now), self.team_for(case.category)
        )
        return case

    # -- generic command -------------------------------------------------------------------------

    def run(
        self,
        reference: str,
        command: str,
        payload: Mapping[str, Any] | None = None,
        *,
        actor: Who,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Case:
        """Run any command of the case's workflow; the typed methods below call this."""
        _check_reference(reference)
        who = self.actor(actor)
        self._require(who, WRITE, str(command)[:40], reference)
        clean = clean_payload(dict(payload or {}))
        now = self.now()
        with self._uow() as uow:
            case = self._run_in(uow, reference, command, clean, who, at, expected_version, now)
            uow.commit()
        log.info("command_done", reference=reference, command=command, state=case.state)
        return case

    def _run_in(
        self,
        uow: UnitOfWork,
        reference: str,
        command: str,
        clean: Mapping[str, Any],
        who: Actor,
        at: datetime | None,
        expected_version: int | None,
        now: datetime,
    ) -> Case:
        """A command inside the caller's transaction (which commits or rolls back)."""
        case = uow.cases.get(reference, lock=True)
        self._visible(who, case, str(command)[:40])
        if clean.get("good_reason"):
            self._require(who, OVERRIDE, str(command)[:40], reference)
        actor = who.name
        if expected_version is not None and case.version != expected_version:
            raise ConcurrencyError(reference, expected_version)
        machine = self._machines[case.workflow]
        policy = self.policies.get(case.policy_id)
        calendar = self.calendars(case.calendar)
        when = to_utc(at) if at is not None else now
        catch_up_flags(case, policy, calendar, at=min(when, now), now=now)
        event = apply_step(
            machine,
            case,
            command,
            clean,
            actor=actor,
            at=when,
            now=now,
            policy=policy,
            calendar=calendar,
        )
        refresh_flags(case, policy, calendar, at=min(when, now), now=now)
        plan_work(
            case,
            machine.definition,
            policy.contact_levels,
            london_date(now),
            self.team_for(case.category),
        )
        spawned = self._spawn(uow, case, machine, command, event, when, now, actor)
        events = list(case.pending_events)
        uow.cases.save(case)
        uow.jobs.enqueue(self._notifications(case, events, policy), now)
        if spawned is not None:
            self._add(uow, spawned, now)
        return case

    def _spawn(
        self,
        uow: UnitOfWork,
        case: Case,
        machine: WorkflowMachine,
        command: str,
        event: Event,
        at: datetime,
        now: datetime,
        actor_name: str,
    ) -> Case | None:
        source = event.before.get("state", case.state)
        step = machine.definition.step(command, source)
        if step is None or step.spawns is None:
            return None
        fields = {
            "actor": actor_name,
            "workflow": step.spawns,
            "category": case.category,
            "channel": case.channel,
            "area": case.area,
            "tenure": case.tenure,
            "summary": case.records.get("summary", ""),
            "resident_ref": case.resident_ref,
            "property_ref": case.property_ref,
            "preferred_contact": case.preferred_contact,
            "vulnerabilities": list(case.vulnerabilities),
            "owner": case.owner,
            "manager": case.records.get("manager"),
            "contact_details": case.records.get("contact_details"),
        }
        spawned = self._new_case(
            uow,
            fields,
            at,
            now,
            case.calendar,
            self.default_policy,
            health_and_safety=case.health_and_safety,
            restricted=case.restricted,
            linked_reference=case.reference,
        )
        case.linked_reference = spawned.reference
        event.data["opened"] = spawned.reference
        return spawned

    # -- typed commands ----------------------------------------------------------------------------

    def acknowledge(
        self,
        reference: str,
        *,
        actor: Who,
        at: datetime | None = None,
        understanding: str | None = None,
        desired_outcome: str | None = None,
        handler: str | None = None,
        expected_version: int | None = None,
    ) -> Case:
        """Acknowledge at Stage 1, or at Stage 2 after an escalation request."""
        payload = {
            "understanding": understanding,
            "desired_outcome": desired_outcome,
            "handler": handler,
        }
        return self.run(
            reference, "acknowledge", payload, actor=actor, at=at, expected_version=expected_version
        )

    def respond(
        self,
        reference: str,
        *,
        actor: Who,
        decision: str,
        reasons: str,
        at: datetime | None = None,
        complaint_definition: str | None = None,
        compensation_pence: int = 0,
        actions: Sequence[ActionSpec] = (),
        avoidable: bool | None = None,
        learning: str | None = None,
        escalation_route: str | None = None,
        expected_version: int | None = None,
    ) -> Case:
        """Send the response at the case's current stage; the stage's SLA clock stops."""
        payload = {
            "decision": decision,
            "reasons": reasons,
            "complaint_definition": complaint_definition,
            "compensation_pence": compensation_pence,
            "actions": [dict(a) for a in actions],
            "avoidable": avoidable,
            "learning": learning,
            "escalation_route": escalation_route,
        }
        return self.run(
            reference, "respond", payload, actor=actor, at=at, expected_version=expected_version
        )

    def escalate(
        self, reference: str, *, actor: Who, at: datetime | None = None, note: str | None = None
    ) -> Case:
        """The resident asks for Stage 2 (or a dissatisfaction becomes a complaint)."""
        return self.run(reference, "escalate", {"note": note}, actor=actor, at=at)

    def extend(
        self,
        reference: str,
        *,
        actor: Who,
        days: int,
        reason: str,
        stage: int | None = None,
        clock: str | None = None,
        good_reason: str | None = None,
        at: datetime | None = None,
    ) -> Case:
        """Extend the response clock of ``stage`` (or a named clock) by ``days`` working days.

        Beyond the policy's cap only with ``good_reason``, a complaints manager's reason in words
        (the ``override`` permission), recorded on the timeline with the extension."""
        who = self.actor(actor)
        self._require(who, WRITE, "extend", reference)
        if clock is None:
            case = self.get(reference, actor=who)
            mapping = self.workflows[case.workflow].extension_clocks
            if stage is None:
                running = [
                    c for c in mapping.values() if c in case.clocks and case.clocks[c].running
                ]
                clock = running[0] if running else next(iter(mapping.values()), "")
            else:
                clock = mapping.get(str(stage), "")
                if not clock:
                    raise ValidationError(f"no stage {stage} in a {case.workflow}")
        payload: dict[str, Any] = {"clock": clock, "days": days, "reason": reason}
        if good_reason is not None:
            payload["good_reason"] = good_reason
        return self.run(reference, "extend", payload, actor=who, at=at)

    def assign(self, reference: str, *, actor: Who, owner: str, at: datetime | None = None) -> Case:
        return self.run(reference, "assign", {"owner": owner}, actor=actor, at=at)

    def add_action(
        self,
        reference: str,
        *,
        actor: Who,
        description: str,
        owner: str,
        due_on: date,
        at: datetime | None = None,
    ) -> Case:
        payload = {"description": description, "owner": owner, "due_on": due_on}
        return self.run(reference, "add_action", payload, actor=actor, at=at)

    def complete_action(
        self, reference: str, *, actor: Who, number: int, at: datetime | None = None
    ) -> Case:
        return self.run(reference, "complete_action", {"number": number}, actor=actor, at=at)

    def record_contact(
        self,
        reference: str,
        *,
        actor: Who,
        direction: str,
        channel: str,
        summary: str = "",
        made: bool = True,
        at: datetime | None = None,
    ) -> Case:
        """Record a contact with the resident; a made contact restarts the countdown."""
        payload = {"direction": direction, "channel": channel, "summary": summary, "made": made}
        return self.run(reference, "contact", payload, actor=actor, at=at)

    def agree_updates(
        self,
        reference: str,
        *,
        actor: Who,
        every: int,
        note: str | None = None,
        at: datetime | None = None,
    ) -> Case:
        """Record the update interval (working days) agreed with the resident."""
        return self.run(
            reference, "agree_updates", {"every": every, "note": note}, actor=actor, at=at
        )

    def close(
        self, reference: str, *, actor: Who, note: str | None = None, at: datetime | None = None
    ) -> Case:
        return self.run(reference, "close", {"note": note}, actor=actor, at=at)

    def withdraw(
        self, reference: str, *, actor: Who, reason: str | None = None, at: datetime | None = None
    ) -> Case:
        return self.run(reference, "withdraw", {"reason": reason}, actor=actor, at=at)

    def decline(
        self,
        reference: str,
        *,
        actor: Who,
        exclusion: str,
        reason: str,
        at: datetime | None = None,
    ) -> Case:
        payload = {"exclusion": exclusion, "reason": reason}
        return self.run(reference, "decline", payload, actor=actor, at=at)

    def refer(
        self,
        reference: str,
        *,
        actor: Who,
        ombudsman_reference: str | None = None,
        at: datetime | None = None,
    ) -> Case:
        payload = {"ombudsman_reference": ombudsman_reference}
        return self.run(reference, "refer", payload, actor=actor, at=at)

    def resolve(
        self,
        reference: str,
        *,
        actor: Who,
        agreed_outcome: str,
        told_how_to_complain: bool,
        at: datetime | None = None,
    ) -> Case:
        """Resolve a dissatisfaction with the outcome agreed with the resident."""
        payload = {"agreed_outcome": agreed_outcome, "told_how_to_complain": told_how_to_complain}
        return self.run(reference, "resolve", payload, actor=actor, at=at)

    # -- the coordinators' queue ---------------------------------------------------------------

    def may_see_restricted(self, actor: Who) -> bool:
        """May ``actor`` see every restricted case (staff conduct)? Roles with the
        ``see-restricted`` permission and the names in ``restricted_viewers`` may; anyone else
        sees only the restricted cases that name them as manager (``engine.access.can_see``)."""
        return self.actor(actor).may(SEE_RESTRICTED)

    @contextmanager
    def _hidden_items_logged(self, actor: Actor, command: str) -> Iterator[None]:
        """A restricted item the actor may not see is "not found" to them, and a security event."""
        try:
            yield
        except WorkItemNotFoundError as exc:
            if exc.hidden:
                _security_event(actor, command, None, SEE_RESTRICTED)
            raise

    def queue(self, actor: Who, query: QueueFilter | None = None) -> Sequence[WorkItem]:
        """Open and claimed work items, most urgent first, that ``actor`` may see."""
        who = self.actor(actor)
        self._require(who, READ, "queue")
        with self._uow() as uow:
            return uow.queue.items(query or QueueFilter(), who.may(SEE_RESTRICTED), who.name)

    def claim(self, actor: Who, query: QueueFilter | None = None) -> WorkItem | None:
        """Lease the most urgent item ``actor`` may see to them (``None`` when there is none)."""
        who = self.actor(actor)
        self._require(who, WRITE, "claim")
        now = self.now()
        with self._uow() as uow:
            item = uow.queue.claim(
                who.name, now, now + self.lease, query or QueueFilter(), who.may(SEE_RESTRICTED)
            )
            uow.commit()
        if item is not None:
            log.info("work_item_claimed", item=item.id, reference=item.reference, kind=item.kind)
        return item

    def release(self, item_id: int, *, actor: Who) -> None:
        """Give a claimed item back to the queue (an item ``actor`` may not see is not found)."""
        who = self.actor(actor)
        self._require(who, WRITE, "release")
        now = self.now()
        with self._uow() as uow, self._hidden_items_logged(who, "release"):
            uow.queue.release(item_id, who.name, now, who.may(SEE_RESTRICTED))
            uow.commit()
        log.info("work_item_released", item=item_id)

    def complete(
        self,
        item_id: int,
        *,
        actor: Who,
        command: str | None = None,
        payload: Mapping[str, Any] | None = None,
        outcome: str | None = None,
    ) -> WorkItem:
        """Finish a claimed item, with the command that did the work, in one transaction.

        Either both happen or neither: a refused command leaves the item claimed. If the case
        still needs that kind of work afterwards (the work done did not meet the need, e.g. a
        note without the contact the countdown asks for), the need goes back to the queue as
        a fresh open item, with a ``work_item_requeued`` event on the case.
        """
        who = self.actor(actor)
        self._require(who, WRITE, "complete")
        note = optional_text(outcome, "outcome note", 200)
        clean = clean_payload(dict(payload or {}))
        now = self.now()
        with self._uow() as uow, self._hidden_items_logged(who, "complete"):
            item = uow.queue.held(item_id, who.name, now, who.may(SEE_RESTRICTED))
            case = None
            if command is not None:
                case = self._run_in(uow, item.reference, command, clean, who, None, None, now)
            uow.queue.finish(item_id, who.name, now, note or command or "done")
            if case is None:  # locked already (``held`` locks the case, then the item)
                case = uow.cases.get(item.reference, lock=True)
            policy = self.policies.get(case.policy_id)
            wanted = desired_items(
                case,
                self.workflows[case.workflow],
                policy.contact_levels,
                london_date(now),
                self.team_for(case.category),
            )
            requeued = requeue_if_needed(case, wanted, item.kind, item_id, actor=who.name, now=now)
            if requeued:
                case.open_items = None  # as loaded they include the finished item: read again
                uow.cases.save(case)
            uow.commit()
        log.info(
            "work_item_done",
            item=item_id,
            reference=item.reference,
            command=command,
            requeued=requeued,
        )
        return item


def require_permission(
    actor: Actor, permission: str, command: str, reference: str | None = None
) -> None:
    """Raise ``PermissionDeniedError`` unless ``actor`` has ``permission``; a refusal is logged
    as a security event (every adapter that checks a permission comes through here)."""
    if not actor.may(permission):
        _security_event(actor, command, reference, permission)
        raise PermissionDeniedError(actor.name, permission, command)


def _security_event(actor: Actor, command: str, reference: str | None, permission: str) -> None:
    """A refusal, for the security log: who (staff), what and which case; never personal data."""
    log.warning(
        "permission_denied",
        actor=actor.name,
        actor_role=actor.role_label,
        command=command,
        reference=reference,
        permission=permission,
    )

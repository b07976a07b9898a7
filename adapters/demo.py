"""A realistic sample database to explore the product with: ``complaints demo``.

A few hundred cases received over the last four months, each taken as far through its workflow as
time allows: most acknowledged, many responded to, some escalated, extended, declined, withdrawn
or closed with their remedy actions done, and dissatisfactions resolved or turned into
complaints. Some run late, so there are breaches to find.

Only the public ``ComplaintsService`` API is used, with back-dated ``at`` times that always follow
the previous step and are never in the future, so the audit trail is what real use would leave.
The same seed gives the same cases (relative to today). No real person appears: residents and
properties are made-up references and staff are role-like user names.

Once the cases are built, the nightly sweep runs over them, as it would overnight, so the work
queue and the messages queued for residents are what a coordinator would find in the morning.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from adapters.bootstrap import build_sweep_runner
from adapters.db.connection import create_db_engine
from adapters.jobs import JobStore
from adapters.settings import Settings
from adapters.sweep import SweepSummary
from engine.access import Actor
from engine.model import Case
from engine.ports import CaseFilter
from engine.queue import QueueFilter, WorkItem
from engine.service import ComplaintsService
from sla.calendar import WorkingCalendar
from sla.errors import ConfigError
from sla.timezone import LONDON, london_date

DEMO_URL = "sqlite:///complaints-demo.db"
AREAS = ("Exeter", "Plymouth", "Torbay", "Barnstaple", "Truro")
OFFICERS = ("s.ahmed", "j.barker", "k.evans", "m.osei", "r.price", "t.walsh")
REVIEWERS = ("l.morgan", "p.nash", "c.ferreira")  # Stage 2: never a Stage 1 officer (Code 6.13)
TEAMS = ("repairs-team", "damp-team", "estates-team", "income-team", "asb-team")
CHANNEL_WEIGHTS = {
    "phone": 34,
    "web-form": 24,
    "email": 20,
    "letter": 6,
    "in-person": 6,
    "social-media": 7,
    "ombudsman-referral": 3,
}
CATEGORY_WEIGHTS = {
    "repairs": 34,
    "damp-and-mould": 16,
    "asb": 9,
    "staff-conduct": 4,
    "housing-tenancy": 8,
    "grounds-maintenance": 8,
    "programmed-works": 7,
    "rent-and-income": 6,
    "other": 8,
}
SUMMARIES = {
    "repairs": (
        "Kitchen tap leaking for three weeks; the operative missed two booked appointments.",
        "Boiler repair outstanding for five weeks; no heating in two rooms.",
        "Front door does not lock properly since the last repair.",
        "Roof leak reported in October still not fixed; ceiling stained.",
    ),
    "damp-and-mould": (
        "Black mould has come back in the bedroom after treatment.",
        "Condensation and damp in the bathroom; the extractor fan has not worked for months.",
        "Damp patch spreading on the living room wall; survey promised but not booked.",
    ),
    "asb": (
        "Repeated late-night noise from a neighbouring flat; reports were not followed up.",
        "Rubbish dumped in the shared hallway; no response to three reports.",
    ),
    "staff-conduct": ("Officer was dismissive on the phone when asked for an update.",),
    "housing-tenancy": (
        "Mutual exchange application delayed without explanation.",
        "Request to add a partner to the tenancy has had no reply in six weeks.",
    ),
    "grounds-maintenance": (
        "Communal grass not cut all summer; the bin area is overgrown.",
        "Fallen tree branch in the shared garden reported twice.",
    ),
    "programmed-works": (
        "New kitchen installation left unfinished; waste left in the garden.",
        "Window replacement started and then abandoned for a month.",
    ),
    "rent-and-income": ("Rent account shows arrears that were paid by standing order.",),
    "other": ("Letters sent to the wrong address twice.",),
}
OUTCOMES = (
    "The repair completed and an apology.",
    "A firm date for the work and regular updates.",
    "Compensation for the inconvenience.",
    "An explanation of what went wrong and assurance it will not happen again.",
)
DECISIONS = (("upheld", 30), ("partially-upheld", 30), ("not-upheld", 40))


@dataclass(frozen=True)
class MorningView:
    """After the sweep: what it raised, the top of the work queue, and messages waiting."""

    sweep: SweepSummary | None
    queue: Sequence[WorkItem]
    messages_queued: int


def sweep_and_queue(
    service: ComplaintsService, settings: Settings, db_engine: Engine, rows: int = 10
) -> MorningView:
    """Run the sweep to today, then read the queue as a coordinator would."""
    runner = build_sweep_runner(settings, db_engine=db_engine, clock=service.now)
    summary = runner.sweep(london_date(service.now()))
    items = service.queue(OFFICERS[0], QueueFilter(limit=rows))
    return MorningView(summary, items, JobStore(db_engine).counts()["queued"])


@dataclass
class DemoSummary:
    """What the demo built: counts to print and a few references worth looking at."""

    total: int = 0
    by_state: Counter[tuple[str, str]] = field(default_factory=Counter)
    by_category: Counter[str] = field(default_factory=Counter)
    past_deadline: int = 0
    examples: dict[str, str] = field(default_factory=dict)


def prepare_database(url: str) -> Engine:
    """A fresh SQLite file for the demo (the old one is deleted); anything else is refused.

    The demo is disposable, so the file is written without fsync on every commit: this is what
    makes a few hundred cases take seconds.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError("demo --db", "", f"not a database URL: {url!r}") from None
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        raise ConfigError("demo --db", "", "the demo needs an SQLite file, e.g. " + DEMO_URL)
    try:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(database + suffix).unlink(missing_ok=True)
    except OSError as exc:
        raise ConfigError("demo --db", "", f"cannot replace {database}: {exc.strerror}") from None
    db_engine = create_db_engine(url)

    @event.listens_for(db_engine, "connect")
    def no_fsync(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()

    return db_engine


def build_demo(service: ComplaintsService, *, cases: int, seed: int) -> Iterator[str]:
    """Create ``cases`` cases, yielding each reference as it is done (for a progress bar).

    The demo's officers are the complaints team, so they work staff-conduct cases too: the
    service's actors are resolved with that role from here on.
    """
    service.actors = demo_staff
    service.system_actor = demo_staff("demo")
    builder = _Builder(service, random.Random(seed))
    for received in builder.receipt_times(cases):
        yield builder.build(received)


def demo_staff(name: str) -> Actor:
    """Everyone in the demo is on the complaints team (restricted cases included)."""
    return Actor(name, frozenset({"complaints-team"}))


def summarise(service: ComplaintsService, today: date) -> DemoSummary:
    """Counts by state and category, and how many open cases have a deadline behind them."""
    summary = DemoSummary()
    for found in service.find(CaseFilter(limit=1_000_000), actor=demo_staff("demo")):
        case = found
        summary.total += 1
        summary.by_state[(case.workflow, case.state)] += 1
        summary.by_category[case.category] += 1
        overdue = any(c.running and c.due_on < today for c in case.clocks.values())
        if case.is_open and overdue:
            summary.past_deadline += 1
            summary.examples.setdefault("overdue", case.reference)
        summary.examples.setdefault(case.state, case.reference)
    return summary


def _made_up_email(resident: str, preferred: str) -> str | None:
    """An address nobody owns (example.org, RFC 2606) for residents who prefer e-mail."""
    return f"{resident.lower()}@example.org" if preferred == "email" else None


def _made_up_phone(resident: str, preferred: str) -> str | None:
    """A number nobody owns (Ofcom's drama range, 07700 900xxx) for texts."""
    return f"07700 900{resident[-3:]}" if preferred in ("sms", "phone") else None


class _Builder:
    """Takes one case at a time as far as its random fate and today allow."""

    def __init__(self, service: ComplaintsService, rng: random.Random) -> None:
        self.service = service
        self.rng = rng
        self.now = service.now()
        self.calendar: WorkingCalendar = service.calendars(service.default_calendar)
        self.categories = list(service.categories)
        self.category_weights = [CATEGORY_WEIGHTS.get(c, 5) for c in self.categories]

    # -- time -----------------------------------------------------------------------------------

    def receipt_times(self, count: int) -> list[datetime]:
        """Receipts spread over the last ~120 days, oldest first (references follow receipt)."""
        times = []
        for _ in range(count):
            day = london_date(self.now) - timedelta(days=self.rng.randint(0, 120))
            while not self.calendar.is_working_day(day) and self.rng.random() < 0.8:
                day -= timedelta(days=1)  # most complaints arrive on working days
            at = self._at(day)
            if at >= self.now:  # later today: make it earlier today instead
                at = self.now - timedelta(minutes=self.rng.randint(5, 240))
            times.append(at)
        return sorted(times)

    def _at(self, day: date) -> datetime:
        minutes = self.rng.randint(8 * 60 + 30, 17 * 60 + 30)
        return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=LONDON)

    def after(self, previous: datetime, low: int, high: int) -> datetime | None:
        """A time ``low``..``high`` working days after ``previous``, or ``None`` if not yet."""
        day = self.calendar.add_working_days(london_date(previous), self.rng.randint(low, high))
        at = self._at(day)
        if at <= previous:
            at = previous + timedelta(minutes=self.rng.randint(20, 120))
        return at if at < self.now - timedelta(minutes=1) else None

    # -- picks ----------------------------------------------------------------------------------

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def pick(self, options: Sequence[str]) -> str:
        return self.rng.choice(options)

    def weighted(self, weights: dict[str, int] | Sequence[tuple[str, int]]) -> str:
        pairs = list(weights.items()) if isinstance(weights, dict) else list(weights)
        return self.rng.choices([k for k, _ in pairs], [w for _, w in pairs])[0]

    # -- a case ---------------------------------------------------------------------------------

    def build(self, received: datetime) -> str:
        category = self.rng.choices(self.categories, self.category_weights)[0]
        is_dissatisfaction = self.chance(0.15)
        # Drawn in this order so a seed keeps giving the same sample.
        actor = self.pick(OFFICERS)
        channel = self.weighted(CHANNEL_WEIGHTS)
        area = self.pick(AREAS)
        summary = self.pick(SUMMARIES.get(category, ("Unhappy with the service received.",)))
        tenure = "lcho" if self.chance(0.12) else "lcra"
        resident = f"R{self.rng.randint(100000, 999999)}"
        property_ref = f"P{self.rng.randint(10000, 99999)}"
        preferred = self.pick(("phone", "email", "letter", "sms"))
        case = self.service.open(
            actor=actor,
            workflow="dissatisfaction" if is_dissatisfaction else "complaint",
            received_at=received,
            category=category,
            channel=channel,
            area=area,
            summary=summary,
            tenure=tenure,
            resident_ref=resident,
            property_ref=property_ref,
            preferred_contact=preferred,
            vulnerabilities=("mobility",) if self.chance(0.08) else (),
            health_and_safety=category == "damp-and-mould" and self.chance(0.4),
            understanding=f"The resident is unhappy about {category.replace('-', ' ')}."
            if self.chance(0.5)
            else None,
            desired_outcome=self.pick(OUTCOMES) if self.chance(0.5) else None,
            resident_email=_made_up_email(resident, preferred),
            resident_phone=_made_up_phone(resident, preferred),
        )
        if is_dissatisfaction:
            self._dissatisfaction(case)
        else:
            self._stage1(case.reference, received)
        return case.reference

    def _dissatisfaction(self, case: Case) -> None:
        ref, officer = case.reference, self.pick(OFFICERS)
        fate = self.rng.random()
        if fate < 0.6:
            at = self.after(case.received_at, 0, 3)
            if at is None:
                return
            self.service.resolve(
                ref,
                actor=officer,
                at=at,
                agreed_outcome="Visit booked and the resident is happy with the plan.",
                told_how_to_complain=True,
            )
            if not self.chance(0.1):
                return
            escalate_at = self.after(at, 2, 15)
        elif fate < 0.85:
            escalate_at = self.after(case.received_at, 1, 10)
        else:
            return
        if escalate_at is None:
            return
        escalated = self.service.escalate(ref, actor=officer, at=escalate_at)
        if escalated.linked_reference:
            self._stage1(escalated.linked_reference, escalate_at)

    def _stage1(self, ref: str, received: datetime) -> None:
        service, officer = self.service, self.pick(OFFICERS)
        if self.chance(0.04):
            at = self.after(received, 1, 4)
            if at is not None:
                self._decline(ref, officer, at)
            return
        ack = self.after(received, *self._ack_delay())
        if ack is None:
            return
        service.acknowledge(
            ref,
            actor=officer,
            at=ack,
            understanding="The resident says the problem has not been put right.",
            desired_outcome=self.pick(OUTCOMES),
            handler=officer,
        )
        handed_over = ack
        if self.chance(0.1):  # handed to a colleague, who answers Stage 1
            at = self.after(ack, 0, 2)
            if at is None:
                return
            officer = self.pick([o for o in OFFICERS if o != officer])
            service.assign(ref, actor=officer, at=at, owner=officer)
            handed_over = at
        last = self._keep_in_touch(ref, officer, handed_over, stage=1)
        if last is None:
            return
        if self.chance(0.04):
            self._withdraw(ref, officer, last)
            return
        if self.chance(0.04):  # the resident escalates before Stage 1 is answered (never refused)
            at = self.after(last, 1, 4)
            if at is not None:
                service.escalate(ref, actor=officer, at=at, note="Resident wants a manager now.")
                self._stage2(ref, at)
            return
        responded = self._respond(ref, officer, last, stage=1)
        if responded is None:
            return
        self._after_stage1(ref, officer, responded)

    def _after_stage1(self, ref: str, officer: str, responded: datetime) -> None:
        if self.chance(0.22):
            at = self.after(responded, 1, 20)
            if at is not None:
                self.service.escalate(ref, actor=officer, at=at)
                self._stage2(ref, at)
            return
        done = self._finish_actions(ref, responded)
        if done is not None and self.chance(0.85):
            at = self.after(done, 1, 8)
            if at is not None:
                self.service.close(ref, actor=officer, at=at, note="Resident confirmed resolved.")

    def _stage2(self, ref: str, requested: datetime) -> None:
        reviewer = self.pick(REVIEWERS)
        if self.chance(0.05):
            at = self.after(requested, 1, 4)
            if at is not None:
                self._decline(ref, reviewer, at)
            return
        ack = self.after(requested, 1, 6)
        if ack is None:
            return
        self.service.acknowledge(
            ref,
            actor=reviewer,
            at=ack,
            understanding="The resident disagrees with the Stage 1 decision.",
            desired_outcome=self.pick(OUTCOMES),
        )
        last = self._keep_in_touch(ref, reviewer, ack, stage=2)
        if last is None:
            return
        responded = self._respond(ref, reviewer, last, stage=2)
        if responded is None:
            return
        done = self._finish_actions(ref, responded)
        if done is None:
            return
        at = self.after(done, 2, 25)
        if at is None:
            return
        if self.chance(0.12):
            number = f"{self.rng.randint(202500000, 202699999)}"
            self.service.refer(ref, actor=reviewer, at=at, ombudsman_reference=number)
        elif self.chance(0.85):
            self.service.close(ref, actor=reviewer, at=at)

    # -- steps ----------------------------------------------------------------------------------

    def _ack_delay(self) -> tuple[int, int]:
        roll = self.rng.random()
        return (0, 4) if roll < 0.8 else (5, 5) if roll < 0.9 else (6, 9)

    def _keep_in_touch(self, ref: str, actor: str, since: datetime, stage: int) -> datetime | None:
        """Updates to the resident, sometimes an agreed interval, sometimes an extension.

        Returns the time of the last step, or ``None`` when today came first.
        """
        last = since
        if self.chance(0.2):
            at = self.after(last, 0, 1)
            if at is None:
                return None
            self.service.agree_updates(ref, actor=actor, at=at, every=self.rng.choice((5, 10)))
            last = at
        for _ in range(self.rng.randint(0, 2)):
            at = self.after(last, 2, 5)
            if at is None:
                return None
            answered = self.chance(0.85)
            self.service.record_contact(
                ref,
                actor=actor,
                at=at,
                direction="outbound",
                channel="phone",
                summary="Update given on progress." if answered else "",
                made=answered,
            )
            last = at
        if self.chance(0.1 if stage == 1 else 0.12):
            at = self.after(last, 1, 3)
            if at is None:
                return None
            self.service.extend(
                ref,
                actor=actor,
                at=at,
                stage=stage,
                days=self.rng.randint(5, 10),
                reason="Waiting for a contractor's survey report.",
            )
            last = at
        return last

    def _respond(self, ref: str, actor: str, since: datetime, stage: int) -> datetime | None:
        on_time, late = ((2, 9), (10, 14)) if stage == 1 else ((6, 18), (20, 26))
        at = self.after(since, *(on_time if self.chance(0.85) else late))
        if at is None:
            return None
        decision = self.weighted(DECISIONS)
        upheld = decision != "not-upheld"
        actions = []
        if upheld and self.chance(0.6):
            for _ in range(self.rng.randint(1, 2)):
                due = self.calendar.add_working_days(london_date(at), self.rng.randint(5, 20))
                actions.append(
                    {
                        "description": self.pick(
                            ("Complete the repair", "Inspect and report", "Written apology")
                        ),
                        "owner": self.pick(TEAMS),
                        "due_on": due,
                    }
                )
        self.service.respond(
            ref,
            actor=actor,
            at=at,
            decision=decision,
            reasons="We looked at the repair records and the calls made.",
            compensation_pence=self.rng.randrange(2500, 50001, 500)
            if upheld and self.chance(0.6)
            else 0,
            actions=actions,
            avoidable=self.chance(0.6) if upheld else None,
            learning="Confirm appointments by text the day before." if upheld else None,
        )
        return at

    def _finish_actions(self, ref: str, since: datetime) -> datetime | None:
        """Complete each outstanding action around its due date; ``None`` if one is not done."""
        last = since
        for action in self.service.get(ref).outstanding_actions:
            low = max(1, self.calendar.working_days_between(london_date(last), action.due_on) - 2)
            at = self.after(last, low, low + 4)
            if at is None:
                return None
            self.service.complete_action(ref, actor=action.owner, at=at, number=action.number)
            last = at
        return last

    def _decline(self, ref: str, actor: str, at: datetime) -> None:
        """Refuse on one of the case's own policy's exclusions (withdrawn if it has none)."""
        policy = self.service.policies.get(self.service.get(ref).policy_id)
        if not policy.exclusions:
            self.service.withdraw(ref, actor=actor, at=at)
            return
        self.service.decline(
            ref,
            actor=actor,
            at=at,
            exclusion=self.rng.choice(policy.exclusions).id,
            reason="We explained why and how to contact the Housing Ombudsman.",
        )

    def _withdraw(self, ref: str, actor: str, since: datetime) -> None:
        at = self.after(since, 1, 5)
        if at is not None:
            self.service.withdraw(ref, actor=actor, at=at, reason="Resolved informally.")

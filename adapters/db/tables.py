"""The schema, as SQLAlchemy Core tables (the migrations in ``migrations/`` create it).

One row per case holds every column that queues, sweeps and reports filter on, plus a JSON
``records`` column for the nested parts (milestones, clocks, actions, responses). ``case_clocks``
repeats each SLA clock as a row so sweeps and reports can aggregate deadlines in SQL.
``case_events`` is the append-only audit trail.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    text,
)

from adapters.db.types import UtcDateTime, json_type
from engine.model import CHANNELS, TENURES

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Id = BigInteger().with_variant(Integer(), "sqlite")


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


cases = Table(
    "cases",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("reference", String(32), nullable=False, unique=True),
    Column("workflow", String(32), nullable=False),
    Column("state", String(32), nullable=False),
    Column("is_open", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("event_count", Integer, nullable=False),
    Column("policy_id", String(64), nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("calendar", String(64), nullable=False),
    Column("calendar_fingerprint", String(32), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("received_on", Date, nullable=False),
    Column("channel", String(32), nullable=False),
    Column("category", String(64), nullable=False),
    Column("area", String(100), nullable=False),
    Column("tenure", String(8), nullable=False),
    Column("resident_ref", String(64)),
    Column("property_ref", String(64)),
    Column("preferred_contact", String(16)),
    Column("contact_interval_days", Integer),
    Column("vulnerabilities", json_type(), nullable=False),
    Column("health_and_safety", Boolean, nullable=False),
    Column("restricted", Boolean, nullable=False),
    Column("priority", String(8), nullable=False),
    Column("owner", String(100)),
    # The named manager who may see a restricted case (a copy of ``records.manager``, so the
    # queue and reports test visibility on an indexed column; migration 0009).
    Column("manager", String(100)),
    Column("last_contact_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    Column("linked_reference", String(32)),
    Column("next_flag_on", Date),
    Column("work_signature", String(16)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("records", json_type(), nullable=False),
    CheckConstraint(_in("channel", CHANNELS), name="channel"),
    CheckConstraint(_in("tenure", TENURES), name="tenure"),
    CheckConstraint("version >= 1", name="version"),
    Index("ix_cases_open_state", "is_open", "state"),
    # The sweep's list of due cases (migration 0006): open cases only, with the id, so it is one
    # index-only scan.
    Index(
        "ix_cases_due",
        "next_flag_on",
        "id",
        postgresql_where=text("is_open"),
        sqlite_where=text("is_open"),
    ),
    Index("ix_cases_last_contact_at", "last_contact_at"),
    Index(
        "ix_cases_manager",
        "manager",
        postgresql_where=text("manager IS NOT NULL"),
        sqlite_where=text("manager IS NOT NULL"),
    ),
    Index("ix_cases_received_on", "received_on"),
    Index("ix_cases_resident_ref", "resident_ref"),
    Index("ix_cases_owner", "owner"),
    Index("ix_cases_category_area", "category", "area"),
)

case_clocks = Table(
    "case_clocks",
    metadata,
    Column("case_id", Id, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("clock", String(32), primary_key=True),
    Column("label", String(100), nullable=False),
    Column("started_on", Date, nullable=False),
    Column("base_days", Integer, nullable=False),
    Column("extended_days", Integer, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("stopped_on", Date),
    Column("stop_reason", String(48)),
    Index("ix_case_clocks_due_on", "due_on"),
)

case_events = Table(
    "case_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", Id, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String(48), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("data", json_type(), nullable=False),
    Column("before", json_type(), nullable=False),
    Column("after", json_type(), nullable=False),
    UniqueConstraint("case_id", "seq", name="uq_case_events_case_seq"),
    Index("ix_case_events_kind_occurred", "kind", "occurred_at"),
)

reference_counters = Table(
    "reference_counters",
    metadata,
    Column("prefix", String(8), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("last_number", Integer, nullable=False),
)

case_flags = Table(
    "case_flags",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", Id, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("level", String(32), nullable=False),
    Column("clock", String(32)),
    Column("anchor_on", Date, nullable=False),
    Column("raised_on", Date, nullable=False),
    Column("cleared_on", Date),
    UniqueConstraint("case_id", "name", "anchor_on", name="uq_case_flags_crossing"),
    Index("ix_case_flags_raised", "name", "cleared_on"),
    Index("ix_case_flags_case", "case_id"),
)

sweep_runs = Table(
    "sweep_runs",
    metadata,
    Column("business_date", Date, primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("host", String(100), nullable=False),
    Column("summary", json_type()),
)

# Per calendar, the fingerprint the last recompute brought every open case to (migration 0006):
# the recompute records it here once instead of restamping every case row.
calendar_states = Table(
    "calendar_states",
    metadata,
    Column("calendar", String(64), primary_key=True),
    Column("fingerprint", String(32), nullable=False),
    Column("recomputed_at", UtcDateTime, nullable=False),
)

calendar_days = Table(
    "calendar_days",
    metadata,
    Column("calendar", String(64), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("cum", Integer, nullable=False),
    Column("working", Boolean, nullable=False),
    Index("ix_calendar_days_cum", "calendar", "cum"),
)

work_items = Table(
    "work_items",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", Id, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("team", String(64), nullable=False),
    Column("restricted", Boolean, nullable=False),
    # Priority, most urgent first: deadline rank (breached 0, due today 1, due soon 2, none 3),
    # then countdown level (higher first), then care (health and safety or vulnerability
    # first), then the oldest case.
    Column("p_deadline", Integer, nullable=False),
    Column("p_contact", Integer, nullable=False),
    Column("p_care", Integer, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("reason", String(200), nullable=False),
    Column("due_on", Date),
    Column("created_at", UtcDateTime, nullable=False),
    Column("claimed_by", String(100)),
    Column("claimed_at", UtcDateTime),
    Column("lease_until", UtcDateTime),
    Column("closed_at", UtcDateTime),
    Column("closed_by", String(100)),
    Column("outcome", String(200)),
    CheckConstraint("status IN ('open', 'claimed', 'done', 'closed')", name="status"),
    Index(
        "uq_work_items_one_open",
        "case_id",
        "kind",
        unique=True,
        postgresql_where=text("status IN ('open', 'claimed')"),
        sqlite_where=text("status IN ('open', 'claimed')"),
    ),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("case_id", Id, ForeignKey("cases.id", ondelete="CASCADE")),
    Column("payload", json_type(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("run_after", UtcDateTime, nullable=False),
    Column("locked_by", String(100)),
    Column("locked_until", UtcDateTime),
    Column("last_error", String(500)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    CheckConstraint("status IN ('queued', 'running', 'done', 'dead')", name="status"),
    Index("ix_jobs_ready", "status", "run_after"),
)

# Report-friendly copies of facts that also live in ``cases.records``: written once, when the
# milestone or response happens, so reports aggregate them in SQL without parsing JSON.
case_milestones = Table(
    "case_milestones",
    metadata,
    Column("case_id", Id, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(48), primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("business_date", Date, nullable=False),
    Index("ix_case_milestones_name_date", "name", "business_date"),
)

case_responses = Table(
    "case_responses",
    metadata,
    Column("case_id", Id, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("stage", Integer, primary_key=True),
    Column("decision", String(32), nullable=False),
    Column("avoidable", Boolean),
    Column("compensation_pence", BigInteger, nullable=False),
    Column("responded_on", Date, nullable=False),
    Index("ix_case_responses_date", "responded_on"),
)

# Covering indexes for the SQL reports (adapters/reports; migration 0005): the report queries
# read these instead of the wide rows they index (measured in bench/reports.py).
Index(
    "ix_case_milestones_report",
    case_milestones.c.name,
    case_milestones.c.business_date,
    case_milestones.c.case_id,
)
# The job worker's claim (adapters/jobs.py; migration 0007): queued jobs in the order run.
Index(
    "ix_jobs_queued",
    jobs.c.run_after,
    jobs.c.id,
    postgresql_where=text("status = 'queued'"),
    sqlite_where=text("status = 'queued'"),
)
# The work queue's claim (adapters/db/queue.py; migrations 0007, 0009): open items in queue order
# after ``restricted``, the index's directions matching the ORDER BY so a claim reads the public
# (or the restricted) items from the top and stops, never stepping over restricted items it may
# not take; and the claimed items by lease end, where expired leases are found. Both partial.
Index(
    "ix_work_items_claim",
    work_items.c.restricted,
    work_items.c.p_deadline,
    work_items.c.p_contact.desc(),
    work_items.c.p_care.desc(),
    work_items.c.received_at,
    work_items.c.id,
    postgresql_where=text("status = 'open'"),
    sqlite_where=text("status = 'open'"),
)
Index(
    "ix_work_items_leases",
    work_items.c.lease_until,
    postgresql_where=text("status = 'claimed'"),
    sqlite_where=text("status = 'claimed'"),
)
Index("ix_case_events_kind_case", case_events.c.kind, case_events.c.case_id)
Index("ix_cases_calendar", cases.c.calendar)
Index(
    "ix_cases_report",
    cases.c.id,
    cases.c.workflow,
    cases.c.tenure,
    cases.c.calendar,
    cases.c.received_on,
    cases.c.category,
    cases.c.area,
    cases.c.channel,
)
# Report indexes, second round (migration 0008): the cases of other workflows only, so a report
# tests "is a complaint" without joining every case (adapters/reports/queries.of_a_complaint).
Index(
    "ix_cases_not_complaint",
    cases.c.id,
    postgresql_where=text("workflow <> 'complaint'"),
    sqlite_where=text("workflow <> 'complaint'"),
)
Index(
    "ix_case_flags_kind_raised",
    case_flags.c.kind,
    case_flags.c.raised_on,
    case_flags.c.level,
    case_flags.c.case_id,
)
Index(
    "ix_case_clocks_stopped",
    case_clocks.c.stopped_on,
    case_clocks.c.clock,
    case_clocks.c.stop_reason,
    case_clocks.c.case_id,
    case_clocks.c.started_on,
    case_clocks.c.due_on,
    case_clocks.c.base_days,
    case_clocks.c.extended_days,
)

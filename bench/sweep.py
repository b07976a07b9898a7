"""Benchmark the nightly SLA sweep and the deadline recompute on a large table of open cases.

Run from the repository root (a measurement, not a test; exit 1 only if a correctness check fails):

    python bench/sweep.py [--cases 1000000] [--db postgresql|sqlite] [--due-share 0.05] [--quick]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--profile] [--tracemalloc]
        [--seed N]

A fresh database (PostgreSQL: one made for the run and dropped after it, even on error; SQLite: a
temporary file) is migrated with ``adapters.db.migrate.upgrade`` and filled in bulk, not through
the service: open complaints under hoc-2024 on the england-and-wales calendar, received over the
six months before a fixed sweep date, with their ``case_clocks``, one ``opened`` event each and
``next_flag_on``. The cases are built in working-day-index space so that none has a flag as of the
day before the sweep and exactly ``--due-share`` of them have a crossing on the sweep date (the
contact countdown, a due-soon deadline, or both); a sample read back from the database is checked
against ``sla.flags.evaluate``. PostgreSQL loads with COPY, SQLite with one executemany
transaction.

Then, in one run: (a) the nightly sweep (``adapters.sweep.Sweeper.run``, built by
``build_sweep_runner``) with the process's peak RSS during it; (b) the same sweep again, which must
find nothing; (c) ``adapters.recompute.recompute`` forced on the unchanged calendar, then after a
real calendar change (one more closure, so running deadlines move); (d) the anchor, one plain
``UPDATE cases SET updated_at = updated_at`` over the whole table, after the load, between (c1)
and (c2) and after (c2) (the ratios use the last two, taken in the table state (c) ran in). It
prints each figure, the ratios and whether each target is met. The loader runs in a forked child
process, so the peak RSS measured is the sweep's own.

``--profile``: cProfile of the nightly sweep, top 15 by cumulative time on stderr (the sweep's
figures are then the profiler's); ``--tracemalloc``: the sweep's peak Python allocations (its time
then includes tracing). ``--quick``: 20,000 cases, a CI smoke test (``--db sqlite --quick`` needs
no PostgreSQL).
"""

# The sys.path fix below has to run before every other import.
# ruff: noqa: E402

from __future__ import annotations

import sys
from pathlib import Path

# ``python bench/sweep.py`` puts bench/ first on sys.path, where bench/*.py would shadow standard
# modules (bench/calendar.py: ``calendar``, which ``holidays`` imports; bench/queue.py: ``queue``):
# swap that entry for the repo root before importing anything else.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))


import argparse
import cProfile
import gc
import json
import multiprocessing
import os
import platform
import pstats
import resource
import sqlite3
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
import sqlalchemy
from psycopg import sql
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url

from adapters.bootstrap import build_sweep_runner
from adapters.db.connection import create_db_engine
from adapters.db.migrate import upgrade
from adapters.db.repository import SqlCaseRepository, case_from_row
from adapters.db.tables import cases
from adapters.logging import configure_logging
from adapters.recompute import RecomputeSummary, recompute, stale_calendars
from adapters.settings import Settings, load_settings
from adapters.sweep import Sweeper, SweepSummary
from bench._common import CheckFailed, check, fresh_pg_database, libpq
from engine.flagging import flag_inputs
from sla.calendar import DayOverride, WorkingCalendar
from sla.flags import evaluate
from sla.policy import ClockRule, Policy
from sla.timezone import LONDON
from workflows.complaint import ESCALATION_ROUTE

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Row = tuple[str | None, ...]

AS_OF = date(2026, 6, 16)  # a Tuesday: the sweep's business date
YESTERDAY = AS_OF - timedelta(days=1)
SWEEP_NOW = datetime(2026, 6, 16, 2, 30, tzinfo=LONDON).astimezone(UTC)  # the nightly run
RECOMPUTE_NOW = SWEEP_NOW + timedelta(minutes=30)
CALENDAR, POLICY = "england-and-wales", "hoc-2024"
SEED = 20_260_616
CHUNK = 50_000  # cases generated and written at a time (keeps the loader's memory flat)
OLDEST = 118  # working days back to the oldest Stage 1 response (~6 months of receipts)
VERIFY_SAMPLE = 3_000  # cases read back and checked with sla.flags.evaluate (plus as many due)
TARGET_SWEEP_S, TARGET_RATIO, TARGET_RSS_MB = 3.0, 2.0, 300.0
ANCHOR_SQL = "UPDATE cases SET updated_at = updated_at"

STATES = ("received", "stage1", "stage1_responded", "escalation_requested", "stage2")
RECEIVED, STAGE1, RESPONDED, ESCALATED, STAGE2 = range(len(STATES))
STATE_MIX = (0.06, 0.30, 0.38, 0.04, 0.22)
DEADLINE_SHARE = 0.3  # due stage1/stage2 cases whose crossing is due-soon, not the countdown
FROM_STAGE1_SHARE = 0.2  # escalations before the Stage 1 response (ends the respond clock)
INTERVAL_SHARE, INTERVALS = 0.15, (5, 10)  # agreed update intervals (long-running cases)
CHANNELS = ("phone", "email", "web-form", "letter", "in-person", "social-media")
CHANNEL_MIX = (0.35, 0.25, 0.25, 0.08, 0.05, 0.02)
CATEGORY_MIX = {
    "repairs": 0.35,
    "damp-and-mould": 0.15,
    "asb": 0.10,
    "staff-conduct": 0.04,
    "housing-tenancy": 0.08,
    "grounds-maintenance": 0.05,
    "programmed-works": 0.06,
    "rent-and-income": 0.07,
    "other": 0.10,
}
AREAS = tuple(
    f"{side}-{town}"
    for side in ("north", "south", "east", "west")
    for town in ("riverside", "hillcrest", "old-town", "parkside", "docklands", "moor")
)
TENURE_MIX = (0.85, 0.15)  # lcra, lcho
PREFERRED = (None, "phone", "email", "letter", "sms")
PREFERRED_MIX = (0.4, 0.25, 0.25, 0.05, 0.05)
VULNERABILITY = ("mobility", "mental-health", "hearing", "sight", "language")
VULNERABLE_SHARE, HEALTH_AND_SAFETY_SHARE = 0.08, 0.04
HANDLERS, REVIEWERS = 200, 40
# Local time-of-day bands (minutes) per milestone, in step order, so same-day steps stay ordered.
BANDS = {"R": (480, 660), "A": (660, 750), "P": (750, 840), "E": (840, 900), "S": (900, 960)}
CONTACT_BAND = (960, 1080)
HOW_GENERATED = (
    "generated in working-day-index space (no service calls): every case has no flag as of the\n"
    "day before the sweep (steps on time, a contact in the last 2 working days, or in the\n"
    "agreed interval), so next_flag_on > as_of; the due share has a crossing exactly on as_of:\n"
    "the contact countdown (last contact 3 working days before, or the agreed interval), a\n"
    "due-soon deadline, or both (unacknowledged receipts and escalations). next_flag_on is the\n"
    "first crossing after the day before, and a sample read back is checked with evaluate().\n"
    "Nothing else is pre-loaded: no flag rows (none has crossed), no work items or jobs."
)


# -- working days by index ----------------------------------------------------------------------


def london_offset_minutes(day: date) -> int:
    """Minutes Europe/London is ahead of UTC at noon on ``day`` (0 or 60)."""
    offset = datetime(day.year, day.month, day.day, 12, tzinfo=LONDON).utcoffset()
    assert offset is not None
    return int(offset.total_seconds()) // 60


class Days:
    """Working-day arithmetic around ``AS_OF`` by cumulative index ``k`` (the calendar's
    ``working_day_index``): ``wd(k)`` is the k-th working day, and a date with index ``k`` lies in
    ``[wd(k), wd(k + 1) - 1]``, so ``add_working_days(d, n) == wd(index(d) + n)``."""

    def __init__(self, calendar: WorkingCalendar, as_of: date) -> None:
        if not calendar.is_working_day(as_of):
            raise ValueError(f"{as_of} must be a working day")
        self.first = as_of - timedelta(days=400)
        span = 560
        days = [self.first + timedelta(days=i) for i in range(span)]
        self.first_ord = self.first.toordinal()
        ords = [d.toordinal() for d in days if calendar.is_working_day(d)]
        self.k0 = calendar.working_day_index(date.fromordinal(ords[0]))
        self.wd_ord: IntArray = np.asarray(ords, dtype=np.int64)  # index k - k0
        self.W = calendar.working_day_index(as_of)
        self.yesterday_ord = (as_of - timedelta(days=1)).toordinal()
        self.iso: list[str] = [d.isoformat() for d in days]  # by ordinal - first_ord
        self.offset: list[int] = [london_offset_minutes(d) for d in days]

    def wd(self, k: IntArray | int) -> IntArray:
        """Ordinal of the k-th working day (``k`` must be in the window)."""
        idx = np.asarray(k, dtype=np.int64) - self.k0
        if idx.size and (idx.min() < 0 or idx.max() >= self.wd_ord.size):
            raise ValueError("working-day index outside the benchmark's window")
        return self.wd_ord[idx]

    def day(self, ordinal: int) -> str:
        return self.iso[ordinal - self.first_ord]


# -- what each case looks like -------------------------------------------------------------------


@dataclass
class Plan:
    """One chunk of cases as arrays: milestone indices (-1: not reached), dates and times."""

    ids: IntArray
    state: IntArray
    due: BoolArray
    k: dict[str, IntArray]  # working-day index of R, A, P, E, S and LC (last contact)
    d: dict[str, IntArray]  # ordinal date of each, -1 when absent
    t: dict[str, IntArray]  # London minutes of the day
    interval: IntArray  # agreed update interval, 0 when none
    next_k: IntArray  # index of next_flag_on
    expect_contact: BoolArray  # a contact-countdown crossing on as_of
    expect_soon: BoolArray  # a due-soon crossing on as_of
    pick: dict[str, IntArray]  # categorical columns


@dataclass(frozen=True)
class Rules:
    """The policy's numbers the generator is built around (read, never assumed)."""

    policy: Policy
    ack: ClockRule
    respond: ClockRule
    s2_ack: ClockRule
    s2_respond: ClockRule
    first_contact: int
    soon: int

    @classmethod
    def of(cls, policy: Policy) -> Rules:
        names = ("acknowledge", "respond", "stage2_acknowledge", "stage2_respond")
        rules = [policy.clock(name) for name in names]
        if any(rule is None for rule in rules):
            raise ValueError(f"{policy.key} lacks one of the clocks {names}")
        ack, respond, s2_ack, s2_respond = (rule for rule in rules if rule is not None)
        return cls(
            policy, ack, respond, s2_ack, s2_respond, policy.contact_levels[0].days,
            policy.due_soon_days,
        )  # fmt: skip

    def soon_after(self, rule: ClockRule) -> int:
        """Working days from a clock's start to its due-soon flag."""
        return rule.days - self.soon


def make_plan(
    rng: np.random.Generator, ids: IntArray, due: BoolArray, days: Days, r: Rules
) -> Plan:
    """Milestone indices per state such that nothing crosses before ``AS_OF`` and exactly the
    ``due`` cases cross on it."""
    m, W = ids.size, days.W
    state = rng.choice(len(STATES), size=m, p=STATE_MIX).astype(np.int64)
    k = {name: np.full(m, -1, dtype=np.int64) for name in ("R", "A", "P", "E", "S", "LC")}
    interval = np.zeros(m, dtype=np.int64)

    def ri(low: IntArray | int, high: IntArray | int, size: int) -> IntArray:
        """Uniform integers in [low, high]."""
        return rng.integers(np.asarray(low), np.asarray(high) + 1, size=size)

    def split(s: int) -> tuple[IntArray, IntArray, IntArray]:
        sel = np.flatnonzero(state == s)
        return sel, sel[~due[sel]], sel[due[sel]]

    def agree_intervals(sel: IntArray) -> IntArray:
        agreed = sel[rng.random(sel.size) < INTERVAL_SHARE]
        interval[agreed] = rng.choice(INTERVALS, size=agreed.size)
        return np.where(interval > 0, interval, r.first_contact)

    def before_escalation(sel: IntArray) -> None:
        early = rng.random(sel.size) < FROM_STAGE1_SHARE
        e, late = sel[early], sel[~early]
        # Escalated during Stage 1: the respond clock ends before its due-soon day.
        k["A"][e] = k["E"][e] - ri(0, r.soon_after(r.respond) - 1, e.size)
        k["P"][late] = k["E"][late] - ri(0, 60, late.size)
        k["A"][late] = k["P"][late] - ri(1, r.soon_after(r.respond) - 1, late.size)
        k["R"][sel] = k["A"][sel] - ri(0, r.soon_after(r.ack) - 1, sel.size)

    def deadline_split(du: IntArray) -> tuple[IntArray, IntArray]:
        on_deadline = rng.random(du.size) < DEADLINE_SHARE
        return du[~on_deadline], du[on_deadline]

    # received: not acknowledged yet; the countdown runs from receipt (no contact).
    sel, nd, du = split(RECEIVED)
    soon = r.soon_after(r.ack)
    k["R"][nd] = ri(W - min(soon, r.first_contact) + 1, W - 1, nd.size)
    k["R"][du] = W - r.first_contact  # contact-due and acknowledge due-soon both today
    if soon != r.first_contact:
        raise ValueError("the generator assumes acknowledge due-soon == first contact level")

    # stage1: acknowledged, respond clock running.
    sel, nd, du = split(STAGE1)
    soon = r.soon_after(r.respond)
    k["A"][nd] = ri(W - soon + 1, W - 1, nd.size)
    k["LC"][nd] = ri(np.maximum(k["A"][nd], W - r.first_contact + 1), W - 1, nd.size)
    contact, deadline = deadline_split(du)
    k["A"][contact] = ri(W - soon + 1, W - r.first_contact, contact.size)
    k["LC"][contact] = W - r.first_contact
    k["A"][deadline] = W - soon
    k["LC"][deadline] = ri(W - r.first_contact + 1, W - 1, deadline.size)
    k["R"][sel] = k["A"][sel] - ri(0, r.soon_after(r.ack) - 1, sel.size)

    # stage1_responded: no running clock, only the contact countdown (maybe an agreed interval).
    sel, nd, du = split(RESPONDED)
    first = agree_intervals(sel)
    k["P"][nd] = ri(W - OLDEST, W - 1, nd.size)
    k["LC"][nd] = ri(np.maximum(k["P"][nd], W + 1 - first[nd]), W - 1, nd.size)
    k["LC"][du] = W - first[du]
    k["P"][du] = ri(W - OLDEST, k["LC"][du], du.size)
    k["A"][sel] = k["P"][sel] - ri(1, r.soon_after(r.respond) - 1, sel.size)
    k["R"][sel] = k["A"][sel] - ri(0, r.soon_after(r.ack) - 1, sel.size)

    # escalation_requested: the Stage 2 acknowledgement clock runs; the request is a contact.
    sel, nd, du = split(ESCALATED)
    soon = r.soon_after(r.s2_ack)
    if soon != r.first_contact:
        raise ValueError("the generator assumes stage2 acknowledge due-soon == first contact")
    k["E"][nd] = ri(W - soon + 1, W - 1, nd.size)
    k["LC"][nd] = ri(k["E"][nd], W - 1, nd.size)
    k["E"][du] = W - soon
    k["LC"][du] = W - soon
    before_escalation(sel)

    # stage2: acknowledged at Stage 2, its response clock running.
    sel, nd, du = split(STAGE2)
    first = agree_intervals(sel)
    soon = r.soon_after(r.s2_respond)
    k["S"][nd] = ri(W - soon + 1, W - 1, nd.size)
    k["LC"][nd] = ri(np.maximum(k["S"][nd], W + 1 - first[nd]), W - 1, nd.size)
    contact, deadline = deadline_split(du)
    k["LC"][contact] = W - first[contact]
    k["S"][contact] = ri(W - soon + 1, k["LC"][contact], contact.size)
    k["S"][deadline] = W - soon
    k["LC"][deadline] = ri(W + 1 - first[deadline], W - 1, deadline.size)
    k["E"][sel] = k["S"][sel] - ri(0, r.soon_after(r.s2_ack) - 1, sel.size)
    before_escalation(sel)

    # The next crossing: the first contact level and the running clock's due-soon day.
    first = np.where(interval > 0, interval, r.first_contact)
    countdown = np.where(k["LC"] >= 0, k["LC"], k["R"]) + first
    big = np.int64(1 << 40)
    clock = np.select(
        [state == RECEIVED, state == STAGE1, state == ESCALATED, state == STAGE2],
        [
            k["R"] + r.soon_after(r.ack),
            k["A"] + r.soon_after(r.respond),
            k["E"] + r.soon_after(r.s2_ack),
            k["S"] + r.soon_after(r.s2_respond),
        ],
        default=big,
    )
    next_k = np.minimum(countdown, clock)
    if not (np.all(next_k[due] == W) and np.all(next_k[~due] > W)):
        raise CheckFailed("generator: a case crosses before as_of, or a due case does not")

    d, t = dates_and_times(rng, k, state, days)
    pick = {
        "channel": rng.choice(len(CHANNELS), size=m, p=CHANNEL_MIX),
        "category": rng.choice(len(CATEGORY_MIX), size=m, p=list(CATEGORY_MIX.values())),
        "area": rng.integers(0, len(AREAS), size=m),
        "tenure": rng.choice(2, size=m, p=TENURE_MIX),
        "preferred": rng.choice(len(PREFERRED), size=m, p=PREFERRED_MIX),
        "vulnerable": np.where(
            rng.random(m) < VULNERABLE_SHARE, rng.integers(0, len(VULNERABILITY), size=m), -1
        ),
        "hs": (rng.random(m) < HEALTH_AND_SAFETY_SHARE).astype(np.int64),
        "handler": rng.integers(1, HANDLERS + 1, size=m),
        "reviewer": rng.integers(1, REVIEWERS + 1, size=m),
        "resident": rng.integers(1, 400_000, size=m),
    }
    return Plan(
        ids, state, due, k, d, t, interval, next_k, countdown == W, clock == W, pick
    )  # fmt: skip


def dates_and_times(
    rng: np.random.Generator, k: dict[str, IntArray], state: IntArray, days: Days
) -> tuple[dict[str, IntArray], dict[str, IntArray]]:
    """Dates (ordinals) and London times of day. Receipts (R, E) may fall on a weekend or bank
    holiday when no step follows on the same working day; other steps are on working days."""
    m = state.size
    d: dict[str, IntArray] = {}
    t: dict[str, IntArray] = {}
    for name in ("R", "A", "P", "E", "S"):
        has = k[name] >= 0
        base = np.full(m, -1, dtype=np.int64)
        base[has] = days.wd(k[name][has])
        if name in ("R", "E"):
            following = k["A"] if name == "R" else k["S"]
            free = has & ((following < 0) | (following > k[name]))
            end = np.full(m, -1, dtype=np.int64)
            end[free] = np.minimum(days.wd(k[name][free] + 1) - 1, days.yesterday_ord)
            spread = np.where(free, end - base, 0)
            base = base + (rng.random(m) * (spread + 1)).astype(np.int64)
        d[name] = base
        low, high = BANDS[name]
        t[name] = rng.integers(low, high, size=m)
    # Last contact: the last contacting step itself, or a later call on a working day.
    last = np.select(
        [state == STAGE1, state == RESPONDED, state == ESCALATED, state == STAGE2],
        [k["A"], k["P"], k["E"], k["S"]],
        default=-1,
    )
    last_name = np.select(
        [state == STAGE1, state == RESPONDED, state == ESCALATED, state == STAGE2],
        [1, 2, 3, 4],
        default=0,
    )
    has = k["LC"] >= 0
    later = has & (k["LC"] > last)
    same = has & ~later
    d["LC"] = np.full(m, -1, dtype=np.int64)
    t["LC"] = rng.integers(*CONTACT_BAND, size=m)
    d["LC"][later] = days.wd(k["LC"][later])
    for code, name in ((1, "A"), (2, "P"), (3, "E"), (4, "S")):
        pick = same & (last_name == code)
        d["LC"][pick] = d[name][pick]
        t["LC"][pick] = t[name][pick]
    return d, t


# -- rows ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Format:
    """How a dialect wants timestamps and booleans as text (PostgreSQL COPY / SQLite)."""

    ts_suffix: str  # after "YYYY-MM-DD HH:MM"
    true: str
    false: str


PG_FORMAT = Format(":00+00", "t", "f")
SQLITE_FORMAT = Format(":00.000000", "1", "0")  # SQLAlchemy's SQLite DATETIME storage, naive UTC


@dataclass
class Chunk:
    cases: list[Row] = field(default_factory=list)
    clocks: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)


CASE_COLUMNS = (
    "id", "reference", "workflow", "state", "is_open", "version", "event_count", "policy_id",
    "policy_version", "calendar", "calendar_fingerprint", "received_at", "received_on",
    "channel", "category", "area", "tenure", "resident_ref", "property_ref", "preferred_contact",
    "contact_interval_days", "vulnerabilities", "health_and_safety", "restricted", "priority",
    "owner", "last_contact_at", "closed_at", "linked_reference", "next_flag_on", "created_at",
    "updated_at", "records",
)  # fmt: skip
CLOCK_COLUMNS = (
    "case_id", "clock", "label", "started_on", "base_days", "extended_days", "due_on",
    "stopped_on", "stop_reason",
)  # fmt: skip
EVENT_COLUMNS = (
    "id", "case_id", "seq", "kind", "occurred_at", "recorded_at", "actor", "data", "before",
    "after",
)  # fmt: skip
MILESTONES = (("R", "received"), ("A", "acknowledged"), ("P", "responded"),
              ("E", "escalation_requested"), ("S", "stage2_acknowledged"))  # fmt: skip


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def build_rows(p: Plan, days: Days, r: Rules, fingerprint: str, fmt: Format) -> Chunk:
    """The chunk's rows as text columns (``None`` is NULL), the same values for both dialects."""
    out = Chunk()
    ids = p.ids.tolist()
    state = p.state.tolist()
    kk = {name: arr.tolist() for name, arr in p.k.items()}
    dd = {name: arr.tolist() for name, arr in p.d.items()}
    tt = {name: arr.tolist() for name, arr in p.t.items()}
    interval = p.interval.tolist()
    next_k = p.next_k.tolist()
    pick = {name: arr.tolist() for name, arr in p.pick.items()}
    categories = list(CATEGORY_MIX)
    wd = days.wd_ord.tolist()
    k0 = days.k0
    policy_key = r.policy.key
    event_data = dumps({"workflow": "complaint", "policy": policy_key, "calendar": CALENDAR})

    def day_of(k: int) -> str:
        return days.day(wd[k - k0])

    def stamp(ordinal: int, minutes: int) -> tuple[str, str]:
        """(column text, ISO for JSON) of a London time of day, in UTC."""
        iso_day = days.day(ordinal)
        hh, mm = divmod(minutes - days.offset[ordinal - days.first_ord], 60)
        return (
            f"{iso_day} {hh:02d}:{mm:02d}{fmt.ts_suffix}",
            f"{iso_day}T{hh:02d}:{mm:02d}:00+00:00",
        )

    for i, case_id in enumerate(ids):
        st = state[i]
        milestones: dict[str, str] = {}
        milestone_dates: dict[str, str] = {}
        on: dict[str, str] = {}
        for key, name in MILESTONES:
            if kk[key][i] >= 0:
                on[key] = days.day(dd[key][i])
                milestones[name] = stamp(dd[key][i], tt[key][i])[1]
                milestone_dates[name] = on[key]
        received_col = stamp(dd["R"][i], tt["R"][i])[0]
        handler = f"handler-{pick['handler'][i]:03d}"
        reviewer = f"reviewer-{pick['reviewer'][i]:02d}"
        category = categories[pick["category"][i]]
        area = AREAS[pick["area"][i]]
        record: dict[str, Any] = {"summary": f"{category} complaint, {area}"}
        owner: str | None = None
        if kk["A"][i] >= 0:
            owner = handler
            record["stage1"] = {
                "understanding": f"resident reports a {category} problem",
                "desired_outcome": "put it right and explain what went wrong",
            }
            record["stage1_handlers"] = [handler]
        if kk["P"][i] >= 0:
            record["responses"] = {
                "1": {
                    "stage": 1,
                    "complaint_definition": f"resident reports a {category} problem",
                    "decision": "partially-upheld",
                    "reasons": "the repair was late",
                    "compensation_pence": 5000,
                    "actions": [],
                    "avoidable": None,
                    "learning": "",
                    "escalation_route": ESCALATION_ROUTE[1],
                    "responded_by": handler,
                }
            }
        if kk["S"][i] >= 0:
            owner = reviewer
            record["stage2"] = {"understanding": "unhappy with the Stage 1 outcome",
                                "desired_outcome": "a review"}  # fmt: skip
            record["stage2_handler"] = reviewer
        records = {
            "milestones": milestones,
            "milestone_dates": milestone_dates,
            "actions": [],
            "records": record,
        }
        last_contact: str | None = None
        updated = received_col
        if kk["LC"][i] >= 0:
            last_contact = stamp(dd["LC"][i], tt["LC"][i])[0]
            updated = last_contact
        vulnerable = pick["vulnerable"][i]
        hs = pick["hs"][i] == 1
        high = hs or vulnerable >= 0
        out.cases.append(
            (
                str(case_id),
                f"CMP-{on['R'][:4]}-{case_id:07d}",
                "complaint",
                STATES[st],
                fmt.true,
                "1",
                "1",
                r.policy.id,
                str(r.policy.version),
                CALENDAR,
                fingerprint,
                received_col,
                on["R"],
                CHANNELS[pick["channel"][i]],
                category,
                area,
                "lcra" if pick["tenure"][i] == 0 else "lcho",
                f"RES-{pick['resident'][i]:06d}",
                f"PROP-{pick['resident'][i]:06d}",
                PREFERRED[pick["preferred"][i]],
                str(interval[i]) if interval[i] else None,
                dumps([VULNERABILITY[vulnerable]] if vulnerable >= 0 else []),
                fmt.true if hs else fmt.false,
                fmt.true if category == "staff-conduct" else fmt.false,
                "high" if high else "normal",
                owner,
                last_contact,
                None,
                None,
                day_of(next_k[i]),
                received_col,
                updated,
                dumps(records),
            )
        )
        # Clocks, as advance_clocks and end_running_clocks leave them.
        ack_due = day_of(kk["R"][i] + r.ack.days)
        stop: tuple[str | None, str | None] = (None, None)
        if "A" in on:
            stop = (on["A"], r.ack.stops_at)
        out.clocks.append(
            (str(case_id), r.ack.name, r.ack.label, on["R"], str(r.ack.days), "0", ack_due, *stop)
        )
        if "A" in on:
            stop = (None, None)
            if "P" in on:
                stop = (on["P"], r.respond.stops_at)
            elif "E" in on:
                stop = (on["E"], "escalation_requested")
            due_on = day_of(kk["A"][i] + r.respond.days)
            out.clocks.append(
                (str(case_id), r.respond.name, r.respond.label, on["A"], str(r.respond.days),
                 "0", due_on, *stop)
            )  # fmt: skip
        if "E" in on:
            stop = (on["S"], r.s2_ack.stops_at) if "S" in on else (None, None)
            due_on = day_of(kk["E"][i] + r.s2_ack.days)
            out.clocks.append(
                (str(case_id), r.s2_ack.name, r.s2_ack.label, on["E"], str(r.s2_ack.days), "0",
                 due_on, *stop)
            )  # fmt: skip
        if "S" in on:
            due_on = day_of(kk["S"][i] + r.s2_respond.days)
            out.clocks.append(
                (str(case_id), r.s2_respond.name, r.s2_respond.label, on["S"],
                 str(r.s2_respond.days), "0", due_on, None, None)
            )  # fmt: skip
        after = {
            "state": "received",
            "owner": None,
            "is_open": True,
            "last_contact_at": None,
            "contact_interval_days": None,
            "deadlines": {r.ack.name: ack_due},
            "stopped": {},
            "outstanding_actions": 0,
        }
        out.events.append(
            (str(case_id), str(case_id), "1", "opened", received_col, received_col,
             f"intake-{pick['handler'][i] % 20:02d}", event_data, "{}", dumps(after))
        )  # fmt: skip
    return out


# -- loading -------------------------------------------------------------------------------------


@dataclass
class Loaded:
    cases: int = 0
    due: int = 0
    clocks: int = 0
    events: int = 0
    running: int = 0
    by_state: Counter[str] = field(default_factory=Counter)
    expected: Counter[str] = field(default_factory=Counter)  # flags the sweep must raise, by level
    sample: dict[int, tuple[date, tuple[str, ...]]] = field(default_factory=dict)
    generate_s: float = 0.0  # in the generating thread
    write_s: float = 0.0  # in the main thread, overlapping generation
    wall_s: float = 0.0
    index_s: float = 0.0  # rebuilding the secondary indexes after the COPY (PostgreSQL)
    vacuum_s: float = 0.0


Writer = Callable[[Chunk], None]


def generate(
    n: int, due_share: float, seed: int, days: Days, r: Rules, fingerprint: str, fmt: Format,
    write: Writer,
) -> Loaded:  # fmt: skip
    """Generate ``n`` cases in chunks and hand each chunk's rows to ``write``; a thread builds the
    next chunk while the database takes this one (waits on the database release the GIL)."""
    rng = np.random.default_rng(seed)
    loaded = Loaded(cases=n, due=round(n * due_share))
    due_all = np.zeros(n, dtype=bool)
    due_all[rng.choice(n, size=loaded.due, replace=False)] = True
    due_ids = np.flatnonzero(due_all)
    verify = np.union1d(
        rng.choice(n, size=min(n, VERIFY_SAMPLE), replace=False),
        rng.choice(due_ids, size=min(due_ids.size, VERIFY_SAMPLE), replace=False),
    )

    def build(start: int) -> tuple[Plan, Chunk, float]:
        t0 = time.perf_counter()
        ids = np.arange(start + 1, min(n, start + CHUNK) + 1, dtype=np.int64)
        plan = make_plan(rng, ids, due_all[start : start + ids.size], days, r)
        return plan, build_rows(plan, days, r, fingerprint, fmt), time.perf_counter() - t0

    started = time.perf_counter()
    starts = list(range(0, n, CHUNK))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-generate") as builder:
        pending = builder.submit(build, starts[0])
        for following in [*starts[1:], None]:
            plan, chunk, seconds = pending.result()
            if following is not None:
                pending = builder.submit(build, following)  # built while this one is written
            t0 = time.perf_counter()
            write(chunk)
            loaded.write_s += time.perf_counter() - t0
            loaded.generate_s += seconds
            loaded.clocks += len(chunk.clocks)
            loaded.events += len(chunk.events)
            loaded.running += sum(1 for row in chunk.clocks if row[7] is None)
            loaded.by_state.update(STATES[s] for s in plan.state.tolist())
            loaded.expected["contact-due"] += int(plan.expect_contact.sum())
            loaded.expected["due-soon"] += int(plan.expect_soon.sum())
            for j in np.flatnonzero(np.isin(plan.ids - 1, verify)).tolist():
                levels = ("contact-due",) * bool(plan.expect_contact[j]) + ("due-soon",) * bool(
                    plan.expect_soon[j]
                )
                next_on = date.fromordinal(int(days.wd(int(plan.next_k[j]))))
                loaded.sample[int(plan.ids[j])] = (next_on, levels)
    loaded.wall_s = time.perf_counter() - started
    return loaded


def copy_sql(table: str, columns: Sequence[str]) -> sql.Composed:
    return sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )


def tsv(rows: list[Row]) -> str:
    return "".join("\t".join(r"\N" if v is None else v for v in row) + "\n" for row in rows)


LOADED_TABLES = ("cases", "case_clocks", "case_events")
# Indexes that back no constraint: dropped for the COPY and rebuilt from their own definitions.
SECONDARY_INDEXES = """
SELECT i.indexname, i.indexdef FROM pg_indexes i
WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                  WHERE c.conindid = format('%%I.%%I', i.schemaname, i.indexname)::regclass)
"""


def load_postgres(url: str, args: Generation) -> Loaded:
    """COPY the generated rows in one transaction: secondary indexes dropped first and rebuilt
    after from their definitions as migrated, foreign-key triggers off (the rows are consistent
    by construction); then reset the id sequences and VACUUM ANALYZE."""
    with psycopg.connect(libpq(make_url(url))) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET maintenance_work_mem = '512MB'")
        indexes = conn.execute(SECONDARY_INDEXES, (list(LOADED_TABLES),)).fetchall()
        for name, _ in indexes:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        cur = conn.cursor()

        def write(chunk: Chunk) -> None:
            for table, columns, rows in (
                ("cases", CASE_COLUMNS, chunk.cases),
                ("case_clocks", CLOCK_COLUMNS, chunk.clocks),
                ("case_events", EVENT_COLUMNS, chunk.events),
            ):
                with cur.copy(copy_sql(table, columns)) as copy:
                    copy.write(tsv(rows))

        loaded = generate(*args, PG_FORMAT, write)
        t0 = time.perf_counter()
        for _, definition in indexes:
            conn.execute(definition)
        loaded.index_s = time.perf_counter() - t0
        for table in ("cases", "case_events"):
            reset = "SELECT setval(pg_get_serial_sequence({t}, 'id'), (SELECT max(id) FROM {i}))"
            conn.execute(sql.SQL(reset).format(t=sql.Literal(table), i=sql.Identifier(table)))
        conn.commit()
        loaded.write_s += time.perf_counter() - t0
        loaded.wall_s += time.perf_counter() - t0
    loaded.vacuum_s = vacuum(url)
    return loaded


def vacuum(url: str) -> float:
    t0 = time.perf_counter()
    with psycopg.connect(libpq(make_url(url)), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - t0


def load_sqlite(path: Path, args: Generation) -> Loaded:
    """executemany in one transaction, then ANALYZE."""
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("BEGIN")

        def write(chunk: Chunk) -> None:
            for table, columns, rows in (
                ("cases", CASE_COLUMNS, chunk.cases),
                ("case_clocks", CLOCK_COLUMNS, chunk.clocks),
                ("case_events", EVENT_COLUMNS, chunk.events),
            ):
                marks = ", ".join("?" * len(columns))
                conn.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
                )

        loaded = generate(*args, SQLITE_FORMAT, write)
        t0 = time.perf_counter()
        conn.execute("COMMIT")
        loaded.write_s += time.perf_counter() - t0
        loaded.wall_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        conn.execute("ANALYZE")
        loaded.vacuum_s = time.perf_counter() - t0
    return loaded


Generation = tuple[int, float, int, Days, Rules, str]


def in_child(load: Callable[[Any, Generation], Loaded], where: Any, args: Generation) -> Loaded:
    """Run a loader in a forked child process, so the loader's memory (which the allocator does
    not hand back) never counts in this process's RSS while the sweep is measured."""
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(load, where, args).result()


# -- measuring -----------------------------------------------------------------------------------


def proc_status_kb(key: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak_rss() -> bool:
    """Reset the kernel's high-water mark of this process's RSS (Linux ``clear_refs`` 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@dataclass
class Memory:
    rss_before_mb: float
    peak_mb: float | None  # VmHWM after resetting it before the sweep
    maxrss_before_mb: float
    maxrss_after_mb: float
    traced_mb: float | None = None  # peak of Python allocations (--tracemalloc)


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def run_sweep(
    sweeper: Sweeper, profiler: cProfile.Profile | None = None, trace: bool = False
) -> tuple[SweepSummary, float, Memory]:
    gc.collect()
    rss = (proc_status_kb("VmRSS") or 0) / 1024
    before = maxrss_mb()
    reset = reset_peak_rss()
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    run: Callable[[date], SweepSummary] = sweeper.run
    summary = profiler.runcall(run, AS_OF) if profiler is not None else run(AS_OF)
    seconds = time.perf_counter() - t0
    traced = None
    if trace:
        traced = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    hwm = proc_status_kb("VmHWM") if reset else None
    memory = Memory(rss, hwm / 1024 if hwm else None, before, maxrss_mb(), traced)
    return summary, seconds, memory


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t0


def plain_update(db_engine: Engine) -> tuple[int, float]:
    def run() -> int:
        with db_engine.begin() as conn:
            return int(conn.execute(text(ANCHOR_SQL)).rowcount)

    rows, seconds = timed(run)
    return int(rows), seconds


def scalar(db_engine: Engine, query: str, **params: Any) -> int:
    with db_engine.connect() as conn:
        return int(conn.execute(text(query), params).scalar_one())


def verify_sample(db_engine: Engine, settings: Settings, loaded: Loaded) -> None:
    """Read sampled cases back as the sweep does and check them with ``sla.flags.evaluate``:
    no flag as of the day before, ``next_flag_on`` as stored and generated, and for due cases
    exactly the expected crossings on ``AS_OF``."""
    calendar = settings.calendar(CALENDAR)
    ids = sorted(loaded.sample)
    bad: list[str] = []
    due_checked = 0
    with db_engine.connect() as conn:
        repo = SqlCaseRepository(conn)
        for start in range(0, len(ids), 1000):
            part = ids[start : start + 1000]
            rows = conn.execute(select(cases).where(cases.c.id.in_(part))).all()
            clocks = repo.load_clocks(part)
            for row in rows:
                case = case_from_row(row)
                assert case.id is not None
                case.clocks = clocks[case.id]
                inputs = flag_inputs(case, settings.policies.get(case.policy_id))
                flags, next_on = evaluate(inputs, YESTERDAY, calendar)
                expected_next, levels = loaded.sample[case.id]
                if flags or next_on != case.next_flag_on or next_on != expected_next:
                    bad.append(f"{case.reference}: {flags} next {next_on} vs {expected_next}")
                if next_on == AS_OF:
                    due_checked += 1
                    today, _ = evaluate(inputs, AS_OF, calendar)
                    if sorted(f.level for f in today) != sorted(levels):
                        bad.append(f"{case.reference}: {today} vs {levels}")
    check(
        not bad and len(ids) == len(loaded.sample),
        f"{len(ids):,} cases read back ({due_checked:,} due) agree with sla.flags.evaluate:"
        f" no flag on {YESTERDAY}, next_flag_on as generated"
        + (f" -- first mismatch {bad[0]}" if bad else ""),
    )


@dataclass
class Figures:
    rows: list[tuple[str, float, str]] = field(default_factory=list)

    def add(self, what: str, seconds: float, detail: str) -> None:
        self.rows.append((what, seconds, detail))
        print(f"  {what:<44}{seconds:>9.3f} s  {detail}")


def measure(db_engine: Engine, settings: Settings, loaded: Loaded, args: argparse.Namespace,
            url: str | None) -> list[tuple[str, str, str, bool]]:  # fmt: skip
    """Run (a)-(d); returns target rows (what, measured, target, met)."""
    pg = db_engine.dialect.name == "postgresql"
    # The runner builds the sweeper exactly as the scheduler and the CLI get it.
    sweeper = build_sweep_runner(settings, db_engine=db_engine, clock=lambda: SWEEP_NOW)._sweeper
    figures = Figures()
    print("\ncorrectness")
    verify_sample(db_engine, settings, loaded)
    check(
        sweeper.due_count(AS_OF) == loaded.due,
        f"due_count({AS_OF}) == {loaded.due:,} ({loaded.due / loaded.cases:.1%} of open cases)",
    )
    events0 = scalar(db_engine, "SELECT count(*) FROM case_events")

    profiler = cProfile.Profile() if args.profile else None
    first, sweep_s, memory = run_sweep(sweeper, profiler, args.tracemalloc)
    raised = sum(first.raised.values())
    events1 = scalar(db_engine, "SELECT count(*) FROM case_events")
    flags1 = scalar(db_engine, "SELECT count(*) FROM case_flags")
    raised_events = scalar(db_engine, "SELECT count(*) FROM case_events WHERE kind = 'flag_raised'")
    check(
        first.cases_checked == loaded.due and first.cases_changed == loaded.due,
        f"nightly sweep checked and changed {first.cases_checked:,} / {first.cases_changed:,}"
        f" cases == the {loaded.due:,} due",
    )
    check(
        dict(first.raised) == {k: v for k, v in loaded.expected.items() if v} and not first.cleared,
        f"raised {dict(sorted(first.raised.items()))} == generated crossings on {AS_OF},"
        f" nothing cleared",
    )
    check(
        flags1 == raised == raised_events,
        f"{flags1:,} flag rows and {raised_events:,} flag_raised events written, one per flag"
        f" ({events1 - events0:,} events in all)",
    )
    second, second_s, _ = run_sweep(sweeper)
    check(
        second.cases_checked == 0 and second.cases_changed == 0 and not second.raised,
        f"second sweep found {second.cases_checked} cases to check (idempotent)",
    )
    check(
        scalar(db_engine, "SELECT count(*) FROM case_events") == events1
        and scalar(db_engine, "SELECT count(*) FROM case_flags") == flags1,
        "second sweep wrote no flag or event",
    )

    def between() -> None:  # the same table state before each full-table measurement
        if pg and url is not None:
            vacuum(url)

    calendar = settings.calendar(CALENDAR)
    closure = AS_OF + timedelta(days=3)
    while not calendar.is_working_day(closure):
        closure += timedelta(days=1)
    changed = WorkingCalendar(
        CALENDAR,
        name=CALENDAR,
        overrides=[DayOverride(closure, "bench: emergency office closure")],
    )

    def with_closure(name: str) -> WorkingCalendar:
        return changed if name == CALENDAR else settings.calendar(name)

    moving = scalar(
        db_engine,
        "SELECT count(*) FROM case_clocks cc JOIN cases c ON c.id = cc.case_id WHERE c.is_open"
        " AND cc.stopped_on IS NULL AND cc.started_on < :d AND cc.due_on >= :d",
        d=closure,
    )
    between()
    anchor1, anchor1_s = plain_update(db_engine)
    between()
    forced, forced_s = timed(
        lambda: recompute(
            db_engine, calendars=settings.calendar, now=RECOMPUTE_NOW, as_of=AS_OF, force=True
        )
    )
    assert isinstance(forced, RecomputeSummary)
    check(
        forced.deadlines_moved == 0 and forced.cases_restamped == 0,
        "forced recompute on the unchanged calendar moved no deadline, restamped no case",
    )
    between()
    anchor2, anchor2_s = plain_update(db_engine)
    between()
    events2 = scalar(db_engine, "SELECT count(*) FROM case_events")
    moved, moved_s = timed(
        lambda: recompute(db_engine, calendars=with_closure, now=RECOMPUTE_NOW, as_of=AS_OF)
    )
    assert isinstance(moved, RecomputeSummary)
    events3 = scalar(db_engine, "SELECT count(*) FROM case_events")
    check(
        moved.deadlines_moved == moving and events3 - events2 == moving,
        f"closure on {closure}: {moved.deadlines_moved:,} running deadlines moved (expected"
        f" {moving:,}, those due on or after it), one deadline_moved event each",
    )
    on_new = scalar(
        db_engine,
        "SELECT count(*) FROM cases WHERE calendar_fingerprint = :f",
        f=changed.fingerprint,
    )
    check(
        moved.cases_restamped == moved.cases_moved == on_new
        and stale_calendars(db_engine, with_closure) == {}
        and scalar(
            db_engine,
            "SELECT count(*) FROM calendar_states WHERE fingerprint = :f",
            f=changed.fingerprint,
        )
        == 1,
        f"the calendar's state records the new fingerprint (not stale any more); the"
        f" {on_new:,} moved cases carry it, the others are not rewritten",
    )
    marked = scalar(db_engine, "SELECT count(*) FROM cases WHERE next_flag_on <= :d", d=AS_OF)
    check(marked == moved.cases_moved, f"{marked:,} moved cases marked due for the next sweep")
    between()
    anchor3, anchor3_s = plain_update(db_engine)
    check(
        anchor1 == anchor2 == anchor3 == loaded.cases,
        f"each plain UPDATE touched all {anchor1:,} rows",
    )

    per_case = sweep_s / max(first.cases_checked, 1) * 1e3
    items = ""
    inspector = sqlalchemy.inspect(db_engine)
    for table, what in (("work_items", "work items"), ("jobs", "jobs queued")):
        if inspector.has_table(table):  # also written by the sweep, where the schema has them
            items += f", {scalar(db_engine, f'SELECT count(*) FROM {table}'):,} {what}"
    label = " (under cProfile)" if profiler else " (under tracemalloc)" if args.tracemalloc else ""
    print(f"\n  {'measurement':<44}{'seconds':>11}  detail")
    figures.add(
        f"(a) nightly sweep{label}",
        sweep_s,
        f"{first.cases_checked:,} checked, {first.cases_changed:,} changed, {raised:,} flags,"
        f" {events1 - events0:,} events{items}, {first.batches} batches, {per_case:.3f} ms/case",
    )
    figures.add("(b) second sweep (idempotence)", second_s, f"{second.cases_checked} checked")
    figures.add(
        "(c1) recompute, forced, calendar unchanged",
        forced_s,
        f"{forced.deadlines_moved} deadlines moved, {forced.cases_restamped} restamped",
    )
    figures.add(
        f"(c2) recompute after closure on {closure}",
        moved_s,
        f"{moved.deadlines_moved:,} deadlines / {moved.cases_moved:,} cases moved,"
        f" {moved.cases_restamped:,} restamped",
    )
    figures.add(
        "(d) plain UPDATE, first after the load",
        anchor1_s,
        f"{anchor1:,} rows: {ANCHOR_SQL} (full pages)",
    )
    figures.add("(d) plain UPDATE, between (c1) and (c2)", anchor2_s, f"{anchor2:,} rows")
    figures.add("(d) plain UPDATE, after (c2)", anchor3_s, f"{anchor3:,} rows")
    if pg:
        print(
            "  (PostgreSQL: VACUUM, untimed, before each of (c1), (c2) and (d). The first UPDATE"
            " after the load\n  finds every heap and index page full, so it extends the table"
            " and splits index pages;\n  VACUUM leaves the space it frees, and the later ones and"
            " (c) reuse it, as in a table in use.\n  The ratios use the mean of the last two.)"
        )

    peak = memory.peak_mb
    print(
        f"\nmemory of this process during the nightly sweep: RSS before {memory.rss_before_mb:.0f}"
        f" MB, peak {f'{peak:.0f} MB' if peak else 'n/a'} (VmHWM, reset just before the sweep);"
        f"\nru_maxrss {memory.maxrss_before_mb:.0f} MB before it (lifetime peak; the loader ran"
        f" in a child), {memory.maxrss_after_mb:.0f} MB after it (the reset restarts the counter)"
        + (f"; tracemalloc peak {memory.traced_mb:.1f} MB" if memory.traced_mb is not None else "")
    )
    anchor = (anchor2_s + anchor3_s) / 2  # the table state (c) ran in
    peak_value = peak if peak is not None else memory.maxrss_after_mb
    targets = [
        ("nightly sweep seconds" + label, f"{sweep_s:.2f}", f"< {TARGET_SWEEP_S:.0f}",
         sweep_s < TARGET_SWEEP_S),
        ("recompute forced / plain UPDATE", f"{forced_s / anchor:.2f}", f"<= {TARGET_RATIO:.0f}",
         forced_s / anchor <= TARGET_RATIO),
        ("recompute after closure / plain UPDATE", f"{moved_s / anchor:.2f}",
         f"<= {TARGET_RATIO:.0f}", moved_s / anchor <= TARGET_RATIO),
        ("peak RSS during the sweep, MB", f"{peak_value:.0f}", f"< {TARGET_RSS_MB:.0f}",
         peak_value < TARGET_RSS_MB),
    ]  # fmt: skip
    if profiler is not None:
        print("\ncProfile of the nightly sweep, top 15 by cumulative time:", file=sys.stderr)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(15)
        print("\ncProfile of the nightly sweep, top 25 by own time:", file=sys.stderr)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    return [(what, value, goal, met) for what, value, goal, met in targets]


def report_load(loaded: Loaded, dialect: str) -> None:
    how = "COPY" if dialect == "postgresql" else "executemany, one transaction"
    analyze = "VACUUM ANALYZE" if dialect == "postgresql" else "ANALYZE"
    rebuilt = (
        f" incl. rebuilding secondary indexes {loaded.index_s:.1f} s" if loaded.index_s else ""
    )
    mix = ", ".join(f"{s} {loaded.by_state[s] / loaded.cases:.0%}" for s in STATES)
    print(
        f"\ndata: {loaded.cases:,} open cases ({mix}); {loaded.clocks:,} clocks"
        f" ({loaded.running:,} running), {loaded.events:,} events\n{HOW_GENERATED}\n"
        f"load: {loaded.wall_s:.1f} s wall, {loaded.cases / loaded.wall_s:,.0f} cases/s (generating"
        f" {loaded.generate_s:.1f} s in a thread, overlapped with writing ({how})"
        f" {loaded.write_s:.1f} s{rebuilt}), then {analyze} {loaded.vacuum_s:.1f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, help="open cases (default 1,000,000; 20,000 quick)")
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--due-share", type=float, default=0.05, help="share due on the sweep date")
    parser.add_argument("--quick", action="store_true", help="20,000 cases, a CI smoke test")
    parser.add_argument("--profile", action="store_true", help="cProfile the nightly sweep")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="peak Python allocations of the nightly sweep"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    n = args.cases or (20_000 if args.quick else 1_000_000)
    if n < 100:
        parser.error("--cases must be at least 100")
    if not 0 < args.due_share <= 1:
        parser.error("--due-share must be in (0, 1]")
    configure_logging(json=True, level="WARNING")  # the sweep's INFO line is not the sweep
    settings = load_settings()
    calendar = settings.calendar(CALENDAR)
    rules = Rules.of(settings.policies.get(POLICY))
    days = Days(calendar, AS_OF)
    generation: Generation = (n, args.due_share, args.seed, days, rules, calendar.fingerprint)
    print(
        f"sweep: {n:,} open cases on {args.db}, due share {args.due_share:.1%}, sweep date"
        f" {AS_OF} ({SWEEP_NOW:%H:%M} UTC), policy {rules.policy.key}, calendar {CALENDAR}"
        f" {calendar.fingerprint}\nPython {platform.python_version()}, SQLAlchemy"
        f" {sqlalchemy.__version__}, psycopg {psycopg.__version__}, SQLite"
        f" {sqlite3.sqlite_version}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
        f"\nsettings: {settings.config_dir or 'built-in defaults'} (load_settings)"
    )
    try:
        if args.db == "postgresql":
            with fresh_pg_database(args.pg_url, "bench_sweep") as url:
                db_engine = create_db_engine(url)
                try:
                    upgrade(db_engine)
                    with db_engine.connect() as conn:
                        server = conn.execute(text("SHOW server_version")).scalar_one()
                        buffers = conn.execute(text("SHOW shared_buffers")).scalar_one()
                    print(f"PostgreSQL {server}, shared_buffers {buffers}")
                    db_engine.dispose()  # no pooled connection crosses the fork
                    loaded = in_child(load_postgres, url, generation)
                    report_load(loaded, "postgresql")
                    targets = measure(db_engine, settings, loaded, args, url)
                finally:
                    db_engine.dispose()
        else:
            with tempfile.TemporaryDirectory(prefix="bench-sweep-") as folder:
                path = Path(folder) / "sweep.db"
                db_engine = create_db_engine(f"sqlite:///{path}")
                try:
                    upgrade(db_engine)
                    db_engine.dispose()
                    loaded = in_child(load_sqlite, path, generation)
                    report_load(loaded, "sqlite")
                    targets = measure(db_engine, settings, loaded, args, None)
                finally:
                    db_engine.dispose()
    except CheckFailed as exc:
        print(f"  FAILED  {exc}", file=sys.stderr)
        return 1
    print(f"\nload average now {os.getloadavg()[0]:.2f} (other work on the machine skews figures)")
    print(f"\n{'target':<44}{'measured':>10}{'target':>10}{'met':>6}")
    for what, value, goal, met in targets:
        print(f"{what:<44}{value:>10}{goal:>10}{'yes' if met else 'NO':>6}")
    if n != 1_000_000 or args.db != "postgresql":
        print(
            "(the sweep target is set for 1,000,000 cases on PostgreSQL;"
            f" this run: {n:,} on {args.db})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

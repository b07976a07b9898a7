"""Benchmark the reports (TSM, performance, hotspots) over a large PostgreSQL database.

Run from the repository root (a measurement, not a test; exit 1 only if a check fails):

    python bench/reports.py [--cases 1000000] [--quick] [--seed N]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

A fresh database (made for the run and dropped after it, even on error) is migrated with
``adapters.db.migrate.upgrade`` and filled by COPY, not through the service: complaints received
on working days from April 2021 to mid-April 2026 (the 2022 Code before April 2024, the 2024 Code
after), each with the milestones, responses, clocks, events (opened, extended, declined,
withdrawn, closed, referred) and contact-countdown flags its history implies, dated consistently
on the England and Wales calendar. About 2% are declined at receipt, 3% withdrawn, 15% of those
answered escalate (5% of those refused), 3% of Stage 2 cases go to the Ombudsman, 8% of Stage 1
and 5% of Stage 2 responses are extended (a tenth of those late or beyond the cap), and the
newest cases are still open. March 2026 has three planted hotspots.

It then times each report as the CLI runs it (``adapters.reports``: filling ``calendar_days``
if needed, the SQL, the document) twice, the first run after the load and ``VACUUM ANALYZE``,
and prints the seconds and whether each is under the 5-second target: TSM for 2025/26,
performance for 2025-04-01 to 2026-03-31, hotspots for March 2026. ``--quick``: 20,000 cases, a
CI smoke test. ``--keep`` keeps the database; ``--reuse NAME`` times the reports again on a kept
database (migrated to the latest revision first, nothing reloaded; give the same ``--cases``), so
a query change can be measured without the minutes the load takes.
"""

# The sys.path fix below has to run before the project and third-party imports.
# ruff: noqa: E402

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

# ``python bench/reports.py`` puts bench/ first on sys.path, where bench/calendar.py would shadow
# the standard library's ``calendar`` (``holidays`` imports it): swap it for the repo root.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from adapters.db.connection import create_db_engine, normalise_url
from adapters.db.migrate import upgrade
from adapters.logging import configure_logging
from adapters.reports import (
    Homes,
    ReportDocument,
    hotspots_report,
    performance_report,
    render,
    tsm_report,
)
from adapters.settings import load_settings
from bench._common import fresh_pg_database, libpq
from sla.calendar import WorkingCalendar
from sla.timezone import LONDON

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

SEED = 20_260_415
TARGET_S = 5.0
AS_OF = date(2026, 4, 15)
FIRST_RECEIPT, LAST_RECEIPT = date(2021, 4, 1), date(2026, 4, 14)
WINDOW_START, WINDOW_END = date(2021, 1, 1), date(2027, 6, 30)
CALENDAR = "england-and-wales"
CHUNK = 100_000
REPO = _HERE.parent

CATEGORIES = {
    "repairs": 0.35, "damp-and-mould": 0.15, "asb": 0.10, "staff-conduct": 0.04,
    "housing-tenancy": 0.08, "grounds-maintenance": 0.05, "programmed-works": 0.06,
    "rent-and-income": 0.07, "other": 0.10,
}  # fmt: skip
AREAS = tuple(
    f"{side}-{town}"
    for side in ("north", "south", "east", "west")
    for town in ("riverside", "hillcrest", "old-town", "parkside", "docklands", "moor")
)
CHANNELS = {"phone": 0.35, "email": 0.25, "web-form": 0.25, "letter": 0.08, "in-person": 0.05,
            "social-media": 0.02}  # fmt: skip
DECISIONS = ("upheld", "partially-upheld", "not-upheld")
LEVELS = ((3, "contact-due"), (10, "contact-overdue"), (15, "manager-alert"), (20, "critical"))
# Local minutes past midnight for each step, so same-day steps stay in order.
BANDS = {"R": (480, 600), "A": (600, 660), "X": (660, 690), "P": (690, 750), "E": (750, 800),
         "S": (800, 850), "Q": (850, 900), "C": (900, 960), "F": (960, 1000)}  # fmt: skip
HOTSPOTS = (
    ("damp-and-mould", "north-moor"),
    ("asb", "east-docklands"),
    ("repairs", "west-parkside"),
)


# -- working days by index -------------------------------------------------------------------


class Days:
    """Working days of the window by index: ``wd[k]`` is the k-th working day's offset from
    ``WINDOW_START``; add ``n`` working days to the k-th working day with ``k + n``."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        span = (WINDOW_END - WINDOW_START).days + 1
        days = [WINDOW_START + timedelta(days=i) for i in range(span)]
        working = np.array([calendar.is_working_day(d) for d in days])
        self.wd: IntArray = np.flatnonzero(working).astype(np.int64)
        self.iso = [d.isoformat() for d in days]
        self.offset = [
            int((datetime(d.year, d.month, d.day, 12, tzinfo=LONDON).utcoffset() or timedelta())
                .total_seconds()) // 60
            for d in days
        ]  # fmt: skip
        self.k_of = np.cumsum(working) - 1  # working-day index of a date (its last working day)

    def k(self, day: date) -> int:
        return int(self.k_of[(day - WINDOW_START).days])

    def day(self, k: int) -> str:
        return self.iso[int(self.wd[k])]

    def stamp(self, k: int, minutes: int) -> str:
        """A UTC timestamp for London wall time ``minutes`` past midnight on working day k."""
        offset = int(self.wd[k])
        utc = minutes - self.offset[offset]
        return f"{self.iso[offset]} {utc // 60:02d}:{utc % 60:02d}:00+00"


# -- generation ------------------------------------------------------------------------------


@dataclass
class Generated:
    n: int
    kR: IntArray
    kA: IntArray
    kP: IntArray
    kE: IntArray
    kS: IntArray
    kQ: IntArray
    kC: IntArray
    kF: IntArray
    kW: IntArray
    kD: IntArray
    kDE: IntArray
    kT: IntArray  # a later contact (phone call) on an open case
    ext1: IntArray
    ext1_bad: IntArray  # 0 fine, 1 notified late, 2 beyond the cap
    ext2: IntArray
    hoc2022: BoolArray
    tenure: IntArray
    category: IntArray
    area: IntArray
    channel: IntArray
    dec1: IntArray
    dec2: IntArray
    avoid1: BoolArray
    avoid2: BoolArray
    pence1: IntArray
    pence2: IntArray
    minutes: dict[str, IntArray]


def generate(n: int, days: Days, seed: int) -> Generated:
    rng = np.random.default_rng(seed)
    none = np.full(n, -1, dtype=np.int64)
    W = days.k(AS_OF)
    k0, k1 = days.k(FIRST_RECEIPT), days.k(LAST_RECEIPT)
    kR = np.sort(rng.integers(k0, k1 + 1, n))  # ids follow receipt, as in a live system
    category = rng.choice(len(CATEGORIES), n, p=list(CATEGORIES.values()))
    area = rng.integers(0, len(AREAS), n)
    # Plant the hotspots: 1 in 2,000 cases (at least 60) moved into March 2026, split over three
    # category x area combinations.
    planted = rng.random(n) < max(0.0005, 60 / n)
    spot = rng.integers(0, len(HOTSPOTS), n)
    march = (days.k(date(2026, 3, 2)), days.k(date(2026, 3, 31)))
    kR = np.where(planted, rng.integers(march[0], march[1] + 1, n), kR)
    names, areas = list(CATEGORIES), list(AREAS)
    hot_category = np.array([names.index(c) for c, _ in HOTSPOTS])[spot]
    hot_area = np.array([areas.index(a) for _, a in HOTSPOTS])[spot]
    category = np.where(planted, hot_category, category)
    area = np.where(planted, hot_area, area)
    hoc2022 = days.wd[kR] < (date(2024, 4, 1) - WINDOW_START).days
    u = rng.random((12, n))
    declined = u[0] < 0.02
    kD = np.where(declined, kR + rng.integers(1, 4, n), none)
    ack_lag = np.where(u[1] < 0.9, rng.integers(0, 6, n), rng.integers(6, 10, n))
    kA = np.where(declined, none, kR + ack_lag)
    withdrawn = ~declined & (u[2] < 0.03)
    kW = np.where(withdrawn, kA + rng.integers(1, 6, n), none)
    answered = ~declined & ~withdrawn
    ext1 = np.where(answered & (u[3] < 0.08), rng.choice([5, 10], n), 0)
    ext1_bad = np.where(ext1 > 0, np.where(u[4] < 0.05, 1, np.where(u[4] < 0.10, 2, 0)), 0)
    ext1 = np.where(ext1_bad == 2, 15, ext1)
    resp_start = np.where(hoc2022, kR, kA)
    resp_lag = np.where(u[5] < 0.85, rng.integers(2, 11, n), rng.integers(11, 16, n)) + ext1
    kP = np.where(answered, np.maximum(resp_start + resp_lag, kA + 1), none)
    escalated = answered & (u[6] < 0.15)
    kE = np.where(escalated, kP + rng.integers(1, 21, n), none)
    refused = escalated & (u[7] < 0.05)
    kDE = np.where(refused, kE + rng.integers(1, 4, n), none)
    stage2 = escalated & ~refused
    kS = np.where(stage2, kE + np.where(u[8] < 0.9, rng.integers(1, 6, n), rng.integers(6, 9, n)),
                  none)  # fmt: skip
    ext2 = np.where(stage2 & (u[9] < 0.05), 10, 0)
    s2_start = np.where(hoc2022, kE, kS)
    kQ = np.where(stage2, np.maximum(s2_start + rng.integers(5, 24, n) + ext2, kS + 1), none)
    last = np.where(stage2, kQ, kP)
    kC = np.where(answered & ~refused, last + rng.integers(1, 11, n), none)
    kF = np.where(stage2 & (u[10] < 0.03), kC + rng.integers(3, 30, n), none)
    # What has not happened by AS_OF has not happened (and nothing after it either).
    steps = [kR, kA, kP, kE, kS, kQ, kC, kF, kW, kD, kDE]
    for later in steps[1:]:
        later[later > W] = -1
    for before, after in ((kA, kP), (kP, kE), (kE, kS), (kS, kQ), (kA, kW), (kE, kDE)):
        after[before < 0] = -1
    kC[(kP < 0) | ((kE >= 0) & (kQ < 0) & (kDE < 0))] = -1
    kF[kC < 0] = -1
    final = (kC >= 0) | (kW >= 0) | (kD >= 0) | (kDE >= 0)
    last_step = np.max(np.stack([kR, kA, kP, kE, kS, kQ]), axis=0)
    kT = np.where(~final & (u[11] < 0.3) & (last_step < W), np.minimum(last_step + 2, W), none)
    dec1 = rng.choice(3, n, p=[0.30, 0.25, 0.45])
    dec2 = rng.choice(3, n, p=[0.25, 0.25, 0.50])
    avoid1 = (dec1 < 2) & (rng.random(n) < 0.6)
    avoid2 = (dec2 < 2) & (rng.random(n) < 0.6)
    pence1 = np.where((dec1 < 2) & (rng.random(n) < 0.5), rng.integers(50, 500, n) * 100, 0)
    pence2 = np.where((dec2 < 2) & (rng.random(n) < 0.5), rng.integers(100, 900, n) * 100, 0)
    minutes = {key: rng.integers(lo, hi, n) for key, (lo, hi) in BANDS.items()}
    return Generated(
        n=n, kR=kR, kA=kA, kP=kP, kE=kE, kS=kS, kQ=kQ, kC=kC, kF=kF, kW=kW, kD=kD, kDE=kDE,
        kT=kT, ext1=ext1, ext1_bad=ext1_bad, ext2=ext2, hoc2022=hoc2022,
        tenure=(rng.random(n) < 0.15).astype(np.int64), category=category, area=area,
        channel=rng.choice(len(CHANNELS), n, p=list(CHANNELS.values())), dec1=dec1, dec2=dec2,
        avoid1=avoid1, avoid2=avoid2, pence1=pence1, pence2=pence2, minutes=minutes,
    )  # fmt: skip


# -- rows as COPY text -----------------------------------------------------------------------

CASE_COLUMNS = (
    "id", "reference", "workflow", "state", "is_open", "version", "event_count", "policy_id",
    "policy_version", "calendar", "calendar_fingerprint", "received_at", "received_on",
    "channel", "category", "area", "tenure", "vulnerabilities", "health_and_safety",
    "restricted", "priority", "owner", "last_contact_at", "closed_at", "created_at",
    "updated_at", "records",
)  # fmt: skip
MILESTONE_COLUMNS = ("case_id", "name", "at", "business_date")
RESPONSE_COLUMNS = (
    "case_id", "stage", "decision", "avoidable", "compensation_pence", "responded_on",
)  # fmt: skip
CLOCK_COLUMNS = (
    "case_id", "clock", "label", "started_on", "base_days", "extended_days", "due_on",
    "stopped_on", "stop_reason",
)  # fmt: skip
EVENT_COLUMNS = (
    "case_id", "seq", "kind", "occurred_at", "recorded_at", "actor", "data", "before", "after",
)  # fmt: skip
FLAG_COLUMNS = ("case_id", "name", "kind", "level", "anchor_on", "raised_on", "cleared_on")
NULL = r"\N"


class Writer:
    """Builds the COPY text of one chunk of cases, table by table."""

    def __init__(self, g: Generated, days: Days, fingerprint: str) -> None:
        self.g, self.d, self.fingerprint = g, days, fingerprint
        self.W = days.k(AS_OF)
        self.out: dict[str, list[str]] = {}

    def add(self, table: str, *values: object) -> None:
        self.out.setdefault(table, []).append(
            "\t".join(NULL if v is None else str(v) for v in values) + "\n"
        )

    def ts(self, k: int, i: int, band: str) -> str:
        return self.d.stamp(k, int(self.g.minutes[band][i]))

    def case(self, i: int) -> None:
        g, d = self.g, self.d
        cid = i + 1
        k = {name: int(getattr(g, f"k{name}")[i]) for name in
             ("R", "A", "P", "E", "S", "Q", "C", "F", "W", "D", "DE", "T")}  # fmt: skip
        policy = "hoc-2022" if g.hoc2022[i] else "hoc-2024"
        received = self.ts(k["R"], i, "R")
        state, final_at = _state(k), None
        for name, band in (("D", "X"), ("W", "X"), ("DE", "X"), ("C", "C")):
            if k[name] >= 0:
                final_at = self.ts(k[name], i, band)
                break
        contacts = [
            (k["A"], "A"), (k["P"], "P"), (k["E"], "E"), (k["S"], "S"), (k["Q"], "Q"),
            (k["D"], "X"), (k["DE"], "X"), (k["T"], "C"),
        ]  # fmt: skip
        last_contact = max(((kk, b) for kk, b in contacts if kk >= 0), default=None)
        year = d.day(k["R"])[:4]
        records = json.dumps({"summary": "Complaint about a repair that was not completed",
                              "milestones": {"received": received}})  # fmt: skip
        self.add(
            "cases", cid, f"CMP-{year}-{cid:07d}", "complaint", state,
            "f" if final_at else "t", 1, 1, policy, 1, CALENDAR, self.fingerprint, received,
            d.day(k["R"]), list(CHANNELS)[g.channel[i]], list(CATEGORIES)[g.category[i]],
            AREAS[g.area[i]], ("lcra", "lcho")[g.tenure[i]], "[]", "f", "f", "normal",
            "officer", self.ts(last_contact[0], i, last_contact[1]) if last_contact else None,
            final_at, received, received, records,
        )  # fmt: skip
        for key, name, band in (("R", "received", "R"), ("A", "acknowledged", "A"),
                                ("P", "responded", "P"), ("E", "escalation_requested", "E"),
                                ("S", "stage2_acknowledged", "S"),
                                ("Q", "stage2_responded", "Q")):  # fmt: skip
            if k[key] >= 0:
                self.add("case_milestones", cid, name, self.ts(k[key], i, band), d.day(k[key]))
        if k["P"] >= 0:
            self.add("case_responses", cid, 1, DECISIONS[g.dec1[i]],
                     "t" if g.avoid1[i] else "f", g.pence1[i], d.day(k["P"]))  # fmt: skip
        if k["Q"] >= 0:
            self.add("case_responses", cid, 2, DECISIONS[g.dec2[i]],
                     "t" if g.avoid2[i] else "f", g.pence2[i], d.day(k["Q"]))  # fmt: skip
        self.clocks(i, cid, k, bool(g.hoc2022[i]))
        self.events(i, cid, k, received)
        self.flags(cid, k, contacts, final_at is not None)

    def clock(self, cid: int, name: str, start: int, days: int, ext: int,
              stop: tuple[int, str] | None) -> None:  # fmt: skip
        d = self.d
        self.add("case_clocks", cid, name, name.replace("_", " "), d.day(start), days, ext,
                 d.day(start + days + ext), d.day(stop[0]) if stop else None,
                 stop[1] if stop else None)  # fmt: skip

    def clocks(self, i: int, cid: int, k: dict[str, int], hoc2022: bool) -> None:
        g = self.g

        def stop(*options: tuple[int, str]) -> tuple[int, str] | None:
            return next(((kk, why) for kk, why in options if kk >= 0), None)

        self.clock(cid, "acknowledge", k["R"], 5, 0, stop((k["A"], "acknowledged"),
                                                          (k["D"], "declined")))  # fmt: skip
        if k["A"] >= 0:
            start = k["R"] if hoc2022 else k["A"]
            ext = int(g.ext1[i]) if k["P"] >= 0 else 0
            self.clock(cid, "respond", start, 10, ext,
                       stop((k["P"], "responded"), (k["W"], "withdrawn")))  # fmt: skip
        if k["E"] >= 0 and not hoc2022:
            self.clock(cid, "stage2_acknowledge", k["E"], 5, 0,
                       stop((k["S"], "stage2_acknowledged"), (k["DE"], "declined")))  # fmt: skip
        s2_start = k["E"] if hoc2022 else k["S"]
        if s2_start >= 0 and (k["S"] >= 0 or hoc2022) and k["DE"] < 0:
            ext = int(g.ext2[i]) if k["Q"] >= 0 else 0
            self.clock(cid, "stage2_respond", s2_start, 20, ext,
                       stop((k["Q"], "stage2_responded")))  # fmt: skip

    def events(self, i: int, cid: int, k: dict[str, int], received: str) -> None:
        g, d = self.g, self.d
        self.add("case_events", cid, 1, "opened", received, received, "bench", "{}", "{}", "{}")
        if k["P"] >= 0 and g.ext1[i] > 0:
            start = k["R"] if g.hoc2022[i] else k["A"]
            late = g.ext1_bad[i] == 1
            when = start + 11 if late else max(start + 1, k["A"])
            when = min(when, k["P"])
            data = {"clock": "respond", "days": int(g.ext1[i]), "beyond_cap": bool(
                g.ext1_bad[i] == 2), "notified_before_due": not late,
                "previous_due_on": d.day(start + 10), "new_due_on": d.day(
                start + 10 + int(g.ext1[i]))}  # fmt: skip
            self.add("case_events", cid, 3, "extended", self.ts(when, i, "X"),
                     self.ts(when, i, "X"), "bench", json.dumps(data), "{}", "{}")  # fmt: skip
        if k["Q"] >= 0 and g.ext2[i] > 0:
            start = k["E"] if g.hoc2022[i] else k["S"]
            data = {"clock": "stage2_respond", "days": int(g.ext2[i]), "beyond_cap": False,
                    "notified_before_due": True}  # fmt: skip
            when = min(start + 5, k["Q"])
            self.add("case_events", cid, 6, "extended", self.ts(when, i, "X"),
                     self.ts(when, i, "X"), "bench", json.dumps(data), "{}", "{}")  # fmt: skip
        endings: tuple[tuple[str, int, str, str, dict[str, str]], ...] = (
            ("D", 2, "declined", "X", {"refused": "complaint", "exclusion": "legal-proceedings"}),
            ("W", 4, "withdrawn", "X", {}),
            ("DE", 5, "declined", "X", {"refused": "escalation",
                                        "exclusion": "previously-considered"}),
            ("C", 8, "closed", "C", {}),
            ("F", 9, "referred_to_ombudsman", "F", {}),
        )  # fmt: skip
        for key, seq, kind, band, ending in endings:
            if k[key] >= 0:
                stamp = self.ts(k[key], i, band)
                self.add("case_events", cid, seq, kind, stamp, stamp, "bench",
                         json.dumps(ending), "{}", "{}")  # fmt: skip

    def flags(self, cid: int, k: dict[str, int], contacts: list[tuple[int, str]],
              final: bool) -> None:  # fmt: skip
        """Contact-countdown crossings between consecutive contacts (and, open, until AS_OF)."""
        d = self.d
        anchors = sorted({k["R"], *(kk for kk, _ in contacts if kk >= 0)})
        end_of_case = min([kk for kk in (k["C"], k["W"], k["D"], k["DE"]) if kk >= 0],
                          default=self.W + 1)  # fmt: skip
        for j, anchor in enumerate(anchors):
            until = anchors[j + 1] if j + 1 < len(anchors) else end_of_case
            for days, level in LEVELS:
                raised = anchor + days
                if raised < until and raised <= self.W:
                    cleared = d.day(until) if until <= self.W else None
                    self.add("case_flags", cid, level, "contact", level, d.day(anchor),
                             d.day(raised), cleared)  # fmt: skip
        del final


def _state(k: dict[str, int]) -> str:
    if k["F"] >= 0:
        return "referred_to_ombudsman"
    if k["C"] >= 0:
        return "closed"
    if k["D"] >= 0 or k["DE"] >= 0:
        return "declined"
    if k["W"] >= 0:
        return "withdrawn"
    for key, state in (("Q", "stage2_responded"), ("S", "stage2"), ("E", "escalation_requested"),
                       ("P", "stage1_responded"), ("A", "stage1")):  # fmt: skip
        if k[key] >= 0:
            return state
    return "received"


TABLES = (
    ("cases", CASE_COLUMNS),
    ("case_milestones", MILESTONE_COLUMNS),
    ("case_responses", RESPONSE_COLUMNS),
    ("case_clocks", CLOCK_COLUMNS),
    ("case_events", EVENT_COLUMNS),
    ("case_flags", FLAG_COLUMNS),
)


# -- the database ------------------------------------------------------------------------------


@contextmanager
def kept_database(server_url: str, name: str) -> Iterator[str]:
    """A database left by an earlier ``--keep`` run (never dropped here)."""
    server = make_url(normalise_url(server_url))
    with psycopg.connect(libpq(server), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    if found is None:
        raise SystemExit(f"no database {name} (keep one with --keep)")
    yield server.set(database=name).render_as_string(hide_password=False)


# Indexes that back no constraint: dropped for the COPY and rebuilt from their definitions.
SECONDARY_INDEXES = """
SELECT i.indexname, i.indexdef FROM pg_indexes i
WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                  WHERE c.conindid = format('%%I.%%I', i.schemaname, i.indexname)::regclass)
"""


def load(url: str, g: Generated, days: Days, fingerprint: str) -> dict[str, int]:
    """COPY every table chunk by chunk in one transaction (secondary indexes dropped first and
    rebuilt after as migrated, foreign-key triggers off: the rows are consistent by
    construction), then VACUUM ANALYZE as a settled database would be."""
    counts = dict.fromkeys((t for t, _ in TABLES), 0)
    with psycopg.connect(libpq(make_url(url))) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET maintenance_work_mem = '512MB'")
        indexes = conn.execute(SECONDARY_INDEXES, ([t for t, _ in TABLES],)).fetchall()
        for name, _ in indexes:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        cur = conn.cursor()
        for first in range(0, g.n, CHUNK):
            writer = Writer(g, days, fingerprint)
            for i in range(first, min(first + CHUNK, g.n)):
                writer.case(i)
            for table, columns in TABLES:
                lines = writer.out.get(table, [])
                counts[table] += len(lines)
                copy = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
                )
                with cur.copy(copy) as stream:
                    stream.write("".join(lines))
        for _, definition in indexes:
            conn.execute(definition)
        conn.execute("SELECT setval(pg_get_serial_sequence('cases', 'id'), %s)", (g.n,))
        conn.commit()
    with psycopg.connect(libpq(make_url(url)), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return counts


# -- timing ------------------------------------------------------------------------------------


def timed(run: Callable[[], ReportDocument]) -> tuple[float, ReportDocument]:
    started = time.perf_counter()
    document = run()
    render(document, "table")
    render(document, "html")
    return time.perf_counter() - started, document


def check(ok: bool, what: str) -> None:
    if not ok:
        raise SystemExit(f"CHECK FAILED: {what}")
    print(f"  ok  {what}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, help="complaints (default 1,000,000; quick 20,000)")
    parser.add_argument("--quick", action="store_true", help="20,000 cases, a CI smoke test")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--keep", action="store_true", help="keep the database (to explore)")
    parser.add_argument(
        "--reuse", metavar="NAME", help="time the reports on a database kept with --keep"
    )
    args = parser.parse_args(argv)
    n = args.cases or (20_000 if args.quick else 1_000_000)
    configure_logging(json=False, level="warning")
    settings = load_settings(str(REPO / "config"))
    calendar = settings.calendar(CALENDAR)
    days = Days(calendar)
    print(f"bench/reports.py: {n:,} complaints on PostgreSQL, as of {AS_OF}")
    database = (
        kept_database(args.pg_url, args.reuse)
        if args.reuse
        else fresh_pg_database(args.pg_url, "bench_reports", keep=args.keep)
    )
    with database as url:
        db_engine = create_db_engine(url, poolclass=NullPool)
        try:
            upgrade(db_engine)
            if args.reuse:
                with psycopg.connect(libpq(make_url(url)), autocommit=True) as conn:
                    conn.execute("ANALYZE")  # statistics for any index a migration just added
                print(f"reusing {args.reuse}")
            else:
                started = time.perf_counter()
                generated = generate(n, days, args.seed)
                print(f"generated in {time.perf_counter() - started:.1f} s")
                started = time.perf_counter()
                counts = load(url, generated, days, calendar.fingerprint)
                rows = ", ".join(f"{t} {c:,}" for t, c in counts.items())
                print(f"loaded with COPY + VACUUM ANALYZE in {time.perf_counter() - started:.1f} "
                      f"s: {rows}")  # fmt: skip
            levels = settings.policies.get("hoc-2024").contact_levels
            reports: dict[str, Callable[[], ReportDocument]] = {
                "tsm 2025/26": lambda: tsm_report(
                    db_engine, settings.calendar, year=2025,
                    homes=Homes(lcra=max(n // 25, 1), lcho=max(n // 150, 1)),
                    rule="acknowledged-and-responded",
                ),
                "performance 2025-04-01..2026-03-31": lambda: performance_report(
                    db_engine, settings.calendar, start=date(2025, 4, 1), end=date(2026, 3, 31),
                    as_of=AS_OF, levels=levels,
                ),
                "hotspots 2026-03": lambda: hotspots_report(
                    db_engine, start=date(2026, 3, 1), end=date(2026, 3, 31)
                ),
            }  # fmt: skip
            results: dict[str, tuple[float, float]] = {}
            documents: dict[str, ReportDocument] = {}
            for name, run in reports.items():
                first, documents[name] = timed(run)
                second, _ = timed(run)
                results[name] = (first, second)
            summarise(results, documents, n)
        finally:
            db_engine.dispose()
    return 0


def summarise(
    results: dict[str, tuple[float, float]], documents: dict[str, ReportDocument], n: int
) -> None:
    print("\nchecks")
    tsm = documents["tsm 2025/26"].table("ch01")
    received = next(r["received"] for r in tsm.rows if r["tenure"] == "All tenures")
    check(isinstance(received, int) and received > n // 8, "TSM counts a year of complaints")
    ch02 = documents["tsm 2025/26"].table("ch02")
    check(any((r["responded"] or 0) != (r["within"] or 0) for r in ch02.rows),
          "some responses are out of timescale")  # fmt: skip
    spots = {
        (r["category"], r["area"]) for r in documents["hotspots 2026-03"].table("hotspots").rows
    }
    check(set(HOTSPOTS) <= spots, f"the planted hotspots are found ({len(spots)} flagged)")
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"\nreport timings over {n:,} complaints (target < {TARGET_S:.0f} s each; "
          f"{os.cpu_count()} cores, load average now {load})")  # fmt: skip
    print(f"{'report':<38} {'first run':>10} {'second run':>11}  under target")
    for name, (first, second) in results.items():
        verdict = "yes" if max(first, second) < TARGET_S else "NO"
        print(f"{name:<38} {first:>9.2f}s {second:>10.2f}s  {verdict}")


if __name__ == "__main__":
    sys.exit(main())

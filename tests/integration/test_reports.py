"""Reports on a real database: every figure checked against numbers worked out by hand.

Each test builds its complaints through the public service API (back-dated with ``at``, the
``FakeClock`` set after the last step) on SQLite and on PostgreSQL, runs a report, and compares
each cell with a figure computed in the comments. Working days are England and Wales: 2025 bank
holidays 18 and 21 April, 5 and 26 May, 25 August, 25 and 26 December; 1 January 2026.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import structlog
import structlog.testing
from click.testing import CliRunner
from sqlalchemy import Engine
from support import FakeClock, london

from adapters.cli.main import cli as complaints_cli
from adapters.reports import Homes, hotspots_report, performance_report, tsm_report
from adapters.reports.document import Cell, ReportDocument
from adapters.settings import Settings
from engine.access import Actor
from engine.service import ComplaintsService

S1, S2 = "s1.officer", "s2.reviewer"
CONFIG_DIR = Path(__file__).parents[2] / "config"
D = Decimal


class Cases:
    """Back-dated steps in a few words: ``cases.ack(ref, 2025, 6, 4)``."""

    def __init__(self, service: ComplaintsService) -> None:
        self.s = service

    def open(
        self,
        y: int,
        m: int,
        d: int,
        hour: int = 10,
        minute: int = 0,
        *,
        category: str = "repairs",
        area: str = "north",
        channel: str = "phone",
        tenure: str = "lcra",
        calendar: str | None = None,
        workflow: str = "complaint",
    ) -> str:
        return self.s.open(
            actor=S1,
            category=category,
            area=area,
            channel=channel,
            tenure=tenure,
            calendar=calendar,
            workflow=workflow,
            received_at=london(y, m, d, hour, minute),
            understanding="Repair outstanding",
            desired_outcome="Fix it",
        ).reference

    def ack(self, ref: str, y: int, m: int, d: int) -> None:
        self.s.acknowledge(ref, actor=S1, at=london(y, m, d, 11))

    def respond(
        self,
        ref: str,
        y: int,
        m: int,
        d: int,
        decision: str = "upheld",
        avoidable: bool | None = True,
        pence: int = 0,
    ) -> None:
        self.s.respond(
            ref,
            actor=S1,
            decision=decision,
            reasons="Looked into it",
            avoidable=avoidable,
            compensation_pence=pence,
            at=london(y, m, d, 12),
        )

    def escalate(self, ref: str, y: int, m: int, d: int) -> None:
        self.s.escalate(ref, actor=S1, at=london(y, m, d, 13))

    def ack2(self, ref: str, y: int, m: int, d: int) -> None:
        self.s.acknowledge(
            ref,
            actor=S2,
            handler=S2,
            understanding="Still outstanding",
            desired_outcome="Fix it now",
            at=london(y, m, d, 11),
        )

    def respond2(
        self, ref: str, y: int, m: int, d: int, decision: str = "not-upheld", pence: int = 0
    ) -> None:
        self.s.respond(
            ref,
            actor=S2,
            decision=decision,
            reasons="Reviewed",
            avoidable=None if decision == "not-upheld" else True,
            compensation_pence=pence,
            at=london(y, m, d, 12),
        )

    def extend(
        self, ref: str, y: int, m: int, d: int, days: int, *, good_reason: bool = False
    ) -> None:
        self.s.extend(
            ref,
            actor=Actor(S1, roles=frozenset({"complaints-manager"})) if good_reason else S1,
            days=days,
            stage=1,
            reason="Waiting for a contractor's report",
            good_reason="A contractor's report is needed" if good_reason else None,
            at=london(y, m, d, 9),
        )


def table(document: ReportDocument, name: str, *keys: str) -> dict[Any, Mapping[str, Cell]]:
    """A table's rows keyed by the given columns."""
    result: dict[Any, Mapping[str, Cell]] = {}
    for row in document.table(name).rows:
        key = tuple(row[k] for k in keys)
        result[key[0] if len(key) == 1 else key] = row
    return result


def column(document: ReportDocument, name: str, key: str, value: str) -> dict[Cell, Cell]:
    return {row[key]: row[value] for row in document.table(name).rows}


# == TSM CH01 and CH02 ===========================================================================


def build_tsm_year(cases: Cases) -> dict[str, str]:
    """The 2025/26 dataset (year 2025-04-01 to 2026-03-31). Each case says what it tests."""
    c = cases
    refs: dict[str, str] = {}
    # A: on time. Received Mon 2 Jun; acknowledged 4 Jun (due 9 Jun); response due 4 Jun + 10
    # = 18 Jun, responded 16 Jun.
    refs["A"] = a = c.open(2025, 6, 2)
    c.ack(a, 2025, 6, 4)
    c.respond(a, 2025, 6, 16)
    # B: acknowledged late (due Mon 9 Jun, done 12 Jun) but responded on time (12 Jun + 10 =
    # 26 Jun; done 20 Jun): out under acknowledged-and-responded, in under responded.
    refs["B"] = b = c.open(2025, 6, 2)
    c.ack(b, 2025, 6, 12)
    c.respond(b, 2025, 6, 20)
    # C: responded late: acknowledged Wed 2 Jul, due 16 Jul, responded 25 Jul.
    refs["C"] = x = c.open(2025, 7, 1)
    c.ack(x, 2025, 7, 2)
    c.respond(x, 2025, 7, 25)
    # D: a compliant extension: due 16 Sep (ack 2 Sep + 10), extended 5 on 10 Sep (before the
    # deadline, within the cap of 10) to 23 Sep; responded 22 Sep: within.
    refs["D"] = x = c.open(2025, 9, 1)
    c.ack(x, 2025, 9, 2)
    c.extend(x, 2025, 9, 10, 5)
    c.respond(x, 2025, 9, 22)
    # E: an extension notified late: acknowledged Wed 1 Oct (day 0), due 15 Oct; extended 10 on
    # Fri 17 Oct (after the deadline) to 29 Oct; responded 24 Oct. Judged against 15 Oct: late.
    refs["E"] = x = c.open(2025, 10, 1)
    c.ack(x, 2025, 10, 1)
    c.extend(x, 2025, 10, 17, 10)
    c.respond(x, 2025, 10, 24)
    # F: beyond the cap with a good reason: ack Tue 4 Nov, due 18 Nov; extended 15 (cap 10) on
    # 10 Nov to 9 Dec; responded 2 Dec. Judged against 18 Nov: late.
    refs["F"] = x = c.open(2025, 11, 3)
    c.ack(x, 2025, 11, 4)
    c.extend(x, 2025, 11, 10, 15, good_reason=True)
    c.respond(x, 2025, 12, 2)
    # G: received in the previous year (24 Mar 2025), responded 2 Apr 2025 (due 8 Apr): CH02
    # of 2025 only.
    refs["G"] = x = c.open(2025, 3, 24)
    c.ack(x, 2025, 3, 25)
    c.respond(x, 2025, 4, 2)
    # H: 31 Mar 2026 at 17:30 on the westward calendar (cut-off 17:00): received 1 Apr 2026,
    # next year. I: the same day at 16:00: this year.
    refs["H"] = c.open(2026, 3, 31, 17, 30, calendar="westward")
    refs["I"] = c.open(2026, 3, 31, 16, 0, calendar="westward")
    # J: 00:30 on 1 Apr 2025 London (23:30 on 31 Mar in UTC): received 1 Apr, this year.
    refs["J"] = c.open(2025, 4, 1, 0, 30)
    # K: declined at receipt: never accepted, not counted.
    refs["K"] = x = c.open(2025, 5, 6)
    cases.s.decline(
        x, actor=S1, exclusion="legal-proceedings", reason="Claim filed", at=london(2025, 5, 7)
    )
    # L: Stage 1 on time (ack 13 May, due 28 May: 26 May is a bank holiday; responded 20 May);
    # its escalation on 27 May is refused: Stage 1 counts, Stage 2 does not.
    refs["L"] = x = c.open(2025, 5, 12)
    c.ack(x, 2025, 5, 13)
    c.respond(x, 2025, 5, 20)
    c.escalate(x, 2025, 5, 27)
    cases.s.decline(
        x,
        actor=S2,
        exclusion="previously-considered",
        reason="Already reviewed",
        at=london(2025, 5, 29),
    )
    # M: withdrawn the day after receipt: received (CH01) but never responded to (no CH02).
    refs["M"] = x = c.open(2025, 8, 4)
    cases.s.withdraw(x, actor=S1, at=london(2025, 8, 5))
    # N: escalated before the Stage 1 response (no Stage 1 CH02). Stage 2 acknowledged 18 Aug
    # (due 21 Aug), due 18 Aug + 20 = 16 Sep (25 Aug is a holiday), responded 10 Sep: within.
    refs["N"] = x = c.open(2025, 8, 11)
    c.ack(x, 2025, 8, 12)
    c.escalate(x, 2025, 8, 14)
    c.ack2(x, 2025, 8, 18)
    c.respond2(x, 2025, 9, 10)
    # O (LCHO): Stage 1 on time (ack 10 Jun, due 24 Jun, responded 20 Jun); escalated 23 Jun;
    # Stage 2 acknowledged late (due 30 Jun, done 7 Jul), responded 21 Jul (due 4 Aug); then
    # closed and referred to the Ombudsman.
    refs["O"] = x = c.open(2025, 6, 9, tenure="lcho")
    c.ack(x, 2025, 6, 10)
    c.respond(x, 2025, 6, 20)
    c.escalate(x, 2025, 6, 23)
    c.ack2(x, 2025, 7, 7)
    c.respond2(x, 2025, 7, 21)
    cases.s.close(x, actor=S2, at=london(2025, 7, 22))
    cases.s.refer(x, actor=S2, at=london(2025, 8, 1))
    # P: made 11 Mar 2024, so the 2022 Code (no Stage 2 acknowledgement clock). Escalated
    # 7 Apr 2025 (CH01 Stage 2 of 2025), acknowledged 22 Apr, responded 30 Apr, due 7 Apr + 20
    # = 8 May (18, 21 Apr and 5 May are holidays): within, judged on the response alone.
    refs["P"] = x = c.open(2024, 3, 11)
    c.ack(x, 2024, 3, 12)
    c.respond(x, 2024, 3, 20)
    c.escalate(x, 2025, 4, 7)
    c.ack2(x, 2025, 4, 22)
    c.respond2(x, 2025, 4, 30)
    # Q: Stage 2 response on its due date: acknowledged Wed 10 Dec, due 10 Dec + 20 = Mon
    # 12 Jan 2026 (25, 26 Dec and 1 Jan are holidays), responded 12 Jan: within.
    # R (LCHO): the same, responded 13 Jan: one day late.
    for key, tenure, day in (("Q", "lcra", 12), ("R", "lcho", 13)):
        refs[key] = x = c.open(2025, 12, 1, tenure=tenure)
        c.ack(x, 2025, 12, 2)
        c.respond(x, 2025, 12, 5)
        c.escalate(x, 2025, 12, 8)
        c.ack2(x, 2025, 12, 10)
        c.respond2(x, 2026, 1, day)
    # S: received 16 Mar 2026, responded 1 Apr 2026: CH01 of 2025, CH02 of 2026.
    refs["S"] = x = c.open(2026, 3, 16)
    c.ack(x, 2026, 3, 17)
    c.respond(x, 2026, 4, 1)
    # T: a dissatisfaction (not a complaint, not counted) escalated on 10 Jun: the complaint it
    # opens is received on 10 Jun and counted.
    refs["T"] = x = c.open(2025, 6, 5, workflow="dissatisfaction")
    cases.s.escalate(x, actor=S1, at=london(2025, 6, 10))
    # U: two extensions within the cap: ack Tue 6 Jan, due 20 Jan; +4 on 15 Jan (to 26 Jan);
    # +5 on 22 Jan (after the original deadline but before the one then in force: notified in
    # time) to 2 Feb; responded 30 Jan: within.
    refs["U"] = x = c.open(2026, 1, 5)
    c.ack(x, 2026, 1, 6)
    c.extend(x, 2026, 1, 15, 4)
    c.extend(x, 2026, 1, 22, 5)
    c.respond(x, 2026, 1, 30)
    return refs


@pytest.fixture
def tsm_data(service: ComplaintsService, clock: FakeClock) -> dict[str, str]:
    clock.set(datetime(2026, 4, 20, 9, 0, tzinfo=UTC))
    return build_tsm_year(Cases(service))


def test_tsm_ch01_counts_received_complaints_per_stage_and_tenure_per_1000_homes(
    tsm_data: dict[str, str], db_engine: Engine, settings: Settings
) -> None:
    document = tsm_report(
        db_engine,
        settings.calendar,
        year=2025,
        homes=Homes(lcra=2000, lcho=300),
        rule="acknowledged-and-responded",
    )
    ch01 = table(document, "ch01", "tenure", "stage")
    # LCRA Stage 1: A B C D E F I J L M N Q S U and T's complaint = 15 (not G: received 2024/25;
    # not H: after the cut-off on 31 March; not K: declined; not P: 2024; not the
    # dissatisfaction itself). 15 / 2000 x 1000 = 7.50.
    assert ch01[("LCRA", "Stage 1")] == {
        "tenure": "LCRA",
        "stage": "Stage 1",
        "received": 15,
        "homes": 2000,
        "per_1000": D("7.50"),
    }
    # LCRA Stage 2: N, P, Q (L's escalation was refused) = 3 -> 1.50.
    assert ch01[("LCRA", "Stage 2")]["received"] == 3
    assert ch01[("LCRA", "Stage 2")]["per_1000"] == D("1.50")
    # LCHO: O and R at both stages: 2 / 300 x 1000 = 6.666... -> 6.67.
    assert ch01[("LCHO", "Stage 1")]["received"] == 2
    assert ch01[("LCHO", "Stage 1")]["per_1000"] == D("6.67")
    assert ch01[("LCHO", "Stage 2")]["received"] == 2
    assert ch01[("LCHO", "Stage 2")]["per_1000"] == D("6.67")
    # All tenures, 2300 homes: 17 -> 7.391 -> 7.39; 5 -> 2.174 -> 2.17.
    assert ch01[("All tenures", "Stage 1")]["received"] == 17
    assert ch01[("All tenures", "Stage 1")]["homes"] == 2300
    assert ch01[("All tenures", "Stage 1")]["per_1000"] == D("7.39")
    assert ch01[("All tenures", "Stage 2")]["received"] == 5
    assert ch01[("All tenures", "Stage 2")]["per_1000"] == D("2.17")
    assert ("reporting year", "2025/26: 2025-04-01 to 2026-03-31") in document.parameters


def test_tsm_ch02_acknowledged_and_responded_with_extensions_judged_by_the_rules(
    tsm_data: dict[str, str], db_engine: Engine, settings: Settings
) -> None:
    document = tsm_report(
        db_engine, settings.calendar, year=2025, homes=Homes(), rule="acknowledged-and-responded"
    )
    ch02 = table(document, "ch02", "tenure", "stage")
    # LCRA Stage 1 responses in the year: A B C D E F G L Q U = 10 (not P: responded 2024; not
    # S: 1 Apr 2026; not N: escalated first). Within: A D G L Q U = 6 (B acknowledged late; C
    # late; E and F late against the deadline without their extensions). 6/10 = 60.0%.
    assert ch02[("LCRA", "Stage 1")] == {
        "tenure": "LCRA",
        "stage": "Stage 1",
        "within": 6,
        "responded": 10,
        "percent": D("60.0"),
        "ack_late": 1,
        "response_late": 3,
        "without_extensions": 2,
    }
    # LCHO Stage 1: O and R, both on time: 2/2.
    assert ch02[("LCHO", "Stage 1")]["within"] == 2
    assert ch02[("LCHO", "Stage 1")]["responded"] == 2
    assert ch02[("LCHO", "Stage 1")]["percent"] == D("100.0")
    # LCRA Stage 2: N, P (2022 Code: response leg only), Q (on the due date): 3/3.
    assert ch02[("LCRA", "Stage 2")]["within"] == 3
    assert ch02[("LCRA", "Stage 2")]["responded"] == 3
    assert ch02[("LCRA", "Stage 2")]["ack_late"] == 0
    # LCHO Stage 2: O acknowledged late, R responded a day late: 0/2.
    assert ch02[("LCHO", "Stage 2")] == {
        "tenure": "LCHO",
        "stage": "Stage 2",
        "within": 0,
        "responded": 2,
        "percent": D("0.0"),
        "ack_late": 1,
        "response_late": 1,
        "without_extensions": 0,
    }
    # All tenures: Stage 1 8/12 = 66.666... -> 66.7; Stage 2 3/5 = 60.0.
    assert ch02[("All tenures", "Stage 1")]["within"] == 8
    assert ch02[("All tenures", "Stage 1")]["responded"] == 12
    assert ch02[("All tenures", "Stage 1")]["percent"] == D("66.7")
    assert ch02[("All tenures", "Stage 2")]["percent"] == D("60.0")
    # The extensions that did not count, with why.
    issues = [dict(r) for r in document.table("ch02_extensions").rows]
    assert issues == [
        {
            "reference": tsm_data["E"],
            "tenure": "LCRA",
            "stage": "Stage 1",
            "clock": "respond",
            "days": 10,
            "why": "notified after the deadline",
        },
        {
            "reference": tsm_data["F"],
            "tenure": "LCRA",
            "stage": "Stage 1",
            "clock": "respond",
            "days": 15,
            "why": "beyond the policy's cap",
        },
    ]
    assert ("CH02 rule", "acknowledged-and-responded") in document.parameters


def test_tsm_ch02_under_the_responded_rule_ignores_the_acknowledgement_leg(
    tsm_data: dict[str, str], db_engine: Engine, settings: Settings
) -> None:
    document = tsm_report(
        db_engine, settings.calendar, year=2025, homes=Homes(lcra=2000), rule="responded"
    )
    ch02 = table(document, "ch02", "tenure", "stage")
    # B now counts: 7/10; O's Stage 2 counts: LCHO Stage 2 1/2; all Stage 1 9/12 = 75.0,
    # all Stage 2 4/5 = 80.0.
    assert (ch02[("LCRA", "Stage 1")]["within"], ch02[("LCRA", "Stage 1")]["percent"]) == (
        7,
        D("70.0"),
    )
    assert ch02[("LCHO", "Stage 2")]["within"] == 1
    assert ch02[("LCHO", "Stage 2")]["percent"] == D("50.0")
    assert ch02[("All tenures", "Stage 1")]["percent"] == D("75.0")
    assert ch02[("All tenures", "Stage 2")]["percent"] == D("80.0")
    # With LCHO homes not given, its rate and the all-tenure rate are left blank.
    ch01 = table(document, "ch01", "tenure", "stage")
    assert ch01[("LCHO", "Stage 1")]["per_1000"] is None
    assert ch01[("All tenures", "Stage 1")]["homes"] is None


def test_tsm_of_the_previous_year_sees_only_what_fell_in_it(
    tsm_data: dict[str, str], db_engine: Engine, settings: Settings
) -> None:
    document = tsm_report(
        db_engine, settings.calendar, year=2024, homes=Homes(lcra=2000), rule="responded"
    )
    ch01 = table(document, "ch01", "tenure", "stage")
    # 2024/25: received G (24 Mar 2025); P was made 11 Mar 2024, before the year. No escalation.
    assert ch01[("LCRA", "Stage 1")]["received"] == 1
    assert ch01[("LCRA", "Stage 2")]["received"] == 0
    # No response in 2024/25 (G responded 2 Apr 2025; P on 20 Mar 2024).
    assert table(document, "ch02", "tenure", "stage")[("LCRA", "Stage 1")]["responded"] == 0


def test_the_cli_prints_the_same_tsm_figures_as_json(tsm_data: dict[str, str], db_url: str) -> None:
    saved = structlog.get_config()
    try:
        result = CliRunner().invoke(
            complaints_cli,
            [
                "--config",
                str(CONFIG_DIR),
                "--db",
                db_url,
                "report",
                "tsm",
                "--year",
                "2025",
                "--homes-lcra",
                "2000",
                "--homes-lcho",
                "300",
                "--format",
                "json",
            ],
            catch_exceptions=False,
        )
    finally:
        structlog.configure(**saved)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    rows = {(r["tenure"], r["stage"]): r for r in data["tables"]["ch01"]["rows"]}
    assert rows[("LCRA", "Stage 1")]["per_1000"] == 7.5
    assert rows[("All tenures", "Stage 2")]["per_1000"] == 2.17
    ch02 = {(r["tenure"], r["stage"]): r for r in data["tables"]["ch02"]["rows"]}
    assert ch02[("LCRA", "Stage 1")]["percent"] == 60.0
    assert data["parameters"]["CH02 rule"] == "acknowledged-and-responded"


# == performance ==================================================================================


def build_performance_months(cases: Cases) -> dict[str, str]:
    """June and July 2025, and a few cases either side. Contacts: acknowledgements, responses,
    extensions, escalations and declines are contacts; closing, withdrawing and referring are
    not. Every gap between contacts is chosen to miss the countdown thresholds' exact days."""
    c, s = cases, cases.s
    refs: dict[str, str] = {}
    # P1 repairs/north/phone: ack Wed 4 Jun, responded 13 Jun (upheld, avoidable, 50.00),
    # closed 16 Jun. Countdown from 4 Jun: contact-due on 9 Jun (+3).
    refs["P1"] = x = c.open(2025, 6, 2)
    c.ack(x, 2025, 6, 4)
    c.respond(x, 2025, 6, 13, "upheld", True, 5000)
    s.close(x, actor=S1, at=london(2025, 6, 16, 15))
    # P2 damp-and-mould/south/email: ack 3 Jun (due 17 Jun), extended +5 on 10 Jun (to 24 Jun),
    # responded 23 Jun (partially upheld, not avoidable); escalated 25 Jun; Stage 2
    # acknowledged 1 Jul (due 2 Jul), responded 21 Jul (due 29 Jul; not upheld); referred
    # 28 Jul. Countdown: from 3 Jun due 6 Jun; from 10 Jun due 13 Jun; from 25 Jun due 30 Jun;
    # from 1 Jul due 4 Jul and overdue 15 Jul; from 21 Jul due 24 Jul.
    refs["P2"] = x = c.open(2025, 6, 2, category="damp-and-mould", area="south", channel="email")
    c.ack(x, 2025, 6, 3)
    c.extend(x, 2025, 6, 10, 5)
    c.respond(x, 2025, 6, 23, "partially-upheld", False, 0)
    c.escalate(x, 2025, 6, 25)
    c.ack2(x, 2025, 7, 1)
    c.respond2(x, 2025, 7, 21, "not-upheld")
    s.refer(x, actor=S2, at=london(2025, 7, 28))
    # P3 repairs/north/web-form (LCHO): acknowledged late 26 Jun (due 23 Jun), responded late
    # 14 Jul (due 10 Jul; upheld, avoidable, 125.50); still open. Countdown: from 16 Jun due
    # 19 Jun; from 26 Jun due 1 Jul, overdue 10 Jul; from 14 Jul due 17 Jul, overdue 28 Jul
    # (manager-alert 4 Aug and critical 11 Aug are after the period).
    refs["P3"] = x = c.open(2025, 6, 16, channel="web-form", tenure="lcho")
    c.ack(x, 2025, 6, 26)
    c.respond(x, 2025, 7, 14, "upheld", True, 12550)
    # P4 asb/east/phone: acknowledged 8 Jul; the response (due 22 Jul) is still not sent; a call
    # on 28 Aug. Countdown from 8 Jul: due 11 Jul, overdue 22 Jul, manager-alert 29 Jul
    # (critical 5 Aug is after the period).
    refs["P4"] = x = c.open(2025, 7, 7, category="asb", area="east")
    c.ack(x, 2025, 7, 8)
    s.record_contact(x, actor=S1, direction="outbound", channel="phone", at=london(2025, 8, 28, 15))
    # P5 grounds-maintenance/west/letter: received 28 May (before the period), ack 29 May,
    # responded 5 Jun (not upheld), closed 6 Jun. Countdown from 29 May: due 3 Jun.
    refs["P5"] = x = c.open(
        2025, 5, 28, category="grounds-maintenance", area="west", channel="letter"
    )
    c.ack(x, 2025, 5, 29)
    c.respond(x, 2025, 6, 5, "not-upheld", None, 0)
    s.close(x, actor=S1, at=london(2025, 6, 6, 15))
    # P6 other/south/phone: declined the next day (not counted anywhere).
    refs["P6"] = x = c.open(2025, 6, 10, category="other", area="south")
    s.decline(x, actor=S1, exclusion="legal-proceedings", reason="Claim", at=london(2025, 6, 11))
    # P7 repairs/south/email: acknowledged 2 Jul, withdrawn 3 Jul (its response clock stops
    # "withdrawn": neither met nor breached).
    refs["P7"] = x = c.open(2025, 7, 1, area="south", channel="email")
    c.ack(x, 2025, 7, 2)
    s.withdraw(x, actor=S1, at=london(2025, 7, 3, 15))
    # P8: after the period, open: acknowledged 5 Aug.
    refs["P8"] = x = c.open(2025, 8, 4)
    c.ack(x, 2025, 8, 5)
    # A dissatisfaction (not a complaint): left out of every figure.
    refs["D1"] = c.open(2025, 6, 3, workflow="dissatisfaction")
    return refs


@pytest.fixture
def performance_data(service: ComplaintsService, clock: FakeClock) -> dict[str, str]:
    clock.set(datetime(2025, 9, 1, 9, 0, tzinfo=UTC))
    return build_performance_months(Cases(service))


@pytest.fixture
def performance(
    performance_data: dict[str, str], db_engine: Engine, settings: Settings
) -> ReportDocument:
    return performance_report(
        db_engine,
        settings.calendar,
        start=date(2025, 6, 1),
        end=date(2025, 7, 31),
        as_of=date(2025, 9, 1),
        levels=settings.policies.get("hoc-2024").contact_levels,
    )


def test_performance_volumes_by_month(performance: ReportDocument) -> None:
    volumes = table(performance, "volumes", "month")
    # June: received P1 P2 P3 (P6 declined); escalation P2; responses P1 P2 P5.
    # July: received P4 P7; Stage 1 response P3; Stage 2 response P2.
    assert volumes["2025-06"] == {
        "month": "2025-06",
        "received": 3,
        "escalation_requested": 1,
        "responded": 3,
        "stage2_responded": 0,
    }
    assert volumes["2025-07"] == {
        "month": "2025-07",
        "received": 2,
        "escalation_requested": 0,
        "responded": 1,
        "stage2_responded": 1,
    }
    assert volumes["Total"] == {
        "month": "Total",
        "received": 5,
        "escalation_requested": 1,
        "responded": 4,
        "stage2_responded": 1,
    }


def test_performance_working_days_taken(performance: ReportDocument) -> None:
    durations = table(performance, "durations", "measure")

    def stats(measure: str) -> tuple[Cell, Cell, Cell]:
        row = durations[measure]
        return row["cases"], row["mean"], row["median"]

    # Acknowledged in the period: P1 2, P2 1, P3 8, P4 1, P7 1 -> mean 13/5 = 2.6, median 1.
    assert stats("Stage 1: received to acknowledged") == (5, D("2.6"), D("1.0"))
    # Responded: P5 6 (28 May -> 5 Jun), P1 9, P2 15, P3 20 -> mean 12.5, median (9+15)/2 = 12.
    assert stats("Stage 1: received to responded") == (4, D("12.5"), D("12.0"))
    # P2: escalation 25 Jun -> acknowledged 1 Jul = 4; -> responded 21 Jul = 18.
    assert stats("Stage 2: escalation requested to acknowledged") == (1, D("4.0"), D("4.0"))
    assert stats("Stage 2: escalation requested to responded") == (1, D("18.0"), D("18.0"))
    # Closed: P1 10 (2 -> 16 Jun), P5 7 (28 May -> 6 Jun): mean and median 8.5.
    assert stats("Received to closed") == (2, D("8.5"), D("8.5"))


def test_performance_clocks_against_their_targets_breaches_and_extensions(
    performance: ReportDocument,
) -> None:
    clocks = table(performance, "clock_targets", "clock")
    # Acknowledgements met in the period: P1 2, P2 1, P3 8 (late), P4 1, P7 1; allowed 5.
    assert clocks["Stage 1 acknowledgement"] == {
        "clock": "Stage 1 acknowledgement",
        "stage": 1,
        "met": 5,
        "within": 4,
        "percent": D("80.0"),
        "mean": D("2.6"),
        "median": D("1.0"),
        "allowed": D("5.0"),
    }
    # Responses: P5 5 of 10, P1 7 of 10, P3 12 of 10 (late), P2 14 of 15 (extended):
    # 3/4 = 75.0%, mean 38/4 = 9.5, median (7+12)/2 = 9.5, allowed median 10.
    assert clocks["Stage 1 response"] == {
        "clock": "Stage 1 response",
        "stage": 1,
        "met": 4,
        "within": 3,
        "percent": D("75.0"),
        "mean": D("9.5"),
        "median": D("9.5"),
        "allowed": D("10.0"),
    }
    assert clocks["Stage 2 acknowledgement"]["met"] == 1
    assert clocks["Stage 2 acknowledgement"]["median"] == D("4.0")
    assert clocks["Stage 2 acknowledgement"]["allowed"] == D("5.0")
    assert clocks["Stage 2 response"]["within"] == 1
    assert clocks["Stage 2 response"]["median"] == D("14.0")
    assert clocks["Stage 2 response"]["allowed"] == D("20.0")
    breaches = table(performance, "breaches", "clock")
    # Due in the period and missed: P3's acknowledgement (23 Jun) and response (10 Jul), done
    # late; P4's response (22 Jul) still not sent on 1 Sep. P7's withdrawn clock is no breach.
    assert breaches["Stage 1 acknowledgement"]["late"] == 1
    assert breaches["Stage 1 acknowledgement"]["open"] == 0
    assert (breaches["Stage 1 response"]["late"], breaches["Stage 1 response"]["open"]) == (1, 1)
    assert breaches["Stage 1 response"]["total"] == 2
    assert breaches["Stage 2 acknowledgement"]["total"] == 0
    assert breaches["Stage 2 response"]["total"] == 0
    assert [dict(r) for r in performance.table("extensions").rows] == [
        {
            "clock": "Stage 1 response",
            "extensions": 1,
            "days": 5,
            "cases": 1,
            "beyond_cap": 0,
            "notified_late": 0,
        }
    ]


def _outcome(row: Mapping[str, Cell]) -> tuple[Cell, ...]:
    keys = (
        "s1_upheld",
        "s1_partially_upheld",
        "s1_not_upheld",
        "s2_upheld",
        "s2_partially_upheld",
        "s2_not_upheld",
        "avoidable",
        "compensation",
        "accepted",
        "escalated",
        "escalation_rate",
        "referrals",
    )
    return tuple(row[k] for k in keys)


def test_performance_outcomes_by_category_area_channel_and_month(
    performance: ReportDocument,
) -> None:
    # Columns: S1 upheld, partially, not; S2 upheld, partially, not; avoidable; compensation;
    # accepted at Stage 1 (received in the period and acknowledged); escalated; rate; referrals.
    z = D("0.00")
    by_category = {
        k: _outcome(r) for k, r in table(performance, "outcomes_by_category", "key").items()
    }
    assert by_category == {
        # P4.
        "asb": (0, 0, 0, 0, 0, 0, 0, z, 1, 0, D("0.0"), 0),
        # P2: S1 partially, S2 not upheld, escalated, referred.
        "damp-and-mould": (0, 1, 0, 0, 0, 1, 0, z, 1, 1, D("100.0"), 1),
        # P5: received in May, so not in the escalation cohort.
        "grounds-maintenance": (0, 0, 1, 0, 0, 0, 0, z, 0, 0, None, 0),
        # P1 and P3 upheld and avoidable, 50.00 + 125.50; accepted P1 P3 P7.
        "repairs": (2, 0, 0, 0, 0, 0, 2, D("175.50"), 3, 0, D("0.0"), 0),
        "Total": (2, 1, 1, 0, 0, 1, 2, D("175.50"), 5, 1, D("20.0"), 1),
    }
    by_area = {k: _outcome(r) for k, r in table(performance, "outcomes_by_area", "key").items()}
    assert by_area == {
        "east": (0, 0, 0, 0, 0, 0, 0, z, 1, 0, D("0.0"), 0),
        "north": (2, 0, 0, 0, 0, 0, 2, D("175.50"), 2, 0, D("0.0"), 0),
        "south": (0, 1, 0, 0, 0, 1, 0, z, 2, 1, D("50.0"), 1),
        "west": (0, 0, 1, 0, 0, 0, 0, z, 0, 0, None, 0),
        "Total": (2, 1, 1, 0, 0, 1, 2, D("175.50"), 5, 1, D("20.0"), 1),
    }
    by_channel = {
        k: _outcome(r) for k, r in table(performance, "outcomes_by_channel", "key").items()
    }
    assert by_channel == {
        "email": (0, 1, 0, 0, 0, 1, 0, z, 2, 1, D("50.0"), 1),
        "letter": (0, 0, 1, 0, 0, 0, 0, z, 0, 0, None, 0),
        "phone": (1, 0, 0, 0, 0, 0, 1, D("50.00"), 2, 0, D("0.0"), 0),
        "web-form": (1, 0, 0, 0, 0, 0, 1, D("125.50"), 1, 0, D("0.0"), 0),
        "Total": (2, 1, 1, 0, 0, 1, 2, D("175.50"), 5, 1, D("20.0"), 1),
    }
    by_month = {k: _outcome(r) for k, r in table(performance, "outcomes_by_month", "key").items()}
    assert by_month == {
        # June: responses P1 (upheld, 50.00), P2 (partially), P5 (not); cohort P1 P2 P3, P2
        # escalated: 1/3 = 33.3%.
        "2025-06": (1, 1, 1, 0, 0, 0, 1, D("50.00"), 3, 1, D("33.3"), 0),
        # July: P3 upheld (125.50), P2's Stage 2 not upheld; cohort P4 P7; P2 referred 28 Jul.
        "2025-07": (1, 0, 0, 0, 0, 1, 1, D("125.50"), 2, 0, D("0.0"), 1),
        "Total": (2, 1, 1, 0, 0, 1, 2, D("175.50"), 5, 1, D("20.0"), 1),
    }


def test_performance_contact_distribution_and_countdown_crossings(
    performance: ReportDocument,
) -> None:
    # Open complaints on 1 Sep: P4 (last contact 28 Aug: 2 working days), P8 (5 Aug: 18, with
    # 25 Aug a holiday), P3 (14 Jul: 34).
    distribution = column(performance, "contact_distribution", "days", "cases")
    assert distribution == {"0-2": 1, "3-9": 0, "10-14": 0, "15-19": 1, "20+": 1}
    crossings = table(performance, "contact_crossings", "level")
    # contact-due: P1 (9 Jun), P2 (6, 13, 30 Jun; 4, 24 Jul), P3 (19 Jun; 1, 17 Jul), P4
    # (11 Jul), P5 (3 Jun): 5 cases, 11 crossings. Overdue: P2 (15 Jul), P3 (10, 28 Jul), P4
    # (22 Jul): 3 cases, 4. Manager alert: P4 (29 Jul). Critical: none in the period.
    assert [
        (r["level"], r["threshold"], r["cases"], r["crossings"]) for r in crossings.values()
    ] == [
        ("contact-due", 3, 5, 11),
        ("contact-overdue", 10, 3, 4),
        ("manager-alert", 15, 1, 1),
        ("critical", 20, 0, 0),
    ]


def test_performance_charts_carry_the_table_figures(performance: ReportDocument) -> None:
    charts = {c.name: c for c in performance.charts}
    volumes = charts["monthly_volumes"]
    assert volumes.categories == ("2025-06", "2025-07")
    assert [s.values for s in volumes.series] == [(3, 2), (1, 0)]
    timeliness = charts["timeliness"]
    assert timeliness.series[0].values == (D("1.0"), D("9.5"), D("4.0"), D("14.0"))
    assert timeliness.targets == (D("5.0"), D("10.0"), D("5.0"), D("20.0"))
    outcomes = charts["outcomes_by_category"]
    assert outcomes.categories == ("asb", "damp-and-mould", "grounds-maintenance", "repairs")
    # Upheld, partially upheld, not upheld over both stages.
    assert [s.values for s in outcomes.series] == [(0, 0, 0, 2), (0, 1, 0, 0), (0, 1, 1, 0)]
    countdown = charts["countdown"]
    assert countdown.categories[-1] == "20+"
    values = dict(zip(countdown.categories, countdown.series[0].values, strict=True))
    assert values["2"] == 1 and values["18"] == 1 and values["20+"] == 1
    assert sum(v or 0 for v in values.values()) == 3


# == hotspots =====================================================================================


@pytest.fixture
def hotspot_data(service: ComplaintsService, clock: FakeClock) -> dict[str, list[str]]:
    """June 2025 against June 2024 to May 2025."""
    clock.set(datetime(2025, 7, 10, 9, 0, tzinfo=UTC))
    c = Cases(service)
    refs: dict[str, list[str]] = {"asb": [], "repairs": [], "damp": []}
    # repairs/north: one a month for the 12 months before (15th), five in June; also one on
    # 31 May 2024, before the history.
    for month in range(12):
        y, m = (2024, 6 + month) if month < 7 else (2025, month - 6)
        c.open(y, m, 15)
    c.open(2024, 5, 31)
    refs["repairs"] = [c.open(2025, 6, d) for d in (2, 9, 16, 23, 30)]
    # asb/east: one in the history (31 May 2025), four in June, one more declined in June and
    # one on 1 July (after the period).
    c.open(2025, 5, 31, category="asb", area="east")
    refs["asb"] = [c.open(2025, 6, d, category="asb", area="east") for d in (2, 3, 4, 5)]
    declined = c.open(2025, 6, 6, category="asb", area="east")
    service.decline(
        declined, actor=S1, exclusion="legal-proceedings", reason="x", at=london(2025, 6, 9)
    )
    c.open(2025, 7, 1, category="asb", area="east")
    # damp-and-mould/south: three in June, nothing before.
    refs["damp"] = [
        c.open(2025, 6, d, category="damp-and-mould", area="south") for d in (10, 11, 12)
    ]
    return refs


def test_hotspots_flags_unusual_category_area_counts_with_the_cases_behind_them(
    hotspot_data: dict[str, list[str]], db_engine: Engine
) -> None:
    document = hotspots_report(db_engine, start=date(2025, 6, 1), end=date(2025, 6, 30))
    assert dict(document.parameters)["history"] == "12 periods, 2024-06-01 to 2025-05-31"
    assert dict(document.parameters)["combinations tested"] == "3"
    rows = [dict(r) for r in document.table("hotspots").rows]
    # asb/east: history mean 1/12 = 0.08 (SD 0.29), lambda floored to 0.5; observed 4:
    # P(X >= 4) = 1 - e^-0.5 (1 + 0.5 + 0.125 + 0.0208) = 0.00175 < 0.01 -> flagged.
    # repairs/north: mean 1.00 (SD 0), observed 5: 1 - e^-1 (1 + 1 + 1/2 + 1/6 + 1/24) =
    # 0.00366 -> flagged. damp-and-mould/south: 3 against the 0.5 floor: 0.0144 -> not flagged.
    assert rows == [
        {
            "category": "asb",
            "area": "east",
            "observed": 4,
            "mean": D("0.08"),
            "sd": D("0.29"),
            "rate": D("0.50"),
            "p_value": D("0.00175"),
            "history": "0 0 0 0 0 0 0 0 0 0 0 1",
            "listed": 4,
            "not_listed": 0,
        },
        {
            "category": "repairs",
            "area": "north",
            "observed": 5,
            "mean": D("1.00"),
            "sd": D("0.00"),
            "rate": D("1.00"),
            "p_value": D("0.00366"),
            "history": "1 1 1 1 1 1 1 1 1 1 1 1",
            "listed": 5,
            "not_listed": 0,
        },
    ]
    behind = [(r["category"], r["reference"]) for r in document.table("hotspot_cases").rows]
    assert behind == [("asb", ref) for ref in hotspot_data["asb"]] + [
        ("repairs", ref) for ref in hotspot_data["repairs"]
    ]


def test_report_logs_carry_no_case_data(
    tsm_data: dict[str, str], db_engine: Engine, settings: Settings
) -> None:
    with structlog.testing.capture_logs() as logs:
        tsm_report(db_engine, settings.calendar, year=2025, homes=Homes(), rule="responded")
        hotspots_report(db_engine, start=date(2025, 6, 1), end=date(2025, 6, 30))
    assert [entry["event"] for entry in logs] == ["report_done", "report_done"]
    text = json.dumps(logs, default=str)
    assert not any(reference in text for reference in tsm_data.values())
    for entry in logs:
        assert set(entry) <= {
            "event", "log_level", "report", "year", "rule", "start", "end", "flagged", "seconds",
        }  # fmt: skip

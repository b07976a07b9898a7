"""Report arithmetic, periods, settings and rendering, without a database."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.reports.config import Homes, load_report_settings
from adapters.reports.document import (
    Chart,
    Column,
    ReportDocument,
    Series,
    Table,
    number_columns,
    text_columns,
)
from adapters.reports.html import render_html
from adapters.reports.render import render_csv, render_json, render_text
from adapters.reports.svg import axis_scale, chart_svg, nice_ceiling
from engine.reporting import (
    history_windows,
    hotspot_test,
    mean_of,
    median_of,
    month_keys,
    per_thousand,
    percentage,
    poisson_tail,
    previous_month,
    reporting_year,
    round_half_up,
    whole_months,
)
from sla.errors import ConfigError

D = Decimal


# -- rounding, rates, averages -----------------------------------------------------------------


def test_rounding_is_half_up_not_bankers() -> None:
    assert round_half_up(D("2.345"), 2) == D("2.35")
    assert round_half_up(D("0.125"), 2) == D("0.13")
    assert round_half_up(D("66.65"), 1) == D("66.7")


def test_rates_per_1000_homes_and_percentages() -> None:
    assert per_thousand(17, 2300) == D("7.39")
    assert per_thousand(2, 300) == D("6.67")
    assert per_thousand(0, 300) == D("0.00")
    assert per_thousand(5, None) is None
    assert percentage(2, 3) == D("66.7")
    assert percentage(1, 8) == D("12.5")
    assert percentage(0, 0) is None


def test_mean_and_median_come_from_a_histogram_of_values() -> None:
    assert mean_of({}) is None and median_of({}) is None
    # 1, 1, 1, 2, 8: mean 2.6, median 1.
    assert mean_of({1: 3, 2: 1, 8: 1}) == D("2.6")
    assert median_of({1: 3, 2: 1, 8: 1}) == D("1.0")
    # 6, 9, 15, 20: the median is the mean of the middle two.
    assert median_of({6: 1, 9: 1, 15: 1, 20: 1}) == D("12.0")
    # 3, 4 -> 3.5; 7 alone -> 7.
    assert median_of({3: 1, 4: 1}) == D("3.5")
    assert median_of({7: 1}) == D("7.0")
    # Even count with both middle values the same.
    assert median_of({2: 2, 9: 2}) == D("5.5")
    assert median_of({2: 3, 9: 1}) == D("2.0")


# -- the hotspot test --------------------------------------------------------------------------


def test_poisson_tail_matches_the_textbook_values() -> None:
    assert poisson_tail(0, 2.0) == 1.0
    assert math.isclose(poisson_tail(1, 2.0), 1 - math.exp(-2))
    assert math.isclose(poisson_tail(4, 0.5), 1 - math.exp(-0.5) * (1 + 0.5 + 0.125 + 0.5**3 / 6))
    assert math.isclose(poisson_tail(5, 1.0), 0.0036598468, rel_tol=1e-6)


def test_hotspots_need_a_small_p_value_and_at_least_three_complaints() -> None:
    quiet = [0] * 12
    # 3 against the 0.5 floor: p = 0.0144, not flagged; 4: p = 0.00175, flagged.
    assert not hotspot_test(3, quiet).flagged
    four = hotspot_test(4, quiet)
    assert four.flagged and four.rate == D("0.50") and four.mean == D("0.00")
    # Two complaints are never a hotspot, however quiet the history (p = 0.09 here).
    assert not hotspot_test(2, quiet).flagged
    # A busy combination with a steady history is not flagged for being busy.
    steady = hotspot_test(12, [10, 11, 9, 10, 12, 10, 9, 11, 10, 10, 9, 11])
    assert steady.mean == D("10.17") and not steady.flagged
    assert steady.sd == D("0.94")


# -- periods -----------------------------------------------------------------------------------


def test_the_reporting_year_runs_from_april_to_march() -> None:
    assert reporting_year(2025) == (date(2025, 4, 1), date(2026, 3, 31))


def test_month_keys_cover_every_month_the_period_touches() -> None:
    assert month_keys(date(2025, 11, 15), date(2026, 2, 1)) == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]


def test_history_windows_are_whole_months_or_equal_blocks_of_days() -> None:
    assert whole_months(date(2025, 6, 1), date(2025, 6, 30)) == 1
    assert whole_months(date(2025, 1, 1), date(2025, 3, 31)) == 3
    assert whole_months(date(2025, 6, 2), date(2025, 6, 30)) is None
    months = history_windows(date(2025, 2, 1), date(2025, 2, 28))
    assert months[0] == (date(2024, 2, 1), date(2024, 2, 29))
    assert months[-1] == (date(2025, 1, 1), date(2025, 1, 31))
    assert len(months) == 12
    quarters = history_windows(date(2025, 4, 1), date(2025, 6, 30), count=2)
    assert quarters == [
        (date(2024, 10, 1), date(2024, 12, 31)),
        (date(2025, 1, 1), date(2025, 3, 31)),
    ]
    weeks = history_windows(date(2025, 6, 9), date(2025, 6, 15), count=2)
    assert weeks == [(date(2025, 5, 26), date(2025, 6, 1)), (date(2025, 6, 2), date(2025, 6, 8))]
    with pytest.raises(ValueError, match="before it starts"):
        history_windows(date(2025, 6, 9), date(2025, 6, 1))


def test_the_default_hotspot_period_is_last_month() -> None:
    assert previous_month(date(2026, 1, 15)) == (date(2025, 12, 1), date(2025, 12, 31))


# -- settings ----------------------------------------------------------------------------------


def test_report_settings_come_from_the_reports_table(tmp_path: Path) -> None:
    assert load_report_settings(None).ch02_rule == "acknowledged-and-responded"
    (tmp_path / "settings.toml").write_text(
        '[reports]\nch02_rule = "responded"\nhomes_lcra = 1200\nhomes_lcho = 80\n'
    )
    loaded = load_report_settings(tmp_path)
    assert loaded.ch02_rule == "responded"
    assert loaded.homes == Homes(lcra=1200, lcho=80)
    assert loaded.homes.of("all") == 1280
    assert loaded.homes.overridden(lcra=None, lcho=None, total=1500).of("all") == 1500


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[reports]\nch02_rule = "fast"\n', "must be one of"),
        ("[reports]\nhomes_lcra = 0\n", "reports.homes_lcra"),
        ("[reports]\nhomes = true\n", "reports.homes"),
        ("[reports]\ncolour = 1\n", "unknown key"),
        ("[reports\n", "not valid TOML"),
    ],
)
def test_bad_report_settings_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "settings.toml").write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_report_settings(tmp_path)


# -- rendering ---------------------------------------------------------------------------------


def _document() -> ReportDocument:
    table = Table(
        "demo",
        "A demo table",
        (*text_columns(("name", "Name")), *number_columns(("n", "Count"), ("pct", "%"))),
        ({"name": "a, b", "n": 3, "pct": D("66.7")}, {"name": "c", "n": 0, "pct": None}),
        notes=("A note.",),
    )
    chart = Chart("demo", "Demo", ("a", "c"), (Series("Count", (3, 0)),), targets=(2, None))
    return ReportDocument("demo", "Demo report", (("period", "June"),), (table,), (chart,))


def test_text_rendering_aligns_numbers_and_shows_missing_values_as_a_dash() -> None:
    text = render_text(_document())
    assert "period: June" in text
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("Name"))
    assert header.split() == ["Name", "Count", "%"]
    assert re.search(r"^c\s+0\s+-$", text, re.MULTILINE)
    assert "  * A note." in text


def test_csv_is_one_line_per_cell_or_one_wide_table() -> None:
    rows = list(csv.reader(io.StringIO(render_csv(_document()))))
    assert rows[0] == ["report", "table", "row", "column", "value"]
    assert ["demo", "demo", "1", "name", "a, b"] in rows
    assert ["demo", "demo", "2", "pct", ""] in rows
    wide = list(csv.reader(io.StringIO(render_csv(_document(), "demo"))))
    assert wide == [["name", "n", "pct"], ["a, b", "3", "66.7"], ["c", "0", ""]]


def test_json_has_numbers_as_numbers_and_missing_as_null() -> None:
    data = json.loads(render_json(_document()))
    assert data["tables"]["demo"]["rows"] == [
        {"name": "a, b", "n": 3, "pct": 66.7},
        {"name": "c", "n": 0, "pct": None},
    ]
    assert data["parameters"] == {"period": "June"}


def test_an_unknown_table_is_named_with_the_known_ones() -> None:
    with pytest.raises(LookupError, match="tables: demo"):
        _document().table("nope")


def test_a_row_with_an_unknown_column_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown keys"):
        Table("t", "T", (Column("a", "A"),), ({"b": 1},))


def test_charts_draw_one_mark_per_non_zero_value_and_a_target_marker() -> None:
    svg = chart_svg(_document().charts[0])
    assert svg.count('class="mark"') == 1
    assert svg.count('class="target"') == 1
    assert "<title>Count, a: 3</title>" in svg
    stacked = Chart(
        "s", "S", ("x", "y"), (Series("A", (1, 2)), Series("B", (D("0.5"), None))), kind="stacked"
    )
    assert chart_svg(stacked).count('class="mark"') == 3


def test_an_empty_chart_says_so_instead_of_drawing_nothing() -> None:
    empty = Chart("e", "Empty", ("a",), (Series("A", (0,)),))
    svg = chart_svg(empty)
    assert "No data for this period" in svg and 'class="mark"' not in svg
    with pytest.raises(ValueError, match="wrong length"):
        Chart("bad", "Bad", ("a", "b"), (Series("A", (1,)),))


def test_axis_steps_are_round_and_whole_for_counts() -> None:
    assert axis_scale(3) == (1, 3)
    assert axis_scale(6) == (2, 3)
    assert axis_scale(13) == (5, 3)
    assert axis_scale(20) == (5, 4)


def test_axis_maxima_are_round_numbers() -> None:
    assert [nice_ceiling(v) for v in (0, 0.3, 3, 7, 11, 180, 1000)] == [
        1,
        0.5,
        5,
        10,
        20,
        200,
        1000,
    ]


def test_the_html_page_is_self_contained_and_escapes_text() -> None:
    document = _document()
    page = render_html(document)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page
    assert "default-src 'none'" in page
    assert '<td class="text">a, b</td>' in page
    hostile = ReportDocument("x", "<b>T</b>", (), ())
    assert "&lt;b&gt;T&lt;/b&gt;" in render_html(hostile)

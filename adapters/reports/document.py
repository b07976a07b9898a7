"""What a report is before it is printed: titled tables, charts and the workings behind them.

Each report (``tsm``, ``performance``, ``hotspots``) builds one ``ReportDocument``; the renderers
(``render`` for the terminal, CSV and JSON, ``html`` for the page) only format it. Keeping the
figures in one neutral shape means the terminal, the CSV and the web page can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

Cell = str | int | Decimal | None
"""A table cell: text, a count, an exact rounded figure, or nothing (shown as ``-``)."""


@dataclass(frozen=True, slots=True)
class Column:
    """A table column: its key in each row, its heading, and whether it holds a number."""

    key: str
    title: str
    numeric: bool = True


@dataclass(frozen=True, slots=True)
class Table:
    """A titled table; ``name`` is its stable identifier (CSV, JSON, ``--table``)."""

    name: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Mapping[str, Cell], ...]
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        keys = {c.key for c in self.columns}
        for row in self.rows:
            unknown = set(row) - keys
            if unknown:
                raise ValueError(f"table {self.name}: row has unknown keys {sorted(unknown)}")


@dataclass(frozen=True, slots=True)
class Series:
    """One coloured series of a chart: a value per category (``None`` for no value)."""

    name: str
    values: tuple[int | Decimal | None, ...]


@dataclass(frozen=True, slots=True)
class Chart:
    """A bar chart. ``kind`` is ``grouped`` (series side by side) or ``stacked``; ``targets``
    (one per category, or none) are drawn as a marker across each group."""

    name: str
    title: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    kind: str = "grouped"
    unit: str = ""
    targets: tuple[int | Decimal | None, ...] = ()
    target_label: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("grouped", "stacked"):
            raise ValueError(f"chart {self.name}: unknown kind {self.kind!r}")
        for series in self.series:
            if len(series.values) != len(self.categories):
                raise ValueError(f"chart {self.name}: series {series.name} has the wrong length")
        if self.targets and len(self.targets) != len(self.categories):
            raise ValueError(f"chart {self.name}: one target per category")


@dataclass(frozen=True, slots=True)
class ReportDocument:
    """A whole report: the parameters and rules it was computed with, then its tables."""

    report: str
    title: str
    parameters: tuple[tuple[str, str], ...]
    tables: tuple[Table, ...]
    charts: tuple[Chart, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def table(self, name: str) -> Table:
        for table in self.tables:
            if table.name == name:
                return table
        known = ", ".join(t.name for t in self.tables)
        raise LookupError(f"no table {name!r} in the {self.report} report (tables: {known})")


def text_columns(*keys_and_titles: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(key, title, numeric=False) for key, title in keys_and_titles)


def number_columns(*keys_and_titles: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(key, title) for key, title in keys_and_titles)


def rows_of(items: Sequence[Mapping[str, Cell]]) -> tuple[Mapping[str, Cell], ...]:
    return tuple(dict(item) for item in items)

"""A ``ReportDocument`` as terminal text, CSV or JSON.

* text: the title, the parameters and rules used, then each table with its notes (numbers
  right-aligned; ``-`` for no value);
* CSV: one line per cell, ``report,table,row,column,value``, so one file holds every table and
  any tool can pivot it; with ``--table NAME`` a single table in the usual wide form instead;
* JSON: the same tables as lists of objects, numbers as JSON numbers, missing values as null.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from adapters.reports.document import Cell, ReportDocument, Table

NONE = "-"


def cell_text(cell: Cell) -> str:
    if cell is None:
        return NONE
    return str(cell)


def _json_value(cell: Cell) -> Any:
    return float(cell) if isinstance(cell, Decimal) else cell


# -- text --------------------------------------------------------------------------------------


def text_table(table: Table) -> str:
    headers = [c.title for c in table.columns]
    body = [[cell_text(row.get(c.key)) for c in table.columns] for row in table.rows]
    widths = [len(h) for h in headers]
    for line in body:
        widths = [max(w, len(cell)) for w, cell in zip(widths, line, strict=True)]

    def fmt(line: Sequence[str]) -> str:
        cells = [
            cell.rjust(w) if column.numeric else cell.ljust(w)
            for cell, w, column in zip(line, widths, table.columns, strict=True)
        ]
        return "  ".join(cells).rstrip()

    lines = [fmt(headers), fmt(["-" * w for w in widths])]
    lines.extend(fmt(line) for line in body)
    if not body:
        lines.append("(none)")
    return "\n".join(lines)


def render_text(document: ReportDocument, table: str | None = None) -> str:
    tables = (document.table(table),) if table else document.tables
    parts = [document.title, "=" * len(document.title)]
    parts.extend(f"{key}: {value}" for key, value in document.parameters)
    parts.extend(f"note: {note}" for note in document.notes)
    for item in tables:
        parts.extend(["", item.title, text_table(item)])
        parts.extend(f"  * {note}" for note in item.notes)
    return "\n".join(parts) + "\n"


# -- CSV ---------------------------------------------------------------------------------------


def render_csv(document: ReportDocument, table: str | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if table is not None:
        chosen = document.table(table)
        writer.writerow([c.key for c in chosen.columns])
        for row in chosen.rows:
            writer.writerow(
                ["" if row.get(c.key) is None else row.get(c.key) for c in chosen.columns]
            )
        return out.getvalue()
    writer.writerow(["report", "table", "row", "column", "value"])
    for item in document.tables:
        for number, row in enumerate(item.rows, start=1):
            for column in item.columns:
                value = row.get(column.key)
                writer.writerow(
                    [document.report, item.name, number, column.key, "" if value is None else value]
                )
    return out.getvalue()


# -- JSON --------------------------------------------------------------------------------------


def document_data(document: ReportDocument, table: str | None = None) -> dict[str, Any]:
    tables = (document.table(table),) if table else document.tables
    return {
        "report": document.report,
        "title": document.title,
        "parameters": dict(document.parameters),
        "notes": list(document.notes),
        "tables": {
            item.name: {
                "title": item.title,
                "columns": [{"key": c.key, "title": c.title} for c in item.columns],
                "rows": [
                    {c.key: _json_value(row.get(c.key)) for c in item.columns} for row in item.rows
                ],
                "notes": list(item.notes),
            }
            for item in tables
        },
    }


def render_json(document: ReportDocument, table: str | None = None) -> str:
    return json.dumps(document_data(document, table), indent=2, ensure_ascii=False) + "\n"

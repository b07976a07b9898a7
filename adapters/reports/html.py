"""A report as one self-contained HTML page: inline CSS, inline SVG charts, no scripts.

The page loads nothing from anywhere (its Content-Security-Policy forbids it), so it can be
e-mailed, archived with the board papers, or opened offline years later and look the same.
"""

from __future__ import annotations

from html import escape

from adapters.reports.document import ReportDocument, Table
from adapters.reports.render import cell_text
from adapters.reports.svg import chart_svg

CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 24px 32px; color: #1b1b1b; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 1.6em; }
dl.parameters { display: grid; grid-template-columns: max-content auto; gap: 2px 14px; }
dl.parameters dt { font-weight: bold; }
dl.parameters dd { margin: 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 16px; }
svg.chart { width: 100%; height: auto; }
figure { margin: 0; border: 1px solid #ddd; padding: 8px; background: #fff; }
figcaption { font-weight: bold; margin-bottom: 4px; }
svg text { font-size: 11px; fill: #333; }
svg .empty { font-size: 14px; fill: #777; }
table { border-collapse: collapse; margin: 6px 0; font-size: 0.88em; }
th, td { border: 1px solid #ccc; padding: 3px 7px; }
th { background: #f1f4f8; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
p.note { font-size: 0.85em; color: #444; margin: 2px 0; }
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _table_html(table: Table) -> str:
    head = "".join(f"<th>{escape(c.title)}</th>" for c in table.columns)
    body = []
    for row in table.rows:
        cells = "".join(
            f'<td class="{"num" if c.numeric else "text"}">{escape(cell_text(row.get(c.key)))}</td>'
            for c in table.columns
        )
        body.append(f"<tr>{cells}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(table.columns)}">(none)</td></tr>')
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in table.notes)
    return (
        f'<section class="table" id="table-{escape(table.name)}"><h2>{escape(table.title)}</h2>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        f"{notes}</section>"
    )


def render_html(document: ReportDocument) -> str:
    parameters = "".join(
        f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in document.parameters
    )
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in document.notes)
    charts = "".join(
        f"<figure><figcaption>{escape(c.title)}</figcaption>{chart_svg(c)}</figure>"
        for c in document.charts
    )
    tables = "".join(_table_html(t) for t in document.tables)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{escape(document.title)}</title><style>{CSS}</style></head>"
        f'<body data-report="{escape(document.report)}"><h1>{escape(document.title)}</h1>'
        f'<dl class="parameters">{parameters}</dl>{notes}'
        f'<section class="charts">{charts}</section>{tables}</body></html>\n'
    )

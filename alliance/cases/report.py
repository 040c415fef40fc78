"""The yearly transparency report: CSV rows or a static HTML page with SVG bar charts.

Pure: renders :class:`~alliance.cases.statistics.Statistics` computed elsewhere.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence

from alliance.cases.statistics import Statistics

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# (row key, chart title) of the monthly charts.
CHARTS = (
    ("indicators_shared", "Indicators shared"),
    ("indicators_corroborated", "Indicators corroborated"),
    ("test_buys", "Test buys"),
    ("takedowns", "Takedowns"),
    ("cases_referred", "Cases referred"),
    ("cases_closed", "Cases closed"),
    ("listings_checked", "Listings checked"),
    ("listings_blocked", "Listings blocked"),
)


def to_csv(year_total: Statistics, months: Sequence[Statistics]) -> str:
    rows = [m.as_row() for m in months] + [year_total.as_row()]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def bar_chart(title: str, values: Sequence[int], labels: Sequence[str] = MONTHS) -> str:
    """An inline SVG bar chart (no script, no external resource)."""
    width, height, pad, top = 480, 180, 28, 24
    peak = max(values) if values and max(values) > 0 else 1
    slot = (width - 2 * pad) / max(len(values), 1)
    bars = []
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        h = (height - top - pad) * value / peak
        x = pad + i * slot + slot * 0.15
        y = height - pad - h
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" fill="#3b6ea5">'
            f"<title>{html.escape(label)}: {value}</title></rect>"
            f'<text x="{x + slot * 0.35:.1f}" y="{height - pad + 14}" font-size="10" '
            f'text-anchor="middle">{html.escape(label)}</text>'
            f'<text x="{x + slot * 0.35:.1f}" y="{y - 3:.1f}" font-size="9" '
            f'text-anchor="middle">{value}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{html.escape(title)}">'
        f'<text x="{pad}" y="16" font-size="13" font-weight="bold">{html.escape(title)}</text>'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#333"/>'
        + "".join(bars)
        + "</svg>"
    )


def to_html(year_total: Statistics, months: Sequence[Statistics], *, title: str) -> str:
    rows = [m.as_row() for m in months]
    total = year_total.as_row()
    charts = "".join(
        f"<figure>{bar_chart(name, [int(r[key]) for r in rows])}</figure>" for key, name in CHARTS
    )
    table = "".join(
        f"<tr><th>{html.escape(key.replace('_', ' '))}</th><td>{html.escape(str(value))}</td></tr>"
        for key, value in total.items()
        if key != "period"
    )
    scope = "alliance-wide" if year_total.alliance_wide else "what the requesting organisation sees"
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}figure{display:inline-block;margin:.5em}"
        "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.3em .6em;text-align:left}"
        "</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f"<p>Aggregates for {html.escape(year_total.period.label)}, {scope}. Listing checks are "
        "not recorded per check by this instance and are left blank.</p>"
        f"<h2>The year</h2><table>{table}</table><h2>By month</h2>{charts}</body></html>\n"
    )

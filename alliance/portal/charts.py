"""Charts drawn on the server as SVG: pure functions from counted data to markup (no I/O).

Every label is escaped; the SVG carries a <title> and a <desc> and each bar its own
<title>, so a screen reader (and a tooltip) says what the picture shows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from html import escape

PALETTE = ("#1d4ed8", "#b91c1c", "#15803d", "#a16207", "#7e22ce", "#0e7490")
WIDTH, HEIGHT, MARGIN = 720, 260, 40


def week_start(moment: datetime) -> datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def weeks_ending(now: datetime, count: int) -> list[datetime]:
    last = week_start(now)
    return [last - timedelta(weeks=count - 1 - i) for i in range(count)]


def per_week(
    points: Iterable[tuple[str, datetime]], weeks: Sequence[datetime]
) -> dict[str, list[int]]:
    """Counts per series per week (weeks outside ``weeks`` are dropped)."""
    index = {w: i for i, w in enumerate(weeks)}
    series: dict[str, list[int]] = {}
    for name, moment in points:
        i = index.get(week_start(moment))
        if i is None:
            continue
        series.setdefault(name, [0] * len(weeks))[i] += 1
    return series


def top(values: Iterable[str], limit: int = 10) -> list[tuple[str, int]]:
    return Counter(v for v in values if v).most_common(limit)


def _frame(title: str, description: str, body: str, height: int = HEIGHT, *, ids: str = "") -> str:
    """``ids`` keeps the title and desc ids unique when a page shows several charts."""
    t, d = f"{ids}t", f"{ids}d"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" aria-labelledby="{t} {d}"><title id="{t}">{escape(title)}</title>'
        f'<desc id="{d}">{escape(description)}</desc>{body}</svg>'
    )


def weekly_bars(
    title: str,
    weeks: Sequence[datetime],
    series: Mapping[str, Sequence[int]],
    *,
    ids: str = "",
) -> str:
    """Grouped bars: one group per week, one bar per series, with a legend."""
    names = sorted(series)
    peak = max((max(v) for v in series.values()), default=0) or 1
    plot_w, plot_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN - 20
    group_w = plot_w / max(len(weeks), 1)
    bar_w = max(group_w / max(len(names), 1) - 2, 1)
    parts = [
        f'<line x1="{MARGIN}" y1="{MARGIN + plot_h}" x2="{WIDTH - MARGIN}" '
        f'y2="{MARGIN + plot_h}" stroke="#475569"/>',
        f'<text x="{MARGIN - 6}" y="{MARGIN + 4}" text-anchor="end" font-size="11">{peak}</text>',
    ]
    for w, week in enumerate(weeks):
        x0 = MARGIN + w * group_w
        if w % 2 == 0:
            parts.append(
                f'<text x="{x0 + group_w / 2:.1f}" y="{MARGIN + plot_h + 14}" font-size="10" '
                f'text-anchor="middle">{week:%m-%d}</text>'
            )
        for s, name in enumerate(names):
            value = series[name][w]
            h = plot_h * value / peak
            parts.append(
                f'<rect x="{x0 + s * (bar_w + 2):.1f}" y="{MARGIN + plot_h - h:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}" fill="{PALETTE[s % len(PALETTE)]}">'
                f"<title>{escape(name)}, {week:%Y-%m-%d}: {value}</title></rect>"
            )
    for s, name in enumerate(names):
        x = MARGIN + s * 180
        parts.append(
            f'<rect x="{x}" y="{HEIGHT - 16}" width="10" height="10" '
            f'fill="{PALETTE[s % len(PALETTE)]}"/><text x="{x + 14}" y="{HEIGHT - 7}" '
            f'font-size="11">{escape(name)}</text>'
        )
    total = sum(sum(v) for v in series.values())
    description = f"{total} in {len(weeks)} weeks: " + "; ".join(
        f"{n} {sum(series[n])}" for n in names
    )
    return _frame(title, description, "".join(parts), ids=ids)


def ranked_bars(title: str, ranked: Sequence[tuple[str, int]], *, ids: str = "") -> str:
    """Horizontal bars, largest first."""
    row_h = 22
    height = max(len(ranked), 1) * row_h + 2 * 10
    peak = max((n for _, n in ranked), default=0) or 1
    label_w = 200
    parts = []
    for i, (name, n) in enumerate(ranked):
        y = 10 + i * row_h
        w = (WIDTH - label_w - 60) * n / peak
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" font-size="12">'
            f"{escape(name[:40])}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" '
            f'fill="{PALETTE[0]}"><title>{escape(name)}: {n}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" font-size="12">{n}</text>'
        )
    description = "; ".join(f"{name} {n}" for name, n in ranked) or "no data"
    return _frame(title, description, "".join(parts), height=height, ids=ids)


def score_line(
    title: str, points: Sequence[tuple[datetime, float | None]], *, empty: str = "no data"
) -> str:
    """A 0–100 line over time; an instant with no score (before the first assertion the
    viewer sees) leaves a gap. Each point carries its own <title> with date and score."""
    plot_w, plot_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN - 20
    step = plot_w / max(len(points) - 1, 1)

    def x(i: int) -> float:
        return MARGIN + i * step

    def y(value: float) -> float:
        return MARGIN + plot_h * (1 - min(max(value, 0.0), 100.0) / 100)

    parts = [
        f'<line x1="{MARGIN}" y1="{MARGIN + plot_h}" x2="{WIDTH - MARGIN}" '
        f'y2="{MARGIN + plot_h}" stroke="#475569"/>'
    ]
    for level in (0, 50, 100):
        parts.append(
            f'<text x="{MARGIN - 6}" y="{y(level) + 4:.1f}" text-anchor="end" '
            f'font-size="11">{level}</text>'
        )
    runs: list[list[str]] = [[]]
    for i, (moment, value) in enumerate(points):
        if i % 2 == 0 or i == len(points) - 1:
            parts.append(
                f'<text x="{x(i):.1f}" y="{MARGIN + plot_h + 14}" font-size="10" '
                f'text-anchor="middle">{moment:%m-%d}</text>'
            )
        if value is None:
            runs.append([])
            continue
        runs[-1].append(f"{x(i):.1f},{y(value):.1f}")
        parts.append(
            f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="4" fill="{PALETTE[0]}">'
            f"<title>{moment:%Y-%m-%d}: {value:.2f}</title></circle>"
        )
    for run in runs:
        if len(run) > 1:
            parts.insert(
                1,
                f'<polyline points="{" ".join(run)}" fill="none" stroke="{PALETTE[0]}" '
                f'stroke-width="2"/>',
            )
    scored = [(m, v) for m, v in points if v is not None]
    description = (
        f"{scored[0][0]:%Y-%m-%d} {scored[0][1]:.2f} to {scored[-1][0]:%Y-%m-%d} "
        f"{scored[-1][1]:.2f}: " + "; ".join(f"{m:%Y-%m-%d} {v:.2f}" for m, v in scored)
        if scored
        else empty
    )
    return _frame(title, description, "".join(parts), ids="score-history-")


def network_graph(
    title: str,
    nodes: Sequence[tuple[str, str, str]],
    edges: Sequence[tuple[str, str, str]],
    *,
    centre: str,
    href: str = "/portal/indicators/{id}",
) -> str:
    """A seller network: ``centre`` in the middle, the others on a circle around it, each a
    link to its page. ``nodes`` are (id, type, label), ``edges`` (from, to, reason)."""
    import math

    height = 420
    cx, cy, radius = WIDTH / 2, height / 2, min(WIDTH, height) / 2 - 60
    others = [n for n in nodes if n[0] != centre]
    where: dict[str, tuple[float, float]] = {centre: (cx, cy)}
    for i, (ident, _, _) in enumerate(others):
        angle = 2 * math.pi * i / max(len(others), 1) - math.pi / 2
        where[ident] = (cx + radius * math.cos(angle), cy + radius * math.sin(angle))
    parts = []
    for a, b, reason in edges:
        if a in where and b in where:
            (x1, y1), (x2, y2) = where[a], where[b]
            parts.append(
                f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                f'stroke="#94a3b8" stroke-width="2"><title>{escape(reason)}</title></line>'
            )
    for ident, kind, label in nodes:
        x, y = where[ident]
        fill = PALETTE[1] if ident == centre else PALETTE[0]
        parts.append(
            f'<a href="{escape(href.format(id=ident))}"><circle cx="{x:.1f}" cy="{y:.1f}" '
            f'r="{12 if ident == centre else 9}" fill="{fill}"><title>{escape(kind)}: '
            f"{escape(label)}</title></circle>"
            f'<text x="{x:.1f}" y="{y + 24:.1f}" text-anchor="middle" font-size="11">'
            f"{escape(label[:32])}</text></a>"
        )
    description = f"{len(nodes)} indicators, {len(edges)} links: " + "; ".join(
        f"{kind} {label}" for _, kind, label in nodes
    )
    return _frame(title, description, "".join(parts), height=height)

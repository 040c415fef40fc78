"""The portal's SVG charts: pure functions from counts to accessible, escaped markup."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from alliance.portal import charts

NOW = datetime(2026, 12, 2, 15, 30, tzinfo=UTC)  # a Wednesday
SVG = "{http://www.w3.org/2000/svg}"


def test_weeks_start_on_monday_and_end_with_this_one() -> None:
    weeks = charts.weeks_ending(NOW, 3)
    assert weeks == [
        datetime(2026, 11, 16, tzinfo=UTC),
        datetime(2026, 11, 23, tzinfo=UTC),
        datetime(2026, 11, 30, tzinfo=UTC),
    ]


def test_per_week_counts_each_series_and_drops_points_outside() -> None:
    weeks = charts.weeks_ending(NOW, 2)
    points = [
        ("Automotive", NOW),
        ("Automotive", NOW - timedelta(days=2)),
        ("Luxury", NOW - timedelta(days=7)),
        ("Luxury", NOW - timedelta(days=30)),
    ]
    assert charts.per_week(points, weeks) == {"Automotive": [0, 2], "Luxury": [1, 0]}


def test_top_counts_and_ranks() -> None:
    assert charts.top(["acme", "luxe", "acme", "", "volt", "acme", "luxe"], limit=2) == [
        ("acme", 3),
        ("luxe", 2),
    ]


def test_weekly_bars_is_valid_svg_with_a_title_per_bar_and_escaped_names() -> None:
    weeks = charts.weeks_ending(NOW, 2)
    svg = charts.weekly_bars("Per week", weeks, {"<b>&co": [1, 3], "Luxury": [0, 2]})
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Per week"
    assert "<b>&co 4" in root.find(f"{SVG}desc").text
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(bars) == 4
    assert {b.find(f"{SVG}title").text for b in bars} >= {"<b>&co, 2026-11-30: 3"}
    tallest = max(bars, key=lambda b: float(b.get("height")))
    assert tallest.find(f"{SVG}title").text == "<b>&co, 2026-11-30: 3"


def test_ranked_bars_and_an_empty_chart() -> None:
    root = ET.fromstring(charts.ranked_bars("Brands", [("acme", 4), ("luxe", 1)]))
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert widths[0] > widths[1] > 0
    empty = ET.fromstring(charts.ranked_bars("Brands", []))
    assert empty.find(f"{SVG}desc").text == "no data"
    ET.fromstring(charts.weekly_bars("Nothing", charts.weeks_ending(NOW, 4), {}))


def test_network_graph_links_every_node_and_escapes_labels() -> None:
    svg = charts.network_graph(
        "Network",
        [
            ("a", "seller_account", "shopee:1"),
            ("b", "phone", "<+49>"),
            ("c", "domain", "x.example"),
        ],
        [("a", "b", "SAME_CASE"), ("a", "c", "SAME_CASE"), ("a", "zzz", "dangling")],
        centre="a",
    )
    root = ET.fromstring(svg)
    links = [el.get("href") for el in root.iter(f"{SVG}a")]
    assert links == ["/portal/indicators/a", "/portal/indicators/b", "/portal/indicators/c"]
    assert len(list(root.iter(f"{SVG}line"))) == 2  # the dangling edge is not drawn
    assert "phone <+49>" in root.find(f"{SVG}desc").text


def test_score_line_leaves_gaps_and_titles_each_point() -> None:
    points = [
        (NOW - timedelta(weeks=3), None),
        (NOW - timedelta(weeks=2), 80.0),
        (NOW - timedelta(weeks=1), 40.0),
        (NOW, 20.0),
    ]
    root = ET.fromstring(charts.score_line("Score <history>", points))
    assert root.find(f"{SVG}title").text == "Score <history>"
    assert root.get("aria-labelledby") == "score-history-t score-history-d"
    assert root.find(f"{SVG}desc").text.startswith("2026-11-18 80.00 to 2026-12-02 20.00")
    circles = list(root.iter(f"{SVG}circle"))
    assert [c.find(f"{SVG}title").text for c in circles] == [
        "2026-11-18: 80.00",
        "2026-11-25: 40.00",
        "2026-12-02: 20.00",
    ]
    heights = [float(c.get("cy")) for c in circles]
    assert heights[0] < heights[1] < heights[2]  # a higher score sits higher
    assert len(root.find(f"{SVG}polyline").get("points").split()) == 3
    empty = ET.fromstring(charts.score_line("Score", [(NOW, None)], empty="nothing yet"))
    assert empty.find(f"{SVG}desc").text == "nothing yet"
    assert empty.find(f"{SVG}polyline") is None

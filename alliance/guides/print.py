"""The print view: one published guide as one self-contained HTML page (inline CSS, photos as
data URIs or thumbnail URLs) for workshops. Pure: it renders a :class:`GuideView` already cut
to the reader's tiers, so what is printed is exactly what the reader may read."""

from __future__ import annotations

import html
import uuid
from collections.abc import Mapping
from typing import Any

from alliance.guides.markdown import render
from alliance.guides.service import GuideView

CSS = """
body{font-family:Helvetica,Arial,sans-serif;max-width:48rem;margin:2rem auto;color:#111;
line-height:1.45}
h1{font-size:1.8rem;margin-bottom:.2rem}h2{border-bottom:2px solid #333;margin-top:2rem}
.meta{color:#555;font-size:.9rem}.tier{font-size:.75rem;padding:.1rem .4rem;border-radius:.2rem;
background:#eee;margin-left:.5rem}.tier.COVERT,.tier.FORENSIC{background:#111;color:#fff}
.feature{break-inside:avoid;border:1px solid #ccc;padding:.6rem 1rem;margin:.8rem 0}
.tell{border-left:6px solid #b00}.authentic{border-left:6px solid #070}
figure{display:inline-block;margin:.4rem}figure img{max-width:14rem;max-height:14rem}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}
.restricted{font-weight:bold;color:#b00}
@media print{body{margin:0}a{color:#000}}
"""


def _e(value: Any) -> str:
    return html.escape(str(value or ""), quote=True)


def _section(title: str, body: str) -> str:
    return f"<section><h2>{_e(title)}</h2>{body}</section>" if body.strip() else ""


def _table(rows: list[list[Any]], head: list[str]) -> str:
    if not rows:
        return ""
    header = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def render_page(
    view: GuideView,
    *,
    photo_sources: Mapping[uuid.UUID, str],
    owner_name: str = "",
    group_name: str = "",
) -> str:
    c = view.content
    photos_by_feature: dict[str, list[str]] = {}
    for p in view.photos:
        src = photo_sources.get(p.id)
        if src:
            photos_by_feature.setdefault(p.feature_id, []).append(
                f'<figure><img src="{_e(src)}" alt="{_e(p.caption)}">'
                f"<figcaption>{_e(p.caption)}</figcaption></figure>"
            )
    features = []
    for f in c.get("features", []):
        kind = "tell" if f["kind"] == "TELL" else "authentic"
        label = "Counterfeit tell" if kind == "tell" else "Authentic feature"
        features.append(
            f'<div class="feature {kind}"><h3>{_e(f["title"])}'
            f'<span class="tier {_e(f["tier"])}">{_e(f["tier"])}</span></h3>'
            f'<div class="meta">{label}</div>{render(f["text"])}'
            + "".join(photos_by_feature.get(f["id"], []))
            + "</div>"
        )
    rights = c.get("rights") or {}
    identity = _table(
        [
            ["Brands", ", ".join(c.get("brands", []))],
            ["Product lines", ", ".join(c.get("product_lines", []))],
            ["GTINs", ", ".join(c.get("gtins", []))],
            ["Category", c.get("category_id") or ""],
        ],
        ["", ""],
    )
    parts = [
        _section("Summary", render(c.get("summary"))),
        _section("Product", identity),
        _section(
            "Rights",
            _table(
                [
                    [r["kind"], r["number"], r["jurisdiction"]]
                    for r in rights.get("registrations", [])
                ]
                + [
                    ["CUSTOMS RECORDATION", r["number"], r["jurisdiction"]]
                    for r in rights.get("customs_recordations", [])
                ],
                ["Kind", "Number", "Jurisdiction"],
            ),
        ),
        _section("Features and counterfeit tells", "".join(features)),
        _section("Packaging", render(c.get("packaging"))),
        _section("Labels", render(c.get("labels"))),
        _section(
            "Serial and lot formats",
            _table(
                [
                    [s["name"], s["pattern"], ", ".join(s["examples"]), s["description"]]
                    for s in c.get("serial_formats", [])
                ],
                ["Format", "Pattern", "Examples", "Notes"],
            ),
        ),
        _section(
            "Authorised supply chain",
            _table(
                [[s["role"], s["name"], s["country"], s["url"]] for s in c.get("supply_chain", [])],
                ["Role", "Name", "Country", "Web"],
            ),
        ),
        _section("Price guidance", render(c.get("price_guidance"))),
        _section("Test-buy notes", render(c.get("test_buy_notes"))),
        _section(
            "Verification contacts",
            _table(
                [
                    [
                        p["name"],
                        p["organisation"],
                        ", ".join(p["languages"]),
                        p["hours"],
                        p["reach"],
                    ]
                    for p in c.get("contacts", [])
                ],
                ["Name", "Organisation", "Languages", "Hours", "How to reach"],
            ),
        ),
    ]
    marking = view.guide.tlp.value.replace("_", "+")
    restricted = (
        '<p class="restricted">Contains covert/forensic features: do not share beyond '
        "enforcement and the brand owner.</p>"
        if any(f["tier"] != "OVERT" for f in c.get("features", []))
        else ""
    )
    version = f"version {view.number}" if view.number else "draft"
    return (
        f'<!DOCTYPE html><html lang="{_e(view.language)}"><head><meta charset="utf-8">'
        f"<title>{_e(c['title'])}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{_e(c['title'])}</h1>"
        f'<p class="meta">TLP:{_e(marking)} · {_e(version)} · {_e(owner_name)} · '
        f"{_e(group_name)} · {_e(view.language)}</p>{restricted}</header>"
        + "".join(parts)
        + "</body></html>"
    )

"""Guide text is Markdown, rendered to HTML that is safe to embed: the parser never passes raw
HTML through (``html`` disabled), and the result is sanitised again by nh3 (an allow-list of
tags, attributes and URL schemes), so neither a script, an event handler, nor a
``javascript:``/``data:`` link survives."""

from __future__ import annotations

import functools

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li",
        "h1", "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td",
        "del", "s",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
MAX_SOURCE_CHARS = 50_000


@functools.cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render(source: str | None) -> str:
    """Markdown to sanitised HTML (``""`` for no text)."""
    if not source:
        return ""
    html = _parser().render(source[:MAX_SOURCE_CHARS])
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        attribute_filter=_absolute_links_only,
    )


_LINK_PREFIXES = tuple(
    f"{scheme}:" if scheme == "mailto" else f"{scheme}://" for scheme in sorted(URL_SCHEMES)
)


def _absolute_links_only(tag: str, attribute: str, value: str) -> str | None:
    # A relative or scheme-less href (":", "//host", "x:y" that nh3 reads as relative) means
    # nothing in a guide read anywhere else: only absolute http(s) and mailto links stay.
    if tag == "a" and attribute == "href":
        return value if value.strip().lower().startswith(_LINK_PREFIXES) else None
    return value

"""Registrable domains (eTLD+1) from the Public Suffix List shipped inside ``publicsuffixlist``.

The list is read from the package's own data file, never fetched. Private-section suffixes
count (``myshopify.com``, ``blogspot.com``…): a shop at ``fake-nike.myshopify.com`` is its own
registrant, and grouping every Shopify store under ``myshopify.com`` would match them all.
"""

from __future__ import annotations

from functools import cache

from publicsuffixlist import PublicSuffixList


@cache
def _suffix_list() -> PublicSuffixList:
    return PublicSuffixList()


def registrable_domain(ascii_host: str) -> str | None:
    """The registrable domain of an A-label host, or ``None`` when the host is itself a public
    suffix (``co.uk``). A TLD missing from the list counts as a public suffix."""
    return _suffix_list().privatesuffix(ascii_host)

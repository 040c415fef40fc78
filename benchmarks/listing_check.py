"""checkListings in one process: the in-memory matcher with many indicators and rules.

Builds a matcher over the real taxonomy with ``--indicators`` active indicators (a tenth
keywords and brand misspellings, a fifth image hashes split between pHash and PDQ, the rest
exact values: seller accounts, phones, e-mails, domains, storefront URLs, GTINs) in mixed
visibility (alliance-wide and three working groups), and ``--rules`` rules on random
categories with keyword terms, then checks ``--listings`` synthetic listings (a quarter of
them carrying a known value, a mapped platform category for most) on one core, as a viewer
seated in one group: one at a time, printing listings/s with p50 and p99 per listing, then in
batches of ``--batch`` (1,000, checkListings' most), printing listings/s and the time per
batch; both must give the same verdicts. The
listings' descriptions draw on a 50,000-word vocabulary (Zipf-weighted), as real text does.

    python -m benchmarks.listing_check [--indicators 200000] [--rules 1000] [--listings 20000]
        [--batch 1000] [--count]   (also count each check for the statistics, as the API does)

Goal (the listing-check issue): >= 20,000 listings/s at 1,000,000 indicators (100,000
keywords, 200,000 image hashes) and 1,000 rules: ``--indicators 1000000``.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import random
import time
import uuid

import numpy as np

from alliance.indicators.indicator_type import IndicatorType
from alliance.listings.counting import ListingCounts
from alliance.listings.listing import parse_listing
from alliance.listings.matcher import IndicatorEntry, Matcher, RuleEntry
from alliance.orgs.models import MembershipRole
from alliance.rules.definition import parse_definition
from alliance.sharing import TLP, Distribution
from alliance.sharing.policy import Viewer, Visibility
from alliance.taxonomy.tree import CategoryTree, packaged_taxonomy_lines, parse_taxonomy

T = IndicatorType
WORDS = (
    "airbag brake pad rotor filter watch bag wallet charger cable phone case sneaker jersey "
    "perfume lipstick toner cartridge battery lens drone headphone speaker belt scarf ring"
).split()
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def word(rng: random.Random, n: int = 8) -> str:
    return "".join(rng.choice(LETTERS) for _ in range(n))


def percentile(samples: list[float], p: float) -> float:
    return float(np.percentile(np.array(samples), p))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--indicators", type=int, default=200_000)
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--listings", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2014)
    parser.add_argument(
        "--batch",
        type=int,
        default=1000,
        help="also check the listings in batches of this size (1: one at a time only)",
    )
    parser.add_argument(
        "--count",
        action="store_true",
        help="also add each check to the statistics' in-memory counters, as the API does",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)

    categories = parse_taxonomy(packaged_taxonomy_lines())
    tree = CategoryTree.from_categories(categories)
    ids = [c.id for c in categories]
    org, groups = uuid.uuid4(), [uuid.uuid4() for _ in range(3)]
    visibilities = [Visibility(org, None, Distribution.ALLIANCE, TLP.GREEN)] + [
        Visibility(org, g, Distribution.WORKING_GROUP, TLP.AMBER) for g in groups
    ]
    viewer = Viewer.member(uuid.uuid4(), [(groups[0], MembershipRole.MEMBER)])

    started = time.perf_counter()
    n_keywords = args.indicators // 10
    n_hashes = args.indicators // 5
    known: dict[str, list[str]] = {"phone": [], "email": [], "seller": [], "keyword": []}
    known_hashes: list[str] = []
    entries: list[IndicatorEntry] = []

    def add(type_: IndicatorType, value: str, keys: tuple[tuple[str, str], ...] = ()) -> None:
        entries.append(
            IndicatorEntry(
                uuid.uuid4(),
                uuid.uuid4(),
                type_,
                value,
                rng.choice(visibilities),
                rng.uniform(20, 95),
                keys,
            )
        )

    for n in range(n_keywords):
        value = f"{word(rng, 6)} {word(rng, 5)}" if n % 2 else word(rng, 9)
        add(T.KEYWORD if n % 3 else T.BRAND_MISSPELLING, value)
        if n % 1000 == 0:
            known["keyword"].append(value)
    for n in range(n_hashes):
        if n % 2:
            value = f"{rng.getrandbits(64):016x}"
            add(T.IMAGE_PHASH, value)
            if n % 1000 == 1:
                known_hashes.append(value)
        else:
            add(T.IMAGE_PDQ, f"{rng.getrandbits(256):064x}")
    for n in range(args.indicators - n_keywords - n_hashes):
        kind = n % 6
        if kind == 0:
            value = f"+86138{rng.randrange(10**8):08d}"
            add(T.PHONE, value)
            known["phone"].append(value) if n % 500 == 0 else None
        elif kind == 1:
            value = f"{word(rng)}@{word(rng, 6)}.example"
            add(T.EMAIL, value)
            known["email"].append(value) if n % 500 == 1 else None
        elif kind == 2:
            seller = word(rng, 10)
            add(T.SELLER_ACCOUNT, f"ebay:{seller}")
            known["seller"].append(seller) if n % 500 == 2 else None
        elif kind == 3:
            add(T.DOMAIN, f"{word(rng, 10)}.shop")
        elif kind == 4:
            add(T.STOREFRONT_URL, f"https://{word(rng, 8)}.example/store/{n}")
        else:
            add(T.GTIN, f"{rng.randrange(10**13):014d}")
    generated = time.perf_counter() - started

    matcher = Matcher()
    matcher.set_tree(tree)
    platform_ids = {f"P-{cid}": cid for cid in ids}
    matcher.set_platform_map("ebay", platform_ids)
    started = time.perf_counter()
    matcher.load_indicators(entries)
    rule_terms = [word(rng, 7) for _ in range(3000)]
    for _ in range(args.rules):
        terms = [rng.choice(rule_terms), rng.choice(WORDS)]
        definition = parse_definition(
            {
                "name": f"rule {word(rng, 5)}",
                "decision": rng.choice(["PROHIBIT", "ALLOW_IF", "RESTRICT"]),
                "rationale": "SAFETY",
                "category_ids": rng.sample(ids, 2),
                "keywords": {"any_of": terms},
                "exceptions": {"certification_ids": ["CE-1"]},
            }
        )
        matcher.put_rule(RuleEntry.of(uuid.uuid4(), 1, definition, rng.choice(visibilities)))
    build = time.perf_counter() - started
    entries.clear()
    gc.collect()
    print(
        f"indicators {args.indicators:,} ({n_keywords:,} keywords, {n_hashes:,} image hashes)  "
        f"rules {args.rules:,}  generate {generated:.1f} s  build {build:.1f} s"
    )

    # Listing text draws on a vocabulary, as real catalogues do (Zipf-like: a few words are
    # everywhere, most are rare), rather than on fresh random strings.
    vocabulary = [word(rng, rng.randint(3, 9)) for _ in range(50_000)]
    cum_weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(vocabulary))))
    listings = []
    for n in range(args.listings):
        fields: dict[str, object] = {
            "platform": "ebay",
            "sellerId": word(rng, 10),
            "title": " ".join(
                [*rng.choices(vocabulary, cum_weights=cum_weights, k=5), rng.choice(WORDS)]
            ),
            "description": " ".join(rng.choices(vocabulary, cum_weights=cum_weights, k=25)),
            "platformCategoryId": f"P-{rng.choice(ids)}",
            "price": "19.99",
            "currency": "EUR",
            "country": "DE",
            "imagePhashes": [f"{rng.getrandbits(64):016x}"],
        }
        if n % 20 == 0:  # one in twenty names something a rule is about
            fields["title"] = f"{fields['title']} {rng.choice(rule_terms)}"
        if n % 4 == 0:  # a quarter carry a known value
            pick = n // 4 % 5
            if pick == 0 and known["phone"]:
                fields["phone"] = rng.choice(known["phone"])
            elif pick == 1 and known["email"]:
                fields["email"] = rng.choice(known["email"])
            elif pick == 2 and known["seller"]:
                fields["sellerId"] = rng.choice(known["seller"])
            elif pick == 3 and known["keyword"]:
                fields["title"] = f"{fields['title']} {rng.choice(known['keyword'])}"
            elif known_hashes:
                fields["imagePhashes"] = [rng.choice(known_hashes)]
        listings.append(parse_listing(fields))

    counts = ListingCounts() if args.count else None
    verdicts = run(matcher, viewer, listings, 1, counts)
    if args.batch > 1:
        assert run(matcher, viewer, listings, args.batch, counts) == verdicts
    print("goal: >= 20,000 listings/s at 1,000,000 indicators and 1,000 rules")


def run(
    matcher: Matcher, viewer: Viewer, listings: list, size: int, counts: ListingCounts | None
) -> dict[str, int]:
    """The listings one at a time (``size`` 1: ``Matcher.check``, as a checkListing call) or
    in batches of ``size`` (``Matcher.check_many``, as checkListings and the NDJSON endpoint
    check them); prints listings/s and the time per call, and gives the verdicts' counts."""
    timings: list[float] = []
    verdicts: dict[str, int] = {}
    counting_ns = 0
    gc.disable()
    started = time.perf_counter()
    for lo in range(0, len(listings), size):
        t0 = time.perf_counter_ns()
        if size == 1:
            results = [matcher.check(viewer, listings[lo])]
        else:
            results = matcher.check_many(viewer, listings[lo : lo + size])
        if counts is not None:
            t1 = time.perf_counter_ns()
            counts.record_all(matcher, viewer, results)
            counting_ns += time.perf_counter_ns() - t1
        timings.append((time.perf_counter_ns() - t0) / 1e6)
        for result in results:
            verdicts[result.verdict.value] = verdicts.get(result.verdict.value, 0) + 1
    elapsed = time.perf_counter() - started
    gc.enable()
    p50, p99 = percentile(timings, 50), percentile(timings, 99)
    print(
        f"{'one at a time' if size == 1 else f'batches of {size:,}'}: {len(listings):,} "
        f"listings  {len(listings) / elapsed:,.0f} listings/s on one core  "
        + (
            f"p50 {p50:.3f} ms  p99 {p99:.3f} ms"
            if size == 1
            else f"per batch p50 {p50:.1f} ms  p99 {p99:.1f} ms ({p50 * 1000 / size:.1f} µs a listing)"
        )
        + f"  verdicts {dict(sorted(verdicts.items()))}"
    )
    if counts is not None:
        print(
            f"counting (included above) {counting_ns / len(listings) / 1000:.2f} µs/listing, "
            f"{len(counts.pending())} counter rows"
        )
    return dict(sorted(verdicts.items()))


if __name__ == "__main__":
    main()

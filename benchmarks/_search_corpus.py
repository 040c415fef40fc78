"""Synthetic indicator documents for the search benchmarks (not a benchmark itself)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from alliance.search.documents import SearchDocument
from alliance.sharing import TLP, Distribution
from search.query import Upsert

BRANDS = ["acme", "luxe", "volt", "nike", "apex", "orbit", "zen", "nova", "terra", "flux"]
TYPES = ["seller_account", "domain", "listing_url", "keyword", "phone", "email", "waybill"]
PLATFORMS = ["shopmart", "bazaar", "marketly", "dealhub", "quickbuy"]
PRODUCTS = [
    "airbag",
    "brake pads",
    "spark plugs",
    "handbag",
    "wallet",
    "watch",
    "sneakers",
    "headphones",
    "charger",
    "battery",
    "perfume",
    "sunglasses",
    "phone case",
    "filter",
]
WORDS = [
    "counterfeit",
    "replica",
    "fake",
    "cheap",
    "wholesale",
    "original",
    "genuine",
    "outlet",
    "discount",
    "factory",
    "authentic",
    "copy",
    "grade",
    "mirror",
    "luxury",
    "bulk",
]
CJK = ["假冒汽车安全气囊", "高仿手表", "偽物のバッグ", "가짜 운동화"]
ORGS = [uuid.UUID(int=i + 1) for i in range(50)]
GROUPS = [uuid.UUID(int=1000 + i) for i in range(10)]
T0 = datetime(2025, 1, 1, tzinfo=UTC)
DISTRIBUTIONS = list(Distribution)
TLPS = list(TLP)


def documents(count: int, seed: int = 7) -> Iterator[SearchDocument]:
    rng = random.Random(seed)
    for i in range(count):
        brand = rng.choice(BRANDS)
        product = rng.choice(PRODUCTS)
        title = f"{rng.choice(WORDS)} {brand} {product} {rng.choice(PLATFORMS)}-{i}"
        if i % 20 == 0:
            title += " " + rng.choice(CJK)
        if i % 100 == 0:
            title = title.replace("e", "е", 1)  # a Cyrillic look-alike
        yield SearchDocument(
            kind="indicator.assertion",
            object_id=str(i),
            title=title,
            body=" ".join(rng.choice(WORDS) for _ in range(8)) + f" {product}",
            keywords=(f"{brand}-{i % 997}",),
            type=rng.choice(TYPES),
            status=rng.choice(("ACTIVE", "ACTIVE", "ACTIVE", "DISPUTED", "REVOKED")),
            brands=(brand,),
            language="en",
            updated_at=T0 + timedelta(seconds=i),
            owner_org_id=rng.choice(ORGS),
            working_group_id=rng.choice(GROUPS),
            distribution=rng.choice(DISTRIBUTIONS),
            tlp=rng.choice(TLPS),
        )


def batches(count: int, size: int) -> Iterator[list[Upsert]]:
    batch: list[Upsert] = []
    for document in documents(count):
        batch.append(Upsert(document, 1))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch

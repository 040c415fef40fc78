"""Export: what the organisation may see, with the list's filters, paged, never TLP RED, and in
the import's columns (an export imports back)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from alliance.db import unit_of_work
from alliance.indicators import exporting, importing, service
from alliance.indicators import repository as repo
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.models import AssertionStatus, Indicator
from tests.alliance.indicators.builders import submission, viewer


async def seed(sessions: Any, demo: dict[str, Any]) -> None:
    acme, volt = demo["orgs"]["acme-motors"], demo["orgs"]["volt-electronics"]
    auto, electronics = demo["groups"]["automotive-parts"], demo["groups"]["consumer-electronics"]
    async with unit_of_work(sessions) as s:
        await service.submit(
            s,
            await viewer(s, acme),
            [
                *(submission(value=f"https://shopee.cn/shop/{700000 + n}") for n in range(7)),
                submission(type="keyword", value="Fake Airbag", brands=["Acme"]),
                submission(
                    type="domain",
                    value="acme-parts-cheap.example",
                    working_group_id=auto.id,
                    distribution="WORKING_GROUP",
                    tlp="AMBER",
                ),
                submission(type="domain", value="secret.example", tlp="RED"),
            ],
        )
        await service.submit(
            s,
            await viewer(s, volt),
            [
                submission(
                    type="email",
                    value="Seller@Volt-Fakes.example",
                    working_group_id=electronics.id,
                    distribution="WORKING_GROUP",
                )
            ],
        )


async def rows(session: Any, org: Any, criteria: Any = None, **kw: Any) -> list[dict[str, Any]]:
    who = await viewer(session, org)
    return [r async for r in exporting.export_rows(session, who, criteria, **kw)]


async def test_an_export_holds_what_the_organisation_sees_paged_and_never_red(
    sessions, demo: dict[str, Any]
) -> None:
    await seed(sessions, demo)
    async with sessions() as s:
        police = await rows(s, demo["orgs"]["city-police"], page_size=3)
        luxe = await rows(s, demo["orgs"]["luxe-house"], page_size=4)
        acme = await rows(s, demo["orgs"]["acme-motors"])

    values = {r["value"] for r in police}
    # city-police: a member of automotive-parts, an observer of consumer-electronics.
    assert "acme-parts-cheap.example" in values
    assert "seller@volt-fakes.example" in values
    assert "secret.example" not in values, "RED never leaves the instance"
    assert len(police) == 10
    assert {r["value"] for r in luxe} == values - {
        "acme-parts-cheap.example",
        "seller@volt-fakes.example",
    }
    assert "secret.example" not in {r["value"] for r in acme}, "not even for its owner"
    assert len({r["assertion_id"] for r in police}) == len(police), "paging repeats nothing"


async def test_an_export_takes_the_lists_filters(sessions, demo: dict[str, Any]) -> None:
    await seed(sessions, demo)
    police = demo["orgs"]["city-police"]
    async with sessions() as s:
        keywords = await rows(s, police, repo.IndicatorFilter(types=[IndicatorType.KEYWORD]))
        in_group = await rows(
            s,
            police,
            repo.IndicatorFilter(working_group_ids=[demo["groups"]["automotive-parts"].id]),
        )
        revoked = await rows(s, police, repo.IndicatorFilter(statuses=[AssertionStatus.REVOKED]))

    assert [(r["type"], r["value"], r["brands"]) for r in keywords] == [
        ("keyword", "fake airbag", ["acme"])
    ]
    assert [(r["value"], r["working_group"]) for r in in_group] == [
        ("acme-parts-cheap.example", "automotive-parts")
    ]
    assert revoked == []


async def test_an_export_imports_back_to_the_same_indicators(
    sessions, demo: dict[str, Any], tmp_path: Path
) -> None:
    await seed(sessions, demo)
    acme, shopmart = demo["orgs"]["acme-motors"], demo["orgs"]["shopmart"]
    async with sessions() as s:
        text = "".join(
            [line async for line in exporting.export_text(s, await viewer(s, acme), fmt="csv")]
        )
        jsonl = "".join(
            [line async for line in exporting.export_text(s, await viewer(s, acme), fmt="jsonl")]
        )
        before = set(await s.scalars(select(Indicator.value)))
    exported = list(csv.DictReader(io.StringIO(text)))
    assert len(exported) == len(jsonl.splitlines()) == 9
    assert json.loads(jsonl.splitlines()[0])["value"] == exported[0]["value"]
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    data_dir = tmp_path / "var"
    async with unit_of_work(sessions) as s:
        started = await importing.start_import(
            s,
            await viewer(s, shopmart),
            importing.stage_path(data_dir, path),
            data_dir=data_dir,
        )

    job = await importing.run_import(sessions, started.job.id, data_dir=data_dir)

    assert job is not None
    assert (job.rows_done, job.rows_failed) == (9, 0), job.report["errors"]
    async with sessions() as s:
        assert set(await s.scalars(select(Indicator.value))) == before

"""Export of the indicators an organisation may see, as CSV or JSON Lines, one row per assertion.

Rows come through the sharing policy (the list's own query, paged by keyset on the indicator
id, a page and its assertions at a time, never the whole set in memory) with the list's
filters, and only what may leave the instance for the recipient's own systems
(``may_travel(…, EXTERNAL_EXPORT)``: never TLP RED). The columns are the import's, so an
export imports back; the columns an import does not take (``organisation``, ``status``…)
it reads past.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.indicators import repository as repo
from alliance.indicators.importing import EXPORT_ONLY_COLUMNS, LIST_SEPARATOR
from alliance.indicators.models import Indicator, IndicatorAssertion
from alliance.orgs import repository as orgs_repo
from alliance.sharing.policy import Destination, Viewer, Visibility, may_travel

FORMATS = ("csv", "jsonl")
PAGE_SIZE = 500
COLUMNS = (
    "type",
    "value",
    "working_group",
    "distribution",
    "tlp",
    "confidence",
    "severity",
    "brands",
    "category",
    "valid_from",
    "valid_until",
    "note",
    "tags",
    "evidence",
    "group_key",
    *EXPORT_ONLY_COLUMNS,
)


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def row_of(
    indicator: Indicator,
    assertion: IndicatorAssertion,
    groups: dict[uuid.UUID, str],
    orgs: dict[uuid.UUID, str],
) -> dict[str, Any]:
    return {
        "type": indicator.type.value,
        "value": indicator.value,
        "working_group": groups.get(assertion.working_group_id)  # type: ignore[arg-type]
        if assertion.working_group_id
        else None,
        "distribution": assertion.distribution.value,
        "tlp": assertion.tlp.value,
        "confidence": assertion.confidence,
        "severity": assertion.severity.value,
        "brands": list(assertion.brands),
        "category": assertion.product_category,
        "valid_from": _moment(assertion.valid_from),
        "valid_until": _moment(assertion.valid_until),
        "note": assertion.note,
        "tags": list(assertion.tags),
        "evidence": list(assertion.evidence_links),
        "group_key": assertion.group_key,
        "organisation": orgs.get(assertion.owner_org_id),
        "status": assertion.status.value,
        "score": round(assertion.score, 2),
        "indicator_id": str(indicator.id),
        "assertion_id": str(assertion.id),
        "first_seen_at": _moment(assertion.first_seen_at),
        "last_seen_at": _moment(assertion.last_seen_at),
    }


async def export_rows(
    session: AsyncSession,
    viewer: Viewer,
    criteria: repo.IndicatorFilter | None = None,
    *,
    page_size: int = PAGE_SIZE,
) -> AsyncIterator[dict[str, Any]]:
    """Every assertion ``viewer`` sees that passes ``criteria`` and may be exported, oldest
    indicator first: three queries per page of indicators (plus the names of groups and
    organisations not met before)."""
    criteria = criteria or repo.IndicatorFilter()
    groups: dict[uuid.UUID, str] = {}
    orgs: dict[uuid.UUID, str] = {}
    after: uuid.UUID | None = None
    while True:
        page = await repo.page_visible_indicators(
            session, viewer, criteria, newest_first=False, after=after, limit=page_size
        )
        if not page.items:
            return
        by_id = {i.id: i for i in page.items}
        assertions = [
            a
            for a in await repo.visible_assertions_for_export(
                session, viewer, criteria, list(by_id)
            )
            if may_travel(
                Visibility(a.owner_org_id, a.working_group_id, a.distribution, a.tlp),
                Destination.EXTERNAL_EXPORT,
            )
        ]
        await _names(session, assertions, groups, orgs)
        for assertion in sorted(assertions, key=lambda a: (a.indicator_id, a.id)):
            yield row_of(by_id[assertion.indicator_id], assertion, groups, orgs)
        if not page.has_next_page:
            return
        after = page.items[-1].id


async def _names(
    session: AsyncSession,
    assertions: Sequence[IndicatorAssertion],
    groups: dict[uuid.UUID, str],
    orgs: dict[uuid.UUID, str],
) -> None:
    new_groups = {a.working_group_id for a in assertions if a.working_group_id} - set(groups)
    if new_groups:
        for group in await orgs_repo.working_groups_by_ids(session, list(new_groups)):
            groups[group.id] = group.slug
    new_orgs = {a.owner_org_id for a in assertions} - set(orgs)
    if new_orgs:
        for org in await orgs_repo.organisations_by_ids(session, list(new_orgs)):
            orgs[org.id] = org.slug


def csv_header() -> str:
    return _csv_line(COLUMNS)


def csv_row(row: dict[str, Any]) -> str:
    return _csv_line(
        [
            LIST_SEPARATOR.join(v) if isinstance(v, list) else "" if v is None else v
            for v in (row[c] for c in COLUMNS)
        ]
    )


def jsonl_row(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"


def _csv_line(values: Sequence[Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()


async def export_text(
    session: AsyncSession,
    viewer: Viewer,
    criteria: repo.IndicatorFilter | None = None,
    *,
    fmt: str = "csv",
    page_size: int = PAGE_SIZE,
) -> AsyncIterator[str]:
    """The export as lines of text, header first for CSV."""
    if fmt == "csv":
        yield csv_header()
    async for row in export_rows(session, viewer, criteria, page_size=page_size):
        yield csv_row(row) if fmt == "csv" else jsonl_row(row)

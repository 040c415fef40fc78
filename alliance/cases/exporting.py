"""Exporting a case package: the case as its participants see it, its evidence from the store,
signed with the instance key. Only a participant exports (or the operator, from the CLI)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from joserfc.jwk import RSAKey
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.audit import service as audit
from alliance.cases import evidence_store, manifest, package
from alliance.cases import repository as repo
from alliance.cases.models import Case
from alliance.db import utcnow
from alliance.errors import NotFound
from alliance.indicators import repository as indicators_repo
from alliance.orgs import repository as orgs_repo
from alliance.sharing.policy import Viewer


@dataclass(frozen=True, slots=True)
class ExportedPackage:
    case: Case
    content: bytes
    head: str
    filename: str


def money(minor: int | None, currency: str | None) -> str | None:
    if minor is None:
        return None
    return f"{minor // 100}.{minor % 100:02d} {currency or ''}".strip()


async def case_document(session: AsyncSession, case: Case) -> dict[str, Any]:
    """The case as plain data (what the manifest and the summary carry)."""
    participants = (await repo.participants_of(session, [case.id])).get(case.id, [])
    items = (await repo.items_of(session, [case.id])).get(case.id, [])
    events = (await repo.events_of(session, [case.id])).get(case.id, [])
    org_ids = {p.organisation_id for p in participants} | {case.owner_org_id}
    org_ids |= {e.organisation_id for e in events if e.organisation_id}
    if case.enforcement_org_id:
        org_ids.add(case.enforcement_org_id)
    slugs = {o.id: o.slug for o in await orgs_repo.organisations_by_ids(session, list(org_ids))}
    indicator_ids = [i.indicator_id for i in items if i.indicator_id]
    buy_ids = [i.test_buy_id for i in items if i.test_buy_id]
    found = {i.id: i for i in await indicators_repo.indicators_by_ids(session, indicator_ids)}
    buys = await repo.test_buys_by_ids(session, buy_ids)
    confirmations = await repo.confirmations_of(session, buy_ids)
    return {
        "id": str(case.id),
        "reference": case.reference,
        "title": case.title,
        "summary": case.summary,
        "status": case.status.value,
        "jurisdiction": case.jurisdiction,
        "opened_by": slugs.get(case.owner_org_id),
        "enforcement_organisation": slugs.get(case.enforcement_org_id)
        if case.enforcement_org_id
        else None,
        "opened_at": case.opened_at.isoformat(),
        "referred_at": case.referred_at.isoformat() if case.referred_at else None,
        "accepted_at": case.accepted_at.isoformat() if case.accepted_at else None,
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "decline_reason": case.decline_reason,
        "participants": [
            {"organisation": slugs.get(p.organisation_id), "role": p.role.value}
            for p in participants
        ],
        "indicators": [
            {"id": str(i), "type": found[i].type.value, "value": found[i].value}
            for i in indicator_ids
            if i in found
        ],
        "test_buys": [
            {
                "id": str(b.id),
                "purchased_at": b.purchased_at.isoformat(),
                "platform": b.platform,
                "listing_url": b.listing_url,
                "seller": b.seller,
                "order_number": b.order_number,
                "price": money(b.price_minor, b.price_currency),
                "verdict": b.verdict.value,
                "guide_reference": b.guide_reference,
                "features_checked": list(b.features_checked or []),
                "buyer_name": b.buyer_name,
                "shipping_address": b.shipping_address,
                "return_address": b.return_address,
                "waybill": b.waybill,
                "confirms_indicators": [str(c.indicator_id) for c in confirmations.get(b.id, [])],
            }
            for b in sorted(buys, key=lambda b: b.purchased_at)
        ],
        "outcome": None
        if case.closed_at is None
        else {
            "suspects": case.outcome_suspects,
            "seized_value": money(case.outcome_seized_minor, case.outcome_seized_currency),
            "sites_closed": case.outcome_sites_closed,
            "prosecutions": case.outcome_prosecutions,
            "no_action": case.outcome_no_action,
            "note": case.outcome_note,
        },
        "timeline": [
            {
                "seq": e.seq,
                "occurred_at": e.occurred_at.isoformat(),
                "kind": e.kind.value,
                "organisation": slugs.get(e.organisation_id) if e.organisation_id else None,
                "actor": e.actor,
                "detail": e.detail,
            }
            for e in events
        ],
    }


async def export_case_package(
    session: AsyncSession,
    viewer: Viewer | None,
    case_id: uuid.UUID,
    policy: package.FieldsPolicy,
    *,
    data_dir: Path,
    key: RSAKey,
    issuer: str,
    now: datetime | None = None,
) -> ExportedPackage:
    """``viewer`` None is the operator (the CLI); anyone else must take part in the case."""
    case = (
        await repo.case_by_id(session, case_id)
        if viewer is None
        else await repo.visible_case(session, viewer, case_id)
    )
    if case is None:
        raise NotFound("case", str(case_id))
    rows = await repo.manifest_of(session, case.id)
    chain = [manifest.Entry(r.seq, r.fields, r.previous_hash, r.entry_hash) for r in rows]
    files = {
        str(e.fields["sha256"]): evidence_store.read_bytes(data_dir, str(e.fields["sha256"]))
        for e in chain
    }
    doc = package.redact(await case_document(session, case), policy)
    moment = now or utcnow()
    content = package.build(
        package.PackageContent(
            case_id=str(case.id),
            case=doc,
            chain=chain,
            files=files,
            issuer=issuer,
            exported_at=moment.isoformat(),
        ),
        key,
    )
    audit.record(
        session,
        action="cases.export_package",
        target_kind="case",
        target_id=str(case.id),
        detail={"redacted": sorted(policy.redact), "entries": len(chain)},
    )
    return ExportedPackage(
        case=case,
        content=content,
        head=manifest.head(str(case.id), chain),
        filename=f"case-{case.reference}.zip".replace("/", "_"),
    )

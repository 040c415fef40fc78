"""Test buys and cases: the only place they are written.

Services take the session and the acting :class:`~alliance.sharing.policy.Viewer`, raise domain
errors and never commit. A case is seen by its participants only: any case a viewer does not
take part in is "not found", never "forbidden", so that nobody learns it exists.

Evidence bytes are stored before the service runs (:mod:`alliance.cases.evidence_store`);
the services record who sent them when, and chain them into the case's manifest.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.cases import manifest
from alliance.cases import repository as repo
from alliance.cases.evidence_store import StoredFile
from alliance.cases.models import (
    Case,
    CaseEvent,
    CaseEventKind,
    CaseItem,
    CaseManifestEntry,
    CaseParticipant,
    CaseStatus,
    EvidenceFile,
    EvidenceKind,
    ParticipantRole,
    TestBuy,
    TestBuyConfirmation,
)
from alliance.changelog.models import Operation
from alliance.changelog.service import record_change
from alliance.config import IndicatorSettings
from alliance.db import new_id, utcnow
from alliance.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from alliance.indicators import repository as indicators_repo
from alliance.indicators import service as indicators
from alliance.indicators.models import ReactionKind, TestBuyVerdict
from alliance.orgs import repository as orgs_repo
from alliance.orgs.models import OrganisationKind
from alliance.sharing import TLP, Distribution
from alliance.sharing.policy import Viewer, ViewerKind, can_contribute
from alliance.validation import Checker

TEST_BUY_KIND = "case.test_buy"
CASE_KIND = "case"

MAX_ATTACHMENTS = 20
MAX_CONFIRMS = 50
MAX_ITEMS_PER_CALL = 200
MAX_ITEMS_PER_CASE = 1000
MAX_EVIDENCE_PER_CASE = 500
MAX_TEXT = 10_000
MAX_FEATURES = 50
MAX_AMOUNT_MINOR = 10**15


# --- inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attachment:
    """A stored file and what its sender says about it."""

    stored: StoredFile
    filename: str | None
    media_type: str | None = None
    kind: EvidenceKind | str = EvidenceKind.DOCUMENT
    description: str = ""


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal | str
    currency: str


@dataclass(frozen=True, slots=True)
class TestBuyData:
    __test__ = False

    purchased_at: datetime
    platform: str
    seller: str
    order_number: str
    verdict: TestBuyVerdict | str
    working_group_id: uuid.UUID | None = None
    distribution: Distribution | str = Distribution.WORKING_GROUP
    tlp: TLP | str = TLP.AMBER
    buyer_person_id: uuid.UUID | None = None
    buyer_name: str | None = None
    listing_url: str | None = None
    price: Money | None = None
    shipping_address: str | None = None
    return_address: str | None = None
    waybill: str | None = None
    guide_reference: str | None = None
    features_checked: Sequence[str] = ()
    note: str = ""
    # Indicator assertions the buy confirms: each gets a CONFIRMED_BY_TEST_BUY reaction.
    confirms_assertion_ids: Sequence[uuid.UUID] = ()
    attachments: Sequence[Attachment] = ()


@dataclass(frozen=True, slots=True)
class CaseData:
    reference: str
    title: str
    jurisdiction: str
    summary: str = ""
    working_group_id: uuid.UUID | None = None
    seller_network_indicator_id: uuid.UUID | None = None
    indicator_ids: Sequence[uuid.UUID] = ()
    test_buy_ids: Sequence[uuid.UUID] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    suspects: int = 0
    seized_value: Money | None = None
    sites_closed: int = 0
    prosecutions: int = 0
    no_action: bool = False
    note: str = ""


@dataclass(frozen=True, slots=True)
class CaseChange:
    case: Case
    added: dict[str, int] = field(default_factory=dict)


# --- helpers ------------------------------------------------------------------------------------


def _member(viewer: Viewer) -> uuid.UUID:
    if viewer.kind != ViewerKind.MEMBER or viewer.organisation_id is None:
        raise Forbidden("only an organisation of this instance may do this")
    return viewer.organisation_id


def _minor(check: Checker, name: str, money: Money | None) -> tuple[int | None, str | None]:
    if money is None:
        return None, None
    currency = (money.currency or "").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        check.fail(f"{name}.currency", "INVALID_CURRENCY", "must be an ISO 4217 code such as EUR")
    try:
        amount = Decimal(str(money.amount))
    except InvalidOperation:
        check.fail(f"{name}.amount", "INVALID_AMOUNT", "must be a decimal number")
        return None, currency
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        check.fail(f"{name}.amount", "INVALID_AMOUNT", "must be ≥ 0 with at most 2 decimals")
        return None, currency
    minor = int(amount * 100)
    if minor > MAX_AMOUNT_MINOR:
        check.fail(f"{name}.amount", "OUT_OF_RANGE", "is too large")
    return minor, currency


def _jurisdiction(check: Checker, value: str) -> str:
    """An ISO 3166-1 country, optionally with a subdivision (CN, CN-GD)."""
    cleaned = (value or "").strip().upper()
    country, _, sub = cleaned.partition("-")
    check.country("jurisdiction", country or "?")
    if sub and not (1 <= len(sub) <= 3 and sub.isalnum()):
        check.fail("jurisdiction", "INVALID_JURISDICTION", "use a country code, e.g. CN or CN-GD")
    return cleaned


def _unique(ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    return list(dict.fromkeys(ids))


def _evidence(
    check: Checker,
    prefix: str,
    attachment: Attachment,
    *,
    org: uuid.UUID,
    actor: str,
    moment: datetime,
) -> EvidenceFile | None:
    kind = check.choice(f"{prefix}.kind", attachment.kind, EvidenceKind)
    name = check.text(f"{prefix}.filename", attachment.filename or "file", max_length=255)
    description = check.text(
        f"{prefix}.description", attachment.description, max_length=MAX_TEXT, required=False
    )
    media = (attachment.media_type or "application/octet-stream").strip()[:200]
    if kind is None or name is None:
        return None
    # Only the last path component: a name is a label, never a path into a package.
    safe = name.replace("\\", "/").rsplit("/", 1)[-1] or "file"
    return EvidenceFile(
        id=new_id(),
        sha256=attachment.stored.sha256,
        size_bytes=attachment.stored.size,
        filename=safe,
        media_type=media,
        kind=kind,
        description=description or "",
        received_at=moment,
        received_by_org_id=org,
        received_by=actor,
    )


def _record_test_buy(session: AsyncSession, buy: TestBuy, operation: Operation) -> None:
    record_change(
        session,
        kind=TEST_BUY_KIND,
        object_id=buy.id,
        version=buy.version,
        operation=operation,
        distribution=buy.distribution,
        tlp=buy.tlp,
        owner_org_id=buy.owner_org_id,
        working_group_id=buy.working_group_id,
    )


def _record_case(session: AsyncSession, case: Case, operation: Operation) -> None:
    # The change log's visibility fields cannot say "participants only"; the narrowest they
    # can say is the opening organisation, marked RED so the row never travels.
    record_change(
        session,
        kind=CASE_KIND,
        object_id=case.id,
        version=case.version,
        operation=operation,
        distribution=Distribution.ORGANISATION,
        tlp=TLP.RED,
        owner_org_id=case.owner_org_id,
        working_group_id=None,
    )


# --- test buys ----------------------------------------------------------------------------------


async def record_test_buy(
    session: AsyncSession,
    viewer: Viewer,
    data: TestBuyData,
    *,
    actor: str,
    settings: IndicatorSettings | None = None,
    now: datetime | None = None,
) -> TestBuy:
    """Record a test buy of the viewer's organisation; each assertion it confirms gets a
    CONFIRMED_BY_TEST_BUY reaction through the indicators service."""
    org = _member(viewer)
    moment = now or utcnow()
    check = Checker()
    if data.purchased_at.tzinfo is None:
        check.fail("purchasedAt", "NAIVE_DATETIME", "must carry a time zone")
    elif data.purchased_at > moment:
        check.fail("purchasedAt", "IN_FUTURE", "must not be in the future")
    platform = check.text("platform", data.platform, max_length=100)
    seller = check.text("seller", data.seller, max_length=500)
    order_number = check.text("orderNumber", data.order_number, max_length=200)
    verdict = check.choice("verdict", data.verdict, TestBuyVerdict)
    distribution = check.choice("distribution", data.distribution, Distribution)
    tlp = check.choice("tlp", data.tlp, TLP)
    buyer_name = check.text("buyerName", data.buyer_name, max_length=200, required=False)
    listing_url = check.text("listingUrl", data.listing_url, max_length=2048, required=False)
    if listing_url and not listing_url.startswith(("https://", "http://")):
        check.fail("listingUrl", "INVALID_URL", "must be an http(s):// URL")
    shipping = check.text("shippingAddress", data.shipping_address, max_length=2000, required=False)
    returns = check.text("returnAddress", data.return_address, max_length=2000, required=False)
    waybill = check.text("waybill", data.waybill, max_length=200, required=False)
    guide = check.text("guideReference", data.guide_reference, max_length=200, required=False)
    note = check.text("note", data.note, max_length=MAX_TEXT, required=False)
    if len(data.features_checked) > MAX_FEATURES:
        check.fail("featuresChecked", "TOO_MANY", f"at most {MAX_FEATURES} features")
    features = [f.strip()[:200] for f in data.features_checked if f.strip()]
    price_minor, currency = _minor(check, "price", data.price)
    if distribution == Distribution.WORKING_GROUP and data.working_group_id is None:
        check.fail("workingGroupId", "REQUIRED", "is required for WORKING_GROUP distribution")
    if len(data.attachments) > MAX_ATTACHMENTS:
        check.fail("attachments", "TOO_MANY", f"at most {MAX_ATTACHMENTS} files")
    confirms = _unique(data.confirms_assertion_ids)
    if len(confirms) > MAX_CONFIRMS:
        check.fail("confirmsAssertionIds", "TOO_MANY", f"at most {MAX_CONFIRMS} assertions")
    files = [
        _evidence(check, f"attachments.{i}", a, org=org, actor=actor, moment=moment)
        for i, a in enumerate(data.attachments[:MAX_ATTACHMENTS])
    ]
    check.raise_if_any()
    if data.working_group_id is not None and not can_contribute(viewer, data.working_group_id):
        raise Forbidden("only chairs and members record test buys in a working group")
    if data.buyer_person_id is not None:
        people = await orgs_repo.people_by_ids(session, [data.buyer_person_id])
        if not people or people[0].organisation_id != org:
            raise InvalidInput(
                [FieldProblem(("buyerPersonId",), "NOT_FOUND", "no such person of yours")]
            )
    assert verdict is not None
    assert distribution is not None
    assert tlp is not None
    buy = TestBuy(
        id=new_id(),
        owner_org_id=org,
        working_group_id=data.working_group_id,
        distribution=distribution,
        tlp=tlp,
        buyer_person_id=data.buyer_person_id,
        buyer_name=buyer_name or None,
        purchased_at=data.purchased_at,
        platform=platform,
        listing_url=listing_url or None,
        seller=seller,
        order_number=order_number,
        price_minor=price_minor,
        price_currency=currency if price_minor is not None else None,
        shipping_address=shipping or None,
        return_address=returns or None,
        waybill=waybill or None,
        verdict=verdict,
        guide_reference=guide or None,
        features_checked=features,
        note=note or "",
        version=1,
    )
    session.add(buy)
    await session.flush()
    for evidence in files:
        assert evidence is not None
        evidence.test_buy_id = buy.id
        session.add(evidence)
    for assertion_id in confirms:
        try:
            reaction, assertion = await indicators.react(
                session,
                viewer,
                assertion_id,
                indicators.ReactionData(
                    kind=ReactionKind.CONFIRMED_BY_TEST_BUY,
                    platform=platform,
                    occurred_at=data.purchased_at,
                    order_number=order_number,
                    verdict=verdict,
                ),
                settings=settings,
                now=moment,
            )
        except NotFound as exc:
            raise InvalidInput(
                [FieldProblem(("confirmsAssertionIds",), "NOT_FOUND", exc.message)]
            ) from exc
        except InvalidInput as exc:
            raise InvalidInput(
                [
                    FieldProblem(("confirmsAssertionIds", *p.path), p.code, p.message)
                    for p in exc.problems
                ]
            ) from exc
        session.add(
            TestBuyConfirmation(
                id=new_id(),
                test_buy_id=buy.id,
                assertion_id=assertion.id,
                indicator_id=assertion.indicator_id,
                reaction_id=reaction.id,
            )
        )
    await session.flush()
    _record_test_buy(session, buy, Operation.CREATE)
    return buy


# --- cases --------------------------------------------------------------------------------------


async def _next_seq(session: AsyncSession, case_id: uuid.UUID) -> int:
    events = (await repo.events_of(session, [case_id])).get(case_id, [])
    return (events[-1].seq if events else 0) + 1


async def _event(
    session: AsyncSession,
    case: Case,
    kind: CaseEventKind,
    org: uuid.UUID | None,
    actor: str | None,
    moment: datetime,
    **detail: object,
) -> None:
    session.add(
        CaseEvent(
            id=new_id(),
            case_id=case.id,
            seq=await _next_seq(session, case.id),
            kind=kind,
            organisation_id=org,
            actor=actor,
            occurred_at=moment,
            detail={k: v for k, v in detail.items() if v is not None},
        )
    )
    await session.flush()


async def _participant_case(
    session: AsyncSession, viewer: Viewer, case_id: uuid.UUID
) -> tuple[uuid.UUID, Case]:
    org = _member(viewer)
    case = await repo.case_for_update(session, viewer, case_id)
    if case is None:
        raise NotFound("case", str(case_id))
    return org, case


async def _chain_evidence(session: AsyncSession, case: Case, files: Sequence[EvidenceFile]) -> None:
    """Append entries for ``files`` to the case's manifest chain."""
    rows = await repo.manifest_of(session, case.id)
    if len(rows) + len(files) > MAX_EVIDENCE_PER_CASE:
        raise Conflict(f"a case holds at most {MAX_EVIDENCE_PER_CASE} evidence files")
    chain = [manifest.Entry(r.seq, r.fields, r.previous_hash, r.entry_hash) for r in rows]
    orgs = {
        o.id: o.slug
        for o in await orgs_repo.organisations_by_ids(
            session, list({f.received_by_org_id for f in files})
        )
    }
    for f in files:
        entry = manifest.append(
            str(case.id),
            chain,
            {
                "sha256": f.sha256,
                "size": f.size_bytes,
                "filename": f.filename,
                "media_type": f.media_type,
                "kind": f.kind.value,
                "description": f.description,
                "received_at": f.received_at.isoformat(),
                "received_by": f.received_by,
                "received_by_org": orgs.get(f.received_by_org_id, str(f.received_by_org_id)),
            },
        )
        chain.append(entry)
        session.add(
            CaseManifestEntry(
                id=new_id(),
                case_id=case.id,
                seq=entry.seq,
                evidence_file_id=f.id,
                fields=entry.fields,
                previous_hash=entry.previous_hash,
                entry_hash=entry.entry_hash,
            )
        )
    await session.flush()


async def _add_items(
    session: AsyncSession,
    viewer: Viewer,
    case: Case,
    org: uuid.UUID,
    indicator_ids: Sequence[uuid.UUID],
    test_buy_ids: Sequence[uuid.UUID],
    moment: datetime,
) -> dict[str, int]:
    """Add what the viewer sees (anything else is refused by id, as not found)."""
    indicator_ids, test_buy_ids = _unique(indicator_ids), _unique(test_buy_ids)
    if len(indicator_ids) + len(test_buy_ids) > MAX_ITEMS_PER_CALL:
        raise InvalidInput(
            [FieldProblem(("indicatorIds",), "TOO_MANY", f"at most {MAX_ITEMS_PER_CALL} items")]
        )
    seen_indicators = {
        i.id
        for i in await indicators_repo.visible_indicators_by_ids(session, viewer, indicator_ids)
    }
    seen_buys = {
        b.id: b for b in await repo.visible_test_buys_by_ids(session, viewer, test_buy_ids)
    }
    problems = [
        FieldProblem(("indicatorIds", str(n)), "NOT_FOUND", "no such indicator")
        for n, i in enumerate(indicator_ids)
        if i not in seen_indicators
    ] + [
        FieldProblem(("testBuyIds", str(n)), "NOT_FOUND", "no such test buy")
        for n, b in enumerate(test_buy_ids)
        if b not in seen_buys
    ]
    if problems:
        raise InvalidInput(problems)
    existing = (await repo.items_of(session, [case.id])).get(case.id, [])
    have_indicators = {i.indicator_id for i in existing if i.indicator_id}
    have_buys = {i.test_buy_id for i in existing if i.test_buy_id}
    new_indicators = [i for i in indicator_ids if i not in have_indicators]
    new_buys = [b for b in test_buy_ids if b not in have_buys]
    if len(existing) + len(new_indicators) + len(new_buys) > MAX_ITEMS_PER_CASE:
        raise Conflict(f"a case holds at most {MAX_ITEMS_PER_CASE} items")
    for indicator_id in new_indicators:
        session.add(
            CaseItem(
                id=new_id(),
                case_id=case.id,
                indicator_id=indicator_id,
                added_by_org_id=org,
                added_at=moment,
            )
        )
    for buy_id in new_buys:
        session.add(
            CaseItem(
                id=new_id(),
                case_id=case.id,
                test_buy_id=buy_id,
                added_by_org_id=org,
                added_at=moment,
            )
        )
    await session.flush()
    # A test buy's files become the case's evidence, as received (when, by whom).
    attachments = await repo.attachments_of(session, new_buys)
    await _chain_evidence(session, case, [f for b in new_buys for f in attachments.get(b, [])])
    return {"indicators": len(new_indicators), "testBuys": len(new_buys)}


async def open_case(
    session: AsyncSession,
    viewer: Viewer,
    data: CaseData,
    *,
    actor: str,
    now: datetime | None = None,
) -> Case:
    org = _member(viewer)
    moment = now or utcnow()
    check = Checker()
    reference = check.text("reference", data.reference, max_length=64)
    title = check.text("title", data.title, max_length=300)
    summary = check.text("summary", data.summary, max_length=MAX_TEXT, required=False)
    jurisdiction = _jurisdiction(check, data.jurisdiction)
    check.raise_if_any()
    if data.working_group_id is not None and not can_contribute(viewer, data.working_group_id):
        raise Forbidden("only chairs and members open cases in a working group")
    if await repo.case_by_reference(session, org, reference or "") is not None:
        raise Conflict(f"your organisation already has a case {reference!r}")
    indicator_ids = list(data.indicator_ids)
    if data.seller_network_indicator_id is not None:
        network = await indicators.seller_network(session, viewer, data.seller_network_indicator_id)
        if network is None:
            raise InvalidInput(
                [FieldProblem(("sellerNetworkIndicatorId",), "NOT_FOUND", "no such indicator")]
            )
        indicator_ids += [i.id for i in network.indicators]
    case = Case(
        id=new_id(),
        reference=reference,
        title=title,
        summary=summary or "",
        owner_org_id=org,
        working_group_id=data.working_group_id,
        jurisdiction=jurisdiction,
        status=CaseStatus.OPEN,
        seller_network_indicator_id=data.seller_network_indicator_id,
        opened_at=moment,
        version=1,
    )
    session.add(case)
    await session.flush()
    session.add(
        CaseParticipant(
            id=new_id(),
            case_id=case.id,
            organisation_id=org,
            role=ParticipantRole.OPENER,
            added_at=moment,
        )
    )
    await session.flush()
    await _event(session, case, CaseEventKind.OPENED, org, actor, moment, reference=reference)
    added = await _add_items(session, viewer, case, org, indicator_ids, data.test_buy_ids, moment)
    if any(added.values()):
        await _event(session, case, CaseEventKind.ITEMS_ADDED, org, actor, moment, **added)
    _record_case(session, case, Operation.CREATE)
    return case


async def _add_participant(
    session: AsyncSession,
    case: Case,
    organisation_id: uuid.UUID,
    role: ParticipantRole | None,
    moment: datetime,
) -> bool:
    participants = (await repo.participants_of(session, [case.id])).get(case.id, [])
    if any(p.organisation_id == organisation_id for p in participants):
        return False
    found = await orgs_repo.organisations_by_ids(session, [organisation_id])
    if not found:
        raise NotFound("organisation", str(organisation_id))
    if role is None:
        role = (
            ParticipantRole.PLATFORM
            if found[0].kind == OrganisationKind.PLATFORM
            else ParticipantRole.CONTRIBUTOR
        )
    session.add(
        CaseParticipant(
            id=new_id(),
            case_id=case.id,
            organisation_id=organisation_id,
            role=role,
            added_at=moment,
        )
    )
    await session.flush()
    return True


async def add_to_case(
    session: AsyncSession,
    viewer: Viewer,
    case_id: uuid.UUID,
    *,
    indicator_ids: Sequence[uuid.UUID] = (),
    test_buy_ids: Sequence[uuid.UUID] = (),
    organisation_ids: Sequence[uuid.UUID] = (),
    actor: str,
    now: datetime | None = None,
) -> CaseChange:
    """Participants add what they see; the opener (alone) adds organisations to the case.
    The enforcement organisation adding to an accepted case starts the investigation."""
    moment = now or utcnow()
    org, case = await _participant_case(session, viewer, case_id)
    if case.status == CaseStatus.CLOSED:
        raise Conflict("the case is closed")
    if organisation_ids and org != case.owner_org_id:
        raise Forbidden("only the organisation that opened the case adds organisations to it")
    added = await _add_items(session, viewer, case, org, indicator_ids, test_buy_ids, moment)
    if any(added.values()):
        await _event(session, case, CaseEventKind.ITEMS_ADDED, org, actor, moment, **added)
    joined = 0
    for organisation_id in _unique(organisation_ids)[:MAX_ITEMS_PER_CALL]:
        if await _add_participant(session, case, organisation_id, None, moment):
            joined += 1
            await _event(
                session,
                case,
                CaseEventKind.PARTICIPANT_ADDED,
                org,
                actor,
                moment,
                organisation_id=str(organisation_id),
            )
    added["organisations"] = joined
    if (
        case.status == CaseStatus.ACCEPTED
        and org == case.enforcement_org_id
        and any(added.values())
    ):
        case.status = CaseStatus.INVESTIGATING
        await _event(session, case, CaseEventKind.INVESTIGATING, org, actor, moment)
    if any(added.values()):
        case.version += 1
        await session.flush()
        _record_case(session, case, Operation.UPDATE)
    return CaseChange(case, added)


async def refer_case(
    session: AsyncSession,
    viewer: Viewer,
    case_id: uuid.UUID,
    enforcement_org_id: uuid.UUID,
    *,
    note: str = "",
    actor: str,
    now: datetime | None = None,
) -> Case:
    moment = now or utcnow()
    org, case = await _participant_case(session, viewer, case_id)
    if org != case.owner_org_id:
        raise Forbidden("only the organisation that opened the case refers it")
    if case.status != CaseStatus.OPEN:
        raise Conflict(f"a {case.status.value} case cannot be referred")
    check = Checker()
    cleaned = check.text("note", note, max_length=MAX_TEXT, required=False)
    check.raise_if_any()
    found = await orgs_repo.organisations_by_ids(session, [enforcement_org_id])
    if not found:
        raise NotFound("organisation", str(enforcement_org_id))
    if found[0].kind != OrganisationKind.ENFORCEMENT:
        raise InvalidInput(
            [
                FieldProblem(
                    ("enforcementOrganisationId",),
                    "NOT_ENFORCEMENT",
                    "is not an enforcement organisation",
                )
            ]
        )
    if not await _add_participant(
        session, case, enforcement_org_id, ParticipantRole.ENFORCEMENT, moment
    ):
        participants = (await repo.participants_of(session, [case.id]))[case.id]
        for p in participants:
            if p.organisation_id == enforcement_org_id:
                p.role = ParticipantRole.ENFORCEMENT
    case.status = CaseStatus.REFERRED
    case.enforcement_org_id = enforcement_org_id
    case.referred_at = moment
    case.decline_reason = None
    case.version += 1
    await session.flush()
    await _event(
        session,
        case,
        CaseEventKind.REFERRED,
        org,
        actor,
        moment,
        enforcement_organisation_id=str(enforcement_org_id),
        note=cleaned or None,
    )
    _record_case(session, case, Operation.UPDATE)
    return case


async def _referred_to_viewer(
    session: AsyncSession, viewer: Viewer, case_id: uuid.UUID
) -> tuple[uuid.UUID, Case]:
    org, case = await _participant_case(session, viewer, case_id)
    if case.status != CaseStatus.REFERRED:
        raise Conflict(f"the case is {case.status.value}, not REFERRED")
    if case.enforcement_org_id != org:
        raise Forbidden("only the organisation the case is referred to may answer the referral")
    return org, case


async def accept_case(
    session: AsyncSession,
    viewer: Viewer,
    case_id: uuid.UUID,
    *,
    note: str = "",
    actor: str,
    now: datetime | None = None,
) -> Case:
    moment = now or utcnow()
    org, case = await _referred_to_viewer(session, viewer, case_id)
    case.status = CaseStatus.ACCEPTED
    case.accepted_at = moment
    case.version += 1
    await session.flush()
    await _event(
        session, case, CaseEventKind.ACCEPTED, org, actor, moment, note=note[:MAX_TEXT] or None
    )
    _record_case(session, case, Operation.UPDATE)
    return case


async def decline_case(
    session: AsyncSession,
    viewer: Viewer,
    case_id: uuid.UUID,
    *,
    reason: str,
    actor: str,
    now: datetime | None = None,
) -> Case:
    """Back to OPEN, to be referred elsewhere; the declining organisation stays a participant
    (it has seen the case) and the timeline keeps its reason."""
    moment = now or utcnow()
    check = Checker()
    cleaned = check.text("reason", reason, max_length=MAX_TEXT)
    check.raise_if_any()
    org, case = await _referred_to_viewer(session, viewer, case_id)
    case.status = CaseStatus.OPEN
    case.enforcement_org_id = None
    case.decline_reason = cleaned
    case.version += 1
    await session.flush()
    await _event(session, case, CaseEventKind.DECLINED, org, actor, moment, reason=cleaned)
    _record_case(session, case, Operation.UPDATE)
    return case


async def close_case(
    session: AsyncSession,
    viewer: Viewer,
    case_id: uuid.UUID,
    outcome: Outcome,
    *,
    actor: str,
    now: datetime | None = None,
) -> Case:
    """The enforcement organisation closes an accepted case with its outcome; the opener may
    close (withdraw) a case nobody has accepted, with no action."""
    moment = now or utcnow()
    org, case = await _participant_case(session, viewer, case_id)
    if case.status == CaseStatus.CLOSED:
        raise Conflict("the case is closed already")
    if case.status == CaseStatus.REFERRED:
        raise Conflict("the case awaits the enforcement organisation's answer")
    if case.status in (CaseStatus.ACCEPTED, CaseStatus.INVESTIGATING):
        if org != case.enforcement_org_id:
            raise Forbidden("only the enforcement organisation closes an accepted case")
    elif org != case.owner_org_id:
        raise Forbidden("only the organisation that opened the case withdraws it")
    check = Checker()
    for name, value in (
        ("suspects", outcome.suspects),
        ("sitesClosed", outcome.sites_closed),
        ("prosecutions", outcome.prosecutions),
    ):
        if not 0 <= value <= 1_000_000:
            check.fail(f"outcome.{name}", "OUT_OF_RANGE", "must be between 0 and 1000000")
    seized, currency = _minor(check, "outcome.seizedValue", outcome.seized_value)
    note = check.text("outcome.note", outcome.note, max_length=MAX_TEXT, required=False)
    achieved = outcome.suspects or outcome.sites_closed or outcome.prosecutions or seized
    if outcome.no_action and achieved:
        check.fail("outcome.noAction", "CONTRADICTS_OUTCOME", "no action, yet an outcome given")
    if case.status not in (CaseStatus.ACCEPTED, CaseStatus.INVESTIGATING) and achieved:
        check.fail("outcome", "NOT_ACCEPTED", "a case nobody accepted closes with no action")
    check.raise_if_any()
    case.status = CaseStatus.CLOSED
    case.closed_at = moment
    case.outcome_suspects = outcome.suspects
    case.outcome_seized_minor = seized
    case.outcome_seized_currency = currency if seized is not None else None
    case.outcome_sites_closed = outcome.sites_closed
    case.outcome_prosecutions = outcome.prosecutions
    case.outcome_no_action = outcome.no_action or not achieved
    case.outcome_note = note or None
    case.version += 1
    await session.flush()
    await _event(
        session, case, CaseEventKind.CLOSED, org, actor, moment, no_action=case.outcome_no_action
    )
    _record_case(session, case, Operation.UPDATE)
    return case


async def case_of_participant(session: AsyncSession, viewer: Viewer, case_id: uuid.UUID) -> Case:
    case = await repo.visible_case(session, viewer, case_id)
    if case is None:
        raise NotFound("case", str(case_id))
    return case


async def check_sales_records_allowed(
    session: AsyncSession, viewer: Viewer, case_id: uuid.UUID
) -> tuple[uuid.UUID, Case]:
    """Whether the viewer may attach sales records (checked before the file is stored too)."""
    org, case = await _participant_case(session, viewer, case_id)
    found = await orgs_repo.organisations_by_ids(session, [org])
    if not found or found[0].kind != OrganisationKind.PLATFORM:
        raise Forbidden("only a platform organisation attaches sales records")
    if case.status == CaseStatus.CLOSED:
        raise Conflict("the case is closed")
    return org, case


async def attach_sales_records(
    session: AsyncSession,
    viewer: Viewer,
    case_id: uuid.UUID,
    attachment: Attachment,
    *,
    period_start: date,
    period_end: date,
    actor: str,
    now: datetime | None = None,
) -> EvidenceFile:
    """A platform organisation taking part in the case attaches its sales records."""
    moment = now or utcnow()
    org, case = await check_sales_records_allowed(session, viewer, case_id)
    check = Checker()
    if period_end < period_start:
        check.fail("periodEnd", "BEFORE_START", "must not be before periodStart")
    evidence = _evidence(
        check,
        "file",
        Attachment(
            attachment.stored,
            attachment.filename,
            attachment.media_type,
            EvidenceKind.SALES_RECORDS,
            attachment.description,
        ),
        org=org,
        actor=actor,
        moment=moment,
    )
    if not attachment.description.strip():
        check.fail("description", "REQUIRED", "say what the records are")
    check.raise_if_any()
    assert evidence is not None
    evidence.case_id = case.id
    evidence.period_start = period_start
    evidence.period_end = period_end
    session.add(evidence)
    await session.flush()
    await _chain_evidence(session, case, [evidence])
    await _event(
        session,
        case,
        CaseEventKind.SALES_RECORDS_ATTACHED,
        org,
        actor,
        moment,
        sha256=evidence.sha256,
        filename=evidence.filename,
        period=f"{period_start.isoformat()}/{period_end.isoformat()}",
    )
    case.version += 1
    await session.flush()
    _record_case(session, case, Operation.UPDATE)
    return evidence

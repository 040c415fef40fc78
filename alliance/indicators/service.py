"""Indicators, assertions, reactions, proposals and allowlists: the only place they are written.

Services take the session and the :class:`~alliance.sharing.policy.Viewer` acting (load it with
:func:`alliance.sharing.service.load_viewer`, or :func:`viewer_of_organisation` in a task),
raise domain errors and never commit. Every write of an assertion, reaction, proposal or
allowlist entry records a change with that object's visibility.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from alliance.changelog.models import Operation
from alliance.changelog.service import record_change
from alliance.config import IndicatorSettings
from alliance.db import new_id, utcnow
from alliance.errors import Conflict, DomainError, FieldProblem, Forbidden, InvalidInput, NotFound
from alliance.indicators import repository as repo
from alliance.indicators import scoring
from alliance.indicators.errors import InvalidIndicator
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.models import (
    AllowlistEntry,
    AllowlistKind,
    AssertionStatus,
    Indicator,
    IndicatorAssertion,
    IndicatorLink,
    IndicatorMatchKey,
    IndicatorProposal,
    IndicatorReaction,
    LinkReason,
    ProposalState,
    ReactionKind,
    RevocationReason,
    Severity,
    SubmissionBatch,
    TestBuyVerdict,
)
from alliance.indicators.normalise import normalise
from alliance.indicators.normalised import Normalised
from alliance.orgs import repository as orgs_repo
from alliance.sharing import TLP, Distribution
from alliance.sharing.policy import (
    Seat,
    Viewer,
    ViewerKind,
    Visibility,
    can_contribute,
    can_see,
)
from alliance.validation import Checker

ASSERTION_KIND = "indicator.assertion"
REACTION_KIND = "indicator.reaction"
PROPOSAL_KIND = "indicator.proposal"
ALLOWLIST_KIND = "indicator.allowlist_entry"

MAX_LIST_ITEMS = 20
MAX_TAG_LENGTH = 100
MAX_LINK_LENGTH = 2048
MAX_NOTE_LENGTH = 10_000
MAX_GROUP_KEY_LENGTH = 200
EXPIRY_BATCH = 500

# Broader distributions first never: a reaction or proposal may narrow what it attaches to.
_DISTRIBUTION_RANK = {
    Distribution.ORGANISATION: 0,
    Distribution.WORKING_GROUP: 1,
    Distribution.ALLIANCE: 2,
    Distribution.FEDERATION: 3,
}
_TLP_RANK = {TLP.RED: 0, TLP.AMBER_STRICT: 1, TLP.AMBER: 2, TLP.GREEN: 3, TLP.CLEAR: 4}

# Indicator types a seller network may pass through: the seller and what identifies it. A
# keyword or a GTIN is shared by thousands of unrelated sellers and would join them all.
NETWORK_TYPES = frozenset(
    {
        IndicatorType.SELLER_ACCOUNT,
        IndicatorType.STOREFRONT_URL,
        IndicatorType.LISTING_URL,
        IndicatorType.DOMAIN,
        IndicatorType.PHONE,
        IndicatorType.EMAIL,
        IndicatorType.PAYMENT_ACCOUNT,
        IndicatorType.ADDRESS,
        IndicatorType.WAYBILL,
        IndicatorType.IMAGE_PHASH,
        IndicatorType.IMAGE_PDQ,
    }
)


# --- inputs and results ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Submission:
    """One indicator as an organisation submits it: a value in any form, and its assertion."""

    type: IndicatorType | str
    value: str
    country: str | None = None
    # The type's own parts: platform of a seller account, carrier of a waybill, address
    # components… (see ``alliance.indicators.normalise``).
    parts: Mapping[str, object] = field(default_factory=dict)
    working_group_id: uuid.UUID | None = None
    distribution: Distribution | str = Distribution.WORKING_GROUP
    tlp: TLP | str = TLP.AMBER
    confidence: int = 50
    severity: Severity | str = Severity.MEDIUM
    brands: Sequence[str] = ()
    product_category: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    note: str = ""
    tags: Sequence[str] = ()
    evidence_links: Sequence[str] = ()
    # Submitted together (one test buy, one case): the organisation's assertions sharing a
    # group key are linked, which is what seller networks are made of.
    group_key: str | None = None


@dataclass(frozen=True, slots=True)
class ItemResult:
    """The outcome of one submission: an assertion (new or updated) or the error refusing it.
    Problem paths are relative to the item (``value``, ``parts.platform``, ``workingGroupId``)."""

    index: int
    indicator: Indicator | None = None
    assertion: IndicatorAssertion | None = None
    created: bool = False
    error: DomainError | None = None


def digest(type: IndicatorType, value: str) -> str:
    return hashlib.sha256(f"{type.value}:{value}".encode()).hexdigest()


def visibility_of(obj: Any) -> Visibility:
    return Visibility(obj.owner_org_id, obj.working_group_id, obj.distribution, obj.tlp)


async def viewer_of_organisation(session: AsyncSession, organisation_id: uuid.UUID) -> Viewer:
    """The viewer acting for an organisation with all its seats (background tasks, demo)."""
    seats = await orgs_repo.memberships_of_organisation(session, organisation_id)
    return Viewer.member(organisation_id, (Seat(m.working_group_id, m.role) for m in seats))


def _require_member(viewer: Viewer) -> uuid.UUID:
    if viewer.kind != ViewerKind.MEMBER or viewer.organisation_id is None:
        raise Forbidden("only an organisation of this instance may write indicators")
    return viewer.organisation_id


def _record(
    session: AsyncSession,
    kind: str,
    obj: Any,
    operation: Operation,
    previous: Visibility | None = None,
    reason: str | None = None,
) -> None:
    record_change(
        session,
        kind=kind,
        object_id=obj.id,
        version=obj.version,
        operation=operation,
        distribution=obj.distribution,
        tlp=obj.tlp,
        owner_org_id=obj.owner_org_id,
        working_group_id=obj.working_group_id,
        # Kept by the change log only when it narrows the visibility: readers who lose
        # sight of the object are told to drop it.
        previous=previous,
        reason=reason,
    )


# --- checking one submission ---------------------------------------------------------------------


def _clean_list(
    check: Checker, name: str, values: Sequence[str], *, max_length: int, fold: bool = False
) -> list[str]:
    if len(values) > MAX_LIST_ITEMS:
        check.fail(name, "TOO_MANY", f"at most {MAX_LIST_ITEMS} values")
        return []
    cleaned: list[str] = []
    for position, raw in enumerate(values):
        text = (raw or "").strip()
        if not text:
            check.problems.append(FieldProblem((name, str(position)), "BLANK", "must not be empty"))
        elif len(text) > max_length:
            check.problems.append(
                FieldProblem(
                    (name, str(position)), "TOO_LONG", f"must be at most {max_length} characters"
                )
            )
        else:
            value = text.casefold() if fold else text
            if value not in cleaned:
                cleaned.append(value)
    return cleaned


def _check_links(check: Checker, links: list[str]) -> None:
    for position, link in enumerate(links):
        if not link.startswith(("https://", "http://")):
            check.problems.append(
                FieldProblem(
                    ("evidenceLinks", str(position)), "INVALID_URL", "must be an http(s):// URL"
                )
            )


@dataclass(frozen=True, slots=True)
class _Checked:
    normalised: Normalised
    digest: str
    working_group_id: uuid.UUID | None
    distribution: Distribution
    tlp: TLP
    confidence: int
    severity: Severity
    brands: list[str]
    product_category: str | None
    valid_from: datetime | None
    valid_until: datetime | None
    note: str
    tags: list[str]
    evidence_links: list[str]
    group_key: str | None
    details: dict[str, Any]


def _problem_path(field: str) -> tuple[str, ...]:
    return (field,) if field in ("type", "value", "country") else ("parts", field)


def _normalise(item: Submission) -> Normalised:
    try:
        return normalise(item.type, item.value, country=item.country, **dict(item.parts))
    except InvalidIndicator as exc:
        raise InvalidInput([FieldProblem(_problem_path(exc.field), exc.code, exc.message)]) from exc


def _check_visibility(
    check: Checker,
    working_group_id: uuid.UUID | None,
    distribution: Distribution | str,
    tlp: TLP | str,
) -> tuple[Distribution | None, TLP | None]:
    dist = check.choice("distribution", distribution, Distribution)
    marking = check.choice("tlp", tlp, TLP)
    if dist == Distribution.WORKING_GROUP and working_group_id is None:
        check.fail(
            "workingGroupId", "REQUIRED", "a WORKING_GROUP distribution needs a working group"
        )
    return dist, marking


def _require_contribution(viewer: Viewer, working_group_id: uuid.UUID | None) -> None:
    if not can_contribute(viewer, working_group_id):
        raise Forbidden(
            "only chairs and members of a working group contribute to it (observers read)"
        )


def _check(viewer: Viewer, item: Submission) -> _Checked:
    check = Checker()
    normalised: Normalised | None = None
    try:
        normalised = _normalise(item)
    except InvalidInput as exc:
        check.problems.extend(exc.problems)
    dist, marking = _check_visibility(check, item.working_group_id, item.distribution, item.tlp)
    if not 0 <= item.confidence <= 100:
        check.fail("confidence", "OUT_OF_RANGE", "must be between 0 and 100")
    severity = check.choice("severity", item.severity, Severity)
    brands = _clean_list(check, "brands", item.brands, max_length=200, fold=True)
    tags = _clean_list(check, "tags", item.tags, max_length=MAX_TAG_LENGTH, fold=True)
    links = _clean_list(check, "evidenceLinks", item.evidence_links, max_length=MAX_LINK_LENGTH)
    _check_links(check, links)
    category = check.text("productCategory", item.product_category, max_length=100, required=False)
    note = check.text("note", item.note, max_length=MAX_NOTE_LENGTH, required=False) or ""
    group_key = check.text(
        "groupKey", item.group_key, max_length=MAX_GROUP_KEY_LENGTH, required=False
    )
    for name, moment in (("validFrom", item.valid_from), ("validUntil", item.valid_until)):
        if moment is not None and moment.tzinfo is None:
            check.fail(name, "NAIVE_DATETIME", "must carry a time zone")
    if (
        item.valid_from is not None
        and item.valid_until is not None
        and item.valid_from.tzinfo is not None
        and item.valid_until.tzinfo is not None
        and item.valid_until <= item.valid_from
    ):
        check.fail("validUntil", "BEFORE_VALID_FROM", "must be later than validFrom")
    check.raise_if_any()
    assert normalised is not None
    assert dist is not None
    assert marking is not None
    assert severity is not None
    _require_contribution(viewer, item.working_group_id)
    details: dict[str, Any] = dict(normalised.details)
    return _Checked(
        normalised=normalised,
        digest=digest(normalised.type, normalised.value),
        working_group_id=item.working_group_id,
        distribution=dist,
        tlp=marking,
        confidence=item.confidence,
        severity=severity,
        brands=brands,
        product_category=category or None,
        valid_from=item.valid_from,
        valid_until=item.valid_until,
        note=note,
        tags=tags,
        evidence_links=links,
        group_key=group_key or None,
        details=details,
    )


def _allowlisted(viewer: Viewer, entries: list[AllowlistEntry]) -> InvalidInput:
    """The refusal names the entry only to a viewer who may see it."""
    shown = next((e for e in entries if can_see(viewer, visibility_of(e))), None)
    if shown is None:
        message = "is on a brand's allowlist (an official store, distributor or product image)"
    else:
        message = (
            f"is on the allowlist of {shown.brand}: {shown.kind.value.lower().replace('_', ' ')} "
            f"{shown.label!r} (entry {shown.id})"
        )
    return InvalidInput([FieldProblem(("value",), "ALLOWLISTED", message)])


# --- submitting ---------------------------------------------------------------------------------


def request_digest(items: Sequence[Submission]) -> str:
    def encode(item: Submission) -> dict[str, Any]:
        return {
            k: (
                v.isoformat()
                if isinstance(v, datetime)
                else str(v)
                if isinstance(v, uuid.UUID)
                else dict(v)
                if isinstance(v, Mapping)
                else list(v)
                if isinstance(v, tuple | list)
                else v
            )
            for k, v in ((name, getattr(item, name)) for name in item.__dataclass_fields__)
        }

    text = json.dumps([encode(i) for i in items], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _stored_error(error: DomainError) -> dict[str, Any]:
    if isinstance(error, InvalidInput):
        return {
            "code": error.code,
            "problems": [
                {"path": list(p.path), "code": p.code, "message": p.message} for p in error.problems
            ],
        }
    return {"code": error.code, "message": error.message}


def _restored_error(stored: dict[str, Any]) -> DomainError:
    if stored["code"] == InvalidInput.code:
        return InvalidInput(
            [FieldProblem(tuple(p["path"]), p["code"], p["message"]) for p in stored["problems"]]
        )
    if stored["code"] == Forbidden.code:
        return Forbidden(stored["message"])
    return Conflict(stored["message"])


async def _replay(
    session: AsyncSession, batch: SubmissionBatch, digest_now: str
) -> list[ItemResult]:
    if batch.request_digest != digest_now:
        raise Conflict(
            "this idempotency key was used for a different batch; use a new key for new work"
        )
    assertion_ids = [uuid.UUID(r["assertion_id"]) for r in batch.results if "assertion_id" in r]
    assertions = {a.id: a for a in await repo.assertions_by_ids(session, assertion_ids)}
    indicators = {
        i.id: i
        for i in await repo.indicators_by_ids(
            session, list({a.indicator_id for a in assertions.values()})
        )
    }
    results = []
    for index, stored in enumerate(batch.results):
        if "assertion_id" in stored:
            assertion = assertions[uuid.UUID(stored["assertion_id"])]
            results.append(
                ItemResult(
                    index,
                    indicators[assertion.indicator_id],
                    assertion,
                    created=bool(stored["created"]),
                )
            )
        else:
            results.append(ItemResult(index, error=_restored_error(stored["error"])))
    return results


async def submit(
    session: AsyncSession,
    viewer: Viewer,
    items: Sequence[Submission],
    *,
    idempotency_key: str | None = None,
    settings: IndicatorSettings | None = None,
    now: datetime | None = None,
) -> list[ItemResult]:
    """Submit indicators as ``viewer``'s organisation: one result per item, in order.

    Each value is normalised; the one canonical indicator of its (type, value) is found or
    made, and the organisation's assertion on it in that working group is made or updated.
    Items refused (invalid, allowlisted, or in a group the organisation may not contribute
    to) carry their error and write nothing; the others are written. A constant number of
    queries per batch, whatever its size. With ``idempotency_key`` the same batch sent again
    returns the first outcome and writes nothing; a different batch under that key is a
    ``Conflict``.
    """
    owner = _require_member(viewer)
    limits = settings or IndicatorSettings()
    if len(items) > limits.max_batch_size:
        raise InvalidInput(
            [FieldProblem(("items",), "TOO_MANY", f"at most {limits.max_batch_size} items")]
        )
    moment = now or utcnow()
    batch_digest = request_digest(items) if idempotency_key is not None else ""
    if idempotency_key is not None:
        check = Checker()
        key = check.text("idempotencyKey", idempotency_key, max_length=200)
        check.raise_if_any()
        assert key is not None
        idempotency_key = key
        stored = await repo.submission_batch(session, owner, idempotency_key)
        if stored is not None:
            return await _replay(session, stored, batch_digest)

    results: dict[int, ItemResult] = {}
    checked: dict[int, _Checked] = {}
    for index, item in enumerate(items):
        try:
            checked[index] = _check(viewer, item)
        except DomainError as exc:
            results[index] = ItemResult(index, error=exc)

    # One round of queries for the whole batch from here on.
    hits: dict[str, list[AllowlistEntry]] = defaultdict(list)
    for entry in await repo.allowlist_hits(session, list({c.digest for c in checked.values()})):
        hits[entry.value_digest].append(entry)
    for index, c in list(checked.items()):
        if c.digest in hits:
            results[index] = ItemResult(index, error=_allowlisted(viewer, hits[c.digest]))
            del checked[index]

    indicators = {
        i.value_digest: i
        for i in await repo.indicators_by_digests(
            session, list({c.digest for c in checked.values()})
        )
    }
    for c in checked.values():
        if c.digest not in indicators:
            indicator = Indicator(
                id=new_id(),
                type=c.normalised.type,
                value=c.normalised.value,
                value_digest=c.digest,
                details={},
                version=1,
            )
            session.add(indicator)
            for name, key_value in c.normalised.match_keys:
                session.add(
                    IndicatorMatchKey(indicator_id=indicator.id, name=name, value=key_value[:1024])
                )
            indicators[c.digest] = indicator
    await _flush_new_indicators(session)

    indicators_by_id = {i.id: i for i in indicators.values()}
    mine: dict[tuple[uuid.UUID, uuid.UUID | None], IndicatorAssertion] = {}
    for a in await repo.own_assertions(session, owner, [i.id for i in indicators.values()]):
        mine.setdefault((a.indicator_id, a.working_group_id), a)
    updated_before: dict[uuid.UUID, Visibility] = {}
    created_ids: set[uuid.UUID] = set()
    written: dict[uuid.UUID, IndicatorAssertion] = {}
    for index, c in sorted(checked.items()):
        indicator = indicators[c.digest]
        assertion = mine.get((indicator.id, c.working_group_id))
        if assertion is None:
            assertion = IndicatorAssertion(
                id=new_id(),
                indicator_id=indicator.id,
                owner_org_id=owner,
                status=AssertionStatus.ACTIVE,
                first_seen_at=moment,
                version=1,
                score=0.0,
            )
            session.add(assertion)
            mine[(indicator.id, c.working_group_id)] = assertion
            created_ids.add(assertion.id)
        elif assertion.id not in created_ids and assertion.id not in updated_before:
            # One new version per batch, however often the batch repeats the value.
            updated_before[assertion.id] = visibility_of(assertion)
            assertion.version += 1
        _apply(assertion, c, moment)
        written[assertion.id] = assertion
        results[index] = ItemResult(
            index, indicator, assertion, created=assertion.id in created_ids
        )

    await _narrow_attachments(
        session,
        [
            written[aid]
            for aid, before in updated_before.items()
            if _narrower(visibility_of(written[aid]), before)
        ],
    )
    await _link_groups(session, owner, checked, results)
    types = {a.id: indicators_by_id[a.indicator_id].type for a in written.values()}
    await _refresh_scores(session, list(written.values()), types, limits, moment)
    await session.flush()
    for assertion in written.values():
        if assertion.id in created_ids:
            _record(session, ASSERTION_KIND, assertion, Operation.CREATE)
        else:
            _record(
                session,
                ASSERTION_KIND,
                assertion,
                Operation.UPDATE,
                previous=updated_before[assertion.id],
            )
    ordered = [results[i] for i in range(len(items))]
    if idempotency_key is not None:
        session.add(
            SubmissionBatch(
                organisation_id=owner,
                idempotency_key=idempotency_key,
                request_digest=batch_digest,
                results=[
                    {"assertion_id": str(r.assertion.id), "created": r.created}
                    if r.assertion is not None
                    else {"error": _stored_error(r.error)}  # type: ignore[arg-type]
                    for r in ordered
                ],
            )
        )
    await session.flush()
    return ordered


async def _flush_new_indicators(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        # Another transaction made one of these indicators between our read and our write.
        raise Conflict(
            "another submission of one of these values was written at the same moment; "
            "send it again"
        ) from exc


def _narrower(after: Visibility, before: Visibility) -> bool:
    return (
        _DISTRIBUTION_RANK[after.distribution] < _DISTRIBUTION_RANK[before.distribution]
        or _TLP_RANK[after.tlp] < _TLP_RANK[before.tlp]
        or after.working_group_id != before.working_group_id
    )


async def _narrow_attachments(session: AsyncSession, narrowed: list[IndicatorAssertion]) -> None:
    """Reactions and proposals are never broader than their assertion: when it narrows, those
    it had follow (one query for the batch), and their change rows keep what they had, so
    readers who lose sight of them are told to drop them."""
    if not narrowed:
        return
    by_id = {a.id: a for a in narrowed}
    for attached in await repo.attached_to(session, list(by_id)):
        assertion = by_id[attached.assertion_id]
        before = visibility_of(attached)
        if _DISTRIBUTION_RANK[assertion.distribution] < _DISTRIBUTION_RANK[attached.distribution]:
            attached.distribution = assertion.distribution
        if _TLP_RANK[assertion.tlp] < _TLP_RANK[attached.tlp]:
            attached.tlp = assertion.tlp
        attached.working_group_id = assertion.working_group_id
        if visibility_of(attached) == before:
            continue
        attached.version += 1
        kind = REACTION_KIND if isinstance(attached, IndicatorReaction) else PROPOSAL_KIND
        _record(session, kind, attached, Operation.UPDATE, previous=before)


def _apply(assertion: IndicatorAssertion, c: _Checked, moment: datetime) -> None:
    assertion.working_group_id = c.working_group_id
    assertion.distribution = c.distribution
    assertion.tlp = c.tlp
    assertion.confidence = c.confidence
    assertion.severity = c.severity
    assertion.brands = c.brands
    assertion.product_category = c.product_category
    assertion.valid_from = c.valid_from
    assertion.valid_until = c.valid_until
    assertion.note = c.note
    assertion.tags = c.tags
    assertion.evidence_links = c.evidence_links
    assertion.details = c.details
    if c.group_key is not None:
        assertion.group_key = c.group_key
    assertion.last_seen_at = moment
    if c.valid_until is not None and c.valid_until <= moment:
        assertion.status = AssertionStatus.EXPIRED
    elif assertion.status == AssertionStatus.EXPIRED:
        assertion.status = AssertionStatus.ACTIVE


async def _link_groups(
    session: AsyncSession,
    owner: uuid.UUID,
    checked: dict[int, _Checked],
    results: dict[int, ItemResult],
) -> None:
    """Link every assertion of a group key to the group's first (its anchor): a star keeps
    the group connected with one link per member."""
    members: dict[str, list[IndicatorAssertion]] = defaultdict(list)
    for index, c in checked.items():
        assertion = results[index].assertion
        if c.group_key is not None and assertion is not None:
            if assertion not in members[c.group_key]:
                members[c.group_key].append(assertion)
    if not members:
        return
    anchors = {
        a.group_key: a for a in await repo.own_group_assertions(session, owner, list(members))
    }
    pairs: list[tuple[IndicatorAssertion, IndicatorAssertion, str]] = []
    for key, group in members.items():
        anchor = anchors.get(key) or min(group, key=lambda a: a.id)
        for a in group:
            if a.id != anchor.id:
                first, second = sorted((anchor, a), key=lambda x: x.id)
                pairs.append((first, second, key))
    known = await repo.existing_links(session, [(s.id, t.id) for s, t, _ in pairs])
    for source, target, key in pairs:
        if (source.id, target.id) in known:
            continue
        known.add((source.id, target.id))
        session.add(
            IndicatorLink(
                source_id=source.id,
                target_id=target.id,
                source_indicator_id=source.indicator_id,
                target_indicator_id=target.indicator_id,
                reason=LinkReason.SUBMITTED_TOGETHER,
                group_key=key,
            )
        )


async def _refresh_scores(
    session: AsyncSession,
    assertions: list[IndicatorAssertion],
    types: Mapping[uuid.UUID, IndicatorType],
    settings: IndicatorSettings,
    now: datetime,
) -> None:
    """Store each assertion's own score and status (from the reactions sharing its visibility)."""
    tallies = await repo.tallies_for_assertions(session, assertions)
    for a in assertions:
        tally = tallies.get(a.id, repo.Tally())
        a.score = scoring.score(
            evidence_of(a, types[a.id], tally), now=now, half_life_days=settings.half_life_days
        )
        if a.status in repo.LIVE_STATUSES:
            a.status = (
                AssertionStatus.DISPUTED
                if scoring.disputed(
                    disputes=tally.disputes, test_buys=tally.test_buys, seen_too=tally.seen_too
                )
                else AssertionStatus.ACTIVE
            )


def evidence_of(
    a: IndicatorAssertion, type: IndicatorType, tally: repo.Tally, *, asserting: int = 1
) -> scoring.Evidence:
    return scoring.Evidence(
        type=type,
        confidence=a.confidence,
        last_seen_at=a.last_seen_at,
        asserting_organisations=asserting,
        seen_too=tally.seen_too,
        test_buys=tally.test_buys,
        disputes=tally.disputes,
        outdated=tally.outdated,
    )


# --- reading -------------------------------------------------------------------------------------


async def lookup(
    session: AsyncSession,
    viewer: Viewer,
    type: IndicatorType | str,
    value: str,
    *,
    country: str | None = None,
    parts: Mapping[str, object] | None = None,
) -> Indicator | None:
    """Normalise, then find the canonical indicator if the viewer sees an assertion on it."""
    normalised = _normalise(Submission(type=type, value=value, country=country, parts=parts or {}))
    return await repo.visible_indicator_by_digest(
        session, viewer, digest(normalised.type, normalised.value)
    )


async def _visible_assertion(
    session: AsyncSession, viewer: Viewer, assertion_id: uuid.UUID
) -> IndicatorAssertion:
    found = await repo.visible_assertions_by_ids(session, viewer, [assertion_id])
    if not found:
        raise NotFound("assertion", str(assertion_id))
    return found[0]


async def _owned_assertion(
    session: AsyncSession, viewer: Viewer, assertion_id: uuid.UUID
) -> IndicatorAssertion:
    owner = _require_member(viewer)
    assertion = await _visible_assertion(session, viewer, assertion_id)
    if assertion.owner_org_id != owner:
        raise Forbidden("only the organisation that made an assertion may change it")
    return assertion


async def _type_of(session: AsyncSession, assertion: IndicatorAssertion) -> IndicatorType:
    indicator = await session.get(Indicator, assertion.indicator_id)
    assert indicator is not None
    return indicator.type


# --- revoking and expiring -------------------------------------------------------------------------


async def revoke(
    session: AsyncSession,
    viewer: Viewer,
    assertion_id: uuid.UUID,
    *,
    reason: RevocationReason | str,
    note: str | None = None,
    now: datetime | None = None,
) -> IndicatorAssertion:
    """Withdraw an assertion. It is never deleted: the row keeps its reason, and the change log
    gets a REVOKE row (the tombstone consumers act on)."""
    check = Checker()
    why = check.choice("reason", reason, RevocationReason)
    text = check.text("note", note, max_length=MAX_NOTE_LENGTH, required=False)
    check.raise_if_any()
    assertion = await _owned_assertion(session, viewer, assertion_id)
    if assertion.status == AssertionStatus.REVOKED:
        raise Conflict("this assertion is already revoked")
    assertion.status = AssertionStatus.REVOKED
    assertion.revocation_reason = why
    assertion.revocation_note = text or None
    assertion.revoked_at = now or utcnow()
    assertion.version += 1
    await session.flush()
    _record(session, ASSERTION_KIND, assertion, Operation.REVOKE, reason=str(why))
    return assertion


async def expire_due(
    session: AsyncSession, *, now: datetime | None = None, limit: int = EXPIRY_BATCH
) -> list[IndicatorAssertion]:
    """Mark live assertions whose ``valid_until`` has passed as expired (the periodic task);
    at most ``limit`` a run, so one run stays one modest transaction."""
    moment = now or utcnow()
    due = await repo.due_for_expiry(session, moment, limit)
    for assertion in due:
        assertion.status = AssertionStatus.EXPIRED
        assertion.version += 1
    await session.flush()
    for assertion in due:
        _record(
            session, ASSERTION_KIND, assertion, Operation.UPDATE, reason=RevocationReason.EXPIRED
        )
    return due


async def refresh_scores(
    session: AsyncSession,
    *,
    settings: IndicatorSettings | None = None,
    now: datetime | None = None,
    batch: int = 1000,
) -> int:
    """Recompute the stored score of every live assertion (the periodic task), so the score
    a ``minScore`` filter reads decays with age. The score is derived from the assertion and
    its reactions, each written with its own change row already; refreshing it changes no
    fact, so it bumps no version and writes no change row. Returns how many changed."""
    limits = settings or IndicatorSettings()
    moment = now or utcnow()
    changed = 0
    after: uuid.UUID | None = None
    while True:
        rows = await repo.live_assertions_after(session, after, batch)
        if not rows:
            return changed
        assertions = [a for a, _ in rows]
        tallies = await repo.tallies_for_assertions(session, assertions)
        scores: dict[uuid.UUID, float] = {}
        for assertion, type in rows:
            value = scoring.score(
                evidence_of(assertion, type, tallies.get(assertion.id, repo.Tally())),
                now=moment,
                half_life_days=limits.half_life_days,
            )
            if value != assertion.score:
                scores[assertion.id] = value
        await repo.store_scores(session, scores)
        for assertion, _type in rows:
            if assertion.id in scores:
                # What the row now holds, without making the object dirty.
                set_committed_value(assertion, "score", scores[assertion.id])
        changed += len(scores)
        after = assertions[-1].id


# --- reactions ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReactionData:
    kind: ReactionKind | str
    platform: str | None = None
    occurred_at: datetime | None = None  # when seen, bought, or taken down
    count: int | None = None
    order_number: str | None = None
    verdict: TestBuyVerdict | str | None = None
    evidence_url: str | None = None
    reason: str | None = None
    platform_action: str | None = None
    # Narrower than the assertion's own, if the reacting organisation wants; never broader.
    distribution: Distribution | str | None = None
    tlp: TLP | str | None = None


_REQUIRED_BY_KIND: dict[ReactionKind, tuple[str, ...]] = {
    ReactionKind.SEEN_TOO: ("platform",),
    ReactionKind.CONFIRMED_BY_TEST_BUY: ("order_number", "occurred_at", "platform", "verdict"),
    ReactionKind.FALSE_POSITIVE: (),
    ReactionKind.DISPUTED: ("reason",),
    ReactionKind.OUTDATED: (),
    ReactionKind.TAKEN_DOWN: ("platform_action", "occurred_at"),
}
_CAMEL = {
    "order_number": "orderNumber",
    "occurred_at": "occurredAt",
    "platform_action": "platformAction",
    "evidence_url": "evidenceUrl",
}


def _no_broader(
    check: Checker, assertion: IndicatorAssertion, data: ReactionData
) -> tuple[Distribution, TLP]:
    dist = (
        check.choice("distribution", data.distribution, Distribution)
        if data.distribution is not None
        else assertion.distribution
    )
    marking = check.choice("tlp", data.tlp, TLP) if data.tlp is not None else assertion.tlp
    if dist is not None and _DISTRIBUTION_RANK[dist] > _DISTRIBUTION_RANK[assertion.distribution]:
        check.fail(
            "distribution", "BROADER_THAN_ASSERTION", "may not be broader than the assertion's"
        )
    if marking is not None and _TLP_RANK[marking] > _TLP_RANK[assertion.tlp]:
        check.fail(
            "tlp", "BROADER_THAN_ASSERTION", "may not be less restrictive than the assertion's"
        )
    if dist == Distribution.WORKING_GROUP and assertion.working_group_id is None:
        check.fail("distribution", "NO_WORKING_GROUP", "the assertion is in no working group")
    return dist or assertion.distribution, marking or assertion.tlp


async def react(
    session: AsyncSession,
    viewer: Viewer,
    assertion_id: uuid.UUID,
    data: ReactionData,
    *,
    settings: IndicatorSettings | None = None,
    now: datetime | None = None,
) -> tuple[IndicatorReaction, IndicatorAssertion]:
    """Any organisation that sees an assertion may react to it; the reaction is seen by whoever
    sees the assertion (or fewer, if the reacting organisation narrows it)."""
    owner = _require_member(viewer)
    check = Checker()
    kind = check.choice("kind", data.kind, ReactionKind)
    verdict = (
        check.choice("verdict", data.verdict, TestBuyVerdict) if data.verdict is not None else None
    )
    platform = check.text("platform", data.platform, max_length=100, required=False)
    order_number = check.text("orderNumber", data.order_number, max_length=200, required=False)
    reason = check.text("reason", data.reason, max_length=MAX_NOTE_LENGTH, required=False)
    action = check.text("platformAction", data.platform_action, max_length=200, required=False)
    evidence = check.text(
        "evidenceUrl", data.evidence_url, max_length=MAX_LINK_LENGTH, required=False
    )
    if evidence and not evidence.startswith(("https://", "http://")):
        check.fail("evidenceUrl", "INVALID_URL", "must be an http(s):// URL")
    if data.count is not None and not 1 <= data.count <= 1_000_000:
        check.fail("count", "OUT_OF_RANGE", "must be between 1 and 1000000")
    if data.occurred_at is not None and data.occurred_at.tzinfo is None:
        check.fail("occurredAt", "NAIVE_DATETIME", "must carry a time zone")
    given = {
        "platform": platform,
        "order_number": order_number,
        "occurred_at": data.occurred_at,
        "verdict": verdict,
        "reason": reason,
        "platform_action": action,
    }
    if kind is not None:
        for name in _REQUIRED_BY_KIND[kind]:
            if not given[name]:
                check.fail(_CAMEL.get(name, name), "REQUIRED", f"is required for {kind.value}")
    check.raise_if_any()
    assert kind is not None
    assertion = await _visible_assertion(session, viewer, assertion_id)
    if assertion.status == AssertionStatus.REVOKED:
        raise Conflict("this assertion is revoked; react to a live one")
    check = Checker()
    dist, marking = _no_broader(check, assertion, data)
    check.raise_if_any()
    reaction = IndicatorReaction(
        id=new_id(),
        assertion_id=assertion.id,
        indicator_id=assertion.indicator_id,
        owner_org_id=owner,
        working_group_id=assertion.working_group_id,
        distribution=dist,
        tlp=marking,
        kind=kind,
        platform=platform or None,
        occurred_at=data.occurred_at,
        count=data.count,
        order_number=order_number or None,
        verdict=verdict,
        evidence_url=evidence or None,
        reason=reason or None,
        platform_action=action or None,
        version=1,
    )
    session.add(reaction)
    await session.flush()
    _record(session, REACTION_KIND, reaction, Operation.CREATE)
    # The assertion's stored score and status follow its reactions.
    before = (assertion.status, assertion.score)
    await _refresh_scores(
        session,
        [assertion],
        {assertion.id: await _type_of(session, assertion)},
        settings or IndicatorSettings(),
        now or utcnow(),
    )
    if (assertion.status, assertion.score) != before:
        assertion.version += 1
        await session.flush()
        _record(session, ASSERTION_KIND, assertion, Operation.UPDATE)
    return reaction, assertion


# --- proposals --------------------------------------------------------------------------------------

# What a proposal may change, by the names the API gives them.
PROPOSABLE = {
    "confidence": "confidence",
    "severity": "severity",
    "brands": "brands",
    "productCategory": "product_category",
    "validUntil": "valid_until",
    "note": "note",
    "tags": "tags",
}


@dataclass(frozen=True, slots=True)
class Correction:
    confidence: int | None = None
    severity: Severity | str | None = None
    brands: Sequence[str] | None = None
    product_category: str | None = None
    valid_until: datetime | None = None
    note: str | None = None
    tags: Sequence[str] | None = None


def _correction_changes(check: Checker, correction: Correction) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if correction.confidence is not None:
        if not 0 <= correction.confidence <= 100:
            check.fail("confidence", "OUT_OF_RANGE", "must be between 0 and 100")
        changes["confidence"] = correction.confidence
    if correction.severity is not None:
        severity = check.choice("severity", correction.severity, Severity)
        changes["severity"] = severity.value if severity else None
    if correction.brands is not None:
        changes["brands"] = _clean_list(
            check, "brands", correction.brands, max_length=200, fold=True
        )
    if correction.product_category is not None:
        changes["product_category"] = check.text(
            "productCategory", correction.product_category, max_length=100
        )
    if correction.valid_until is not None:
        if correction.valid_until.tzinfo is None:
            check.fail("validUntil", "NAIVE_DATETIME", "must carry a time zone")
        changes["valid_until"] = correction.valid_until.isoformat()
    if correction.note is not None:
        changes["note"] = check.text(
            "note", correction.note, max_length=MAX_NOTE_LENGTH, required=False
        )
    if correction.tags is not None:
        changes["tags"] = _clean_list(
            check, "tags", correction.tags, max_length=MAX_TAG_LENGTH, fold=True
        )
    if not changes:
        check.fail("changes", "REQUIRED", "propose at least one change")
    return changes


async def propose(
    session: AsyncSession,
    viewer: Viewer,
    assertion_id: uuid.UUID,
    correction: Correction,
    *,
    reason: str,
) -> IndicatorProposal:
    """Propose a correction to another organisation's assertion. The proposal carries the
    assertion's visibility, so whoever sees the assertion (its owner included) sees it."""
    proposer = _require_member(viewer)
    check = Checker()
    changes = _correction_changes(check, correction)
    why = check.text("reason", reason, max_length=MAX_NOTE_LENGTH)
    check.raise_if_any()
    assertion = await _visible_assertion(session, viewer, assertion_id)
    if assertion.owner_org_id == proposer:
        raise Conflict(
            "an organisation corrects its own assertion directly; proposals are for others'"
        )
    if assertion.status == AssertionStatus.REVOKED:
        raise Conflict("this assertion is revoked")
    proposal = IndicatorProposal(
        id=new_id(),
        assertion_id=assertion.id,
        owner_org_id=proposer,
        working_group_id=assertion.working_group_id,
        distribution=assertion.distribution,
        tlp=assertion.tlp,
        changes=changes,
        reason=why or "",
        state=ProposalState.PENDING,
        version=1,
    )
    session.add(proposal)
    await session.flush()
    _record(session, PROPOSAL_KIND, proposal, Operation.CREATE)
    return proposal


async def _pending_for_owner(
    session: AsyncSession, viewer: Viewer, proposal_id: uuid.UUID
) -> tuple[IndicatorProposal, IndicatorAssertion]:
    owner = _require_member(viewer)
    proposal = await repo.visible_proposal(session, viewer, proposal_id)
    if proposal is None:
        raise NotFound("proposal", str(proposal_id))
    assertion = await _visible_assertion(session, viewer, proposal.assertion_id)
    if assertion.owner_org_id != owner:
        raise Forbidden("only the organisation that made the assertion decides on proposals to it")
    if proposal.state != ProposalState.PENDING:
        raise Conflict(f"this proposal was already {proposal.state.value.lower()}")
    return proposal, assertion


async def accept_proposal(
    session: AsyncSession,
    viewer: Viewer,
    proposal_id: uuid.UUID,
    *,
    reason: str | None = None,
    settings: IndicatorSettings | None = None,
    now: datetime | None = None,
) -> tuple[IndicatorProposal, IndicatorAssertion]:
    check = Checker()
    why = check.text("reason", reason, max_length=MAX_NOTE_LENGTH, required=False)
    check.raise_if_any()
    proposal, assertion = await _pending_for_owner(session, viewer, proposal_id)
    moment = now or utcnow()
    for name, value in proposal.changes.items():
        if name == "valid_until":
            value = datetime.fromisoformat(value)
        elif name == "severity":
            value = Severity(value)
        setattr(assertion, name, value)
    if assertion.valid_until is not None and assertion.valid_until <= moment:
        assertion.status = AssertionStatus.EXPIRED
    assertion.version += 1
    await _refresh_scores(
        session,
        [assertion],
        {assertion.id: await _type_of(session, assertion)},
        settings or IndicatorSettings(),
        moment,
    )
    _decide(proposal, ProposalState.ACCEPTED, why, moment)
    await session.flush()
    _record(session, ASSERTION_KIND, assertion, Operation.UPDATE)
    _record(session, PROPOSAL_KIND, proposal, Operation.UPDATE)
    return proposal, assertion


async def reject_proposal(
    session: AsyncSession,
    viewer: Viewer,
    proposal_id: uuid.UUID,
    *,
    reason: str,
    now: datetime | None = None,
) -> IndicatorProposal:
    check = Checker()
    why = check.text("reason", reason, max_length=MAX_NOTE_LENGTH)
    check.raise_if_any()
    proposal, _assertion = await _pending_for_owner(session, viewer, proposal_id)
    _decide(proposal, ProposalState.REJECTED, why, now or utcnow())
    await session.flush()
    _record(session, PROPOSAL_KIND, proposal, Operation.UPDATE)
    return proposal


def _decide(
    proposal: IndicatorProposal, state: ProposalState, reason: str | None, moment: datetime
) -> None:
    proposal.state = state
    proposal.decision_reason = reason or None
    proposal.decided_at = moment
    proposal.version += 1


# --- allowlists -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AllowlistData:
    kind: AllowlistKind | str
    type: IndicatorType | str
    value: str
    brand: str
    label: str
    country: str | None = None
    parts: Mapping[str, object] = field(default_factory=dict)
    note: str = ""
    working_group_id: uuid.UUID | None = None
    distribution: Distribution | str = Distribution.ALLIANCE
    tlp: TLP | str = TLP.GREEN


async def add_allowlist_entry(
    session: AsyncSession, viewer: Viewer, data: AllowlistData
) -> AllowlistEntry:
    """A brand registers its own store, distributor or product image; submissions of that
    value are refused from then on."""
    owner = _require_member(viewer)
    check = Checker()
    kind = check.choice("kind", data.kind, AllowlistKind)
    normalised: Normalised | None = None
    try:
        normalised = _normalise(
            Submission(type=data.type, value=data.value, country=data.country, parts=data.parts)
        )
    except InvalidInput as exc:
        check.problems.extend(exc.problems)
    brand = check.text("brand", data.brand, max_length=200)
    label = check.text("label", data.label, max_length=200)
    note = check.text("note", data.note, max_length=MAX_NOTE_LENGTH, required=False)
    dist, marking = _check_visibility(check, data.working_group_id, data.distribution, data.tlp)
    check.raise_if_any()
    assert kind is not None
    assert normalised is not None
    assert dist is not None
    assert marking is not None
    _require_contribution(viewer, data.working_group_id)
    value_digest = digest(normalised.type, normalised.value)
    if await repo.allowlist_entry(session, owner, value_digest) is not None:
        raise Conflict("this value is already on your allowlist")
    entry = AllowlistEntry(
        id=new_id(),
        owner_org_id=owner,
        working_group_id=data.working_group_id,
        distribution=dist,
        tlp=marking,
        kind=kind,
        type=normalised.type,
        value=normalised.value,
        value_digest=value_digest,
        brand=brand or "",
        label=label or "",
        note=note or "",
        version=1,
    )
    session.add(entry)
    await session.flush()
    _record(session, ALLOWLIST_KIND, entry, Operation.CREATE)
    return entry


async def remove_allowlist_entry(
    session: AsyncSession, viewer: Viewer, entry_id: uuid.UUID
) -> AllowlistEntry:
    owner = _require_member(viewer)
    entry = await session.get(AllowlistEntry, entry_id)
    if entry is None or not can_see(viewer, visibility_of(entry)):
        raise NotFound("allowlist entry", str(entry_id))
    if entry.owner_org_id != owner:
        raise Forbidden("only the organisation that registered an allowlist entry removes it")
    entry.version += 1
    _record(session, ALLOWLIST_KIND, entry, Operation.DELETE)
    await session.delete(entry)
    await session.flush()
    return entry


# --- seller networks ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Network:
    indicators: list[Indicator]
    links: list[IndicatorLink]
    # The walk stopped at the depth or size cap: there may be more beyond.
    truncated: bool


async def seller_network(
    session: AsyncSession,
    viewer: Viewer,
    indicator_id: uuid.UUID,
    *,
    settings: IndicatorSettings | None = None,
) -> Network | None:
    """The cluster around an indicator: a walk over links the viewer sees both ends of,
    passing on only through sellers and what identifies them, a query per level, bounded
    in depth and size."""
    limits = settings or IndicatorSettings()
    start = await repo.visible_indicator(session, viewer, indicator_id)
    if start is None:
        return None
    found: dict[uuid.UUID, Indicator] = {start.id: start}
    links: dict[uuid.UUID, IndicatorLink] = {}
    frontier = [start.id]
    truncated = False
    for _depth in range(limits.network_max_depth):
        if not frontier:
            break
        touching = await repo.visible_links_touching(
            session, viewer, frontier, limit=limits.network_max_nodes * 4
        )
        new_ids: list[uuid.UUID] = []
        for link in touching:
            links.setdefault(link.id, link)
            for end in (link.source_indicator_id, link.target_indicator_id):
                if end not in found and end not in new_ids:
                    new_ids.append(end)
        room = limits.network_max_nodes - len(found)
        if len(new_ids) > room:
            truncated = True
            new_ids = new_ids[:room]
        fresh = await repo.indicators_by_ids(session, new_ids)
        for indicator in fresh:
            found[indicator.id] = indicator
        frontier = [i.id for i in fresh if i.type in NETWORK_TYPES]
        if truncated:
            break
    else:
        truncated = bool(frontier)
    kept = [
        link
        for link in links.values()
        if link.source_indicator_id in found and link.target_indicator_id in found
    ]
    return Network(
        indicators=sorted(found.values(), key=lambda i: i.id), links=kept, truncated=truncated
    )

"""Applying a peer's feed lines here: the only writer of imported copies.

A copy is owned by the peer's local organisation and keeps the origin's visibility
(FEDERATION, CLEAR or GREEN), so this instance's readers see it under the same sharing
policy as anything else; its provenance names the origin instance, organisation, id and
version. The origin is authoritative: nobody here may edit a copy (only its owner, the
peer organisation, could, and it has no people), and each line from the peer replaces
what the copy says.

Every decision is idempotent by (origin instance, origin id) and the version the peer
sent: a replayed or older line is a no-op, never an overwrite. Lines naming an object
that started here are dropped (no loops, whatever the path it came back by), and nothing
that may not cross federation is imported, whatever a peer sends.

Each batch takes a constant number of queries for its lookups, whatever its size.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.changelog.models import Operation
from alliance.changelog.service import record_change
from alliance.config import IndicatorSettings
from alliance.db import new_id, utcnow
from alliance.federation import importing_guides as guide_import
from alliance.federation import importing_rules as rule_import
from alliance.federation import repository as repo
from alliance.federation.models import Peer, Provenance
from alliance.indicators import repository as indicators_repo
from alliance.indicators import scoring
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.models import (
    AssertionStatus,
    Indicator,
    IndicatorAssertion,
    IndicatorMatchKey,
    RevocationReason,
    Severity,
)
from alliance.indicators.service import digest
from alliance.sharing import TLP, Distribution
from alliance.sharing.policy import Destination, Visibility, may_travel
from alliance.sync.portable import ASSERTION_KIND, GUIDE_KIND, RULE_KIND

IMPORTED_KINDS = frozenset({ASSERTION_KIND})
# Why a copy left: its origin deleted it, or it left what this instance may see.
RETIRED_DELETED = "ORIGIN_DELETED"
MAX_TEXT = 10_000


class Outcome(enum.StrEnum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    REVOKED = "REVOKED"
    RETIRED = "RETIRED"
    # Nothing to do: a replay, an older version, or a removal of something not held.
    UNCHANGED = "UNCHANGED"
    # Not a kind this instance imports (reactions…), a line without its object, or a rule or
    # guide whose working group does not exist here (BatchResult.skipped counts why).
    SKIPPED = "SKIPPED"
    # Started here: never imported back.
    OWN_ORIGIN = "OWN_ORIGIN"
    # Marked beyond what may cross federation, or malformed: refused.
    REFUSED = "REFUSED"


@dataclass
class BatchResult:
    outcomes: dict[Outcome, int] = field(default_factory=dict)
    # Why lines were skipped (a rule whose working group does not exist here…), counted.
    skipped: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: Outcome) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    @property
    def imported(self) -> int:
        return sum(
            self.outcomes.get(o, 0)
            for o in (Outcome.CREATED, Outcome.UPDATED, Outcome.REVOKED, Outcome.RETIRED)
        )


class BadLine(ValueError):
    """A line that does not say what the contract says it must."""


@dataclass(frozen=True, slots=True)
class _Origin:
    instance_id: str
    object_id: str
    version: int
    org_slug: str
    org_name: str


def _may_cross(distribution: Any, tlp: Any) -> bool:
    try:
        visibility = Visibility(None, None, Distribution(distribution), TLP(tlp))
    except ValueError:
        return False
    return may_travel(visibility, Destination.FEDERATION)


def _moment(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise BadLine("a date must be an ISO 8601 string")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadLine(f"not an ISO 8601 date: {value[:40]!r}") from exc
    if moment.tzinfo is None:
        raise BadLine("a date must carry a time zone")
    return moment


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    return str(value)[:limit] if value is not None else ""


def _strings(value: Any, limit: int = 2048) -> list[str]:
    if not isinstance(value, list):
        return []
    return [str(v)[:limit] for v in value[:100] if isinstance(v, str | int)]


def _origin_of(obj: Mapping[str, Any], peer: Peer, line: Mapping[str, Any]) -> _Origin:
    origin = obj.get("origin")
    if not isinstance(origin, Mapping):
        origin = {}
    organisation = origin.get("organisation") or obj.get("owner") or {}
    instance_id = origin.get("instanceId") or peer.instance_id
    if not instance_id:
        raise BadLine("the object names no origin instance")
    object_id = origin.get("id") or line.get("id")
    version = origin.get("version", obj.get("version"))
    if not object_id or not isinstance(version, int):
        raise BadLine("the object names no origin id and version")
    return _Origin(
        instance_id=str(instance_id)[:64],
        object_id=str(object_id)[:64],
        version=version,
        org_slug=_text(organisation.get("slug"), 63) or "unknown",
        org_name=_text(organisation.get("name"), 200) or "unknown",
    )


@dataclass(frozen=True, slots=True)
class _AssertionData:
    type: IndicatorType
    value: str
    match_keys: list[tuple[str, str]]
    confidence: int
    severity: Severity
    status: AssertionStatus
    revocation_reason: RevocationReason | None
    revocation_note: str | None
    revoked_at: datetime | None
    valid_from: datetime | None
    valid_until: datetime | None
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    brands: list[str]
    product_category: str | None
    tags: list[str]
    note: str
    evidence_links: list[str]
    details: dict[str, Any]
    distribution: Distribution
    tlp: TLP


def _assertion_data(obj: Mapping[str, Any]) -> _AssertionData:
    indicator = obj.get("indicator")
    if not isinstance(indicator, Mapping):
        raise BadLine("an assertion snapshot carries its indicator")
    try:
        type_ = IndicatorType(indicator.get("type"))
        severity = Severity(obj.get("severity", Severity.MEDIUM.value))
        status = AssertionStatus(obj.get("status", AssertionStatus.ACTIVE.value))
        reason = obj.get("revocationReason")
        revocation_reason = RevocationReason(reason) if reason else None
        distribution = Distribution(obj.get("distribution"))
        tlp = TLP(obj.get("tlp"))
    except ValueError as exc:
        raise BadLine(str(exc)) from exc
    value = indicator.get("value")
    if not isinstance(value, str) or not value or len(value) > 4096:
        raise BadLine("the indicator's value is missing or too long")
    confidence = obj.get("confidence", 50)
    if not isinstance(confidence, int) or not 0 <= confidence <= 100:
        raise BadLine("confidence must be an integer between 0 and 100")
    keys = [
        (str(k[0])[:64], str(k[1])[:1024])
        for k in indicator.get("matchKeys") or []
        if isinstance(k, list | tuple) and len(k) == 2
    ]
    details = obj.get("details")
    return _AssertionData(
        type=type_,
        value=value,
        match_keys=keys,
        confidence=confidence,
        severity=severity,
        status=status,
        revocation_reason=revocation_reason,
        revocation_note=_text(obj.get("revocationNote")) or None,
        revoked_at=_moment(obj.get("revokedAt")),
        valid_from=_moment(obj.get("validFrom")),
        valid_until=_moment(obj.get("validUntil")),
        first_seen_at=_moment(obj.get("firstSeenAt")),
        last_seen_at=_moment(obj.get("lastSeenAt")),
        brands=_strings(obj.get("brands"), 200),
        product_category=_text(obj.get("productCategory"), 100) or None,
        tags=_strings(obj.get("tags"), 100),
        note=_text(obj.get("description")),
        evidence_links=_strings(obj.get("evidenceLinks")),
        details=dict(details) if isinstance(details, Mapping) else {},
        distribution=distribution,
        tlp=tlp,
    )


def _visibility(a: IndicatorAssertion) -> Visibility:
    return Visibility(a.owner_org_id, a.working_group_id, a.distribution, a.tlp)


def _record(
    session: AsyncSession,
    a: IndicatorAssertion,
    operation: Operation,
    *,
    previous: Visibility | None = None,
    reason: str | None = None,
    shown: Visibility | None = None,
) -> None:
    visibility = shown or _visibility(a)
    record_change(
        session,
        kind=ASSERTION_KIND,
        object_id=a.id,
        version=a.version,
        operation=operation,
        distribution=visibility.distribution,
        tlp=visibility.tlp,
        owner_org_id=visibility.owner_org_id,
        working_group_id=visibility.working_group_id,
        previous=previous,
        reason=reason,
    )


@dataclass
class _Batch:
    """What one batch looked up, all at once."""

    copies_by_origin: dict[tuple[str, str], Provenance]
    copies_by_peer_id: dict[str, Provenance]
    assertions: dict[str, IndicatorAssertion]
    indicators: dict[str, Indicator]


async def _look_up(session: AsyncSession, peer: Peer, lines: Sequence[Mapping[str, Any]]) -> _Batch:
    origins: list[tuple[str, str]] = []
    peer_ids: list[str] = []
    digests: list[str] = []
    for line in lines:
        if line.get("kind") not in IMPORTED_KINDS:
            continue
        peer_ids.append(str(line.get("id")))
        obj = line.get("object")
        if isinstance(obj, Mapping):
            try:
                origin = _origin_of(obj, peer, line)
                data = _assertion_data(obj)
            except BadLine:
                continue
            origins.append((origin.instance_id, origin.object_id))
            digests.append(digest(data.type, data.value))
    by_origin = await repo.provenance_by_origin(session, ASSERTION_KIND, origins)
    by_peer_id = await repo.provenance_by_peer_object(session, peer.id, ASSERTION_KIND, peer_ids)
    local_ids = {p.local_id for p in (*by_origin.values(), *by_peer_id.values())}
    assertions = {
        str(a.id): a
        for a in await repo.assertions_by_ids(session, [uuid.UUID(i) for i in local_ids])
    }
    indicators = {
        i.value_digest: i
        for i in await indicators_repo.indicators_by_digests(session, list(set(digests)))
    }
    return _Batch(by_origin, by_peer_id, assertions, indicators)


async def apply_lines(
    session: AsyncSession,
    peer: Peer,
    lines: Sequence[Mapping[str, Any]],
    *,
    local_instance_id: str,
    settings: IndicatorSettings | None = None,
    now: datetime | None = None,
) -> BatchResult:
    """Apply one page of the peer's feed (change lines only, in feed order) in this
    transaction. Never commits; the caller stores the peer's cursor in the same commit."""
    moment = now or utcnow()
    limits = settings or IndicatorSettings()
    batch = await _look_up(session, peer, lines)
    copies: dict[str, Any] = {}
    for kind, module in ((RULE_KIND, rule_import), (GUIDE_KIND, guide_import)):
        kind_lines = [line for line in lines if line.get("kind") == kind]
        if kind_lines:
            copies[kind] = (
                module,
                await module.look_up(session, peer, kind_lines, _origins(peer, kind_lines)),
            )
    result = BatchResult()
    for line in lines:
        kind = line.get("kind")
        if isinstance(kind, str) and kind in copies:
            module, kind_batch = copies[kind]
            outcome = await _apply_copy_line(
                session, peer, line, kind, module, kind_batch, local_instance_id, result
            )
        else:
            outcome = await _apply_line(
                session, peer, line, batch, local_instance_id, limits, moment
            )
        result.add(outcome)
    await session.flush()
    return result


async def _apply_line(
    session: AsyncSession,
    peer: Peer,
    line: Mapping[str, Any],
    batch: _Batch,
    local_instance_id: str,
    settings: IndicatorSettings,
    now: datetime,
) -> Outcome:
    if line.get("kind") not in IMPORTED_KINDS:
        return Outcome.SKIPPED
    operation = line.get("operation")
    version = line.get("version")
    peer_object_id = str(line.get("id") or "")[:64]
    if not isinstance(version, int) or not peer_object_id:
        return Outcome.REFUSED
    if operation in (Operation.REMOVE.value, Operation.DELETE.value):
        return await _retire(session, line, batch, peer_object_id, version, now)
    if operation not in (Operation.CREATE.value, Operation.UPDATE.value, Operation.REVOKE.value):
        return Outcome.REFUSED
    obj = line.get("object")
    if not isinstance(obj, Mapping):
        return Outcome.SKIPPED
    try:
        origin = _origin_of(obj, peer, line)
        data = _assertion_data(obj)
    except BadLine:
        return Outcome.REFUSED
    if origin.instance_id == local_instance_id:
        return Outcome.OWN_ORIGIN
    # Defence in depth: the peer's feed should never send these; if one does, it stays out.
    if not (
        _may_cross(line.get("distribution"), line.get("tlp"))
        and _may_cross(data.distribution, data.tlp)
    ):
        return Outcome.REFUSED
    copy = batch.copies_by_origin.get((origin.instance_id, origin.object_id))
    if copy is not None and not _newer(copy, origin, peer, peer_object_id, version):
        return Outcome.UNCHANGED
    indicator = _indicator(session, batch, data)
    if copy is None:
        assertion = IndicatorAssertion(
            id=new_id(),
            indicator_id=indicator.id,
            owner_org_id=peer.organisation_id,
            working_group_id=None,
            first_seen_at=data.first_seen_at or now,
            version=1,
            score=0.0,
        )
        _fill(assertion, data, now, settings)
        session.add(assertion)
        copy = Provenance(kind=ASSERTION_KIND, local_id=str(assertion.id))
        session.add(copy)
        batch.copies_by_origin[(origin.instance_id, origin.object_id)] = copy
        batch.assertions[copy.local_id] = assertion
        _stamp(copy, peer, origin, peer_object_id, version)
        batch.copies_by_peer_id[peer_object_id] = copy
        await session.flush()
        revoked = assertion.status == AssertionStatus.REVOKED
        _record(
            session,
            assertion,
            Operation.CREATE,
            reason=assertion.revocation_reason.value
            if revoked and assertion.revocation_reason
            else None,
        )
        return Outcome.CREATED
    assertion = batch.assertions[copy.local_id]
    before = _visibility(assertion)
    was_revoked = assertion.status == AssertionStatus.REVOKED
    assertion.indicator_id = indicator.id
    _fill(assertion, data, now, settings)
    assertion.version += 1
    _stamp(copy, peer, origin, peer_object_id, version)
    copy.retired, copy.retired_reason = False, None
    batch.copies_by_peer_id[peer_object_id] = copy
    await session.flush()
    if assertion.status == AssertionStatus.REVOKED and not was_revoked:
        reason = assertion.revocation_reason.value if assertion.revocation_reason else None
        _record(session, assertion, Operation.REVOKE, reason=reason)
        return Outcome.REVOKED
    _record(session, assertion, Operation.UPDATE, previous=before)
    return Outcome.UPDATED


def _newer(
    copy: Provenance, origin: _Origin, peer: Peer, peer_object_id: str, version: int
) -> bool:
    """Whether this line says something later than what the copy holds."""
    if origin.version != copy.origin_version:
        return origin.version > copy.origin_version
    # Same origin version: only a later line from the same peer changes anything (a copy
    # that was retired here comes back when the object is shared again).
    same_source = copy.peer_id == peer.id and copy.peer_object_id == peer_object_id
    return same_source and version > copy.peer_version and copy.retired


def _stamp(
    copy: Provenance, peer: Peer, origin: _Origin, peer_object_id: str, version: int
) -> None:
    copy.peer_id = peer.id
    copy.origin_instance_id = origin.instance_id
    copy.origin_object_id = origin.object_id
    copy.origin_version = origin.version
    copy.origin_org_slug = origin.org_slug
    copy.origin_org_name = origin.org_name
    copy.peer_object_id = peer_object_id
    copy.peer_version = version
    if copy.retired is None:
        copy.retired = False


def _indicator(session: AsyncSession, batch: _Batch, data: _AssertionData) -> Indicator:
    key = digest(data.type, data.value)
    indicator = batch.indicators.get(key)
    if indicator is None:
        indicator = Indicator(
            id=new_id(),
            type=data.type,
            value=data.value,
            value_digest=key,
            details={},
            version=1,
        )
        session.add(indicator)
        for name, value in dict.fromkeys(data.match_keys):
            session.add(IndicatorMatchKey(indicator_id=indicator.id, name=name, value=value))
        batch.indicators[key] = indicator
    return indicator


def _fill(
    a: IndicatorAssertion, data: _AssertionData, now: datetime, settings: IndicatorSettings
) -> None:
    a.distribution = data.distribution
    a.tlp = data.tlp
    a.confidence = data.confidence
    a.severity = data.severity
    a.status = data.status
    a.revocation_reason = data.revocation_reason
    a.revocation_note = data.revocation_note
    a.revoked_at = data.revoked_at if data.status == AssertionStatus.REVOKED else None
    a.valid_from = data.valid_from
    a.valid_until = data.valid_until
    a.last_seen_at = data.last_seen_at or now
    a.brands = data.brands
    a.product_category = data.product_category
    a.tags = data.tags
    a.note = data.note
    a.evidence_links = data.evidence_links
    a.details = data.details
    a.score = scoring.score(
        scoring.Evidence(type=data.type, confidence=data.confidence, last_seen_at=a.last_seen_at),
        now=now,
        half_life_days=settings.half_life_days,
    )


async def _retire(
    session: AsyncSession,
    line: Mapping[str, Any],
    batch: _Batch,
    peer_object_id: str,
    version: int,
    now: datetime,
) -> Outcome:
    """The peer deleted the object or no longer shares it with us: the copy leaves what
    anyone here sees (it narrows to its owner, the peer organisation), and the change is
    recorded so this instance's own consumers drop it too."""
    copy = batch.copies_by_peer_id.get(peer_object_id)
    if copy is None or copy.retired or version <= copy.peer_version:
        return Outcome.UNCHANGED
    assertion = batch.assertions.get(copy.local_id)
    if assertion is None:
        return Outcome.UNCHANGED
    deleted = line.get("operation") == Operation.DELETE.value
    before = _visibility(assertion)
    assertion.distribution = Distribution.ORGANISATION
    if deleted:
        assertion.status = AssertionStatus.REVOKED
        assertion.revocation_reason = RevocationReason.WITHDRAWN
        assertion.revoked_at = now
    assertion.version += 1
    copy.peer_version = version
    copy.retired = True
    copy.retired_reason = RETIRED_DELETED if deleted else _text(line.get("reason"), 200) or None
    await session.flush()
    if deleted:
        # The tombstone reaches whoever saw the copy.
        _record(session, assertion, Operation.DELETE, reason=RETIRED_DELETED, shown=before)
    else:
        _record(session, assertion, Operation.UPDATE, previous=before)
    return Outcome.RETIRED


def _origins(peer: Peer, lines: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    origins: list[tuple[str, str]] = []
    for line in lines:
        obj = line.get("object")
        if isinstance(obj, Mapping):
            try:
                origin = _origin_of(obj, peer, line)
            except BadLine:
                continue
            origins.append((origin.instance_id, origin.object_id))
    return origins


async def _apply_copy_line(
    session: AsyncSession,
    peer: Peer,
    line: Mapping[str, Any],
    kind: str,
    module: Any,
    batch: Any,
    local_instance_id: str,
    result: BatchResult,
) -> Outcome:
    """A rule or guide line, under the same rules as an assertion line (see the module
    docstring); ``module`` (importing_rules, importing_guides) writes the copy."""
    operation = line.get("operation")
    version = line.get("version")
    peer_object_id = str(line.get("id") or "")[:64]
    if not isinstance(version, int) or not peer_object_id:
        return Outcome.REFUSED
    if operation in (Operation.REMOVE.value, Operation.DELETE.value):
        copy = batch.copies_by_peer_id.get(peer_object_id)
        if copy is None or copy.retired or version <= copy.peer_version:
            return Outcome.UNCHANGED
        held = batch.objects.get(copy.local_id)
        if held is None:
            return Outcome.UNCHANGED
        deleted = operation == Operation.DELETE.value
        await module.retire_copy(session, held, deleted=deleted)
        copy.peer_version = version
        copy.retired = True
        copy.retired_reason = RETIRED_DELETED if deleted else _text(line.get("reason"), 200) or None
        await session.flush()
        return Outcome.RETIRED
    if operation not in (Operation.CREATE.value, Operation.UPDATE.value, Operation.REVOKE.value):
        return Outcome.REFUSED
    obj = line.get("object")
    if not isinstance(obj, Mapping):
        return Outcome.SKIPPED
    try:
        origin = _origin_of(obj, peer, line)
    except BadLine:
        return Outcome.REFUSED
    if origin.instance_id == local_instance_id:
        return Outcome.OWN_ORIGIN
    if not (
        _may_cross(line.get("distribution"), line.get("tlp"))
        and _may_cross(obj.get("distribution"), obj.get("tlp"))
    ):
        return Outcome.REFUSED
    copy = batch.copies_by_origin.get((origin.instance_id, origin.object_id))
    if copy is not None and not _newer(copy, origin, peer, peer_object_id, version):
        return Outcome.UNCHANGED
    try:
        done, held, reason = await module.apply(session, peer, obj, copy, batch)
    except ValueError:
        return Outcome.REFUSED
    if held is None:
        result.skip(reason or "SKIPPED")
        return Outcome.SKIPPED
    if copy is None:
        copy = Provenance(kind=kind, local_id=str(held.id))
        session.add(copy)
        batch.copies_by_origin[(origin.instance_id, origin.object_id)] = copy
        batch.objects[copy.local_id] = held
    _stamp(copy, peer, origin, peer_object_id, version)
    copy.retired, copy.retired_reason = False, None
    batch.copies_by_peer_id[peer_object_id] = copy
    await session.flush()
    return Outcome(done)

"""STIX bundles (or TAXII envelopes) in: each ``indicator`` becomes an indicator submission
through the same service and checks GraphQL uses; every object gets its own outcome.

:func:`read_indicator` is pure (one STIX object to a :class:`Submission` or a reason it
cannot be one); :func:`import_objects` writes, in the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.config import IndicatorSettings
from alliance.errors import DomainError, InvalidInput
from alliance.indicators import service as indicators
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.models import RevocationReason
from alliance.sharing import TLP, Distribution
from alliance.sharing.policy import Viewer
from alliance.stix.conversion import parse_timestamp
from alliance.stix.extensions import RULE_TYPE
from alliance.stix.markings import tlp_of_refs
from alliance.stix.patterns import UnsupportedPattern, read_pattern

# Objects a bundle carries for reference; accepted, not stored (the instance has its own).
REFERENCE_TYPES = frozenset({"identity", "marking-definition", "extension-definition"})
MAX_OBJECTS = 10_000


@dataclass(frozen=True, slots=True)
class Placement:
    """Where imported indicators go: a working group (or none) and the default distribution;
    ``allowed`` the distributions an object may ask for itself."""

    working_group_id: uuid.UUID | None
    distribution: Distribution
    allowed: frozenset[Distribution]


@dataclass(frozen=True, slots=True)
class ReadIndicator:
    submission: indicators.Submission
    revoked: bool
    working_group_slug: str | None
    # The distribution the object's Alliance extension names, if any.
    distribution: Distribution | None = None


@dataclass(slots=True)
class ObjectOutcome:
    id: str
    version: str | None
    ok: bool
    message: str | None = None
    stored: bool = False


@dataclass(slots=True)
class ImportReport:
    outcomes: list[ObjectOutcome] = field(default_factory=list)
    created: int = 0
    updated: int = 0

    @property
    def failures(self) -> list[ObjectOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def successes(self) -> list[ObjectOutcome]:
        return [o for o in self.outcomes if o.ok]


class Unreadable(ValueError):
    """A STIX object that cannot become an indicator; the message says why."""


def alliance_extension(obj: dict[str, Any]) -> dict[str, Any]:
    """The Alliance property extension of an indicator, from whichever instance exported it."""
    for key, value in (obj.get("extensions") or {}).items():
        if (
            isinstance(key, str)
            and key.startswith("extension-definition--")
            and isinstance(value, dict)
            and "indicator_type" in value
            and "value" in value
        ):
            return value
    return {}


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Unreadable(f"{name} must be a list of strings")
    return tuple(value)


def _moment(obj: dict[str, Any], name: str) -> Any:
    raw = obj.get(name)
    if raw is None:
        return None
    try:
        return parse_timestamp(str(raw))
    except ValueError as exc:
        raise Unreadable(f"{name} is not a STIX timestamp: {raw!r}") from exc


def read_indicator(obj: dict[str, Any], placement: Placement) -> ReadIndicator:
    """One STIX ``indicator`` as a submission placed by ``placement``."""
    if obj.get("spec_version") != "2.1":
        raise Unreadable("only STIX 2.1 objects (spec_version 2.1) are read")
    if obj.get("pattern_type") != "stix":
        raise Unreadable(f"pattern_type {obj.get('pattern_type')!r} is not supported (stix only)")
    pattern = obj.get("pattern")
    if not isinstance(pattern, str):
        raise Unreadable("an indicator needs a pattern")
    ext = alliance_extension(obj)
    try:
        url_type = IndicatorType(ext.get("indicator_type", IndicatorType.LISTING_URL.value))
        found = read_pattern(pattern, url_type=url_type)
    except (UnsupportedPattern, ValueError) as exc:
        raise Unreadable(str(exc)) from exc
    kind, value = found.type, found.value
    if ext:
        try:
            kind = IndicatorType(str(ext["indicator_type"]))
        except ValueError as exc:
            raise Unreadable(f"unknown indicator_type {ext['indicator_type']!r}") from exc
        value = str(ext["value"])
    confidence = obj.get("confidence", 50)
    if not isinstance(confidence, int) or isinstance(confidence, bool):
        raise Unreadable("confidence must be an integer from 0 to 100")
    distribution = placement.distribution
    asked = ext.get("distribution")
    wanted = None
    if asked is not None:
        try:
            wanted = Distribution(str(asked))
        except ValueError as exc:
            raise Unreadable(f"unknown distribution {asked!r}") from exc
        if wanted in placement.allowed:
            distribution = wanted
    parts = ext.get("parts") or {}
    if not isinstance(parts, dict):
        raise Unreadable("parts must be an object")
    links = tuple(
        ref["url"]
        for ref in obj.get("external_references") or ()
        if isinstance(ref, dict) and ref.get("source_name") == "evidence" and "url" in ref
    )
    refs = _strings(obj.get("object_marking_refs"), "object_marking_refs")
    submission = indicators.Submission(
        type=kind,
        value=value,
        parts=parts,
        working_group_id=placement.working_group_id,
        distribution=distribution,
        tlp=tlp_of_refs(list(refs)) or TLP.AMBER,
        confidence=confidence,
        severity=str(ext.get("severity", "MEDIUM")),
        brands=_strings(ext.get("brands"), "brands"),
        product_category=ext.get("product_category"),
        valid_from=_moment(obj, "valid_from"),
        valid_until=_moment(obj, "valid_until"),
        note=str(obj.get("description") or ""),
        tags=_strings(obj.get("labels"), "labels"),
        evidence_links=links,
    )
    group = ext.get("working_group")
    return ReadIndicator(
        submission,
        obj.get("revoked") is True,
        group if isinstance(group, str) else None,
        wanted,
    )


def _version(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return None
    version = obj.get("modified") or obj.get("created")
    return str(version) if version is not None else None


def _explain(exc: DomainError) -> str:
    if isinstance(exc, InvalidInput):
        return "; ".join(f"{'.'.join(p.path)}: {p.code}: {p.message}" for p in exc.problems)
    return f"{exc.code}: {exc.message}"


async def import_objects(
    session: AsyncSession,
    viewer: Viewer,
    objects: Sequence[Any],
    placement: Placement | Callable[[ReadIndicator], indicators.Submission],
    *,
    default_placement: Placement | None = None,
    settings: IndicatorSettings | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Submit the indicators among ``objects``; an outcome per object, in order.

    ``placement`` places every indicator; a callable instead adjusts each read submission
    (the CLI resolves the working group an exported object names), reading with
    ``default_placement``.
    """
    limits = settings or IndicatorSettings()
    read_with = placement if isinstance(placement, Placement) else default_placement
    assert read_with is not None
    report = ImportReport()
    pending: list[tuple[int, ReadIndicator, indicators.Submission]] = []
    for obj in objects:
        stix_id = str(obj.get("id")) if isinstance(obj, dict) else "?"
        outcome = ObjectOutcome(stix_id, _version(obj), ok=False)
        report.outcomes.append(outcome)
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
            outcome.message = "not a STIX object"
            continue
        if obj["type"] in REFERENCE_TYPES:
            outcome.ok = True
            outcome.message = "reference object: accepted, not stored"
            continue
        if obj["type"] == RULE_TYPE:
            outcome.message = "rules are not imported from STIX (write them through the API)"
            continue
        if obj["type"] != "indicator":
            outcome.message = f"{obj['type']} objects are not stored here (indicators only)"
            continue
        try:
            read = read_indicator(obj, read_with)
            submission = read.submission if isinstance(placement, Placement) else placement(read)
        except (Unreadable, DomainError) as exc:
            outcome.message = _explain(exc) if isinstance(exc, DomainError) else str(exc)
            continue
        pending.append((len(report.outcomes) - 1, read, submission))
    for start in range(0, len(pending), limits.max_batch_size):
        chunk = pending[start : start + limits.max_batch_size]
        results = await indicators.submit(
            session, viewer, [s for _, _, s in chunk], settings=limits
        )
        for (position, read, _), result in zip(chunk, results, strict=True):
            outcome = report.outcomes[position]
            if result.error is not None or result.assertion is None:
                outcome.message = _explain(result.error) if result.error else "not written"
                continue
            if read.revoked:
                await indicators.revoke(
                    session,
                    viewer,
                    result.assertion.id,
                    reason=RevocationReason.WITHDRAWN,
                    note="revoked in the imported STIX object",
                )
            outcome.ok = True
            outcome.stored = True
            if result.created:
                report.created += 1
            else:
                report.updated += 1
        if progress is not None:
            progress(len(chunk))
    return report

"""What the TAXII endpoints answer: collections per caller, pages of objects and manifests,
versions, and the import of posted objects with its status resource.

The sharing policy decides every object a caller reads (through :mod:`.repository`); a
collection adds its scope: one working group's objects, or what is shared alliance-wide.
Pages are in date-added order (an object's last write; the instance's definitions first),
with a stateless ``next`` cursor.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.auth.principal import Principal
from alliance.errors import DomainError
from alliance.guides.service import Reader, reader_for
from alliance.sharing import Distribution
from alliance.sharing.policy import INSTANCE_WIDE, Viewer, ViewerKind, can_contribute
from alliance.sharing.service import load_viewer
from alliance.stix import importing
from alliance.stix import repository as repo
from alliance.stix.conversion import (
    AssertionData,
    RuleData,
    identity_object,
    indicator_id,
    indicator_object,
    parse_timestamp,
    rule_id,
    rule_object,
    timestamp,
)
from alliance.stix.exporting import definition_objects, guide_objects, owner_of
from alliance.stix.extensions import (
    DEFINITIONS_CREATED,
    GUIDE_TYPE,
    RULE_TYPE,
    Instance,
)
from alliance.stix.guides import guide_id
from alliance.taxii import repository as taxii_repo
from alliance.taxii.models import TaxiiStatus

READ_SCOPES = ("indicators:read", "sync:read")
WRITE_SCOPE = "indicators:write"
MAX_PAGE = 1000
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
SPEC_VERSION = "2.1"
# Ranks in date-added order at one instant: definitions, organisations, indicators, rules,
# identification guides.
DEFINITION, ORGANISATION, ASSERTION, RULE, GUIDE = 0, 1, 2, 3, 4


class TaxiiError(DomainError):
    """A TAXII error object with its HTTP status."""

    code = "TAXII"

    def __init__(self, http_status: int, title: str, description: str | None = None) -> None:
        super().__init__(title if description is None else f"{title}: {description}")
        self.http_status = http_status
        self.title = title
        self.description = description

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"title": self.title, "http_status": str(self.http_status)}
        if self.description:
            body["description"] = self.description
        return body


# --- who is calling, and the collections it sees -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Caller:
    principal: Principal
    viewer: Viewer
    # How it reads guides (the tier rule: enforcement, the review scope); None: as a viewer
    # who never sees restricted tiers.
    reader: Reader | None = None

    @property
    def guide_reader(self) -> Reader:
        return self.reader or Reader(self.viewer)

    @property
    def can_read(self) -> bool:
        return any(self.principal.has_scope(s) for s in READ_SCOPES)

    @property
    def may_write(self) -> bool:
        return self.principal.has_scope(WRITE_SCOPE)


async def caller(session: AsyncSession, principal: Principal | None) -> Caller:
    if principal is None:
        raise TaxiiError(401, "Authentication required", "send an OAuth bearer token")
    viewer = await load_viewer(session, principal)
    allowed = any(principal.has_scope(s) for s in (*READ_SCOPES, WRITE_SCOPE))
    if not allowed or viewer.kind == ViewerKind.ANONYMOUS:
        raise TaxiiError(
            403, "Forbidden", "the token needs indicators:read, sync:read or indicators:write"
        )
    return Caller(principal, viewer, await reader_for(session, principal))


@dataclass(frozen=True, slots=True)
class Collection:
    id: str
    title: str
    description: str
    scope: repo.Scope
    can_read: bool
    can_write: bool

    def resource(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "can_read": self.can_read,
            "can_write": self.can_write,
            "media_types": [STIX_MEDIA_TYPE],
        }


def collection_id(instance: Instance, working_group_id: uuid.UUID | None) -> str:
    name = "alliance" if working_group_id is None else str(working_group_id)
    return str(uuid.uuid5(instance.namespace, f"taxii-collection/{name}"))


async def collections(session: AsyncSession, instance: Instance, who: Caller) -> list[Collection]:
    found = [
        Collection(
            id=collection_id(instance, None),
            title="alliance",
            description="Indicators shared alliance-wide (ALLIANCE and FEDERATION distribution)",
            scope=repo.Scope(None),
            can_read=who.can_read,
            can_write=who.may_write and can_contribute(who.viewer, None),
        )
    ]
    for group in await repo.working_groups(session, sorted(who.viewer.working_group_ids)):
        found.append(
            Collection(
                id=collection_id(instance, group.id),
                title=group.slug,
                description=f"Indicators of the {group.name} working group",
                scope=repo.Scope(group.id),
                can_read=who.can_read,
                can_write=who.may_write and can_contribute(who.viewer, group.id),
            )
        )
    return found


async def collection(
    session: AsyncSession, instance: Instance, who: Caller, wanted: str
) -> Collection:
    for found in await collections(session, instance, who):
        if found.id == wanted:
            return found
    raise TaxiiError(404, "Collection not found", f"no collection {wanted!r} for this caller")


def _require_read(found: Collection) -> None:
    if not found.can_read:
        raise TaxiiError(403, "Forbidden", "this token may not read this collection")


# --- filters ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cursor:
    date_added: datetime
    rank: int
    key: str

    def token(self) -> str:
        raw = json.dumps([timestamp(self.date_added), self.rank, self.key]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def parse(cls, token: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            moment, rank, key = json.loads(raw)
            return cls(parse_timestamp(moment), int(rank), str(key))
        except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
            raise TaxiiError(400, "Invalid next", "the next parameter is not one we gave") from exc

    def sort_key(self) -> tuple[datetime, int, str]:
        return (self.date_added, self.rank, self.key)


@dataclass(frozen=True, slots=True)
class Filters:
    added_after: datetime | None = None
    limit: int = MAX_PAGE
    next: Cursor | None = None
    types: frozenset[str] | None = None
    ids: frozenset[str] | None = None
    # None: the latest version (all we keep); a set: these versions, by modified time.
    versions: frozenset[datetime] | None = None
    spec_versions: frozenset[str] | None = None


def _values(raw: str) -> frozenset[str]:
    return frozenset(v.strip() for v in raw.split(",") if v.strip())


def parse_filters(params: dict[str, str], *, paged: bool = True) -> Filters:
    known = {"added_after", "match[type]", "match[id]", "match[version]", "match[spec_version]"}
    if paged:
        known |= {"limit", "next"}
    for name in params:
        if name not in known:
            raise TaxiiError(400, "Unknown parameter", f"{name!r} is not a filter here")
    added_after = None
    if "added_after" in params:
        try:
            added_after = parse_timestamp(params["added_after"])
        except ValueError as exc:
            raise TaxiiError(400, "Invalid added_after", "must be a UTC timestamp") from exc
    limit = MAX_PAGE
    if "limit" in params:
        try:
            limit = int(params["limit"])
        except ValueError as exc:
            raise TaxiiError(400, "Invalid limit", "must be a positive integer") from exc
        if limit < 1:
            raise TaxiiError(400, "Invalid limit", "must be a positive integer")
        limit = min(limit, MAX_PAGE)
    versions: frozenset[datetime] | None = None
    if "match[version]" in params:
        wanted = _values(params["match[version]"])
        if not wanted & {"last", "first", "all"}:
            try:
                versions = frozenset(parse_timestamp(v) for v in wanted)
            except ValueError as exc:
                raise TaxiiError(
                    400, "Invalid match[version]", "last, first, all or timestamps"
                ) from exc
    return Filters(
        added_after=added_after,
        limit=limit,
        next=Cursor.parse(params["next"]) if params.get("next") else None,
        types=_values(params["match[type]"]) if "match[type]" in params else None,
        ids=_values(params["match[id]"]) if "match[id]" in params else None,
        versions=versions,
        spec_versions=_values(params["match[spec_version]"])
        if "match[spec_version]" in params
        else None,
    )


# --- pages of objects ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    date_added: datetime
    rank: int
    key: str
    object: dict[str, Any]

    def sort_key(self) -> tuple[datetime, int, str]:
        return (self.date_added, self.rank, self.key)

    def manifest(self) -> dict[str, Any]:
        return {
            "id": self.object["id"],
            "date_added": timestamp(self.date_added),
            "version": self.object.get("modified", self.object.get("created")),
            "media_type": STIX_MEDIA_TYPE,
        }


@dataclass(frozen=True, slots=True)
class Page:
    entries: list[Entry]
    more: bool

    @property
    def next(self) -> str | None:
        if not self.more or not self.entries:
            return None
        last = self.entries[-1]
        return Cursor(last.date_added, last.rank, last.key).token()

    def headers(self) -> dict[str, str]:
        if not self.entries:
            return {}
        return {
            "X-TAXII-Date-Added-First": timestamp(self.entries[0].date_added),
            "X-TAXII-Date-Added-Last": timestamp(self.entries[-1].date_added),
        }


def _definitions(instance: Instance) -> list[Entry]:
    added = parse_timestamp(DEFINITIONS_CREATED)
    return [Entry(added, DEFINITION, o["id"], o) for o in definition_objects(instance)]


def _passes(entry: Entry, filters: Filters) -> bool:
    obj = entry.object
    if filters.types is not None and obj["type"] not in filters.types:
        return False
    if filters.ids is not None and obj["id"] not in filters.ids:
        return False
    if filters.added_after is not None and entry.date_added <= filters.added_after:
        return False
    if filters.next is not None and entry.sort_key() <= filters.next.sort_key():
        return False
    if filters.versions is not None:
        version = parse_timestamp(obj.get("modified", obj.get("created")))
        if version not in filters.versions:
            return False
    return True


async def _ids_for(
    session: AsyncSession,
    instance: Instance,
    who: Caller,
    found: Collection,
    wanted: frozenset[str],
) -> tuple[list[uuid.UUID], list[uuid.UUID], list[uuid.UUID]]:
    """The collection's assertions, rules and guides whose derived STIX ids are wanted (ids
    are derived one way, so the collection's ids are derived and compared)."""
    assertions: list[uuid.UUID] = []
    rules: list[uuid.UUID] = []
    guides: list[uuid.UUID] = []
    if any(w.startswith("indicator--") for w in wanted):
        assertions = [
            aid
            for aid in await repo.assertion_ids(session, who.viewer, found.scope)
            if indicator_id(instance, aid) in wanted
        ]
    if any(w.startswith(f"{RULE_TYPE}--") for w in wanted):
        rules = [
            rid
            for rid in await repo.rule_ids(session, who.viewer, found.scope)
            if rule_id(instance, rid) in wanted
        ]
    if any(w.startswith(f"{GUIDE_TYPE}--") for w in wanted):
        guides = [
            gid
            for gid in await repo.guide_ids(session, who.viewer, found.scope)
            if guide_id(instance, gid) in wanted
        ]
    return assertions, rules, guides


def _source_cursor(cursor: Cursor | None, rank: int) -> repo.AssertionCursor | None:
    """Where a source ranked ``rank`` resumes after the page's last entry."""
    if cursor is None:
        return None
    if cursor.rank != rank:
        return repo.AssertionCursor(cursor.date_added, None, inclusive=cursor.rank < rank)
    try:
        return repo.AssertionCursor(cursor.date_added, uuid.UUID(cursor.key))
    except ValueError as exc:
        raise TaxiiError(400, "Invalid next", "the next parameter is not one we gave") from exc


async def page(
    session: AsyncSession, instance: Instance, who: Caller, found: Collection, filters: Filters
) -> Page:
    _require_read(found)
    if filters.spec_versions is not None and SPEC_VERSION not in filters.spec_versions:
        return Page([], more=False)
    limit = filters.limit
    candidates: list[Entry] = []
    types = filters.types
    if types is None or types & {"identity", "extension-definition", "marking-definition"}:
        candidates += [e for e in _definitions(instance) if _passes(e, filters)]
    # The member directory is for members: a peer instance gets the objects, not the roster.
    if (types is None or "identity" in types) and who.viewer.kind == ViewerKind.MEMBER:
        for org in await repo.organisations(session):
            obj = identity_object(instance, owner_of(org))
            entry = Entry(org.updated_at, ORGANISATION, str(org.id), obj)
            if _passes(entry, filters):
                candidates.append(entry)
    assertion_ids: list[uuid.UUID] | None = None
    rule_ids: list[uuid.UUID] | None = None
    guide_ids: list[uuid.UUID] | None = None
    if filters.ids is not None:
        assertion_ids, rule_ids, guide_ids = await _ids_for(
            session, instance, who, found, filters.ids
        )
    versions = sorted(filters.versions) if filters.versions is not None else None
    if types is None or "indicator" in types:
        rows = await repo.page_assertions(
            session,
            who.viewer,
            found.scope,
            after=_source_cursor(filters.next, ASSERTION),
            added_after=filters.added_after,
            ids=assertion_ids,
            versions=versions,
            limit=limit + 1,
        )
        for row in rows:
            obj = indicator_object(instance, AssertionData.of(row))
            candidates.append(Entry(row.updated_at, ASSERTION, str(row.id), obj))
    if types is None or RULE_TYPE in types:
        for rule, version in await repo.page_rules(
            session,
            who.viewer,
            found.scope,
            after=_source_cursor(filters.next, RULE),
            added_after=filters.added_after,
            ids=rule_ids,
            versions=versions,
            limit=limit + 1,
        ):
            obj = rule_object(instance, RuleData.of(rule, version))
            candidates.append(Entry(rule.updated_at, RULE, str(rule.id), obj))
    if types is None or GUIDE_TYPE in types:
        rows = await repo.page_guides(
            session,
            who.viewer,
            found.scope,
            after=_source_cursor(filters.next, GUIDE),
            added_after=filters.added_after,
            ids=guide_ids,
            versions=versions,
            limit=limit + 1,
        )
        objects = await guide_objects(session, who.guide_reader, instance, rows)
        for (guide, _, _), obj in zip(rows, objects, strict=True):
            candidates.append(Entry(guide.updated_at, GUIDE, str(guide.id), obj))
    candidates.sort(key=Entry.sort_key)
    return Page(candidates[:limit], more=len(candidates) > limit)


async def one_object(
    session: AsyncSession,
    instance: Instance,
    who: Caller,
    found: Collection,
    object_id: str,
    filters: Filters,
) -> Page:
    """The versions of one object that pass the filters (one at most: we keep the latest)."""
    narrowed = Filters(
        added_after=filters.added_after,
        limit=MAX_PAGE,
        ids=frozenset({object_id}),
        versions=filters.versions,
        spec_versions=filters.spec_versions,
    )
    result = await page(session, instance, who, found, narrowed)
    if not result.entries:
        exists = await page(session, instance, who, found, Filters(ids=frozenset({object_id})))
        if not exists.entries:
            raise TaxiiError(404, "Object not found", f"no object {object_id!r} in this collection")
    return result


# --- adding objects -----------------------------------------------------------------------------


def status_resource(status: TaxiiStatus) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(status.id),
        "status": status.status,
        "request_timestamp": timestamp(status.created_at),
        "total_count": status.total_count,
        "success_count": status.success_count,
        "failure_count": status.failure_count,
        "pending_count": status.pending_count,
    }
    for name in ("successes", "failures", "pendings"):
        if getattr(status, name):
            body[name] = getattr(status, name)
    return body


def _placement(found: Collection) -> importing.Placement:
    if found.scope.working_group_id is None:
        return importing.Placement(None, Distribution.ALLIANCE, frozenset(INSTANCE_WIDE))
    return importing.Placement(
        found.scope.working_group_id, Distribution.WORKING_GROUP, frozenset(Distribution)
    )


def _details(outcome: importing.ObjectOutcome) -> dict[str, Any]:
    detail: dict[str, Any] = {"id": outcome.id, "version": outcome.version or ""}
    if outcome.message:
        detail["message"] = outcome.message
    return detail


async def add_objects(
    session: AsyncSession, who: Caller, found: Collection, envelope: Any
) -> TaxiiStatus:
    """Import the envelope's objects into the collection; the stored status of the request."""
    if not found.can_write:
        raise TaxiiError(403, "Forbidden", "this token may not write to this collection")
    if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
        raise TaxiiError(400, "Invalid envelope", 'expected {"objects": [...]}')
    objects = envelope["objects"]
    if len(objects) > importing.MAX_OBJECTS:
        raise TaxiiError(413, "Too many objects", f"at most {importing.MAX_OBJECTS} per request")
    report = await importing.import_objects(session, who.viewer, objects, _placement(found))
    assert who.viewer.organisation_id is not None
    status = TaxiiStatus(
        id=uuid.uuid4(),
        organisation_id=who.viewer.organisation_id,
        collection_id=found.id,
        status="complete",
        total_count=len(report.outcomes),
        success_count=len(report.successes),
        failure_count=len(report.failures),
        pending_count=0,
        successes=[_details(o) for o in report.successes],
        failures=[_details(o) for o in report.failures],
        pendings=[],
    )
    session.add(status)
    await session.flush()
    return status


async def get_status(session: AsyncSession, who: Caller, status_id: str) -> TaxiiStatus:
    try:
        wanted = uuid.UUID(status_id)
    except ValueError as exc:
        raise TaxiiError(404, "Status not found", f"no status {status_id!r}") from exc
    if who.viewer.organisation_id is None:
        raise TaxiiError(404, "Status not found", f"no status {status_id!r}")
    found = await taxii_repo.status(session, wanted, who.viewer.organisation_id)
    if found is None:
        raise TaxiiError(404, "Status not found", f"no status {status_id!r}")
    return found

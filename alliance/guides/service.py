"""Identification guides: writing, reviewing, publishing, translating and reading them — the
only writers of the guides tables.

Workflow: DRAFT → IN_REVIEW → APPROVED → PUBLISHED (a new immutable version; the one before
is SUPERSEDED) → … → ARCHIVED. Editing a published guide opens a new draft while readers
keep reading the published version. The approver is a different person from the one who
submitted, holding ``guides:review`` and a seat in the guide's working group; publishing
needs ``guides:publish``.

``principal`` is the caller; ``None`` is the local operator (CLI, demo), who names the owning
organisation and may do anything.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.auth.principal import Principal
from alliance.changelog.models import Operation
from alliance.changelog.service import record_change
from alliance.db import utcnow
from alliance.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from alliance.guides import (
    photo_access,  # noqa: F401  (registers guide photos with the blob store)
    serial,
)
from alliance.guides import repository as repo
from alliance.guides.models import (
    Guide,
    GuideNotification,
    GuidePhoto,
    GuideStatus,
    GuideSubscription,
    GuideTellIndicator,
    GuideTranslation,
    GuideVersion,
    NotificationKind,
    VersionStatus,
)
from alliance.guides.sections import (
    RESTRICTED_TIERS,
    FeatureKind,
    fingerprint,
    language_code,
    parse_content,
    translatable,
)
from alliance.guides.tiers import hidden_feature_ids, visible_content
from alliance.observability.context import current_actor
from alliance.orgs.models import MembershipRole, Organisation, OrganisationKind, WorkingGroup
from alliance.sharing import TLP, Distribution
from alliance.sharing.policy import (
    Viewer,
    Visibility,
    can_contribute,
    can_see,
    can_see_restricted_tier,
)
from alliance.sharing.service import load_viewer
from alliance.taxonomy import repository as taxonomy_repo

GUIDE_KIND = "guide"
OPERATOR_SCOPE = "admin"
WRITE_SCOPE = "guides:write"
REVIEW_SCOPE = "guides:review"
PUBLISH_SCOPE = "guides:publish"
STALE_BATCH = 500
MAX_NOTE = 2000


class TranslationStatus:
    CURRENT = "CURRENT"
    OUTDATED = "OUTDATED"
    MISSING = "MISSING"


def visibility_of(guide: Guide) -> Visibility:
    return Visibility(guide.owner_org_id, guide.working_group_id, guide.distribution, guide.tlp)


def _record(session: AsyncSession, guide: Guide, operation: Operation) -> None:
    record_change(
        session,
        kind=GUIDE_KIND,
        object_id=guide.id,
        version=guide.version,
        operation=operation,
        distribution=guide.distribution,
        tlp=guide.tlp,
        owner_org_id=guide.owner_org_id,
        working_group_id=guide.working_group_id,
    )


# --- who is reading -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reader:
    """A viewer and what the tier rule needs to know about it."""

    viewer: Viewer
    enforcement: bool = False
    holds_review_scope: bool = False
    # The local operator (CLI) reads every guide; restricted tiers only when asked to.
    operator: bool = False
    operator_restricted: bool = False

    def sees_restricted(self, guide: Guide) -> bool:
        if self.operator:
            return self.operator_restricted
        return can_see_restricted_tier(
            self.viewer,
            guide.owner_org_id,
            guide.working_group_id,
            enforcement=self.enforcement,
            holds_review_scope=self.holds_review_scope,
        )

    def may_read(self, guide: Guide) -> bool:
        if self.operator:
            return True
        if not can_see(self.viewer, visibility_of(guide)):
            return False
        return (
            guide.published_version is not None
            or guide.owner_org_id == self.viewer.organisation_id
            or self.viewer.role_in(guide.working_group_id) is not None
        )


async def _is_enforcement(session: AsyncSession, org_id: uuid.UUID | None) -> bool:
    if org_id is None:
        return False
    org = await session.get(Organisation, org_id)
    return org is not None and org.kind == OrganisationKind.ENFORCEMENT


async def reader_for(session: AsyncSession, principal: Principal | None) -> Reader:
    viewer = await load_viewer(session, principal)
    return Reader(
        viewer,
        enforcement=await _is_enforcement(session, viewer.organisation_id),
        holds_review_scope=principal is not None and principal.has_scope(REVIEW_SCOPE),
    )


async def reader_for_organisation(session: AsyncSession, org: Organisation) -> Reader:
    """How an organisation (all its seats, no review scope) reads: the CLI's ``--as``."""
    from alliance.indicators.service import viewer_of_organisation

    viewer = await viewer_of_organisation(session, org.id)
    return Reader(viewer, enforcement=org.kind == OrganisationKind.ENFORCEMENT)


# --- writing --------------------------------------------------------------------------------


async def _content(session: AsyncSession, data: Mapping[str, Any]) -> dict[str, Any]:
    known = await taxonomy_repo.category_ids(session) if data.get("category_id") else None
    return parse_content(data, known_categories=known)


def _visibility_input(distribution: Distribution | str, tlp: TLP | str) -> tuple[Distribution, TLP]:
    problems = []
    try:
        dist = Distribution(distribution)
    except ValueError:
        problems.append(FieldProblem(("distribution",), "INVALID_CHOICE", "not a distribution"))
    try:
        marking = TLP(tlp)
    except ValueError:
        problems.append(FieldProblem(("tlp",), "INVALID_CHOICE", "not a TLP marking"))
    if problems:
        raise InvalidInput(problems)
    return dist, marking


def _language(value: str, path: str = "sourceLanguage") -> str:
    code = language_code(value)
    if code is None:
        raise InvalidInput(
            [FieldProblem((path,), "INVALID_LANGUAGE", "must be a language tag such as en or zh")]
        )
    return code


def _is_operator(principal: Principal | None) -> bool:
    return principal is None or principal.has_scope(OPERATOR_SCOPE)


def _require_scope(principal: Principal | None, scope: str) -> None:
    if principal is not None and not (principal.has_scope(scope) or _is_operator(principal)):
        raise Forbidden(f"requires the {scope!r} scope")


async def _writable(
    session: AsyncSession, principal: Principal | None, guide_id: uuid.UUID, scope: str
) -> tuple[Guide, Reader | None]:
    """The guide, locked, if the caller may see it and holds ``scope``."""
    guide = await repo.guide_for_update(session, guide_id)
    if guide is None:
        raise NotFound("guide", str(guide_id))
    if principal is None:
        return guide, None
    reader = await reader_for(session, principal)
    if not reader.may_read(guide):
        raise NotFound("guide", str(guide_id))
    _require_scope(principal, scope)
    return guide, reader


def _require_author(principal: Principal | None, reader: Reader | None, guide: Guide) -> None:
    """The owner organisation, or chairs and members of the guide's group, edit it."""
    if _is_operator(principal) or reader is None:
        return
    if reader.viewer.organisation_id == guide.owner_org_id:
        return
    if not can_contribute(reader.viewer, guide.working_group_id):
        raise Forbidden("only the owner and members of the guide's working group edit it")


def _expect(guide: Guide, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != guide.version:
        raise Conflict(
            f"the guide is at version {guide.version}, not {expected_version}; reload and retry"
        )


async def create_guide(
    session: AsyncSession,
    principal: Principal | None,
    *,
    working_group_id: uuid.UUID,
    content: Mapping[str, Any],
    source_language: str = "en",
    distribution: Distribution | str = Distribution.WORKING_GROUP,
    tlp: TLP | str = TLP.AMBER,
    review_by: date | None = None,
    owner_org_id: uuid.UUID | None = None,
) -> Guide:
    _require_scope(principal, WRITE_SCOPE)
    dist, marking = _visibility_input(distribution, tlp)
    language = _language(source_language)
    parsed = await _content(session, content)
    group = await session.get(WorkingGroup, working_group_id)
    if group is None:
        raise NotFound("working group", str(working_group_id))
    if principal is not None:
        owner = principal.organisation_id
        viewer = await load_viewer(session, principal)
        if not can_contribute(viewer, group.id):
            raise Forbidden("only chairs and members of a working group write guides in it")
    elif owner_org_id is None or await session.get(Organisation, owner_org_id) is None:
        raise NotFound("organisation", str(owner_org_id))
    else:
        owner = owner_org_id
    guide = Guide(
        title=parsed["title"],
        owner_org_id=owner,
        working_group_id=group.id,
        distribution=dist,
        tlp=marking,
        source_language=language,
        status=GuideStatus.DRAFT,
        draft=parsed,
        published_version=None,
        latest_version=0,
        review_by=review_by,
        version=1,
    )
    session.add(guide)
    await session.flush()
    _record(session, guide, Operation.CREATE)
    return guide


async def update_draft(
    session: AsyncSession,
    principal: Principal | None,
    guide_id: uuid.UUID,
    *,
    content: Mapping[str, Any],
    review_by: date | None = None,
    expected_version: int | None = None,
) -> Guide:
    guide, reader = await _writable(session, principal, guide_id, WRITE_SCOPE)
    _require_author(principal, reader, guide)
    _expect(guide, expected_version)
    if guide.status in (GuideStatus.IN_REVIEW, GuideStatus.APPROVED):
        raise Conflict("the draft is under review; a reviewer must request changes first")
    if guide.status == GuideStatus.ARCHIVED:
        raise Conflict("an archived guide is not edited")
    parsed = await _content(session, content)
    if reader is not None and not reader.sees_restricted(guide):
        # An editor who cannot read the restricted tiers keeps them as they are.
        kept = [f for f in guide.draft.get("features", []) if f.get("tier") in RESTRICTED_TIERS]
        if {f["id"] for f in parsed["features"]} & {f["id"] for f in kept}:
            raise Forbidden("you may not change covert or forensic features")
        parsed["features"] = [*parsed["features"], *kept]
    guide.draft = parsed
    guide.title = parsed["title"] if guide.published_version is None else guide.title
    if review_by is not None:
        guide.review_by = review_by
        guide.stale_since = None
    guide.status = GuideStatus.DRAFT
    guide.version += 1
    await session.flush()
    _record(session, guide, Operation.UPDATE)
    return guide


async def submit_for_review(
    session: AsyncSession,
    principal: Principal | None,
    guide_id: uuid.UUID,
    *,
    expected_version: int | None = None,
) -> Guide:
    guide, reader = await _writable(session, principal, guide_id, WRITE_SCOPE)
    _require_author(principal, reader, guide)
    _expect(guide, expected_version)
    if guide.status != GuideStatus.DRAFT:
        raise Conflict(f"the guide is {guide.status.value}; only a draft is submitted for review")
    guide.status = GuideStatus.IN_REVIEW
    guide.submitted_by = current_actor() if principal is None else principal.actor
    guide.submitted_by_person_id = principal.person_id if principal else None
    guide.approved_by = None
    guide.review_note = None
    guide.version += 1
    await session.flush()
    _record(session, guide, Operation.UPDATE)
    return guide


def _require_reviewer(principal: Principal | None, reader: Reader | None, guide: Guide) -> None:
    if principal is None:
        return
    assert reader is not None
    if not principal.has_scope(REVIEW_SCOPE):
        raise Forbidden(f"requires the {REVIEW_SCOPE!r} scope")
    if reader.viewer.role_in(guide.working_group_id) not in (
        MembershipRole.CHAIR,
        MembershipRole.MEMBER,
    ):
        raise Forbidden("the reviewer holds a seat in the guide's working group")
    if principal.person_id is None:
        raise Forbidden("a guide is reviewed by a person, not a machine client")
    if principal.person_id == guide.submitted_by_person_id or principal.actor == guide.submitted_by:
        raise Forbidden("the reviewer must be a different person from the one who submitted")


async def approve(
    session: AsyncSession,
    principal: Principal | None,
    guide_id: uuid.UUID,
    *,
    note: str = "",
    expected_version: int | None = None,
) -> Guide:
    guide, reader = await _writable(session, principal, guide_id, REVIEW_SCOPE)
    _require_reviewer(principal, reader, guide)
    _expect(guide, expected_version)
    if guide.status != GuideStatus.IN_REVIEW:
        raise Conflict(f"the guide is {guide.status.value}; only a guide in review is approved")
    guide.status = GuideStatus.APPROVED
    guide.approved_by = current_actor() if principal is None else principal.actor
    guide.review_note = note.strip()[:MAX_NOTE] or None
    guide.version += 1
    await session.flush()
    _record(session, guide, Operation.UPDATE)
    return guide


async def request_changes(
    session: AsyncSession,
    principal: Principal | None,
    guide_id: uuid.UUID,
    *,
    note: str,
    expected_version: int | None = None,
) -> Guide:
    guide, reader = await _writable(session, principal, guide_id, REVIEW_SCOPE)
    _require_reviewer(principal, reader, guide)
    _expect(guide, expected_version)
    if guide.status not in (GuideStatus.IN_REVIEW, GuideStatus.APPROVED):
        raise Conflict(f"the guide is {guide.status.value}; it is not in review")
    if not note.strip():
        raise InvalidInput([FieldProblem(("note",), "BLANK", "say what should change")])
    guide.status = GuideStatus.DRAFT
    guide.approved_by = None
    guide.review_note = note.strip()[:MAX_NOTE]
    guide.version += 1
    await session.flush()
    _record(session, guide, Operation.UPDATE)
    return guide


async def publish(
    session: AsyncSession,
    principal: Principal | None,
    guide_id: uuid.UUID,
    *,
    expected_version: int | None = None,
    compile_tells: bool = True,
) -> tuple[Guide, GuideVersion]:
    """``compile_tells=False`` is for a federated copy: its origin's indicators federate
    themselves."""
    guide, reader = await _writable(session, principal, guide_id, PUBLISH_SCOPE)
    if principal is not None and not principal.has_scope(PUBLISH_SCOPE):
        raise Forbidden(f"requires the {PUBLISH_SCOPE!r} scope")
    _require_author(principal, reader, guide)
    _expect(guide, expected_version)
    if guide.status != GuideStatus.APPROVED:
        raise Conflict(f"the guide is {guide.status.value}; only an approved guide is published")
    now = utcnow()
    if guide.published_version is not None:
        previous = await repo.version(session, guide.id, guide.published_version)
        if previous is not None:
            previous.status = VersionStatus.SUPERSEDED
    guide.latest_version += 1
    published = GuideVersion(
        guide_id=guide.id,
        number=guide.latest_version,
        status=VersionStatus.PUBLISHED,
        content=dict(guide.draft),
        submitted_by=guide.submitted_by,
        approved_by=guide.approved_by,
        published_by=current_actor() if principal is None else principal.actor,
        published_at=now,
    )
    session.add(published)
    guide.published_version = published.number
    guide.title = guide.draft["title"]
    guide.status = GuideStatus.PUBLISHED
    guide.stale_since = None
    guide.version += 1
    await session.flush()
    if compile_tells:
        await _compile_tells(session, guide, published)
    for sub in await repo.subscriptions(session, guide.id):
        session.add(
            GuideNotification(
                guide_id=guide.id,
                organisation_id=sub.organisation_id,
                person_id=sub.person_id,
                kind=NotificationKind.PUBLISHED,
                version=published.number,
                created_at=now,
            )
        )
    await session.flush()
    _record(session, guide, Operation.UPDATE)
    return guide, published


async def archive(
    session: AsyncSession,
    principal: Principal | None,
    guide_id: uuid.UUID,
    *,
    expected_version: int | None = None,
) -> Guide:
    guide, reader = await _writable(session, principal, guide_id, PUBLISH_SCOPE)
    if principal is not None and not principal.has_scope(PUBLISH_SCOPE):
        raise Forbidden(f"requires the {PUBLISH_SCOPE!r} scope")
    _require_author(principal, reader, guide)
    _expect(guide, expected_version)
    if guide.status == GuideStatus.ARCHIVED:
        raise Conflict("the guide is already archived")
    if guide.published_version is not None:
        current = await repo.version(session, guide.id, guide.published_version)
        if current is not None:
            current.status = VersionStatus.ARCHIVED
    guide.status = GuideStatus.ARCHIVED
    guide.version += 1
    await _retire_tells(session, guide)
    await session.flush()
    _record(session, guide, Operation.REVOKE)
    return guide


# --- tells compile into indicators ----------------------------------------------------------


def tell_submissions(guide: Guide, content: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The indicators a version's tells declare, as (tell id, submission).

    Covert and forensic tells are not compiled: an indicator is matched against listings by
    the platforms that read it, so it would reveal the tell to exactly the readers the tier
    keeps it from."""
    from alliance.indicators.service import Submission

    found: list[tuple[str, Any]] = []
    for feature in content.get("features", []):
        if feature.get("kind") != FeatureKind.TELL or feature.get("tier") in RESTRICTED_TIERS:
            continue
        values = [("keyword", v) for v in feature.get("keywords", [])]
        values += [("brand_misspelling", v) for v in feature.get("misspellings", [])]
        values += [(h["type"], h["value"]) for h in feature.get("image_hashes", [])]
        for type_, value in values:
            found.append(
                (
                    feature["id"],
                    Submission(
                        type=type_,
                        value=value,
                        working_group_id=guide.working_group_id,
                        distribution=guide.distribution,
                        tlp=guide.tlp,
                        confidence=70,
                        brands=tuple(content.get("brands", [])),
                        note=f"Counterfeit tell '{feature['title']}' of guide '{content['title']}'",
                        tags=("guide", f"guide:{guide.id}", f"tell:{feature['id']}"),
                    ),
                )
            )
    return found


async def _compile_tells(session: AsyncSession, guide: Guide, published: GuideVersion) -> None:
    from alliance.indicators import service as indicators

    wanted = tell_submissions(guide, published.content)
    viewer = await indicators.viewer_of_organisation(session, guide.owner_org_id)
    results = await indicators.submit(session, viewer, [s for _, s in wanted]) if wanted else []
    problems = [
        FieldProblem(("features", tell, *p.path), p.code, p.message)
        for (tell, _), r in zip(wanted, results, strict=True)
        if r.error is not None
        for p in getattr(
            r.error, "problems", [FieldProblem(("value",), r.error.code, r.error.message)]
        )
    ]
    if problems:
        raise InvalidInput(problems)
    keep = {
        (tell, r.assertion.id) for (tell, _), r in zip(wanted, results, strict=True) if r.assertion
    }
    for link in await repo.tell_links(session, guide.id):
        if (link.tell_id, link.assertion_id) not in keep:
            await _revoke_link(session, viewer, link, "the tell was removed from the guide")
    existing = {
        (link.tell_id, link.assertion_id) for link in await repo.tell_links(session, guide.id)
    }
    for tell, assertion_id in sorted(keep, key=str):
        if (tell, assertion_id) not in existing:
            session.add(
                GuideTellIndicator(
                    guide_id=guide.id,
                    tell_id=tell,
                    assertion_id=assertion_id,
                    version=published.number,
                )
            )


async def _revoke_link(
    session: AsyncSession, viewer: Viewer, link: GuideTellIndicator, note: str
) -> None:
    from alliance.indicators import service as indicators
    from alliance.indicators.models import AssertionStatus, IndicatorAssertion, RevocationReason

    link.retired_at = utcnow()
    assertion = await session.get(IndicatorAssertion, link.assertion_id)
    if assertion is not None and assertion.status != AssertionStatus.REVOKED:
        await indicators.revoke(
            session, viewer, link.assertion_id, reason=RevocationReason.WITHDRAWN, note=note
        )


async def _retire_tells(session: AsyncSession, guide: Guide) -> None:
    from alliance.indicators import service as indicators

    links = await repo.tell_links(session, guide.id)
    if not links:
        return
    viewer = await indicators.viewer_of_organisation(session, guide.owner_org_id)
    for link in links:
        await _revoke_link(session, viewer, link, "GUIDE_ARCHIVED: the guide was archived")


# --- translations ---------------------------------------------------------------------------


def _source_content(guide: Guide, published: GuideVersion | None) -> dict[str, Any]:
    return published.content if published is not None else guide.draft


async def translate(
    session: AsyncSession,
    principal: Principal | None,
    guide_id: uuid.UUID,
    *,
    language: str,
    sections: Mapping[str, Mapping[str, str]],
) -> list[GuideTranslation]:
    """Store (or replace) sections of one language, each tied to the source section it renders:
    that of the published version, or of the draft while there is none."""
    guide, reader = await _writable(session, principal, guide_id, WRITE_SCOPE)
    _require_author(principal, reader, guide)
    lang = _language(language, "language")
    if lang == guide.source_language:
        raise InvalidInput(
            [FieldProblem(("language",), "SOURCE_LANGUAGE", "is the guide's source language")]
        )
    published = (
        await repo.version(session, guide.id, guide.published_version)
        if guide.published_version
        else None
    )
    source = _source_content(guide, published)
    sources = translatable(source)
    hidden = hidden_feature_ids(source, restricted=reader is None or reader.sees_restricted(guide))
    problems = []
    if not sections:
        problems.append(FieldProblem(("sections",), "REQUIRED", "translate at least one section"))
    for key, value in sections.items():
        if key not in sources or key.removeprefix("feature:") in hidden:
            problems.append(FieldProblem(("sections", key), "UNKNOWN_SECTION", "no such section"))
            continue
        for part, text in value.items():
            if part not in sources[key] or not isinstance(text, str) or len(text) > 20_000:
                problems.append(
                    FieldProblem(("sections", key, part), "INVALID", "not a part of the section")
                )
    if problems:
        raise InvalidInput(problems)
    existing = {t.section: t for t in await repo.translations(session, guide.id, lang)}
    written = []
    actor = current_actor() if principal is None else principal.actor
    for key, value in sections.items():
        row = existing.get(key)
        if row is None:
            row = GuideTranslation(guide_id=guide.id, language=lang, section=key)
            session.add(row)
        row.content = {part: text.strip() for part, text in value.items()}
        row.source_hash = fingerprint(sources[key])
        row.translated_by = actor
        written.append(row)
    guide.version += 1
    await session.flush()
    _record(session, guide, Operation.UPDATE)
    return written


# --- subscriptions and notifications --------------------------------------------------------


async def subscribe(
    session: AsyncSession, principal: Principal, guide_id: uuid.UUID
) -> GuideSubscription:
    reader = await reader_for(session, principal)
    guide = await repo.readable_guide(session, reader.viewer, guide_id)
    if guide is None:
        raise NotFound("guide", str(guide_id))
    found = await repo.subscription(
        session, guide.id, principal.organisation_id, principal.person_id
    )
    if found is not None:
        return found
    sub = GuideSubscription(
        guide_id=guide.id, organisation_id=principal.organisation_id, person_id=principal.person_id
    )
    session.add(sub)
    await session.flush()
    return sub


async def mark_stale(
    session: AsyncSession, *, today: date | None = None, limit: int = STALE_BATCH
) -> list[Guide]:
    """Guides past their review-by date become stale, once; their owners are notified."""
    moment = utcnow()
    due = await repo.due_for_review(session, today or moment.date(), limit)
    for guide in due:
        guide.stale_since = moment
        guide.version += 1
        session.add(
            GuideNotification(
                guide_id=guide.id,
                organisation_id=guide.owner_org_id,
                kind=NotificationKind.STALE,
                version=guide.published_version,
                created_at=moment,
            )
        )
    await session.flush()
    for guide in due:
        _record(session, guide, Operation.UPDATE)
    return due


async def mark_notification_read(
    session: AsyncSession, principal: Principal, notification_id: uuid.UUID
) -> GuideNotification:
    note = await session.get(GuideNotification, notification_id)
    if (
        note is None
        or note.organisation_id != principal.organisation_id
        or (note.person_id is not None and note.person_id != principal.person_id)
    ):
        raise NotFound("notification", str(notification_id))
    note.read_at = note.read_at or utcnow()
    await session.flush()
    return note


# --- photos ---------------------------------------------------------------------------------


async def add_photo(
    session: AsyncSession,
    principal: Principal | None,
    guide_id: uuid.UUID,
    *,
    feature_id: str,
    filename: str,
    data: bytes,
    caption: str = "",
    settings: Any = None,
) -> GuidePhoto:
    """Validate and store the upload in the blob store, and attach it to a feature of the
    draft. A refused file raises the blob store's InvalidInput and writes nothing."""
    from alliance.blobs import service as blobs

    guide, reader = await _writable(session, principal, guide_id, WRITE_SCOPE)
    _require_author(principal, reader, guide)
    if guide.status == GuideStatus.ARCHIVED:
        raise Conflict("an archived guide is not edited")
    feature = next((f for f in guide.draft.get("features", []) if f["id"] == feature_id), None)
    if feature is None or (
        reader is not None
        and feature.get("tier") in RESTRICTED_TIERS
        and not reader.sees_restricted(guide)
    ):
        raise InvalidInput([FieldProblem(("featureId",), "UNKNOWN_FEATURE", "no such feature")])
    if len(caption) > 2000:
        raise InvalidInput([FieldProblem(("caption",), "TOO_LONG", "at most 2,000 characters")])
    blob = await blobs.store_upload(
        session, settings=settings, owner_org_id=guide.owner_org_id, filename=filename, data=data
    )
    photo = GuidePhoto(
        guide_id=guide.id, feature_id=feature_id, blob_id=blob.id, caption=caption.strip()
    )
    session.add(photo)
    guide.version += 1
    await session.flush()
    _record(session, guide, Operation.UPDATE)
    return photo


async def remove_photo(
    session: AsyncSession, principal: Principal | None, photo_id: uuid.UUID
) -> Guide:
    photo = await session.get(GuidePhoto, photo_id)
    if photo is None:
        raise NotFound("photo", str(photo_id))
    guide, reader = await _writable(session, principal, photo.guide_id, WRITE_SCOPE)
    _require_author(principal, reader, guide)
    if reader is not None and photo.feature_id in hidden_feature_ids(
        guide.draft, restricted=reader.sees_restricted(guide)
    ):
        raise NotFound("photo", str(photo_id))
    await session.delete(photo)
    guide.version += 1
    await session.flush()
    _record(session, guide, Operation.UPDATE)
    return guide


async def may_see_photo_blob(session: AsyncSession, reader: Reader, blob_id: uuid.UUID) -> bool:
    """Whether some guide photo of this blob is one the reader may see (guide and tier)."""
    for photo in await repo.photos_of_blob(session, blob_id):
        guide = await session.get(Guide, photo.guide_id)
        if guide is None or not reader.may_read(guide):
            continue
        tiers = {f["id"]: f.get("tier") for f in guide.draft.get("features", [])}
        published = (
            await repo.version(session, guide.id, guide.published_version)
            if guide.published_version
            else None
        )
        if published is not None:
            tiers.update({f["id"]: f.get("tier") for f in published.content.get("features", [])})
        if tiers.get(photo.feature_id) not in RESTRICTED_TIERS or reader.sees_restricted(guide):
            return True
    return False


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GuideView:
    """A guide as one reader reads it: one version (or the draft), in one language, cut to the
    tiers the reader may see."""

    guide: Guide
    version: GuideVersion | None  # None: the draft
    language: str
    content: dict[str, Any]
    restricted: bool
    translations: dict[str, str] = field(default_factory=dict)  # section -> status
    photos: list[GuidePhoto] = field(default_factory=list)

    @property
    def number(self) -> int | None:
        return self.version.number if self.version else None


def _may_read_draft(reader: Reader, guide: Guide) -> bool:
    return (
        reader.operator
        or reader.viewer.organisation_id == guide.owner_org_id
        or reader.viewer.role_in(guide.working_group_id) is not None
    )


async def read_guide(
    session: AsyncSession,
    reader: Reader,
    guide_id: uuid.UUID,
    *,
    version: int | None = None,
    language: str | None = None,
    draft: bool = False,
) -> GuideView | None:
    """``version`` (default: the published one, else the draft for its editors), in
    ``language`` with the source as fallback; None when the reader may not read it."""
    guide = await session.get(Guide, guide_id)
    if guide is None or not reader.may_read(guide):
        return None
    return await view_of(session, reader, guide, version=version, language=language, draft=draft)


async def view_of(
    session: AsyncSession,
    reader: Reader,
    guide: Guide,
    *,
    version: int | None = None,
    language: str | None = None,
    draft: bool = False,
    published: GuideVersion | None = None,
    photos: list[GuidePhoto] | None = None,
) -> GuideView | None:
    """``published``/``photos``: already loaded for a page of guides (one query each)."""
    chosen: GuideVersion | None = published
    if chosen is None and (version is not None or (guide.published_version and not draft)):
        number = version if version is not None else guide.published_version
        assert number is not None
        chosen = await repo.version(session, guide.id, number)
        if chosen is None:
            return None
    if chosen is None and not _may_read_draft(reader, guide):
        return None
    source = chosen.content if chosen is not None else guide.draft
    restricted = reader.sees_restricted(guide)
    content = visible_content(source, restricted=restricted)
    lang = language_code(language) if language else None
    lang = lang or guide.source_language
    statuses: dict[str, str] = {}
    if lang != guide.source_language:
        content, statuses = await _translated(session, guide, content, lang)
    hidden = hidden_feature_ids(source, restricted=restricted)
    shown_ids = {f["id"] for f in content.get("features", [])}
    attached = photos if photos is not None else await repo.photos(session, guide.id)
    shown = [p for p in attached if p.feature_id in shown_ids and p.feature_id not in hidden]
    return GuideView(guide, chosen, lang, content, restricted, statuses, shown)


async def _translated(
    session: AsyncSession, guide: Guide, content: dict[str, Any], language: str
) -> tuple[dict[str, Any], dict[str, str]]:
    rows = {t.section: t for t in await repo.translations(session, guide.id, language)}
    sources = translatable(content)
    statuses = {}
    result = dict(content)
    features = {f["id"]: dict(f) for f in content.get("features", [])}
    for key, source in sources.items():
        row = rows.get(key)
        if row is None:
            statuses[key] = TranslationStatus.MISSING
            continue
        statuses[key] = (
            TranslationStatus.CURRENT
            if row.source_hash == fingerprint(source)
            else TranslationStatus.OUTDATED
        )
        if key.startswith("feature:"):
            feature = features[key.removeprefix("feature:")]
            feature.update({k: v for k, v in row.content.items() if v})
        elif row.content.get("text"):
            result[key] = row.content["text"]
    result["features"] = [features[f["id"]] for f in content.get("features", [])]
    return result, statuses


async def languages_of(session: AsyncSession, guide: Guide) -> list[str]:
    return sorted(
        {guide.source_language} | {t.language for t in await repo.translations(session, guide.id)}
    )


async def diff_versions(
    session: AsyncSession, reader: Reader, guide_id: uuid.UUID, before: int, after: int
) -> list[Any]:
    from alliance.guides.diff import diff

    guide = await session.get(Guide, guide_id)
    if guide is None or not reader.may_read(guide):
        raise NotFound("guide", str(guide_id))
    versions = {}
    for name, number in (("from", before), ("to", after)):
        found = await repo.version(session, guide.id, number)
        if found is None:
            raise InvalidInput([FieldProblem((name,), "UNKNOWN_VERSION", "no such version")])
        versions[name] = visible_content(found.content, restricted=reader.sees_restricted(guide))
    return diff(versions["from"], versions["to"])


async def validate_serial(
    session: AsyncSession, reader: Reader, guide_id: uuid.UUID, value: str
) -> list[tuple[dict[str, Any], serial.SerialCheck]]:
    """The value checked against every serial format of the guide's published version."""
    view = await read_guide(session, reader, guide_id)
    if view is None:
        raise NotFound("guide", str(guide_id))
    results = []
    for fmt in view.content.get("serial_formats", []):
        try:
            results.append((fmt, serial.check_value(fmt["pattern"], value)))
        except serial.PatternError as exc:  # stored patterns were checked; kept for safety
            results.append((fmt, serial.SerialCheck(False, str(exc))))
    return results

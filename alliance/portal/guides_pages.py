"""Identification guides: list and review-due list, reader (language switch, photos, tiers as
the service cuts them, print view), draft editor with photo upload and translations, the
review flow (submit, approve, request changes, publish) and the version diff."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from alliance.auth.route_access import declare
from alliance.blobs import service as blobs
from alliance.blobs.models import ThumbnailStatus
from alliance.config import Settings
from alliance.db import unit_of_work, utcnow
from alliance.errors import DomainError, InvalidInput, NotFound
from alliance.guides import repository as guides_repo
from alliance.guides import service as guides
from alliance.guides.models import GuideStatus
from alliance.guides.sections import FeatureKind, Tier, translatable
from alliance.portal import service
from alliance.portal.http import (
    CSRF_FIELD,
    PORTAL_SESSION,
    Visit,
    parse_uuid,
    posted_form,
    problem,
    render,
    sign_in_redirect,
    visit_of,
)
from alliance.portal.pages import groups_of

PAGE_SIZE = 50
MAX_FEATURES = 50
EDITED_TEXT = ("summary", "packaging", "labels", "price_guidance", "test_buy_notes")
ACTIONS = ("submit", "approve", "changes", "publish")


def _errors(exc: InvalidInput) -> dict[str, list[str]]:
    """Problem paths as the editor's field names: ``features.0.title`` is ``f0_title``."""
    out: dict[str, list[str]] = {}
    for p in exc.problems:
        path = list(p.path)
        if len(path) >= 3 and path[0] == "features":
            key = f"f{path[1]}_{path[2]}"
        elif path and path[0] == "features" and len(path) == 2:
            key = f"f{path[1]}_title"
        else:
            key = path[0] if path else "title"
        out.setdefault(key, []).append(p.message)
    return out


def _content_from(form: dict[str, str], base: dict[str, Any]) -> dict[str, Any]:
    """The draft as edited: the form's sections over the draft's others, features merged by
    id so what the form does not show (detection terms, hashes) is kept."""
    content = dict(base)
    content["title"] = form.get("title", "")
    for name in EDITED_TEXT:
        if name in form:
            content[name] = form[name]
    content["brands"] = [b.strip() for b in form.get("brands", "").split(",") if b.strip()]
    existing = {f["id"]: f for f in base.get("features", [])}
    features = []
    count = form.get("features", "0")
    for i in range(min(int(count) if count.isdigit() else 0, MAX_FEATURES)):
        title, text = form.get(f"f{i}_title", ""), form.get(f"f{i}_text", "")
        ident = form.get(f"f{i}_id", "")
        if not title.strip() and not text.strip() and ident not in existing:
            continue  # the blank row for a new feature, left blank
        feature = dict(existing.get(ident, {}))
        feature.update(
            id=ident or None,
            kind=form.get(f"f{i}_kind", FeatureKind.AUTHENTIC.value),
            tier=form.get(f"f{i}_tier", Tier.OVERT.value),
            title=title,
            text=text,
        )
        features.append(feature)
    content["features"] = features
    return content


def _review_by(raw: str | None, errors: dict[str, list[str]]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.setdefault("review_by", []).append("must be a date (YYYY-MM-DD)")
        return None


async def _editor(
    request: Request,
    visit: Visit,
    *,
    guide: Any = None,
    content: dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    photos: list[Any] | None = None,
    status: int = 200,
) -> Response:
    async with unit_of_work(request.app.state.sessions) as db:
        reader = await guides.reader_for(db, visit.principal)
        groups = await groups_of(db, reader.viewer)
    content = content or {"title": "", "features": []}
    features = [*content.get("features", []), {"id": "", "title": "", "text": ""}]
    return render(
        visit,
        "guide_edit.html",
        status=status,
        guide=guide,
        content=content,
        features=features,
        form=form or {},
        errors=errors or {},
        groups=groups,
        kinds=[k.value for k in FeatureKind],
        tiers=[t.value for t in Tier],
        photos=photos or [],
    )


def add_guides_pages(router: APIRouter) -> None:
    @router.get("/portal/guides", dependencies=declare(PORTAL_SESSION), include_in_schema=False)
    async def guide_list(request: Request, status: str = "", after: str = "") -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        chosen = status if status in {s.value for s in GuideStatus} else ""
        async with unit_of_work(request.app.state.sessions) as db:
            reader = await guides.reader_for(db, visit.principal)
            page = await guides_repo.page_guides(
                db,
                reader.viewer,
                statuses=[GuideStatus(chosen)] if chosen else None,
                working_group_id=None,
                after=parse_uuid(after),
                limit=PAGE_SIZE,
            )
            names = {g.id: g.name for g, _ in await groups_of(db, reader.viewer)}
        today = utcnow().date()
        return render(
            visit,
            "guides.html",
            guides=page.items,
            has_next=page.has_next_page,
            statuses=[s.value for s in GuideStatus],
            chosen_status=chosen,
            group_names=names,
            today=today,
        )

    @router.get("/portal/guides/new", dependencies=declare(PORTAL_SESSION), include_in_schema=False)
    async def new_guide(request: Request) -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        return await _editor(request, visit)

    @router.post(
        "/portal/guides/new", dependencies=declare(PORTAL_SESSION), include_in_schema=False
    )
    async def create(request: Request) -> Response:
        posted = await posted_form(request)
        if isinstance(posted, Response):
            return posted
        visit, form = posted
        errors: dict[str, list[str]] = {}
        review_by = _review_by(form.get("review_by"), errors)
        group_id = parse_uuid(form.get("working_group"))
        if group_id is None:
            errors.setdefault("working_group", []).append(visit.t("guides.choose_group"))
        content = _content_from(form, {})
        if errors:
            return await _editor(
                request, visit, content=content, form=form, errors=errors, status=400
            )
        assert group_id is not None
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                guide = await guides.create_guide(
                    db,
                    visit.principal,
                    working_group_id=group_id,
                    content=content,
                    source_language=form.get("source_language", "en"),
                    distribution=form.get("distribution", "WORKING_GROUP"),
                    tlp=form.get("tlp", "AMBER"),
                    review_by=review_by,
                )
                guide_id = guide.id
        except InvalidInput as exc:
            return await _editor(
                request, visit, content=content, form=form, errors=_errors(exc), status=400
            )
        except DomainError as exc:
            return await _editor(
                request,
                visit,
                content=content,
                form=form,
                errors={"working_group": [exc.message]},
                status=400,
            )
        return RedirectResponse(f"/portal/guides/{guide_id}/edit", status_code=303)

    @router.get(
        "/portal/guides/{guide_id}", dependencies=declare(PORTAL_SESSION), include_in_schema=False
    )
    async def read(
        request: Request,
        guide_id: str,
        lang: str = "",
        version: str = "",
        draft: str = "",
        print: str = "",
        message: str = "",
    ) -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        found = parse_uuid(guide_id)
        if found is None:
            return problem(visit, visit.t("error.not_found"), 404)
        number = int(version) if version.isdigit() and len(version) < 9 else None
        async with unit_of_work(request.app.state.sessions) as db:
            reader = await guides.reader_for(db, visit.principal)
            view = await guides.read_guide(
                db,
                reader,
                found,
                version=number,
                language=lang[:16] or None,
                draft=bool(draft),
            )
            if view is None:
                return problem(visit, visit.t("error.not_found"), 404)
            languages = await guides.languages_of(db, view.guide)
            versions = await guides_repo.versions_of(db, view.guide.id)
        photos: dict[str, list[Any]] = {}
        for photo in view.photos:
            photos.setdefault(photo.feature_id, []).append(photo)
        return render(
            visit,
            "guide_print.html" if print else "guide.html",
            view=view,
            guide=view.guide,
            content=view.content,
            photos=photos,
            guide_languages=languages,
            versions=versions,
            message=message[:300],
            actions=ACTIONS,
        )

    @router.get(
        "/portal/guides/{guide_id}/edit",
        dependencies=declare(PORTAL_SESSION),
        include_in_schema=False,
    )
    async def edit(request: Request, guide_id: str) -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        loaded = await _draft(request, visit, guide_id)
        if loaded is None:
            return problem(visit, visit.t("error.not_found"), 404)
        view = loaded
        return await _editor(
            request, visit, guide=view.guide, content=view.content, photos=view.photos
        )

    @router.post(
        "/portal/guides/{guide_id}/edit",
        dependencies=declare(PORTAL_SESSION),
        include_in_schema=False,
    )
    async def save(request: Request, guide_id: str) -> Response:
        posted = await posted_form(request)
        if isinstance(posted, Response):
            return posted
        visit, form = posted
        view = await _draft(request, visit, guide_id)
        if view is None:
            return problem(visit, visit.t("error.not_found"), 404)
        errors: dict[str, list[str]] = {}
        review_by = _review_by(form.get("review_by"), errors)
        content = _content_from(form, view.content)
        if not errors:
            try:
                async with unit_of_work(request.app.state.sessions) as db:
                    await guides.update_draft(
                        db, visit.principal, view.guide.id, content=content, review_by=review_by
                    )
            except InvalidInput as exc:
                errors = _errors(exc)
            except DomainError as exc:
                errors = {"title": [exc.message]}
        if errors:
            return await _editor(
                request,
                visit,
                guide=view.guide,
                content=content,
                form=form,
                errors=errors,
                photos=view.photos,
                status=400,
            )
        return RedirectResponse(f"/portal/guides/{view.guide.id}/edit?saved=1", status_code=303)

    @router.post(
        "/portal/guides/{guide_id}/photos",
        dependencies=declare(PORTAL_SESSION),
        include_in_schema=False,
    )
    async def add_photo(request: Request, guide_id: str) -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return problem(visit, visit.t("error.csrf"), 400)
        try:
            form = await request.form(max_files=1, max_fields=10)
        except Exception:  # a malformed multipart body is the client's, never a 500
            return problem(visit, visit.t("error.csrf"), 400)
        try:
            return await _photo(request, visit, guide_id, form)
        finally:
            await form.close()

    @router.post(
        "/portal/guides/{guide_id}/workflow/{action}",
        dependencies=declare(PORTAL_SESSION),
        include_in_schema=False,
    )
    async def workflow(request: Request, guide_id: str, action: str) -> Response:
        posted = await posted_form(request)
        if isinstance(posted, Response):
            return posted
        visit, form = posted
        found = parse_uuid(guide_id)
        if found is None or action not in ACTIONS:
            return problem(visit, visit.t("error.not_found"), 404)
        note = form.get("note", "")
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                if action == "submit":
                    await guides.submit_for_review(db, visit.principal, found)
                elif action == "approve":
                    await guides.approve(db, visit.principal, found, note=note)
                elif action == "changes":
                    await guides.request_changes(db, visit.principal, found, note=note)
                else:
                    await guides.publish(db, visit.principal, found)
        except NotFound:
            return problem(visit, visit.t("error.not_found"), 404)
        except DomainError as exc:
            status = 403 if exc.code == "FORBIDDEN" else 409 if exc.code == "CONFLICT" else 400
            return problem(visit, exc.message, status)
        return RedirectResponse(
            f"/portal/guides/{found}?draft=1&message=guides.done.{action}", status_code=303
        )

    @router.get(
        "/portal/guides/{guide_id}/translate",
        dependencies=declare(PORTAL_SESSION),
        include_in_schema=False,
    )
    async def translate_form(request: Request, guide_id: str, to: str = "zh") -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        return await _translation_page(request, visit, guide_id, to, {}, {})

    @router.post(
        "/portal/guides/{guide_id}/translate",
        dependencies=declare(PORTAL_SESSION),
        include_in_schema=False,
    )
    async def translate(request: Request, guide_id: str) -> Response:
        posted = await posted_form(request)
        if isinstance(posted, Response):
            return posted
        visit, form = posted
        found = parse_uuid(guide_id)
        if found is None:
            return problem(visit, visit.t("error.not_found"), 404)
        language = form.get("language", "")
        sections: dict[str, dict[str, str]] = {}
        for name, value in form.items():
            if name.startswith("s|") and value.strip():
                _, key, part = (name.split("|", 2) + ["", ""])[:3]
                sections.setdefault(key, {})[part] = value
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                await guides.translate(
                    db, visit.principal, found, language=language, sections=sections
                )
        except InvalidInput as exc:
            errors: dict[str, list[str]] = {}
            for p in exc.problems:
                errors.setdefault("|".join(p.path[1:]) or p.path[0], []).append(p.message)
            return await _translation_page(
                request, visit, guide_id, language, form, errors, status=400
            )
        except DomainError as exc:
            return problem(visit, exc.message, 403 if exc.code == "FORBIDDEN" else 400)
        return RedirectResponse(f"/portal/guides/{found}?lang={language}", status_code=303)

    @router.get(
        "/portal/guides/{guide_id}/diff",
        dependencies=declare(PORTAL_SESSION),
        include_in_schema=False,
    )
    async def diff(request: Request, guide_id: str, before: str = "", after: str = "") -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        found = parse_uuid(guide_id)
        if found is None or not before.isdigit() or not after.isdigit():
            return problem(visit, visit.t("error.not_found"), 404)
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                reader = await guides.reader_for(db, visit.principal)
                changes = await guides.diff_versions(
                    db, reader, found, int(before[:9]), int(after[:9])
                )
        except NotFound:
            return problem(visit, visit.t("error.not_found"), 404)
        except DomainError as exc:
            return problem(visit, exc.message, 400)
        return render(
            visit, "guide_diff.html", changes=changes, guide_id=found, before=before, after=after
        )

    @router.get(
        "/portal/photos/{blob_id}", dependencies=declare(PORTAL_SESSION), include_in_schema=False
    )
    async def photo(request: Request, blob_id: str, thumbnail: str = "") -> Response:
        """A guide photo for the signed-in reader (its thumbnail once a worker made it)."""
        visit = await visit_of(request)
        found = parse_uuid(blob_id)
        if visit.principal is None or found is None:
            return Response("not found", status_code=404, media_type="text/plain")
        settings: Settings = request.app.state.settings
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                reader = await guides.reader_for(db, visit.principal)
                blob = await blobs.readable_blob(
                    db, reader.viewer, found, scopes=visit.principal.scopes
                )
        except DomainError:
            return Response("not found", status_code=404, media_type="text/plain")
        small = bool(thumbnail) and blob.thumbnail_status == ThumbnailStatus.READY
        data = await blobs.content(settings, blob, thumbnail=small)
        if data is None:
            return Response("not found", status_code=404, media_type="text/plain")
        return Response(
            data,
            media_type="image/jpeg" if small else blob.content_type,
            headers={
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'",
                "Cache-Control": "private, max-age=300",
            },
        )


async def _draft(request: Request, visit: Visit, guide_id: str) -> Any:
    found = parse_uuid(guide_id)
    if found is None:
        return None
    async with unit_of_work(request.app.state.sessions) as db:
        reader = await guides.reader_for(db, visit.principal)
        return await guides.read_guide(db, reader, found, draft=True)


async def _photo(request: Request, visit: Visit, guide_id: str, form: FormData) -> Response:
    token = form.get(CSRF_FIELD)
    if not service.csrf_ok(visit.row, token if isinstance(token, str) else None):
        return problem(visit, visit.t("error.csrf"), 400)
    view = await _draft(request, visit, guide_id)
    if view is None:
        return problem(visit, visit.t("error.not_found"), 404)
    upload = form.get("file")
    feature = form.get("feature")
    caption = form.get("caption")
    errors: dict[str, list[str]] = {}
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = [visit.t("import.no_file")]
    else:
        settings: Settings = request.app.state.settings
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                await guides.add_photo(
                    db,
                    visit.principal,
                    view.guide.id,
                    feature_id=feature if isinstance(feature, str) else "",
                    filename=upload.filename,
                    data=await upload.read(),
                    caption=caption if isinstance(caption, str) else "",
                    settings=settings,
                )
        except InvalidInput as exc:
            for p in exc.problems:
                key = {"featureId": "feature"}.get(p.path[0] if p.path else "", "file")
                errors.setdefault(key, []).append(p.message)
        except DomainError as exc:
            errors["file"] = [exc.message]
    if errors:
        return await _editor(
            request,
            visit,
            guide=view.guide,
            content=view.content,
            errors=errors,
            photos=view.photos,
            status=400,
        )
    return RedirectResponse(f"/portal/guides/{view.guide.id}/edit?saved=1", status_code=303)


async def _translation_page(
    request: Request,
    visit: Visit,
    guide_id: str,
    language: str,
    form: dict[str, str],
    errors: dict[str, list[str]],
    status: int = 200,
) -> Response:
    found = parse_uuid(guide_id)
    if found is None:
        return problem(visit, visit.t("error.not_found"), 404)
    async with unit_of_work(request.app.state.sessions) as db:
        reader = await guides.reader_for(db, visit.principal)
        source = await guides.read_guide(db, reader, found)
        if source is None:
            return problem(visit, visit.t("error.not_found"), 404)
        current = await guides.read_guide(db, reader, found, language=language[:16] or None)
    sections = translatable(source.content)
    existing = translatable(current.content) if current is not None else {}
    return render(
        visit,
        "guide_translate.html",
        status=status,
        guide=source.guide,
        sections=sections,
        existing=existing,
        statuses=current.translations if current is not None else {},
        language=language,
        form=form,
        errors=errors,
    )

"""Banned-category rules: the list (by status and working group) and a rule with its versions."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from alliance.auth.route_access import declare
from alliance.db import unit_of_work
from alliance.errors import DomainError, InvalidInput, NotFound
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
from alliance.rules import repository as rules_repo
from alliance.rules import service as rules
from alliance.rules.backtest import MAX_CATALOGUE_BYTES, backtest_rule
from alliance.rules.definition import RuleStatus
from alliance.sharing.service import load_viewer

PAGE_SIZE = 50


def add_rules_pages(router: APIRouter) -> None:
    @router.get("/portal/rules", dependencies=declare(PORTAL_SESSION), include_in_schema=False)
    async def rule_list(
        request: Request, status: str = "", group: str = "", after: str = ""
    ) -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        chosen = status if status in {s.value for s in RuleStatus} else ""
        async with unit_of_work(request.app.state.sessions) as db:
            viewer = await load_viewer(db, visit.principal)
            groups = await groups_of(db, viewer)
            group_id = parse_uuid(group)
            if group_id not in {g.id for g, _ in groups}:
                group_id = None
            statuses = [RuleStatus(chosen)] if chosen else None
            page = await rules_repo.page_rules(
                db,
                viewer,
                statuses=statuses,
                working_group_id=group_id,
                after=parse_uuid(after),
                limit=PAGE_SIZE,
            )
        names = {g.id: g.name for g, _ in groups}
        return render(
            visit,
            "rules.html",
            rules=page.items,
            has_next=page.has_next_page,
            statuses=[s.value for s in RuleStatus],
            groups=groups,
            group_names=names,
            chosen_status=chosen,
            chosen_group=str(group_id) if group_id else "",
        )

    @router.get(
        "/portal/rules/{rule_id}", dependencies=declare(PORTAL_SESSION), include_in_schema=False
    )
    async def rule_page(request: Request, rule_id: str) -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        return await _rule_page(request, visit, rule_id)


async def _rule_page(
    request: Request,
    visit: Visit,
    rule_id: str,
    *,
    catalogue: bytes | None = None,
    fmt: str = "jsonl",
) -> Response:
    found = parse_uuid(rule_id)
    if found is None:
        return problem(visit, visit.t("error.not_found"), 404)
    report, errors = None, {}
    try:
        async with unit_of_work(request.app.state.sessions) as db:
            viewer = await load_viewer(db, visit.principal)
            rule = await rules.visible_rule(db, viewer, found)
            versions = (await rules_repo.versions_of(db, [rule.id]))[rule.id]
            names = {g.id: g.name for g, _ in await groups_of(db, viewer)}
            if catalogue is not None:
                try:
                    text = catalogue.decode("utf-8")
                    report = await backtest_rule(
                        db, visit.principal, rule.id, catalogue=text, fmt=fmt
                    )
                except UnicodeDecodeError:
                    errors["catalogue"] = ["the file is not UTF-8 text"]
                except InvalidInput as exc:
                    for p in exc.problems:
                        errors.setdefault(p.path[0] if p.path else "catalogue", []).append(
                            p.message
                        )
    except NotFound:
        return problem(visit, visit.t("error.not_found"), 404)
    shown = [
        (v, json.dumps(v.definition, indent=2, ensure_ascii=False, sort_keys=True))
        for v in reversed(versions)
    ]
    return render(
        visit,
        "rule.html",
        status=400 if errors else 200,
        rule=rule,
        versions=shown,
        group_names=names,
        report=report,
        errors=errors,
    )


def _definition_errors(exc: InvalidInput) -> list[str]:
    return [f"{'.'.join(p.path) or 'definition'}: {p.message}" for p in exc.problems]


def _parse_json(text: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        return None, f"not valid JSON: {exc}"
    if not isinstance(value, dict):
        return None, "must be a JSON object"
    return value, None


async def _editor(
    request: Request,
    visit: Visit,
    *,
    rule: Any = None,
    text: str = "",
    note: str = "",
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> Response:
    async with unit_of_work(request.app.state.sessions) as db:
        groups = await groups_of(db, await load_viewer(db, visit.principal))
    return render(
        visit,
        "rule_edit.html",
        status=status,
        rule=rule,
        text=text or json.dumps(EXAMPLE, indent=2),
        note=note,
        errors=errors or {},
        groups=groups,
    )


EXAMPLE: dict[str, Any] = {
    "name": "",
    "description": "",
    "decision": "PROHIBIT",
    "rationale": "SAFETY",
    "category_ids": [],
    "keywords": {"any_of": []},
}


def add_rule_editor(router: APIRouter) -> None:
    @router.get("/portal/rules/new", dependencies=declare(PORTAL_SESSION), include_in_schema=False)
    async def new_rule(request: Request) -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        return await _editor(request, visit)

    @router.post("/portal/rules/new", dependencies=declare(PORTAL_SESSION), include_in_schema=False)
    async def create(request: Request) -> Response:
        posted = await posted_form(request)
        if isinstance(posted, Response):
            return posted
        visit, form = posted
        text, note = form.get("definition", ""), form.get("change_note", "")
        definition, error = _parse_json(text)
        group_id = parse_uuid(form.get("working_group"))
        errors: dict[str, list[str]] = {}
        if error:
            errors["definition"] = [error]
        if group_id is None:
            errors["working_group"] = [visit.t("guides.choose_group")]
        if errors or definition is None or group_id is None:
            return await _editor(request, visit, text=text, note=note, errors=errors, status=400)
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                rule, _ = await rules.create_rule(
                    db,
                    visit.principal,
                    working_group_id=group_id,
                    definition=definition,
                    distribution=form.get("distribution", "ALLIANCE"),
                    tlp=form.get("tlp", "GREEN"),
                    change_note=note,
                )
                rule_id = rule.id
        except InvalidInput as exc:
            return await _editor(
                request,
                visit,
                text=text,
                note=note,
                errors={"definition": _definition_errors(exc)},
                status=400,
            )
        except DomainError as exc:
            return await _editor(
                request, visit, text=text, note=note, errors={"working_group": [exc.message]},
                status=400,
            )  # fmt: skip
        return RedirectResponse(f"/portal/rules/{rule_id}", status_code=303)

    @router.get(
        "/portal/rules/{rule_id}/edit",
        dependencies=declare(PORTAL_SESSION),
        include_in_schema=False,
    )
    async def edit(request: Request, rule_id: str) -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        found = parse_uuid(rule_id)
        if found is None:
            return problem(visit, visit.t("error.not_found"), 404)
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                viewer = await load_viewer(db, visit.principal)
                rule = await rules.visible_rule(db, viewer, found)
                latest = (await rules_repo.versions_of(db, [rule.id]))[rule.id][-1]
        except NotFound:
            return problem(visit, visit.t("error.not_found"), 404)
        text = json.dumps(latest.definition, indent=2, ensure_ascii=False, sort_keys=True)
        return await _editor(request, visit, rule=rule, text=text)

    @router.post(
        "/portal/rules/{rule_id}/edit",
        dependencies=declare(PORTAL_SESSION),
        include_in_schema=False,
    )
    async def save(request: Request, rule_id: str) -> Response:
        posted = await posted_form(request)
        if isinstance(posted, Response):
            return posted
        visit, form = posted
        found = parse_uuid(rule_id)
        if found is None:
            return problem(visit, visit.t("error.not_found"), 404)
        text, note = form.get("definition", ""), form.get("change_note", "")
        definition, error = _parse_json(text)
        errors: dict[str, list[str]] = {}
        if definition is not None:
            try:
                async with unit_of_work(request.app.state.sessions) as db:
                    await rules.update_rule(
                        db, visit.principal, found, definition=definition, change_note=note
                    )
            except InvalidInput as exc:
                errors = {"definition": _definition_errors(exc)}
            except NotFound:
                return problem(visit, visit.t("error.not_found"), 404)
            except DomainError as exc:
                return problem(visit, exc.message, 403 if exc.code == "FORBIDDEN" else 409)
        else:
            errors = {"definition": [error or ""]}
        if errors:
            async with unit_of_work(request.app.state.sessions) as db:
                viewer = await load_viewer(db, visit.principal)
                try:
                    rule = await rules.visible_rule(db, viewer, found)
                except NotFound:
                    return problem(visit, visit.t("error.not_found"), 404)
            return await _editor(
                request, visit, rule=rule, text=text, note=note, errors=errors, status=400
            )
        return RedirectResponse(f"/portal/rules/{found}", status_code=303)

    @router.post(
        "/portal/rules/{rule_id}/activate",
        dependencies=declare(PORTAL_SESSION),
        include_in_schema=False,
    )
    async def activate(request: Request, rule_id: str) -> Response:
        posted = await posted_form(request)
        if isinstance(posted, Response):
            return posted
        visit, form = posted
        found = parse_uuid(rule_id)
        if found is None:
            return problem(visit, visit.t("error.not_found"), 404)
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                await rules.activate_rule(db, visit.principal, found)
        except NotFound:
            return problem(visit, visit.t("error.not_found"), 404)
        except DomainError as exc:
            status = {"FORBIDDEN": 403, "CONFLICT": 409}.get(exc.code, 400)
            return problem(visit, exc.message, status)
        return RedirectResponse(f"/portal/rules/{found}", status_code=303)

    @router.post(
        "/portal/rules/{rule_id}/backtest",
        dependencies=declare(PORTAL_SESSION),
        include_in_schema=False,
    )
    async def backtest(request: Request, rule_id: str) -> Response:
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
            token = form.get(CSRF_FIELD)
            if not service.csrf_ok(visit.row, token if isinstance(token, str) else None):
                return problem(visit, visit.t("error.csrf"), 400)
            upload = form.get("catalogue")
            raw_format = form.get("format")
            data = (
                await upload.read(MAX_CATALOGUE_BYTES + 1)
                if isinstance(upload, UploadFile)
                else b""
            )
        finally:
            await form.close()
        return await _rule_page(
            request,
            visit,
            rule_id,
            catalogue=data,
            fmt=raw_format if isinstance(raw_format, str) else "jsonl",
        )

"""Importing a CSV or JSON Lines file of indicators: upload, then a page whose progress bar
follows the background job (``alliance.indicators.importing``) to its per-row report."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from alliance.auth.route_access import declare
from alliance.config import Settings
from alliance.db import unit_of_work
from alliance.errors import DomainError, InvalidInput
from alliance.indicators import importing
from alliance.indicators.models import ImportJob, ImportState
from alliance.portal import service
from alliance.portal.http import (
    CSRF_FIELD,
    HEADERS,
    PORTAL_SESSION,
    Visit,
    parse_uuid,
    problem,
    render,
    sign_in_redirect,
    visit_of,
)
from alliance.portal.pages import groups_of
from alliance.sharing.service import load_viewer

MAX_FORM_FIELDS = 20


async def _import_form(
    request: Request, visit: Visit, errors: dict[str, list[str]], status: int = 200
) -> Response:
    async with unit_of_work(request.app.state.sessions) as db:
        groups = await groups_of(db, await load_viewer(db, visit.principal))
    return render(
        visit, "import.html", status=status, errors=errors, groups=groups, formats=importing.FORMATS
    )


def _progress(job: ImportJob) -> dict[str, object]:
    return {
        "state": job.state.value,
        "rowsTotal": job.rows_total,
        "rowsDone": job.rows_done,
        "rowsFailed": job.rows_failed,
        "finished": job.state in (ImportState.DONE, ImportState.FAILED),
    }


async def _upload(request: Request, visit: Visit, form: FormData) -> Response:
    token = form.get(CSRF_FIELD)
    if not service.csrf_ok(visit.row, token if isinstance(token, str) else None):
        return problem(visit, visit.t("error.csrf"), 400)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _import_form(request, visit, {"file": [visit.t("import.no_file")]}, status=400)
    raw_format = form.get("format")
    fmt = raw_format if isinstance(raw_format, str) and raw_format else None
    raw_group = form.get("working_group")
    group_id = parse_uuid(raw_group if isinstance(raw_group, str) else None)
    settings: Settings = request.app.state.settings
    try:
        async with unit_of_work(request.app.state.sessions) as db:
            viewer = await load_viewer(db, visit.principal)
            importing.format_of(upload.filename, fmt)  # refuse before storing
            staged = await importing.stage_upload(settings.data_dir, upload.read, upload.filename)
            started = await importing.start_import(
                db,
                viewer,
                staged,
                data_dir=settings.data_dir,
                fmt=fmt,
                working_group_id=group_id,
            )
            job_id = started.job.id
    except InvalidInput as exc:
        errors: dict[str, list[str]] = {}
        for p in exc.problems:
            errors.setdefault(p.path[0] if p.path else "file", []).append(p.message)
        return await _import_form(request, visit, errors, status=400)
    except DomainError as exc:
        return await _import_form(request, visit, {"file": [exc.message]}, status=400)
    return RedirectResponse(f"/portal/imports/{job_id}", status_code=303)


def add_import_pages(router: APIRouter) -> None:
    @router.get(
        "/portal/indicators/import", dependencies=declare(PORTAL_SESSION), include_in_schema=False
    )
    async def import_form(request: Request) -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        return await _import_form(request, visit, {})

    @router.post(
        "/portal/indicators/import", dependencies=declare(PORTAL_SESSION), include_in_schema=False
    )
    async def upload(request: Request) -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return problem(visit, visit.t("error.csrf"), 400)
        try:
            form = await request.form(max_files=1, max_fields=MAX_FORM_FIELDS)
        except Exception:  # a malformed multipart body: the client's fault, never a 500
            return problem(visit, visit.t("error.csrf"), 400)
        try:
            return await _upload(request, visit, form)
        finally:
            await form.close()

    async def _job(request: Request, visit: Visit, job_id: str) -> ImportJob | None:
        found = parse_uuid(job_id)
        if found is None:
            return None
        async with unit_of_work(request.app.state.sessions) as db:
            viewer = await load_viewer(db, visit.principal)
            return await importing.visible_job(db, viewer, found)

    @router.get(
        "/portal/imports/{job_id}", dependencies=declare(PORTAL_SESSION), include_in_schema=False
    )
    async def job_page(request: Request, job_id: str) -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        job = await _job(request, visit, job_id)
        if job is None:
            return problem(visit, visit.t("error.not_found"), 404)
        return render(visit, "import_job.html", job=job, progress=_progress(job))

    @router.get(
        "/portal/imports/{job_id}/progress",
        dependencies=declare(PORTAL_SESSION),
        include_in_schema=False,
    )
    async def job_progress(request: Request, job_id: str) -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return JSONResponse({"error": "sign in"}, status_code=401, headers=HEADERS)
        job = await _job(request, visit, job_id)
        if job is None:
            return JSONResponse({"error": "not found"}, status_code=404, headers=HEADERS)
        return JSONResponse(_progress(job), headers=HEADERS)

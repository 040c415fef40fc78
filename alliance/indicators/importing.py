"""Bulk import of indicators from CSV or JSON Lines files, run in the background in chunks.

A file is stored under the data dir by its SHA-256 (:func:`stage_upload`, :func:`stage_path`),
then :func:`start_import` finds or makes the organisation's one job for that digest and queues
``indicators.import_file``; the same file again returns the existing job (queued again only
while unfinished, so a job whose worker died resumes). The worker runs :func:`run_import`: it
reads the file a row at a time, turns each row into a
:class:`~alliance.indicators.service.Submission` and hands chunks to :func:`bulk_submit`,
which checks every row with the service's own check (so a row is valid exactly when the same
values sent over GraphQL are) and writes new assertions set-based, the rest through
:func:`alliance.indicators.service.submit`. Each chunk is one transaction that also moves the
job's progress, so progress is visible while it runs and a crash resumes after the last
committed chunk. A refused row writes nothing; its line, column, code and reason go to the
job's report.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alliance.changelog.models import Operation
from alliance.changelog.service import record_change
from alliance.config import IndicatorSettings
from alliance.db import new_id, unit_of_work, utcnow
from alliance.errors import Conflict, DomainError, FieldProblem, Forbidden, InvalidInput, NotFound
from alliance.indicators import repository as repo
from alliance.indicators import scoring, service
from alliance.indicators.models import (
    AssertionStatus,
    ImportJob,
    ImportState,
    Indicator,
    IndicatorAssertion,
    IndicatorMatchKey,
)
from alliance.indicators.postal_address import COMPONENTS

# The service's own check of one submission: the one definition of a valid row.
from alliance.indicators.service import _check as check_submission
from alliance.jobs import enqueue
from alliance.orgs import repository as orgs_repo
from alliance.sharing.policy import Seat, Viewer, ViewerKind, can_contribute

TASK = "indicators.import_file"
QUEUE = "imports"
FORMATS = ("csv", "jsonl")
CHUNK_SIZE = 2000
CHUNK_ATTEMPTS = 3
MAX_FILE_BYTES = 2 << 30
MAX_REPORTED_ERRORS = 1000
_READ_BLOCK = 1 << 20

# Columns a file may carry; ``type`` and ``value`` are required. Parts are the types' own.
PART_COLUMNS = ("platform", "carrier", "kind", "provider", "bin", "last4", "quality", *COMPONENTS)
LIST_COLUMNS = ("brands", "tags", "evidence")
COLUMNS = (
    "type",
    "value",
    "country",
    *PART_COLUMNS,
    "working_group",
    "distribution",
    "tlp",
    "confidence",
    "severity",
    "brands",
    "category",
    "valid_from",
    "valid_until",
    "note",
    "tags",
    "evidence",
    "group_key",
)
# What an export adds for the reader; an import reads past them (so an export imports back).
EXPORT_ONLY_COLUMNS = (
    "organisation",
    "status",
    "score",
    "indicator_id",
    "assertion_id",
    "first_seen_at",
    "last_seen_at",
)
# Cells of list columns in CSV are separated by this; JSON Lines takes arrays (or the same).
LIST_SEPARATOR = "|"

# The service's problem paths (the GraphQL field names) as file columns.
_COLUMN_OF_FIELD = {
    "workingGroupId": "working_group",
    "productCategory": "category",
    "validFrom": "valid_from",
    "validUntil": "valid_until",
    "evidenceLinks": "evidence",
    "groupKey": "group_key",
}


# --- reading files (pure) ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str | None
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "code": self.code,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class FileRow:
    """One data row: its line in the file and its cells (column -> text, list or ``None``)."""

    line: int
    cells: Mapping[str, Any]
    error: RowError | None = None


class UnreadableFile(DomainError):
    """The file as a whole cannot be read (bad header, not UTF-8…); nothing is imported."""

    code = "UNREADABLE_FILE"

    def __init__(self, message: str, *, line: int = 1, column: str | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


def check_columns(names: Sequence[str]) -> list[str]:
    """The header, checked: known columns only, each once, ``type`` and ``value`` present."""
    cleaned = [n.strip().lower() for n in names]
    unknown = [n for n in cleaned if n not in COLUMNS and n not in EXPORT_ONLY_COLUMNS]
    if unknown:
        raise UnreadableFile(
            f"unknown column(s) {', '.join(repr(n) for n in unknown)}; known: {', '.join(COLUMNS)}",
            column=unknown[0],
        )
    repeated = [n for n, k in Counter(cleaned).items() if k > 1]
    if repeated:
        raise UnreadableFile(f"column {repeated[0]!r} appears twice", column=repeated[0])
    for required in ("type", "value"):
        if required not in cleaned:
            raise UnreadableFile(f"the {required!r} column is required", column=required)
    return cleaned


def read_csv(stream: IO[str]) -> Iterator[FileRow]:
    """Rows of a CSV file with a header line; each row's line is where it starts."""
    reader = csv.reader(stream, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise UnreadableFile(f"the header is not valid CSV: {exc}") from exc
    columns = check_columns(header)
    end = reader.line_num
    while True:
        start = end + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            end = reader.line_num
            yield FileRow(start, {}, RowError(start, None, "MALFORMED_ROW", str(exc)))
            continue
        end = reader.line_num
        if not cells or cells == [""]:
            continue
        if len(cells) != len(columns):
            yield FileRow(
                start,
                {},
                RowError(
                    start,
                    None,
                    "WRONG_CELL_COUNT",
                    f"has {len(cells)} cells; the header has {len(columns)}",
                ),
            )
            continue
        yield FileRow(start, dict(zip(columns, cells, strict=True)))


def read_jsonl(stream: IO[str]) -> Iterator[FileRow]:
    """One JSON object per line; blank lines are skipped. ``parts`` may be an object."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError as exc:
            yield FileRow(number, {}, RowError(number, None, "INVALID_JSON", str(exc)))
            continue
        if not isinstance(data, dict):
            yield FileRow(
                number, {}, RowError(number, None, "NOT_AN_OBJECT", "must be a JSON object")
            )
            continue
        cells = {str(k).strip().lower(): v for k, v in data.items()}
        parts = cells.pop("parts", None)
        if isinstance(parts, dict):
            cells.update({str(k).strip().lower(): v for k, v in parts.items()})
        elif parts is not None:
            yield FileRow(
                number, {}, RowError(number, "parts", "NOT_AN_OBJECT", "must be a JSON object")
            )
            continue
        unknown = [k for k in cells if k not in COLUMNS and k not in EXPORT_ONLY_COLUMNS]
        if unknown:
            yield FileRow(
                number,
                {},
                RowError(number, unknown[0], "UNKNOWN_COLUMN", f"is not a column ({unknown[0]!r})"),
            )
            continue
        yield FileRow(number, cells)


def read_rows(stream: IO[str], fmt: str) -> Iterator[FileRow]:
    return read_csv(stream) if fmt == "csv" else read_jsonl(stream)


def open_text(path: Path) -> IO[str]:
    return path.open(encoding="utf-8-sig", newline="")


def count_rows(path: Path, fmt: str) -> int:
    with open_text(path) as stream:
        return sum(1 for _ in read_rows(stream, fmt))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool | int | float):
        return str(value)
    if not isinstance(value, str):
        raise ValueError("must be text")
    return value if value.strip() else None


def _list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    if not isinstance(value, str):
        raise ValueError("must be text or a list")
    return tuple(v for v in (p.strip() for p in value.split(LIST_SEPARATOR)) if v)


def _moment(value: Any) -> datetime | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError("must be an ISO 8601 date and time, e.g. 2026-05-01T00:00:00Z") from exc


def _confidence(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError("must be a whole number from 0 to 100")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError as exc:
        raise ValueError("must be a whole number from 0 to 100") from exc


@dataclass(frozen=True, slots=True)
class RowSubmission:
    line: int
    submission: service.Submission | None
    errors: tuple[RowError, ...] = ()
    working_group: str | None = None  # the slug, resolved by the runner


def to_submission(
    row: FileRow, working_groups: Mapping[str, uuid.UUID], default_group: uuid.UUID | None
) -> RowSubmission:
    """A row as the service's Submission, or the cell problems refusing it (pure)."""
    if row.error is not None:
        return RowSubmission(row.line, None, (row.error,))
    cells = row.cells
    errors: list[RowError] = []

    def cell(name: str, convert: Callable[[Any], Any]) -> Any:
        try:
            return convert(cells.get(name))
        except ValueError as exc:
            errors.append(RowError(row.line, name, "INVALID_CELL", str(exc)))
            return None

    slug = cell("working_group", _text)
    group = default_group
    if slug is not None:
        group = working_groups.get(slug.strip())
        if group is None:
            errors.append(
                RowError(row.line, "working_group", "NOT_FOUND", f"no working group {slug!r}")
            )
    values = {name: cell(name, _text) for name in ("type", "value", "country", "note")}
    values |= {
        name: cell(name, _text)
        for name in ("distribution", "tlp", "severity", "category", "group_key")
    }
    parts = {name: cell(name, _text) for name in PART_COLUMNS}
    lists = {name: cell(name, _list) or () for name in LIST_COLUMNS}
    confidence = cell("confidence", _confidence)
    valid_from = cell("valid_from", _moment)
    valid_until = cell("valid_until", _moment)
    if errors:
        return RowSubmission(row.line, None, tuple(errors), slug)
    defaults = service.Submission(type="", value="")
    submission = service.Submission(
        type=values["type"] or "",
        value=values["value"] or "",
        country=values["country"],
        parts={k: v for k, v in parts.items() if v is not None},
        working_group_id=group,
        distribution=values["distribution"] or defaults.distribution,
        tlp=values["tlp"] or defaults.tlp,
        confidence=defaults.confidence if confidence is None else confidence,
        severity=values["severity"] or defaults.severity,
        brands=lists["brands"],
        product_category=values["category"],
        valid_from=valid_from,
        valid_until=valid_until,
        note=values["note"] or "",
        tags=lists["tags"],
        evidence_links=lists["evidence"],
        group_key=values["group_key"],
    )
    return RowSubmission(row.line, submission, (), slug)


def column_of(path: Sequence[str]) -> str | None:
    """The file column a service problem path points at (``parts.platform`` -> ``platform``)."""
    if not path:
        return None
    head = path[1] if path[0] == "parts" and len(path) > 1 else path[0]
    return _COLUMN_OF_FIELD.get(head, head)


def row_errors(line: int, error: DomainError) -> list[RowError]:
    """The service's refusal of one item, as file errors."""
    if isinstance(error, InvalidInput):
        return [RowError(line, column_of(p.path), p.code, p.message) for p in error.problems]
    column = "working_group" if isinstance(error, Forbidden) else None
    return [RowError(line, column, error.code, error.message)]


# --- storing files ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StagedFile:
    """A file written under the data dir, not yet claimed by a job."""

    path: Path
    digest: str
    size: int
    filename: str | None = None


def imports_dir(data_dir: Path) -> Path:
    return data_dir / "imports"


def stored_path(data_dir: Path, digest: str, fmt: str) -> Path:
    return imports_dir(data_dir) / f"{digest}.{fmt}"


def _too_big() -> InvalidInput:
    return InvalidInput(
        [FieldProblem(("file",), "TOO_LARGE", f"must be at most {MAX_FILE_BYTES} bytes")]
    )


async def stage_upload(
    data_dir: Path, read: Callable[[int], Awaitable[bytes]], filename: str | None = None
) -> StagedFile:
    """Write an upload (read by blocks) under the data dir, hashing it on the way."""
    incoming = imports_dir(data_dir) / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    path = incoming / uuid.uuid4().hex
    digest, size = hashlib.sha256(), 0
    try:
        with path.open("wb") as out:
            while block := await read(_READ_BLOCK):
                size += len(block)
                if size > MAX_FILE_BYTES:
                    raise _too_big()
                digest.update(block)
                out.write(block)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return StagedFile(path, digest.hexdigest(), size, filename)


def stage_path(data_dir: Path, source: Path) -> StagedFile:
    """Copy a local file under the data dir (the CLI), hashing it on the way."""
    incoming = imports_dir(data_dir) / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    path = incoming / uuid.uuid4().hex
    digest, size = hashlib.sha256(), 0
    try:
        with source.open("rb") as src, path.open("wb") as out:
            while block := src.read(_READ_BLOCK):
                size += len(block)
                if size > MAX_FILE_BYTES:
                    raise _too_big()
                digest.update(block)
                out.write(block)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return StagedFile(path, digest.hexdigest(), size, source.name)


def format_of(filename: str | None, given: str | None) -> str:
    if given is not None:
        fmt = given.strip().lower()
    else:
        suffix = Path(filename or "").suffix.lower().lstrip(".")
        fmt = {"ndjson": "jsonl", "json": "jsonl"}.get(suffix, suffix)
    if fmt not in FORMATS:
        raise InvalidInput(
            [
                FieldProblem(
                    ("format",),
                    "UNKNOWN_FORMAT",
                    f"say which format the file is in: {', '.join(FORMATS)}",
                )
            ]
        )
    return fmt


# --- starting a job -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Started:
    job: ImportJob
    # False: this file was imported (or is being imported) already; the existing job.
    created: bool


def _member(viewer: Viewer) -> uuid.UUID:
    if viewer.kind != ViewerKind.MEMBER or viewer.organisation_id is None:
        raise Forbidden("only an organisation of this instance may import indicators")
    return viewer.organisation_id


async def start_import(
    session: AsyncSession,
    viewer: Viewer,
    staged: StagedFile,
    *,
    data_dir: Path,
    fmt: str | None = None,
    working_group_id: uuid.UUID | None = None,
) -> Started:
    """Claim a staged file for ``viewer``'s organisation and queue its import; the same file
    (by SHA-256) again returns the organisation's existing job, and queues nothing unless that
    job is unfinished.

    ``working_group_id`` is the group of rows that name none. The job acts, in the worker,
    as the viewer does now: its organisation with the seats the viewer holds (a token limited
    to some working groups keeps that limit)."""
    try:
        owner = _member(viewer)
        existing = await repo.import_job_by_digest(session, owner, staged.digest)
        if existing is not None:
            if existing.state in (ImportState.PENDING, ImportState.RUNNING):
                # Unfinished (its worker may have died): queue it again; a second runner
                # resumes after the last committed chunk, or stands aside if one still runs.
                enqueue(session, TASK, queue=QUEUE, job_id=str(existing.id))
            return Started(existing, created=False)
        chosen = format_of(staged.filename, fmt)
        if working_group_id is not None:
            if not (await orgs_repo.working_groups_by_ids(session, [working_group_id])):
                raise NotFound("working group", str(working_group_id))
            if not can_contribute(viewer, working_group_id):
                raise Forbidden(
                    "only chairs and members of a working group contribute to it (observers read)"
                )
        target = stored_path(data_dir, staged.digest, chosen)
        os.replace(staged.path, target)
    finally:
        staged.path.unlink(missing_ok=True)
    job = ImportJob(
        id=new_id(),
        organisation_id=owner,
        working_group_id=working_group_id,
        file_digest=staged.digest,
        state=ImportState.PENDING,
        rows_total=0,
        rows_done=0,
        rows_failed=0,
        report=_new_report(chosen, staged, viewer),
    )
    session.add(job)
    await session.flush()
    enqueue(session, TASK, queue=QUEUE, job_id=str(job.id))
    return Started(job, created=True)


def _new_report(fmt: str, staged: StagedFile, viewer: Viewer) -> dict[str, Any]:
    return {
        "format": fmt,
        "filename": staged.filename,
        "bytes": staged.size,
        "seats": sorted([str(s.working_group_id), s.role.value] for s in viewer.seats),
        "created": 0,
        "updated": 0,
        "errors": [],
        "errors_total": 0,
        "errors_by_code": {},
        "message": None,
    }


async def visible_job(session: AsyncSession, viewer: Viewer, job_id: uuid.UUID) -> ImportJob | None:
    """An import job, for its own organisation only."""
    job = await repo.import_job(session, job_id)
    if (
        job is None
        or viewer.kind != ViewerKind.MEMBER
        or job.organisation_id != viewer.organisation_id
    ):
        return None
    return job


# --- running a job ---------------------------------------------------------------------------------


def _merged_report(
    report: Mapping[str, Any], errors: Sequence[RowError], created: int, updated: int
) -> dict[str, Any]:
    """The report after one more chunk: its errors kept up to the cap, every one counted."""
    merged = dict(report)
    kept = list(merged.get("errors", []))
    kept += [e.as_dict() for e in errors[: max(MAX_REPORTED_ERRORS - len(kept), 0)]]
    codes = Counter(merged.get("errors_by_code", {}))
    codes.update(e.code for e in errors)
    merged["errors"] = kept
    merged["errors_total"] = int(merged.get("errors_total", 0)) + len(errors)
    merged["errors_by_code"] = dict(sorted(codes.items()))
    merged["created"] = int(merged.get("created", 0)) + created
    merged["updated"] = int(merged.get("updated", 0)) + updated
    return merged


async def _viewer_of_job(session: AsyncSession, job: ImportJob) -> Viewer:
    """The organisation with its seats now, no more than the submitter held when it started."""
    held = {uuid.UUID(group) for group, _role in job.report.get("seats", [])}
    seats = await orgs_repo.memberships_of_organisation(session, job.organisation_id)
    return Viewer.member(
        job.organisation_id,
        (Seat(m.working_group_id, m.role) for m in seats if m.working_group_id in held),
    )


async def _resolve_groups(
    session: AsyncSession, rows: Sequence[FileRow], known: dict[str, uuid.UUID]
) -> None:
    wanted = {
        str(r.cells.get("working_group")).strip()
        for r in rows
        if r.error is None and _present(r.cells.get("working_group"))
    }
    missing = [s for s in wanted if s not in known]
    if missing:
        known.update(await repo.working_groups_by_slugs(session, missing))


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one submission: an assertion made (``created``) or updated, or refused."""

    index: int
    created: bool = False
    error: DomainError | None = None


async def bulk_submit(
    session: AsyncSession,
    viewer: Viewer,
    items: Sequence[service.Submission],
    *,
    settings: IndicatorSettings,
    now: datetime | None = None,
) -> list[Outcome]:
    """:func:`service.submit` for a large chunk, set-based where it can be.

    Every item is checked by the service's own check (``service._check``: the normalisers and
    the same rules as GraphQL), and allowlisted values are refused as the service refuses
    them. Items that only make new things (a new assertion, on a new or existing indicator,
    no group key, their value once in the chunk) are written with one multi-row INSERT per
    table and a change recorded for each assertion, with exactly the columns ``submit`` would
    give them (a test proves it). Every other item (an update of an assertion of yours, a
    group key to link, a value repeated in the chunk) goes through ``service.submit`` itself.
    """
    owner = _member(viewer)
    moment = now or utcnow()
    outcomes: dict[int, Outcome] = {}
    checked: dict[int, Any] = {}
    for index, item in enumerate(items):
        try:
            checked[index] = check_submission(viewer, item)
        except DomainError as exc:
            outcomes[index] = Outcome(index, error=exc)
    digests = list({c.digest for c in checked.values()})
    hits: dict[str, list[Any]] = {}
    for entry in await repo.allowlist_hits(session, digests):
        hits.setdefault(entry.value_digest, []).append(entry)
    for index, c in list(checked.items()):
        if c.digest in hits:
            outcomes[index] = Outcome(index, error=service._allowlisted(viewer, hits[c.digest]))
            del checked[index]

    existing = {
        i.value_digest: i.id
        for i in await repo.indicators_by_digests(
            session, list({c.digest for c in checked.values()})
        )
    }
    own = {
        (a.indicator_id, a.working_group_id)
        for a in await repo.own_assertions(session, owner, list(existing.values()))
    }
    by_digest: dict[str, list[int]] = {}
    for index, c in checked.items():
        by_digest.setdefault(c.digest, []).append(index)
    slow_digests = {
        d
        for d, indices in by_digest.items()
        if len(indices) > 1
        or any(checked[i].group_key is not None for i in indices)
        or (
            d in existing
            and any((existing[d], checked[i].working_group_id) in own for i in indices)
        )
    }
    indicators: list[dict[str, Any]] = []
    keys: list[dict[str, Any]] = []
    assertions: list[dict[str, Any]] = []
    for index, c in sorted(checked.items()):
        if c.digest in slow_digests:
            continue
        indicator_id = existing.get(c.digest)
        if indicator_id is None:
            indicator_id = new_id()
            indicators.append(
                {
                    "id": indicator_id,
                    "type": c.normalised.type,
                    "value": c.normalised.value,
                    "value_digest": c.digest,
                    "details": {},
                    "version": 1,
                    "created_at": moment,
                    "updated_at": moment,
                }
            )
            keys += [
                {"id": new_id(), "indicator_id": indicator_id, "name": name, "value": value[:1024]}
                for name, value in c.normalised.match_keys
            ]
        assertions.append(_new_assertion(c, new_id(), indicator_id, owner, moment, settings))
        outcomes[index] = Outcome(index, created=True)
    try:
        await repo.insert_many(session, Indicator, indicators)
    except IntegrityError as exc:
        raise Conflict(
            "another submission of one of these values was written at the same moment; "
            "send it again"
        ) from exc
    await repo.insert_many(session, IndicatorMatchKey, keys)
    await repo.insert_many(session, IndicatorAssertion, assertions)
    for a in assertions:
        record_change(
            session,
            kind=service.ASSERTION_KIND,
            object_id=a["id"],
            version=a["version"],
            operation=Operation.CREATE,
            distribution=a["distribution"],
            tlp=a["tlp"],
            owner_org_id=owner,
            working_group_id=a["working_group_id"],
        )

    slow = sorted(i for i, c in checked.items() if c.digest in slow_digests)
    if slow:
        results = await service.submit(
            session,
            viewer,
            [items[i] for i in slow],
            settings=settings.model_copy(update={"max_batch_size": len(slow)}),
            now=moment,
        )
        for index, result in zip(slow, results, strict=True):
            outcomes[index] = Outcome(index, created=result.created, error=result.error)
    return [outcomes[i] for i in range(len(items))]


def _new_assertion(
    c: Any,
    assertion_id: uuid.UUID,
    indicator_id: uuid.UUID,
    owner: uuid.UUID,
    moment: datetime,
    settings: IndicatorSettings,
) -> dict[str, Any]:
    """The row ``submit`` makes for a new assertion (``service._apply``, then its score over
    no reactions yet, since a new assertion has none)."""
    expired = c.valid_until is not None and c.valid_until <= moment
    tally = repo.Tally()
    evidence = service.evidence_of(
        _Seen(c.confidence, moment),  # type: ignore[arg-type]
        c.normalised.type,
        tally,
    )
    live = (
        AssertionStatus.DISPUTED
        if scoring.disputed(
            disputes=tally.disputes, test_buys=tally.test_buys, seen_too=tally.seen_too
        )
        else AssertionStatus.ACTIVE
    )
    return {
        "id": assertion_id,
        "indicator_id": indicator_id,
        "owner_org_id": owner,
        "working_group_id": c.working_group_id,
        "distribution": c.distribution,
        "tlp": c.tlp,
        "confidence": c.confidence,
        "severity": c.severity,
        "brands": c.brands,
        "product_category": c.product_category,
        "valid_from": c.valid_from,
        "valid_until": c.valid_until,
        "note": c.note,
        "tags": c.tags,
        "evidence_links": c.evidence_links,
        "details": c.details,
        "group_key": c.group_key,
        "status": AssertionStatus.EXPIRED if expired else live,
        "revocation_reason": None,
        "revocation_note": None,
        "revoked_at": None,
        "first_seen_at": moment,
        "last_seen_at": moment,
        "score": scoring.score(evidence, now=moment, half_life_days=settings.half_life_days),
        "version": 1,
        "created_at": moment,
        "updated_at": moment,
    }


@dataclass(frozen=True, slots=True)
class _Seen:
    """What ``service.evidence_of`` reads of an assertion."""

    confidence: int
    last_seen_at: datetime


async def submit_rows(
    session: AsyncSession,
    viewer: Viewer,
    rows: Sequence[FileRow],
    *,
    default_group: uuid.UUID | None,
    known_groups: dict[str, uuid.UUID],
    settings: IndicatorSettings,
) -> tuple[list[Outcome], list[RowError]]:
    """One chunk of rows through :func:`bulk_submit` (the same checks as GraphQL's): the
    outcomes of the rows that reached the service, and the errors of every refused row."""
    await _resolve_groups(session, rows, known_groups)
    converted = [to_submission(r, known_groups, default_group) for r in rows]
    errors = [e for c in converted for e in c.errors]
    accepted = [c for c in converted if c.submission is not None]
    outcomes = await bulk_submit(
        session,
        viewer,
        [c.submission for c in accepted],  # type: ignore[misc]
        settings=settings,
    )
    for c, outcome in zip(accepted, outcomes, strict=True):
        if outcome.error is not None:
            errors += row_errors(c.line, outcome.error)
    errors.sort(key=lambda e: e.line)
    return outcomes, errors


def _chunks(rows: Iterator[FileRow], size: int) -> Iterator[list[FileRow]]:
    chunk: list[FileRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def _begin(
    sessions: async_sessionmaker[AsyncSession], job_id: uuid.UUID, data_dir: Path
) -> ImportJob | None:
    async with unit_of_work(sessions) as session:
        job = await repo.import_job(session, job_id, for_update=True)
        if job is None or job.state in (ImportState.DONE, ImportState.FAILED):
            return None
        if job.state == ImportState.PENDING:
            path = stored_path(data_dir, job.file_digest, job.report["format"])
            try:
                job.rows_total = count_rows(path, job.report["format"])
            except (UnreadableFile, UnicodeDecodeError, OSError) as exc:
                _fail(job, exc)
                return None
            job.state = ImportState.RUNNING
        return job


def _fail(job: ImportJob, exc: BaseException) -> None:
    report = dict(job.report)
    if isinstance(exc, UnreadableFile):
        report["errors"] = [
            *report.get("errors", []),
            RowError(exc.line, exc.column, exc.code, exc.message).as_dict(),
        ]
        report["message"] = exc.message
    elif isinstance(exc, UnicodeDecodeError):
        report["message"] = f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})"
    else:
        report["message"] = f"the file could not be read: {exc}"
    job.report = report
    job.state = ImportState.FAILED


async def _import_chunk(
    sessions: async_sessionmaker[AsyncSession],
    job_id: uuid.UUID,
    chunk: Sequence[FileRow],
    skipped: int,
    known_groups: dict[str, uuid.UUID],
    settings: IndicatorSettings,
) -> tuple[bool, ImportJob | None]:
    """One chunk in one transaction, which also moves the job's progress past it."""
    async with unit_of_work(sessions) as session:
        job = await repo.import_job(session, job_id, for_update=True)
        if job is None or job.rows_done != skipped or job.state != ImportState.RUNNING:
            return False, job
        outcomes, errors = await submit_rows(
            session,
            await _viewer_of_job(session, job),
            chunk,
            default_group=job.working_group_id,
            known_groups=known_groups,
            settings=settings,
        )
        landed = [r for r in outcomes if r.error is None]
        created = sum(1 for r in landed if r.created)
        job.report = _merged_report(job.report, errors, created, len(landed) - created)
        job.rows_done += len(chunk)
        job.rows_failed += len({e.line for e in errors})
        return True, job


async def run_import(
    sessions: async_sessionmaker[AsyncSession],
    job_id: uuid.UUID,
    *,
    data_dir: Path,
    settings: IndicatorSettings | None = None,
    chunk_size: int = CHUNK_SIZE,
    on_chunk: Callable[[ImportJob], None] | None = None,
) -> ImportJob | None:
    """Run (or resume) an import: one transaction per chunk of rows, each moving the job's
    progress with the rows it wrote, then DONE. Rows already done are skipped, so running a
    job again after a crash continues from the last committed chunk; a finished job is left
    alone. Returns the job as it ended (``None`` when there was nothing to run)."""
    limits = settings or IndicatorSettings()
    job = await _begin(sessions, job_id, data_dir)
    if job is None:
        async with sessions() as session:
            return await repo.import_job(session, job_id)
    fmt = job.report["format"]
    path = stored_path(data_dir, job.file_digest, fmt)
    known_groups: dict[str, uuid.UUID] = {}
    try:
        with open_text(path) as stream:
            rows = read_rows(stream, fmt)
            skipped = 0
            for _ in range(job.rows_done):
                next(rows, None)
                skipped += 1
            for chunk in _chunks(rows, chunk_size):
                for attempt in range(1, CHUNK_ATTEMPTS + 1):
                    try:
                        ran, job = await _import_chunk(
                            sessions, job_id, chunk, skipped, known_groups, limits
                        )
                        break
                    except Conflict:
                        # A concurrent writer made one of these indicators first: the chunk
                        # rolled back whole; again, it finds them.
                        if attempt == CHUNK_ATTEMPTS:
                            raise
                if not ran or job is None:
                    return job  # another runner has moved on: leave the job to it
                skipped = job.rows_done
                if on_chunk is not None:
                    on_chunk(job)
    except (UnreadableFile, UnicodeDecodeError, OSError) as exc:
        async with unit_of_work(sessions) as session:
            failed = await repo.import_job(session, job_id, for_update=True)
            if failed is not None:
                _fail(failed, exc)
            return failed
    async with unit_of_work(sessions) as session:
        done = await repo.import_job(session, job_id, for_update=True)
        if done is not None and done.state == ImportState.RUNNING:
            done.state = ImportState.DONE
            done.rows_total = max(done.rows_total, done.rows_done)
        return done

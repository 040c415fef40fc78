"""``importIndicators`` (a file upload, GraphQL multipart request spec) and ``importJob(id:)``."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from alliance.errors import InvalidInput
from alliance.indicators import importing
from alliance.indicators.models import ImportJob as ImportJobModel
from alliance.indicators.models import ImportState as ImportStateModel
from schema.errors import Forbidden, NotFound, ValidationError
from schema.indicators.dataloaders import viewer
from schema.indicators.inputs import WRITE, optional_id, prefixed
from schema.mutations import run_mutation
from schema.permissions import mutation_field, query_field, scopes
from schema.relay import from_global_id, to_global_id

ImportState = strawberry.enum(
    ImportStateModel,
    name="ImportState",
    description="PENDING (queued), RUNNING, DONE (every row landed or was reported), FAILED.",
)


@strawberry.enum(description="The format of an import file.")
class ImportFormat(enum.Enum):
    CSV = "csv"
    JSONL = "jsonl"


@strawberry.type(description="A refused row: where, and why.")
class ImportRowError:
    line: int
    column: str | None
    code: str
    message: str


@strawberry.type
class ImportErrorCount:
    code: str
    count: int


@strawberry.type(
    description=(
        "A background import of an indicator file, one per file (by SHA-256) per organisation. "
        "Valid rows land; refused ones are reported by line, column, code and reason."
    )
)
class ImportJob:
    id: strawberry.ID
    state: ImportState  # type: ignore[valid-type]
    format: str
    filename: str | None
    working_group_id: strawberry.ID | None
    rows_total: int = strawberry.field(description="Data rows in the file (0 until it starts).")
    rows_done: int = strawberry.field(description="Rows processed, landed or refused.")
    rows_failed: int = strawberry.field(description="Rows refused.")
    created: int = strawberry.field(description="Assertions made.")
    updated: int = strawberry.field(description="Assertions of yours updated.")
    errors: list[ImportRowError] = strawberry.field(
        description=f"The first {importing.MAX_REPORTED_ERRORS} problems, by line."
    )
    errors_total: int = strawberry.field(description="Every problem found, reported or not.")
    errors_by_code: list[ImportErrorCount]
    message: str | None = strawberry.field(description="Why the job failed, when it did.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, job: ImportJobModel) -> ImportJob:
        report: dict[str, Any] = job.report or {}
        return cls(
            id=to_global_id("ImportJob", job.id),
            state=job.state,
            format=str(report.get("format", "")),
            filename=report.get("filename"),
            working_group_id=to_global_id("WorkingGroup", job.working_group_id)
            if job.working_group_id
            else None,
            rows_total=job.rows_total,
            rows_done=job.rows_done,
            rows_failed=job.rows_failed,
            created=int(report.get("created", 0)),
            updated=int(report.get("updated", 0)),
            errors=[
                ImportRowError(
                    line=e["line"], column=e.get("column"), code=e["code"], message=e["message"]
                )
                for e in report.get("errors", [])
            ],
            errors_total=int(report.get("errors_total", 0)),
            errors_by_code=[
                ImportErrorCount(code=c, count=n)
                for c, n in report.get("errors_by_code", {}).items()
            ],
            message=report.get("message"),
            created_at=job.created_at,
            updated_at=job.updated_at,
        )


@strawberry.input
class ImportIndicatorsInput:
    file: Upload = strawberry.field(description="The file (GraphQL multipart request spec).")
    format: ImportFormat | None = strawberry.field(
        default=None, description="CSV or JSONL; by default read from the file name's extension."
    )
    working_group_id: strawberry.ID | None = strawberry.field(
        default=None, description="The working group of rows that name none."
    )


@strawberry.type
class ImportIndicatorsPayload:
    job: ImportJob
    created: bool = strawberry.field(
        description="A new job (false: this file was imported already; its job is returned)."
    )


ImportIndicatorsResult = Annotated[
    ImportIndicatorsPayload | ValidationError | NotFound | Forbidden,
    strawberry.union("ImportIndicatorsResult"),
]


@strawberry.type
class ImportIndicators:
    @mutation_field(
        scopes(*WRITE),
        description=(
            "Import a CSV or JSON Lines file of indicators in the background (see importJob for "
            "its progress and report). The same file again returns its existing job."
        ),
    )
    async def import_indicators(
        self, info: Info, input: ImportIndicatorsInput
    ) -> ImportIndicatorsResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            data_dir = info.context.settings.data_dir
            upload: Any = input.file
            try:
                group = optional_id(input.working_group_id, "workingGroupId", "WorkingGroup")
                staged = await importing.stage_upload(
                    data_dir, upload.read, getattr(upload, "filename", None)
                )
                started = await importing.start_import(
                    session,
                    await viewer(info),
                    staged,
                    data_dir=data_dir,
                    fmt=input.format.value if input.format is not None else None,
                    working_group_id=group,
                )
            except InvalidInput as exc:
                raise prefixed(exc, "input") from exc
            return ImportIndicatorsPayload(
                job=ImportJob.from_model(started.job), created=started.created
            )

        return await run_mutation(info, work)


@strawberry.type
class ImportJobQuery:
    @query_field(
        scopes("indicators:read", *WRITE),
        description="An import job of your organisation: its state, progress and report.",
    )
    async def import_job(self, info: Info, id: strawberry.ID) -> ImportJob | None:
        raw: uuid.UUID = from_global_id(id, "id", "ImportJob")[1]
        job = await importing.visible_job(info.context.session, await viewer(info), raw)
        return ImportJob.from_model(job) if job else None

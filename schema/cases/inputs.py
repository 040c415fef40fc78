"""Inputs shared by the case mutations, and their translation to service data."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from alliance.cases import evidence_store
from alliance.cases.service import Attachment, Money
from alliance.errors import FieldProblem, InvalidInput
from schema.cases.types import EvidenceKind
from schema.relay import from_global_id

WRITE = ("cases:write",)
MAX_IDS = 200


@strawberry.input(description="An amount in an ISO 4217 currency.")
class MoneyInput:
    amount: Decimal
    currency: str


@strawberry.input(description="A file (GraphQL multipart request spec) and what it is.")
class EvidenceUploadInput:
    file: Upload
    kind: EvidenceKind = EvidenceKind.DOCUMENT  # type: ignore[valid-type]
    description: str = ""


def money(value: MoneyInput | None) -> Money | None:
    return None if value is None else Money(value.amount, value.currency)


def one_id(value: strawberry.ID, field: str, kind: str) -> uuid.UUID:
    return from_global_id(value, field, kind)[1]


def optional_id(value: strawberry.ID | None, field: str, kind: str) -> uuid.UUID | None:
    return None if value is None else one_id(value, field, kind)


def many_ids(values: list[strawberry.ID] | None, field: str, kind: str) -> list[uuid.UUID]:
    given = values or []
    if len(given) > MAX_IDS:
        raise InvalidInput([FieldProblem((field,), "TOO_MANY", f"at most {MAX_IDS} ids")])
    problems: list[FieldProblem] = []
    found: list[uuid.UUID] = []
    for index, value in enumerate(given):
        try:
            found.append(one_id(value, field, kind))
        except InvalidInput as exc:
            problems += [FieldProblem((field, str(index)), p.code, p.message) for p in exc.problems]
    if problems:
        raise InvalidInput(problems)
    return found


async def store_upload(info: Info, upload: Any, field: str) -> evidence_store.StoredFile:
    """Write an upload into the evidence store (size-limited); any type is accepted."""
    return await evidence_store.store(
        info.context.settings.data_dir,
        upload.read,
        max_bytes=info.context.settings.cases.max_evidence_bytes,
        field=field,
    )


async def attachment(
    info: Info, upload: Any, field: str, kind: Any, description: str
) -> Attachment:
    stored = await store_upload(info, upload, field)
    return Attachment(
        stored=stored,
        filename=getattr(upload, "filename", None),
        media_type=getattr(upload, "content_type", None),
        kind=kind.value if hasattr(kind, "value") else kind,
        description=description,
    )
